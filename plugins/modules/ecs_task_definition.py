#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_task_definition
short_description: Register an ECS task definition revision only when it differs from the one the service runs
version_added: 0.2.0
description:
  - The one place of the collection that registers task definitions. It decides whether the wanted definition
    differs from the revision the service runs (or, before the service exists, from the family's newest ACTIVE
    revision), reuses the family's newest revision when that already is the wanted one (after a rollback, or a
    run interrupted between registering and deploying), and registers a new revision only otherwise.
  - It does not touch the service. M(ecspress.wordpress.ecs_deploy) points the service at the returned
    I(task_definition_arn) and M(ecspress.wordpress.ecs_deployment_wait) waits for that one rollout.
  - Why not C(community.aws.ecs_taskdefinition)? It matches an existing revision on a few fields only (it ignores
    cpu, memory and the execution role; lists of the same length always "match"), registers a new revision on
    every run when AWS filled in a value the request left out, and with several identical revisions picks the
    oldest. This module compares only what the wanted definition sets, ignoring the values AWS fills in.
  - The wanted definition is either I(definition) (every setting, as the service role renders it) or the running
    revision with one container's I(image) replaced (promotion of an image to a service whose settings stay).
author:
  - ecspress maintainers (@ecspress)
options:
  family:
    description: The task definition family.
    type: str
    required: true
  definition:
    description:
      - The wanted task definition as C(RegisterTaskDefinition) spells it (camelCase keys such as
        C(containerDefinitions), C(cpu), C(memory), C(executionRoleArn)). I(family) is set from I(family).
      - Only what it sets is compared; the values AWS fills in (a container's C(cpu) of 0, empty lists, ...) are not.
      - Exactly one of I(definition) and I(image) is required.
    type: dict
  image:
    description:
      - Instead of I(definition), the revision the service runs with the image of I(container) replaced by this
        reference by digest (C(registry/repository@sha256:...)). Needs I(cluster) and I(service).
    type: str
  container:
    description: With I(image), the container whose image is replaced; optional when only one container is essential.
    type: str
  cluster:
    description: Cluster of I(service).
    type: str
  service:
    description:
      - The service whose running revision is compared with the wanted definition. When it does not exist (yet), the
        family's newest ACTIVE revision is compared.
    type: str
  verify_image:
    description:
      - Before registering a revision, look the image of I(container) up in ECR (by digest) and refuse a tag or a
        digest that was never pushed, so no revision names an image a task could not pull.
      - Only asked when a revision is to be registered. Off for a check-mode preview of an image still to build.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports whether a revision would be registered, and what differs; registers nothing.
  diff_mode:
    support: full
    description: Shows the paths that differ (never their values, which may name secrets' ARNs) and the revisions.
  idempotent:
    support: full
    description: An unchanged definition registers nothing.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The WordPress task definition, registered only when a setting or the image changed
  ecspress.wordpress.ecs_task_definition:
    family: ecspress-prod-wordpress
    cluster: ecspress-prod
    service: ecspress-prod
    definition:
      networkMode: awsvpc
      requiresCompatibilities: [FARGATE]
      cpu: "512"
      memory: "1024"
      executionRoleArn: arn:aws:iam::123456789012:role/ecspress-prod-task-execution
      containerDefinitions:
        - name: wordpress
          image: "{{ ecspress_image.reference }}"
          essential: true
  register: task_definition

- name: Promote a tested image to prod without changing its settings
  ecspress.wordpress.ecs_task_definition:
    family: ecspress-prod-wordpress
    cluster: ecspress-prod
    service: ecspress-prod
    container: wordpress
    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecspress-prod/wordpress@sha256:5b0b...
"""

RETURN = r"""
task_definition_arn:
  description:
    - The revision to run. In check mode, when a new revision would be registered, C(<family>:(new revision)).
  returned: always
  type: str
  sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/ecspress-prod-wordpress:8
previous_task_definition_arn:
  description: The revision the wanted one was compared with (the service's, else the family's newest); empty if none.
  returned: always
  type: str
action:
  description: C(keep) (the service runs it), C(reuse) (the family's newest revision is it) or C(register).
  returned: always
  type: str
  sample: register
changes:
  description: The paths where the compared revision differs from the wanted one (names only, never values).
  returned: always
  type: list
  elements: str
  sample: ["cpu", "containerDefinitions[wordpress].image"]
"""

import functools
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._ecr import ImageNotPushedError, ensure_image_pushed
from ansible_collections.ecspress.wordpress.plugins.module_utils._ecs import (
    describe_service,
    describe_task_definition,
    newest_revision,
)
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    ImageReferenceError,
    parse_image_reference,
)
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import (
    container_named,
    plan_registration,
    register_request,
)


class TaskDefinitionError(Exception):
    """A refusal with a message meant for the user."""


def running_revision(ecs: Any, cluster: str | None, service: str | None) -> tuple[dict[str, Any], list[Any]] | None:
    """The revision the service runs and its tags; None when there is no service (yet)."""
    if not (cluster and service):
        return None
    try:
        found = describe_service(ecs, cluster, service)
    except botocore.exceptions.ClientError as error:
        if error.response["Error"]["Code"] == "ClusterNotFoundException":
            return None
        raise
    return describe_task_definition(ecs, found["taskDefinition"]) if found else None


def wanted_definition(
    params: dict[str, Any], running: tuple[dict[str, Any], list[Any]] | None
) -> tuple[dict[str, Any], list[Any]]:
    """The definition to run and the tags to register it with (a promoted image keeps the revision's tags)."""
    if params["definition"] is not None:
        # Passed as given: a key RegisterTaskDefinition does not know is refused by botocore's validation, by name.
        return {**params["definition"], "family": params["family"]}, []
    if running is None:
        raise TaskDefinitionError(
            f"service {params['service']} does not run in cluster {params['cluster']}: an image alone needs the "
            "revision it runs (create the service first: the service stage does)"
        )
    definition, tags = running
    try:
        return register_request(definition, params["image"], params["container"]), tags
    except ValueError as error:
        raise TaskDefinitionError(str(error)) from error


def verify(ecr: Any, wanted: dict[str, Any], container: str | None) -> None:
    try:
        ensure_image_pushed(ecr, str(container_named(wanted, container).get("image") or ""))
    except (ImageReferenceError, ImageNotPushedError, ValueError) as error:
        raise TaskDefinitionError(f"task definition {wanted['family']}: {error}") from error


def ensure(module: AnsibleAWSModule, ecs: Any, ecr: Any) -> dict[str, Any]:
    params = module.params
    running = running_revision(ecs, params["cluster"], params["service"])
    wanted, tags = wanted_definition(params, running)
    # The family's newest revision, looked up at most once and only when the plan needs it.
    newest_once = functools.cache(lambda: newest_revision(ecs, params["family"]))
    plan = plan_registration(wanted, running[0] if running else None, newest_once)
    base = running[0] if running else newest_once()
    result: dict[str, Any] = {
        "changed": plan.action == "register",
        "action": plan.action,
        "changes": plan.changes,
        "task_definition_arn": plan.task_definition_arn,
        "previous_task_definition_arn": str((base or {}).get("taskDefinitionArn") or ""),
    }
    if plan.action == "register":
        if params["verify_image"]:
            verify(ecr, wanted, params["container"])
        if module.check_mode:
            result["task_definition_arn"] = f"{params['family']}:(new revision)"
        else:
            registered = ecs.register_task_definition(aws_retry=True, **wanted, **({"tags": tags} if tags else {}))
            result["task_definition_arn"] = registered["taskDefinition"]["taskDefinitionArn"]
    result["diff"] = {
        "before": {"task_definition": result["previous_task_definition_arn"]},
        "after": {"task_definition": result["task_definition_arn"], "changes": plan.changes},
    }
    return result


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "family": {"type": "str", "required": True},
            "definition": {"type": "dict"},
            "image": {"type": "str"},
            "container": {"type": "str"},
            "cluster": {"type": "str"},
            "service": {"type": "str"},
            "verify_image": {"type": "bool", "default": True},
        },
        required_one_of=[("definition", "image")],
        mutually_exclusive=[("definition", "image")],
        required_by={"image": ("cluster", "service")},
        supports_check_mode=True,
    )
    if module.params["image"] is not None:
        try:
            parse_image_reference(module.params["image"])
        except ImageReferenceError as error:
            module.fail_json(msg=str(error))
    retry = retry_decorator()
    ecs, ecr = module.client("ecs", retry_decorator=retry), module.client("ecr", retry_decorator=retry)
    family = module.params["family"]
    try:
        result = ensure(module, ecs, ecr)
    except TaskDefinitionError as error:
        module.fail_json(msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"ECS or ECR refused to describe or register task definition {family}")
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
