"""The ``ecspress`` command: parse arguments, run the collection's playbooks with ansible-runner, show progress.

Exit codes: 0 ok, 1 the run failed, 2 bad usage or a missing prerequisite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ecspress import settings
from ecspress.lock import LockHeld, RunLock, lock_path
from ecspress.progress import FAILED_MARK, Progress

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_CHANGES = 2  # --check: something would change (as `terraform plan -detailed-exitcode`)
# `ecspress status` exits EXIT_FAILED for these rollout states (module_utils/_rollout.py).
UNHEALTHY_ROLLOUTS = frozenset({"failed", "rolled_back", "stalled"})
# `up|deploy --json`: the fields playbooks/tasks/result.yml publishes.
RESULT_FIELDS = ("image", "digest", "task_definition_arn", "deployment_id", "outcome", "reason", "url")
DEFAULT_INVENTORY = "inventories/local"
SENSITIVE_ENV = re.compile(r"SECRET|TOKEN|PASSW|CREDENTIAL|SESSION|_KEY", re.IGNORECASE)


INVENTORY_FILE_STEMS = ("hosts", "inventory", "main")


class UsageError(Exception):
    """Bad usage or a missing prerequisite: one line for the user, exit code 2."""


# --- inventory ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    path: Path
    groups: frozenset[str]

    @property
    def is_local(self) -> bool:
        return "local" in self.groups

    @property
    def environments(self) -> list[str]:
        """The inventory's groups other than Ansible's own and `local`: dev, staging, prod, ..."""
        return sorted(self.groups - {"all", "ungrouped", "local"})

    @property
    def has_environments(self) -> bool:
        return len(self.environments) > 1

    @property
    def name(self) -> str:
        """Names the lock: `inventories/aws` and `inventories/aws/hosts.yml` are one environment."""
        if self.path.is_file():
            return self.path.parent.name if self.path.stem in INVENTORY_FILE_STEMS else self.path.stem
        return self.path.name


def _yaml_groups(tree: Any) -> set[str]:
    groups: set[str] = set()
    if not isinstance(tree, Mapping):
        return groups
    for name, body in tree.items():
        groups.add(str(name))
        if isinstance(body, Mapping):
            groups |= _yaml_groups(body.get("children"))
    return groups


def _ini_groups(text: str) -> set[str]:
    return {match.split(":", 1)[0] for match in re.findall(r"^\s*\[([^\]]+)\]", text, flags=re.MULTILINE)}


def _inventory_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(child for child in path.iterdir() if child.is_file() and not child.name.startswith("."))


def inventory_groups(path: Path) -> frozenset[str]:
    """The group names an inventory file or directory declares (YAML or INI; no plugins run)."""
    groups: set[str] = set()
    for file in _inventory_files(path):
        text = file.read_text(encoding="utf-8", errors="replace")
        if file.suffix in (".yml", ".yaml"):
            try:
                groups |= _yaml_groups(yaml.safe_load(text))
            except yaml.YAMLError as error:
                raise UsageError(f"inventory file {file} is not valid YAML: {error}") from None
        elif file.suffix in ("", ".ini", ".cfg"):
            groups |= _ini_groups(text)
    groups.discard("all")
    return frozenset(groups)


def resolve_inventory(value: str, root: Path) -> Inventory:
    candidate = Path(value).expanduser()
    places = [candidate] if candidate.is_absolute() else [candidate, root / candidate]
    for place in places:
        if place.exists():
            return Inventory(place.resolve(), inventory_groups(place))
    raise UsageError(f"inventory {value} does not exist (looked in {', '.join(str(p) for p in places)})")


def check_limit(inventory: Inventory, limit: str | None) -> None:
    if inventory.has_environments and not limit:
        present = ", ".join(inventory.environments)
        raise UsageError(f"inventory {inventory.path} holds several environments ({present}): pick one with --limit")
    if limit and limit not in inventory.groups:
        raise UsageError(f"inventory {inventory.path} has no group {limit!r} for --limit")


# --- running a playbook -------------------------------------------------------------------


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


KEEP_RUNS = 20  # run folders kept in .ecspress/runs/ (ECSPRESS_KEEP_RUNS overrides)


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


# --- commands -----------------------------------------------------------------------------


def _stack() -> Any:
    from ecspress.local import stack

    return stack


def start_local_stack(out: Any = None) -> None:
    stack = _stack()
    out = out or sys.stdout
    print("local stack:", file=out)
    try:
        stack.start(say=lambda line: print(line, file=out))
    except stack.StackError as error:
        raise UsageError(f"the local stack did not start: {error}") from None


def require_docker_engine() -> None:
    """The image stage needs an engine: say so before the run changes anything."""
    stack = _stack()
    endpoint = stack.docker_endpoint()
    if not stack.docker_answers(endpoint):
        raise UsageError(
            f"the Docker engine does not answer on {endpoint}: start it with `ecspress-local start` "
            "(starts dockerd) or `sudo systemctl start docker`; nothing was changed"
        )


def _context(args: argparse.Namespace) -> tuple[Path, Inventory]:
    root = settings.project_root()
    inventory = resolve_inventory(args.inventory, root)
    check_limit(inventory, args.limit)
    return root, inventory


def _locked(root: Path, inventory: Inventory, limit: str | None, command: str, body: Callable[[], int]) -> int:
    path = lock_path(settings.state_dir(root) / "locks", inventory.name, limit)
    try:
        with RunLock(path, command):
            return body()
    except LockHeld as error:
        raise UsageError(f"another ecspress run is under way: {error}") from None


def _command_line(args: argparse.Namespace) -> str:
    return " ".join(["ecspress", *args.argv])


def cmd_up(args: argparse.Namespace, playbook: str = "site.yml") -> int:
    root, inventory = _context(args)

    def body() -> int:
        # --json: the progress and messages go to stderr, stdout holds the JSON document only.
        out = sys.stderr if args.json else sys.stdout
        if inventory.is_local:
            start_local_stack(out)
        require_docker_engine()
        playbook_path = settings.playbook_path(root, playbook)
        run = Run(
            root, args.command, playbook_path, inventory, args.limit, args.verbose, check=args.check, progress_out=out
        )
        result = run_playbook(run)
        code = report(result, out=out)
        if args.check and code == EXIT_OK:
            code = check_outcome(result.changed, out=out)
        if args.json:
            print(json.dumps(result_document(result, code, args.check), indent=2, sort_keys=True))
        return code

    return _locked(root, inventory, args.limit, _command_line(args), body)


def check_outcome(changed: int, out: Any = None) -> int:
    """--check: exit 0 when nothing would change, EXIT_CHANGES when something would (a drift gate for CI)."""
    out = out or sys.stdout
    if not changed:
        print("--check: nothing was changed, and a real run would change nothing", file=out)
        return EXIT_OK
    print(f"--check: nothing was changed; a real run would change {changed} task(s), counted above", file=out)
    return EXIT_CHANGES


def result_document(result: RunResult, code: int, check: bool) -> dict[str, Any]:
    """`up|deploy --json`: what a pipeline reads (the playbooks publish ecspress_result: playbooks/tasks/result.yml)."""
    published = result.custom_stats.get("ecspress_result") or {}
    return {
        "ok": result.ok,
        "exit_code": code,
        "check": check,
        "changed": result.changed,
        "failures": [failure.removeprefix(f"{FAILED_MARK} ") for failure in result.failures] or result.errors,
        "run_artifacts": str(result.run_dir),
        **{key: published.get(key, "") for key in RESULT_FIELDS},
    }


def cmd_deploy(args: argparse.Namespace) -> int:
    return cmd_up(args, playbook="deploy.yml")


def confirm_teardown(args: argparse.Namespace, inventory: Inventory, ask: Callable[[str], str] = input) -> None:
    if args.limit == "prod" and not args.i_mean_prod:
        raise UsageError("refusing to tear down prod without --i-mean-prod")
    if args.yes:
        return
    if not sys.stdin.isatty():
        raise UsageError("refusing to tear down without --yes (no terminal to ask for confirmation)")
    target = f"{inventory.name}" + (f" --limit {args.limit}" if args.limit else "")
    answer = ask(f"Tear down everything of {target}? Type 'yes' to go on: ")
    if answer.strip().lower() != "yes":
        raise UsageError("teardown not confirmed; nothing changed")


def cmd_down(args: argparse.Namespace) -> int:
    root, inventory = _context(args)
    confirm_teardown(args, inventory)
    extravars = {"ecspress_confirm_prod": True} if args.limit == "prod" else {}

    def body() -> int:
        playbook = settings.playbook_path(root, "teardown.yml")
        run = Run(root, args.command, playbook, inventory, args.limit, args.verbose, extravars)
        code = report(run_playbook(run))
        if code == EXIT_OK and inventory.is_local and not args.keep_stack:
            print("local stack:")
            _stack().stop(say=print)
        return code

    return _locked(root, inventory, args.limit, _command_line(args), body)


STATUS_FIELDS = (
    ("exists", "exists"),
    ("cluster", "cluster"),
    ("service", "service"),
    ("status", "status"),
    ("desired_count", "desired"),
    ("running_count", "running"),
    ("pending_count", "pending"),
    ("rollout_state", "rollout"),
    ("rollout_reason", "reason"),
    ("last_stopped_task", "last stopped"),
    ("task_definition", "task definition"),
    ("image", "image"),
    ("digest", "digest"),
    ("url", "url"),
)


def render_status(status: Mapping[str, Any]) -> str:
    lines = [f"{label + ':':<17}{status[key]}" for key, label in STATUS_FIELDS if status.get(key) not in (None, "")]
    events = status.get("events") or []
    if events:
        lines.append("last events:")
        lines.extend(f"  {event}" for event in events)
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    root, inventory = _context(args)
    if inventory.is_local:
        stack = _stack()
        if not stack.moto_answers(f"http://127.0.0.1:{stack.MOTO_PORT}"):
            raise UsageError(
                f"the local stack is not running (nothing answers on 127.0.0.1:{stack.MOTO_PORT}): "
                "run `ecspress-local start`"
            )
    playbook = settings.playbook_path(root, "status.yml")
    run = Run(root, args.command, playbook, inventory, args.limit, args.verbose, progress_out=sys.stderr)
    result = run_playbook(run)
    if not result.ok:
        return report(result, out=sys.stderr)
    status = result.custom_stats.get("ecspress_status", {})
    print(json.dumps(status, indent=2, sort_keys=True) if args.json else render_status(status))
    return EXIT_FAILED if status.get("rollout_state") in UNHEALTHY_ROLLOUTS else EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from ecspress import doctor

    root = settings.project_root()
    inventory = resolve_inventory(args.inventory, root)
    checks = doctor.run_checks(root, inventory_kind="local" if inventory.is_local else "aws")
    print(doctor.render(checks))
    return EXIT_OK if all(check.ok for check in checks) else EXIT_USAGE


# --- argument parsing ---------------------------------------------------------------------

MAIN_EPILOG = """\
examples:
  ecspress doctor                              check every prerequisite, say how to fix what fails
  ecspress up                                  the whole site on the local stand-in stack
  ecspress up -i inventories/aws --limit dev   the whole site on AWS, dev environment
  ecspress deploy                              rebuild (or reuse) the image, push, roll, wait
  ecspress status --json                       the service, its rollout, image digest and URL
  ecspress down --yes                          tear everything down (local: stop the stack too)

exit codes: 0 ok, 1 the run failed (status: the rollout failed, rolled back or stalled), 2 bad usage or a
missing prerequisite; with --check, 2 also means a real run would change something (0: nothing would).
Run artifacts (Ansible events, stdout) are kept in .ecspress/runs/<timestamp>-<command>/.
ECSPRESS_ROOT overrides the checkout ecspress runs from; ECSPRESS_PLAYBOOK_DIR (for tests)
points it at other playbooks with the same file names (site.yml, deploy.yml, status.yml, teardown.yml).
"""

COMMANDS: dict[str, tuple[str, str]] = {
    "up": (
        "create or update the whole site (site.yml)",
        "examples:\n  ecspress up\n  ecspress up --check                # what would be created or changed\n"
        "  ecspress up -i inventories/aws --limit prod -v\n\n"
        "On the local inventory the stand-in stack (dockerd, moto, registry) is started first.",
    ),
    "deploy": (
        "build (or reuse) the image, push it, roll the service onto its digest, wait (playbooks/deploy.yml)",
        "examples:\n  ecspress deploy\n  ecspress deploy -i inventories/aws --limit dev",
    ),
    "status": (
        "show the service, desired/running tasks, rollout state, image digest, URL and last events",
        "examples:\n  ecspress status\n  ecspress status --json | jq .running_count\n"
        "  ecspress status -i inventories/aws --limit prod\n\nRead-only: nothing is changed.",
    ),
    "down": (
        "tear the site down (playbooks/teardown.yml); asks for confirmation unless --yes",
        "examples:\n  ecspress down --yes\n  ecspress down -i inventories/aws --limit prod --yes --i-mean-prod\n\n"
        "On the local inventory the stand-in stack is stopped afterwards (only what ecspress-local started),"
        " unless --keep-stack.",
    ),
    "doctor": (
        "check each prerequisite and print how to fix what fails",
        "examples:\n  ecspress doctor\n  ecspress doctor -i inventories/aws\n\n"
        "Checks Python, ansible-core and collection versions, boto3, the ecspress.wordpress collection, the\n"
        "Docker engine, and the local stack (moto, registry) or AWS credentials. Exit 2 when any check fails.",
    ),
}


def _verbose_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "-v", "--verbose", action="count", default=default, help="more Ansible output (-vvv for connection debug)"
    )


def _target_options(parser: argparse.ArgumentParser, with_limit: bool = True) -> None:
    parser.add_argument(
        "-i",
        "--inventory",
        default=DEFAULT_INVENTORY,
        help=f"inventory file or directory (default: {DEFAULT_INVENTORY}, the local stand-in stack)",
    )
    if with_limit:
        parser.add_argument(
            "--limit",
            metavar="ENV",
            help="environment (a group of the inventory: dev, staging, prod, ...); required when it holds several",
        )


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ecspress")
    except PackageNotFoundError:  # a checkout not installed with pip
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecspress",
        description="WordPress on AWS ECS Fargate, from nothing to a site answering, with one command.",
        epilog=MAIN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _verbose_option(parser, 0)
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (summary, epilog) in COMMANDS.items():
        sub = commands.add_parser(
            name, help=summary, description=summary, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        _verbose_option(sub, argparse.SUPPRESS)
        _target_options(sub, with_limit=name != "doctor")
    commands.choices["status"].add_argument("--json", action="store_true", help="print the status as JSON")
    for name in ("up", "deploy"):
        commands.choices[name].add_argument(
            "--json",
            action="store_true",
            help="print the result as JSON on stdout (image digest, task definition, deployment id, outcome, URL); "
            "the progress goes to stderr",
        )
    for name in ("up", "deploy"):
        commands.choices[name].add_argument(
            "--check",
            action="store_true",
            help="preview: say what a real run would create or change, change nothing (ansible --check --diff)",
        )
    down = commands.choices["down"]
    down.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    down.add_argument("--i-mean-prod", action="store_true", help="required to tear down --limit prod")
    down.add_argument(
        "--keep-stack", action="store_true", help="local inventory: leave the stand-in stack (moto, registry) running"
    )
    return parser


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "up": cmd_up,
    "deploy": cmd_deploy,
    "status": cmd_status,
    "down": cmd_down,
    "doctor": cmd_doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: 0 for --help, 2 for bad usage
        return int(exit_.code or 0)
    args.argv = argv
    root = settings.project_root()
    os.environ.setdefault("ECSPRESS_STATE_DIR", str(settings.state_dir(root)))
    try:
        return HANDLERS[args.command](args)
    except UsageError as error:
        print(f"ecspress: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ecspress: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
