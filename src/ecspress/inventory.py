"""The inventory a command runs on: which groups it declares, whether it is the local stand-in, the --limit check.

Reads inventory files as YAML or INI text; no inventory plugin runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ecspress.errors import UsageError

INVENTORY_FILE_STEMS = ("hosts", "inventory", "main")


@dataclass(frozen=True)
class Inventory:
    path: Path
    groups: frozenset[str]

    @property
    def is_local(self) -> bool:
        return "local" in self.groups

    @property
    def environments(self) -> list[str]:
        """The inventory's groups other than Ansible's own and `local`: dev, staging, prod, ..."""
        return sorted(self.groups - {"all", "ungrouped", "local"})

    @property
    def has_environments(self) -> bool:
        return len(self.environments) > 1

    @property
    def name(self) -> str:
        """Names the lock: `inventories/aws` and `inventories/aws/hosts.yml` are one environment."""
        if self.path.is_file():
            return self.path.parent.name if self.path.stem in INVENTORY_FILE_STEMS else self.path.stem
        return self.path.name


def _yaml_groups(tree: Any) -> set[str]:
    groups: set[str] = set()
    if not isinstance(tree, Mapping):
        return groups
    for name, body in tree.items():
        groups.add(str(name))
        if isinstance(body, Mapping):
            groups |= _yaml_groups(body.get("children"))
    return groups


def _ini_groups(text: str) -> set[str]:
    return {match.split(":", 1)[0] for match in re.findall(r"^\s*\[([^\]]+)\]", text, flags=re.MULTILINE)}


def _inventory_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(child for child in path.iterdir() if child.is_file() and not child.name.startswith("."))


def inventory_groups(path: Path) -> frozenset[str]:
    """The group names an inventory file or directory declares (YAML or INI; no plugins run)."""
    groups: set[str] = set()
    for file in _inventory_files(path):
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.suffix in (".yml", ".yaml"):
            try:
                groups |= _yaml_groups(yaml.safe_load(text))
            except yaml.YAMLError as error:
                raise UsageError(f"inventory file {file} is not valid YAML: {error}") from None
        elif file.suffix in ("", ".ini", ".cfg"):
            groups |= _ini_groups(text)
    groups.discard("all")
    return frozenset(groups)


def resolve_inventory(value: str, root: Path) -> Inventory:
    candidate = Path(value).expanduser()
    places = [candidate] if candidate.is_absolute() else [candidate, root / candidate]
    for place in places:
        if place.exists():
            return Inventory(place.resolve(), inventory_groups(place))
    raise UsageError(f"inventory {value} does not exist (looked in {', '.join(str(p) for p in places)})")


def check_limit(inventory: Inventory, limit: str | None) -> None:
    if inventory.has_environments and not limit:
        present = ", ".join(inventory.environments)
        raise UsageError(f"inventory {inventory.path} holds several environments ({present}): pick one with --limit")
    if limit and limit not in inventory.groups:
        raise UsageError(f"inventory {inventory.path} has no group {limit!r} for --limit")
