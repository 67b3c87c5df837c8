#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: application_autoscaling_target
short_description: Register or deregister an Application Auto Scaling scalable target
version_added: 0.1.0
description:
  - Registers a scalable target with its minimum and maximum capacity, updates them when they differ, or deregisters
    it (which also deletes its scaling policies and scheduled actions).
  - M(community.aws.application_autoscaling_policy) registers a target as a side effect but changes its capacity only
    with C(override_task_capacity), never deregisters it with C(state=absent), and ignores check mode.
author:
  - ecspress maintainers (@ecspress)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ecspress.wordpress.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
options:
  state:
    description: Whether the scalable target should be registered.
    type: str
    choices: [present, absent]
    default: present
  service_namespace:
    description: Namespace of the scaled AWS service.
    type: str
    choices: [ecs, dynamodb, ec2, elasticmapreduce, appstream]
    default: ecs
  resource_id:
    description: The scaled resource, for an ECS service C(service/<cluster>/<service>).
    type: str
    required: true
  scalable_dimension:
    description: The scaled dimension.
    type: str
    default: ecs:service:DesiredCount
  min_capacity:
    description: Lowest capacity scaling may set. Required with O(state=present).
    type: int
  max_capacity:
    description: Highest capacity scaling may set. Required with O(state=present).
    type: int
"""

EXAMPLES = r"""
- name: Let an ECS service scale between 2 and 6 tasks
  ecspress.wordpress.application_autoscaling_target:
    resource_id: service/ecspress-dev/ecspress-dev
    min_capacity: 2
    max_capacity: 6

- name: Deregister it (its policies go with it)
  ecspress.wordpress.application_autoscaling_target:
    resource_id: service/ecspress-dev/ecspress-dev
    state: absent
"""

RETURN = r"""
scalable_target:
  description: The registered target (snake_case keys); empty when there is none.
  returned: always
  type: dict
  contains:
    resource_id:
      description: The scaled resource.
      type: str
      sample: service/ecspress-dev/ecspress-dev
    min_capacity:
      description: Lowest capacity.
      type: int
      sample: 2
    max_capacity:
      description: Highest capacity.
      type: int
      sample: 6
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def describe_target(client: Any, namespace: str, resource_id: str, dimension: str) -> dict[str, Any] | None:
    answer = client.describe_scalable_targets(
        aws_retry=True, ServiceNamespace=namespace, ResourceIds=[resource_id], ScalableDimension=dimension
    )
    targets = answer.get("ScalableTargets") or []
    return targets[0] if targets else None


def capacity_of(target: dict[str, Any] | None) -> dict[str, int]:
    if not target:
        return {}
    return {"min_capacity": target["MinCapacity"], "max_capacity": target["MaxCapacity"]}


def result_of(target: dict[str, Any] | None) -> dict[str, Any]:
    if not target:
        return {}
    return camel_dict_to_snake_dict({k: v for k, v in target.items() if k not in ("CreationTime", "RoleARN")})


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            service_namespace=dict(
                type="str", choices=["ecs", "dynamodb", "ec2", "elasticmapreduce", "appstream"], default="ecs"
            ),
            resource_id=dict(type="str", required=True),
            scalable_dimension=dict(type="str", default="ecs:service:DesiredCount"),
            min_capacity=dict(type="int"),
            max_capacity=dict(type="int"),
        ),
        required_if=[("state", "present", ["min_capacity", "max_capacity"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["state"] == "present" and params["min_capacity"] > params["max_capacity"]:
        module.fail_json(
            msg=f"min_capacity ({params['min_capacity']}) is greater than max_capacity ({params['max_capacity']})"
        )
    client = module.client("application-autoscaling", retry_decorator=retry_decorator())
    key = dict(
        ServiceNamespace=params["service_namespace"],
        ResourceId=params["resource_id"],
        ScalableDimension=params["scalable_dimension"],
    )
    try:
        existing = describe_target(client, *key.values())
        before = capacity_of(existing)
        if params["state"] == "absent":
            if existing and not module.check_mode:
                try:
                    client.deregister_scalable_target(aws_retry=True, **key)
                except is_boto3_error_code("ObjectNotFoundException"):
                    pass
            module.exit_json(changed=bool(existing), scalable_target={}, diff=dict(before=before, after={}))

        after = {"min_capacity": params["min_capacity"], "max_capacity": params["max_capacity"]}
        if before == after:
            module.exit_json(changed=False, scalable_target=result_of(existing), diff=dict(before=before, after=after))
        if module.check_mode:
            module.exit_json(changed=True, scalable_target=result_of(existing), diff=dict(before=before, after=after))
        client.register_scalable_target(
            aws_retry=True, MinCapacity=params["min_capacity"], MaxCapacity=params["max_capacity"], **key
        )
        target = describe_target(client, *key.values())
        module.exit_json(changed=True, scalable_target=result_of(target), diff=dict(before=before, after=after))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not manage the scalable target {params['resource_id']}")


if __name__ == "__main__":
    main()
