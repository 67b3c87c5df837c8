"""Where ecspress lives on disk and the project-local Ansible environment every run needs."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# The local stand-in stack answers to any credentials; these are the ones its docs and tests use.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LOCAL_REGION = "us-east-1"


def project_root(environ: Mapping[str, str] | None = None) -> Path:
    """The checkout (the parent of ``src/``), or ``ECSPRESS_ROOT`` when set."""
    environ = os.environ if environ is None else environ
    override = environ.get("ECSPRESS_ROOT")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parent.parent.parent


def venv_bin() -> Path:
    """The bin directory of the interpreter running ecspress (ansible-playbook is installed beside it)."""
    return Path(sys.executable).parent


def state_dir(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Ignored folder for run artifacts, locks and the local stack's state: ``ECSPRESS_STATE_DIR``, else
    ``<root>/.ecspress`` (the local stack and the local secrets read the same variable)."""
    override = (os.environ if environ is None else environ).get("ECSPRESS_STATE_DIR")
    return Path(override) if override else root / ".ecspress"


def playbook_dir(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where site.yml lives; ``ECSPRESS_PLAYBOOK_DIR`` (for tests) points at fixture playbooks instead.

    ``site.yml`` is at the root; the others (deploy.yml, status.yml, teardown.yml) under ``playbooks/``.
    """
    environ = os.environ if environ is None else environ
    override = environ.get("ECSPRESS_PLAYBOOK_DIR")
    return Path(override).resolve() if override else root


def playbook_path(root: Path, name: str, environ: Mapping[str, str] | None = None) -> Path:
    """The playbook file a command runs: ``site.yml`` at the top, the rest in ``playbooks/``."""
    base = playbook_dir(root, environ)
    environ = os.environ if environ is None else environ
    if environ.get("ECSPRESS_PLAYBOOK_DIR") or name == "site.yml":
        return base / name
    return base / "playbooks" / name


def ansible_environment(
    root: Path | None = None,
    extra: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment variables every ansible run needs: project-local config, collections, caches."""
    root = root or project_root(environ)
    environ = os.environ if environ is None else environ
    cache = root / ".cache"
    path = os.pathsep.join([str(venv_bin()), environ.get("PATH", os.defpath)])
    env = {
        "ANSIBLE_CONFIG": str(root / "ansible.cfg"),
        "ANSIBLE_HOME": str(cache / "ansible"),
        "ANSIBLE_LOCAL_TEMP": str(cache / "ansible-tmp"),
        "ANSIBLE_COLLECTIONS_PATH": str(cache / "collections"),
        "ANSIBLE_ROLES_PATH": str(root / "roles"),
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_NOCOLOR": "1",
        "DOCKER_CONFIG": str(cache / "docker"),
        "XDG_CACHE_HOME": str(cache / "xdg"),
        "PATH": path,
    }
    env.update(extra or {})
    return env


def local_stack_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Credentials and region for the local stack, unless the user set their own."""
    environ = os.environ if environ is None else environ
    env = {key: value for key, value in LOCAL_CREDENTIALS.items() if not environ.get(key)}
    if not environ.get("AWS_DEFAULT_REGION"):
        env["AWS_DEFAULT_REGION"] = LOCAL_REGION
    return env
