"""ecr_image_tag puts the image's own manifest under the new tag (digest unchanged), in the reference's repository."""

from __future__ import annotations

import pytest
from ansible_collections.ecspress.wordpress.plugins.modules import ecr_image_tag as module

DIGEST = "sha256:" + "ab" * 32


def test_the_repository_and_account_come_from_the_reference() -> None:
    image = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/site-prod/wordpress@{DIGEST}"
    assert module.image_request(image) == {
        "repositoryName": "site-prod/wordpress",
        "imageIds": [{"imageDigest": DIGEST}],
        "registryId": "123456789012",
    }
    assert "registryId" not in module.image_request(f"127.0.0.1:5000/site-dev/wordpress@{DIGEST}")


def test_the_put_keeps_the_manifest_and_its_media_type() -> None:
    request = module.image_request(f"127.0.0.1:5000/site-dev/wordpress@{DIGEST}")
    found = {"imageManifest": "{}", "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json"}
    found["imageId"] = {"imageDigest": DIGEST}  # type: ignore[assignment]
    assert module.put_request(request, found, "deployed-r3") == {
        "repositoryName": "site-dev/wordpress",
        "imageManifest": "{}",
        "imageDigest": DIGEST,
        "imageTag": "deployed-r3",
        "imageManifestMediaType": "application/vnd.oci.image.manifest.v1+json",
    }


@pytest.mark.parametrize(("tag", "ok"), [("deployed-r12", True), ("a" * 128, True), ("a" * 129, False), ("-x", False)])
def test_tags_ecr_takes(tag: str, ok: bool) -> None:
    assert bool(module.TAG_PATTERN.match(tag)) is ok
