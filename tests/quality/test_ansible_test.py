"""`ansible-test sanity` and `ansible-test units` on the collection, offline.

The collection is copied into a temporary `ansible_collections/ecspress/wordpress` tree (the
standard layout) beside links to the installed amazon.aws / community.* collections. ansible-test
bootstraps pip in its venvs with a downloaded get-pip.py; offline, a small stand-in built on
`ensurepip` is put in its cache, with this process's pip settings (index, certificates).
`ansible-test units --local` runs pytest with `-n` on this interpreter: pytest-xdist is in the test extras.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
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


@pytest.mark.slow
def test_units(collection_tree: tuple[Path, dict[str, str]]) -> None:
    """`ansible-test units` runs every unit test file of ours (under its own pytest settings) and all pass."""
    tree, env = collection_tree
    junit = tree / "tests" / "output" / "junit"
    shutil.rmtree(junit, ignore_errors=True)
    result = ansible_test(tree, env, "units")
    output = result.stdout + result.stderr
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    summaries = re.findall(r"^=+ (.*) in [0-9.]+s(?: \([0-9:]+\))? =+$", result.stdout, re.MULTILINE)
    assert summaries, output[-5000:]
    passed = sum(int(count) for line in summaries for count in re.findall(r"(\d+) passed", line))
    assert passed > 0 and not any(re.search(r"failed|error", line) for line in summaries), summaries
    cases = [case for report in junit.glob("*-units.xml") for case in ET.parse(report).getroot().iter("testcase")]
    assert len(cases) >= passed
    ran = {case.get("file") for case in cases}
    ours = {str(path.relative_to(tree)) for path in (tree / "tests" / "unit").rglob("test_*.py")}
    assert ours and ran == ours, f"not run by ansible-test: {sorted(ours - ran)}"


def test_ignore_entries_carry_a_reason() -> None:
    for ignore in (ROOT / "tests" / "sanity").glob("ignore-*.txt"):
        for line in ignore.read_text().splitlines():
            assert "#" in line and line.split("#", 1)[1].strip(), f"{ignore.name}: no reason for {line!r}"
