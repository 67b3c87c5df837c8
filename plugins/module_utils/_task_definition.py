# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers for deploying an image by digest onto an ECS task definition.

Private to the ecspress.wordpress collection: no stability promise to other collections.
Answers in, decisions out: no AWS client in here.
"""

from __future__ import annotations

import copy
import re
from typing import Any, NamedTuple

# The fields RegisterTaskDefinition accepts; everything else in a DescribeTaskDefinition answer
# (ARN, revision, status, requiresAttributes, compatibilities, registeredAt/By…) is AWS's own.
REGISTER_FIELDS = (
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "containerDefinitions",
    "volumes",
    "placementConstraints",
    "requiresCompatibilities",
    "cpu",
    "memory",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
)

_DIGEST_REFERENCE = re.compile(r"^(?P<name>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")


class ImageReferenceError(ValueError):
    """The image reference is not `registry/repository@sha256:<64 hex>`."""


class ImageReference(NamedTuple):
    registry: str
    repository: str
    digest: str
    registry_id: str | None

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}@{self.digest}"


def parse_image_reference(reference: str) -> ImageReference:
    """Split `host/repo@sha256:…`; refuse tags, because a tag can move or never have been pushed."""
    match = _DIGEST_REFERENCE.match(reference or "")
    if match is None:
        raise ImageReferenceError(
            f"image {reference!r} is not a reference by digest (registry/repository@sha256:<64 hex>); "
            "deploy the digest the image pipeline returned, never a tag"
        )
    registry, _, repository = match.group("name").partition("/")
    if not repository or not ("." in registry or ":" in registry or registry == "localhost"):
        raise ImageReferenceError(f"image {reference!r} names no registry host (registry/repository@sha256:…)")
    ecr = _ECR_HOST.match(registry)
    return ImageReference(registry, repository, match.group("digest"), ecr.group("account") if ecr else None)


def container_named(task_definition: dict[str, Any], container: str | None) -> dict[str, Any]:
    """The container to update: the one named, or the only essential one."""
    containers = task_definition.get("containerDefinitions") or []
    if container:
        for candidate in containers:
            if candidate.get("name") == container:
                return dict(candidate)
        names = ", ".join(str(c.get("name")) for c in containers)
        raise ValueError(f"task definition has no container named {container!r} (it has: {names})")
    essential = [c for c in containers if c.get("essential", True)]
    if len(essential) != 1:
        raise ValueError("task definition has several essential containers: name the one to update (container)")
    return dict(essential[0])


def register_request(
    task_definition: dict[str, Any], image: str, container: str | None, tags: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """RegisterTaskDefinition arguments: the same definition with only one container's image replaced."""
    request = {key: copy.deepcopy(task_definition[key]) for key in REGISTER_FIELDS if key in task_definition}
    target = container_named(task_definition, container)["name"]
    for definition in request["containerDefinitions"]:
        if definition.get("name") == target:
            definition["image"] = image
    if tags:
        request["tags"] = copy.deepcopy(tags)
    return request


def same_definition(left: dict[str, Any], right: dict[str, Any]) -> bool:
    """Two task definitions register the same thing (AWS-owned fields ignored)."""
    return all(left.get(key) == right.get(key) for key in REGISTER_FIELDS)


def family_revision(arn: str) -> str:
    """`arn:aws:ecs:…:task-definition/wp:3` or `wp:3` -> `wp:3`."""
    return arn.rsplit("/", 1)[-1]
