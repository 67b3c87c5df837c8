"""`ecspress logs`: durations, lines, pages, and --follow printing each event once."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ecspress import logs

STREAM = "wordpress/wordpress/0123456789abcdef"


def event(ms: int, message: str, event_id: str) -> dict[str, Any]:
    return {"timestamp": ms, "message": message, "logStreamName": STREAM, "eventId": event_id, "ingestionTime": ms}


@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400)])
def test_since(text: str, seconds: int) -> None:
    assert logs.since_seconds(text) == seconds


@pytest.mark.parametrize("text", ["10", "0m", "1w", "-5m", "ten minutes"])
def test_since_refuses_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        logs.since_seconds(text)
    assert str(refused.value) == f"--since {text!r} is not a duration such as 30s, 10m, 2h or 1d"


def test_a_line_has_the_utc_time_the_task_id_and_the_message() -> None:
    assert logs.render(event(1796119201250, "GET / 200\n", "1")) == (
        "2026-12-01T10:00:01.250Z 0123456789abcdef GET / 200"
    )


def client_with(*answers: dict[str, Any]) -> tuple[Any, Stubber]:
    client = boto3.client("logs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    for answer in answers:
        stub.add_response("filter_log_events", answer)
    stub.activate()
    return client, stub


def test_every_page_is_read_and_the_lines_come_oldest_first() -> None:
    client, stub = client_with(
        {"events": [event(3, "c", "3")], "nextToken": "t"},
        {"events": [event(1, "a", "1"), event(2, "b", "2")]},
    )
    assert [e["message"] for e in logs.events_since(client, "/ecs/site", 0)] == ["a", "b", "c"]
    stub.assert_no_pending_responses()


def test_follow_prints_each_event_once_and_then_the_new_ones() -> None:
    client, stub = client_with(
        {"events": [event(1, "a", "1")]},
        {"events": [event(1, "a", "1"), event(2, "b", "2")]},  # CloudWatch answers from the last timestamp on
    )
    rounds = iter([True, False])
    followed = logs.follow(client, "/ecs/site", 0, keep_going=lambda: next(rounds), sleep=lambda _: None)
    assert [e["message"] for e in followed] == ["a", "b"]
    stub.assert_no_pending_responses()
