"""The wait loop of ecs_deployment_wait in fake time, on real botocore clients answered by Stubber.

Each outcome is reported at the first poll that shows it; throttled calls are retried with
backoff and give up with a clear error after the limit.
"""

from __future__ import annotations

import datetime
from typing import Any

import boto3
import botocore.exceptions
import pytest
import yaml
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.modules import ecs_deployment_wait as module
from botocore.stub import ANY, Stubber

NEW = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:7"
OLD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:6"
PARAMS = {
    "task_definition": NEW,
    "deployment_id": None,
    "timeout": 600,
    "poll_interval": 15,
    "fail_on_stalled_after": 3,
    "target_group_health": True,
}


def now() -> datetime.datetime:
    """Answers are stamped when built: the module only reads events newer than its own start."""
    return datetime.datetime.now(datetime.UTC)


PULL = "CannotPullContainerError: pull image manifest has been retried 5 time(s): ... not found"


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def deployment(
    td: str, status: str = "PRIMARY", rollout: str = "IN_PROGRESS", running: int = 0, failed: int = 0
) -> dict[str, Any]:
    return {
        "id": f"ecs-svc/{td[-1]}",
        "status": status,
        "taskDefinition": td,
        "desiredCount": 2,
        "runningCount": running,
        "pendingCount": 2 - running,
        "failedTasks": failed,
        "rolloutState": rollout,
        "rolloutStateReason": f"deployment {rollout}",
        "createdAt": now(),
        "updatedAt": now(),
    }


def service_answer(*deployments: dict[str, Any], events: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "services": [
            {
                "serviceName": "wp",
                "status": "ACTIVE",
                "taskDefinition": deployments[0]["taskDefinition"],
                "deployments": list(deployments),
                "loadBalancers": [
                    {
                        "targetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/tg/1",
                        "containerName": "wordpress",
                        "containerPort": 80,
                    }
                ],
                "events": [
                    {"id": str(i), "createdAt": now(), "message": f"(service wp) {m}"} for i, m in enumerate(events)
                ],
            }
        ],
        "failures": [],
    }


def stopped_task(n: int) -> dict[str, Any]:
    return {
        "taskArn": f"arn:aws:ecs:eu-west-1:1:task/wp/{n:032x}",
        "taskDefinitionArn": NEW,
        "lastStatus": "STOPPED",
        "stopCode": "TaskFailedToStart",
        "stoppedReason": PULL,
        "startedBy": "ecs-svc/7",
        "containers": [{"name": "wordpress", "lastStatus": "STOPPED", "reason": PULL}],
    }


class Poll:
    """One poll's worth of ECS/ELB answers."""

    def __init__(self, service: dict[str, Any], stopped: int = 0, healthy: int = 0) -> None:
        self.service, self.stopped, self.healthy = service, stopped, healthy


class Fake:
    """Stubbed ecs/elbv2 clients, a fake clock, and the count of polls answered."""

    def __init__(self, polls: list[Poll], service_deployments: bool = False) -> None:
        self.ecs, self.elbv2 = client("ecs"), client("elbv2")
        self.ecs_stub, self.elb_stub = Stubber(self.ecs), Stubber(self.elbv2)
        self.time = 0.0
        for index, poll in enumerate(polls):
            self.ecs_stub.add_response("describe_services", poll.service, {"cluster": "c", "services": ["wp"]})
            self.elb_stub.add_response(
                "describe_target_health",
                {
                    "TargetHealthDescriptions": [
                        {"Target": {"Id": f"10.0.0.{i}", "Port": 80}, "TargetHealth": {"State": "healthy"}}
                        for i in range(poll.healthy)
                    ]
                },
                {"TargetGroupArn": ANY},
            )
            arns = [stopped_task(i)["taskArn"] for i in range(poll.stopped)]
            self.ecs_stub.add_response(
                "list_tasks", {"taskArns": arns}, {"cluster": "c", "serviceName": "wp", "desiredStatus": "STOPPED"}
            )
            if arns:
                self.ecs_stub.add_response(
                    "describe_tasks",
                    {"tasks": [stopped_task(i) for i in range(poll.stopped)]},
                    {"cluster": "c", "tasks": arns},
                )
            if index == 0 and not service_deployments:
                self.ecs_stub.add_client_error(
                    "list_service_deployments", "UnknownOperationException", http_status_code=400
                )
        self.ecs_stub.activate()
        self.elb_stub.activate()
        retry = retry_decorator(delay=0.001, max_delay=0.001)
        self.poller = module.Poller(
            RetryingBotoClientWrapper(self.ecs, retry), RetryingBotoClientWrapper(self.elbv2, retry), "c", "wp"
        )

    def clock(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds

    def wait(self, check_mode: bool = False, **params: Any) -> tuple[Any, int, float, list[str], bool]:
        return module.wait(self.poller, {**PARAMS, **params}, check_mode, self.clock, self.sleep)


def rolling(running: int = 0) -> dict[str, Any]:
    return service_answer(deployment(NEW, running=running), deployment(OLD, "ACTIVE", "COMPLETED", running=2))


def test_completion_is_reported_at_the_first_poll_that_shows_it() -> None:
    done = service_answer(deployment(NEW, rollout="COMPLETED", running=2), events=("has reached a steady state.",))
    fake = Fake([Poll(rolling()), Poll(rolling(1)), Poll(done, healthy=1), Poll(done, healthy=2)])
    decision, polls, seconds, events, timed_out = fake.wait()
    assert (decision.state, polls, seconds, timed_out) == ("completed", 4, 45.0, False)
    assert "(service wp) has reached a steady state." in events
    fake.ecs_stub.assert_no_pending_responses()


def test_the_seeds_pull_failure_is_stalled_at_the_poll_with_the_third_task() -> None:
    fake = Fake([Poll(rolling(), stopped=1), Poll(rolling(), stopped=2), Poll(rolling(), stopped=3)])
    decision, polls, seconds, _, _ = fake.wait()
    assert (decision.state, polls, seconds) == ("stalled", 3, 30.0)
    assert "CannotPullContainerError" in decision.reason


def test_rollback_is_a_failure_reported_at_once() -> None:
    failed = deployment(NEW, "ACTIVE", rollout="FAILED", failed=3)
    back = service_answer(
        deployment(OLD, rollout="IN_PROGRESS"), failed, events=("rolling back to deployment ecs-svc/6.",)
    )
    fake = Fake([Poll(rolling()), Poll(back, stopped=2)])
    decision, polls, _, _, _ = fake.wait()
    assert (decision.state, polls) == ("rolled_back", 2)
    result = module.result_of(decision, polls, 15.0, [], False)
    assert result["failed_count"] == 3 and result["stopped_tasks"][0]["kind"] == "CannotPullContainerError"


def test_timeout_after_the_limit_with_events() -> None:
    fake = Fake([Poll(rolling()) for _ in range(6)])
    decision, polls, seconds, _, timed_out = fake.wait(timeout=60)
    assert timed_out and polls == 5 and seconds == 60.0  # polls at 0, 15, 30, 45 and 60 s
    assert module.result_of(decision, polls, seconds, [], timed_out)["state"] == "timeout"


def test_check_mode_polls_once_and_does_not_wait() -> None:
    fake = Fake([Poll(rolling())])
    decision, polls, seconds, _, _ = fake.wait(check_mode=True)
    assert (decision.state, polls, seconds) == ("in_progress", 1, 0.0)


def test_service_deployments_api_is_asked_once_then_the_fallback_is_used() -> None:
    fake = Fake([Poll(rolling()), Poll(rolling())], service_deployments=False)
    fake.wait(timeout=20)
    assert fake.poller.service_deployments_available is False
    fake.ecs_stub.assert_no_pending_responses()


def test_throttling_is_retried_with_backoff() -> None:
    ecs = client("ecs")
    stub = Stubber(ecs)
    for _ in range(2):
        stub.add_client_error("describe_services", "ThrottlingException", http_status_code=400)
    stub.add_response("describe_services", {"services": [], "failures": []})
    stub.activate()
    retry = retry_decorator(delay=0.001, max_delay=0.001)
    poller = module.Poller(RetryingBotoClientWrapper(ecs, retry), None, "c", "wp")
    assert poller.describe_service() is None
    stub.assert_no_pending_responses()


def test_throttling_gives_up_after_the_limit() -> None:
    ecs = client("ecs")
    stub = Stubber(ecs)
    for _ in range(9):  # one more than the 8 calls made: the first and 7 retries
        stub.add_client_error("describe_services", "ThrottlingException", "Rate exceeded", http_status_code=400)
    stub.activate()
    retry = retry_decorator(delay=0.001, max_delay=0.001)
    poller = module.Poller(RetryingBotoClientWrapper(ecs, retry), None, "c", "wp")
    with pytest.raises(botocore.exceptions.ClientError, match="Rate exceeded"):
        poller.describe_service()


def test_return_documentation_matches_the_result() -> None:
    documented = set(yaml.safe_load(module.RETURN))
    fake = Fake([Poll(rolling())])
    decision, polls, seconds, events, timed_out = fake.wait(check_mode=True)
    assert set(module.result_of(decision, polls, seconds, events, timed_out)) - {"changed"} == documented


class Refused(Exception):
    """What fail_json raises here: validation ends the module before any AWS call."""


class ModuleWithParams:
    def __init__(self, **params: Any) -> None:
        self.params = {**PARAMS, **params}

    def fail_json(self, msg: str, **_: Any) -> None:
        raise Refused(msg)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("timeout", 0, "timeout must be greater than 0, got 0"),
        ("timeout", -30, "timeout must be greater than 0, got -30"),
        ("poll_interval", 0, "poll_interval must be greater than 0, got 0"),
        ("fail_on_stalled_after", 0, "fail_on_stalled_after must be at least 1, got 0"),
    ],
)
def test_non_positive_limits_are_refused_naming_the_option(option: str, value: int, message: str) -> None:
    with pytest.raises(Refused, match=message):
        module.validate(ModuleWithParams(**{option: value}))  # type: ignore[arg-type]


def test_service_deployment_is_matched_through_its_target_service_revision() -> None:
    """ServiceDeployments name a service revision, not a task definition: the revision is looked up."""
    ecs = client("ecs")
    stub = Stubber(ecs)
    base = "arn:aws:ecs:eu-west-1:123456789012"
    deployments = {
        f"{base}:service-deployment/c/wp/new": f"{base}:service-revision/c/wp/2",
        f"{base}:service-deployment/c/wp/old": f"{base}:service-revision/c/wp/1",
    }
    stub.add_response(
        "list_service_deployments",
        {"serviceDeployments": [{"serviceDeploymentArn": arn} for arn in deployments]},
        {"cluster": "c", "service": "wp"},
    )
    stub.add_response(
        "describe_service_deployments",
        {
            "serviceDeployments": [
                {"serviceDeploymentArn": arn, "status": "IN_PROGRESS", "targetServiceRevision": {"arn": revision}}
                for arn, revision in deployments.items()
            ]
        },
        {"serviceDeploymentArns": list(deployments)},
    )
    stub.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {"serviceRevisionArn": f"{base}:service-revision/c/wp/2", "taskDefinition": NEW},
                {"serviceRevisionArn": f"{base}:service-revision/c/wp/1", "taskDefinition": OLD},
            ]
        },
        {"serviceRevisionArns": list(deployments.values())},
    )
    stub.activate()
    retry = retry_decorator(delay=0.001, max_delay=0.001)
    poller = module.Poller(RetryingBotoClientWrapper(ecs, retry), None, "c", "wp")
    found = poller.service_deployment(module.Target(NEW, None))
    assert found is not None and found["serviceDeploymentArn"].endswith("/new")
    stub.assert_no_pending_responses()
