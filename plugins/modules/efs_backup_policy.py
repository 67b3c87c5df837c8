#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: efs_backup_policy
short_description: Turn an EFS file system's automatic backups on or off
version_added: 0.1.0
description:
  - Sets the backup policy of an Amazon EFS file system (C(PutBackupPolicy)) when it differs from the one wanted.
    With the policy C(ENABLED), AWS Backup copies the file system daily into the account's default backup vault
    (kept 35 days).
  - Why a module of ours, M(community.aws.efs) creates the file system but does not manage its backup policy, and no
    module of C(amazon.aws) or C(community.aws) does.
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
      - Reports the change without making it.
options:
  file_system_id:
    description: ID of the file system.
    type: str
    required: true
  status:
    description: C(ENABLED) for automatic backups, C(DISABLED) for none.
    type: str
    choices: [ENABLED, DISABLED]
    default: ENABLED
notes:
  - U(https://docs.aws.amazon.com/efs/latest/ug/API_PutBackupPolicy.html)
  - U(https://docs.aws.amazon.com/efs/latest/ug/awsbackup.html)
"""

EXAMPLES = r"""
- name: Automatic backups of the uploads
  ecspress.wordpress.efs_backup_policy:
    file_system_id: fs-0123456789abcdef0
    status: ENABLED
"""

RETURN = r"""
status:
  description: The backup policy's status after the task (C(ENABLED) or C(DISABLED); the wanted one in check mode).
  returned: always
  type: str
  sample: ENABLED
previous_status:
  description: The status before the task (C(DISABLED) when the file system had no policy).
  returned: always
  type: str
  sample: DISABLED
"""

from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def current_status(client: Any, file_system_id: str) -> str:
    """ENABLED / ENABLING / DISABLED / DISABLING; DISABLED when the file system has no policy yet."""
    try:
        answer = client.describe_backup_policy(FileSystemId=file_system_id, aws_retry=True)
    except is_boto3_error_code("PolicyNotFound"):
        return "DISABLED"
    return str(answer["BackupPolicy"]["Status"])


def settled(status: str) -> str:
    """ENABLING counts as ENABLED and DISABLING as DISABLED: the change is under way."""
    return {"ENABLING": "ENABLED", "DISABLING": "DISABLED"}.get(status, status)


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={
            "file_system_id": {"type": "str", "required": True},
            "status": {"type": "str", "choices": ["ENABLED", "DISABLED"], "default": "ENABLED"},
        },
        supports_check_mode=True,
    )
    client = module.client("efs", retry_decorator=retry_decorator())
    file_system_id, wanted = module.params["file_system_id"], module.params["status"]
    try:
        before = current_status(client, file_system_id)
        changed = settled(before) != wanted
        if changed and not module.check_mode:
            client.put_backup_policy(FileSystemId=file_system_id, BackupPolicy={"Status": wanted}, aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"EFS refused to read or set the backup policy of {file_system_id}")
    module.exit_json(changed=changed, status=wanted if changed else settled(before), previous_status=settled(before))


if __name__ == "__main__":
    main()
