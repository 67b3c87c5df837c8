# ecspress — every entry point a user or CI needs. Each target does its own set-up.
#   make up     set-up + local stack + the whole site; ends with WordPress on http://127.0.0.1:8080/
#   make test   set-up + local stack + lint + every test (what .ci/run calls)
#   make down   tear the site down, then stop the local stack (only what it started)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
COLLECTION_LINK := .cache/collections/ansible_collections/ecspress/wordpress
INVENTORY ?= inventories/local
PYTEST_ARGS ?=

# Keep Ansible, Docker and caches out of the home directory (registry credentials included).
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export ANSIBLE_HOME := $(CURDIR)/.cache/ansible
export ANSIBLE_LOCAL_TEMP := $(CURDIR)/.cache/ansible-tmp
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/.cache/collections
export XDG_CACHE_HOME := $(CURDIR)/.cache/xdg
export DOCKER_CONFIG := $(CURDIR)/.cache/docker
export PYTHONPATH := $(CURDIR)/.cache/collections
export PATH := $(CURDIR)/$(BIN):$(PATH)
export AWS_ACCESS_KEY_ID ?= testing
export AWS_SECRET_ACCESS_KEY ?= testing
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help venv stack up test lint unit mutation down stop-stack bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (3.11)"; exit 2; }
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@mkdir -p $(dir $(COLLECTION_LINK)) .cache/ansible .cache/ansible-tmp .cache/docker
	@ln -sfn ../../../.. $(COLLECTION_LINK)
	@touch $@

venv: $(STAMP) ## create the virtual environment (ansible, moto, test tools) and link the collection

stack: venv ## start the local stand-in stack (dockerd, moto :5100, registry :5000, base image)
	$(BIN)/ecspress-local start

up: stack ## the whole site on the local stack; ends with WordPress on 127.0.0.1:8080
	$(BIN)/ansible-playbook -i $(INVENTORY) site.yml

lint: venv ## ansible-lint (production), yamllint, ruff, mypy
	$(BIN)/yamllint --strict .
	$(BIN)/ansible-lint --profile production --strict
	$(BIN)/ruff check src tests plugins bench
	$(BIN)/ruff format --check src tests plugins bench
	$(BIN)/mypy
	MYPYPATH=.cache/collections $(BIN)/mypy --strict --ignore-missing-imports --follow-imports=silent \
		-p ansible_collections.ecspress.wordpress.plugins.module_utils
	$(BIN)/antsibull-changelog lint

unit: venv ## fast tests only (no Docker, no stack)
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

mutation: venv ## mutation score of the pure code against the unit tests (mutmut, about 8 minutes)
	rm -rf mutants && mkdir mutants
	$(BIN)/mutmut run --max-children 2 >mutants/run.log 2>&1 || { tail -n 40 mutants/run.log; exit 1; }
	@$(BIN)/python -c 'import json, pathlib; \
		rows = [(str(meta)[8:-5], list(json.loads(meta.read_text())["exit_code_by_key"].values())) \
			for meta in sorted(pathlib.Path("mutants").rglob("*.py.meta"))]; \
		rows.append(("all (timeouts count as killed)", [code for _, codes in rows for code in codes])); \
		killed = lambda codes: sum(code in (1, 3, 24, -24, 36, 152, 255) for code in codes); \
		[print(f"  {name:<42} {killed(codes):4d}/{len(codes):<4d} killed {100 * killed(codes) / len(codes):5.1f} %") \
			for name, codes in rows]'
	@echo "  survivors: $(BIN)/mutmut results; one of them: $(BIN)/mutmut show <name>"

# Three workers, one test file each at a time (module fixtures stay whole), longest files first (tests/conftest.py):
# most of a test's time is spent waiting on moto's sleeps, rollouts, pulls and pushes, so the two cores overlap
# them. Every test uses names of its own.
TEST_WORKERS ?= 3
# Every run in a random order (pytest-randomly); the seed is printed first, so an order that fails can be repeated.
ifndef TEST_SEED
TEST_SEED := $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
endif

test: stack lint ## everything: lint, unit, local stack, roles against moto, image, molecule (prints the 25 slowest)
	@echo "test order: seed $(TEST_SEED) (make test TEST_SEED=$(TEST_SEED) repeats it)"
	$(BIN)/pytest tests -q --durations=25 -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --randomly-seed=$(TEST_SEED) $(PYTEST_ARGS)

down: venv ## tear down the site, then stop what the local stack started
	-$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/teardown.yml
	$(BIN)/ecspress-local stop

stop-stack: venv ## stop the local stack only
	$(BIN)/ecspress-local stop

bench: stack ## benchmarks against their peers; prints a table, writes bench/results.md (installs wrk, the load generator)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python bench/run.py

clean: ## remove the venv and caches (not the local stack's state)
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache .mypy_cache
