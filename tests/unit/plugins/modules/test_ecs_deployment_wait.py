"""The wait loop of ecs_deployment_wait in fake time, on real botocore clients answered by Stubber.

Each outcome is reported at the first poll that shows it; throttled calls are retried with
backoff and give up with a clear error after the limit.
"""

from __future__ import annotations

import datetime
import json
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
    "max_poll_interval": None,
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


BASE = "arn:aws:ecs:eu-west-1:123456789012"


def brief(name: str, revision: int, status: str, created: datetime.datetime) -> dict[str, Any]:
    """A ListServiceDeployments entry (ServiceDeploymentBrief)."""
    return {
        "serviceDeploymentArn": f"{BASE}:service-deployment/c/wp/{name}",
        "targetServiceRevisionArn": f"{BASE}:service-revision/c/wp/{revision}",
        "status": status,
        "createdAt": created,
    }


def revisions(*pairs: tuple[int, str]) -> dict[str, Any]:
    return {
        "serviceRevisions": [
            {"serviceRevisionArn": f"{BASE}:service-revision/c/wp/{n}", "taskDefinition": td} for n, td in pairs
        ]
    }


def stubbed_ecs() -> tuple[Any, Stubber, module.Poller]:
    ecs = client("ecs")
    stub = Stubber(ecs)
    retry = retry_decorator(delay=0.001, max_delay=0.001)
    return ecs, stub, module.Poller(RetryingBotoClientWrapper(ecs, retry), None, "c", "wp")


LIST = {"cluster": "c", "service": "wp", "createdAt": ANY, "maxResults": 100}


def test_service_deployment_is_matched_through_its_target_service_revision() -> None:
    """ServiceDeployments name a service revision, not a task definition: the revision is looked up."""
    _, stub, poller = stubbed_ecs()
    since = now() - datetime.timedelta(seconds=5)
    new, old = brief("new", 2, "IN_PROGRESS", now()), brief("old", 1, "IN_PROGRESS", now())
    stub.add_response("list_service_deployments", {"serviceDeployments": [old, new]}, LIST)
    stub.add_response(
        "describe_service_revisions",
        revisions((1, OLD), (2, NEW)),
        {"serviceRevisionArns": [old["targetServiceRevisionArn"], new["targetServiceRevisionArn"]]},
    )
    described = {
        "serviceDeploymentArn": new["serviceDeploymentArn"],
        "targetServiceRevision": {"arn": new["targetServiceRevisionArn"]},
        "status": "IN_PROGRESS",
        "statusReason": "described",
    }
    stub.add_response(
        "describe_service_deployments",
        {"serviceDeployments": [described]},
        {"serviceDeploymentArns": [new["serviceDeploymentArn"]]},
    )
    stub.activate()
    found = poller.service_deployment(NEW, since)
    assert found is not None and found["serviceDeploymentArn"].endswith("/new") and found["statusReason"] == "described"
    stub.assert_no_pending_responses()


def test_every_page_of_list_service_deployments_is_read() -> None:
    """ECS answers 20 (at most 100) per page: ours can be on the second one."""
    _, stub, poller = stubbed_ecs()
    since = now() - datetime.timedelta(seconds=5)
    others = [brief(f"other{i}", 1, "IN_PROGRESS", now()) for i in range(2)]
    ours = brief("ours", 2, "IN_PROGRESS", now())
    stub.add_response("list_service_deployments", {"serviceDeployments": others, "nextToken": "page2"}, LIST)
    stub.add_response("list_service_deployments", {"serviceDeployments": [ours]}, {**LIST, "nextToken": "page2"})
    stub.add_response("describe_service_revisions", revisions((1, OLD), (2, NEW)), {"serviceRevisionArns": ANY})
    stub.add_response(
        "describe_service_deployments",
        {"serviceDeployments": [{"serviceDeploymentArn": ours["serviceDeploymentArn"]}]},
        {"serviceDeploymentArns": [ours["serviceDeploymentArn"]]},
    )
    stub.activate()
    found = poller.service_deployment(NEW, since)
    assert found is not None and found["serviceDeploymentArn"].endswith("/ours")
    stub.assert_no_pending_responses()


def test_an_old_rollback_successful_of_the_same_revision_is_history() -> None:
    """An earlier deploy of the same revision was rolled back; ours (created since the wait began) is not visible."""
    _, stub, poller = stubbed_ecs()
    since = now() - datetime.timedelta(seconds=5)
    old = brief("old", 2, "ROLLBACK_SUCCESSFUL", now() - datetime.timedelta(hours=1))
    stub.add_response("list_service_deployments", {"serviceDeployments": [old]}, LIST)
    stub.activate()
    assert poller.service_deployment(NEW, since) is None  # not visible yet: in progress, never "rolled back"
    stub.assert_no_pending_responses()


def test_the_newest_of_ours_wins_whatever_order_ecs_lists_them_in() -> None:
    _, stub, poller = stubbed_ecs()
    since = now() - datetime.timedelta(seconds=5)
    earlier = brief("earlier", 2, "STOPPED", now())
    newest = brief("newest", 3, "IN_PROGRESS", now() + datetime.timedelta(seconds=1))
    stub.add_response("list_service_deployments", {"serviceDeployments": [earlier, newest]}, LIST)
    stub.add_response(
        "describe_service_revisions",
        revisions((3, NEW), (2, NEW)),
        {"serviceRevisionArns": [newest["targetServiceRevisionArn"], earlier["targetServiceRevisionArn"]]},
    )
    stub.add_response("describe_service_deployments", {"serviceDeployments": []}, {"serviceDeploymentArns": ANY})
    stub.activate()
    found = poller.service_deployment(NEW, since)
    assert found is not None and found["serviceDeploymentArn"].endswith("/newest")  # the brief, when not described


@pytest.mark.parametrize(
    ("operation", "code", "status"),
    [
        ("list_service_deployments", "UnsupportedFeatureException", 400),
        ("list_service_deployments", "AccessDeniedException", 400),
        ("list_service_deployments", "UnknownOperationException", 400),
        ("list_service_deployments", "NotFound", 404),
        ("describe_service_revisions", "UnsupportedFeatureException", 400),
        ("describe_service_revisions", "AccessDeniedException", 400),
        ("describe_service_deployments", "AccessDeniedException", 400),
    ],
)
def test_an_unusable_service_deployments_api_falls_back_to_describe_services(
    operation: str, code: str, status: int
) -> None:
    _, stub, poller = stubbed_ecs()
    since = now() - datetime.timedelta(seconds=5)
    ours = brief("ours", 2, "IN_PROGRESS", now())
    for step in ("list_service_deployments", "describe_service_revisions", "describe_service_deployments"):
        if step == operation:
            stub.add_client_error(step, code, http_status_code=status)
            break
        answers = {
            "list_service_deployments": {"serviceDeployments": [ours]},
            "describe_service_revisions": revisions((2, NEW)),
        }
        stub.add_response(step, answers[step])
    stub.activate()
    assert poller.service_deployment(NEW, since) is None
    assert poller.service_deployments_available is False
    assert poller.unavailable == (code if status == 400 else "HTTP 404")
    assert poller.service_deployment(NEW, since) is None  # not asked again
    stub.assert_no_pending_responses()


def test_other_service_deployments_errors_are_raised() -> None:
    _, stub, poller = stubbed_ecs()
    stub.add_client_error("list_service_deployments", "ClusterNotFoundException", "Cluster not found.")
    stub.activate()
    with pytest.raises(botocore.exceptions.ClientError, match="Cluster not found"):
        poller.service_deployment(NEW, now())
    assert poller.service_deployments_available is True


def answers_of(*services: dict[str, Any]) -> Fake:
    """A Fake whose polls see these DescribeServices answers and no ServiceDeployments API."""
    fake = Fake([Poll(answer, healthy=2) for answer in services], service_deployments=True)
    fake.poller.service_deployments_available = False
    return fake


def test_a_deployment_not_visible_yet_is_in_progress_not_superseded() -> None:
    """Right after UpdateService, DescribeServices may not show the new deployment yet (eventual consistency)."""
    ours = {**deployment(NEW, rollout="COMPLETED", running=2), "id": "ecs-svc/new"}
    before = service_answer(deployment(OLD, rollout="COMPLETED", running=2))
    fake = answers_of(before, before, service_answer(ours))
    decision, polls, _, _, _ = fake.wait(task_definition=None, deployment_id="ecs-svc/new")
    assert (decision.state, polls) == ("completed", 3)


def test_a_deployment_still_invisible_after_the_grace_period_is_superseded() -> None:
    before = service_answer(deployment(OLD, rollout="COMPLETED", running=2))
    fake = answers_of(*[before] * 6)
    decision, polls, seconds, _, _ = fake.wait(task_definition=None, deployment_id="ecs-svc/new", poll_interval=15)
    assert (decision.state, polls, seconds) == ("superseded", 5, 60.0)  # polls at 0, 15, 30, 45 (grace) and 60 s
    assert decision.reason == "deployment ecs-svc/new is gone from the service"


def test_the_deployment_id_bounds_the_service_deployment_history() -> None:
    """With deployment_id, ServiceDeployments created from 1 s before ours count (ecs_deploy ran before the wait)."""
    created = now() - datetime.timedelta(minutes=2)
    ours = {**deployment(NEW, rollout="COMPLETED", running=2), "id": "ecs-svc/new", "createdAt": created}
    seen: list[tuple[str | None, datetime.datetime]] = []

    class Recording(module.Poller):
        def service_deployment(self, task_definition: str | None, since: datetime.datetime) -> None:
            seen.append((task_definition, since))

    fake = answers_of(service_answer(ours))
    poller = Recording(fake.poller.ecs, fake.poller.elbv2, "c", "wp")
    decision = module.poll_once(poller, module.Target(None, "ecs-svc/new"), PARAMS, now())
    assert decision.state == "completed"
    assert seen == [(NEW, created - datetime.timedelta(seconds=1))]


def test_without_a_target_no_service_deployment_is_looked_up() -> None:
    answer = service_answer(deployment(NEW, rollout="COMPLETED", running=2))
    fake = Fake([Poll(answer, healthy=2)], service_deployments=True)  # an unstubbed ECS call would raise
    decision = module.poll_once(fake.poller, module.Target(), PARAMS, now())
    assert decision.state == "completed"
    fake.ecs_stub.assert_no_pending_responses()


def test_the_poll_interval_grows_to_its_maximum() -> None:
    fake = Fake([Poll(rolling()) for _ in range(7)])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        fake.time += seconds

    module.wait(
        fake.poller, {**PARAMS, "poll_interval": 4, "max_poll_interval": 10, "timeout": 45}, False, fake.clock, sleep
    )
    assert sleeps == [4.0, 6.0, 9.0, 10.0, 10.0]
    assert module.next_interval(10, {"max_poll_interval": None}) == 10.0


RunModule = Any


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunModule:
    """main() with patched module arguments, as amazon.aws tests run modules; the wait itself is replaced."""
    from ansible.module_utils.testing import patch_module_args

    waited: list[dict[str, Any]] = []

    def fake_wait(poller: Any, params: dict[str, Any], check_mode: bool) -> tuple[Any, int, float, list[str], bool]:
        waited.append(dict(params))
        answer = service_answer(deployment(NEW, rollout="COMPLETED", running=2))["services"][0]
        return module.decide(answer, module.Target(NEW)), 1, 0.0, [], False

    monkeypatch.setattr(module, "wait", fake_wait)

    def run(**args: Any) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
        module_args = {
            "cluster": "c",
            "service": "wp",
            "region": "eu-west-1",
            "access_key": "AKIDTESTING",
            "secret_key": "not-a-real-secret-key",
        }
        with patch_module_args({**module_args, **args}), pytest.raises(SystemExit) as exit_info:
            module.main()
        return int(exit_info.value.code or 0), json.loads(capsys.readouterr().out), waited

    return run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"poll_interval": 0}, "poll_interval must be greater than 0, got 0"),
        ({"timeout": -1}, "timeout must be greater than 0, got -1"),
        ({"fail_on_stalled_after": 0}, "fail_on_stalled_after must be at least 1, got 0"),
        ({"poll_interval": 10, "max_poll_interval": 5}, "max_poll_interval must be at least poll_interval (10), got 5"),
    ],
)
def test_main_refuses_bad_limits_before_polling(run_module: RunModule, args: dict[str, Any], message: str) -> None:
    """Without validate() in main, poll_interval 0 would busy-poll ECS."""
    rc, result, waited = run_module(task_definition=NEW, **args)
    assert rc == 1 and result["failed"] is True
    assert result["msg"] == message
    assert waited == []


def test_main_waits_with_valid_limits(run_module: RunModule) -> None:
    rc, result, waited = run_module(deployment_id="ecs-svc/7", poll_interval=1, max_poll_interval=2)
    assert rc == 0 and result["state"] == "completed" and result["changed"] is False
    assert [(w["deployment_id"], w["poll_interval"], w["max_poll_interval"]) for w in waited] == [("ecs-svc/7", 1, 2)]
