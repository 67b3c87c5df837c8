# Copyright: ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure filters for Fargate task sizes."""

from __future__ import annotations

from typing import Any

from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import as_int

DOCUMENTATION = r"""
name: fargate
short_description: Fargate task sizes
description:
  - C(fargate_memory_choices) - the memory sizes (MiB) Fargate allows for a task cpu value (CPU units); empty when
    the cpu value is not one Fargate offers.
  - C(fargate_task_size_valid) - whether a cpu/memory pair is one Fargate allows.
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


def fargate_memory_choices(cpu: Any) -> list[int]:
    """Memory sizes (MiB) Fargate allows with `cpu` units; [] when Fargate has no such cpu size."""
    units = as_int(cpu)
    return list(FARGATE_TASK_SIZES.get(units, [])) if units is not None else []


def fargate_task_size_valid(cpu: Any, memory: Any) -> bool:
    """True when (cpu, memory) is a task size Fargate allows."""
    mib = as_int(memory)
    return mib is not None and mib in fargate_memory_choices(cpu)


class FilterModule:
    """Fargate task-size filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "fargate_memory_choices": fargate_memory_choices,
            "fargate_task_size_valid": fargate_task_size_valid,
        }
