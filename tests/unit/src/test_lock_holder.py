"""ecspress.lock, exactly: the lock file's name, what it says about its holder, acquire and release."""

from __future__ import annotations

import fcntl
import getpass
import os
import re
from pathlib import Path

import pytest

from ecspress import lock
from ecspress.lock import LockHeld, RunLock, describe_holder, lock_path


def test_lock_path_names_inventory_and_limit(tmp_path: Path) -> None:
    assert lock_path(tmp_path, "inventories/prod", "web") == tmp_path / "prod-web.lock"
    assert lock_path(tmp_path, "inventories/prod/", None) == tmp_path / "prod-all.lock"
    assert lock_path(tmp_path, "", "") == tmp_path / "inventory-all.lock"
    assert lock_path(tmp_path, "inv/a b", "web:db&x") == tmp_path / "a_b-web_db_x.lock"
    assert lock_path(tmp_path, "inv/A_z.9-x", None) == tmp_path / "A_z.9-x-all.lock"


def test_describe_holder() -> None:
    text = "pid=42\nuser=ann\ncommand=ecspress up --x=1\nstarted=2026-12-01T10:00:00+00:00\nnoise\n"
    assert describe_holder(text) == "pid 42 (ann: `ecspress up --x=1`, since 2026-12-01T10:00:00+00:00)"
    assert describe_holder("pid=7\n") == "pid 7 (?: `?`, since ?)"
    assert describe_holder("user=bob\n") == "pid ? (bob: `?`, since ?)"
    assert describe_holder("") == "an unknown process"
    assert describe_holder("garbage") == "an unknown process"


def test_user_falls_back_to_the_uid(monkeypatch: pytest.MonkeyPatch) -> None:
    assert lock._user() == getpass.getuser()

    def no_user() -> str:
        raise KeyError("uid not in passwd")

    monkeypatch.setattr(getpass, "getuser", no_user)
    assert lock._user() == str(os.getuid())
    monkeypatch.setattr(getpass, "getuser", lambda: (_ for _ in ()).throw(OSError("no tty")))
    assert lock._user() == str(os.getuid())


def test_acquire_writes_who_holds_it_and_release_empties_it(tmp_path: Path) -> None:
    path = tmp_path / "state" / "locks" / "prod-all.lock"
    RunLock(path, "never acquired").release()  # releasing what was never acquired does nothing
    with RunLock(path, "ecspress up") as held:
        assert isinstance(held, RunLock)
        lines = path.read_text().splitlines()
        assert lines[:3] == [f"pid={os.getpid()}", f"user={lock._user()}", "command=ecspress up"]
        assert re.fullmatch(r"started=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", lines[3]) and len(lines) == 4
        with open(path) as other, pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    assert path.read_text() == ""
    with open(path) as other:
        fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    held.release()  # a second release does nothing


def test_a_held_lock_is_refused_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "prod-all.lock"
    first = RunLock(path, "ecspress up")
    first.acquire()
    try:
        fields = dict(line.split("=", 1) for line in path.read_text().splitlines())
        with pytest.raises(LockHeld) as refused:
            RunLock(path, "ecspress deploy").acquire()
        assert str(refused.value) == (
            f"prod-all.lock is held by pid {os.getpid()} ({fields['user']}: `ecspress up`, since {fields['started']}); "
            "wait for it to finish"
        )
        assert refused.value.__cause__ is None and refused.value.__suppress_context__
        assert path.read_text().splitlines()[2] == "command=ecspress up"
    finally:
        first.release()


def test_a_stale_file_is_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "prod-all.lock"
    path.write_text("pid=1\nuser=old\ncommand=a much longer command line than the new one\nstarted=long ago\n" * 3)
    with RunLock(path, "up"):
        assert path.read_text().count("command=") == 1 and "command=up\n" in path.read_text()
