"""The local stack's ECS rollout model, driven through the real AWS API of a private moto server.

A deployment completes when its image can really be pulled from the local registry, and fails
with CannotPullContainerError (then circuit-breaker FAILED and a rollback) when it cannot.
The service history (ListServiceDeployments and friends) keeps old deployments and, under a switch,
hides a new one for a while; ecs_deployment_wait's poller must still pick the right one.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.modules import ecs_deployment_wait as wait_module

from ecspress.local import ecs_rollout, stack
from tests.conftest import FargateService, MotoServer, push_test_manifest, start_moto

pytestmark = pytest.mark.stack
STEP = 0.5
MISSING = "sha256:" + "0" * 64


@pytest.fixture(scope="module")
def rollout_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start_moto(tmp_path_factory.mktemp("rollout") / "moto.log", {"ECSPRESS_LOCAL_ROLLOUT_SECONDS": str(STEP)})
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def pushed_digest() -> str:
    return push_test_manifest("ecspress-test/rollout", "v1")


def registry_image(digest: str) -> str:
    return f"127.0.0.1:{stack.REGISTRY_PORT}/ecspress-test/rollout@{digest}"


def test_good_image_completes(rollout_moto: MotoServer, pushed_digest: str) -> None:
    service = FargateService(rollout_moto, "good")
    service.create(service.task_definition(registry_image(pushed_digest)))
    first = service.describe()["deployments"]
    assert [(d["status"], d["rolloutState"]) for d in first] == [("PRIMARY", "IN_PROGRESS")]
    done = service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    assert done["runningCount"] == 2 and done["deployments"][0]["runningCount"] == 2
    assert any("has reached a steady state" in event["message"] for event in done["events"])


def test_update_starts_a_new_primary_and_drains_the_old(rollout_moto: MotoServer, pushed_digest: str) -> None:
    service = FargateService(rollout_moto, "update")
    first = service.task_definition(registry_image(pushed_digest))
    service.create(first)
    service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    second = service.task_definition(registry_image(pushed_digest))
    service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=second)
    during = service.describe()["deployments"]
    assert [(d["status"], d["taskDefinition"]) for d in during] == [("PRIMARY", second), ("ACTIVE", first)]
    done = service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    assert [d["taskDefinition"] for d in done["deployments"]] == [second]
    assert done["taskDefinition"] == second


def test_missing_image_fails_and_rolls_back(rollout_moto: MotoServer, pushed_digest: str) -> None:
    service = FargateService(rollout_moto, "bad")
    good = service.task_definition(registry_image(pushed_digest))
    service.create(good)
    service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    bad = service.task_definition(registry_image(MISSING))
    service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=bad)
    rolled = service.wait_for(
        lambda s: any(d["rolloutState"] == "FAILED" for d in s["deployments"]) and s["taskDefinition"] == good
    )
    failed = next(d for d in rolled["deployments"] if d["rolloutState"] == "FAILED")
    assert failed["taskDefinition"] == bad
    assert failed["failedTasks"] == ecs_rollout.failure_threshold(2) == 3
    messages = [event["message"] for event in rolled["events"]]
    assert any("deployment failed: tasks failed to start" in m for m in messages)
    assert any("rolling back to deployment" in m for m in messages)
    stopped = service.ecs.list_tasks(cluster=service.cluster, desiredStatus="STOPPED")["taskArns"]
    tasks = service.ecs.describe_tasks(cluster=service.cluster, tasks=stopped)["tasks"]
    assert len(tasks) == 3
    for task in tasks:
        assert task["stopCode"] == "TaskFailedToStart"
        assert task["stoppedReason"].startswith("CannotPullContainerError")
        assert MISSING in task["stoppedReason"]
        assert task["taskDefinitionArn"] == bad
    back = service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    assert back["deployments"][0]["taskDefinition"] == good


def test_without_circuit_breaker_tasks_keep_failing(rollout_moto: MotoServer) -> None:
    service = FargateService(rollout_moto, "loop", circuit_breaker=False)
    service.create(service.task_definition(registry_image(MISSING)), desired=1)
    looping = service.wait_for(lambda s: s["deployments"][0]["failedTasks"] >= 5)
    assert looping["deployments"][0]["rolloutState"] == "IN_PROGRESS"


def test_foreign_registry_cannot_be_reached(rollout_moto: MotoServer) -> None:
    service = FargateService(rollout_moto, "foreign")
    service.create(service.task_definition("registry.example.com/wordpress:latest"), desired=1)
    failing = service.wait_for(lambda s: s["deployments"][0]["failedTasks"] >= 1)
    assert failing["deployments"][0]["rolloutState"] in {"IN_PROGRESS", "FAILED"}


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("127.0.0.1:5000/a/b@sha256:ab", ("127.0.0.1:5000", "a/b", "sha256:ab")),
        ("127.0.0.1:5000/a/b:v1", ("127.0.0.1:5000", "a/b", "v1")),
        ("127.0.0.1:5000/a/b", ("127.0.0.1:5000", "a/b", "latest")),
        ("wordpress:6", ("docker.io", "library/wordpress", "6")),
        ("1.dkr.ecr.us-east-1.amazonaws.com/wp@sha256:1", ("1.dkr.ecr.us-east-1.amazonaws.com", "wp", "sha256:1")),
    ],
)
def test_split_image(image: str, expected: tuple[str, str, str]) -> None:
    assert ecs_rollout.split_image(image) == expected


# --- service history: ListServiceDeployments with old deployments, and the eventual-consistency window ---------

VISIBILITY_DELAY = 2.0
ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"


@pytest.fixture(scope="module")
def history_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A private moto whose new service deployments stay invisible for VISIBILITY_DELAY seconds."""
    server = start_moto(
        tmp_path_factory.mktemp("history") / "moto.log",
        {
            "ECSPRESS_LOCAL_ROLLOUT_SECONDS": str(STEP),
            "ECSPRESS_LOCAL_DEPLOYMENT_VISIBILITY_DELAY": str(VISIBILITY_DELAY),
        },
    )
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def ecr_image(server: MotoServer, repository: str, tag: str, push: bool = True) -> str:
    """An image URI in moto's ECR (no registry needed): pullable once pushed."""
    ecr = server.client("ecr")
    with contextlib.suppress(ecr.exceptions.RepositoryAlreadyExistsException):
        ecr.create_repository(repositoryName=repository)
    if push:
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "tag": tag}
        ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
    return f"{ECR_HOST}/{repository}:{tag}"


def rolled_back_once(server: MotoServer, name: str) -> tuple[FargateService, str, str]:
    """A service on revision 1 whose deploy of revision 2 failed (image not pushed yet) and was rolled back."""
    service = FargateService(server, name)
    first = service.task_definition(ecr_image(server, name, "v1"))
    service.create(first, desired=1)
    service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED")
    second = service.task_definition(ecr_image(server, name, "v2", push=False))
    service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=second)
    service.wait_for(lambda s: s["taskDefinition"] == first and s["deployments"][0]["rolloutState"] == "COMPLETED")
    ecr_image(server, name, "v2")  # now pushed: the same revision 2 can be deployed again
    return service, first, second


def all_service_deployments(service: FargateService, page_size: int) -> list[dict[str, Any]]:
    found, request = [], {"cluster": service.cluster, "service": service.name, "maxResults": page_size}
    while True:
        page = service.ecs.list_service_deployments(**request)
        found += page["serviceDeployments"]
        if "nextToken" not in page:
            return found
        request["nextToken"] = page["nextToken"]


def task_definitions_of(service: FargateService, listed: list[dict[str, Any]]) -> list[str]:
    arns = [d["targetServiceRevisionArn"] for d in listed]
    revisions = service.ecs.describe_service_revisions(serviceRevisionArns=arns)["serviceRevisions"]
    by_arn = {r["serviceRevisionArn"]: r["taskDefinition"] for r in revisions}
    return [by_arn[arn] for arn in arns]


def test_history_keeps_old_deployments_newest_first_across_pages(history_moto: MotoServer) -> None:
    service, first, second = rolled_back_once(history_moto, "history")
    service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=second)
    service.wait_for(lambda s: s["taskDefinition"] == second and s["deployments"][0]["rolloutState"] == "COMPLETED")
    time.sleep(VISIBILITY_DELAY)
    listed = all_service_deployments(service, page_size=2)
    assert [d["status"] for d in listed] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "SUCCESSFUL"]
    assert task_definitions_of(service, listed) == [second, second, first]
    assert [d["createdAt"] for d in listed] == sorted((d["createdAt"] for d in listed), reverse=True)
    rolled = service.ecs.describe_service_deployments(
        serviceDeploymentArns=[listed[1]["serviceDeploymentArn"], "arn:aws:ecs:us-east-1:123456789012:nope"]
    )
    (described,) = rolled["serviceDeployments"]
    assert described["rollback"]["serviceRevisionArn"] and described["deploymentCircuitBreaker"]["failureCount"] == 3
    assert rolled["failures"] == [{"arn": "arn:aws:ecs:us-east-1:123456789012:nope", "reason": "MISSING"}]
    only_rollbacks = service.ecs.list_service_deployments(
        cluster=service.cluster, service=service.name, status=["ROLLBACK_SUCCESSFUL"]
    )["serviceDeployments"]
    assert [d["serviceDeploymentArn"] for d in only_rollbacks] == [listed[1]["serviceDeploymentArn"]]
    recent = service.ecs.list_service_deployments(
        cluster=service.cluster, service=service.name, createdAt={"after": listed[1]["createdAt"]}
    )["serviceDeployments"]
    assert [d["status"] for d in recent] == ["SUCCESSFUL", "ROLLBACK_SUCCESSFUL"]


@pytest.mark.parametrize("by", ["task_definition", "deployment_id"])
def test_the_wait_picks_our_deployment_past_an_old_rollback_and_the_invisibility_window(
    history_moto: MotoServer, by: str
) -> None:
    """ecs_deployment_wait's own poller and decision, on the stand-in: revision 2 was rolled back before.

    Right after UpdateService ListServiceDeployments shows the old ROLLBACK_SUCCESSFUL of revision 2 and not
    the new deployment; the wait must neither take the old one for ours nor call the rollout superseded.
    """
    service, _, second = rolled_back_once(history_moto, f"trap-{by.replace('_', '-')}")
    # The old ROLLBACK_SUCCESSFUL is visible, and older than the wait's clock-skew allowance (on ECS a failed
    # rollout and its rollback take minutes, here seconds).
    time.sleep(max(VISIBILITY_DELAY, wait_module.CLOCK_SKEW.total_seconds()) + 0.5)
    updated = service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=second)
    started = next(d["id"] for d in updated["service"]["deployments"] if d["status"] == "PRIMARY")
    listed = service.ecs.list_service_deployments(cluster=service.cluster, service=service.name)["serviceDeployments"]
    assert [d["status"] for d in listed][:1] == ["ROLLBACK_SUCCESSFUL"]  # the trap: ours is not listed yet
    assert task_definitions_of(service, listed[:1]) == [second]

    retry = retry_decorator(delay=0.1, max_delay=0.5)
    poller = wait_module.Poller(RetryingBotoClientWrapper(service.ecs, retry), None, service.cluster, service.name)
    params = {
        "task_definition": second if by == "task_definition" else None,
        "deployment_id": started if by == "deployment_id" else None,
        "timeout": 30,
        "poll_interval": 1,
        "max_poll_interval": 1,
        "fail_on_stalled_after": 3,
        "target_group_health": False,
    }
    decision, _, _, _, timed_out = wait_module.wait(poller, params, check_mode=False)
    assert (decision.state, timed_out) == ("completed", False), decision.reason
    assert decision.ours["id"] == started
    assert poller.service_deployments_available is True

    time.sleep(VISIBILITY_DELAY)  # now ours is listed too, newest first, and it is the one picked
    since = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    picked = poller.service_deployment(second, since)
    assert picked is not None and picked["status"] == "SUCCESSFUL"
    assert picked["serviceDeploymentArn"] == all_service_deployments(service, 20)[0]["serviceDeploymentArn"]
