#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ecr_image_tag
short_description: Add a tag to an image that is in ECR, by its digest
version_added: 0.1.0
description:
  - Adds I(tag) to the image I(image) (C(repository@sha256:...)) in its ECR repository, with the image's own manifest
    (C(BatchGetImage), then C(PutImage) with the tag); nothing is pulled or pushed, and the digest stays the same.
    An image that carries the tag already is left alone; a tag that names another image of an immutable repository
    fails.
  - ecspress tags each image a deploy rolled out (C(deployed-<family>-<revision>)), and the registry's lifecycle
    policy keeps the images of the last deploys, so that a rollback to a recent revision always finds its image.
  - Why a module of ours, no module of C(amazon.aws) or C(community.aws) tags an image that is already in ECR.
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
  image:
    description: The image, by digest (C(registry/repository@sha256:<64 hex>)); the repository is the reference's path.
    type: str
    required: true
  tag:
    description: The tag to add (up to 128 letters, digits, C(.), C(_), C(-)).
    type: str
    required: true
notes:
  - U(https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html)
  - Needs C(ecr:BatchGetImage) and C(ecr:PutImage) on the repository.
"""

EXAMPLES = r"""
- name: Mark the image of revision 12 as deployed
  ecspress.wordpress.ecr_image_tag:
    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/wordpress-prod/wordpress@sha256:0123…
    tag: deployed-wordpress-prod-wordpress-12
"""

RETURN = r"""
tags:
  description: The tags of the image after the task (the wanted one included in check mode).
  returned: always
  type: list
  elements: str
  sample: [0b1c2d3e4f5a6b7c, deployed-wordpress-prod-wordpress-12]
"""

import re
from typing import Any

try:
    import botocore
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    ImageReferenceError,
    parse_image_reference,
)
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator

TAG_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def image_request(image: str) -> dict[str, Any]:
    """repositoryName, registryId (an ECR host's account) and the digest of a reference by digest."""
    reference = parse_image_reference(image)
    request: dict[str, Any] = {"repositoryName": reference.repository, "imageIds": [{"imageDigest": reference.digest}]}
    if reference.registry_id:
        request["registryId"] = reference.registry_id
    return request


def put_request(request: dict[str, Any], found: dict[str, Any], tag: str) -> dict[str, Any]:
    """PutImage of the image's own manifest (so its digest is unchanged) under the new tag."""
    put = {key: request[key] for key in ("repositoryName", "registryId") if key in request}
    put.update(imageManifest=found["imageManifest"], imageDigest=found["imageId"]["imageDigest"], imageTag=tag)
    if found.get("imageManifestMediaType"):
        put["imageManifestMediaType"] = found["imageManifestMediaType"]
    return put


def main() -> None:
    module = AnsibleAWSModule(
        argument_spec={"image": {"type": "str", "required": True}, "tag": {"type": "str", "required": True}},
        supports_check_mode=True,
    )
    tag = module.params["tag"]
    if not TAG_PATTERN.match(tag):
        module.fail_json(msg=f"tag '{tag}' is not a tag ECR takes (up to 128 letters, digits, '.', '_', '-')")
    try:
        request = image_request(module.params["image"])
    except ImageReferenceError as error:
        module.fail_json(msg=str(error))
    ecr = module.client("ecr", retry_decorator=retry_decorator())
    try:
        described = ecr.describe_images(aws_retry=True, **request)["imageDetails"][0]
        tags = sorted(described.get("imageTags") or [])
        if tag in tags:
            module.exit_json(changed=False, tags=tags)
        if not module.check_mode:
            found = ecr.batch_get_image(aws_retry=True, **request)["images"][0]
            ecr.put_image(aws_retry=True, **put_request(request, found, tag))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as error:
        module.fail_json_aws(error, msg=f"ECR refused to tag {module.params['image']} as {tag}")
    module.exit_json(changed=True, tags=sorted([*tags, tag]))


if __name__ == "__main__":
    main()
