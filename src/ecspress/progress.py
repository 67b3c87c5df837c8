"""Progress a person can follow, rendered from ansible-runner's events (never from Ansible's stdout).

One line per stage. A stage is the role a task comes from (network, registry, database, image,
service, deploy, local) or, for tasks outside roles, the play's name. On a terminal the current
stage's line is redrawn in place with a spinner and the elapsed time; elsewhere one line is
printed when a stage ends. A failure is printed as the stage, the task, the host and the message.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TextIO

STAGE_OF_ROLE = {
    "network": "network",
    "registry": "registry",
    "database": "database",
    "image_pipeline": "image",
    "wordpress_image": "image",
    "service": "service",
    "ecs_deploy": "deploy",
    "local_run": "local",
}
SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
NO_LOG_HIDDEN = "(output hidden by no_log)"
OK_MARK, FAILED_MARK = "✔", "✘"
TAIL_LINES = 3
MESSAGE_WIDTH = 400
CENSORED_PREFIX = {
    "runner_on_failed": "fatal: [{host}]: FAILED! =>",
    "runner_item_on_failed": "failed: [{host}] =>",
    "runner_on_unreachable": "fatal: [{host}]: UNREACHABLE! =>",
    "runner_on_ok": "ok: [{host}] =>",
    "runner_item_on_ok": "ok: [{host}] =>",
}
DEBUG_ACTIONS = {"debug", "ansible.builtin.debug", "ansible.legacy.debug"}


# Entry points a role offers other roles (include_role with tasks_from): their tasks belong to the stage that called
# them, as the image stage's smoke test runs local_run's wordpress_site.
CALLED_ENTRY_POINTS = ("/local_run/tasks/wordpress_site.yml:",)


def stage_of(event_data: Mapping[str, Any]) -> str:
    """The stage a task belongs to: its role mapped to a stage name, else the play's name. A role's input
    checks (tasks/validate.yml) belong to the preflight, where site.yml runs them before the first stage. A task of
    an entry point other roles call belongs to no stage of its own: "" (the caller's stage goes on)."""
    task_path = str(event_data.get("task_path") or "")
    if "/tasks/validate.yml:" in task_path:
        return "preflight"
    if any(entry in task_path for entry in CALLED_ENTRY_POINTS):
        return ""
    return role_stage(event_data)


def role_stage(event_data: Mapping[str, Any]) -> str:
    """The stage of the task's role (a role the map does not know is its own stage), else the play's name."""
    role = str(event_data.get("role") or "")
    if role:
        short = role.rsplit(".", 1)[-1]
        return STAGE_OF_ROLE.get(short, short)
    return str(event_data.get("play") or "play")


def is_censored(res: Mapping[str, Any]) -> bool:
    """Whether ansible-runner hid (part of) a result because of ``no_log``."""
    items = res.get("results") or []
    return "censored" in res or any(isinstance(item, Mapping) and "censored" in item for item in items)


def censor_stdout(event: MutableMapping[str, Any]) -> None:
    """Replace the Ansible output of an event whose result is hidden by ``no_log``.

    ansible-core 2.19 prints ``[ERROR]: Task failed: Action failed: <msg>`` for a failed task even when
    the task is ``no_log`` (the result is censored, its exception is not), so the event's stdout can hold
    the secret; the event is rewritten before ansible-runner stores it.
    """
    data = event.get("event_data") or {}
    res = data.get("res")
    if isinstance(res, Mapping) and is_censored(res) and event.get("stdout"):
        prefix = CENSORED_PREFIX.get(str(event.get("event")), "{host}:")
        event["stdout"] = prefix.format(host=data.get("host") or "?") + " " + NO_LOG_HIDDEN


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MESSAGE_WIDTH else flat[: MESSAGE_WIDTH - 1] + "…"


# ansible-core 2.19 wraps an error a filter, lookup or test plugin raised while a task's arguments were templated:
# "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while resolving value for
# '__service_rollback': The filter plugin 'ecspress.wordpress.rollback_target' failed: <the plugin's own words>".
PLUGIN_FAILED = re.compile(r"^Task failed: .*The (?:filter|lookup|test) plugin '[^']+' failed: ", re.DOTALL)


def plugin_cause(msg: str) -> str:
    """The words of the plugin that failed, without ansible-core's templating chain; other messages unchanged."""
    return PLUGIN_FAILED.sub("", msg, count=1)


def failure_message(res: Mapping[str, Any]) -> str:
    """What went wrong, in one line; never the content of a result hidden by ``no_log``."""
    if "censored" in res:
        return NO_LOG_HIDDEN
    items = [item for item in res.get("results") or [] if isinstance(item, Mapping)]
    failed_items = [item for item in items if item.get("failed") or item.get("unreachable")]
    if failed_items:
        return failure_message(failed_items[0])
    if any("censored" in item for item in items):
        return NO_LOG_HIDDEN
    msg = str(res.get("msg") or "")
    if msg.startswith("MODULE FAILURE") or not msg:
        detail = _tail(str(res.get("module_stderr") or res.get("stderr") or ""))
        detail = detail or _tail(str(res.get("module_stdout") or res.get("stdout") or ""))
        msg = f"{msg.splitlines()[0]}: {detail}" if msg and detail else (msg or detail)
    return _one_line(plugin_cause(msg)) or "failed without a message"


@dataclass
class Failure:
    stage: str
    task: str
    host: str
    message: str

    def render(self) -> str:
        return f'{FAILED_MARK} {self.stage}: task "{self.task}" on {self.host}: {self.message}'


@dataclass
class Stage:
    name: str
    started: float
    ok: int = 0
    changed: int = 0
    failed: int = 0
    skipped: int = 0
    failures: list[Failure] = field(default_factory=list)

    def counts(self) -> str:
        text = f"ok={self.ok} changed={self.changed}"
        return text + (f" failed={self.failed}" if self.failed else "")

    def render(self, mark: str, elapsed: float) -> str:
        return f"{mark} {self.name:<9} {elapsed:5.1f}s  {self.counts()}"


class Progress:
    """An ``event_handler`` for ``ansible_runner.run``: feed it every event, call ``close()`` at the end."""

    def __init__(
        self,
        out: TextIO,
        tty: bool,
        clock: Callable[[], float] = time.monotonic,
        tick: float = 0.2,
        echo: bool = False,
    ) -> None:
        """``echo``: also print Ansible's own output of each event (``-v``), censored like the artifacts."""
        self.out, self.tty, self.clock, self.tick, self.echo = out, tty and not echo, clock, tick, echo
        self.current: Stage | None = None
        self.stages: list[Stage] = []
        self.failures: list[Failure] = []
        self.messages: list[str] = []
        self.failed_hosts: set[str] = set()
        self.custom_stats: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._frame = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if tty:
            self._ticker = threading.Thread(target=self._spin, daemon=True)
            self._ticker.start()

    # --- events ---------------------------------------------------------------------------

    def __call__(self, event: MutableMapping[str, Any]) -> bool:
        """ansible-runner calls this per event, before it stores it; True keeps the event in the artifacts."""
        censor_stdout(event)
        with self._lock:
            if self.echo and event.get("stdout"):
                self.out.write(str(event["stdout"]) + "\n")
            self.handle(event)
        return True

    def handle(self, event: Mapping[str, Any]) -> None:
        kind = str(event.get("event") or "")
        data: Mapping[str, Any] = event.get("event_data") or {}
        if kind == "playbook_on_task_start":
            stage = stage_of(data)
            if stage or self.current is None:
                self._enter(stage or role_stage(data))
        elif kind in ("runner_on_ok", "runner_on_failed", "runner_on_unreachable", "runner_on_skipped"):
            self._count(kind, data)
        elif kind == "playbook_on_stats":
            self._stats(data)

    def _enter(self, name: str) -> None:
        if self.current is not None and self.current.name == name:
            return
        self._end_stage()
        self.current = Stage(name, self.clock())
        self.stages.append(self.current)
        self._redraw()

    def _count(self, kind: str, data: Mapping[str, Any]) -> None:
        if self.current is None:
            self._enter(stage_of(data) or role_stage(data))
        stage = self.current
        assert stage is not None
        res: Mapping[str, Any] = data.get("res") or {}
        if kind == "runner_on_ok":
            stage.ok += 1
            stage.changed += 1 if res.get("changed") else 0
            self._keep_debug_message(data, res)
        elif kind == "runner_on_skipped":
            stage.skipped += 1
        elif data.get("ignore_errors"):
            stage.ok += 1
        else:
            stage.failed += 1
            failure = Failure(stage.name, str(data.get("task") or "?"), str(data.get("host") or "?"), "")
            failure.message = failure_message(res)
            stage.failures.append(failure)
        self._redraw()

    def _keep_debug_message(self, data: Mapping[str, Any], res: Mapping[str, Any]) -> None:
        """Play-level debug tasks (no role) carry what the user came for: the URL, the outcome. A role's debug
        task that reports a change is a --check preview of what a real run would create: kept, by stage."""
        if str(data.get("task_action") or "") not in DEBUG_ACTIONS or "censored" in res or not res.get("msg"):
            return
        if not data.get("role"):
            self.messages.append(str(res["msg"]))
        elif res.get("changed"):
            msg = res["msg"]
            text = "; ".join(str(line) for line in msg) if isinstance(msg, list) else str(msg)
            self.messages.append(f"{stage_of(data) or role_stage(data)} would create: {text}")

    def _stats(self, data: Mapping[str, Any]) -> None:
        for key in ("failures", "dark"):
            self.failed_hosts.update(str(host) for host in (data.get(key) or {}))
        self.custom_stats = dict(data.get("artifact_data") or {})

    # --- rendering ------------------------------------------------------------------------

    def final_failures(self) -> list[Failure]:
        """The last failure of each host that ended failed (earlier ones were rescued or ignored)."""
        last: dict[str, Failure] = {}
        for stage in self.stages:
            for failure in stage.failures:
                last[failure.host] = failure
        if self.failed_hosts:
            return [failure for host, failure in last.items() if host in self.failed_hosts]
        return list(last.values())

    def _end_stage(self, run_failed: bool = False) -> None:
        stage, self.current = self.current, None
        if stage is None:
            return
        elapsed = self.clock() - stage.started
        final = run_failed and stage.failed > 0
        line = stage.render(FAILED_MARK if final else OK_MARK, elapsed)
        self._write_line(line)

    def _write_line(self, line: str) -> None:
        if self.tty:
            self.out.write("\r\x1b[2K" + line + "\n")
        else:
            self.out.write(line + "\n")
        self.out.flush()

    def _redraw(self) -> None:
        if not self.tty or self.current is None:
            return
        stage = self.current
        spinner = SPINNER[self._frame % len(SPINNER)]
        self.out.write("\r\x1b[2K" + stage.render(spinner, self.clock() - stage.started))
        self.out.flush()

    def _spin(self) -> None:
        while not self._stop.wait(self.tick):
            with self._lock:
                self._frame += 1
                self._redraw()

    def close(self, run_failed: bool) -> list[Failure]:
        """End the last stage, print the failures that ended the run; returns them."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=1)
        with self._lock:
            self._end_stage(run_failed)
            failures = self.final_failures() if run_failed else []
            for failure in failures:
                self.out.write(failure.render() + "\n")
            self.out.flush()
        return failures
