"""Another project installs the built collection offline and uses it only by FQCN."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import FAKE_CREDENTIALS, ROOT, MotoServer

BIN = ROOT / ".venv" / "bin"
FORBIDDEN = (
    "tests/",
    "bench/",
    ".ci/",
    "molecule/",
    "src/",
    ".ecspress/",
    ".cache/",
    "__pycache__",
    ".venv/",
    "examples/",
    "docs/",
    "pyproject.toml",
    "Makefile",
)


def consumer_env(project: Path) -> dict[str, str]:
    """A clean environment: nothing of the checkout's Ansible set-up leaks in."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "PYTHONPATH"))}
    env.update(FAKE_CREDENTIALS)
    env.update(
        {
            "ANSIBLE_CONFIG": str(project / "ansible.cfg"),
            "ANSIBLE_HOME": str(project / ".ansible"),
            "ANSIBLE_LOCAL_TEMP": str(project / ".ansible" / "tmp"),
            "ANSIBLE_NOCOLOR": "1",
            "DOCKER_CONFIG": str(project / ".docker"),
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    return env


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", "--output-path", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    (built,) = out.glob("ecspress-wordpress-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def project(tarball: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    project = tmp_path_factory.mktemp("consumer")
    (project / "ansible.cfg").write_text(
        "[defaults]\ncollections_path = ./collections\ninterpreter_python = auto_silent\n"
    )
    result = subprocess.run(
        [
            str(BIN / "ansible-galaxy"),
            "collection",
            "install",
            "--offline",
            "-p",
            str(project / "collections"),
            str(tarball),
        ],
        capture_output=True,
        text=True,
        env=consumer_env(project),
        cwd=project,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    yield project


def test_tarball_ships_no_tests_bench_ci_or_local_state(tarball: Path) -> None:
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert any(name.startswith("roles/service/") for name in names)
    assert "plugins/modules/container_commit.py" in names
    leaked = [name for name in names if name.startswith(FORBIDDEN) or any(f"/{part}" in name for part in FORBIDDEN)]
    assert leaked == []


def test_installed_collection_is_the_tarball(project: Path) -> None:
    installed = project / "collections" / "ansible_collections" / "ecspress" / "wordpress"
    assert (installed / "MANIFEST.json").is_file()
    assert not installed.is_symlink()


def test_site_playbook_by_fqcn_syntax_checks(project: Path) -> None:
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", "localhost,", "ecspress.wordpress.site", "--syntax-check"],
        capture_output=True,
        text=True,
        env=consumer_env(project),
        cwd=project,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.stack
def test_role_and_both_modules_by_fqcn(project: Path, moto_server: MotoServer) -> None:
    container = "ecspress-test-consumer"
    subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
    subprocess.run(
        ["docker", "run", "-d", "--init", "--name", container, "ecspress/base:trixie", "sleep", "600"],
        check=True,
        capture_output=True,
    )
    playbook = project / "use.yml"
    playbook.write_text(
        textwrap.dedent(f"""\
        - name: Use ecspress.wordpress by FQCN only
          hosts: localhost
          connection: local
          gather_facts: false
          vars:
            ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
          module_defaults:
            group/ecspress.wordpress.aws:
              endpoint_url: {moto_server.url}
              region: us-east-1
            group/community.aws.aws:
              endpoint_url: {moto_server.url}
              region: us-east-1
          tasks:
            - name: A role of the collection
              ansible.builtin.include_role:
                name: ecspress.wordpress.registry
              vars:
                ecspress_name: ecspress-test-consumer
                ecspress_region: us-east-1
                ecspress_aws_endpoint_url: {moto_server.url}
                ecspress_tags: {{}}
            - name: container_commit, check mode
              ecspress.wordpress.container_commit:
                container: {container}
                repository: ecspress-test/consumer
                tag: check
              check_mode: true
              register: commit
            - name: ecs_deployment_wait on a service that does not exist
              ecspress.wordpress.ecs_deployment_wait:
                cluster: nowhere
                service: nothing
                timeout: 5
              register: wait
              ignore_errors: true
            - name: Both modules answered
              ansible.builtin.assert:
                that:
                  - commit is changed
                  - ecspress_registry.repository_name == 'ecspress-test-consumer/wordpress'
                  - wait is failed
                  - "'not' in wait.msg"
        """)
    )
    try:
        result = subprocess.run(
            [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)],
            capture_output=True,
            text=True,
            env=consumer_env(project),
            cwd=project,
            check=False,
        )
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.mark.parametrize(
    ("config", "state_dir", "expected"),
    [
        ("project", None, ".ecspress"),  # beside the project's ansible.cfg
        ("none", None, "inv/.ecspress"),  # no project ansible.cfg: the inventory's folder
        ("project", "elsewhere", "elsewhere"),  # ECSPRESS_STATE_DIR, as the ecspress command sets it
    ],
)
def test_local_secrets_stay_in_the_project(project: Path, config: str, state_dir: str | None, expected: str) -> None:
    """A project with its inventory at ./inv/ (not the checkout's inventories/<name>/): the local secrets folder is
    inside the project, never in the folder above it."""
    inventory = project / "inv"
    inventory.mkdir(exist_ok=True)
    (inventory / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    role = project / "collections" / "ansible_collections" / "ecspress" / "wordpress" / "roles" / "local_run"
    playbook = project / "state.yml"
    playbook.write_text(
        textwrap.dedent(f"""\
        - name: Where the local_run role keeps the local secrets
          hosts: localhost
          gather_facts: false
          vars_files: [{role}/defaults/main.yml, {role}/vars/main.yml]
          vars:
            ecspress_name: site
          tasks:
            - name: The folder
              ansible.builtin.debug:
                msg: "secrets in {{{{ local_run_secrets_dir }}}}"
        """)
    )
    env = {key: value for key, value in consumer_env(project).items() if key != "ECSPRESS_STATE_DIR"}
    if config == "none":
        env["ANSIBLE_CONFIG"] = str(project / "no-such.cfg")  # ansible then looks in the cwd, ~ and /etc
    if state_dir:
        env["ECSPRESS_STATE_DIR"] = str(project / state_dir)
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "-i", str(inventory / "hosts.yml"), str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        cwd=inventory,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f'"msg": "secrets in {project / expected}/local/secrets/site"' in result.stdout, result.stdout[-2000:]


@pytest.fixture(scope="module")
def fresh_cli(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CLI as a user installs it: `pip install` into a new virtual environment outside the checkout (its
    dependencies from the package index, or pip's cache)."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    return venv / "bin"


@pytest.mark.stack
@pytest.mark.slow
def test_the_cli_installed_outside_a_checkout_runs_the_installed_collection(
    fresh_cli: Path, project: Path, tmp_path: Path
) -> None:
    """pip install of the CLI plus the collection installed in the project: `ecspress status`, `ecspress up --check` and
    `ecspress deploy --check` run from the project against the local stack, the playbooks coming from the installed
    collection; its state stays in the project."""
    name = f"ecspress-fresh-{uuid.uuid4().hex[:4]}"
    inventory = project / "inv"
    shutil.copytree(ROOT / "inventories" / "local", inventory, dirs_exist_ok=True)
    (inventory / "group_vars" / "all" / "zz-fresh.yml").write_text(f"---\necspress_name: {name}\n")
    env = {**consumer_env(project), "PATH": f"{fresh_cli}:{os.environ['PATH']}"}
    env.pop("ANSIBLE_CONFIG")  # the project's ansible.cfg, found by the CLI itself
    env.pop("ECSPRESS_STATE_DIR", None)

    def ecspress(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(fresh_cli / "ecspress"), *args, "-i", "inv"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=900,
        )

    status = ecspress("status")
    assert status.returncode == 0, status.stdout[-3000:] + status.stderr[-3000:]
    assert f"service:         {name}" in status.stdout and "exists:          False" in status.stdout
    preview = ecspress("up", "--check")
    assert preview.returncode == 2, preview.stdout[-3000:] + preview.stderr[-3000:]  # 2: a real run would create
    assert f"→ network would create: VPC {name}" in preview.stdout
    deploy = ecspress("deploy", "--check")
    assert deploy.returncode == 2, deploy.stdout[-3000:] + deploy.stderr[-3000:]
    assert f"→ image would create: 127.0.0.1:5000/{name}/wordpress:wp-" in deploy.stdout
    assert f"→ deploy would create: The service {name}/{name} rolled onto" in deploy.stdout
    runs = sorted((project / ".ecspress" / "runs").iterdir())
    assert [run.name.rsplit("-", 1)[1] for run in runs][-3:] == ["status", "up", "deploy"]
    assert not (ROOT / ".ecspress" / "runs" / runs[-1].name).exists()
