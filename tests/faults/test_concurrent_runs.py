"""Two `ecspress` runs on one environment: the second refuses at once, naming the holder.

Real processes: the first `ecspress up` runs a playbook that waits; a second `ecspress up`, on
the same environment named another way (the directory vs its hosts.yml), must refuse within
seconds; after the first is killed with SIGKILL (a crash: no cleanup code runs) a third run
gets the lock.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

ECSPRESS = str(Path(sys.executable).parent / "ecspress")
WAITING_SITE = """---
- name: A site run that takes its time
  hosts: all
  gather_facts: false
  tasks:
    - name: Hold the environment
      ansible.builtin.command: sleep {seconds}
      changed_when: false
"""
INVENTORY = """---
all:
  children:
    dev:
      hosts:
        ecspress-concurrency-test:
          ansible_connection: local
          ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""


def environment(playbooks: Path, state: Path) -> dict[str, str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ECSPRESS_")}
    return {**environ, "ECSPRESS_PLAYBOOK_DIR": str(playbooks), "ECSPRESS_STATE_DIR": str(state)}


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [ECSPRESS, *args],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ECSPRESS, *args], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


def test_second_run_refuses_at_once_and_a_crash_releases_the_lock(tmp_path: Path) -> None:
    playbooks, inventory, state = tmp_path / "playbooks", tmp_path / "envs" / "shop", tmp_path / "state"
    playbooks.mkdir()
    inventory.mkdir(parents=True)
    (playbooks / "site.yml").write_text(WAITING_SITE.format(seconds=120))
    (inventory / "hosts.yml").write_text(INVENTORY)
    env = environment(playbooks, state)

    first = start(["up", "-i", str(inventory), "--limit", "dev"], env)
    try:
        lock = state / "locks" / "shop-dev.lock"
        deadline = time.monotonic() + 60
        while not (lock.exists() and str(first.pid) in lock.read_text()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert first.poll() is None, first.communicate()

        began = time.monotonic()
        second = run(["up", "-i", str(inventory / "hosts.yml"), "--limit", "dev"], env, timeout=60)
        assert time.monotonic() - began < 15
        assert second.returncode == 2
        assert f"held by pid {first.pid}" in second.stderr, second.stderr
        assert "ecspress up -i" in second.stderr
        assert first.poll() is None  # the holder goes on

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        (playbooks / "site.yml").write_text(WAITING_SITE.format(seconds=0))
        third = run(["up", "-i", str(inventory), "--limit", "dev"], env, timeout=300)
        assert third.returncode == 0, third.stdout + third.stderr
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        shutil.rmtree(state, ignore_errors=True)
