"""ecspress.settings, exactly: where the checkout, state and playbooks are, and the environment of every run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ecspress import settings

ROOT = Path("/srv/ecspress")


def test_project_root_is_the_checkout_unless_overridden(tmp_path: Path) -> None:
    checkout = Path(settings.__file__).resolve().parent.parent.parent
    assert settings.project_root({}) == checkout
    assert settings.project_root({"ECSPRESS_ROOT": ""}) == checkout
    assert settings.project_root({"ECSPRESS_ROOT": str(tmp_path / "x" / "..")}) == tmp_path.resolve()


def test_project_root_reads_the_process_environment_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECSPRESS_ROOT", str(tmp_path))
    assert settings.project_root() == tmp_path.resolve()


def test_state_dir_is_the_checkouts_unless_ecspress_state_dir_says(tmp_path: Path) -> None:
    assert settings.state_dir(ROOT, {}) == ROOT / ".ecspress"
    assert settings.state_dir(ROOT, {"ECSPRESS_STATE_DIR": ""}) == ROOT / ".ecspress"
    assert settings.state_dir(ROOT, {"ECSPRESS_STATE_DIR": str(tmp_path)}) == tmp_path


def test_state_dir_reads_the_process_environment_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECSPRESS_STATE_DIR", str(tmp_path))
    assert settings.state_dir(ROOT) == tmp_path
    monkeypatch.delenv("ECSPRESS_STATE_DIR")
    assert settings.state_dir(ROOT) == ROOT / ".ecspress"


def test_state_and_venv() -> None:
    assert settings.venv_bin() == Path(sys.executable).parent


def test_playbooks(tmp_path: Path) -> None:
    assert settings.playbook_dir(ROOT, {}) == ROOT
    assert settings.playbook_path(ROOT, "site.yml", {}) == ROOT / "site.yml"
    assert settings.playbook_path(ROOT, "deploy.yml", {}) == ROOT / "playbooks" / "deploy.yml"
    fixtures = {"ECSPRESS_PLAYBOOK_DIR": str(tmp_path / "p" / "..")}
    assert settings.playbook_dir(ROOT, fixtures) == tmp_path.resolve()
    assert settings.playbook_path(ROOT, "deploy.yml", fixtures) == tmp_path.resolve() / "deploy.yml"
    assert settings.playbook_path(ROOT, "site.yml", fixtures) == tmp_path.resolve() / "site.yml"
    assert settings.playbook_dir(ROOT, {"ECSPRESS_PLAYBOOK_DIR": ""}) == ROOT


def test_playbooks_read_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECSPRESS_PLAYBOOK_DIR", raising=False)
    assert settings.playbook_dir(ROOT) == ROOT
    assert settings.playbook_path(ROOT, "status.yml") == ROOT / "playbooks" / "status.yml"


def test_ansible_environment_is_project_local() -> None:
    env = settings.ansible_environment(ROOT, {"ANSIBLE_NOCOLOR": "0", "EXTRA": "1"}, {"PATH": "/usr/bin"})
    assert env == {
        "ANSIBLE_CONFIG": "/srv/ecspress/ansible.cfg",
        "ANSIBLE_HOME": "/srv/ecspress/.cache/ansible",
        "ANSIBLE_LOCAL_TEMP": "/srv/ecspress/.cache/ansible-tmp",
        "ANSIBLE_COLLECTIONS_PATH": "/srv/ecspress/.cache/collections",
        "ANSIBLE_ROLES_PATH": "/srv/ecspress/roles",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "0",
        "DOCKER_CONFIG": "/srv/ecspress/.cache/docker",
        "XDG_CACHE_HOME": "/srv/ecspress/.cache/xdg",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin",
        "EXTRA": "1",
    }


def test_ansible_environment_defaults(tmp_path: Path) -> None:
    env = settings.ansible_environment(environ={"ECSPRESS_ROOT": str(tmp_path)})
    assert (env["ANSIBLE_FORCE_COLOR"], env["ANSIBLE_NOCOLOR"]) == ("0", "1")
    assert env["ANSIBLE_CONFIG"] == str(tmp_path.resolve() / "ansible.cfg")
    assert env["PATH"] == f"{Path(sys.executable).parent}{os.pathsep}{os.defpath}"
    inherited = settings.ansible_environment(ROOT)["PATH"]
    assert inherited == f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


def test_local_stack_environment_fills_in_only_what_is_unset() -> None:
    assert settings.local_stack_environment({}) == {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    mine = {"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "", "AWS_DEFAULT_REGION": "eu-west-1"}
    assert settings.local_stack_environment(mine) == {"AWS_SECRET_ACCESS_KEY": "testing"}


def test_local_stack_environment_reads_the_process_environment_by_default() -> None:
    expected = {key: "testing" for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY") if not os.environ.get(key)}
    if not os.environ.get("AWS_DEFAULT_REGION"):
        expected["AWS_DEFAULT_REGION"] = "us-east-1"
    assert settings.local_stack_environment() == expected


# --- installed outside a checkout (pip install + ansible-galaxy collection install) ----------------------------------


def installed_layout(tmp_path: Path) -> tuple[Path, Path]:
    """A project with an ansible.cfg naming ./collections, and the collection installed there."""
    project = tmp_path / "project"
    (project / "inv").mkdir(parents=True)
    (project / "ansible.cfg").write_text("[defaults]\ncollections_path = ./collections\n")
    collection = project / "collections" / "ansible_collections" / "ecspress" / "wordpress"
    (collection / "playbooks").mkdir(parents=True)
    for name in ("site.yml", "status.yml"):
        (collection / "playbooks" / name).write_text("---\n")
    return project, collection


@pytest.mark.usefixtures("pip_installed")
def test_installed_the_project_is_the_nearest_folder_with_an_ansible_cfg(tmp_path: Path) -> None:
    project, _ = installed_layout(tmp_path)
    assert settings.project_root({}, cwd=project / "inv") == project
    assert settings.project_root({}, cwd=tmp_path) == tmp_path  # no ansible.cfg up from there: the folder itself


@pytest.fixture
def pip_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ecspress as pip installs it: its code in site-packages, no checkout around it, no collection on the Python
    path (the checkout's tests put theirs there)."""
    monkeypatch.setattr(settings, "checkout_of_this_code", lambda: tmp_path / "site-packages")
    monkeypatch.setattr(sys, "path", [])


@pytest.mark.usefixtures("pip_installed")
def test_installed_the_playbooks_come_from_the_collection_ansible_finds(tmp_path: Path) -> None:
    project, collection = installed_layout(tmp_path)
    assert settings.playbook_path(project, "site.yml", {}) == collection / "playbooks" / "site.yml"
    assert settings.playbook_path(project, "status.yml", {}) == collection / "playbooks" / "status.yml"
    elsewhere = tmp_path / "elsewhere"
    assert settings.installed_collection(project, {"ANSIBLE_COLLECTIONS_PATH": str(elsewhere)}) is None


@pytest.mark.usefixtures("pip_installed")
def test_installed_without_the_collection_says_how_to_install_it(tmp_path: Path) -> None:
    project = tmp_path / "bare"
    project.mkdir()
    (project / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {tmp_path / 'none'}\n")
    with pytest.raises(settings.CollectionNotFound, match=r"`ansible-galaxy collection install ecspress\.wordpress`"):
        settings.playbook_path(project, "site.yml", {})


@pytest.mark.usefixtures("pip_installed")
def test_installed_the_project_keeps_its_own_ansible_configuration(tmp_path: Path) -> None:
    project, _ = installed_layout(tmp_path)
    env = settings.ansible_environment(project, environ={"PATH": "/bin"})
    assert env["ANSIBLE_CONFIG"] == str(project / "ansible.cfg")
    assert "ANSIBLE_COLLECTIONS_PATH" not in env and "ANSIBLE_ROLES_PATH" not in env
    assert env["DOCKER_CONFIG"] == str(project / ".ecspress" / "cache" / "docker")
