"""How a one-off task ended, on DescribeTasks answers shaped like ECS's."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.module_utils._one_off import Outcome, outcome


def task(last_status: str = "STOPPED", **fields: Any) -> dict[str, Any]:
    containers = fields.pop("containers", [{"name": "wordpress", "exitCode": 0}])
    return {"lastStatus": last_status, "containers": containers, **fields}


@pytest.mark.parametrize("status", ["PROVISIONING", "PENDING", "RUNNING", "DEPROVISIONING"])
def test_a_task_not_stopped_is_running(status: str) -> None:
    assert outcome(task(status), "wordpress") == Outcome("running")


def test_an_expected_exit_code_succeeds() -> None:
    stopped = task(containers=[{"name": "probe", "exitCode": 1}, {"name": "wordpress", "exitCode": 3}])
    assert outcome(stopped, "wordpress", (0, 3)) == Outcome("succeeded", 3)


def test_another_exit_code_fails_with_ecs_words_and_the_code() -> None:
    stopped = task(
        stopCode="EssentialContainerExited",
        stoppedReason="Essential container in task exited",
        containers=[{"name": "wordpress", "exitCode": 1, "reason": ""}],
    )
    assert outcome(stopped, "wordpress") == Outcome(
        "failed", 1, "EssentialContainerExited: Essential container in task exited; exit code 1"
    )


def test_a_task_that_never_started_fails_with_its_reason_and_no_code() -> None:
    stopped = task(
        stopCode="TaskFailedToStart",
        stoppedReason="ResourceInitializationError: unable to pull secrets or registry auth",
        containers=[{"name": "wordpress", "reason": "CannotPullContainerError: not found"}],
    )
    assert outcome(stopped, "wordpress") == Outcome(
        "failed",
        None,
        "TaskFailedToStart: ResourceInitializationError: unable to pull secrets or registry auth; "
        "CannotPullContainerError: not found",
    )


def test_a_container_of_another_name_fails() -> None:
    assert outcome(task(stoppedReason="Essential container in task exited"), "php") == Outcome(
        "failed", None, "Essential container in task exited; the task has no container of that name"
    )


def test_a_stop_without_any_reason_still_says_so() -> None:
    assert outcome(task(containers=[{"name": "wordpress"}]), "wordpress").reason == "the task stopped without a reason"


def test_the_awslogs_stream_of_the_container() -> None:
    from ansible_collections.ecspress.wordpress.plugins.module_utils._one_off import awslogs_stream

    awslogs = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/wp", "awslogs-stream-prefix": "wordpress"}}
    definition = {"containerDefinitions": [{"name": "sidecar"}, {"name": "wordpress", "logConfiguration": awslogs}]}
    arn = "arn:aws:ecs:eu-west-1:123456789012:task/wp/0123abcd"
    assert awslogs_stream(definition, "wordpress", arn) == ("/ecs/wp", "wordpress/wordpress/0123abcd")
    del awslogs["options"]["awslogs-stream-prefix"]
    assert awslogs_stream(definition, "wordpress", arn) == ("/ecs/wp", "0123abcd")
    assert awslogs_stream(definition, "sidecar", arn) == ("", "")
    assert awslogs_stream(definition, "other", arn) == ("", "")
