"""The rollout decision on answer sequences shaped like the real ECS API's."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import (
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    INACTIVE,
    NOT_FOUND,
    ROLLED_BACK,
    STALLED,
    SUPERSEDED,
    Target,
    TaskFailure,
    classify_task,
    decide,
    same_task_definition,
    timeout_reason,
)

TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:{}"
NEW, OLD, NEWER = TD.format(7), TD.format(6), TD.format(8)
TARGET = Target(task_definition=NEW)
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def deployment(
    td: str,
    status: str = "PRIMARY",
    rollout: str | None = "IN_PROGRESS",
    desired: int = 2,
    running: int = 0,
    failed: int = 0,
    ident: str | None = None,
    reason: str = "",
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": ident or f"ecs-svc/{td[-1]}",
        "status": status,
        "taskDefinition": td,
        "desiredCount": desired,
        "runningCount": running,
        "pendingCount": desired - running,
        "failedTasks": failed,
        "createdAt": T0,
    }
    if rollout is not None:
        record["rolloutState"] = rollout
        record["rolloutStateReason"] = reason or f"ECS deployment {record['id']} {rollout.lower()}."
    return record


def service(
    *deployments: dict[str, Any], events: list[str] | None = None, status: str = "ACTIVE", load_balanced: bool = False
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "serviceName": "wp",
        "status": status,
        "taskDefinition": deployments[0]["taskDefinition"],
        "deployments": list(deployments),
        "events": [{"id": str(i), "createdAt": T0, "message": f"(service wp) {m}"} for i, m in enumerate(events or [])],
    }
    if load_balanced:
        answer["loadBalancers"] = [{"targetGroupArn": "arn:tg", "containerName": "wordpress", "containerPort": 80}]
    return answer


def stopped(
    td: str,
    reason: str,
    started_by: str = "ecs-svc/7",
    stop_code: str = "TaskFailedToStart",
    exit_code: int | None = None,
    n: int = 0,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "wordpress", "lastStatus": "STOPPED"}
    if exit_code is not None:
        container["exitCode"] = exit_code
    else:
        container["reason"] = reason
    return {
        "taskArn": f"arn:aws:ecs:eu-west-1:1:task/wp/{n:032x}",
        "taskDefinitionArn": td,
        "lastStatus": "STOPPED",
        "stopCode": stop_code,
        "stoppedReason": reason,
        "startedBy": started_by,
        "containers": [container],
    }


PULL = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
    "123.dkr.ecr.eu-west-1.amazonaws.com/wp@sha256:dead: not found"
)


def healthy(n: int) -> list[dict[str, Any]]:
    return [{"Target": {"Id": f"10.0.1.{i}", "Port": 80}, "TargetHealth": {"State": "healthy"}} for i in range(n)]


def test_normal_rollout_sequence() -> None:
    sequence = [
        service(deployment(NEW), deployment(OLD, "ACTIVE", "COMPLETED", running=2)),
        service(deployment(NEW, running=1), deployment(OLD, "ACTIVE", "COMPLETED", running=1)),
        service(deployment(NEW, rollout="COMPLETED", running=2), events=["has reached a steady state."]),
    ]
    states = [decide(answer, TARGET).state for answer in sequence]
    assert states == [IN_PROGRESS, IN_PROGRESS, COMPLETED]


def test_completed_waits_for_healthy_targets() -> None:
    answer = service(deployment(NEW, rollout="COMPLETED", running=2), load_balanced=True)
    initial = [{"Target": {"Id": "10.0.1.1"}, "TargetHealth": {"State": "initial"}}, *healthy(1)]
    waiting = decide(answer, TARGET, target_health=initial)
    assert waiting.state == IN_PROGRESS and "10.0.1.1: initial" in waiting.reason
    assert decide(answer, TARGET, target_health=healthy(1)).state == IN_PROGRESS
    assert decide(answer, TARGET, target_health=healthy(2)).state == COMPLETED


def test_circuit_breaker_failed_then_rolled_back() -> None:
    failed = deployment(
        NEW, rollout="FAILED", failed=3, reason="ECS deployment circuit breaker: tasks failed to start."
    )
    during = service(failed, deployment(OLD, "ACTIVE", "COMPLETED", running=2))
    assert decide(during, TARGET).state == FAILED
    rolled = service(
        deployment(OLD, "PRIMARY", "IN_PROGRESS", ident="ecs-svc/9"),
        {**failed, "status": "ACTIVE"},
        events=["rolling back to deployment ecs-svc/6."],
    )
    decision = decide(rolled, TARGET, stopped_tasks=[stopped(NEW, PULL, n=i) for i in range(3)])
    assert decision.state == ROLLED_BACK and decision.failed
    assert "rolled back to wp:6" in decision.reason and "CannotPullContainerError" in decision.reason


def test_rollback_after_our_deployment_is_gone_is_still_a_failure() -> None:
    """ecspresso #732 / ecs-deploy #185 reported success here: the service is stable, but on the OLD revision."""
    answer = service(
        deployment(OLD, rollout="COMPLETED", running=2),
        events=["has reached a steady state.", "rolling back to deployment ecs-svc/6."],
    )
    decision = decide(answer, TARGET)
    assert decision.state == ROLLED_BACK and decision.failed


@pytest.mark.parametrize("threshold", [1, 2, 3])
def test_repeated_pull_failure_stalls_within_threshold(threshold: int) -> None:
    """The seed's case: failedTasks stays low, tasks keep stopping, ECS would loop for an hour."""
    answer = service(deployment(NEW, failed=0), deployment(OLD, "ACTIVE", "COMPLETED", running=2))
    tasks = [stopped(NEW, PULL, n=i) for i in range(threshold)]
    assert decide(answer, TARGET, stopped_tasks=tasks[:-1], fail_on_stalled_after=threshold).state == IN_PROGRESS
    decision = decide(answer, TARGET, stopped_tasks=tasks, fail_on_stalled_after=threshold)
    assert decision.state == STALLED
    assert f"{threshold} tasks of wp:7 stopped with CannotPullContainerError" in decision.reason
    assert len(decision.failures) == threshold


def test_elb_health_check_failures_stall() -> None:
    reason = "Task failed ELB health checks in (target-group arn:tg)"
    tasks = [stopped(NEW, reason, stop_code="ServiceSchedulerInitiated", n=i) for i in range(3)]
    decision = decide(service(deployment(NEW, running=1)), TARGET, stopped_tasks=tasks)
    assert decision.state == STALLED and "ELB health checks failed" in decision.reason


def test_out_of_memory_and_exit_codes_are_told_apart() -> None:
    oom = stopped(NEW, "OutOfMemoryError: Container killed due to memory usage", stop_code="EssentialContainerExited")
    exit1 = stopped(NEW, "Essential container in task exited", stop_code="EssentialContainerExited", exit_code=1)
    assert classify_task(oom).kind == "OutOfMemory"
    assert classify_task(exit1).signature == "essential container exited (exit 1)"
    mixed = [exit1, {**exit1, "taskArn": "b"}, oom]
    assert decide(service(deployment(NEW)), TARGET, stopped_tasks=mixed).state == IN_PROGRESS
    decision = decide(service(deployment(NEW)), TARGET, stopped_tasks=[*mixed, {**exit1, "taskArn": "c"}])
    assert decision.state == STALLED and "exit 1" in decision.reason


def test_resource_initialization_error() -> None:
    reason = "ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed"
    tasks = [stopped(NEW, reason, n=i) for i in range(3)]
    assert "ResourceInitializationError" in decide(service(deployment(NEW)), TARGET, stopped_tasks=tasks).reason


def test_old_deployments_stopped_tasks_do_not_count() -> None:
    tasks = [stopped(OLD, PULL, started_by="ecs-svc/6", n=i) for i in range(5)]
    assert decide(service(deployment(NEW)), TARGET, stopped_tasks=tasks).state == IN_PROGRESS


def test_a_newer_deployment_replaces_ours() -> None:
    answer = service(deployment(NEWER), deployment(NEW, "ACTIVE"), deployment(OLD, "ACTIVE", "COMPLETED"))
    decision = decide(answer, TARGET)
    assert decision.state == SUPERSEDED and "wp:8" in decision.reason


def test_ours_gone_and_the_service_on_another_revision() -> None:
    decision = decide(service(deployment(NEWER, rollout="COMPLETED", running=2)), TARGET)
    assert decision.state == SUPERSEDED and "runs wp:8" in decision.reason


def test_desired_count_zero_completes() -> None:
    answer = service(deployment(NEW, rollout="COMPLETED", desired=0), load_balanced=True)
    assert decide(answer, TARGET, target_health=[]).state == COMPLETED


def test_missing_and_inactive_services() -> None:
    assert decide(None, TARGET).state == NOT_FOUND
    assert decide(service(deployment(NEW), status="INACTIVE"), TARGET).state == INACTIVE


def test_deployments_without_rollout_state() -> None:
    """EXTERNAL controllers and older answers: running == desired and no other deployment is done."""
    assert decide(service(deployment(NEW, rollout=None, running=1)), TARGET).state == IN_PROGRESS
    two = service(deployment(NEW, rollout=None, running=2), deployment(OLD, "ACTIVE", None, running=2))
    assert decide(two, TARGET).state == IN_PROGRESS
    assert decide(service(deployment(NEW, rollout=None, running=2)), TARGET).state == COMPLETED


def test_several_active_deployments_wait_for_ours() -> None:
    answer = service(
        deployment(NEW, running=1),
        deployment(OLD, "ACTIVE", "COMPLETED", running=1),
        deployment(TD.format(5), "ACTIVE", "COMPLETED", running=1),
    )
    decision = decide(answer, TARGET)
    assert decision.state == IN_PROGRESS and "1/2 running" in decision.reason


def test_family_revision_matches_an_arn() -> None:
    """moto stores the task definition as passed (wp:7), ECS as an ARN."""
    assert same_task_definition("wp:7", NEW) and not same_task_definition("wp:7", OLD)
    assert decide(service(deployment("wp:7", rollout="COMPLETED", running=2)), TARGET).state == COMPLETED


def test_deployment_id_target() -> None:
    answer = service(deployment(NEW, rollout="COMPLETED", running=2, ident="ecs-svc/42"))
    assert decide(answer, Target(deployment_id="ecs-svc/42")).state == COMPLETED
    assert decide(answer, Target(deployment_id="ecs-svc/41")).state == SUPERSEDED


@pytest.mark.parametrize(
    ("status", "state"),
    [
        ("ROLLBACK_SUCCESSFUL", ROLLED_BACK),
        ("ROLLBACK_IN_PROGRESS", ROLLED_BACK),
        ("ROLLBACK_FAILED", FAILED),
        ("STOPPED", FAILED),
        ("STOP_REQUESTED", FAILED),
        ("IN_PROGRESS", None),
        ("SUCCESSFUL", None),
        ("PENDING", None),
    ],
)
def test_service_deployments_api_status(status: str, state: str | None) -> None:
    answer = service(deployment(NEW, running=1))
    decision = decide(answer, TARGET, service_deployment={"status": status, "statusReason": "circuit breaker"})
    assert decision.state == (state or IN_PROGRESS)
    if state:
        assert decision.reason == f"ECS service deployment {status}: circuit breaker"
    else:
        assert decision.reason == "1/2 running, 1 pending; ECS deployment ecs-svc/7 in_progress."


def test_timeout_message_carries_the_last_events() -> None:
    answer = service(deployment(NEW), events=["has started 1 tasks: (task abc).", "was unable to place a task."])
    message = timeout_reason(decide(answer, TARGET), 600)
    assert message.startswith("timed out after 600s while in_progress")
    assert "has started 1 tasks: (task abc)." in message


def test_recent_stopped_tasks_are_newest_first_of_any_task_definition() -> None:
    import datetime

    from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import recent_stopped_tasks

    at = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=datetime.timezone.utc)  # noqa: UP017
    old = {
        "taskArn": "arn:aws:ecs:eu-west-1:1:task/wp/old",
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/wp:6",
        "stoppedAt": at,
        "stopCode": "ServiceSchedulerInitiated",
        "stoppedReason": "Scaling activity initiated by (deployment ecs-svc/6)",
        "containers": [{"name": "wordpress", "exitCode": 0}],
    }
    pull = {
        "taskArn": "arn:aws:ecs:eu-west-1:1:task/wp/new",
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:1:task-definition/wp:7",
        "stoppedAt": at + datetime.timedelta(minutes=1),
        "stopCode": "TaskFailedToStart",
        "stoppedReason": "CannotPullContainerError: pull image manifest has been retried 5 time(s): not found",
        "containers": [{"name": "wordpress"}],
    }
    stopped = recent_stopped_tasks([old, pull])
    assert [(s["task_definition"], s["kind"]) for s in stopped] == [
        ("wp:7", "CannotPullContainerError"),
        ("wp:6", "task stopped"),
    ]
    assert recent_stopped_tasks([old, pull], limit=1)[0]["task_arn"].endswith("/new")
    assert recent_stopped_tasks([]) == []


@pytest.mark.parametrize(
    ("reason", "kind"),
    [
        ("OutOfMemoryError: Container killed due to memory usage", "OutOfMemory"),
        ("Essential container in task exited: out of memory", "OutOfMemory"),
        ("OOMKilled", "OutOfMemory"),
        ("container wordpress: OOM", "OutOfMemory"),
        ("no room left for the upload directory", "task stopped"),
        ("zoom plugin: Essential container in task exited", "task stopped"),
        ("OOMPA loompa", "task stopped"),
    ],
)
def test_the_out_of_memory_pattern_matches_whole_words(reason: str, kind: str) -> None:
    """'room' or 'zoom' hold "oom" but are no OutOfMemory."""
    assert classify_task(stopped(NEW, reason, stop_code="EssentialContainerExited")).kind == kind


def test_autoscaling_stops_are_not_a_stall() -> None:
    """A scale-in stops tasks of our deployment with 'Scaling activity initiated by': not a failure."""
    reason = "Scaling activity initiated by (deployment ecs-svc/7)"
    tasks = [stopped(NEW, reason, stop_code="ServiceSchedulerInitiated", n=i) for i in range(3)]
    decision = decide(service(deployment(NEW, running=1)), TARGET, stopped_tasks=tasks)
    assert decision.state == IN_PROGRESS and decision.failures == ()
    other = [stopped(NEW, "Task stopped by user", stop_code="UserInitiated", n=i) for i in range(3)]
    assert decide(service(deployment(NEW, running=1)), TARGET, stopped_tasks=other).state == STALLED


def test_exit_codes_of_non_essential_containers_do_not_count() -> None:
    sidecar_failed = {
        **stopped(NEW, "Essential container in task exited", stop_code="EssentialContainerExited"),
        "containers": [
            {"name": "log-router", "essential": False, "exitCode": 1},
            {"name": "wordpress", "essential": True, "exitCode": 0},
        ],
    }
    failure = classify_task(sidecar_failed)
    assert (failure.kind, failure.exit_codes) == ("task stopped", ())
    essential_by_default = {**sidecar_failed, "containers": [{"name": "wordpress", "exitCode": 137}]}
    failure = classify_task(essential_by_default)
    assert (failure.kind, failure.exit_codes, failure.signature) == (
        "essential container exited",
        (137,),
        "essential container exited (exit 137)",
    )


def test_an_older_deployment_of_the_same_task_definition_is_not_ours() -> None:
    """An earlier attempt at wp:7 (rolled back, still draining) beside the new one: the new one is ours."""
    from datetime import timedelta

    old_attempt = {**deployment(NEW, "ACTIVE", "FAILED", ident="ecs-svc/1"), "createdAt": T0 - timedelta(hours=1)}
    new_attempt = {**deployment(NEW, running=1, ident="ecs-svc/2"), "createdAt": T0 + timedelta(seconds=3)}
    answer = service(old_attempt, new_attempt)
    decision = decide(answer, TARGET, events_since=T0)
    assert decision.state == IN_PROGRESS and decision.ours["id"] == "ecs-svc/2"
    # Without a fresh one, the newest of the older ones is ours (nothing was deployed since the wait started).
    answer = service({**new_attempt, "createdAt": T0 - timedelta(minutes=1)}, old_attempt)
    assert decide(answer, TARGET, events_since=T0).ours["id"] == "ecs-svc/2"


def test_not_visible_yet_is_in_progress_during_the_grace_period_only() -> None:
    answer = service(deployment(OLD, rollout="COMPLETED", running=2))
    waiting = decide(answer, Target(deployment_id="ecs-svc/new"), visibility_grace=True)
    assert waiting.state == IN_PROGRESS
    assert waiting.reason == "deployment ecs-svc/new is not visible yet (ECS is eventually consistent)"
    assert decide(answer, Target(deployment_id="ecs-svc/new")).state == SUPERSEDED
    rolled = service(deployment(OLD, rollout="COMPLETED", running=2), events=["rolling back to deployment ecs-svc/6."])
    assert decide(rolled, TARGET, visibility_grace=True).state == ROLLED_BACK


def test_service_deployments_newest_first_since_the_wait_started() -> None:
    from datetime import timedelta

    from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import (
        created_at,
        newest_first,
        our_service_deployment,
        target_revision_arn,
    )

    old = {"serviceDeploymentArn": "old", "targetServiceRevisionArn": "r1", "createdAt": T0 - timedelta(hours=1)}
    mid = {"serviceDeploymentArn": "mid", "targetServiceRevision": {"arn": "r2"}, "createdAt": T0}
    new = {"serviceDeploymentArn": "new", "targetServiceRevisionArn": "r3", "createdAt": T0 + timedelta(seconds=1)}
    undated = {"serviceDeploymentArn": "undated"}
    assert created_at(undated) == datetime(1970, 1, 1, tzinfo=UTC) and created_at(mid) == T0
    assert [d["serviceDeploymentArn"] for d in newest_first([old, new, mid])] == ["new", "mid", "old"]
    assert [d["serviceDeploymentArn"] for d in newest_first([old, mid, new], T0)] == ["new", "mid"]
    assert [d["serviceDeploymentArn"] for d in newest_first([undated, old])] == ["old", "undated"]
    assert newest_first([undated], T0) == []
    assert [target_revision_arn(d) for d in (old, mid, undated)] == ["r1", "r2", ""]
    runs = {"r1": NEW, "r2": NEW, "r3": OLD}
    assert our_service_deployment([old, mid, new], runs, NEW, None) is mid
    assert our_service_deployment([old, new], runs, NEW, T0) is None  # the old one is history
    assert our_service_deployment([old, mid, new], runs, OLD, T0) is new
    assert our_service_deployment([old, mid], runs, None, None) is None


def test_stopped_tasks_of_an_earlier_deployment_of_the_same_revision_do_not_count() -> None:
    """wp:7 was deployed before and rolled back (its tasks stopped with a pull error); now it is deployed again."""
    earlier = [stopped(NEW, PULL, started_by="ecs-svc/1", n=i) for i in range(3)]
    answer = service(deployment(NEW, running=1, ident="ecs-svc/2"))
    assert decide(answer, TARGET, stopped_tasks=earlier).state == IN_PROGRESS
    ours = [stopped(NEW, PULL, started_by="ecs-svc/2", n=i) for i in range(3)]
    assert decide(answer, TARGET, stopped_tasks=ours).state == STALLED
    standalone = [stopped(NEW, PULL, started_by="ecspress-run", n=i) for i in range(3)]  # not started by a deployment
    assert decide(answer, TARGET, stopped_tasks=standalone).state == STALLED
    # One-off tasks of the same revision (the install, `ecspress admin`: RunTask, group family:...) that exited are
    # not the deployment's failures.
    exited = "Essential container in task exited"
    one_off = [
        stopped(NEW, exited, started_by="ecspress-admin", stop_code="EssentialContainerExited", n=i) for i in range(5)
    ]
    for task in one_off:
        task["group"] = "family:wp"
    assert decide(answer, TARGET, stopped_tasks=one_off).state == IN_PROGRESS
    assert (
        decide(answer, TARGET, stopped_tasks=[stopped(OLD, PULL, started_by="", n=i) for i in range(3)]).failures == ()
    )


@pytest.mark.parametrize(
    ("task", "expected"),
    [
        (  # the kind from the stopCode alone
            {"taskArn": "t1", "stopCode": "TaskFailedToStart", "containers": []},
            TaskFailure("t1", "TaskFailedToStart", "TaskFailedToStart"),
        ),
        (  # the kind and the reason from a container's reason alone
            {"taskArn": "t2", "containers": [{"name": "a"}, {"name": "wp", "reason": "CannotPullContainerError: x"}]},
            TaskFailure("t2", "CannotPullContainerError", "CannotPullContainerError: x"),
        ),
        (  # stoppedReason wins over a container's reason
            {"taskArn": "t3", "stoppedReason": "OutOfMemoryError", "containers": [{"reason": "OOMKilled"}]},
            TaskFailure("t3", "OutOfMemory", "OutOfMemoryError"),
        ),
        (
            {
                "taskArn": "t4",
                "stoppedReason": "Essential container in task exited",
                "containers": [{"exitCode": 2}, {"exitCode": None}, {"exitCode": 0}, {"exitCode": 3}],
            },
            TaskFailure("t4", "essential container exited", "Essential container in task exited", (2, 3)),
        ),
        ({"taskArn": "t5", "containers": [{"exitCode": 0}]}, TaskFailure("t5", "task stopped", "stopped")),
        (
            {"taskArn": "t6", "stopCode": "UserInitiated", "containers": [{"exitCode": 0}]},
            TaskFailure("t6", "task stopped", "UserInitiated"),
        ),
    ],
)
def test_classify_task_names_every_field(task: dict[str, Any], expected: TaskFailure) -> None:
    assert classify_task(task) == expected


def test_only_events_since_the_wait_started_are_shown() -> None:
    from datetime import timedelta

    answer = service(deployment(NEW), events=["new event"])
    answer["events"].append({"id": "old", "createdAt": T0 - timedelta(minutes=5), "message": "(service wp) old"})
    answer["events"].append({"id": "undated", "message": "(service wp) undated"})
    assert decide(answer, TARGET, events_since=T0).events == ("(service wp) new event", "(service wp) undated")
    assert len(decide(answer, TARGET).events) == 3
