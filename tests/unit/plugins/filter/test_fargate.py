"""Pure filters of plugins/filter/fargate.py: Fargate task sizes."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.filter.fargate import (
    FilterModule,
    fargate_memory_choices,
    fargate_task_size_valid,
)


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        (256, 512),
        ("256", "2048"),
        (512, 4096),
        (1024, 8192),
        (2048, 16384),
        (4096, 30720),
        (8192, 61440),
        (16384, 122880),
    ],
)
def test_allowed_sizes(cpu: Any, memory: Any) -> None:
    assert fargate_task_size_valid(cpu, memory)


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [(256, 4096), (512, 512), (1024, 1024), (300, 1024), ("abc", 512), (256, "lots"), (True, 512), (8192, 17408)],
)
def test_refused_sizes(cpu: Any, memory: Any) -> None:
    assert not fargate_task_size_valid(cpu, memory)


def test_memory_choices() -> None:
    assert fargate_memory_choices(256) == [512, 1024, 2048]
    assert fargate_memory_choices("512") == [1024, 2048, 3072, 4096]
    assert fargate_memory_choices(1000) == []
    assert fargate_memory_choices(None) == []


def test_filters_are_the_functions() -> None:
    filters = FilterModule().filters()
    assert filters == {
        "fargate_memory_choices": fargate_memory_choices,
        "fargate_task_size_valid": fargate_task_size_valid,
    }
