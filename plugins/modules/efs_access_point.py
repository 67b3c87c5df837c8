#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: efs_access_point
short_description: Create or delete an EFS access point, found by its Name tag
version_added: 0.1.0
description:
  - Creates, tags or deletes an Amazon EFS access point. The access point is identified by its C(Name) tag on the
    file system, so the module finds it again on every run. Neither amazon.aws nor community.aws has a module for
    EFS access points.
  - The POSIX user and root directory of an access point cannot be changed. When the existing access point has other
    values than requested, the module fails and names them, rather than replacing an access point tasks may be using.
author:
  - ecspress maintainers (@ecspress)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ecspress.wordpress.attributes
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
options:
  state:
    description: Whether the access point should exist.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Value of the access point's C(Name) tag; also used as the creation token.
    type: str
    required: true
  file_system_id:
    description:
      - ID of the file system. Required with O(state=present).
      - With O(state=absent) and no file system ID, every access point of the account is searched for the name. A file
        system that does not exist has no access points.
    type: str
  posix_user:
    description: The POSIX identity every request through the access point uses.
    type: dict
    suboptions:
      uid:
        description: User ID.
        type: int
        required: true
      gid:
        description: Group ID.
        type: int
        required: true
      secondary_gids:
        description: Further group IDs.
        type: list
        elements: int
  root_directory:
    description: The directory the access point exposes as the root of the file system.
    type: dict
    suboptions:
      path:
        description: Path on the file system.
        type: str
        default: /
      creation_info:
        description: Owner and permissions EFS creates O(root_directory.path) with when it does not exist yet.
        type: dict
        suboptions:
          owner_uid:
            description: Owner user ID.
            type: int
            required: true
          owner_gid:
            description: Owner group ID.
            type: int
            required: true
          permissions:
            description: Octal permissions as a string, for example V('0755').
            type: str
            required: true
  wait_timeout:
    description: Seconds to wait for a new access point to become C(available).
    type: int
    default: 120
"""

EXAMPLES = r"""
- name: Access point for wp-content, owned by www-data
  ecspress.wordpress.efs_access_point:
    name: ecspress-dev-wp-content
    file_system_id: fs-0123456789abcdef0
    posix_user: {uid: 33, gid: 33}
    root_directory:
      path: /wp-content
      creation_info: {owner_uid: 33, owner_gid: 33, permissions: "0755"}
    tags:
      project: ecspress

- name: Remove it
  ecspress.wordpress.efs_access_point:
    name: ecspress-dev-wp-content
    state: absent
"""

RETURN = r"""
access_point:
  description: The access point (snake_case keys, tags as a dict); empty when it does not exist.
  returned: always
  type: dict
  contains:
    access_point_id:
      description: ID of the access point.
      type: str
      sample: fsap-0123456789abcdef0
    access_point_arn:
      description: ARN of the access point.
      type: str
      sample: arn:aws:elasticfilesystem:us-east-1:123456789012:access-point/fsap-0123456789abcdef0
    file_system_id:
      description: ID of its file system.
      type: str
      sample: fs-0123456789abcdef0
    life_cycle_state:
      description: C(creating), C(available), C(deleting) or C(deleted).
      type: str
      sample: available
"""

import hashlib
import time
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def find_access_point(client: Any, name: str, file_system_id: str | None) -> dict[str, Any] | None:
    """The live access point tagged Name=name (on file_system_id when given), or None."""
    params: dict[str, Any] = {"FileSystemId": file_system_id} if file_system_id else {}
    try:
        paginator = client.get_paginator("describe_access_points")
        pages = paginator.paginate(**params).build_full_result()
    except is_boto3_error_code("FileSystemNotFound"):
        return None
    for point in pages.get("AccessPoints", []):
        tags = boto3_tag_list_to_ansible_dict(point.get("Tags", []))
        if tags.get("Name") == name and point.get("LifeCycleState") not in ("deleting", "deleted"):
            return point
    return None


def wanted_identity(params: dict[str, Any]) -> dict[str, Any]:
    """PosixUser and RootDirectory as the API spells them, from the module options."""
    wanted: dict[str, Any] = {}
    user = params.get("posix_user")
    if user:
        wanted["PosixUser"] = {"Uid": user["uid"], "Gid": user["gid"]}
        if user.get("secondary_gids"):
            wanted["PosixUser"]["SecondaryGids"] = list(user["secondary_gids"])
    root = params.get("root_directory")
    if root:
        wanted["RootDirectory"] = {"Path": root.get("path") or "/"}
        info = root.get("creation_info")
        if info:
            wanted["RootDirectory"]["CreationInfo"] = {
                "OwnerUid": info["owner_uid"],
                "OwnerGid": info["owner_gid"],
                "Permissions": info["permissions"],
            }
    return wanted


def identity_conflicts(existing: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Immutable attributes of `existing` that differ from `wanted`."""
    conflicts = []
    for key, value in wanted.items():
        current = existing.get(key) or {}
        if key == "RootDirectory" and "CreationInfo" not in value:
            current = {k: v for k, v in current.items() if k != "CreationInfo"}
        if key == "PosixUser":
            current = {k: v for k, v in current.items() if v or k != "SecondaryGids"}
        if current != value:
            conflicts.append(key)
    return conflicts


def client_token(name: str, file_system_id: str) -> str:
    """The idempotency token of a create: the name alone would collide after a teardown.

    EFS answers AccessPointAlreadyExists to a ClientToken it has seen, also once that access point is gone;
    a recreated environment has a new file system, so its id makes the token new (at most 64 characters).
    """
    token = f"{name}-{file_system_id}"
    return token if len(token) <= 64 else hashlib.sha256(token.encode()).hexdigest()


def wait_available(module: AnsibleAWSModule, client: Any, point: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + module.params["wait_timeout"]
    while point.get("LifeCycleState") == "creating" and time.monotonic() < deadline:
        time.sleep(2)
        answer = client.describe_access_points(aws_retry=True, AccessPointId=point["AccessPointId"])
        point = answer["AccessPoints"][0]
    if point.get("LifeCycleState") != "available":
        module.fail_json(msg=f"EFS access point {point['AccessPointId']} is {point.get('LifeCycleState')}")
    return point


def result_of(point: dict[str, Any] | None) -> dict[str, Any]:
    if not point:
        return {}
    tags = boto3_tag_list_to_ansible_dict(point.get("Tags", []))
    snake = camel_dict_to_snake_dict({k: v for k, v in point.items() if k not in ("Tags", "ResponseMetadata")})
    snake["tags"] = tags
    return snake


def ensure_present(module: AnsibleAWSModule, client: Any, existing: dict[str, Any] | None) -> None:
    params = module.params
    wanted = wanted_identity(params)
    tags = dict(params.get("tags") or {})
    tags["Name"] = params["name"]
    if existing is None:
        if module.check_mode:
            module.exit_json(
                changed=True, access_point={}, diff=dict(before={}, after=camel_dict_to_snake_dict(wanted))
            )
        point = client.create_access_point(
            aws_retry=True,
            ClientToken=client_token(params["name"], params["file_system_id"]),
            FileSystemId=params["file_system_id"],
            Tags=ansible_dict_to_boto3_tag_list(tags),
            **wanted,
        )
        point = wait_available(module, client, point)
        module.exit_json(changed=True, access_point=result_of(point), diff=dict(before={}, after=result_of(point)))

    if existing["FileSystemId"] != params["file_system_id"]:
        module.fail_json(
            msg=f"EFS access point {params['name']} ({existing['AccessPointId']}) belongs to file system "
            f"{existing['FileSystemId']}, not {params['file_system_id']}: remove it first"
        )
    conflicts = identity_conflicts(existing, wanted)
    if conflicts:
        module.fail_json(
            msg=f"EFS access point {params['name']} ({existing['AccessPointId']}) has another "
            f"{' and '.join(conflicts)} than requested; access points cannot be changed: remove it first"
        )
    current_tags = boto3_tag_list_to_ansible_dict(existing.get("Tags", []))
    to_set, to_unset = compare_aws_tags(current_tags, tags, purge_tags=params["purge_tags"])
    if (to_set or to_unset) and not module.check_mode:
        if to_unset:
            client.untag_resource(aws_retry=True, ResourceId=existing["AccessPointId"], TagKeys=to_unset)
        if to_set:
            client.tag_resource(
                aws_retry=True, ResourceId=existing["AccessPointId"], Tags=ansible_dict_to_boto3_tag_list(to_set)
            )
    after_tags = {k: v for k, v in {**current_tags, **to_set}.items() if k not in to_unset}
    module.exit_json(
        changed=bool(to_set or to_unset),
        access_point={**result_of(existing), "tags": after_tags},
        diff=dict(before={"tags": current_tags}, after={"tags": after_tags}),
    )


def ensure_absent(module: AnsibleAWSModule, client: Any, existing: dict[str, Any] | None) -> None:
    if existing is None:
        module.exit_json(changed=False, access_point={}, diff=dict(before={}, after={}))
    if not module.check_mode:
        try:
            client.delete_access_point(aws_retry=True, AccessPointId=existing["AccessPointId"])
        except is_boto3_error_code("AccessPointNotFound"):
            module.exit_json(changed=False, access_point={}, diff=dict(before={}, after={}))
    module.exit_json(changed=True, access_point={}, diff=dict(before=result_of(existing), after={}))


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            name=dict(type="str", required=True),
            file_system_id=dict(type="str"),
            posix_user=dict(
                type="dict",
                options=dict(
                    uid=dict(type="int", required=True),
                    gid=dict(type="int", required=True),
                    secondary_gids=dict(type="list", elements="int"),
                ),
            ),
            root_directory=dict(
                type="dict",
                options=dict(
                    path=dict(type="str", default="/"),
                    creation_info=dict(
                        type="dict",
                        options=dict(
                            owner_uid=dict(type="int", required=True),
                            owner_gid=dict(type="int", required=True),
                            permissions=dict(type="str", required=True),
                        ),
                    ),
                ),
            ),
            tags=dict(type="dict", aliases=["resource_tags"]),
            purge_tags=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=120),
        ),
        required_if=[("state", "present", ["file_system_id"])],
        supports_check_mode=True,
    )
    client = module.client("efs", retry_decorator=retry_decorator())
    try:
        existing = find_access_point(client, module.params["name"], module.params["file_system_id"])
        if module.params["state"] == "present":
            ensure_present(module, client, existing)
        else:
            ensure_absent(module, client, existing)
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        module.fail_json_aws(e, msg=f"Could not manage EFS access point {module.params['name']}")


if __name__ == "__main__":
    main()
