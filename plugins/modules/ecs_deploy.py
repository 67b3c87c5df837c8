#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_deploy
short_description: Point an ECS service at a task definition revision whose image was pushed, by digest
version_added: 0.1.0
description:
  - Points the service at I(task_definition) (registered by M(ecspress.wordpress.ecs_task_definition), the one
    place that registers revisions) with C(UpdateService), and returns the id of the deployment that started.
  - Before anything changes, the image of I(container) in that revision must be a reference by digest
    (C(registry/repository@sha256:...)) that is in its ECR repository (C(ecr describe_images)); a tag, or a digest
    that was never pushed, is refused. This makes the restart loop of a service pointing at an image that was never
    pushed impossible.
  - When the service already runs that revision, nothing changes.
  - This module does not wait for the rollout; use M(ecspress.wordpress.ecs_deployment_wait)
    with the returned I(deployment_id), or with I(task_definition_arn) when nothing was deployed.
author:
  - ecspress maintainers (@ecspress)
options:
  cluster:
    description: Name or ARN of the ECS cluster.
    type: str
    required: true
  service:
    description: Name or ARN of the ECS service. It must exist and be ACTIVE.
    type: str
    required: true
  task_definition:
    description:
      - The revision to run (ARN or C(family:revision)), for example the I(task_definition_arn) that
        M(ecspress.wordpress.ecs_task_definition) returned, or an earlier revision to roll back to.
    type: str
    required: true
  container:
    description:
      - Name of the container whose image is checked.
      - Optional when the task definition has exactly one essential container.
    type: str
  repository_name:
    description:
      - ECR repository to look the digest up in. Defaults to the repository path of the image.
    type: str
  registry_id:
    description:
      - Account id of the registry. Defaults to the account in an ECR host name, else the caller's.
    type: str
  verify_image:
    description:
      - Look the digest up in ECR before changing anything, and refuse when it is missing.
      - Only turn this off in tests that reproduce a failed pull on purpose.
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Reports whether the service would be pointed at the revision; changes nothing.
  diff_mode:
    support: full
    description: Shows the task definition and image before and after.
  idempotent:
    support: full
    description: When the service already runs the revision, nothing changes.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The task definition with the digest the image pipeline pushed
  ecspress.wordpress.ecs_task_definition:
    family: ecspress-prod-wordpress
    cluster: ecspress-prod
    service: ecspress-prod
    container: wordpress
    image: "{{ ecspress_image.reference }}"
  register: task_definition

- name: Point the service at it
  ecspress.wordpress.ecs_deploy:
    cluster: ecspress-prod
    service: ecspress-prod
    container: wordpress
    task_definition: "{{ task_definition.task_definition_arn }}"
  register: deploy

- name: Wait until the rollout really completed, or say why it failed
  ecspress.wordpress.ecs_deployment_wait:
    cluster: ecspress-prod
    service: ecspress-prod
    deployment_id: "{{ deploy.deployment_id }}"
    timeout: 900
  when: deploy.deployment_id | length > 0
"""

RETURN = r"""
task_definition_arn:
  description: The task definition the service is (or, in check mode, would be) pointed at.
  returned: always
  type: str
  sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/ecspress-prod-wordpress:7
previous_task_definition_arn:
  description: The task definition the service used before.
  returned: always
  type: str
  sample: arn:aws:ecs:eu-west-1:123456789012:task-definition/ecspress-prod-wordpress:6
image:
  description: The image by digest of the container in I(task_definition).
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecspress-prod/wordpress@sha256:5b0b...
previous_image:
  description: The container's image in the revision the service used before.
  returned: always
  type: str
deployment_id:
  description:
    - The id (C(ecs-svc/...)) of the deployment C(UpdateService) started, as its answer names it.
    - Empty when the service was not updated (it already ran the revision, or check mode).
  returned: always
  type: str
  sample: ecs-svc/1485800978477494678
service_updated:
  description: Whether the service was (or would be) pointed at another task definition.
  returned: always
  type: bool
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._ecr import ImageNotPushedError, ensure_image_pushed
from ansible_collections.ecspress.wordpress.plugins.module_utils._ecs import describe_service, describe_task_definition
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    ImageReferenceError,
    family_revision,
    parse_image_reference,
)
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import same_task_definition
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import container_named


class DeployError(Exception):
    """A refusal with a message meant for the user."""


def started_deployment(service: dict[str, Any], task_definition_arn: str) -> str:
    """The id of the PRIMARY deployment of ``task_definition_arn`` in UpdateService's answer ("" if none)."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY" and same_task_definition(
            deployment.get("taskDefinition"), task_definition_arn
        ):
            return str(deployment.get("id") or "")
    return ""


def image_of(task_definition: dict[str, Any], container: str | None) -> str:
    try:
        return str(container_named(task_definition, container).get("image") or "")
    except ValueError as error:
        raise DeployError(f"{family_revision(task_definition.get('taskDefinitionArn'))}: {error}") from error


def verify(ecr: Any, params: dict[str, Any], image: str) -> None:
    try:
        if params["verify_image"]:
            ensure_image_pushed(ecr, image, params["repository_name"], params["registry_id"])
        else:
            parse_image_reference(image)
    except ImageReferenceError as error:
        raise DeployError(f"{params['task_definition']}: {error}") from error
    except ImageNotPushedError as error:
        raise DeployError(str(error)) from error


def deploy(module: AnsibleAWSModule, ecs: Any, ecr: Any) -> dict[str, Any]:
    params = module.params
    service = describe_service(ecs, params["cluster"], params["service"])
    if service is None:
        raise DeployError(
            f"service {params['service']} not found (or INACTIVE) in cluster {params['cluster']}: create it first"
        )
    current = describe_task_definition(ecs, service["taskDefinition"])[0]
    wanted = describe_task_definition(ecs, params["task_definition"])[0]
    image, previous_image = image_of(wanted, params["container"]), image_of(current, params["container"])
    result: dict[str, Any] = {
        "changed": False,
        "task_definition_arn": wanted["taskDefinitionArn"],
        "previous_task_definition_arn": current["taskDefinitionArn"],
        "image": image,
        "previous_image": previous_image,
        "deployment_id": "",
        "service_updated": False,
        "diff": {
            "before": {"task_definition": current["taskDefinitionArn"], "image": previous_image},
            "after": {"task_definition": wanted["taskDefinitionArn"], "image": image},
        },
    }
    if same_task_definition(current["taskDefinitionArn"], wanted["taskDefinitionArn"]):
        return result
    verify(ecr, params, image)
    result.update(changed=True, service_updated=True)
    if module.check_mode:
        return result
    updated = ecs.update_service(
        cluster=params["cluster"], service=params["service"], taskDefinition=wanted["taskDefinitionArn"], aws_retry=True
    )
    result["deployment_id"] = started_deployment(updated.get("service") or {}, wanted["taskDefinitionArn"])
    return result


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "task_definition": {"type": "str", "required": True},
            "container": {"type": "str"},
            "repository_name": {"type": "str"},
            "registry_id": {"type": "str"},
            "verify_image": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    retry = retry_decorator()
    ecs = module.client("ecs", retry_decorator=retry)
    ecr = module.client("ecr", retry_decorator=retry)
    try:
        result = deploy(module, ecs, ecr)
    except (DeployError, ValueError) as error:
        module.fail_json(msg=str(error))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="ECS or ECR refused the deployment")
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
