#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_service_settings
short_description: Apply the ECS service settings community.aws.ecs_service does not compare
version_added: 0.1.0
description:
  - M(community.aws.ecs_service) decides whether a service needs an update from a few fields only (task definition,
    desired count, load balancers, tags, grace period when set, propagate tags, execute command). A change to the
    network configuration, the deployment configuration or the platform version alone is reported as unchanged and
    never sent; its update path does not send the platform version at all.
  - This module describes an existing service, compares exactly those settings with the requested ones and calls
    C(UpdateService) with the ones that differ. Options left out are not compared.
  - Subnets and security groups are compared as sets; C(assignPublicIp) missing in the answer counts as C(DISABLED).
author:
  - ecspress maintainers (@ecspress)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ecspress.wordpress.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    details:
      - A service that does not exist yet (an earlier task of the same check-mode run would create it) is reported as
        unchanged, since its creation already carries these settings.
options:
  cluster:
    description: Name or ARN of the cluster.
    type: str
    required: true
  service:
    description: Name or ARN of the service. It must exist and be ACTIVE.
    type: str
    required: true
  network_configuration:
    description: The awsvpc network configuration.
    type: dict
    suboptions:
      subnets:
        description: Subnet IDs.
        type: list
        elements: str
        required: true
      security_groups:
        description: Security group IDs (not names).
        type: list
        elements: str
        required: true
      assign_public_ip:
        description: Whether tasks get a public IP address.
        type: bool
        default: false
  deployment_configuration:
    description: Deployment settings; only those given are compared.
    type: dict
    suboptions:
      maximum_percent:
        description: Upper limit of running tasks during a deployment, in percent of the desired count.
        type: int
      minimum_healthy_percent:
        description: Lower limit of healthy tasks during a deployment, in percent of the desired count.
        type: int
      deployment_circuit_breaker:
        description: The deployment circuit breaker.
        type: dict
        suboptions:
          enable:
            description: Whether the circuit breaker stops a failing deployment.
            type: bool
            required: true
          rollback:
            description: Whether a stopped deployment rolls back to the last completed one.
            type: bool
            required: true
  platform_version:
    description: Fargate platform version, for example V(LATEST) or V(1.4.0).
    type: str
  health_check_grace_period_seconds:
    description: Seconds during which failing load balancer health checks of a new task are ignored.
    type: int
"""

EXAMPLES = r"""
- name: Make the running service match the wanted network and deployment settings
  ecspress.wordpress.ecs_service_settings:
    cluster: ecspress-dev
    service: ecspress-dev
    network_configuration:
      subnets: [subnet-0123456789abcdef0, subnet-0fedcba9876543210]
      security_groups: [sg-0123456789abcdef0]
      assign_public_ip: false
    deployment_configuration:
      maximum_percent: 200
      minimum_healthy_percent: 100
      deployment_circuit_breaker: {enable: true, rollback: true}
    platform_version: LATEST
    health_check_grace_period_seconds: 120
"""

RETURN = r"""
drifted:
  description: Names of the settings that differed (and were updated, unless in check mode).
  returned: always
  type: list
  elements: str
  sample: [networkConfiguration, deploymentConfiguration]
settings:
  description: The compared settings after the run, as ECS spells them.
  returned: when the service exists
  type: dict
  sample:
    platformVersion: LATEST
    healthCheckGracePeriodSeconds: 120
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._ecs import describe_service
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def wanted_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The requested settings as UpdateService spells them; options left out are absent."""
    wanted: dict[str, Any] = {}
    network = params.get("network_configuration")
    if network:
        wanted["networkConfiguration"] = {
            "awsvpcConfiguration": {
                "subnets": list(network["subnets"]),
                "securityGroups": list(network["security_groups"]),
                "assignPublicIp": "ENABLED" if network.get("assign_public_ip") else "DISABLED",
            }
        }
    deployment = params.get("deployment_configuration") or {}
    config: dict[str, Any] = {}
    if deployment.get("maximum_percent") is not None:
        config["maximumPercent"] = deployment["maximum_percent"]
    if deployment.get("minimum_healthy_percent") is not None:
        config["minimumHealthyPercent"] = deployment["minimum_healthy_percent"]
    breaker = deployment.get("deployment_circuit_breaker")
    if breaker:
        config["deploymentCircuitBreaker"] = {"enable": breaker["enable"], "rollback": breaker["rollback"]}
    if config:
        wanted["deploymentConfiguration"] = config
    if params.get("platform_version"):
        wanted["platformVersion"] = params["platform_version"]
    if params.get("health_check_grace_period_seconds") is not None:
        wanted["healthCheckGracePeriodSeconds"] = params["health_check_grace_period_seconds"]
    return wanted


def current_settings(service: dict[str, Any]) -> dict[str, Any]:
    """The compared settings of a described service, normalised the way wanted_settings() spells them."""
    awsvpc = (service.get("networkConfiguration") or {}).get("awsvpcConfiguration") or {}
    return {
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": list(awsvpc.get("subnets") or []),
                "securityGroups": list(awsvpc.get("securityGroups") or []),
                "assignPublicIp": awsvpc.get("assignPublicIp") or "DISABLED",
            }
        },
        "deploymentConfiguration": dict(service.get("deploymentConfiguration") or {}),
        "platformVersion": service.get("platformVersion"),
        "healthCheckGracePeriodSeconds": service.get("healthCheckGracePeriodSeconds"),
    }


def _network_equal(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    have, want = current["awsvpcConfiguration"], wanted["awsvpcConfiguration"]
    return (
        sorted(have["subnets"]) == sorted(want["subnets"])
        and sorted(have["securityGroups"]) == sorted(want["securityGroups"])
        and have["assignPublicIp"] == want["assignPublicIp"]
    )


def _subset_equal(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        if isinstance(value, dict):
            if not isinstance(current.get(key), dict) or not _subset_equal(current[key], value):
                return False
        elif current.get(key) != value:
            return False
    return True


def drifted_settings(current: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Names of the wanted settings the service does not have."""
    drifted = []
    for name, value in wanted.items():
        if name == "networkConfiguration":
            same = _network_equal(current[name], value)
        elif name == "deploymentConfiguration":
            same = _subset_equal(current[name], value)
        else:
            same = current.get(name) == value
        if not same:
            drifted.append(name)
    return drifted


def update_parameters(current: dict[str, Any], wanted: dict[str, Any], drifted: list[str]) -> dict[str, Any]:
    """UpdateService parameters for the drifted settings; a deployment configuration is sent whole."""
    update = {name: wanted[name] for name in drifted}
    if "deploymentConfiguration" in update:
        merged = dict(current["deploymentConfiguration"])
        for key, value in wanted["deploymentConfiguration"].items():
            merged[key] = {**(merged.get(key) or {}), **value} if isinstance(value, dict) else value
        update["deploymentConfiguration"] = merged
    return update


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            cluster=dict(type="str", required=True),
            service=dict(type="str", required=True),
            network_configuration=dict(
                type="dict",
                options=dict(
                    subnets=dict(type="list", elements="str", required=True),
                    security_groups=dict(type="list", elements="str", required=True),
                    assign_public_ip=dict(type="bool", default=False),
                ),
            ),
            deployment_configuration=dict(
                type="dict",
                options=dict(
                    maximum_percent=dict(type="int"),
                    minimum_healthy_percent=dict(type="int"),
                    deployment_circuit_breaker=dict(
                        type="dict",
                        options=dict(
                            enable=dict(type="bool", required=True), rollback=dict(type="bool", required=True)
                        ),
                    ),
                ),
            ),
            platform_version=dict(type="str"),
            health_check_grace_period_seconds=dict(type="int"),
        ),
        supports_check_mode=True,
    )
    client = module.client("ecs", retry_decorator=retry_decorator())
    cluster, name = module.params["cluster"], module.params["service"]
    try:
        service = describe_service(client, cluster, name)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        if module.check_mode:
            module.exit_json(changed=False, drifted=[], msg=f"service {name} cannot be described (yet): {e}")
        module.fail_json_aws(e, msg=f"Could not describe ECS service {name} in cluster {cluster}")
    if service is None:
        if module.check_mode:
            module.exit_json(changed=False, drifted=[], msg=f"service {name} does not exist (yet)")
        module.fail_json(msg=f"ECS service {name} does not exist in cluster {cluster} or is not ACTIVE")

    wanted = wanted_settings(module.params)
    current = current_settings(service)
    drifted = drifted_settings(current, wanted)
    update = update_parameters(current, wanted, drifted)
    if update and not module.check_mode:
        try:
            client.update_service(aws_retry=True, cluster=cluster, service=name, **update)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not update {', '.join(drifted)} of ECS service {name}")
    before = {key: current[key] for key in drifted}
    module.exit_json(
        changed=bool(drifted),
        drifted=drifted,
        settings={**current, **update},
        diff=dict(before=before, after=update),
    )


if __name__ == "__main__":
    main()
