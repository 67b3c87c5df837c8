"""ECR tag immutability on the local registry: a push of an existing tag to an IMMUTABLE repository fails.

Each test runs its own moto (ECR's control plane), docker-registry and gate on free ports, so it
never touches the local stack's registry. The rule and its AWS page: ecspress.local.registry_gate.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from ecspress.local import stack
from ecspress.local.registry_gate import immutable_tag_message
from tests.conftest import MotoServer, free_port, push_test_manifest, wait_for_port


@dataclass
class GatedRegistry:
    address: str  # host:port where pushes go (the gate)
    registry: str  # host:port of the registry behind it


def _spawn(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def gated(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatedRegistry]:
    binary = shutil.which("docker-registry")
    if binary is None:
        pytest.skip("docker-registry is not installed (make stack installs it)")
    folder = tmp_path_factory.mktemp("gated-registry")
    registry_port, gate_port = free_port(), free_port()
    registry = _spawn([binary, "serve", str(stack.registry_config(folder, registry_port))], folder / "registry.log")
    gate = _spawn(
        [
            sys.executable,
            "-m",
            "ecspress.local.registry_gate",
            "--port",
            str(gate_port),
            "--upstream",
            f"http://127.0.0.1:{registry_port}",
            "--ecr-endpoint",
            moto_server.url,
        ],
        folder / "gate.log",
    )
    try:
        wait_for_port(registry_port)
        wait_for_port(gate_port)
        yield GatedRegistry(f"127.0.0.1:{gate_port}", f"127.0.0.1:{registry_port}")
    finally:
        for process in (gate, registry):
            process.terminate()
            process.wait(timeout=10)


def repository(moto: MotoServer, mutability: str) -> str:
    name = f"gate-{mutability.lower()}-{uuid.uuid4().hex[:6]}/wordpress"
    moto.client("ecr").create_repository(repositoryName=name, imageTagMutability=mutability)
    return name


def test_immutable_repository_refuses_a_second_push_of_a_tag(gated: GatedRegistry, moto_server: MotoServer) -> None:
    name = repository(moto_server, "IMMUTABLE")
    first = push_test_manifest(name, "v1", registry=gated.address)
    with pytest.raises(requests.HTTPError) as refused:
        push_test_manifest(name, "v1", registry=gated.address)
    assert refused.value.response.status_code == 400
    assert refused.value.response.json() == {
        "errors": [{"code": "TAG_INVALID", "message": immutable_tag_message(name, "v1")}]
    }
    assert immutable_tag_message(name, "v1") == (
        f"The image tag 'v1' already exists in the '{name}' repository "
        "and cannot be overwritten because the repository is immutable."
    )
    assert push_test_manifest(name, "v2", registry=gated.address) != ""  # a new tag is fine
    held = requests.head(
        f"http://{gated.address}/v2/{name}/manifests/v1",
        auth=(stack.REGISTRY_USER, stack.REGISTRY_PASSWORD),
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"},
        timeout=10,
    )
    assert held.headers["Docker-Content-Digest"] == first


def test_plain_registry_overwrites_the_tag_of_an_immutable_repository(
    gated: GatedRegistry, moto_server: MotoServer
) -> None:
    """Why the gate exists: Debian's docker-registry alone keeps every tag mutable."""
    name = repository(moto_server, "IMMUTABLE")
    push_test_manifest(name, "v1", registry=gated.registry)
    push_test_manifest(name, "v1", registry=gated.registry)


def test_mutable_repository_accepts_the_same_tag_again(gated: GatedRegistry, moto_server: MotoServer) -> None:
    name = repository(moto_server, "MUTABLE")
    assert push_test_manifest(name, "v1", registry=gated.address) == push_test_manifest(
        name, "v1", registry=gated.address
    )


def tiny_image_tar(content: str) -> bytes:
    data = content.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        member = tarfile.TarInfo("hello.txt")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.docker
def test_docker_push_of_an_existing_tag_to_an_immutable_repository_fails(
    gated: GatedRegistry, moto_server: MotoServer, tmp_path: Path
) -> None:
    """The product's own path: `docker push` through the gate, as to ECR."""
    name = repository(moto_server, "IMMUTABLE")
    reference = f"{gated.address}/{name}:v1"
    env = {**os.environ, "DOCKER_CONFIG": str(tmp_path / "docker")}

    def docker(*args: str, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["docker", *args], input=data, capture_output=True, env=env, timeout=120, check=False)

    login = docker(
        "login", "-u", stack.REGISTRY_USER, "--password-stdin", gated.address, data=stack.REGISTRY_PASSWORD.encode()
    )
    assert login.returncode == 0, login.stderr
    try:
        assert docker("import", "-", reference, data=tiny_image_tar("one")).returncode == 0
        first = docker("push", reference)
        assert first.returncode == 0, first.stderr
        assert docker("import", "-", reference, data=tiny_image_tar("two")).returncode == 0
        second = docker("push", reference)
        assert second.returncode == 1
        assert f"tag invalid: {immutable_tag_message(name, 'v1')}" in second.stderr.decode()
    finally:
        docker("rmi", "-f", reference)
