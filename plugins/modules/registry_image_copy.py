#!/usr/bin/python
# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: registry_image_copy
short_description: Copy an image by digest from one repository to another, keeping its digest
version_added: 0.1.0
description:
  - Copies an image named by digest (C(registry/repository@sha256:...)) into another repository of the same or
    another registry over the Docker Registry HTTP API (the one ECR serves) - the blobs the destination lacks
    (mounted from the source repository when both are in one registry, else downloaded and uploaded), then the
    manifest, byte for byte, so the destination holds the same digest. An image index (multi-architecture) is
    copied with each of its manifests.
  - Why a module of ours, M(community.docker.docker_image_pull) and M(community.docker.docker_image_push) go through
    a Docker engine, which re-creates the manifest when it pushes (the digest can change, and is not checked), and no
    module of C(amazon.aws) or C(community.aws) copies images between repositories. This is how C(ecspress deploy
    --image) promotes an image tested in one environment to another without rebuilding it.
  - The copy is refused when the manifest the source serves does not hash to the digest asked for.
author:
  - ecspress maintainers (@ecspress)
options:
  source:
    description: The image, by digest (C(registry/repository@sha256:<64 hex>)). A tag is refused.
    type: str
    required: true
  source_username:
    description: User name for the source registry (C(AWS) for ECR, from M(ecspress.wordpress.ecr_authorization_token)).
    type: str
  source_password:
    description: Password for the source registry.
    type: str
  destination:
    description: The repository to copy into, with its registry (C(registry/repository)), without tag or digest.
    type: str
    required: true
  destination_username:
    description: User name for the destination registry; the source's when omitted.
    type: str
  destination_password:
    description: Password for the destination registry; the source's when omitted.
    type: str
  tag:
    description:
      - Tag the copy gets in the destination (ECR lists an image by its tags; an immutable repository never moves
        one). When the destination already holds the digest, nothing is copied or tagged.
    type: str
    required: true
attributes:
  check_mode:
    support: full
    description: Reads the source and the destination; copies nothing.
  diff_mode:
    support: none
    description: The result names the reference in the destination.
  idempotent:
    support: full
    description: A destination that already holds the digest is left alone.
notes:
  - Plain HTTP only for registries on C(127.0.0.1) or C(localhost); HTTPS otherwise.
  - U(https://distribution.github.io/distribution/spec/api/)
"""

EXAMPLES = r"""
- name: Registry login for ECR
  ecspress.wordpress.ecr_authorization_token:
  register: ecr
  no_log: true

- name: Promote the image tested in dev to prod's repository
  ecspress.wordpress.registry_image_copy:
    source: "{{ dev_image }}"  # 123456789012.dkr.ecr.eu-west-1.amazonaws.com/site-dev/wordpress@sha256:…
    source_username: "{{ ecr.username }}"
    source_password: "{{ ecr.password }}"
    destination: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/site-prod/wordpress
    tag: promoted-0123456789abcdef
"""

RETURN = r"""
reference:
  description: The image in the destination, by digest (the source's digest).
  returned: always
  type: str
  sample: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/site-prod/wordpress@sha256:0123...
digest:
  description: The digest, the same on both sides.
  returned: always
  type: str
copied_blobs:
  description: Digests of the blobs copied (or, in check mode, that would be).
  returned: always
  type: list
  elements: str
"""

import base64
import hashlib
import json
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    ImageReferenceError,
    parse_image_reference,
)

MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)
INDEX_TYPES = MANIFEST_TYPES[1::2]


class CopyError(Exception):
    """A refusal or a registry error, with a message meant for the user."""


class Registry:
    """One registry over HTTP(S), Basic auth, as ECR and Debian's docker-registry serve it."""

    def __init__(self, host: str, username: str | None, password: str | None) -> None:
        scheme = "http" if host.startswith(("127.", "localhost")) else "https"
        self.base = f"{scheme}://{host}/v2"
        token = base64.b64encode(f"{username}:{password}".encode()).decode() if username else ""
        self.auth = {"Authorization": f"Basic {token}"} if token else {}

    def request(self, method: str, path: str, data: bytes | None = None, **headers: str) -> tuple[int, bytes, Any]:
        try:
            response = open_url(
                f"{self.base}/{path}", method=method, data=data, headers={**self.auth, **headers}, timeout=300
            )
            return response.getcode(), response.read(), response.headers
        except Exception as error:  # urllib's HTTPError carries the code; anything else is an outage
            code = getattr(error, "code", None)
            if code is None:
                raise CopyError(f"registry {self.base} does not answer: {error}") from error
            return int(code), error.read() if hasattr(error, "read") else b"", getattr(error, "headers", {})

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str] | None:
        code, body, headers = self.request(
            "GET", f"{repository}/manifests/{reference}", Accept=", ".join(MANIFEST_TYPES)
        )
        if code == 404:
            return None
        if code != 200:
            raise CopyError(f"{self.base}/{repository}/manifests/{reference} answered {code}: {body[:200]!r}")
        return body, str(headers.get("Content-Type") or json.loads(body).get("mediaType") or MANIFEST_TYPES[0])

    def has_blob(self, repository: str, digest: str) -> bool:
        return self.request("HEAD", f"{repository}/blobs/{digest}")[0] == 200


def blobs_of(manifest: dict[str, Any]) -> list[str]:
    """The config and layer digests of one image manifest."""
    config = [manifest["config"]["digest"]] if manifest.get("config") else []
    return config + [layer["digest"] for layer in manifest.get("layers") or []]


def copy_blob(source: Registry, source_repo: str, target: Registry, target_repo: str, digest: str) -> None:
    if source.base == target.base:
        # One registry: mount the blob from the source repository, nothing travels.
        code = target.request("POST", f"{target_repo}/blobs/uploads/?mount={digest}&from={source_repo}")[0]
        if code == 201:
            return
    code, blob, _ = source.request("GET", f"{source_repo}/blobs/{digest}")
    if code != 200 or "sha256:" + hashlib.sha256(blob).hexdigest() != digest:
        raise CopyError(f"blob {digest} of {source_repo} could not be read intact (HTTP {code})")
    code, body, headers = target.request("POST", f"{target_repo}/blobs/uploads/")
    if code != 202:
        raise CopyError(f"{target.base}/{target_repo} refused an upload ({code}): {body[:200]!r}")
    location = str(headers.get("Location"))
    separator = "&" if "?" in location else "?"
    upload = location.split("/v2/", 1)[-1] if location.startswith("http") else location.removeprefix("/v2/")
    code, body, _ = target.request(
        "PUT", f"{upload}{separator}digest={digest}", data=blob, **{"Content-Type": "application/octet-stream"}
    )
    if code not in (201, 204):
        raise CopyError(f"{target.base}/{target_repo} refused blob {digest} ({code}): {body[:200]!r}")


def copy_image(module: AnsibleModule) -> dict[str, Any]:
    params = module.params
    try:
        reference = parse_image_reference(params["source"])
    except ImageReferenceError as error:
        raise CopyError(str(error)) from error
    destination_host, _, destination_repo = params["destination"].partition("/")
    if not destination_repo or "@" in destination_repo or ":" in destination_repo:
        raise CopyError(f"destination {params['destination']!r} is not registry/repository (no tag, no digest)")
    source = Registry(reference.registry, params["source_username"], params["source_password"])
    target = Registry(
        destination_host,
        params["destination_username"] or params["source_username"],
        params["destination_password"] or params["source_password"],
    )
    result: dict[str, Any] = {
        "changed": False,
        "digest": reference.digest,
        "reference": f"{params['destination']}@{reference.digest}",
        "copied_blobs": [],
    }
    if target.manifest(destination_repo, reference.digest) is not None:
        return result
    copies = plan_copy(source, reference.repository, reference.digest)
    for digest in [d for _, manifest, _ in copies for d in blobs_of(manifest)]:
        if digest not in result["copied_blobs"] and not target.has_blob(destination_repo, digest):
            result["copied_blobs"].append(digest)
            if not module.check_mode:
                copy_blob(source, reference.repository, target, destination_repo, digest)
    result["changed"] = True
    if not module.check_mode:
        # An index's manifests by their digest first, then the image itself under the tag.
        for child, _, (raw, media_type) in copies[:-1]:
            put_manifest(target, destination_repo, child, raw, media_type, child)
        _, _, (raw, media_type) = copies[-1]
        put_manifest(target, destination_repo, params["tag"], raw, media_type, reference.digest)
    return result


def put_manifest(target: Registry, repository: str, name: str, raw: bytes, media_type: str, digest: str) -> None:
    code, body, headers = target.request(
        "PUT", f"{repository}/manifests/{name}", data=raw, **{"Content-Type": media_type}
    )
    if code not in (201, 202):
        raise CopyError(f"{target.base}/{repository} refused the manifest {name} ({code}): {body[:300]!r}")
    stored = str(headers.get("Docker-Content-Digest") or digest)
    if stored != digest:
        raise CopyError(f"{target.base}/{repository} stored the manifest {name} as {stored}, not {digest}")


def plan_copy(source: Registry, repository: str, digest: str) -> list[tuple[str, dict[str, Any], tuple[bytes, str]]]:
    """The manifests to put, children of an index first, each checked against its digest: (digest, parsed, raw)."""
    found = source.manifest(repository, digest)
    if found is None:
        raise CopyError(f"{source.base}/{repository} holds no image {digest}")
    raw, media_type = found
    if "sha256:" + hashlib.sha256(raw).hexdigest() != digest:
        raise CopyError(f"the manifest {source.base}/{repository} serves for {digest} does not hash to that digest")
    parsed = json.loads(raw)
    children: list[tuple[str, dict[str, Any], tuple[bytes, str]]] = []
    if media_type in INDEX_TYPES or parsed.get("manifests"):
        for child in parsed.get("manifests") or []:
            children += plan_copy(source, repository, child["digest"])
    return [*children, (digest, parsed, (raw, media_type))]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "source": {"type": "str", "required": True},
            "source_username": {"type": "str"},
            "source_password": {"type": "str", "no_log": True},
            "destination": {"type": "str", "required": True},
            "destination_username": {"type": "str"},
            "destination_password": {"type": "str", "no_log": True},
            "tag": {"type": "str", "required": True},
        },
        supports_check_mode=True,
    )
    try:
        module.exit_json(**copy_image(module))
    except CopyError as error:
        module.fail_json(msg=f"copying {module.params['source']} to {module.params['destination']}: {error}")


if __name__ == "__main__":
    main()
