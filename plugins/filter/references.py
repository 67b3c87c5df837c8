# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Image references, ECR hosts and ARNs for YAML: the parser of module_utils/_references.py, exposed as filters."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    ImageReferenceError,
    ecr_registry,
    ecr_repository_arn,
    family_revision,
    rollback_target,
    split_image_reference,
)

DOCUMENTATION = r"""
name: references
short_description: Image references, ECR registry hosts and ECS task definition names
description:
  - C(image_reference) - split C(registry/repository[:tag][@sha256:...]) into C(registry), C(repository), C(tag),
    C(digest) and C(registry_id) (the account of an ECR registry, else empty); fails on a reference without a
    registry host.
  - C(ecr_registry) - the C(account), C(region), C(partition) and C(fips) of an ECR registry host (any partition,
    FIPS and dual-stack endpoints); empty for any other registry.
  - C(ecr_repository_arn) - the ECR repository ARN of an image reference in ECR, empty for other registries.
  - C(family_revision) - C(family:revision) of a task definition ARN.
  - C(rollback_target) - where C(ecspress rollback --to X) goes, from the running task definition and image
    (C(to | rollback_target(running_task_definition, running_image))) as C({task_definition, image}), one of
    them empty; nothing means the revision before the running one. Fails, naming the value, on anything else.
author: ecspress maintainers
"""


def image_reference(reference: str) -> dict[str, Any]:
    try:
        parsed = split_image_reference(reference)
    except ImageReferenceError as error:
        raise AnsibleFilterError(str(error)) from error
    return {**parsed._asdict(), "registry_id": parsed.registry_id or ""}


def ecr_registry_of(host: str) -> dict[str, Any]:
    found = ecr_registry(host)
    return found._asdict() if found else {}


def rollback_target_of(to: str | None, running_task_definition: str, running_image: str) -> dict[str, str]:
    try:
        return rollback_target(to, running_task_definition, running_image)._asdict()
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from error


class FilterModule:
    """Reference and ARN filters."""

    def filters(self) -> dict[str, Any]:
        return {
            "image_reference": image_reference,
            "ecr_registry": ecr_registry_of,
            "ecr_repository_arn": ecr_repository_arn,
            "family_revision": family_revision,
            "rollback_target": rollback_target_of,
        }
