"""``ecspress doctor``: one check per prerequisite, each saying how to fix it when it fails.

The checks are pure functions of what the probes report; ``Probes`` holds the real probes and
tests inject their own.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

REQUIRED_PYTHON = (3, 11)
OWN_COLLECTION = "ecspress.wordpress"
SETUP_FIX = "run `make venv` from the checkout (installs the pinned versions and links the collection)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def render(self) -> str:
        line = f"{'✔' if self.ok else '✘'} {self.name}: {self.detail}"
        return line if self.ok or not self.fix else f"{line}\n    fix: {self.fix}"


# --- pure checks ----------------------------------------------------------------------------


def check_python(version: tuple[int, ...]) -> Check:
    shown = ".".join(str(part) for part in version[:3])
    if tuple(version[:2]) == REQUIRED_PYTHON:
        return Check("python", True, shown)
    wanted = ".".join(str(part) for part in REQUIRED_PYTHON)
    return Check("python", False, f"{shown}, need {wanted}", f"install python{wanted} and run `make venv`")


def version_in_range(version: str, spec: str) -> bool:
    if spec.strip() in ("*", ""):
        return True
    try:
        return Version(version) in SpecifierSet(spec)
    except (InvalidSpecifier, InvalidVersion):
        return False


def check_ansible_core(installed: str | None, required: str) -> Check:
    if installed is None:
        return Check("ansible-core", False, "not installed", SETUP_FIX)
    if version_in_range(installed, required):
        return Check("ansible-core", True, f"{installed} ({required})")
    return Check("ansible-core", False, f"{installed}, the collection needs {required}", SETUP_FIX)


def check_collection(name: str, installed: str | None, required: str) -> Check:
    if installed is None:
        return Check(name, False, f"not installed (need {required})", SETUP_FIX)
    if version_in_range(installed, required):
        return Check(name, True, f"{installed} ({required})")
    return Check(name, False, f"{installed}, need {required}", SETUP_FIX)


def check_module(name: str, present: bool) -> Check:
    if present:
        return Check(name, True, "importable")
    return Check(name, False, "not importable", SETUP_FIX)


def check_own_collection(resolved: Path | None) -> Check:
    if resolved is not None:
        return Check(OWN_COLLECTION, True, f"resolves to {resolved}")
    return Check(OWN_COLLECTION, False, "not found on the collections path", SETUP_FIX)


def check_docker(answers: bool, endpoint: str = "unix:///var/run/docker.sock") -> Check:
    if answers:
        return Check("docker engine", True, f"answers on {endpoint}")
    return Check(
        "docker engine",
        False,
        f"does not answer on {endpoint}",
        "start it: `ecspress-local start` (starts dockerd if needed) or `sudo systemctl start docker`",
    )


def check_endpoint(name: str, endpoint: str, answers: bool, port_variable: str) -> Check:
    if answers:
        return Check(name, True, f"answers on {endpoint}")
    return Check(
        name,
        False,
        f"nothing answers on {endpoint}",
        f"start the local stack: `ecspress-local start` (or `make stack`); the port comes from {port_variable}",
    )


def check_aws_identity(identity: Mapping[str, Any] | None, error: str | None) -> Check:
    if identity is not None:
        return Check("aws credentials", True, f"account {identity.get('Account')} as {identity.get('Arn')}")
    return Check(
        "aws credentials",
        False,
        error or "no identity",
        "configure credentials and a region: `aws sso login --profile NAME` and export AWS_PROFILE, "
        "or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION",
    )


# --- probes ---------------------------------------------------------------------------------


def collection_search_paths(root: Path) -> list[Path]:
    """Where Ansible looks for collections, in its order: the configured path, then site-packages."""
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or str(root / ".cache" / "collections")
    paths = [Path(entry) for entry in configured.split(os.pathsep) if entry]
    spec = importlib.util.find_spec("ansible_collections")
    paths += [Path(location).parent for location in (spec.submodule_search_locations or [])] if spec else []
    return paths


def collection_dir(root: Path, name: str) -> Path | None:
    namespace, collection = name.split(".", 1)
    for base in collection_search_paths(root):
        candidate = base / "ansible_collections" / namespace / collection
        if candidate.is_dir():
            return candidate.resolve()
    return None


def collection_version(root: Path, name: str) -> str | None:
    directory = collection_dir(root, name)
    if directory is None:
        return None
    manifest = directory / "MANIFEST.json"
    if manifest.is_file():
        return str(json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]["version"])
    galaxy = directory / "galaxy.yml"
    if galaxy.is_file():
        return str(yaml.safe_load(galaxy.read_text(encoding="utf-8")).get("version"))
    return None


def ansible_core_version() -> str | None:
    try:
        from ansible.release import __version__
    except ImportError:
        return None
    return str(__version__)


def sts_identity(timeout: float = 5.0) -> tuple[dict[str, Any] | None, str | None]:
    try:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return None, "boto3 is not installed"
    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 1})
    try:
        return dict(boto3.client("sts", config=config).get_caller_identity()), None
    except (BotoCoreError, ClientError) as error:
        return None, str(error)


def _docker_answers() -> bool:
    from ecspress.local import stack

    return bool(stack.docker_answers(stack.docker_endpoint()))


def _docker_endpoint() -> str:
    from ecspress.local import stack

    return str(stack.docker_endpoint())


def _stack_answers(component: str) -> tuple[str, bool]:
    from ecspress.local import stack

    if component == "moto":
        endpoint = f"http://127.0.0.1:{stack.MOTO_PORT}"
        return endpoint, bool(stack.moto_answers(endpoint))
    endpoint = f"http://127.0.0.1:{stack.REGISTRY_PORT}"
    return endpoint, bool(stack.registry_answers(endpoint))


@dataclass
class Probes:
    python_version: Callable[[], tuple[int, ...]] = lambda: tuple(sys.version_info[:3])
    ansible_core: Callable[[], str | None] = ansible_core_version
    collection_version: Callable[[Path, str], str | None] = collection_version
    collection_dir: Callable[[Path, str], Path | None] = collection_dir
    module_present: Callable[[str], bool] = lambda name: importlib.util.find_spec(name) is not None
    docker_answers: Callable[[], bool] = _docker_answers
    docker_endpoint: Callable[[], str] = _docker_endpoint
    stack_answers: Callable[[str], tuple[str, bool]] = _stack_answers
    aws_identity: Callable[[], tuple[dict[str, Any] | None, str | None]] = sts_identity
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


# --- the whole doctor -----------------------------------------------------------------------


def requirements(root: Path) -> tuple[str, dict[str, str]]:
    """(ansible-core range from meta/runtime.yml, collection ranges from galaxy.yml ``dependencies``)."""
    runtime = yaml.safe_load((root / "meta" / "runtime.yml").read_text(encoding="utf-8")) or {}
    galaxy = yaml.safe_load((root / "galaxy.yml").read_text(encoding="utf-8")) or {}
    dependencies = {str(name): str(spec) for name, spec in (galaxy.get("dependencies") or {}).items()}
    return str(runtime.get("requires_ansible", "*")), dependencies


def run_checks(root: Path, inventory_kind: str, probes: Probes | None = None) -> list[Check]:
    probes = probes or Probes()
    core_range, collection_ranges = requirements(root)
    checks = [
        check_python(probes.python_version()),
        check_ansible_core(probes.ansible_core(), core_range),
        *(
            check_collection(name, probes.collection_version(root, name), spec)
            for name, spec in collection_ranges.items()
        ),
        check_module("boto3", probes.module_present("boto3")),
        check_module("ansible_runner", probes.module_present("ansible_runner")),
        check_own_collection(probes.collection_dir(root, OWN_COLLECTION)),
        check_docker(probes.docker_answers(), probes.docker_endpoint()),
    ]
    if inventory_kind == "local":
        moto_endpoint, moto_ok = probes.stack_answers("moto")
        registry_endpoint, registry_ok = probes.stack_answers("registry")
        checks.append(check_endpoint("moto (AWS API)", moto_endpoint, moto_ok, "ECSPRESS_MOTO_PORT"))
        checks.append(check_endpoint("registry", registry_endpoint, registry_ok, "ECSPRESS_REGISTRY_PORT"))
    else:
        checks.append(check_aws_identity(*probes.aws_identity()))
    return checks


def render(checks: list[Check]) -> str:
    failed = [check for check in checks if not check.ok]
    summary = "all prerequisites met" if not failed else f"{len(failed)} prerequisite(s) missing"
    return "\n".join([*(check.render() for check in checks), summary])
