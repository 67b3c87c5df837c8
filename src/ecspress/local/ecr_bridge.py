"""ECR's data plane for the local stack: images pushed to the local registry appear in moto's ECR.

On AWS, `docker push` to a repository URI makes the image visible to `ecr describe_images`.
Locally the push goes to Debian's docker-registry while ECR's control plane is moto; this
bridge keeps the two consistent: before moto answers DescribeImages, BatchGetImage or
ListImages for a repository, the tags the local registry holds under the same name are
registered in moto with their real manifest and digest. Only the local stack uses this.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from moto.ecr.models import ECRBackend

from ecspress.local.ecs_tasks import REGISTRY_CREDENTIALS

REGISTRY = f"http://{os.environ.get('ECSPRESS_REGISTRY_HOST', '127.0.0.1:5000')}"
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)


def registry_tags(repository: str) -> list[str]:
    try:
        response = requests.get(f"{REGISTRY}/v2/{repository}/tags/list", auth=REGISTRY_CREDENTIALS, timeout=5)
    except requests.RequestException:
        return []
    if response.status_code != 200:
        return []
    return list(response.json().get("tags") or [])


def registry_manifest(repository: str, tag: str) -> tuple[str, str, str] | None:
    """(manifest text, media type, digest) of a tag, exactly as the registry serves it."""
    response = requests.get(
        f"{REGISTRY}/v2/{repository}/manifests/{tag}",
        auth=REGISTRY_CREDENTIALS,
        headers={"Accept": MANIFEST_TYPES},
        timeout=5,
    )
    if response.status_code != 200:
        return None
    media_type = response.headers.get("Content-Type", "").split(";")[0]
    return response.text, media_type, response.headers["Docker-Content-Digest"]


def sync(backend: ECRBackend, repository_name: str) -> None:
    repository = backend.repositories.get(repository_name)
    if repository is None:
        return
    known = {(image.get_image_digest(), tag) for image in repository.images for tag in image.image_tags}
    for tag in registry_tags(repository_name):
        found = registry_manifest(repository_name, tag)
        if found is None or (found[2], tag) in known:
            continue
        manifest, media_type, digest = found
        try:
            backend.put_image(repository_name, manifest, tag, media_type, digest)
        except Exception:  # an immutable tag already taken: ECR would have refused that push too
            continue


def _wrap(original: Any) -> Any:
    def call(self: ECRBackend, *args: Any, **kwargs: Any) -> Any:
        repository_name = kwargs.get("repository_name", args[0] if args else None)
        if isinstance(repository_name, str):
            sync(self, repository_name)
        return original(self, *args, **kwargs)

    return call


def forget(repository_name: str) -> None:
    """Delete every manifest the local registry holds for a repository (its blobs wait for the registry's GC)."""
    for tag in registry_tags(repository_name):
        found = registry_manifest(repository_name, tag)
        if found is not None:
            requests.delete(
                f"{REGISTRY}/v2/{repository_name}/manifests/{found[2]}", auth=REGISTRY_CREDENTIALS, timeout=10
            )


def _delete_repository(original: Any) -> Any:
    """DeleteRepository deletes the repository's images, as ECR does: a repository created again starts empty.

    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteRepository.html (`force`: "delete the
    repository even if it contains images"; the images go with it). Without this, a recreated environment would
    reuse images from the local registry that ECR would have deleted.
    """

    def call(self: ECRBackend, *args: Any, **kwargs: Any) -> Any:
        repository_name = kwargs.get("repository_name", args[0] if args else None)
        result = original(self, *args, **kwargs)
        if isinstance(repository_name, str):
            forget(repository_name)
        return result

    return call


def install() -> str:
    if not getattr(ECRBackend, "_ecspress_bridge", False):
        for name in ("describe_images", "batch_get_image", "list_images"):
            setattr(ECRBackend, name, _wrap(getattr(ECRBackend, name)))
        ECRBackend.delete_repository = _delete_repository(ECRBackend.delete_repository)  # type: ignore[method-assign]
        ECRBackend._ecspress_bridge = True  # type: ignore[attr-defined]
    return "ecr_registry_bridge"
