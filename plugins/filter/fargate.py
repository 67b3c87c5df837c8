# Copyright: ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure filters for Fargate task sizes, ECS task definition comparison and image references."""

from __future__ import annotations

import re
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

DOCUMENTATION = r"""
name: fargate
short_description: Fargate task sizes, task definition comparison, ECR references
description:
  - C(fargate_memory_choices) - the memory sizes (MiB) Fargate allows for a task cpu value (CPU units); empty when
    the cpu value is not one Fargate offers.
  - C(fargate_task_size_valid) - whether a cpu/memory pair is one Fargate allows.
  - C(ecs_task_definition_changes) - the paths where an ECS task definition differs from the one wanted, ignoring
    the values AWS fills in that the wanted definition does not set.
  - C(ecr_repository_arn) - the ECR repository ARN of an image reference in ECR, empty for other registries.
author: ecspress maintainers
"""

# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size
_MIB_PER_GIB = 1024
FARGATE_TASK_SIZES: dict[int, list[int]] = {
    256: [512, 1024, 2048],
    512: list(range(1024, 4 * _MIB_PER_GIB + 1, _MIB_PER_GIB)),
    1024: list(range(2 * _MIB_PER_GIB, 8 * _MIB_PER_GIB + 1, _MIB_PER_GIB)),
    2048: list(range(4 * _MIB_PER_GIB, 16 * _MIB_PER_GIB + 1, _MIB_PER_GIB)),
    4096: list(range(8 * _MIB_PER_GIB, 30 * _MIB_PER_GIB + 1, _MIB_PER_GIB)),
    8192: list(range(16 * _MIB_PER_GIB, 60 * _MIB_PER_GIB + 1, 4 * _MIB_PER_GIB)),
    16384: list(range(32 * _MIB_PER_GIB, 120 * _MIB_PER_GIB + 1, 8 * _MIB_PER_GIB)),
}

# List elements are matched by these keys (first one present), so AWS may reorder them.
_LIST_KEYS = ("name", "sourceVolume", "source_volume", "containerPort", "container_port")
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?P<cn>\.cn)?$")


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def fargate_memory_choices(cpu: Any) -> list[int]:
    """Memory sizes (MiB) Fargate allows with `cpu` units; [] when Fargate has no such cpu size."""
    units = _as_int(cpu)
    return list(FARGATE_TASK_SIZES.get(units, [])) if units is not None else []


def fargate_task_size_valid(cpu: Any, memory: Any) -> bool:
    """True when (cpu, memory) is a task size Fargate allows."""
    mib = _as_int(memory)
    return mib is not None and mib in fargate_memory_choices(cpu)


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _scalars_equal(wanted: Any, actual: Any) -> bool:
    if isinstance(wanted, bool) or isinstance(actual, bool):
        return wanted is actual
    wanted_int, actual_int = _as_int(wanted), _as_int(actual)
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


def ecs_task_definition_changes(wanted: dict[str, Any], actual: dict[str, Any] | None) -> list[str]:
    """Paths where `actual` (as ECS describes it, camelCase or snake_case) differs from `wanted` (camelCase).

    Only what `wanted` sets is compared: AWS fills in values (cpu 0 per container, empty volumesFrom,
    rootDirectory, compatibilities...) that a registration leaves out. An empty or INACTIVE `actual`
    differs entirely. The result names paths only, never values, so it is safe to print.
    """
    if not isinstance(wanted, dict):
        raise AnsibleFilterError("ecs_task_definition_changes: the wanted task definition must be a dict")
    if not actual:
        return ["(no active revision)"]
    if not isinstance(actual, dict):
        raise AnsibleFilterError("ecs_task_definition_changes: the actual task definition must be a dict")
    if actual.get("status", "ACTIVE") != "ACTIVE":
        return ["status (INACTIVE)"]
    snake = "container_definitions" in actual or "task_definition_arn" in actual
    return _differences(camel_dict_to_snake_dict(wanted) if snake else wanted, actual, "")


def ecr_repository_arn(image: str) -> str:
    """ARN of the ECR repository `image` (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`) is in.

    Empty for an image in any other registry.
    """
    if not isinstance(image, str) or "/" not in image:
        return ""
    host, _, rest = image.partition("/")
    match = _ECR_HOST.match(host)
    if match is None:
        return ""
    repository = re.split(r"[@]", rest, maxsplit=1)[0]
    if ":" in repository:
        repository = repository.rsplit(":", 1)[0]
    partition = "aws-cn" if match.group("cn") else "aws"
    return f"arn:{partition}:ecr:{match.group('region')}:{match.group('account')}:repository/{repository}"


class FilterModule:
    """Fargate and ECS helper filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "fargate_memory_choices": fargate_memory_choices,
            "fargate_task_size_valid": fargate_task_size_valid,
            "ecs_task_definition_changes": ecs_task_definition_changes,
            "ecr_repository_arn": ecr_repository_arn,
        }
