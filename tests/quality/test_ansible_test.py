"""`ansible-test sanity` on the collection, offline.

`ansible-test units` is not run: it would re-run tests/unit, which pytest runs directly.

The collection is copied into a temporary `ansible_collections/ecspress/wordpress` tree (the
standard layout) beside links to the installed amazon.aws / community.* collections. ansible-test
bootstraps pip in its venvs with a downloaded get-pip.py; offline, a small stand-in built on
`ensurepip` is put in its cache, with this process's pip settings (index, certificates).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SITE_COLLECTIONS = (
    Path(sys.executable).parent.parent / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
)
SITE_COLLECTIONS = SITE_COLLECTIONS / "site-packages" / "ansible_collections"
# Skipped here: pylint and pslint/shellcheck need tools this machine does not carry offline.
SKIPPED = ("pylint", "pslint", "shellcheck")


def get_pip_stand_in() -> str:
    settings = {key: value for key, value in os.environ.items() if key.startswith(("PIP_", "SSL_CERT", "REQUESTS_CA"))}
    return (
        '"""Offline stand-in for get-pip.py, written by tests/quality/test_ansible_test.py."""\n'
        "import ensurepip, os, subprocess, sys\n"
        f"os.environ.update({settings!r})\n"
        "ensurepip.bootstrap(upgrade=True)\n"
        'args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]\n'
        "if args:\n"
        '    sys.exit(subprocess.call([sys.executable, "-m", "pip", "install", *args]))\n'
    )


@pytest.fixture(scope="module")
def collection_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    base = tmp_path_factory.mktemp("ansible-test")
    tree = base / "ansible_collections" / "ecspress" / "wordpress"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in files:
        source = ROOT / name
        if source.is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tree / name)
    for namespace in ("amazon", "community"):
        (base / "ansible_collections" / namespace).symlink_to(SITE_COLLECTIONS / namespace)
    subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tree, check=True)
    home = base / "home"
    cache = home / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True)
    for version in ("24_2", "25_0", "25_1"):
        (cache / f"get_pip_{version}.py").write_text(get_pip_stand_in())
    env = {**os.environ, "HOME": str(home), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return tree, env


def ansible_test(tree: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-test"),
            *args,
            "--local",
            "--python",
            f"{sys.version_info.major}.{sys.version_info.minor}",
            "--color",
            "no",
        ],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )


@pytest.mark.slow
def test_sanity(collection_tree: tuple[Path, dict[str, str]]) -> None:
    tree, env = collection_tree
    skips = [arg for test in SKIPPED for arg in ("--skip-test", test)]
    result = ansible_test(tree, env, "sanity", *skips)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]


def test_ignore_entries_carry_a_reason() -> None:
    for ignore in (ROOT / "tests" / "sanity").glob("ignore-*.txt"):
        for line in ignore.read_text().splitlines():
            assert "#" in line and line.split("#", 1)[1].strip(), f"{ignore.name}: no reason for {line!r}"
