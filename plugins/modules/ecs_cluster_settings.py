#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ecs_cluster_settings
short_description: Set the settings of an existing ECS cluster, such as Container Insights
version_added: 0.1.0
description:
  - Sets cluster settings (C(UpdateCluster) C(settings)) on an existing ECS cluster, for example
    C(containerInsights). M(community.aws.ecs_cluster) creates and deletes clusters but does not manage settings.
  - Only the settings named in O(settings) are compared and changed; others are left alone.
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
      - Reports the change without making it. A cluster that does not exist yet (created by an earlier task of the
        same check-mode run) is reported as changed.
options:
  cluster:
    description: Name or ARN of the cluster.
    type: str
    required: true
  settings:
    description:
      - "Settings by name, for example C({containerInsights: enabled})."
      - For C(containerInsights) ECS accepts V(enabled), V(disabled) and V(enhanced).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Turn Container Insights on
  ecspress.wordpress.ecs_cluster_settings:
    cluster: ecspress-dev
    settings:
      containerInsights: enabled
"""

RETURN = r"""
settings:
  description: The cluster's settings after the run (in check mode, as they would be).
  returned: always
  type: dict
  sample: {"containerInsights": "enabled"}
cluster_arn:
  description: ARN of the cluster.
  returned: when the cluster exists
  type: str
  sample: arn:aws:ecs:us-east-1:123456789012:cluster/ecspress-dev
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def describe_cluster(client: Any, cluster: str) -> dict[str, Any] | None:
    """The ACTIVE cluster, or None."""
    answer = client.describe_clusters(aws_retry=True, clusters=[cluster], include=["SETTINGS"])
    for found in answer.get("clusters", []):
        if found.get("status") == "ACTIVE":
            return found
    return None


def settings_to_change(current: dict[str, str], wanted: dict[str, str]) -> dict[str, str]:
    """The wanted settings whose value differs from the current one."""
    return {name: value for name, value in wanted.items() if current.get(name) != value}


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(cluster=dict(type="str", required=True), settings=dict(type="dict", required=True)),
        supports_check_mode=True,
    )
    client = module.client("ecs", retry_decorator=retry_decorator())
    cluster_name = module.params["cluster"]
    wanted = {str(name): str(value) for name, value in module.params["settings"].items()}

    try:
        cluster = describe_cluster(client, cluster_name)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not describe ECS cluster {cluster_name}")

    if cluster is None:
        if module.check_mode:
            module.exit_json(changed=True, settings=wanted, diff=dict(before={}, after=wanted))
        module.fail_json(msg=f"ECS cluster {cluster_name} does not exist or is not ACTIVE")

    current = {item["name"]: item["value"] for item in cluster.get("settings") or []}
    changes = settings_to_change(current, wanted)
    after = {**current, **wanted}
    if changes and not module.check_mode:
        try:
            client.update_cluster(
                aws_retry=True,
                cluster=cluster_name,
                settings=[{"name": name, "value": value} for name, value in changes.items()],
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
            module.fail_json_aws(e, msg=f"Could not update the settings of ECS cluster {cluster_name}")
    module.exit_json(
        changed=bool(changes),
        settings=after,
        cluster_arn=cluster["clusterArn"],
        diff=dict(before=current, after=after),
    )


if __name__ == "__main__":
    main()
