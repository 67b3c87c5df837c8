# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one check that an image by digest was pushed to ECR, shared by the modules that register or deploy revisions.

Private to the ecspress.wordpress collection: no stability promise to other collections.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import parse_image_reference


class ImageNotPushedError(Exception):
    """The digest is not in its ECR repository: a task would fail with CannotPullContainerError, in a loop."""


def ensure_image_pushed(ecr: Any, image: str, repository: str | None = None, registry_id: str | None = None) -> None:
    """Refuse `image` (by digest; ImageReferenceError for a tag) unless its digest is in the ECR repository.

    The repository defaults to the reference's path and the registry to the account of an ECR host (else the
    caller's): the local stack's registry host is not ECR's, but its pushes are mirrored into ECR by name.
    """
    reference = parse_image_reference(image)
    request: dict[str, Any] = {
        "repositoryName": repository or reference.repository,
        "imageIds": [{"imageDigest": reference.digest}],
    }
    if registry_id or reference.registry_id:
        request["registryId"] = registry_id or reference.registry_id
    try:
        ecr.describe_images(aws_retry=True, **request)
    except is_boto3_error_code(["ImageNotFoundException", "RepositoryNotFoundException"]) as error:
        raise ImageNotPushedError(
            f"refusing to deploy {reference.digest}: it is not in ECR repository {request['repositoryName']} "
            f"({error.response['Error']['Code']}); push it first (the image stage does)"
        ) from error
