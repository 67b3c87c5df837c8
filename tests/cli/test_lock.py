"""One run per environment: a second run refuses at once, a killed holder releases the lock."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ecspress.lock import LockHeld, RunLock, lock_path


def test_lock_path_per_inventory_and_limit(tmp_path: Path) -> None:
    assert lock_path(tmp_path, "/x/inventories/aws", "prod") == tmp_path / "aws-prod.lock"
    assert lock_path(tmp_path, "inventories/local", None) == tmp_path / "local-all.lock"


def test_second_acquire_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "local-all.lock"
    with RunLock(path, "ecspress up"):
        with pytest.raises(LockHeld) as refused:
            RunLock(path, "ecspress deploy").acquire()
        assert "ecspress up" in str(refused.value)
        assert "pid " in str(refused.value)
    with RunLock(path, "ecspress deploy"):  # released on exit
        pass


def test_a_sigkilled_holder_releases_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "aws-prod.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from pathlib import Path
                from ecspress.lock import RunLock
                lock = RunLock(Path({str(path)!r}), "ecspress up --limit prod")
                lock.acquire()
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=rf"pid {holder.pid} .*ecspress up --limit prod"):
            RunLock(path, "ecspress down").acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        deadline = time.monotonic() + 5
        while True:
            try:
                RunLock(path, "ecspress down").acquire()
                break
            except LockHeld:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        holder.kill()
        holder.wait(timeout=10)
