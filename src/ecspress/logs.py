"""``ecspress logs``: the WordPress containers' lines from CloudWatch Logs, oldest first, each with its task id.

On AWS the awslogs driver of the task definition writes them; locally the stand-in ships the local tasks' output
into moto's CloudWatch Logs the same way (``ecspress.local.ecs_tasks``), so this one reader serves both.
"""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

_DURATION = re.compile(r"^(?P<amount>\d+)(?P<unit>[smhd])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# How often --follow asks for new lines (CloudWatch Logs allows 5 FilterLogEvents calls per second per account).
FOLLOW_EVERY_SECONDS = 2.0


def since_seconds(value: str) -> int:
    """`10m` -> 600; `30s`, `2h`, `1d` likewise. Anything else is refused, naming the value."""
    match = _DURATION.match(value.strip())
    if match is None or int(match["amount"]) == 0:
        raise ValueError(f"--since {value!r} is not a duration such as 30s, 10m, 2h or 1d")
    return int(match["amount"]) * _UNIT_SECONDS[match["unit"]]


def task_id(stream: str) -> str:
    """`<prefix>/<container>/<task id>` (how the awslogs driver names ECS streams) -> the task id."""
    return stream.rsplit("/", 1)[-1]


def render(event: Mapping[str, Any]) -> str:
    """One line: UTC time, the task id, the message."""
    when = datetime.datetime.fromtimestamp(int(event["timestamp"]) / 1000, tz=datetime.UTC)
    message = str(event.get("message", "")).rstrip("\n")
    return f"{when:%Y-%m-%dT%H:%M:%S.%f}"[:-3] + f"Z {task_id(str(event.get('logStreamName', '')))} {message}"


def stream_messages(client: Any, group: str, stream: str) -> list[str]:
    """Every message of one stream, oldest first (all pages): the output of one task's container."""
    messages: list[str] = []
    request: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
    while True:
        answer = client.get_log_events(**request)
        messages += [str(event.get("message", "")).rstrip("\n") for event in answer.get("events") or []]
        token = answer.get("nextForwardToken")
        if not answer.get("events") or token == request.get("nextToken"):
            return messages
        request["nextToken"] = token


def events_since(client: Any, group: str, start_ms: int) -> list[dict[str, Any]]:
    """Every event of the group from start_ms on, oldest first (all pages)."""
    found: list[dict[str, Any]] = []
    request: dict[str, Any] = {"logGroupName": group, "startTime": start_ms}
    while True:
        answer = client.filter_log_events(**request)
        found += answer.get("events") or []
        token = answer.get("nextToken")
        if not token or not answer.get("events"):
            break
        request["nextToken"] = token
    return sorted(found, key=lambda event: (int(event["timestamp"]), str(event.get("eventId", ""))))


def follow(
    client: Any,
    group: str,
    start_ms: int,
    keep_going: Callable[[], bool] = lambda: True,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """The group's events from start_ms on, then the new ones as they arrive, each once."""
    seen: set[str] = set()
    while True:
        for event in events_since(client, group, start_ms):
            key = str(event.get("eventId") or (event["timestamp"], event.get("logStreamName"), event.get("message")))
            if key not in seen:
                seen.add(key)
                start_ms = max(start_ms, int(event["timestamp"]))
                yield event
        if not keep_going():
            return
        sleep(FOLLOW_EVERY_SECONDS)
