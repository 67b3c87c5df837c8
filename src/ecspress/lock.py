"""One run at a time per environment: an ``flock`` on ``.ecspress/locks/<inventory>-<limit>.lock``.

The kernel drops an ``flock`` when its holder exits, however it exits (crash, SIGKILL included),
so a stale lock file never blocks the next run; its contents only say who holds it.
"""

from __future__ import annotations

import datetime
import fcntl
import getpass
import os
import re
from pathlib import Path
from types import TracebackType
from typing import IO


class LockHeld(RuntimeError):
    """Another run holds the lock; the message names it."""


def lock_path(locks_dir: Path, inventory: str, limit: str | None) -> Path:
    name = f"{Path(inventory).name or 'inventory'}-{limit or 'all'}"
    return locks_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.lock"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def describe_holder(text: str) -> str:
    """One line out of the lock file's ``key=value`` lines."""
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    if not fields:
        return "an unknown process"
    return (
        f"pid {fields.get('pid', '?')} ({fields.get('user', '?')}: `{fields.get('command', '?')}`, "
        f"since {fields.get('started', '?')})"
    )


class RunLock:
    """``with RunLock(path, command): ...`` — raises LockHeld at once when another process holds it."""

    def __init__(self, path: Path, command: str) -> None:
        self.path, self.command = path, command
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = describe_holder(handle.read())
            handle.close()
            raise LockHeld(f"{self.path.name} is held by {holder}; wait for it to finish") from None
        started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid={os.getpid()}\nuser={_user()}\ncommand={self.command}\nstarted={started}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is None:
            return
        self._file.seek(0)
        self._file.truncate()
        fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._file.close()
        self._file = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
