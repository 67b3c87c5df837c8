"""The registry goes away while the image is pushed: the run fails naming it, nothing is deployed,
the service keeps its digest; once the registry is back, the same command completes.

Real parts: a docker-registry process of our own (same auth as the local stack's), killed with
SIGKILL the moment the push task starts; a private moto whose ECR follows that registry; an ECS
service on a first digest; playbooks/deploy.yml as `ecspress deploy` runs it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecspress.local import stack
from tests.conftest import (
    FargateService,
    MotoServer,
    PlaybookResult,
    ansible_playbook_process,
    free_port,
    push_test_manifest,
    start_moto,
)

pytestmark = [pytest.mark.docker, pytest.mark.stack, pytest.mark.slow]
Runner = Callable[..., PlaybookResult]
PUSH_TASK = "TASK [ecspress.wordpress.image_pipeline : Push]"


class Registry:
    def __init__(self, directory: Path) -> None:
        self.directory, self.port = directory, free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.pid: int | None = None

    def start(self) -> None:
        self.pid = stack.ensure_registry(self.directory, None, self.port).pid

    def kill(self) -> None:
        if self.pid and stack.pid_alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    registry = Registry(tmp_path / "registry")
    registry.directory.mkdir()
    registry.start()
    yield registry
    registry.kill()


@pytest.fixture
def moto(registry: Registry, tmp_path: Path) -> Iterator[MotoServer]:
    server = start_moto(
        tmp_path / "moto.log", {"ECSPRESS_REGISTRY_HOST": registry.host, "ECSPRESS_LOCAL_ROLLOUT_SECONDS": "0.5"}
    )
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def service_on_first_digest(moto: MotoServer, registry: Registry, name: str) -> str:
    repository = f"{name}/wordpress"
    moto.client("ecr").create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    image = f"{registry.host}/{repository}@{push_test_manifest(repository, 'first', registry=registry.host)}"
    fargate = FargateService(moto, name)
    fargate.create(fargate.task_definition(image), desired=1)
    return image


def image_of_service(moto: MotoServer, name: str) -> str:
    ecs = moto.client("ecs")
    arn = ecs.describe_services(cluster=name, services=[name])["services"][0]["taskDefinition"]
    return str(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"])


def deploy_killing_the_registry_at_push(extravars: dict[str, Any], registry: Registry) -> tuple[int, str]:
    process = ansible_playbook_process("playbooks/deploy.yml", extravars)
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        lines.append(line)
        if PUSH_TASK in line:
            registry.kill()
    return process.wait(timeout=1800), "".join(lines)


def test_registry_down_during_push_then_back(moto: MotoServer, registry: Registry, playbook_runner: Runner) -> None:
    name = f"ecspress-regdown-{uuid.uuid4().hex[:6]}"
    first = service_on_first_digest(moto, registry, name)
    extravars = {
        "ecspress_name": name,
        "ecspress_env": "dev",  # no local run: this test is about the registry and the service
        "ecspress_aws_endpoint_url": moto.url,
        "ecspress_registry_host": registry.host,
        "ecs_deploy_poll_interval": 1,
    }

    rc, output = deploy_killing_the_registry_at_push(extravars, registry)
    assert PUSH_TASK in output, output[-3000:]
    assert rc != 0
    failure = output[output.index(PUSH_TASK) :]
    assert "fatal:" in failure and registry.host in failure, failure[-3000:]
    assert "Traceback" not in output
    assert "ecs_deploy : " not in output, "nothing may be deployed after a failed push"
    assert image_of_service(moto, name) == first

    registry.start()
    again = playbook_runner("playbooks/deploy.yml", extravars=extravars)
    assert again.rc == 0, again.failed_tasks
    deployed = image_of_service(moto, name)
    assert deployed != first and deployed.startswith(f"{registry.host}/{name}/wordpress@sha256:")
    leftover = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [container for container in leftover if container.startswith(name)] == []
