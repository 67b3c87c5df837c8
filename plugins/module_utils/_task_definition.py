# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one decision about ECS task definitions: does a revision differ from the wanted one, and what to register.

Private to the ecspress.wordpress collection: no stability promise to other collections.
Answers in, decisions out: no AWS client in here. M(ecspress.wordpress.ecs_task_definition) is the only
caller that registers; the C(ecs_task_definition_changes) filter shows the same comparison to YAML.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

# The fields RegisterTaskDefinition accepts; everything else in a DescribeTaskDefinition answer
# (ARN, revision, status, requiresAttributes, compatibilities, registeredAt/By…) is AWS's own.
REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
)

# List elements are matched by these keys (first one present), so AWS may reorder them.
_LIST_KEYS = ("name", "sourceVolume", "source_volume", "containerPort", "container_port")


def as_int(value: Any) -> int | None:
    """An int, or a string of digits, as an int; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _scalars_equal(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual
    wanted_int, actual_int = as_int(wanted), as_int(actual)
    if wanted_int is not None and actual_int is not None:
        return wanted_int == actual_int
    return bool(wanted == actual)


def _list_key(items: list[Any]) -> str | None:
    """The key that names every element of a list of dicts, if there is one."""
    if not items or not all(isinstance(item, dict) for item in items):
        return None
    for key in _LIST_KEYS:
        if all(key in item for item in items):
            return key
    return None


def _list_differences(wanted: list[Any], actual: list[Any], path: str) -> list[str]:
    if len(wanted) != len(actual):
        return [f"{path} (length {len(actual)} -> {len(wanted)})"]
    key = _list_key(wanted)
    if key is None or _list_key(actual) != key:
        changes: list[str] = []
        for index, (wanted_item, actual_item) in enumerate(zip(wanted, actual, strict=True)):
            changes.extend(_differences(wanted_item, actual_item, f"{path}[{index}]"))
        return changes
    by_key = {str(item[key]): item for item in actual}
    changes = []
    for wanted_item in wanted:
        name = str(wanted_item[key])
        if name not in by_key:
            changes.append(f"{path}[{name}] (missing)")
        else:
            changes.extend(_differences(wanted_item, by_key[name], f"{path}[{name}]"))
    return changes


def _differences(wanted: Any, actual: Any, path: str) -> list[str]:
    if isinstance(wanted, dict):
        actual = actual if isinstance(actual, dict) else {}
        changes: list[str] = []
        for key, value in wanted.items():
            child = f"{path}.{key}" if path else str(key)
            if _is_empty(value) and _is_empty(actual.get(key)):
                continue
            if key not in actual:
                changes.append(f"{child} (missing)")
                continue
            changes.extend(_differences(value, actual[key], child))
        return changes
    if isinstance(wanted, list):
        if not isinstance(actual, list):
            return [path]
        return _list_differences(wanted, actual, path)
    return [] if _scalars_equal(wanted, actual) else [path]


def task_definition_changes(wanted: dict[str, Any], actual: dict[str, Any] | None) -> list[str]:
    """Paths where `actual` (as ECS describes it, camelCase or snake_case) differs from `wanted` (camelCase).

    Only what `wanted` sets is compared: AWS fills in values (cpu 0 per container, empty volumesFrom,
    rootDirectory, compatibilities...) that a registration leaves out. An empty or INACTIVE `actual`
    differs entirely. The result names paths only, never values, so it is safe to print.
    """
    if not isinstance(wanted, dict):
        raise TypeError("ecs_task_definition_changes: the wanted task definition must be a dict")
    if not actual:
        return ["(no active revision)"]
    if not isinstance(actual, dict):
        raise TypeError("ecs_task_definition_changes: the actual task definition must be a dict")
    if actual.get("status", "ACTIVE") != "ACTIVE":
        return ["status (INACTIVE)"]
    snake = "container_definitions" in actual or "task_definition_arn" in actual
    return _differences(camel_dict_to_snake_dict(wanted) if snake else wanted, actual, "")


def container_named(task_definition: dict[str, Any], container: str | None) -> dict[str, Any]:
    """The container to update: the one named, or the only essential one."""
    containers = task_definition.get("containerDefinitions") or []
    if container:
        for candidate in containers:
            if candidate.get("name") == container:
                return dict(candidate)
        names = ", ".join(str(c.get("name")) for c in containers)
        raise ValueError(f"task definition has no container named {container!r} (it has: {names})")
    essential = [c for c in containers if c.get("essential", True)]
    if len(essential) != 1:
        raise ValueError("task definition has several essential containers: name the one to update (container)")
    return dict(essential[0])


def register_request(
    task_definition: dict[str, Any],
    image: str | None = None,
    container: str | None = None,
) -> dict[str, Any]:
    """RegisterTaskDefinition arguments: the definition's own fields, with one container's image replaced if given."""
    request = {key: copy.deepcopy(task_definition[key]) for key in REGISTER_FIELDS if key in task_definition}
    if image is not None:
        target = container_named(task_definition, container)["name"]
        for definition in request["containerDefinitions"]:
            if definition.get("name") == target:
                definition["image"] = image
    return request


class Registration(NamedTuple):
    """What to do for a wanted definition: keep the running revision, reuse the family's newest, or register."""

    action: str  # "keep" | "reuse" | "register"
    task_definition_arn: str  # the revision to run ("" when a new one is to be registered)
    changes: list[str]  # paths where the base revision differs from the wanted one (names only, never values)


def plan_registration(
    wanted: dict[str, Any], running: dict[str, Any] | None, newest: Callable[[], dict[str, Any] | None]
) -> Registration:
    """Decide from the revision the service runs (None before the service exists) and the family's newest one.

    The newest revision is reused when it already is the wanted definition (a deploy that was rolled back, a
    run interrupted between registering and deploying), so a re-run never registers an identical revision.
    `newest` looks it up and is called only when the running revision is not the wanted one: a no-op converge
    reads the service's own revision and nothing else.
    """
    if running is not None:
        changes = task_definition_changes(wanted, running)
        if not changes:
            return Registration("keep", str(running["taskDefinitionArn"]), [])
        latest = newest()
    else:
        latest = newest()
        changes = task_definition_changes(wanted, latest)
    if latest and not task_definition_changes(wanted, latest):
        return Registration("reuse", str(latest["taskDefinitionArn"]), changes)
    return Registration("register", "", changes)
