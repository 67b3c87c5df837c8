"""The local stand-in stack really runs: dockerd answers, moto answers STS, the registry takes a push.

These tests use the stack `make test` started (`ecspress-local start`), plus a private copy on
free ports to prove start is idempotent and stop stops only what it started.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from ecspress.local import stack
from tests.conftest import free_port

pytestmark = pytest.mark.stack
MOTO = f"http://127.0.0.1:{stack.MOTO_PORT}"
REGISTRY_HOST = f"127.0.0.1:{stack.REGISTRY_PORT}"


def run_local(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ecspress.local.stack", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
    )


def docker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=300, check=True, env={**os.environ, **(env or {})}
    )


def test_docker_engine_answers() -> None:
    assert stack.docker_answers()


def test_moto_answers_an_sts_call() -> None:
    sts = boto3.client(
        "sts", endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    assert sts.get_caller_identity()["Account"] == stack.LOCAL_ACCOUNT_ID


def test_registry_refuses_anonymous_pushes() -> None:
    import requests

    assert requests.get(f"http://{REGISTRY_HOST}/v2/", timeout=5).status_code == 401


def test_registry_accepts_a_push_with_the_ecr_token(tmp_path: Path) -> None:
    ecr = boto3.client(
        "ecr", endpoint_url=MOTO, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, password = base64.b64decode(token).decode().split(":", 1)
    env = {"DOCKER_CONFIG": str(tmp_path)}
    subprocess.run(
        ["docker", "login", REGISTRY_HOST, "-u", user, "--password-stdin"],
        input=password,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **env},
    )
    source = stack.image_id(stack.DEFAULT_BASE_IMAGE)
    assert source, "the base image is missing: run `ecspress-local start`"
    target = f"{REGISTRY_HOST}/ecspress-test/stack:push"
    docker("tag", stack.DEFAULT_BASE_IMAGE, target)
    docker("push", target, env=env)
    digest = json.loads(docker("image", "inspect", target).stdout)[0]["RepoDigests"][0]
    subprocess.run(["docker", "rmi", target], capture_output=True, check=True)
    assert stack.image_id(digest) is None, "the pushed reference must be gone locally before pulling it back"
    docker("pull", digest, env=env)
    assert stack.image_id(digest) == source
    docker("rmi", digest)


def test_base_image_is_slim_and_gets_security_updates() -> None:
    out = docker(
        "run",
        "--rm",
        stack.DEFAULT_BASE_IMAGE,
        "sh",
        "-c",
        "ls /var/lib/apt/lists | wc -l; ls /usr/share/doc | wc -l; cat /etc/apt/sources.list.d/*.sources",
    ).stdout
    lists, docs, *sources = out.splitlines()
    assert lists.strip() == "0" and docs.strip() == "0"
    assert any(line.startswith("Suites:") and "-security" in line for line in sources)


def test_start_is_idempotent_and_stop_stops_only_what_it_started(tmp_path: Path) -> None:
    env = {
        "ECSPRESS_STATE_DIR": str(tmp_path),
        "ECSPRESS_MOTO_PORT": str(free_port()),
        "ECSPRESS_REGISTRY_PORT": str(free_port()),
    }
    first = run_local("start", env=env)
    assert first.returncode == 0, first.stderr
    state = stack.load_state(tmp_path / "local")
    ours = {name: c.pid for name, c in state.items() if c.started_by_us and c.pid}
    assert set(ours) == {"moto", "registry", "registry-gate"}, first.stdout
    assert not state["dockerd"].started_by_us  # the engine of `make test` runs already: not ours
    assert "started" in first.stdout

    second = run_local("start", env=env)
    assert second.returncode == 0, second.stderr
    assert "started" not in second.stdout
    assert {n: c.pid for n, c in stack.load_state(tmp_path / "local").items() if c.started_by_us and c.pid} == ours

    stopped = run_local("stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert not any(stack.pid_alive(pid) for pid in ours.values())
    assert stack.docker_answers(), "stop must leave an engine it did not start alone"
    assert stack.moto_answers(MOTO), "stop must leave the main stack alone"


def test_a_foreign_process_on_the_port_is_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {
            "ECSPRESS_STATE_DIR": str(tmp_path),
            "ECSPRESS_MOTO_PORT": str(port),
            "ECSPRESS_REGISTRY_PORT": str(free_port()),
        }
        result = run_local("start", env=env)
    assert result.returncode == 2
    assert f"127.0.0.1:{port} is taken" in result.stderr
