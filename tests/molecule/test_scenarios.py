"""`molecule test -s <scenario>` passes for every scenario, as it does for a user."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, ansible_environment

SCENARIOS = sorted(path.parent.name for path in (ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.stack
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario: str, tmp_path: Path) -> None:
    env = ansible_environment({"MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "molecule")})
    env.pop("ANSIBLE_CONFIG", None)  # molecule writes its own ansible.cfg for the scenario
    import os

    env["PATH"] = os.environ["PATH"]
    env["HOME"] = str(tmp_path)
    result = subprocess.run(
        [str(Path(ROOT / ".venv" / "bin" / "molecule")), "test", "-s", scenario],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
