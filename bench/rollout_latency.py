"""Detection latency of a failing rollout: ecs_deployment_wait's decision vs botocore's services_stable waiter.

Both read the same answer sequences (shaped like ECS's). The waiter is botocore's real one, driven by
Stubber with sleeping switched off; it has no failure acceptor for these cases, so it polls until it
gives up at its 40th poll (39 x 15 s after the first).
"""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import boto3
import botocore.exceptions
from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import Target, decide
from botocore.stub import Stubber

NEW = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:7"
OLD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:6"
OUR_INTERVAL = 10  # ecs_deployment_wait's default poll_interval
PULL = "CannotPullContainerError: pull image manifest has been retried 5 time(s): ... not found"


def deployment(
    td: str, status: str = "PRIMARY", rollout: str = "IN_PROGRESS", running: int = 0, failed: int = 0
) -> dict[str, Any]:
    now = datetime.datetime.now(datetime.UTC)
    return {
        "id": f"ecs-svc/{td[-1]}",
        "status": status,
        "taskDefinition": td,
        "desiredCount": 2,
        "runningCount": running,
        "pendingCount": 2 - running,
        "failedTasks": failed,
        "rolloutState": rollout,
        "rolloutStateReason": rollout,
        "createdAt": now,
        "updatedAt": now,
    }


def service(*deployments: dict[str, Any]) -> dict[str, Any]:
    return {
        "serviceName": "wp",
        "status": "ACTIVE",
        "taskDefinition": deployments[0]["taskDefinition"],
        "deployments": list(deployments),
        "runningCount": 2,
        "desiredCount": 2,
        "events": [],
    }


def stopped(n: int) -> list[dict[str, Any]]:
    return [
        {
            "taskArn": f"arn:aws:ecs:eu-west-1:1:task/wp/{i:032x}",
            "taskDefinitionArn": NEW,
            "stopCode": "TaskFailedToStart",
            "stoppedReason": PULL,
            "startedBy": "ecs-svc/7",
            "containers": [{"name": "wordpress", "reason": PULL}],
        }
        for i in range(n)
    ]


def seed_loop(poll: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The seed's case: the old deployment serves, the new one's tasks fail to pull, one per poll."""
    return service(deployment(NEW), deployment(OLD, "ACTIVE", "COMPLETED", running=2)), stopped(poll)


def circuit_breaker(poll: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The breaker fires at the 3rd poll and rolls back: the service ends stable — on the OLD revision."""
    if poll < 3:
        return service(deployment(NEW, failed=poll), deployment(OLD, "ACTIVE", "COMPLETED", running=2)), stopped(poll)
    if poll >= 5:  # the failed deployment has drained: one deployment, running == desired
        return service(deployment(OLD, rollout="COMPLETED", running=2)), stopped(3)
    return service(
        deployment(OLD, rollout="COMPLETED", running=2), deployment(NEW, "ACTIVE", "FAILED", failed=3)
    ), stopped(3)


def ours(sequence: Any) -> int:
    poll = 1
    while not decide(*sequence(poll)[:1], Target(task_definition=NEW), stopped_tasks=sequence(poll)[1]).final:
        poll += 1
    return poll


def waiter(sequence: Any) -> tuple[int, int, str]:
    ecs = boto3.client("ecs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    model = ecs.get_waiter("services_stable").config
    stub = Stubber(ecs)
    for poll in range(1, model.max_attempts + 1):
        stub.add_response("describe_services", {"services": [sequence(poll)[0]], "failures": []})
    stub.activate()
    polls = 0

    def count(*_: Any, **__: Any) -> None:
        nonlocal polls
        polls += 1

    with mock.patch("time.sleep", count):
        try:
            ecs.get_waiter("services_stable").wait(cluster="c", services=["wp"])
            outcome = "success"
        except botocore.exceptions.WaiterError as error:
            outcome = "timeout" if "Max attempts" in str(error) else "failure"
    polls += 1  # one describe_services per attempt; a sleep sits between two attempts, not after the last
    return polls, (polls - 1) * model.delay, outcome


def compare() -> list[tuple[str, int, int, int, int, str]]:
    rows = []
    for name, sequence in (
        ("CannotPullContainerError loop", seed_loop),
        ("circuit breaker rolled back", circuit_breaker),
    ):
        mine = ours(sequence)
        polls, seconds, outcome = waiter(sequence)
        if outcome == "success":
            outcome = "SUCCESS (wrong: the rollout failed)"
        rows.append((name, mine, (mine - 1) * OUR_INTERVAL, polls, seconds, outcome))
    return rows


if __name__ == "__main__":
    for row in compare():
        print(row)
