#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rds_instance_delete
short_description: Delete an RDS DB instance, keeping its automated backups if asked
version_added: 0.1.0
description:
  - Deletes an RDS DB instance (C(DeleteDBInstance)), with a final snapshot when one is named, and keeps or deletes the
    instance's automated backups (C(DeleteAutomatedBackups)); waits until the instance is gone. An instance that does
    not exist (or is being deleted already) is left as it is.
  - Kept automated backups (C(DescribeDBInstanceAutomatedBackups)) stay until their retention period ends, and a
    point-in-time restore can bring the database back to any second of that window
    (C(RestoreDBInstanceToPointInTime) with the backup's C(DbiResourceId)).
  - Why a module of ours, M(amazon.aws.rds_instance) (10.1) deletes with C(state=absent) but has no option for
    C(DeleteAutomatedBackups), so AWS's default applies and the automated backups go with the instance. A production
    teardown must keep them.
  - Deletion protection is not turned off here. AWS refuses an instance with it on
    (C(InvalidParameterCombination)), and the module fails with that message.
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
      - Reports the deletion without making it.
options:
  db_instance_identifier:
    description: Identifier of the DB instance.
    type: str
    required: true
  final_snapshot_identifier:
    description:
      - Name of the final snapshot taken before the deletion; unset or empty for none (C(SkipFinalSnapshot)).
      - AWS refuses a name that exists already (C(DBSnapshotAlreadyExists)), so give each teardown its own.
    type: str
  keep_automated_backups:
    description:
      - Keep the instance's automated backups after the deletion (C(DeleteAutomatedBackups=false)). AWS's default,
        V(false), deletes them with the instance.
    type: bool
    default: false
  wait:
    description: Wait until the instance is gone.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait at most.
    type: int
    default: 1800
notes:
  - U(https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html)
  - U(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.Retaining.html)
"""

EXAMPLES = r"""
- name: Delete the production database, its final snapshot taken and its automated backups kept
  ecspress.wordpress.rds_instance_delete:
    db_instance_identifier: ecspress-prod
    final_snapshot_identifier: ecspress-prod-final-20261202-120000
    keep_automated_backups: true
"""

RETURN = r"""
deleted:
  description: Whether the instance was there to delete (in check mode, whether it would be deleted).
  returned: always
  type: bool
  sample: true
final_snapshot_identifier:
  description: The final snapshot's name, empty when none was taken.
  returned: always
  type: str
  sample: ecspress-prod-final-20261202-120000
automated_backups_kept:
  description: Whether the instance's automated backups were kept.
  returned: always
  type: bool
  sample: true
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator

WAITER_DELAY = 15  # seconds between DescribeDBInstances while the instance is deleted


def delete_request(identifier: str, final_snapshot: str, keep_automated_backups: bool) -> dict[str, Any]:
    """DeleteDBInstance's parameters: a final snapshot only when named, the automated backups kept only when asked."""
    request: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "SkipFinalSnapshot": not final_snapshot,
        "DeleteAutomatedBackups": not keep_automated_backups,
    }
    if final_snapshot:
        request["FinalDBSnapshotIdentifier"] = final_snapshot
    return request


def instance_status(client: Any, identifier: str) -> str | None:
    """The instance's status, None when there is none of that name."""
    try:
        answer = client.describe_db_instances(DBInstanceIdentifier=identifier, aws_retry=True)
    except is_boto3_error_code("DBInstanceNotFound"):
        return None
    return str(answer["DBInstances"][0]["DBInstanceStatus"])


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "db_instance_identifier": {"type": "str", "required": True},
            "final_snapshot_identifier": {"type": "str"},
            "keep_automated_backups": {"type": "bool", "default": False},
            "wait": {"type": "bool", "default": True},
            "wait_timeout": {"type": "int", "default": 1800},
        },
        supports_check_mode=True,
    )
    client = module.client("rds", retry_decorator=retry_decorator())
    identifier = module.params["db_instance_identifier"]
    final_snapshot = module.params["final_snapshot_identifier"] or ""
    keep = module.params["keep_automated_backups"]
    try:
        status = instance_status(client, identifier)
        changed = status not in (None, "deleting")
        if changed and not module.check_mode:
            client.delete_db_instance(**delete_request(identifier, final_snapshot, keep), aws_retry=True)
        if status is not None and module.params["wait"] and not module.check_mode:
            attempts = max(1, module.params["wait_timeout"] // WAITER_DELAY)
            client.get_waiter("db_instance_deleted").wait(
                DBInstanceIdentifier=identifier, WaiterConfig={"Delay": WAITER_DELAY, "MaxAttempts": attempts}
            )
    except botocore.exceptions.WaiterError as error:
        module.fail_json_aws(
            error, msg=f"The RDS instance {identifier} was not gone after {module.params['wait_timeout']} s"
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"RDS refused to delete the instance {identifier}")
    module.exit_json(
        changed=changed,
        deleted=changed,
        final_snapshot_identifier=final_snapshot if changed else "",
        automated_backups_kept=bool(keep) if changed else False,
    )


if __name__ == "__main__":
    main()
