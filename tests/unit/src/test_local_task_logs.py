"""The local ECS model names awslogs streams as Fargate does and keeps docker's timestamps."""

from __future__ import annotations

from typing import Any

import pytest

from ecspress.local.ecs_tasks import awslogs_stream, docker_log_line

TASK = "arn:aws:ecs:us-east-1:123456789012:task/site/0123456789abcdef"


def container(**options: str) -> dict[str, Any]:
    return {"name": "wordpress", "logConfiguration": {"logDriver": "awslogs", "options": options}}


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        (
            container(**{"awslogs-group": "/ecs/site", "awslogs-stream-prefix": "wp"}),
            ("/ecs/site", "wp/wordpress/0123456789abcdef"),
        ),
        (container(**{"awslogs-group": "/ecs/site"}), ("/ecs/site", "0123456789abcdef")),  # no prefix: the task id
        ({"name": "wordpress"}, None),
        ({"name": "wordpress", "logConfiguration": {"logDriver": "json-file", "options": {}}}, None),
    ],
)
def test_awslogs_stream(definition: dict[str, Any], expected: tuple[str, str] | None) -> None:
    assert awslogs_stream(definition, TASK) == expected


def test_docker_timestamps_become_epoch_milliseconds() -> None:
    assert docker_log_line("2026-12-01T10:00:01.250000000Z GET / 200\n") == (1796119201250, "GET / 200")
    assert docker_log_line("2026-12-01T10:00:01Z started\n") == (1796119201000, "started")
