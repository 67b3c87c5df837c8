"""The ``ecspress`` command line: its arguments, help and examples, and ``main``, which hands each command to
``ecspress.commands``.

Exit codes: 0 ok, 1 the run failed, 2 bad usage or a missing prerequisite (``ecspress.errors``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ecspress import settings
from ecspress.commands import (
    cmd_admin,
    cmd_deploy,
    cmd_doctor,
    cmd_down,
    cmd_logs,
    cmd_rollback,
    cmd_status,
    cmd_up,
    cmd_wp,
)
from ecspress.errors import EXIT_USAGE, UsageError

DEFAULT_INVENTORY = "inventories/local"

MAIN_EPILOG = """\
examples:
  ecspress doctor                              check every prerequisite, say how to fix what fails
  ecspress up                                  the whole site on the local stand-in stack
  ecspress up -i inventories/aws --limit dev   the whole site on AWS, dev environment
  ecspress deploy                              rebuild (or reuse) the image, push, roll, wait
  ecspress rollback                            back to the previous revision, wait
  ecspress status --json                       the service, its rollout, image digest and URL
  ecspress logs --follow                       the WordPress containers' log lines, as they come
  ecspress admin reset-password admin          a new password into the admin secret, set in WordPress
  ecspress down --yes                          tear everything down (local: stop the stack too)

exit codes: 0 ok, 1 the run failed (status: the rollout failed, rolled back or stalled), 2 bad usage or a
missing prerequisite; with --check, 2 also means a real run would change something (0: nothing would).
Run artifacts (Ansible events, stdout) are kept in .ecspress/runs/<timestamp>-<command>/.
From a checkout, ecspress runs its playbooks; installed with pip, those of the ecspress.wordpress collection
installed where Ansible looks (the project: the nearest folder up with an ansible.cfg).
ECSPRESS_ROOT overrides the checkout or project ecspress runs from; ECSPRESS_PLAYBOOK_DIR (for tests)
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
        "examples:\n  ecspress deploy\n  ecspress deploy -i inventories/aws --limit dev\n"
        "  ecspress deploy -i inventories/aws --limit prod --image 1234….dkr.ecr.eu-west-1.amazonaws.com/"
        "site-dev/wordpress@sha256:…   # promote dev's image, no build",
    ),
    "rollback": (
        "roll the service back to an earlier revision or image and wait (playbooks/rollback.yml); nothing is built",
        "examples:\n  ecspress rollback                  # the revision before the one the service runs\n"
        "  ecspress rollback --to 6           # revision 6 of the service's task definition family\n"
        "  ecspress rollback --to sha256:…    # that digest of the running image's repository\n"
        "  ecspress rollback -i inventories/aws --limit prod --json\n\n"
        "A revision whose image is no longer in ECR is refused before the service is touched.",
    ),
    "status": (
        "show the service, desired/running tasks, rollout state, image digest, URL and last events",
        "examples:\n  ecspress status\n  ecspress status --json | jq .running_count\n"
        "  ecspress status -i inventories/aws --limit prod\n\nRead-only: nothing is changed.",
    ),
    "logs": (
        "the WordPress containers' log lines from CloudWatch Logs, oldest first, each with its task id",
        "examples:\n  ecspress logs                      # the last 10 minutes\n"
        "  ecspress logs --since 2h\n  ecspress logs --follow            # then new lines as they come (Ctrl-C ends)\n"
        "  ecspress logs -i inventories/aws --limit prod --since 1d\n\n"
        "Locally the stand-in ships the local tasks' output into its CloudWatch Logs, so the same command works.",
    ),
    "admin": (
        "run an admin command as a one-off ECS task of the running revision (playbooks/admin.yml)",
        "commands:\n  reset-password USER     a new password, generated into the secret <name>/wordpress-admin (never\n"
        "                          printed), then set for USER\n"
        "  site-url URL            WordPress's home and siteurl, the old URL replaced in posts and options\n"
        "  activate-theme SLUG     a theme the image ships\n  activate-plugin SLUG    a plugin the image ships\n\n"
        "examples:\n  ecspress admin activate-theme twentytwentyfive\n"
        "  ecspress admin reset-password admin -i inventories/aws --limit prod\n"
        "  ecspress admin site-url https://www.example.com/ --json\n\n"
        "The task runs the deployed image and settings inside the VPC (never through the public URL); its output is\n"
        "printed after the run. Exit 0 also when there was nothing to change (the output says so).",
    ),
    "wp": (
        "run WP-CLI as a one-off ECS task of the running revision (when the image carries WP-CLI)",
        "examples:\n  ecspress wp -- plugin list\n  ecspress wp -i inventories/aws --limit prod -- option get home\n\n"
        "The image does not carry WP-CLI yet (/usr/local/bin/wp): the command then fails and says so.",
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
    logs = commands.choices["logs"]
    logs.add_argument("--since", default="10m", help="how far back: 30s, 10m, 2h, 1d (default: 10m)")
    logs.add_argument("--follow", "-f", action="store_true", help="keep printing new lines until interrupted")
    admin = commands.choices["admin"]
    admin.add_argument(
        "admin_command", choices=["reset-password", "site-url", "activate-theme", "activate-plugin"], metavar="COMMAND"
    )
    admin.add_argument("admin_args", nargs=1, metavar="ARG", help="the user, URL, theme or plugin")
    commands.choices["wp"].add_argument("wp_args", nargs="+", metavar="ARGS", help="WP-CLI's arguments, after --")
    for name in ("up", "deploy", "rollback", "admin", "wp"):
        commands.choices[name].add_argument(
            "--json",
            action="store_true",
            help="print the result as JSON on stdout (image digest, task definition, deployment id, outcome, URL); "
            "the progress goes to stderr",
        )
    commands.choices["deploy"].add_argument(
        "--image",
        metavar="REPO@sha256:…",
        default="",
        help="promote this image (tested in another environment) instead of building: it is copied into this "
        "environment's repository with its digest unchanged, then deployed",
    )
    commands.choices["rollback"].add_argument(
        "--to",
        metavar="REVISION|DIGEST",
        default="",
        help="a revision (6, family:6 or its ARN) or an image by digest (sha256:… or repo@sha256:…); "
        "default: the revision before the one the service runs",
    )
    for name in ("up", "deploy", "rollback", "admin", "wp"):
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
    "rollback": cmd_rollback,
    "status": cmd_status,
    "logs": cmd_logs,
    "admin": cmd_admin,
    "wp": cmd_wp,
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
    except (UsageError, settings.CollectionNotFound) as error:
        print(f"ecspress: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ecspress: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
