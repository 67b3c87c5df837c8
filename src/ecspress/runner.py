"""One playbook run through ansible-runner: its run folder, progress, scrubbed artifacts, and the summary printed.

Each run gets ``.ecspress/runs/<timestamp>-<command>/`` (the newest ``KEEP_RUNS`` are kept); afterwards the
recorded environment is masked and the stored stdout is rebuilt from the censored events.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecspress import settings
from ecspress.errors import EXIT_FAILED, EXIT_OK
from ecspress.inventory import Inventory
from ecspress.progress import Progress

SENSITIVE_ENV = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|SESSION|_KEY", re.IGNORECASE)
KEEP_RUNS = 20  # run folders kept in .ecspress/runs/ (ECSPRESS_KEEP_RUNS overrides)


@dataclass
class RunResult:
    rc: int
    status: str
    run_dir: Path
    failures: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    custom_stats: dict[str, Any] = field(default_factory=dict)
    changed: int = 0  # tasks that changed something (or, under --check, would)
    errors: list[str] = field(default_factory=list)  # Ansible's own errors when no task failed (a YAML error, ...)

    @property
    def ok(self) -> bool:
        return self.rc == 0 and self.status == "successful"


def new_run_dir(root: Path, command: str) -> Path:
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S.%f")
    runs = settings.state_dir(root) / "runs"
    run_dir = runs / f"{stamp}-{command}"
    run_dir.mkdir(parents=True, mode=0o700)
    prune_runs(runs, keep=int(os.environ.get("ECSPRESS_KEEP_RUNS", KEEP_RUNS)))
    return run_dir


def prune_runs(runs: Path, keep: int) -> list[Path]:
    """Remove all but the `keep` newest run folders (names start with a sortable time stamp)."""
    folders = sorted((path for path in runs.iterdir() if path.is_dir()), key=lambda path: path.name)
    removed = folders[: max(len(folders) - max(keep, 1), 0)]
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    return removed


def scrub_command_artifacts(run_dir: Path) -> None:
    """ansible-runner records the whole environment in artifacts/*/command: mask anything secret-looking."""
    for command_file in run_dir.glob("artifacts/*/command"):
        try:
            recorded = json.loads(command_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        env = recorded.get("env") or {}
        recorded["env"] = {key: "***" if SENSITIVE_ENV.search(key) else value for key, value in env.items()}
        command_file.write_text(json.dumps(recorded), encoding="utf-8")


def rewrite_stdout_artifacts(run_dir: Path) -> None:
    """Rebuild artifacts/*/stdout from the stored (censored) events instead of Ansible's raw output."""
    for stdout_file in run_dir.glob("artifacts/*/stdout"):
        events = []
        for event_file in stdout_file.parent.glob("job_events/*.json"):
            try:
                events.append(json.loads(event_file.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
        events.sort(key=lambda event: int(event.get("counter", 0)))
        text = "".join(str(event["stdout"]) + "\n" for event in events if event.get("stdout"))
        stdout_file.write_text(text, encoding="utf-8")


@dataclass
class Run:
    """What one ``ansible_runner.run`` needs, resolved from the command line."""

    root: Path
    command: str
    playbook: Path
    inventory: Inventory
    limit: str | None = None
    verbosity: int = 0
    extravars: dict[str, Any] = field(default_factory=dict)
    progress_out: Any = None
    check: bool = False  # ansible-playbook --check --diff: report what would change, change nothing

    def environment(self) -> dict[str, str]:
        extra = settings.local_stack_environment() if self.inventory.is_local else {}
        return settings.ansible_environment(self.root, extra)


def run_playbook(run: Run) -> RunResult:
    import ansible_runner

    out = run.progress_out or sys.stdout
    run_dir = new_run_dir(run.root, run.command)
    progress = Progress(out, tty=out.isatty(), echo=run.verbosity > 0)
    runner = ansible_runner.run(
        private_data_dir=str(run_dir),
        project_dir=str(run.root),
        playbook=str(run.playbook),
        inventory=str(run.inventory.path),
        limit=run.limit,
        extravars=run.extravars,
        envvars=run.environment(),
        verbosity=run.verbosity,
        cmdline="--check --diff" if run.check else None,
        quiet=True,
        event_handler=progress,
        suppress_env_files=True,
    )
    failed = runner.rc != 0 or runner.status != "successful"
    failures = progress.close(run_failed=failed)
    errors = ansible_errors(run_dir) if failed and not failures else []
    scrub_command_artifacts(run_dir)
    rewrite_stdout_artifacts(run_dir)
    return RunResult(
        rc=int(runner.rc),
        status=str(runner.status),
        run_dir=run_dir,
        failures=[failure.render() for failure in failures],
        messages=progress.messages,
        custom_stats=progress.custom_stats,
        changed=sum(stage.changed for stage in progress.stages),
        errors=errors,
    )


def ansible_errors(run_dir: Path, most: int = 3) -> list[str]:
    """The [ERROR] lines Ansible printed (a missing playbook, a YAML error): what a run without a failed task says."""
    lines: list[str] = []
    for stdout_file in run_dir.glob("artifacts/*/stdout"):
        text = stdout_file.read_text(encoding="utf-8", errors="replace")
        lines += [line.strip() for line in text.splitlines() if line.strip().startswith(("[ERROR]", "ERROR!"))]
    return lines[-most:]


def report(result: RunResult, out: Any = None) -> int:
    out = out or sys.stdout
    if result.ok:
        for message in result.messages:
            print(f"→ {message}", file=out)
        return EXIT_OK
    if not result.failures:
        print(f"✘ the run ended {result.status} (rc {result.rc})", file=out)
        for error in result.errors:
            print(f"  {error}", file=out)
    print(f"run artifacts: {result.run_dir}", file=out)
    return EXIT_FAILED
