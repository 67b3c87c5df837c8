# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How a one-off ECS task ended: pure decisions over ``DescribeTasks`` answers.

Private to the ecspress.wordpress collection; ``ecs_run_task`` is its caller. A one-off task (an admin
command run with ``RunTask`` and a command override) succeeds only when it reached ``STOPPED`` and its
container exited with one of the codes the caller expects. Every other end says why, in one line, with
ECS's own words: a task that never started (``TaskFailedToStart``: the image or a secret could not be
fetched), a container killed for its memory, a non-zero exit code.
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Task.html (stopCode, stoppedReason)
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Container.html (exitCode, reason)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """Where a one-off task stands: ``running`` (not stopped yet), ``succeeded`` or ``failed`` (with reason)."""

    state: str
    exit_code: int | None = None
    reason: str = ""


def container_of(task: dict[str, Any], name: str) -> dict[str, Any] | None:
    for container in task.get("containers") or []:
        if container.get("name") == name:
            return dict(container)
    return None


def outcome(task: dict[str, Any], container: str, expected_exit_codes: tuple[int, ...] = (0,)) -> Outcome:
    """The outcome of ``task`` for the container that ran the command."""
    if task.get("lastStatus") != "STOPPED":
        return Outcome("running")
    found = container_of(task, container)
    exit_code = found.get("exitCode") if found else None
    if exit_code is not None and int(exit_code) in expected_exit_codes:
        return Outcome("succeeded", int(exit_code))
    return Outcome("failed", None if exit_code is None else int(exit_code), failure_reason(task, found, exit_code))


def awslogs_stream(task_definition: dict[str, Any], container: str, task_arn: str) -> tuple[str, str]:
    """(log group, stream) where the awslogs driver writes ``container``'s output of the task: the stream is
    ``<awslogs-stream-prefix>/<container>/<task id>`` (just the task id without a prefix); ("", "") without awslogs.
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html"""
    for definition in task_definition.get("containerDefinitions") or []:
        if definition.get("name") != container:
            continue
        configuration = definition.get("logConfiguration") or {}
        options = configuration.get("options") or {}
        if configuration.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
            return "", ""
        task_id = task_arn.rsplit("/", 1)[-1]
        prefix = options.get("awslogs-stream-prefix")
        return str(options["awslogs-group"]), f"{prefix}/{container}/{task_id}" if prefix else task_id
    return "", ""


def failure_reason(task: dict[str, Any], container: dict[str, Any] | None, exit_code: Any) -> str:
    """One line: what stopped the task, then what the container says (its reason or exit code)."""
    stop_code = str(task.get("stopCode") or "")
    stopped_reason = str(task.get("stoppedReason") or "")
    parts = [f"{stop_code}: {stopped_reason}" if stop_code and stopped_reason else stop_code or stopped_reason]
    if container is None:
        parts.append("the task has no container of that name")
    elif container.get("reason"):
        parts.append(str(container["reason"]))
    if exit_code is not None:
        parts.append(f"exit code {int(exit_code)}")
    return "; ".join(part for part in parts if part) or "the task stopped without a reason"
