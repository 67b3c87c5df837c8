"""ecspress.wordpress.container_commit against the real Docker engine, run through ansible-playbook.

The module under test talks to the engine through community.docker's API client; these tests use the
Docker SDK for Python only to set up fixtures and to look at what the module produced.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
import yaml
from docker.models.containers import Container

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "ecspress/base:trixie"
PREFIX = "ecspress-test-commit-"
CHANGES = [
    'CMD ["sleep", "infinity"]',
    "EXPOSE 80 8443/tcp",
    'ENV ECSPRESS_TEST=yes GREETING="hello world"',
    'LABEL org.opencontainers.image.source="https://example.test/ecspress" ecspress.test=commit',
    "WORKDIR /srv",
    'HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["test", "-f", "/srv/marker"]',
    "USER nobody",
]

RunCommit = Callable[..., tuple[int, dict[str, Any], str]]


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    try:
        client.ping()
        client.images.get(BASE_IMAGE)
    except (docker.errors.DockerException, OSError) as exc:
        pytest.skip(f"needs a Docker engine with {BASE_IMAGE}: {exc}")
    yield client
    client.close()


@pytest.fixture
def repository(engine: docker.DockerClient) -> Iterator[str]:
    """A unique repository name; every image tagged into it, and every image ID recorded, is removed afterwards."""
    name = f"{PREFIX}{uuid.uuid4().hex[:10]}/image"
    yield name
    for image in engine.images.list(name=name):
        _remove_image(engine, image.id)


@pytest.fixture
def image_ids(engine: docker.DockerClient, repository: str) -> Iterator[list[str]]:
    """Image IDs a test produced that may be untagged by later commits (a moved tag leaves them dangling)."""
    ids: list[str] = []
    yield ids
    for image_id in reversed(ids):  # children before their parents
        _remove_image(engine, image_id)


@pytest.fixture
def start_container(engine: docker.DockerClient, image_ids: list[str]) -> Iterator[Callable[[str], Container]]:
    """Start containers that are removed before any image of the test (a running container pins its image)."""
    started: list[Container] = []

    def start(image: str = BASE_IMAGE) -> Container:
        container = engine.containers.run(
            image, ["sleep", "infinity"], name=f"{PREFIX}{uuid.uuid4().hex[:10]}", init=True, detach=True
        )
        started.append(container)
        return container

    yield start
    for container in started:
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True, v=True)


@pytest.fixture
def builder(start_container: Callable[[str], Container]) -> Container:
    container = start_container(BASE_IMAGE)
    _exec(container, "echo committed-by-ecspress > /srv/marker")
    return container


@pytest.fixture
def run_commit(tmp_path: Path) -> RunCommit:
    """Run the module once through ansible-playbook; return (rc, task result, combined output)."""

    def run(args: dict[str, Any], check: bool = False) -> tuple[int, dict[str, Any], str]:
        playbook = tmp_path / f"commit-{uuid.uuid4().hex[:6]}.yml"
        playbook.write_text(
            yaml.safe_dump(
                [
                    {
                        "name": "Commit a container",
                        "hosts": "localhost",
                        "connection": "local",
                        "gather_facts": False,
                        "vars": {"ansible_python_interpreter": sys.executable},
                        "tasks": [{"name": "Commit", "ecspress.wordpress.container_commit": args}],
                    }
                ]
            )
        )
        command = [str(Path(sys.executable).with_name("ansible-playbook")), "-i", "localhost,", str(playbook)]
        if check:
            command.append("--check")
        process = subprocess.run(command, cwd=ROOT, env=_ansible_env(), capture_output=True, text=True, timeout=180)
        output = process.stdout + process.stderr
        try:
            report = json.loads(process.stdout)
        except ValueError:
            pytest.fail(f"ansible-playbook printed no JSON (rc {process.returncode}):\n{output}")
        result = report["plays"][0]["tasks"][0]["hosts"]["localhost"]
        return process.returncode, result, output

    return run


def _ansible_env() -> dict[str, str]:
    cache = ROOT / ".cache"
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_HOME": str(cache / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(cache / "ansible-tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(cache / "collections"),
        "DOCKER_CONFIG": str(cache / "docker"),
        "XDG_CACHE_HOME": str(cache / "xdg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_NOCOLOR": "1",
    }


def _exec(container: Container, script: str) -> None:
    exit_code, output = container.exec_run(["sh", "-c", script])
    assert exit_code == 0, output


def _read_file(engine: docker.DockerClient, image_id: str, path: str) -> bytes | None:
    """Content of a file in an image (via a created, never started container), or None when it is absent."""
    container = engine.containers.create(image_id, ["true"], name=f"{PREFIX}{uuid.uuid4().hex[:10]}")
    try:
        stream, _ = container.get_archive(path)
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as archive:
            member = archive.extractfile(Path(path).name)
            return member.read() if member else None
    except docker.errors.NotFound:
        return None
    finally:
        container.remove(force=True, v=True)


def _remove_image(engine: docker.DockerClient, image_id: str) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        engine.images.remove(image_id, force=True)


def test_commit_keeps_files_and_applies_changes(
    engine: docker.DockerClient, builder: Container, repository: str, image_ids: list[str], run_commit: RunCommit
) -> None:
    rc, result, output = run_commit(
        {
            "container": builder.name,
            "repository": repository,
            "tag": "v1",
            "changes": CHANGES,
            "author": "ecspress tests",
            "comment": "integration test commit",
        }
    )
    assert rc == 0, output
    image_ids.append(result["image_id"])

    assert result["changed"] is True
    assert result["previous_image_id"] is None
    assert result["tags"] == [f"{repository}:v1"]
    image = engine.images.get(f"{repository}:v1")
    assert image.id == result["image_id"] == result["image"]["Id"]
    assert result["size"] == image.attrs["Size"] > 0
    assert image.attrs["Comment"] == "integration test commit"
    assert image.attrs["Author"] == "ecspress tests"
    config = image.attrs["Config"]
    assert config["Cmd"] == ["sleep", "infinity"]
    assert set(config["ExposedPorts"]) == {"80/tcp", "8443/tcp"}
    assert {"ECSPRESS_TEST=yes", "GREETING=hello world"} <= set(config["Env"])
    assert config["Labels"]["org.opencontainers.image.source"] == "https://example.test/ecspress"
    assert config["Labels"]["ecspress.test"] == "commit"
    assert config["WorkingDir"] == "/srv"
    assert config["User"] == "nobody"
    assert config["Healthcheck"]["Test"] == ["CMD", "test", "-f", "/srv/marker"]
    assert config["Healthcheck"]["Interval"] == 30 * 10**9
    assert config["Healthcheck"]["Retries"] == 3
    assert _read_file(engine, image.id, "/srv/marker") == b"committed-by-ecspress\n"


def test_second_commit_moves_the_tag_and_reports_the_previous_image(
    engine: docker.DockerClient, builder: Container, repository: str, image_ids: list[str], run_commit: RunCommit
) -> None:
    args = {"container": builder.name, "repository": repository, "changes": ["EXPOSE 80"]}
    rc, first, output = run_commit(args)
    assert rc == 0, output
    image_ids.append(first["image_id"])

    rc, second, output = run_commit(args)
    assert rc == 0, output
    image_ids.append(second["image_id"])

    # Documented semantics: each real commit is a new image, so the tag moves and the run reports a change.
    assert second["changed"] is True
    assert second["previous_image_id"] == first["image_id"]
    assert second["image_id"] != first["image_id"]
    assert engine.images.get(f"{repository}:latest").id == second["image_id"]


def test_check_mode_creates_no_image(
    engine: docker.DockerClient, builder: Container, repository: str, run_commit: RunCommit
) -> None:
    images_before = {image.id for image in engine.images.list(all=True)}

    args = {"container": builder.name, "repository": repository, "changes": CHANGES}
    rc, result, output = run_commit(args, check=True)

    assert rc == 0, output
    assert result["changed"] is True
    assert result["tags"] == [f"{repository}:latest"]
    assert "image_id" not in result
    assert engine.images.list(name=repository) == []
    assert {image.id for image in engine.images.list(all=True)} == images_before


def test_bad_change_line_fails_naming_the_line(
    engine: docker.DockerClient, builder: Container, repository: str, run_commit: RunCommit
) -> None:
    rc, result, output = run_commit(
        {"container": builder.name, "repository": repository, "changes": ["EXPOSE 80", "STOPSIGNAL SIGTERM"]}
    )

    assert rc != 0
    assert result["failed"] is True
    assert result["msg"].startswith('invalid change line "STOPSIGNAL SIGTERM": STOPSIGNAL is refused'), output
    assert engine.images.list(name=repository) == []


def test_missing_container_fails(engine: docker.DockerClient, repository: str, run_commit: RunCommit) -> None:
    missing = f"{PREFIX}does-not-exist-{uuid.uuid4().hex[:6]}"

    rc, result, output = run_commit({"container": missing, "repository": repository})

    assert rc != 0
    assert result["msg"] == f"container {missing} not found", output


def test_closed_engine_socket_gives_an_error_naming_it(tmp_path: Path, repository: str, run_commit: RunCommit) -> None:
    socket_path = tmp_path / "closed.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind(str(socket_path))
    # The socket file stays behind with nobody listening: connecting is refused.

    rc, result, output = run_commit(
        {"container": "anything", "repository": repository, "docker_host": f"unix://{socket_path}"}
    )

    assert rc != 0
    assert f"cannot reach the Docker engine at unix://{socket_path}" in result["msg"], output
    assert "Connection refused" in result["msg"]


def test_data_under_a_declared_volume_is_not_committed(
    engine: docker.DockerClient,
    start_container: Callable[[str], Container],
    repository: str,
    image_ids: list[str],
    run_commit: RunCommit,
) -> None:
    # An image that declares VOLUME /data, like the official wordpress image declares /var/www/html.
    template = start_container(BASE_IMAGE)
    with_volume = template.commit(repository=repository, tag="with-volume", changes=["VOLUME /data"])
    image_ids.append(with_volume.id)
    container = start_container(f"{repository}:with-volume")
    _exec(container, "echo lost > /data/in-volume && echo kept > /srv/outside-volume")

    rc, result, output = run_commit({"container": container.name, "repository": repository, "tag": "committed"})

    assert rc == 0, output
    image_ids.append(result["image_id"])
    assert any("/data" in warning and container.name in warning for warning in _warnings(result)), output
    assert _read_file(engine, result["image_id"], "/srv/outside-volume") == b"kept\n"
    assert _read_file(engine, result["image_id"], "/data/in-volume") is None


def _warnings(result: dict[str, Any]) -> list[str]:
    return [warning if isinstance(warning, str) else json.dumps(warning) for warning in result.get("warnings", [])]
