# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ECS reads every module of the collection shares: one place that describes a service or a task definition.

Private to the ecspress.wordpress collection: no stability promise to other collections. Each helper takes a
client made with `retry_decorator()` (module_utils/_retries.py) and passes `aws_retry=True`.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code


def describe_service(ecs: Any, cluster: str, service: str, active_only: bool = True) -> dict[str, Any] | None:
    """The service as DescribeServices answers it; None when it does not exist (or, with active_only, is not ACTIVE).

    ECS keeps a deleted service visible as INACTIVE for a while: a rollout wait wants to see that
    (active_only=False), a change must not act on it.
    """
    answer = ecs.describe_services(cluster=cluster, services=[service], aws_retry=True)
    for found in answer.get("services") or []:
        if not active_only or found.get("status") == "ACTIVE":
            return dict(found)
    return None


def describe_task_definition(ecs: Any, task_definition: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """A task definition (ARN, `family:revision`, or a family for its newest ACTIVE revision) and its tags."""
    answer = ecs.describe_task_definition(taskDefinition=task_definition, include=["TAGS"], aws_retry=True)
    return dict(answer["taskDefinition"]), list(answer.get("tags") or [])


def newest_revision(ecs: Any, family: str) -> dict[str, Any] | None:
    """The family's newest ACTIVE revision (what DescribeTaskDefinition answers for a bare family); None if none."""
    try:
        return describe_task_definition(ecs, family)[0]
    except is_boto3_error_code("ClientException"):
        return None
