"""Where ecspress lives on disk and the project-local Ansible environment every run needs.

Two ways to run: from a checkout (``site.yml`` and ``playbooks/`` beside ``src/``: the checkout is the project, its
``.cache/collections`` holds the collection), or installed (``pip install`` of the CLI and ``ansible-galaxy collection
install ecspress.wordpress``): the project is the folder ecspress runs in (the nearest one up with an
``ansible.cfg``, else the current one), its state goes to ``<project>/.ecspress``, and the playbooks come from the
installed collection, found where Ansible would find it.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping
from pathlib import Path

COLLECTION = Path("ansible_collections") / "ecspress" / "wordpress"

# The local stand-in stack answers to any credentials; these are the ones its docs and tests use.
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
LOCAL_REGION = "us-east-1"


def checkout_of_this_code() -> Path:
    return Path(__file__).resolve().parent.parent.parent


def is_checkout(root: Path) -> bool:
    """A checkout of ecspress: the collection's sources with the top-level site.yml."""
    return (root / "site.yml").is_file() and (root / "galaxy.yml").is_file() and (root / "playbooks").is_dir()


def installed(environ: Mapping[str, str] | None = None) -> bool:
    """Running installed (not from a checkout, and no ECSPRESS_ROOT naming one)."""
    environ = os.environ if environ is None else environ
    return not environ.get("ECSPRESS_ROOT") and not is_checkout(checkout_of_this_code())


def project_root(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """``ECSPRESS_ROOT`` when set; else the checkout this code runs from; installed, the user's project: the nearest
    folder up from the current one with an ``ansible.cfg``, else the current folder."""
    environ = os.environ if environ is None else environ
    override = environ.get("ECSPRESS_ROOT")
    if override:
        return Path(override).resolve()
    if not installed(environ):
        return checkout_of_this_code()
    here = (cwd or Path.cwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / "ansible.cfg").is_file()), here)


def collection_search_path(root: Path, environ: Mapping[str, str]) -> list[Path]:
    """Where Ansible looks for collections, in its order: ANSIBLE_COLLECTIONS_PATH, else the project's ansible.cfg
    ``collections_path``, else ~/.ansible/collections and /usr/share/ansible/collections; then the Python path
    (collections installed with pip, such as the ``ansible`` package's)."""
    configured = environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    if not configured and (root / "ansible.cfg").is_file():
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(root / "ansible.cfg")
        configured = parser.get("defaults", "collections_path", fallback="") or parser.get(
            "defaults", "collections_paths", fallback=""
        )
    if configured:
        places = [Path(os.path.expanduser(part)) for part in configured.split(os.pathsep) if part]
        places = [place if place.is_absolute() else root / place for place in places]
    else:
        places = [Path.home() / ".ansible" / "collections", Path("/usr/share/ansible/collections")]
    return places + [Path(entry) for entry in sys.path if entry]


def installed_collection(root: Path, environ: Mapping[str, str] | None = None) -> Path | None:
    """The installed ecspress.wordpress collection the project uses (the first one Ansible would find)."""
    environ = os.environ if environ is None else environ
    for place in collection_search_path(root, environ):
        for candidate in (place / COLLECTION, place / "ecspress" / "wordpress"):  # with or without the prefix
            if (candidate / "playbooks" / "site.yml").is_file():
                return candidate
    return None


def venv_bin() -> Path:
    """The bin directory of the interpreter running ecspress (ansible-playbook is installed beside it)."""
    return Path(sys.executable).parent


def state_dir(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Ignored folder for run artifacts, locks and the local stack's state: ``ECSPRESS_STATE_DIR``, else
    ``<root>/.ecspress`` (the local stack and the local secrets read the same variable)."""
    override = (os.environ if environ is None else environ).get("ECSPRESS_STATE_DIR")
    return Path(override) if override else root / ".ecspress"


class CollectionNotFound(Exception):
    """Installed outside a checkout, and the ecspress.wordpress collection is nowhere Ansible looks."""


def playbook_dir(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where site.yml lives: the checkout, or the installed collection; ``ECSPRESS_PLAYBOOK_DIR`` (for tests) points
    at fixture playbooks instead.

    In a checkout ``site.yml`` is at the root and the others (deploy.yml, status.yml, teardown.yml) under
    ``playbooks/``; an installed collection has them all under ``playbooks/``.
    """
    environ = os.environ if environ is None else environ
    override = environ.get("ECSPRESS_PLAYBOOK_DIR")
    if override:
        return Path(override).resolve()
    if not installed(environ):
        return root
    collection = installed_collection(root, environ)
    if collection is None:
        searched = ", ".join(str(place) for place in collection_search_path(root, environ)[:4])
        raise CollectionNotFound(
            f"the ecspress.wordpress collection is not installed where Ansible looks (first places: {searched}): "
            "`ansible-galaxy collection install ecspress.wordpress`, or run ecspress from a checkout"
        )
    return collection


def playbook_path(root: Path, name: str, environ: Mapping[str, str] | None = None) -> Path:
    """The playbook file a command runs: ``site.yml`` at the top of a checkout, the rest (and, installed, every one)
    in ``playbooks/``."""
    environ = os.environ if environ is None else environ
    base = playbook_dir(root, environ)
    if environ.get("ECSPRESS_PLAYBOOK_DIR") or (name == "site.yml" and not installed(environ)):
        return base / name
    return base / "playbooks" / name


def ansible_environment(
    root: Path | None = None,
    extra: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment variables every ansible run needs: project-local config, collections, caches. Installed outside a
    checkout, the project's own Ansible configuration stands (its ansible.cfg, its collections path)."""
    root = root or project_root(environ)
    environ = os.environ if environ is None else environ
    path = os.pathsep.join([str(venv_bin()), environ.get("PATH", os.defpath)])
    if installed(environ):
        cache = state_dir(root, environ) / "cache"
        env = {
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_NOCOLOR": "1",
            "DOCKER_CONFIG": environ.get("DOCKER_CONFIG") or str(cache / "docker"),
            "PATH": path,
        }
        if (root / "ansible.cfg").is_file() and not environ.get("ANSIBLE_CONFIG"):
            env["ANSIBLE_CONFIG"] = str(root / "ansible.cfg")
        env.update(extra or {})
        return env
    cache = root / ".cache"
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
