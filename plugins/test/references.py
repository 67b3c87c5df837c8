# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Jinja tests over image references and ARNs, from the one parser in module_utils/_references.py."""

from __future__ import annotations

from typing import Any

from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    ecr_registry,
    is_arn,
    is_digest_reference,
)

DOCUMENTATION = r"""
name: references
short_description: Is it an image reference by digest, an ECR registry host, an ARN
description:
  - C(digest_reference) - C(registry/repository@sha256:<64 hex>), what ECS may be given (a tag is not).
  - C(ecr_host) - an ECR registry host in any partition (FIPS and dual-stack endpoints included).
  - C(arn) - an ARN in any partition; C(value is ecspress.wordpress.arn('acm')) also checks the service.
author: ecspress maintainers
"""


def ecr_host(value: Any) -> bool:
    return isinstance(value, str) and ecr_registry(value) is not None


class TestModule:
    """Reference and ARN tests."""

    def tests(self) -> dict[str, Any]:
        return {"digest_reference": is_digest_reference, "ecr_host": ecr_host, "arn": is_arn}
