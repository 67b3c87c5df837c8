# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide the state of an ECS rollout from the answers of the ECS (and ELBv2) API.

Private to the ecspress.wordpress collection. Pure: answers in, one decision out, no client.
The decision knows the outcomes AWS's own `services_stable` waiter does not:

* ``completed``   our deployment is the only one, running == desired, rolloutState COMPLETED
                  (when ECS reports one) and, behind a load balancer, its targets are healthy;
* ``in_progress`` still rolling;
* ``failed``      rolloutState FAILED (or a ServiceDeployment STOPPED / ROLLBACK_FAILED);
* ``rolled_back`` the circuit breaker rolled back to the previous task definition: a failure
                  of *our* deployment, never a success;
* ``stalled``     the new tasks keep stopping with the same failure (CannotPullContainerError,
                  ResourceInitializationError, exit code N, ELB health checks, OutOfMemory),
                  N times: ECS would loop (the circuit breaker may never fire: failedTasks can
                  stay 0 while tasks keep stopping), we stop and say why;
* ``superseded``  a newer deployment replaced ours mid-wait (or ours never became visible within the
                  grace period ECS's eventual consistency needs);
* ``not_found`` / ``inactive`` the service does not exist or was deleted.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ansible_collections.ecspress.wordpress.plugins.module_utils._references import family_revision

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
FAILED = "failed"
ROLLED_BACK = "rolled_back"
STALLED = "stalled"
SUPERSEDED = "superseded"
NOT_FOUND = "not_found"
INACTIVE = "inactive"
FINAL_STATES = frozenset({COMPLETED, FAILED, ROLLED_BACK, STALLED, SUPERSEDED, NOT_FOUND, INACTIVE})
FAILURE_STATES = FINAL_STATES - {COMPLETED}

# (kind, pattern over stopCode + stoppedReason + container reasons), first match wins.
_FAILURE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("CannotPullContainerError", re.compile(r"CannotPullContainer", re.I)),
    ("ResourceInitializationError", re.compile(r"ResourceInitializationError", re.I)),
    # Word boundaries: "OutOfMemoryError", "out of memory", "OOMKilled", never the "oom" of "room" or "zoom".
    ("OutOfMemory", re.compile(r"\bOutOfMemory|\bout of memory\b|\bOOM(?:Killed)?\b", re.I)),
    ("ELB health checks failed", re.compile(r"ELB health checks|health checks? failed|failed ELB", re.I)),
    ("container health check failed", re.compile(r"failed container health checks", re.I)),
    ("CannotStartContainerError", re.compile(r"CannotStartContainer", re.I)),
    ("CannotCreateContainerError", re.compile(r"CannotCreateContainer", re.I)),
    ("TaskFailedToStart", re.compile(r"TaskFailedToStart", re.I)),
)
_ROLLBACK_EVENT = re.compile(r"rolling back to deployment (?P<deployment>\S+?)\.?$")
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)  # noqa: UP017 (py<3.11 targets)


@dataclass(frozen=True)
class TaskFailure:
    """Why one stopped task of our deployment stopped."""

    task_arn: str
    kind: str
    reason: str
    exit_codes: tuple[int, ...] = ()

    @property
    def signature(self) -> str:
        codes = ",".join(str(code) for code in self.exit_codes)
        return f"{self.kind} (exit {codes})" if self.kind == "essential container exited" else self.kind


class Evidence(NamedTuple):
    primary: dict[str, Any]
    ours: dict[str, Any]
    failures: tuple[TaskFailure, ...]
    events: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    state: str
    reason: str
    primary: dict[str, Any] = field(default_factory=dict)
    ours: dict[str, Any] = field(default_factory=dict)
    failures: tuple[TaskFailure, ...] = ()
    events: tuple[str, ...] = ()

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def failed(self) -> bool:
        return self.state in FAILURE_STATES


@dataclass(frozen=True)
class Target:
    """Which deployment we wait for: a task definition (ARN or family:revision) or a deployment id."""

    task_definition: str | None = None
    deployment_id: str | None = None

    def matches(self, deployment: dict[str, Any]) -> bool:
        if self.deployment_id:
            return deployment.get("id") == self.deployment_id
        return same_task_definition(deployment.get("taskDefinition"), self.task_definition)


def same_task_definition(left: str | None, right: str | None) -> bool:
    return bool(left) and bool(right) and family_revision(left) == family_revision(right)


def created_at(record: dict[str, Any]) -> datetime.datetime:
    """A deployment's (or ServiceDeployment's) createdAt; the epoch when it has none."""
    value = record.get("createdAt")
    return value if isinstance(value, datetime.datetime) else _EPOCH


def newest_first(records: list[dict[str, Any]], since: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """The records created at or after ``since`` (all of them without one), newest first.

    ListServiceDeployments documents no order for its answer
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html),
    so the order is ours: createdAt descending, the API's order kept between equal times.
    """
    fresh = [record for record in records if since is None or created_at(record) >= since]
    return sorted(fresh, key=created_at, reverse=True)


def our_deployment(
    deployments: list[dict[str, Any]], target: Target, since: datetime.datetime | None = None
) -> dict[str, Any] | None:
    """Among DescribeServices' deployments, the newest one the target names.

    Those created at or after ``since`` (the wait's start) come first: an older deployment of the same
    task definition (an earlier attempt, rolled back and still draining) is not ours.
    """
    matching = [deployment for deployment in deployments if target.matches(deployment)]
    ranked = newest_first(matching, since) or newest_first(matching)
    return ranked[0] if ranked else None


def target_revision_arn(service_deployment: dict[str, Any]) -> str:
    """The service revision a ServiceDeployment deploys (ListServiceDeployments or DescribeServiceDeployments)."""
    described = (service_deployment.get("targetServiceRevision") or {}).get("arn")
    return str(described or service_deployment.get("targetServiceRevisionArn") or "")


def our_service_deployment(
    service_deployments: list[dict[str, Any]],
    task_definition_of: dict[str, str],
    task_definition: str | None,
    since: datetime.datetime | None,
) -> dict[str, Any] | None:
    """Our ServiceDeployment: the newest created at or after ``since`` whose target revision runs ``task_definition``.

    ``task_definition_of`` maps service revision ARNs to task definitions (DescribeServiceRevisions).
    Older ServiceDeployments are history: a ROLLBACK_SUCCESSFUL of an earlier deploy of the same revision
    is not ours. None: ours is not visible (yet); the caller decides from DescribeServices.
    """
    for service_deployment in newest_first(service_deployments, since):
        if same_task_definition(task_definition_of.get(target_revision_arn(service_deployment)), task_definition):
            return service_deployment
    return None


def classify_task(task: dict[str, Any]) -> TaskFailure:
    """Name the failure of one STOPPED task from its stopCode, stoppedReason and containers."""
    containers = task.get("containers") or []
    texts = [str(task.get("stopCode") or ""), str(task.get("stoppedReason") or "")]
    texts += [str(c.get("reason") or "") for c in containers]
    text = " ".join(t for t in texts if t)
    reason = str(task.get("stoppedReason") or next((c.get("reason") for c in containers if c.get("reason")), ""))
    for kind, pattern in _FAILURE_PATTERNS[:-1]:
        if pattern.search(text):
            return TaskFailure(str(task.get("taskArn")), kind, reason)
    exit_codes = tuple(
        int(c["exitCode"]) for c in containers if c.get("exitCode") not in (None, 0) and c.get("essential", True)
    )
    if exit_codes:
        return TaskFailure(str(task.get("taskArn")), "essential container exited", reason, exit_codes)
    kind = "TaskFailedToStart" if _FAILURE_PATTERNS[-1][1].search(text) else "task stopped"
    return TaskFailure(str(task.get("taskArn")), kind, reason or str(task.get("stopCode") or "stopped"))


def recent_stopped_tasks(tasks: list[dict[str, Any]], limit: int = 5) -> list[dict[str, Any]]:
    """The service's newest stopped tasks, of any task definition, each with the failure it stopped with.

    After a circuit-breaker rollback the primary deployment is the old, healthy one; this is what
    still says why the new one failed (``ecspress status`` shows the first).
    """
    newest = sorted(tasks, key=lambda task: str(task.get("stoppedAt") or task.get("createdAt") or ""), reverse=True)
    stopped = []
    for task in newest[:limit]:
        failure = classify_task(task)
        stopped.append(
            {
                "task_arn": failure.task_arn,
                "task_definition": family_revision(task.get("taskDefinitionArn")),
                "kind": failure.kind,
                "reason": failure.reason,
                "exit_codes": list(failure.exit_codes),
            }
        )
    return stopped


def recent_events(service: dict[str, Any], since: Any = None, limit: int = 5) -> tuple[str, ...]:
    events = service.get("events") or []
    if since is not None:
        events = [e for e in events if e.get("createdAt") is None or e["createdAt"] >= since]
    return tuple(str(e.get("message", "")) for e in events[:limit])


def _stalled(failures: list[TaskFailure], threshold: int) -> tuple[str, list[TaskFailure]] | None:
    if not failures:
        return None
    signature, count = Counter(f.signature for f in failures).most_common(1)[0]
    if count < threshold:
        return None
    return signature, [f for f in failures if f.signature == signature]


def _unhealthy_targets(health: list[dict[str, Any]] | None) -> list[str]:
    if health is None:
        return []
    return [
        f"{d.get('Target', {}).get('Id')}: {d.get('TargetHealth', {}).get('State')}"
        for d in health
        if d.get("TargetHealth", {}).get("State") != "healthy"
    ]


def _service_deployment_state(service_deployment: dict[str, Any] | None) -> tuple[str, str] | None:
    """Map a ServiceDeployment (ECS's newer API) status to our states, when ECS gives one."""
    if not service_deployment:
        return None
    status = service_deployment.get("status")
    reason = str(service_deployment.get("statusReason") or "")
    mapping = {
        "ROLLBACK_SUCCESSFUL": ROLLED_BACK,
        "ROLLBACK_IN_PROGRESS": ROLLED_BACK,
        "ROLLBACK_FAILED": FAILED,
        "STOPPED": FAILED,
        "STOP_REQUESTED": FAILED,
    }
    if status in mapping:
        return mapping[status], f"ECS service deployment {status}" + (f": {reason}" if reason else "")
    return None


def decide(
    service: dict[str, Any] | None,
    target: Target,
    stopped_tasks: list[dict[str, Any]] | None = None,
    target_health: list[dict[str, Any]] | None = None,
    service_deployment: dict[str, Any] | None = None,
    fail_on_stalled_after: int = 3,
    events_since: Any = None,
    visibility_grace: bool = False,
) -> Decision:
    """The state of our rollout, from one poll's answers.

    ``stopped_tasks`` are STOPPED tasks of the service (any deployment; only ours count);
    ``target_health`` the target group's TargetHealthDescriptions (None: not behind a load balancer);
    ``service_deployment`` the ServiceDeployment of our deployment when the API offers it;
    ``events_since`` when the wait started: older events are not shown, older deployments of the
    target's task definition are not ours while a newer one is there;
    ``visibility_grace`` true while a deployment that is not visible yet still counts as in progress
    (ECS's read APIs are eventually consistent right after UpdateService).
    """
    if not service:
        return Decision(NOT_FOUND, "the service does not exist")
    events = recent_events(service, events_since)
    name = str(service.get("serviceName", "service"))
    if service.get("status") == "INACTIVE":
        return Decision(INACTIVE, f"service {name} is INACTIVE (deleted)", events=events)
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), deployments[0] if deployments else {})
    ours = our_deployment(deployments, target, events_since)
    if not target.task_definition and not target.deployment_id:
        ours = primary
    failures = [classify_task(t) for t in stopped_tasks or [] if _task_of(t, ours, target)]
    failures = [f for f in failures if f.kind != "task stopped" or "Scaling activity" not in f.reason]
    context = Evidence(primary, ours or {}, tuple(failures), events)

    mapped = _service_deployment_state(service_deployment)
    if mapped:
        return Decision(mapped[0], _with_cause(mapped[1], failures), *context)

    if ours is None:
        return _lost(service, target, context, visibility_grace)
    if ours.get("rolloutState") == "FAILED":
        rolled_back = ours.get("status") != "PRIMARY" and not target.matches(primary)
        reason = str(ours.get("rolloutStateReason") or "rollout FAILED")
        if rolled_back:
            reason = f"rolled back to {family_revision(primary.get('taskDefinition'))}: {reason}"
        return Decision(ROLLED_BACK if rolled_back else FAILED, _with_cause(reason, failures), *context)

    stalled = _stalled(failures, fail_on_stalled_after)
    if stalled:
        signature, same = stalled
        arns = ", ".join(f.task_arn.rsplit("/", 1)[-1] for f in same[:3])
        reason = f"{len(same)} tasks of {family_revision(ours.get('taskDefinition'))} stopped with {signature}: "
        return Decision(STALLED, reason + f"{same[0].reason} (tasks {arns})", *context)

    if ours.get("status") != "PRIMARY":
        return Decision(SUPERSEDED, _superseded_reason(primary, ours), *context)
    return _progress(service, ours, target_health, context)


def _task_of(task: dict[str, Any], ours: dict[str, Any] | None, target: Target) -> bool:
    """Whether a stopped task belongs to our deployment.

    A task a deployment started names it in ``startedBy`` (``ecs-svc/...``): only ours count, not those
    of an earlier deployment of the same revision (rolled back before). A one-off task (RunTask: its group is
    ``family:<family>``, an install or admin command of the same revision) is never a deployment's. Other tasks: by
    task definition.
    """
    if str(task.get("group") or "").startswith("family:"):
        return False
    started_by = str(task.get("startedBy") or "")
    if ours and started_by.startswith("ecs-svc/"):
        return started_by == ours.get("id")
    return same_task_definition(
        task.get("taskDefinitionArn"), (ours or {}).get("taskDefinition") or target.task_definition
    )


def _lost(service: dict[str, Any], target: Target, context: Evidence, visibility_grace: bool) -> Decision:
    """Our deployment is not among the service's deployments any more (or not yet, or never was)."""
    events = context.events
    rollback = next((m for m in events if _ROLLBACK_EVENT.search(m)), None)
    wanted = target.deployment_id or family_revision(target.task_definition)
    if rollback:
        return Decision(ROLLED_BACK, f"{wanted} was rolled back: {rollback}", *context)
    if visibility_grace:
        return Decision(IN_PROGRESS, f"deployment {wanted} is not visible yet (ECS is eventually consistent)", *context)
    if not same_task_definition(service.get("taskDefinition"), target.task_definition) and target.task_definition:
        reason = f"the service runs {family_revision(service.get('taskDefinition'))}, not {wanted}"
        return Decision(SUPERSEDED, reason, *context)
    return Decision(SUPERSEDED, f"deployment {wanted} is gone from the service", *context)


def _superseded_reason(primary: dict[str, Any], ours: dict[str, Any]) -> str:
    return (
        f"a newer deployment {primary.get('id')} ({family_revision(primary.get('taskDefinition'))}) "
        f"replaced ours ({family_revision(ours.get('taskDefinition'))})"
    )


def _progress(
    service: dict[str, Any],
    ours: dict[str, Any],
    target_health: list[dict[str, Any]] | None,
    context: Evidence,
) -> Decision:
    desired, running = int(ours.get("desiredCount", 0)), int(ours.get("runningCount", 0))
    others = [d for d in service.get("deployments") or [] if d is not ours]
    state = ours.get("rolloutState")
    counts = f"{running}/{desired} running, {int(ours.get('pendingCount', 0))} pending"
    if state == "COMPLETED" or (state is None and running == desired and not others):
        if desired > 0:
            unhealthy = _unhealthy_targets(target_health)
            if unhealthy or (target_health is not None and len(target_health) < desired):
                shown = ", ".join(unhealthy[:3]) or f"{len(target_health or [])}/{desired} targets registered"
                return Decision(IN_PROGRESS, f"{counts}; waiting for healthy targets ({shown})", *context)
        return Decision(COMPLETED, f"{counts}; rollout completed", *context)
    return Decision(IN_PROGRESS, f"{counts}" + (f"; {ours.get('rolloutStateReason')}" if state else ""), *context)


def _with_cause(reason: str, failures: list[TaskFailure]) -> str:
    if not failures:
        return reason
    cause = Counter(f.signature for f in failures).most_common(1)[0][0]
    example = next(f for f in failures if f.signature == cause)
    if not example.reason or example.reason.startswith(cause):
        return f"{reason} — {example.reason or cause}"
    return f"{reason} — {cause}: {example.reason}"


def timeout_reason(decision: Decision, seconds: float) -> str:
    last = "; ".join(decision.events[:3]) or "no service events"
    return f"timed out after {seconds:.0f}s while {decision.state}: {decision.reason}. Last events: {last}"
