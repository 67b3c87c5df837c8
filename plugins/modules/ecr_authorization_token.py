#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecr_authorization_token
short_description: Get a registry login for ECR from GetAuthorizationToken
version_added: 0.1.0
description:
  - Calls ECR's C(GetAuthorizationToken) and returns the registry host, user name and password
    to hand to M(community.docker.docker_login), so nobody types C(docker login) by hand.
  - "The password is a secret. Run the task with C(no_log: true) (see the examples): censoring it
    inside the module would hand C(********) to the login."
author:
  - ecspress maintainers (@ecspress)
options:
  registry_ids:
    description: Account ids of the registries; the caller's own registry when omitted.
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: Only reads; runs the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
  idempotent:
    support: full
    description: Only reads.
notes:
  - C(changed) is always false.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Registry login for ECR
  ecspress.wordpress.ecr_authorization_token:
  register: ecr_token
  no_log: true

- name: Log Docker in to ECR
  community.docker.docker_login:
    registry_url: "{{ ecr_token.registry }}"
    username: "{{ ecr_token.username }}"
    password: "{{ ecr_token.password }}"
  no_log: true
"""

RETURN = r"""
registry:
  description: Host of the registry (proxy endpoint without scheme).
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com
username:
  description: User name for the registry (always C(AWS) for ECR).
  returned: always
  type: str
  sample: AWS
password:
  description: Password for the registry; a secret, register it with C(no_log) on the task.
  returned: always
  type: str
expires_at:
  description: When the token expires (ISO 8601).
  returned: always
  type: str
  sample: "2026-11-25T20:00:00+00:00"
"""

import base64
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator


def login_from(authorization: dict[str, Any]) -> dict[str, str]:
    """Turn one authorizationData entry into registry, username, password, expires_at."""
    username, _, password = base64.b64decode(authorization["authorizationToken"]).decode().partition(":")
    expires = authorization.get("expiresAt")
    return {
        "registry": str(authorization.get("proxyEndpoint", "")).split("://", 1)[-1].rstrip("/"),
        "username": username,
        "password": password,
        "expires_at": expires.isoformat() if hasattr(expires, "isoformat") else str(expires or ""),
    }


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={"registry_ids": {"type": "list", "elements": "str"}},
        supports_check_mode=True,
    )
    retry = retry_decorator()
    ecr = module.client("ecr", retry_decorator=retry)
    request = {"registryIds": module.params["registry_ids"]} if module.params["registry_ids"] else {}
    try:
        answer = ecr.get_authorization_token(aws_retry=True, **request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg="ECR refused GetAuthorizationToken")
    login = login_from(answer["authorizationData"][0])
    module.exit_json(changed=False, **login)


if __name__ == "__main__":
    main()
