#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_deployment_wait
short_description: Wait for an ECS rollout and say exactly why it failed
version_added: 0.1.0
description:
  - Polls an ECS service until the deployment of a given task definition (or deployment id)
    completed, or fails at the first poll that shows it will not, with a one-line reason.
  - Unlike the C(services_stable) waiter, which polls for up to 10 minutes and then only says it
    timed out, this module recognises a circuit-breaker rollback (reported as a failure of this
    deployment, never as success), a FAILED rollout, tasks that keep stopping with the same error
    (C(CannotPullContainerError), C(ResourceInitializationError), an essential container exiting,
    ELB health checks, out of memory) even when the circuit breaker never fires, a newer deployment
    replacing this one, and a service that does not exist or is INACTIVE.
  - Behind a load balancer, C(running == desired) is not enough; the targets in the service's
    target groups must be C(healthy) before the rollout counts as completed.
  - Uses ECS's ServiceDeployments API (C(ListServiceDeployments), all pages, then
    C(DescribeServiceRevisions) and C(DescribeServiceDeployments)) when the endpoint offers it. Only
    service deployments created at or after the wait started (with I(deployment_id), at or after that
    deployment was created) count, newest first. An older one of the same task definition, for example
    a C(ROLLBACK_SUCCESSFUL) from an earlier deploy of the same revision, is history, not this rollout.
  - When the ServiceDeployments API answers C(UnsupportedFeatureException), an unknown operation or
    C(AccessDeniedException), the module warns once and decides from the deployments of C(describe_services).
  - ECS's read APIs are eventually consistent, so right after C(UpdateService) the new deployment may not be
    visible yet. For the first 60 seconds of the wait such a deployment counts as in progress, not as
    superseded.
author:
  - ecspress maintainers (@ecspress)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name or ARN of the ECS service.
    type: str
    required: true
  task_definition:
    description:
      - The task definition the rollout deploys, as an ARN or C(family:revision).
      - Without it (and without I(deployment_id)) the current PRIMARY deployment is waited for.
    type: str
  deployment_id:
    description:
      - The ECS deployment id (C(ecs-svc/...)) to wait for, as C(UpdateService) returned it
        (M(ecspress.wordpress.ecs_deploy) returns it as I(deployment_id)).
      - More precise than I(task_definition) when the same revision was deployed before.
    type: str
  timeout:
    description: Seconds to wait at most. Must be greater than 0.
    type: int
    default: 900
  poll_interval:
    description:
      - Seconds between the first two polls. Must be greater than 0.
      - Without I(max_poll_interval) every interval is this long.
    type: int
    default: 10
  max_poll_interval:
    description:
      - Longest interval between two polls, in seconds. When set, the interval grows by half after
        every poll, from I(poll_interval) up to this (an adaptive backoff for long rollouts).
      - Must be at least I(poll_interval).
    type: int
    version_added: 0.1.0
  fail_on_stalled_after:
    description:
      - How many stopped tasks of the deployment with the same failure end the wait as C(stalled).
      - Must be at least 1.
    type: int
    default: 3
  target_group_health:
    description: Require the targets of the service's target groups to be healthy before C(completed).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Polls once and returns the current state without waiting or failing.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  idempotent:
    support: full
    description: Only reads.
notes:
  - The module never changes anything; C(changed) is always false.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait for the deployment of a new revision
  ecspress.wordpress.ecs_deployment_wait:
    cluster: ecspress-prod
    service: ecspress-prod
    deployment_id: "{{ deploy.deployment_id }}"
    timeout: 900
    poll_interval: 5
    max_poll_interval: 30
    fail_on_stalled_after: 3

- name: Report the current rollout state without waiting
  ecspress.wordpress.ecs_deployment_wait:
    cluster: ecspress-prod
    service: ecspress-prod
  check_mode: true
  register: rollout
"""

RETURN = r"""
state:
  description: >-
    C(completed), C(in_progress) (check mode), C(failed), C(rolled_back), C(stalled), C(superseded),
    C(not_found), C(inactive) or C(timeout).
  returned: always
  type: str
  sample: stalled
reason:
  description: One line saying why the rollout is in that state.
  returned: always
  type: str
  sample: "3 tasks of wp:7 stopped with CannotPullContainerError: ... not found (tasks 1a, 2b, 3c)"
deployment:
  description: The service's PRIMARY deployment, snake_cased.
  returned: always
  type: dict
  sample: {"id": "ecs-svc/123", "status": "PRIMARY", "rollout_state": "IN_PROGRESS", "task_definition": "arn:..."}
running_count:
  description: Running tasks of the deployment waited for.
  returned: always
  type: int
desired_count:
  description: Desired tasks of the deployment waited for.
  returned: always
  type: int
pending_count:
  description: Pending tasks of the deployment waited for.
  returned: always
  type: int
failed_count:
  description: Failed tasks ECS counted for the deployment waited for (C(failedTasks)).
  returned: always
  type: int
stopped_tasks:
  description: Stopped tasks of the deployment, with the failure each one stopped with.
  returned: always
  type: list
  elements: dict
  sample: [{"task_arn": "arn:...", "kind": "CannotPullContainerError", "reason": "...", "exit_codes": []}]
recent_stopped_tasks:
  description:
    - The service's newest stopped tasks (at most 5) of any task definition, with the failure each one
      stopped with. After a circuit-breaker rollback this still names why the rolled-back deployment failed.
  returned: always
  type: list
  elements: dict
  sample: [{"task_arn": "arn:...", "task_definition": "wp:8", "kind": "CannotPullContainerError", "reason": "..."}]
events:
  description: Service events seen during the wait, newest first.
  returned: always
  type: list
  elements: str
polls:
  description: How many times the service was polled.
  returned: always
  type: int
seconds_waited:
  description: Seconds spent waiting.
  returned: always
  type: float
"""

import datetime
import time
from collections.abc import Callable
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._ecs import describe_service
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import (
    Decision,
    Target,
    created_at,
    decide,
    newest_first,
    our_deployment,
    our_service_deployment,
    recent_stopped_tasks,
    target_revision_arn,
    timeout_reason,
)

# Error codes of the ServiceDeployments API that mean "not here": fall back to describe_services.
# UnsupportedFeatureException: a region (or endpoint) without the feature; AccessDeniedException: a
# policy without ecs:ListServiceDeployments / DescribeServiceDeployments / DescribeServiceRevisions
# (the module warns, naming it); the others: an endpoint that does not know the operation.
SERVICE_DEPLOYMENTS_UNAVAILABLE = [
    "UnsupportedFeatureException",
    "AccessDeniedException",
    "UnknownOperationException",
    "InvalidAction",
    "NotImplemented",
]
# HTTP statuses of an endpoint that does not route the operation at all.
SERVICE_DEPLOYMENTS_UNROUTED = (404, 501)
# Clock skew allowed between ECS's createdAt and this host's clock (and ecs_deploy's call before the wait).
CLOCK_SKEW = datetime.timedelta(seconds=5)
# ECS creates a deployment and its ServiceDeployment together, on its own clock: at most this far apart.
SAME_DEPLOYMENT = datetime.timedelta(seconds=1)
# Seconds during which a deployment that is not visible yet counts as in progress (eventual consistency).
VISIBILITY_GRACE = 60.0
# ListServiceDeployments pages read at most per poll (100 service deployments each).
MAX_PAGES = 10


class Poller:
    """One poll = the few reads a decision needs; no decision logic here."""

    def __init__(self, ecs: Any, elbv2: Any, cluster: str, service: str) -> None:
        self.ecs, self.elbv2, self.cluster, self.service = ecs, elbv2, cluster, service
        self.service_deployments_available = True
        self.unavailable = ""  # why the ServiceDeployments API is not used, once it is not
        self.last_stopped: list[dict[str, Any]] = []  # the latest poll's stopped tasks, for the result

    def describe_service(self) -> dict[str, Any] | None:
        # INACTIVE too: the decision reports a service deleted mid-wait as such.
        return describe_service(self.ecs, self.cluster, self.service, active_only=False)

    def stopped_tasks(self) -> list[dict[str, Any]]:
        arns = self.ecs.list_tasks(
            cluster=self.cluster, serviceName=self.service, desiredStatus="STOPPED", aws_retry=True
        ).get("taskArns", [])
        if not arns:
            self.last_stopped = []
            return []
        tasks = self.ecs.describe_tasks(cluster=self.cluster, tasks=arns[:100], aws_retry=True).get("tasks", [])
        self.last_stopped = list(tasks)
        return self.last_stopped

    def target_health(self, service: dict[str, Any]) -> list[dict[str, Any]] | None:
        groups = [lb["targetGroupArn"] for lb in service.get("loadBalancers") or [] if lb.get("targetGroupArn")]
        if not groups:
            return None
        health: list[dict[str, Any]] = []
        for arn in groups:
            answer = self.elbv2.describe_target_health(TargetGroupArn=arn, aws_retry=True)
            health.extend(answer.get("TargetHealthDescriptions", []))
        return health

    def list_service_deployments(self, since: datetime.datetime) -> list[dict[str, Any]]:
        """Every page of ListServiceDeployments created after ``since`` (ECS filters, we filter again)."""
        request: dict[str, Any] = {
            "cluster": self.cluster,
            "service": self.service,
            "createdAt": {"after": since},
            "maxResults": 100,
        }
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            page = self.ecs.list_service_deployments(aws_retry=True, **request)
            found.extend(page.get("serviceDeployments") or [])
            if not page.get("nextToken"):
                break
            request["nextToken"] = page["nextToken"]
        return newest_first(found, since)

    def service_deployment(self, task_definition: str | None, since: datetime.datetime) -> dict[str, Any] | None:
        """Our ServiceDeployment (the newest since ``since`` deploying ``task_definition``), if visible.

        None when it is not visible (yet), and when the endpoint has no ServiceDeployments API (then
        it is not asked again; ``unavailable`` says why).
        """
        if not self.service_deployments_available or not task_definition:
            return None
        try:
            briefs = self.list_service_deployments(since)
            revisions = list(dict.fromkeys(target_revision_arn(b) for b in briefs if target_revision_arn(b)))[:20]
            if not revisions:
                return None
            answer = self.ecs.describe_service_revisions(serviceRevisionArns=revisions, aws_retry=True)
            task_definition_of = {
                str(revision.get("serviceRevisionArn")): str(revision.get("taskDefinition") or "")
                for revision in answer.get("serviceRevisions") or []
            }
            brief = our_service_deployment(briefs, task_definition_of, task_definition, since)
            if brief is None:
                return None
            arn = str(brief["serviceDeploymentArn"])
            described = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn], aws_retry=True)
        except is_boto3_error_code(SERVICE_DEPLOYMENTS_UNAVAILABLE) as error:
            self._unavailable(str(error.response["Error"]["Code"]))
            return None
        except botocore.exceptions.ClientError as error:  # pylint: disable=duplicate-except
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if status in SERVICE_DEPLOYMENTS_UNROUTED:
                self._unavailable(f"HTTP {status}")
                return None
            raise
        except AttributeError:  # a botocore without the API
            self._unavailable("this botocore has no ListServiceDeployments")
            return None
        return dict(next(iter(described.get("serviceDeployments") or []), brief))

    def _unavailable(self, why: str) -> None:
        self.service_deployments_available = False
        self.unavailable = why


def poll_once(
    poller: Poller,
    target: Target,
    params: dict[str, Any],
    since: datetime.datetime,
    visibility_grace: bool = False,
) -> Decision:
    service = poller.describe_service()
    if not service or service.get("status") == "INACTIVE":
        return decide(service, target)
    health = poller.target_health(service) if params["target_group_health"] else None
    ours = our_deployment(service.get("deployments") or [], target, since)
    deployed_since = since
    if target.deployment_id and ours:  # the deployment UpdateService started: its own createdAt bounds history
        deployed_since = created_at(ours) - SAME_DEPLOYMENT
    task_definition = target.task_definition or (ours or {}).get("taskDefinition")
    return decide(
        service,
        target,
        stopped_tasks=poller.stopped_tasks(),
        target_health=health,
        service_deployment=poller.service_deployment(task_definition, deployed_since)
        if target.task_definition or target.deployment_id
        else None,
        fail_on_stalled_after=params["fail_on_stalled_after"],
        events_since=since,
        visibility_grace=visibility_grace,
    )


def next_interval(interval: float, params: dict[str, Any]) -> float:
    """The adaptive backoff: the interval grows by half up to max_poll_interval (fixed without one)."""
    longest = params.get("max_poll_interval")
    return float(min(interval * 1.5, longest)) if longest else float(interval)


def wait(
    poller: Poller,
    params: dict[str, Any],
    check_mode: bool,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[Decision, int, float, list[str], bool]:
    """Poll until a final state or the timeout; returns (decision, polls, seconds, events seen, timed out)."""
    target = Target(params.get("task_definition"), params.get("deployment_id"))
    since = datetime.datetime.now(datetime.timezone.utc) - CLOCK_SKEW  # noqa: UP017 (py<3.11 targets)
    seen: list[str] = []
    start, polls, interval = clock(), 0, float(params["poll_interval"])
    while True:
        decision = poll_once(poller, target, params, since, visibility_grace=clock() - start < VISIBILITY_GRACE)
        polls += 1
        seen = list(dict.fromkeys([*decision.events, *seen]))
        elapsed = clock() - start
        if decision.final or check_mode:
            return decision, polls, elapsed, seen, False
        if elapsed + interval > params["timeout"]:
            return decision, polls, elapsed, seen, True
        sleep(interval)
        interval = next_interval(interval, params)


def result_of(
    decision: Decision,
    polls: int,
    seconds: float,
    events: list[str],
    timed_out: bool,
    stopped_tasks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    ours = decision.ours or decision.primary
    return {
        "changed": False,
        "state": "timeout" if timed_out else decision.state,
        "reason": timeout_reason(decision, seconds) if timed_out else decision.reason,
        "deployment": camel_dict_to_snake_dict(_jsonable(decision.primary)),
        "running_count": int(ours.get("runningCount", 0)),
        "desired_count": int(ours.get("desiredCount", 0)),
        "pending_count": int(ours.get("pendingCount", 0)),
        "failed_count": int(ours.get("failedTasks", 0)),
        "stopped_tasks": [
            {"task_arn": f.task_arn, "kind": f.kind, "reason": f.reason, "exit_codes": list(f.exit_codes)}
            for f in decision.failures
        ],
        "recent_stopped_tasks": recent_stopped_tasks(stopped_tasks or []),
        "events": events,
        "polls": polls,
        "seconds_waited": round(seconds, 1),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def validate(module: AnsibleAWSModule) -> None:
    for option in ("timeout", "poll_interval"):
        if module.params[option] <= 0:
            module.fail_json(msg=f"{option} must be greater than 0, got {module.params[option]}")
    if module.params["fail_on_stalled_after"] < 1:
        module.fail_json(msg=f"fail_on_stalled_after must be at least 1, got {module.params['fail_on_stalled_after']}")
    longest = module.params.get("max_poll_interval")
    if longest is not None and longest < module.params["poll_interval"]:
        module.fail_json(
            msg=f"max_poll_interval must be at least poll_interval ({module.params['poll_interval']}), got {longest}"
        )


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "task_definition": {"type": "str"},
            "deployment_id": {"type": "str"},
            "timeout": {"type": "int", "default": 900},
            "poll_interval": {"type": "int", "default": 10},
            "max_poll_interval": {"type": "int"},
            "fail_on_stalled_after": {"type": "int", "default": 3},
            "target_group_health": {"type": "bool", "default": True},
        },
        mutually_exclusive=[("task_definition", "deployment_id")],
        supports_check_mode=True,
    )
    validate(module)
    retry = retry_decorator()
    poller = Poller(
        module.client("ecs", retry_decorator=retry),
        module.client("elbv2", retry_decorator=retry),
        module.params["cluster"],
        module.params["service"],
    )
    try:
        decision, polls, seconds, events, timed_out = wait(poller, module.params, module.check_mode)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"cannot read the rollout of {module.params['service']}")
    if poller.unavailable:
        module.warn(
            f"ECS ServiceDeployments API not usable ({poller.unavailable}): decided from describe_services alone. "
            "Grant ecs:ListServiceDeployments, ecs:DescribeServiceDeployments and ecs:DescribeServiceRevisions "
            "where the region offers them."
        )
    result = result_of(decision, polls, seconds, events, timed_out, poller.last_stopped)
    if not module.check_mode and (timed_out or decision.failed):
        module.fail_json(msg=result["reason"], **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
