"""registry_image_copy: which manifests and blobs a copy puts, and that a manifest must hash to its digest."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.modules import registry_image_copy as module

IMAGE_TYPE, INDEX_TYPE = module.MANIFEST_TYPES[0], module.MANIFEST_TYPES[3]


def digest_of(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def image(config: str, *layers: str) -> bytes:
    body = {"schemaVersion": 2, "mediaType": IMAGE_TYPE, "config": {"digest": config}, "layers": []}
    body["layers"] = [{"digest": layer} for layer in layers]
    return json.dumps(body).encode()


class FakeRegistry:
    base = "http://127.0.0.1:5000/v2"

    def __init__(self, manifests: dict[str, tuple[bytes, str]]) -> None:
        self.manifests = manifests

    def manifest(self, repository: str, reference: str) -> tuple[bytes, str] | None:
        return self.manifests.get(reference)


def test_an_image_is_put_with_its_config_and_layers() -> None:
    raw = image("sha256:c", "sha256:l1", "sha256:l2")
    plan = module.plan_copy(FakeRegistry({digest_of(raw): (raw, IMAGE_TYPE)}), "dev/wp", digest_of(raw))  # type: ignore[arg-type]
    assert [(d, module.blobs_of(m), body) for d, m, (body, _) in plan] == [
        (digest_of(raw), ["sha256:c", "sha256:l1", "sha256:l2"], raw)
    ]


def test_an_index_puts_each_of_its_manifests_first() -> None:
    amd, arm = image("sha256:c1", "sha256:a"), image("sha256:c2", "sha256:b")
    index = json.dumps({"mediaType": INDEX_TYPE, "manifests": [{"digest": digest_of(amd)}, {"digest": digest_of(arm)}]})
    found: dict[str, tuple[bytes, str]] = {digest_of(m): (m, IMAGE_TYPE) for m in (amd, arm)}
    found[digest_of(index.encode())] = (index.encode(), INDEX_TYPE)
    plan = module.plan_copy(FakeRegistry(found), "dev/wp", digest_of(index.encode()))  # type: ignore[arg-type]
    assert [d for d, _, _ in plan] == [digest_of(amd), digest_of(arm), digest_of(index.encode())]


def test_a_manifest_that_does_not_hash_to_its_digest_is_refused() -> None:
    claimed = "sha256:" + "f" * 64
    with pytest.raises(module.CopyError, match=r"does not hash to that digest$"):
        module.plan_copy(FakeRegistry({claimed: (image("sha256:c"), IMAGE_TYPE)}), "dev/wp", claimed)  # type: ignore[arg-type]


def test_a_missing_image_is_named() -> None:
    with pytest.raises(module.CopyError) as refused:
        module.plan_copy(FakeRegistry({}), "dev/wp", "sha256:" + "e" * 64)  # type: ignore[arg-type]
    assert str(refused.value) == f"http://127.0.0.1:5000/v2/dev/wp holds no image sha256:{'e' * 64}"


class Module:
    check_mode = False

    def __init__(self, **params: Any) -> None:
        self.params = params


def test_a_tag_is_refused_before_any_request() -> None:
    tagged = Module(source="127.0.0.1:5000/dev/wp:v2", destination="127.0.0.1:5000/prod/wp")
    with pytest.raises(module.CopyError, match="is not a reference by digest"):
        module.copy_image(tagged)  # type: ignore[arg-type]
