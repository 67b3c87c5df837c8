"""playbooks/image.yml on the local stack: build, smoke test, push by digest, reuse, refuse a broken image."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import PlaybookResult, free_port, serving

pytestmark = [pytest.mark.docker, pytest.mark.stack, pytest.mark.slow]
# A name of this run's own: a killed earlier run's images (registry, engine) are never reused as "first build".
NAME = f"ecspress-test-img-{uuid.uuid4().hex[:4]}"
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
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PlaybookResult]]:
    """Build, reuse, forced rebuild, reuse; afterwards the repository (moto, registry) and the engine's images go."""
    from tests.conftest import run_playbook

    runs = {}
    for key, force in (("first", False), ("second", False), ("forced", True), ("after_forced", False)):
        runs[key] = run_playbook(
            "playbooks/image.yml",
            extravars={"ecspress_name": NAME, "image_pipeline_force_build": force},
            private_dir=tmp_path_factory.mktemp(key),
        )
    yield runs
    down = run_playbook(
        "playbooks/teardown.yml",
        extravars={"ecspress_name": NAME},
        tags="registry,local",
        private_dir=tmp_path_factory.mktemp("down"),
    )
    assert down.rc == 0, down.failed_tasks
    assert registry_tags() == [] and ours_left() == []


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


def test_forced_rebuild_on_the_immutable_repository_pushes_a_new_tag_that_later_runs_reuse(
    built: dict[str, PlaybookResult],
) -> None:
    """ECR (and the local registry gate) refuses to overwrite the content tag: the rebuild gets its own tag."""
    forced, after = built["forced"], built["after_forced"]
    assert forced.rc == 0, forced.failed_tasks
    first, rebuilt = reference_in(built["first"]), reference_in(forced)
    assert rebuilt != first
    tag = re.search(r"\(tag (\S+),", forced.stdout)
    assert tag and re.fullmatch(r"wp-[0-9a-f]{16}-r[0-9]{8}T[0-9]{6}Z", tag[1]), forced.stdout[-2000:]
    assert tag[1].startswith(first_tag(built["first"]) + "-r")
    assert after.rc == 0 and after.changed == 0, after.changed_tasks
    assert reference_in(after) == rebuilt
    # A forced build takes in security updates: it makes a fresh package layer, then builds on it.
    assert "Commit the package layer" in forced.changed_tasks and "Start the builder" in forced.changed_tasks
    layers = docker("image", "ls", "--filter", "label=io.ecspress.role=package-layer", "--format", "{{.Repository}}")
    assert "ecspress/wordpress-packages" in layers.split()


def first_tag(result: PlaybookResult) -> str:
    found = re.search(r"\(tag (wp-[0-9a-f]{16}),", result.stdout)
    assert found, result.stdout[-2000:]
    return found[1]


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


def test_no_secret_in_the_image_config_or_history(built: dict[str, PlaybookResult]) -> None:
    """ENV and labels live in the image config (not in `docker history`): neither names a secret."""
    reference = reference_in(built["first"])
    config = json.loads(docker("image", "inspect", reference))[0]["Config"]
    names = [entry.split("=", 1)[0] for entry in config.get("Env") or []]
    assert [n for n in names if re.search(r"PASSWORD|SECRET|_KEY|_SALT|TOKEN", n)] == [], names
    searched = json.dumps(config) + docker("history", "--no-trunc", reference)
    for word in ("PASSWORD=", "AUTH_KEY=", "auth-token"):
        assert word not in searched


def registry_tags() -> list[str]:
    import requests

    from tests.conftest import LOCAL_REGISTRY, LOCAL_REGISTRY_AUTH

    listed = requests.get(
        f"http://{LOCAL_REGISTRY}/v2/{NAME}/wordpress/tags/list", auth=LOCAL_REGISTRY_AUTH, timeout=10
    )
    return sorted(listed.json().get("tags") or []) if listed.status_code == 200 else []


def test_a_broken_vhost_fails_names_the_cause_and_pushes_nothing(
    built: dict[str, PlaybookResult], run_playbook_private: Runner
) -> None:
    before = registry_tags()
    assert before, "the built fixture pushed tags"
    result = run_playbook_private(
        "playbooks/image.yml",
        extravars={"ecspress_name": NAME, "wordpress_image_vhost_extra": "BogusDirective on"},
    )
    assert result.rc != 0
    failure = " ".join(result.failed_tasks)
    assert "BogusDirective" in failure or "BogusDirective" in result.stdout
    assert ours_left() == []
    assert registry_tags() == before
    # A configuration-only change builds on the package layer the fixture made: no package is installed.
    assert "Install Apache, PHP and WordPress" not in result.changed_tasks, result.changed_tasks
    assert "Commit the package layer" not in result.changed_tasks


def test_a_download_that_does_not_match_its_checksum_stops_the_build_and_pushes_nothing(
    built: dict[str, PlaybookResult], run_playbook_private: Runner, tmp_path: Path
) -> None:
    """A theme zip pinned in the inventory, served from 127.0.0.1 with other bytes than the ones pinned (a replaced
    release, a tampered mirror): the build stops naming the variable and both checksums; nothing is pushed."""
    (tmp_path / "shop.zip").write_bytes(b"the zip the server has now")
    pinned = "sha256:" + hashlib.sha256(b"the zip that was pinned").hexdigest()
    served = hashlib.sha256(b"the zip the server has now").hexdigest()
    before = registry_tags()
    with serving(tmp_path) as base:
        theme = {"src": f"{base}/shop.zip", "checksum": pinned}
        result = run_playbook_private(
            "playbooks/image.yml", extravars={"ecspress_name": NAME, "wordpress_image_themes": [theme]}
        )
    assert result.rc != 0
    (failure,) = result.failed_tasks
    task, message = failure.split(": ", 1)
    assert task == "Every pinned download arrived and matched its checksum"
    assert re.fullmatch(
        rf"wordpress_image_themes: {base}/shop\.zip: The checksum for \S+ did not match {pinned[7:]}; it was "
        rf"{served}\. Nothing was committed or pushed\.",
        message,
    ), message
    assert ours_left() == []
    assert registry_tags() == before


@pytest.mark.parametrize("path", ["build", "reuse"])
def test_an_image_for_another_cpu_architecture_is_refused_before_the_push(
    path: str, built: dict[str, PlaybookResult], run_playbook_private: Runner
) -> None:
    """ARM64 tasks on this amd64 engine: refused before building (build path) or before publishing (reuse path)."""
    before = registry_tags()
    extravars = {"ecspress_name": NAME, "ecspress_cpu_architecture": "ARM64"}
    if path == "build":  # content no build has produced yet
        extravars["wordpress_image_vhost_extra"] = "# built for arm64"
    result = run_playbook_private("playbooks/image.yml", extravars=extravars)
    assert result.rc != 0
    assert len(result.failed_tasks) == 1, result.failed_tasks
    task, message = result.failed_tasks[0].split(": ", 1)
    if path == "build":
        assert task == "The engine builds for the tasks' CPU architecture"
        assert message == (
            "image_pipeline_cpu_architecture is ARM64 (the service's runtimePlatform), but the Docker engine builds "
            "amd64 images, which ARM64 tasks cannot run. Build on an arm64 engine, or set ecspress_cpu_architecture to "
            "match the engine. Nothing was built or pushed."
        )
    else:
        assert task == "The image in the registry runs on the tasks' CPU architecture"
        assert message.startswith("image_pipeline_cpu_architecture is ARM64 (the service's runtimePlatform), but ")
        assert message.endswith(
            " in the registry is an amd64 image, which ARM64 tasks cannot run. Set ecspress_cpu_architecture to match "
            "it, or build on an arm64 engine with image_pipeline_force_build. Nothing was pushed."
        )
    assert ours_left() == []
    assert registry_tags() == before


def site_playbook(folder: Path, reference: str, port: int, title: str) -> Path:
    """local_run's wordpress_site entry point alone (what the smoke test and the local run call), on the built image."""
    site = f"{NAME}-site"
    inputs = {
        "local_run_wordpress_image": reference,
        "local_run_wordpress_registry": "127.0.0.1:5000",
        "local_run_wordpress_container": f"{site}-wp",
        "local_run_wordpress_db_container": f"{site}-db",
        "local_run_wordpress_network": site,
        "local_run_wordpress_mariadb_image": "ecspress/mariadb:trixie",
        "local_run_wordpress_secrets_dir": str(folder / "secrets"),
        "local_run_wordpress_port": port,
        "local_run_wordpress_site_title": title,
        "local_run_wordpress_admin_user": "admin",
        "local_run_wordpress_admin_email": "admin@example.com",
        "local_run_wordpress_wait_seconds": 120,
    }
    role = {"name": "ecspress.wordpress.local_run", "tasks_from": "wordpress_site"}
    task = {"name": "Site", "ansible.builtin.include_role": role, "vars": inputs}
    playbook = folder / f"site-{port}-{len(title)}.yml"
    aws = {"region": "{{ ecspress_region }}", "endpoint_url": "{{ ecspress_aws_endpoint_url }}"}  # the ECR token
    play = {"name": "site", "hosts": "all", "gather_facts": False, "tasks": [task]}
    playbook.write_text(yaml.safe_dump([{**play, "module_defaults": {"group/ecspress.wordpress.aws": aws}}]))
    return playbook


def test_the_site_run_fails_when_the_home_page_lacks_the_title(
    built: dict[str, PlaybookResult], run_playbook_private: Runner, tmp_path: Path
) -> None:
    """The title check is real: a site installed with one title, asked again with another (its install is not
    repeated: `install: missing`), fails at the home page instead of passing on any page that answers."""
    reference, port = reference_in(built["first"]), free_port()
    try:
        first = run_playbook_private(site_playbook(tmp_path, reference, port, "first title"))
        assert first.rc == 0, first.failed_tasks
        again = run_playbook_private(site_playbook(tmp_path, reference, port, "another title"))
        assert again.rc != 0
        assert [task.split(":", 1)[0] for task in again.failed_tasks] == ["The home page shows the site title"]
    finally:
        docker("rm", "-f", f"{NAME}-site-wp", f"{NAME}-site-db", check=False)
        docker("network", "rm", f"{NAME}-site", check=False)


@pytest.fixture
def run_playbook_private(playbook_runner: Runner) -> Runner:
    return playbook_runner
