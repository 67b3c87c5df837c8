"""Images pushed to the local registry are visible through moto's ECR API, as on ECR."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import MotoServer, push_test_manifest

pytestmark = pytest.mark.stack


def test_pushed_tag_appears_in_describe_images(moto_server: MotoServer) -> None:
    # The local registry keeps its data across runs: a fresh repository name per run.
    repository = f"ecspress-test/bridge-{uuid.uuid4().hex[:8]}"
    ecr = moto_server.client("ecr")
    ecr.create_repository(repositoryName=repository, imageTagMutability="IMMUTABLE")
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []
    digest = push_test_manifest(repository, "b1")
    details = ecr.describe_images(repositoryName=repository, imageIds=[{"imageDigest": digest}])
    assert [(d["imageDigest"], d["imageTags"]) for d in details["imageDetails"]] == [(digest, ["b1"])]
    # a second read registers nothing twice
    assert len(ecr.list_images(repositoryName=repository)["imageIds"]) == 1


def test_deleting_the_repository_deletes_its_images_from_the_registry(moto_server: MotoServer) -> None:
    """As on ECR: a repository created again under the same name starts empty (no stale image to reuse)."""
    import requests

    from tests.conftest import LOCAL_REGISTRY, LOCAL_REGISTRY_AUTH

    repository = f"ecspress-test/bridge-{uuid.uuid4().hex[:8]}"
    ecr = moto_server.client("ecr")
    ecr.create_repository(repositoryName=repository)
    digest = push_test_manifest(repository, "b1")
    ecr.delete_repository(repositoryName=repository, force=True)
    manifest = requests.get(
        f"http://{LOCAL_REGISTRY}/v2/{repository}/manifests/{digest}", auth=LOCAL_REGISTRY_AUTH, timeout=10
    )
    assert manifest.status_code == 404
    ecr.create_repository(repositoryName=repository)
    assert ecr.describe_images(repositoryName=repository)["imageDetails"] == []


def test_an_unpushed_digest_is_not_found(moto_server: MotoServer) -> None:
    ecr = moto_server.client("ecr")
    ecr.create_repository(repositoryName="ecspress-test/bridge-missing")
    missing = "sha256:" + "1" * 64
    with pytest.raises(ecr.exceptions.ImageNotFoundException):
        ecr.describe_images(repositoryName="ecspress-test/bridge-missing", imageIds=[{"imageDigest": missing}])
