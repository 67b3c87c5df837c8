"""Every role is documented the same way: each default described in meta/argument_specs.yml, a README."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(path.parent.parent for path in (ROOT / "roles").glob("*/defaults/main.yml"))


def role_ids() -> list[str]:
    return [role.name for role in ROLES]


@pytest.mark.parametrize("role", ROLES, ids=role_ids())
def test_every_default_is_described_in_argument_specs(role: Path) -> None:
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    described = set().union(*(set((entry.get("options") or {}).keys()) for entry in specs.values()))
    assert sorted(set(defaults) - described) == []


@pytest.mark.parametrize("role", ROLES, ids=role_ids())
def test_every_described_option_has_a_description_and_type(role: Path) -> None:
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    for entry_point, entry in specs.items():
        for name, option in (entry.get("options") or {}).items():
            assert option.get("description"), f"{entry_point}.{name} has no description"
            assert option.get("type"), f"{entry_point}.{name} has no type"


@pytest.mark.parametrize("role", ROLES, ids=role_ids())
def test_role_has_readme_and_meta(role: Path) -> None:
    readme = (role / "README.md").read_text()
    assert "Example Playbook" in readme and "Variables" in readme
    meta = yaml.safe_load((role / "meta" / "main.yml").read_text())
    assert meta["galaxy_info"]["role_name"] == role.name
    assert "-" not in role.name, "dashes in role names break FQCN calls"


@pytest.mark.parametrize("role", ROLES, ids=role_ids())
def test_defaults_are_prefixed_with_the_role_name(role: Path) -> None:
    defaults = yaml.safe_load((role / "defaults" / "main.yml").read_text()) or {}
    assert [name for name in defaults if not name.startswith(f"{role.name}_")] == []
