"""What each ``ecspress`` command does (up, deploy, rollback, down, status, logs, doctor) once its arguments are parsed.

Each command resolves its inventory, takes the environment's run lock where it changes something, runs its
playbook (``ecspress.runner``) and turns the result into output and an exit code (``ecspress.errors``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ecspress import settings
from ecspress.errors import EXIT_CHANGES, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from ecspress.inventory import Inventory, check_limit, resolve_inventory
from ecspress.lock import LockHeld, RunLock, lock_path
from ecspress.progress import FAILED_MARK
from ecspress.runner import Run, RunResult, report, run_playbook

# `ecspress status` exits EXIT_FAILED for these rollout states (module_utils/_rollout.py).
UNHEALTHY_ROLLOUTS = frozenset({"failed", "rolled_back", "stalled"})
# `up|deploy --json`: the fields playbooks/tasks/result.yml publishes.
RESULT_FIELDS = (
    "image",
    "digest",
    "task_definition_arn",
    "deployment_id",
    "outcome",
    "reason",
    "url",
    "admin_password_at",
    "installed_now",
)


def _stack() -> Any:
    from ecspress.local import stack

    return stack


def start_local_stack(out: Any = None) -> None:
    stack = _stack()
    out = out or sys.stdout
    if settings.installed():
        use_running_local_stack(stack, out)
        return
    print("local stack:", file=out)
    try:
        stack.start(say=lambda line: print(line, file=out))
    except stack.StackError as error:
        raise UsageError(f"the local stack did not start: {error}") from None


def use_running_local_stack(stack: Any, out: Any) -> None:
    """Installed outside a checkout, the CLI uses the stand-in stack a checkout started (`make stack` there): it has
    no stack of its own to start, and two would fight over the ports."""
    moto = f"http://127.0.0.1:{stack.MOTO_PORT}"
    registry = f"http://127.0.0.1:{stack.REGISTRY_PORT}"
    if not (stack.moto_answers(moto) and stack.registry_answers(registry) and stack.docker_answers()):
        raise UsageError(
            f"the local stack is not running (moto {moto}, registry {registry}, Docker): start it from an ecspress "
            "checkout (`make stack`); an installed ecspress uses it, it does not start one"
        )
    print(f"local stack: running (moto {moto}, registry {registry})", file=out)


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


AfterRun = Callable[[RunResult, Any], dict[str, Any]]


def cmd_up(
    args: argparse.Namespace,
    playbook: str = "site.yml",
    extravars: dict[str, Any] | None = None,
    builds: bool = True,
    after: AfterRun | None = None,
) -> int:
    """up, deploy, rollback and admin: the run under the environment's lock; `builds`: the run may build an image, so
    the Docker engine must answer (a rollback builds nothing and needs it only for the local site). `after` reads
    what the run published once it ended (printing to the progress stream) and adds fields to the --json document."""
    root, inventory = _context(args)

    def body() -> int:
        # --json: the progress and messages go to stderr, stdout holds the JSON document only.
        out = sys.stderr if args.json else sys.stdout
        if inventory.is_local:
            start_local_stack(out)
        if builds or inventory.is_local:
            require_docker_engine()
        playbook_path = settings.playbook_path(root, playbook)
        run = Run(
            root,
            args.command,
            playbook_path,
            inventory,
            args.limit,
            args.verbose,
            extravars or {},
            check=args.check,
            progress_out=out,
        )
        result = run_playbook(run)
        code = report(result, out=out)
        if args.check and code == EXIT_OK:
            code = check_outcome(result.changed, out=out)
        extra = after(result, out) if after is not None else {}
        if args.json:
            print(json.dumps({**result_document(result, code, args.check), **extra}, indent=2, sort_keys=True))
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
    if args.image:  # a promotion copies an image between registries: no Docker engine involved
        return cmd_up(args, playbook="deploy.yml", extravars={"ecspress_promote_image": args.image}, builds=False)
    return cmd_up(args, playbook="deploy.yml")


def cmd_rollback(args: argparse.Namespace) -> int:
    return cmd_up(args, playbook="rollback.yml", extravars={"ecspress_rollback_to": args.to}, builds=False)


def admin_output(result: RunResult, out: Any) -> dict[str, Any]:
    """What the admin command printed (its task's log stream), shown after the run and returned for --json."""
    published = dict(result.custom_stats.get("ecspress_admin") or {})
    lines: list[str] = []
    if published.get("log_group") and published.get("log_stream"):
        from ecspress import logs

        client = logs_client(
            {"log_region": published.get("region"), "aws_endpoint_url": published.get("aws_endpoint_url")},
            local=bool(published.get("aws_endpoint_url")),
        )
        lines = logs.stream_messages(client, str(published["log_group"]), str(published["log_stream"]))
        task = str(published.get("task_arn", "")).rsplit("/", 1)[-1]
        print(f"output of the one-off task {task}:", file=out)
        for line in lines:
            print(f"  {line}", file=out)
    return {
        "admin_task_arn": published.get("task_arn", ""),
        "admin_exit_code": published.get("exit_code"),
        "admin_output": lines,
    }


def cmd_admin(args: argparse.Namespace) -> int:
    words = [args.admin_command, *args.admin_args]
    return cmd_up(
        args, playbook="admin.yml", extravars={"ecspress_admin_command": words}, builds=False, after=admin_output
    )


def cmd_wp(args: argparse.Namespace) -> int:
    args.admin_command, args.admin_args = "wp", list(args.wp_args)
    return cmd_admin(args)


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
    ("admin_password", "admin password"),
)


def render_status(status: Mapping[str, Any]) -> str:
    lines = [f"{label + ':':<17}{status[key]}" for key, label in STATUS_FIELDS if status.get(key) not in (None, "")]
    events = status.get("events") or []
    if events:
        lines.append("last events:")
        lines.extend(f"  {event}" for event in events)
    return "\n".join(lines)


def read_status(args: argparse.Namespace) -> tuple[dict[str, Any], int | None, bool]:
    """Run status.yml (read-only): what it published, an exit code when the run itself failed, and whether the
    inventory is the local stand-in's."""
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
        return {}, report(result, out=sys.stderr), inventory.is_local
    return dict(result.custom_stats.get("ecspress_status", {})), None, inventory.is_local


def cmd_status(args: argparse.Namespace) -> int:
    status, failed, _ = read_status(args)
    if failed is not None:
        return failed
    print(json.dumps(status, indent=2, sort_keys=True) if args.json else render_status(status))
    return EXIT_FAILED if status.get("rollout_state") in UNHEALTHY_ROLLOUTS else EXIT_OK


def logs_client(status: Mapping[str, Any], local: bool) -> Any:
    """CloudWatch Logs of the site's region (and endpoint: moto for the local stack, with its credentials)."""
    import boto3

    credentials = settings.local_stack_environment() if local else {}
    session = boto3.Session(
        aws_access_key_id=credentials.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY"),
        region_name=str(status.get("log_region") or "") or None,
    )
    return session.client("logs", endpoint_url=str(status.get("aws_endpoint_url") or "") or None)


def cmd_logs(args: argparse.Namespace) -> int:
    import time

    from ecspress import logs

    try:
        since = logs.since_seconds(args.since)
    except ValueError as error:
        raise UsageError(str(error)) from None
    status, failed, local = read_status(args)
    if failed is not None:
        return failed
    if not status.get("exists"):
        print(f"ecspress: service {status.get('service', '?')} does not exist: no logs to show", file=sys.stderr)
        return EXIT_FAILED
    group = str(status.get("log_group") or "")
    if not group:
        print(
            "ecspress: the service's task definition sends no logs to CloudWatch (no awslogs driver)", file=sys.stderr
        )
        return EXIT_FAILED
    client = logs_client(status, local)
    start = int((time.time() - since) * 1000)
    events = logs.follow(client, group, start) if args.follow else logs.events_since(client, group, start)
    try:
        for event in events:
            print(logs.render(event), flush=True)
    except KeyboardInterrupt:  # --follow ends with Ctrl-C
        return EXIT_OK
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from ecspress import doctor

    root = settings.project_root()
    inventory = resolve_inventory(args.inventory, root)
    checks = doctor.run_checks(root, inventory_kind="local" if inventory.is_local else "aws")
    print(doctor.render(checks))
    return EXIT_OK if all(check.ok for check in checks) else EXIT_USAGE
