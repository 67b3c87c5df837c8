#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecs_deploy
short_description: Roll an ECS service onto an image by digest, refusing digests that were never pushed
version_added: 0.1.0
description:
  - Registers a new revision of the service's current task definition in which only the image
    of one container is replaced by I(image), then points the service at it.
  - I(image) must be a reference by digest (C(registry/repository@sha256:...)). Before anything
    changes, the digest is looked up in the ECR repository (C(ecr describe_images)); a digest
    that is not there is refused. This makes the restart loop of a service pointing at an image
    that was never pushed impossible.
  - When the service already uses a task definition with that image, nothing changes.
    When the newest revision of the family already is the wanted definition (for example after
    a rollback), that revision is reused instead of registering an identical one.
  - This module does not wait for the rollout; use M(ecspress.wordpress.ecs_deployment_wait)
    with the returned I(deployment_id) (the deployment C(UpdateService) started), or with
    I(task_definition_arn) when nothing was deployed.
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
  image:
    description:
      - The image to deploy, by digest, for example
        C(123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp@sha256:...). Tags are refused.
    type: str
    required: true
  container:
    description:
      - Name of the container whose image is replaced.
      - Optional when the task definition has exactly one essential container.
    type: str
  repository_name:
    description:
      - ECR repository to look the digest up in. Defaults to the repository path of I(image).
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
    description: Reports whether a new revision would be registered and the service updated; changes nothing.
  diff_mode:
    support: full
    description: Shows the task definition and image before and after.
  idempotent:
    support: full
    description: When the service already uses the image, nothing changes.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deploy the digest the image pipeline pushed
  ecspress.wordpress.ecs_deploy:
    cluster: ecspress-prod
    service: ecspress-prod-wordpress
    container: wordpress
    image: "{{ ecspress_image.reference }}"
  register: deploy

- name: Wait until the rollout really completed, or say why it failed
  ecspress.wordpress.ecs_deployment_wait:
    cluster: ecspress-prod
    service: ecspress-prod-wordpress
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
  description: The image by digest now in the container definition.
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecspress-prod/wordpress@sha256:5b0b...
previous_image:
  description: The container's image before.
  returned: always
  type: str
deployment_id:
  description:
    - The id (C(ecs-svc/...)) of the deployment C(UpdateService) started, as its answer names it.
    - Empty when the service was not updated (nothing to deploy, or check mode).
  returned: always
  type: str
  sample: ecs-svc/1485800978477494678
registered:
  description: Whether a new task definition revision was (or would be) registered.
  returned: always
  type: bool
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

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import same_task_definition
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import (
    ImageReferenceError,
    container_named,
    parse_image_reference,
    register_request,
    same_definition,
)


class DeployError(Exception):
    """A refusal with a message meant for the user."""


def describe_service(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    answer = ecs.describe_services(cluster=cluster, services=[service], aws_retry=True)
    found = [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    if not found:
        raise DeployError(f"service {service} not found (or INACTIVE) in cluster {cluster}: create it first")
    return dict(found[0])


def describe_task_definition(ecs: Any, arn: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    answer = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"], aws_retry=True)
    return dict(answer["taskDefinition"]), list(answer.get("tags") or [])


def ensure_image_pushed(ecr: Any, repository: str, digest: str, registry_id: str | None) -> None:
    request: dict[str, Any] = {"repositoryName": repository, "imageIds": [{"imageDigest": digest}]}
    if registry_id:
        request["registryId"] = registry_id
    try:
        ecr.describe_images(aws_retry=True, **request)
    except is_boto3_error_code(["ImageNotFoundException", "RepositoryNotFoundException"]) as error:
        raise DeployError(
            f"refusing to deploy {digest}: it is not in ECR repository {repository} "
            f"({error.response['Error']['Code']}); push it first (the image stage does)"
        ) from error


def newest_revision(ecs: Any, family: str) -> dict[str, Any] | None:
    """The family's latest ACTIVE revision: what DescribeTaskDefinition answers for a bare family name."""
    try:
        return describe_task_definition(ecs, family)[0]
    except is_boto3_error_code("ClientException"):
        return None


def started_deployment(service: dict[str, Any], task_definition_arn: str) -> str:
    """The id of the PRIMARY deployment of ``task_definition_arn`` in UpdateService's answer ("" if none)."""
    for deployment in service.get("deployments") or []:
        if deployment.get("status") == "PRIMARY" and same_task_definition(
            deployment.get("taskDefinition"), task_definition_arn
        ):
            return str(deployment.get("id") or "")
    return ""


def deploy(module: AnsibleAWSModule, ecs: Any, ecr: Any) -> dict[str, Any]:
    params = module.params
    try:
        reference = parse_image_reference(params["image"])
    except ImageReferenceError as error:
        raise DeployError(str(error)) from error
    service = describe_service(ecs, params["cluster"], params["service"])
    current, tags = describe_task_definition(ecs, service["taskDefinition"])
    previous_image = str(container_named(current, params["container"]).get("image"))
    result: dict[str, Any] = {
        "changed": False,
        "task_definition_arn": current["taskDefinitionArn"],
        "previous_task_definition_arn": current["taskDefinitionArn"],
        "image": params["image"],
        "previous_image": previous_image,
        "deployment_id": "",
        "registered": False,
        "service_updated": False,
    }
    if previous_image == params["image"]:
        return result
    if params["verify_image"]:
        ensure_image_pushed(
            ecr,
            params["repository_name"] or reference.repository,
            reference.digest,
            params["registry_id"] or reference.registry_id,
        )
    wanted = register_request(current, params["image"], params["container"], tags)
    newest = newest_revision(ecs, current["family"])
    reuse = newest is not None and same_definition(newest, wanted)
    result.update(changed=True, service_updated=True, registered=not reuse)
    result["diff"] = {
        "before": {"task_definition": current["taskDefinitionArn"], "image": previous_image},
        "after": {
            "task_definition": newest["taskDefinitionArn"] if reuse and newest else "(new revision)",
            "image": params["image"],
        },
    }
    if module.check_mode:
        if reuse and newest:
            result["task_definition_arn"] = newest["taskDefinitionArn"]
        return result
    if reuse and newest:
        arn = newest["taskDefinitionArn"]
    else:
        arn = ecs.register_task_definition(aws_retry=True, **wanted)["taskDefinition"]["taskDefinitionArn"]
    updated = ecs.update_service(
        cluster=params["cluster"], service=params["service"], taskDefinition=arn, aws_retry=True
    )
    result["deployment_id"] = started_deployment(updated.get("service") or {}, arn)
    result["task_definition_arn"] = arn
    result["diff"]["after"]["task_definition"] = arn
    return result


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "cluster": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "image": {"type": "str", "required": True},
            "container": {"type": "str"},
            "repository_name": {"type": "str"},
            "registry_id": {"type": "str"},
            "verify_image": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    try:
        parse_image_reference(module.params["image"])
    except ImageReferenceError as error:
        module.fail_json(msg=str(error))
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
