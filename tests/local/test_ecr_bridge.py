"""Images pushed to the local registry are visible through moto's ECR API, as on ECR."""

from __future__ import annotations

import pytest

from tests.conftest import MotoServer, push_test_manifest

pytestmark = pytest.mark.stack


def test_pushed_tag_appears_in_describe_images(moto_server: MotoServer) -> None:
    ecr = moto_server.client("ecr")
    ecr.create_repository(repositoryName="ecspress-test/bridge", imageTagMutability="IMMUTABLE")
    assert ecr.describe_images(repositoryName="ecspress-test/bridge")["imageDetails"] == []
    digest = push_test_manifest("ecspress-test/bridge", "b1")
    details = ecr.describe_images(repositoryName="ecspress-test/bridge", imageIds=[{"imageDigest": digest}])
    assert [(d["imageDigest"], d["imageTags"]) for d in details["imageDetails"]] == [(digest, ["b1"])]
    # a second read registers nothing twice
    assert len(ecr.list_images(repositoryName="ecspress-test/bridge")["imageIds"]) == 1


def test_an_unpushed_digest_is_not_found(moto_server: MotoServer) -> None:
    ecr = moto_server.client("ecr")
    ecr.create_repository(repositoryName="ecspress-test/bridge-missing")
    missing = "sha256:" + "1" * 64
    with pytest.raises(ecr.exceptions.ImageNotFoundException):
        ecr.describe_images(repositoryName="ecspress-test/bridge-missing", imageIds=[{"imageDigest": missing}])
