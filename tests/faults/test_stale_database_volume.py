"""A MariaDB data volume that outlived its secrets (new checkout, deleted .ecspress) is refused at once.

Without the check, MariaDB keeps the old password, WordPress answers "Error establishing a database
connection" and the install wait loops for minutes. The fault is real: a volume of that name made
by `docker volume create`, without the label that ties it to a set of secrets.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import PlaybookResult, free_port

pytestmark = [pytest.mark.docker]
Runner = Callable[..., PlaybookResult]


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def local_run_playbook(folder: Path, name: str) -> Path:
    """The local_run role alone, with an image by digest that is never pulled (the refusal comes first)."""
    playbook = folder / "local_run.yml"
    image = f"127.0.0.1:5000/{name}/wordpress@sha256:{'a' * 64}"
    role = {"role": "ecspress.wordpress.local_run", "vars": {"local_run_image": image}}
    playbook.write_text(yaml.safe_dump([{"name": "local run", "hosts": "all", "gather_facts": False, "roles": [role]}]))
    return playbook


def test_a_volume_without_our_secrets_id_is_refused_before_any_container(
    playbook_runner: Runner, tmp_path: Path
) -> None:
    name = f"ecspress-stale-{uuid.uuid4().hex[:6]}"
    volume = f"{name}-db-data"
    docker("volume", "create", volume)
    try:
        playbook = local_run_playbook(tmp_path, name)
        # a port of its own: `make up`'s site may hold 8080 (a user runs `make test` after `make up`; CI15 did)
        result = playbook_runner(
            playbook,
            extravars={"ecspress_name": name, "local_run_port": free_port()},
            env={"ECSPRESS_STATE_DIR": str(tmp_path / "state")},
        )
        assert result.rc != 0
        assert len(result.failed_tasks) == 1, result.failed_tasks
        message = result.failed_tasks[0]
        assert message.startswith("The database volume was made with these secrets"), message
        assert f"docker volume rm {volume}" in message and "Nothing was started" in message
        assert [c for c in docker("ps", "-a", "--format", "{{.Names}}").split() if c.startswith(name)] == []
        assert "io.ecspress.secrets-id" not in docker("volume", "inspect", volume)  # left as it was
    finally:
        docker("volume", "rm", "-f", volume)


def test_a_container_publishing_the_port_is_named_before_anything_starts(
    playbook_runner: Runner, tmp_path: Path
) -> None:
    """What failed a CI run: a container an interrupted run left (restart policy) holds the site's port. The
    local run names it and the fix instead of Docker's "port is already allocated" after the database started."""
    name = f"ecspress-port-{uuid.uuid4().hex[:6]}"
    holder = f"{name}-holder"
    port = free_port()
    docker("run", "--detach", "--name", holder, "-p", f"127.0.0.1:{port}:80", "ecspress/base:trixie", "sleep", "600")
    try:
        playbook = local_run_playbook(tmp_path, name)
        result = playbook_runner(
            playbook,
            extravars={"ecspress_name": name, "local_run_port": port},
            env={"ECSPRESS_STATE_DIR": str(tmp_path / "state")},
        )
        assert result.rc != 0 and result.changed == 0, result.changed_tasks
        assert result.failed_tasks == [
            f"The port is free or ours: local_run_port {port} is published by the container {holder}: remove it "
            f"(`docker rm -f {holder}`) or set local_run_port to a free port. Nothing was started."
        ]
        assert [c for c in docker("ps", "-a", "--format", "{{.Names}}").split() if c.startswith(name)] == [holder]
        assert not (tmp_path / "state").exists()  # no secrets were generated either
    finally:
        docker("rm", "-f", holder)
