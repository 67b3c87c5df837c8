"""No Docker engine: `ecspress doctor`, `ecspress up` and the image stage say so and how to start it.

The fault is real: DOCKER_HOST names a socket file nothing listens on (what a crashed dockerd
leaves behind), so every Docker client of the run gets "connection refused".
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import ROOT, MotoServer, PlaybookResult, ansible_environment

pytestmark = [pytest.mark.stack]
ECSPRESS = str(Path(sys.executable).parent / "ecspress")
NAME = f"ecspress-test-noeng-{uuid.uuid4().hex[:6]}"  # names of this run's own


@pytest.fixture
def dead_engine(tmp_path: Path) -> str:
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))  # the socket file stays, nothing accepts on it
    return f"unix://{path}"


def ecspress(*args: str, docker_host: str) -> subprocess.CompletedProcess[str]:
    env = {**ansible_environment(), "DOCKER_HOST": docker_host}
    return subprocess.run(
        [ECSPRESS, *args], cwd=ROOT, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300
    )


def test_doctor_names_the_engine_and_how_to_start_it(dead_engine: str) -> None:
    result = ecspress("doctor", docker_host=dead_engine)
    assert result.returncode == 2
    line = next(line for line in result.stdout.splitlines() if "docker engine" in line)
    assert f"does not answer on {dead_engine}" in line
    assert "ecspress-local start" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_up_refuses_before_the_run(dead_engine: str) -> None:
    result = ecspress("up", docker_host=dead_engine)
    assert result.returncode == 2
    assert f"the Docker engine does not answer on {dead_engine}" in result.stderr
    assert "nothing was changed" in result.stderr
    assert "PLAY" not in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_image_stage_fails_in_one_line_and_builds_nothing(
    dead_engine: str, moto_server: MotoServer, playbook_runner: Callable[..., PlaybookResult]
) -> None:
    result = playbook_runner(
        "playbooks/image.yml",
        extravars={"ecspress_name": NAME, "ecspress_aws_endpoint_url": moto_server.url},
        env={"DOCKER_HOST": dead_engine},
    )
    assert result.rc != 0
    assert len(result.failed_tasks) == 1, result.failed_tasks
    message = result.failed_tasks[0]
    assert message.startswith("The Docker engine answers: The Docker engine does not answer at " + dead_engine)
    assert "ecspress-local start" in message and "Nothing was built, pushed or deployed" in message
    assert "Traceback" not in result.stdout
    repository = f"{NAME}/wordpress"
    images = moto_server.client("ecr").describe_images(repositoryName=repository)["imageDetails"]
    assert images == []
