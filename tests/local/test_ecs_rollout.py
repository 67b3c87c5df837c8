"""The local stack's ECS rollout model, driven through the real AWS API of a private moto server.

A deployment completes when its image can really be pulled from the local registry, and fails
with CannotPullContainerError (then circuit-breaker FAILED and a rollback) when it cannot.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
