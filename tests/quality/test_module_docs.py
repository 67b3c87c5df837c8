"""Module documentation renders, EXAMPLES are valid playbook tasks, RETURN is valid YAML."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, ansible_environment

MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))


def doc_strings(module: Path) -> dict[str, str]:
    tree = ast.parse(module.read_text())
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id in {"DOCUMENTATION", "EXAMPLES", "RETURN"}:
                    found[target.id] = str(node.value.value)
    return found


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_ansible_doc_renders(module: Path) -> None:
    result = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-doc"), "--json", f"ecspress.wordpress.{module.stem}"],
        capture_output=True,
        text=True,
        env={**ansible_environment(), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)[f"ecspress.wordpress.{module.stem}"]["doc"]
    assert doc["short_description"] and doc["options"]


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_examples_pass_syntax_check(module: Path, tmp_path: Path) -> None:
    docs = doc_strings(module)
    tasks = yaml.safe_load(docs["EXAMPLES"])
    assert isinstance(tasks, list) and tasks
    for task in tasks:
        assert any(key.startswith("ecspress.wordpress.") or "." in key for key in task), task
    playbook = tmp_path / "examples.yml"
    playbook.write_text(
        yaml.safe_dump([{"name": "examples", "hosts": "localhost", "gather_facts": False, "tasks": tasks}])
    )
    result = subprocess.run(
        [str(ROOT / ".venv/bin/ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)],
        capture_output=True,
        text=True,
        env={**ansible_environment(), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("module", MODULES, ids=[m.stem for m in MODULES])
def test_return_is_documented(module: Path) -> None:
    returned = yaml.safe_load(doc_strings(module)["RETURN"])
    assert isinstance(returned, dict) and returned
    for key, value in returned.items():
        assert value.get("description") and value.get("returned") and value.get("type"), key
