"""playbooks/image.yml on the local stack: build, smoke test, push by digest, reuse, refuse a broken image."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

import pytest

from tests.conftest import PlaybookResult

pytestmark = [pytest.mark.docker, pytest.mark.stack, pytest.mark.slow]
NAME = "ecspress-test-img"
Runner = Callable[..., PlaybookResult]


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=300).stdout


def ours_left() -> list[str]:
    return [n for n in docker("ps", "-a", "--format", "{{.Names}}").split() if n.startswith(f"{NAME}-builder")]


def reference_in(result: PlaybookResult) -> str:
    lines = [line for line in result.stdout.splitlines() if "msg: 127.0.0.1:5000/" in line]
    assert lines, result.stdout[-2000:]
    return lines[-1].split("msg: ", 1)[1].strip()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    from tests.conftest import run_playbook

    runs = []
    for index in range(2):
        runs.append(
            run_playbook(
                "playbooks/image.yml",
                extravars={"ecspress_name": NAME},
                private_dir=tmp_path_factory.mktemp(f"img{index}"),
            )
        )
    return {"first": runs[0], "second": runs[1]}


def test_build_smoke_test_push_and_pull_back_by_digest(built: dict[str, PlaybookResult]) -> None:
    first = built["first"]
    assert first.rc == 0, first.failed_tasks
    reference = reference_in(first)
    assert "@sha256:" in reference and ":latest" not in reference
    local_id = json.loads(docker("image", "inspect", reference))[0]["Id"]
    docker("rmi", reference, check=False)
    docker("pull", reference)
    assert json.loads(docker("image", "inspect", reference))[0]["Id"] == local_id
    assert ours_left() == []


def test_unchanged_rebuild_is_skipped_with_the_same_digest(built: dict[str, PlaybookResult]) -> None:
    second = built["second"]
    assert second.rc == 0 and second.changed == 0, second.changed_tasks
    assert reference_in(second) == reference_in(built["first"])
    assert not any("Start the builder" in task for task in second.changed_tasks)


def test_the_role_files_are_in_the_committed_image(built: dict[str, PlaybookResult]) -> None:
    reference = reference_in(built["first"])
    out = docker(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        reference,
        "-c",
        "test -f /etc/wordpress/config-default.php && test -x /usr/local/bin/ecspress-entrypoint && echo ok",
    )
    assert out.strip() == "ok"
    labels = json.loads(docker("image", "inspect", reference))[0]["Config"]["Labels"]
    assert labels["org.wordpress.version"].startswith("6.")
    assert labels["org.opencontainers.image.revision"].startswith("wp-")


def test_no_secret_in_the_image_history(built: dict[str, PlaybookResult]) -> None:
    history = docker("history", "--no-trunc", reference_in(built["first"]))
    for word in ("PASSWORD=", "AUTH_KEY=", "auth-token"):
        assert word not in history


def test_a_broken_vhost_fails_names_the_cause_and_pushes_nothing(run_playbook_private: Runner) -> None:
    result = run_playbook_private(
        "playbooks/image.yml",
        extravars={"ecspress_name": NAME, "wordpress_image_vhost_extra": "BogusDirective on"},
    )
    assert result.rc != 0
    failure = " ".join(result.failed_tasks)
    assert "BogusDirective" in failure or "BogusDirective" in result.stdout
    assert ours_left() == []
    assert "Push" not in " ".join(result.changed_tasks)


@pytest.fixture
def run_playbook_private(playbook_runner: Runner) -> Runner:
    return playbook_runner
