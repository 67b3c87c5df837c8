# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The environment's resource names for YAML, from module_utils/_names.py (the one place that names them)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.ecspress.wordpress.plugins.module_utils._names import resource_names

DOCUMENTATION = r"""
name: names
short_description: Every resource name of an environment
description:
  - C(resource_names) - from an environment's name (C(ecspress_name)), the names of its VPC, security groups,
    database, repository, cluster, service, task definition family, log group, roles, secrets, EFS, ALB, target
    group and scaling policy. The preflight publishes them as C(ecspress_names).
author: ecspress maintainers
"""


def names_of(name: Any) -> dict[str, str]:
    if not isinstance(name, str) or not name:
        raise AnsibleFilterError(f"resource_names: an environment name is a non-empty string, got {name!r}")
    return resource_names(name)


class FilterModule:
    """Resource names."""

    def filters(self) -> dict[str, Any]:
        return {"resource_names": names_of}
