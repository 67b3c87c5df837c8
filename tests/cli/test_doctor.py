"""Doctor checks with injected probes: each failing prerequisite is named with its fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ecspress import doctor
from ecspress.settings import project_root

ROOT = project_root()
VERSIONS = {"amazon.aws": "10.1.2", "community.aws": "10.0.0", "community.docker": "4.8.5"}


def probes(**overrides: Any) -> doctor.Probes:
    defaults: dict[str, Any] = {
        "python_version": lambda: (3, 11, 7),
        "ansible_core": lambda: "2.19.14",
        "collection_version": lambda root, name: VERSIONS.get(name),
        "collection_dir": lambda root, name: root,
        "module_present": lambda name: True,
        "docker_answers": lambda: True,
        "stack_answers": lambda component: (f"http://127.0.0.1/{component}", True),
        "aws_identity": lambda: ({"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/ci"}, None),
    }
    return doctor.Probes(**{**defaults, **overrides})


def failed(checks: list[doctor.Check]) -> list[str]:
    return [check.name for check in checks if not check.ok]


def test_everything_present_passes_and_reads_ranges_from_galaxy_yml() -> None:
    checks = doctor.run_checks(ROOT, "local", probes())
    assert failed(checks) == []
    assert {"amazon.aws", "community.aws", "community.docker"} <= {check.name for check in checks}
    assert "all prerequisites met" in doctor.render(checks)


@pytest.mark.parametrize(
    ("override", "name", "fix_words"),
    [
        ({"python_version": lambda: (3, 12, 1)}, "python", "python3.11"),
        ({"ansible_core": lambda: "2.16.0"}, "ansible-core", "make venv"),
        ({"ansible_core": lambda: None}, "ansible-core", "make venv"),
        (
            {"collection_version": lambda root, name: "9.0.0" if name == "amazon.aws" else VERSIONS[name]},
            "amazon.aws",
            "make venv",
        ),
        (
            {"collection_version": lambda root, name: None if name == "community.docker" else VERSIONS[name]},
            "community.docker",
            "make venv",
        ),
        ({"module_present": lambda name: name != "boto3"}, "boto3", "make venv"),
        ({"collection_dir": lambda root, name: None}, "ecspress.wordpress", "make venv"),
        ({"docker_answers": lambda: False}, "docker engine", "ecspress-local start"),
        ({"stack_answers": lambda c: ("http://127.0.0.1:1", c != "moto")}, "moto (AWS API)", "ECSPRESS_MOTO_PORT"),
        ({"stack_answers": lambda c: ("http://127.0.0.1:2", c != "registry")}, "registry", "ECSPRESS_REGISTRY_PORT"),
    ],
)
def test_one_missing_prerequisite_fails_with_its_fix(override: dict[str, Any], name: str, fix_words: str) -> None:
    checks = doctor.run_checks(ROOT, "local", probes(**override))
    assert failed(checks) == [name]
    [check] = [check for check in checks if check.name == name]
    assert fix_words in check.fix
    assert f"✘ {name}:" in doctor.render(checks) and "fix: " in doctor.render(checks)


def test_aws_inventory_checks_the_caller_identity_instead_of_the_stack() -> None:
    ok = doctor.run_checks(ROOT, "aws", probes(stack_answers=lambda c: pytest.fail("no local stack for aws")))
    assert failed(ok) == []
    broken = doctor.run_checks(ROOT, "aws", probes(aws_identity=lambda: (None, "Unable to locate credentials")))
    assert failed(broken) == ["aws credentials"]
    assert "Unable to locate credentials" in doctor.render(broken)


@pytest.mark.parametrize(
    ("version", "spec", "inside"),
    [
        ("10.1.2", ">=10.1.0,<11.0.0", True),
        ("11.0.0", ">=10.1.0,<11.0.0", False),
        ("1.0.0", "*", True),
        ("not-a-version", ">=1", False),
    ],
)
def test_version_in_range(version: str, spec: str, inside: bool) -> None:
    assert doctor.version_in_range(version, spec) is inside


def test_requirements_come_from_runtime_and_galaxy(tmp_path: Path) -> None:
    (tmp_path / "meta").mkdir()
    (tmp_path / "meta" / "runtime.yml").write_text('requires_ansible: ">=2.18.0"\n')
    (tmp_path / "galaxy.yml").write_text('dependencies:\n  amazon.aws: ">=10.0.0"\n')
    assert doctor.requirements(tmp_path) == (">=2.18.0", {"amazon.aws": ">=10.0.0"})
