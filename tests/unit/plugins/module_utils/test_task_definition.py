"""Deploying by digest: parse references, replace exactly one image, compare definitions."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import (
    ImageReferenceError,
    container_named,
    family_revision,
    parse_image_reference,
    register_request,
    same_definition,
)

DIGEST = "sha256:" + "a" * 64
ECR = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecspress-prod/wordpress@{DIGEST}"


def described(image: str = "old@sha256:" + "b" * 64) -> dict[str, Any]:
    """A DescribeTaskDefinition answer as ECS gives it, AWS-owned fields included."""
    return {
        "taskDefinitionArn": "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:6",
        "family": "wp",
        "revision": 6,
        "status": "ACTIVE",
        "taskRoleArn": "arn:aws:iam::123456789012:role/task",
        "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "compatibilities": ["EC2", "FARGATE"],
        "requiresAttributes": [{"name": "ecs.capability.secrets.asm.environment-variables"}],
        "cpu": "512",
        "memory": "1024",
        "registeredAt": "2026-11-25T06:00:00Z",
        "registeredBy": "arn:aws:iam::123456789012:root",
        "containerDefinitions": [
            {
                "name": "wordpress",
                "image": image,
                "essential": True,
                "secrets": [{"name": "WORDPRESS_DB_PASSWORD", "valueFrom": "arn:secret:password::"}],
            },
            {"name": "log-router", "image": "fluent-bit", "essential": False},
        ],
        "volumes": [{"name": "wp-content", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "/"}}],
    }


def test_parse_ecr_reference() -> None:
    parsed = parse_image_reference(ECR)
    assert parsed.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert parsed.repository == "ecspress-prod/wordpress"
    assert parsed.digest == DIGEST and parsed.registry_id == "123456789012"
    assert parsed.reference == ECR


def test_parse_local_registry_reference() -> None:
    parsed = parse_image_reference(f"127.0.0.1:5000/ecspress-local/wordpress@{DIGEST}")
    assert (parsed.registry, parsed.repository, parsed.registry_id) == (
        "127.0.0.1:5000",
        "ecspress-local/wordpress",
        None,
    )


@pytest.mark.parametrize(
    "reference",
    [
        "127.0.0.1:5000/wp:latest",
        "127.0.0.1:5000/wp@sha256:abc",
        f"wordpress@{DIGEST}",
        "",
        f"127.0.0.1:5000/wp@{DIGEST.upper()}",
    ],
)
def test_tags_and_malformed_digests_are_refused(reference: str) -> None:
    with pytest.raises(ImageReferenceError, match=r"digest|registry"):
        parse_image_reference(reference)


def test_only_the_named_image_changes_and_aws_fields_are_dropped() -> None:
    request = register_request(described(), ECR, "wordpress", tags=[{"key": "project", "value": "ecspress"}])
    assert request["containerDefinitions"][0]["image"] == ECR
    assert request["containerDefinitions"][0]["secrets"] == described()["containerDefinitions"][0]["secrets"]
    assert request["containerDefinitions"][1]["image"] == "fluent-bit"
    for aws_owned in (
        "taskDefinitionArn",
        "revision",
        "status",
        "compatibilities",
        "requiresAttributes",
        "registeredAt",
        "registeredBy",
    ):
        assert aws_owned not in request
    assert request["volumes"][0]["efsVolumeConfiguration"]["rootDirectory"] == "/"
    assert request["tags"] == [{"key": "project", "value": "ecspress"}]


def test_the_source_definition_is_not_mutated() -> None:
    source = described()
    register_request(source, ECR, None)
    assert source == described()


def test_the_only_essential_container_is_chosen() -> None:
    assert container_named(described(), None)["name"] == "wordpress"


def test_unknown_container_names_the_ones_there() -> None:
    with pytest.raises(ValueError, match=r"no container named .web.*wordpress, log-router"):
        container_named(described(), "web")


def test_several_essential_containers_need_a_name() -> None:
    definition = described()
    definition["containerDefinitions"][1]["essential"] = True
    with pytest.raises(ValueError, match="several essential"):
        container_named(definition, None)


def test_same_definition_ignores_aws_owned_fields() -> None:
    wanted = register_request(described(), ECR, "wordpress")
    newest = {**described(ECR), "revision": 7, "taskDefinitionArn": "arn:…:task-definition/wp:7"}
    newest["containerDefinitions"][1]["image"] = "fluent-bit"
    assert same_definition(newest, wanted)
    assert not same_definition(described(), wanted)


def test_family_revision() -> None:
    assert family_revision("arn:aws:ecs:eu-west-1:1:task-definition/wp:3") == "wp:3"
    assert family_revision("wp:3") == "wp:3"


# --- edges pinned exactly (mutation testing: make mutation) ---------------------------------------------------------

# Every field RegisterTaskDefinition takes, spelled out here (not read from the module) so that dropping one
# from the module's list fails this test.
REGISTERED = {
    "family": "wp",
    "taskRoleArn": "arn:aws:iam::123456789012:role/task",
    "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
    "networkMode": "awsvpc",
    "volumes": [],
    "placementConstraints": [{"type": "memberOf", "expression": "attribute:x == y"}],
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "512",
    "memory": "1024",
    "pidMode": "task",
    "ipcMode": "none",
    "proxyConfiguration": {"type": "APPMESH", "containerName": "envoy"},
    "inferenceAccelerators": [{"deviceName": "d", "deviceType": "t"}],
    "ephemeralStorage": {"sizeInGiB": 30},
    "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    "enableFaultInjection": False,
}


def test_every_register_field_is_carried_over_runtime_platform_included() -> None:
    """An ARM64 definition re-registered without runtimePlatform would start as X86_64 and crash on the ARM image."""
    source = {**described(), **REGISTERED}
    request = register_request(source, ECR, "wordpress")
    assert request["runtimePlatform"] == {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}
    assert set(request) == {*REGISTERED, "containerDefinitions"}
    assert {key: request[key] for key in REGISTERED} == REGISTERED
    assert same_definition(request, {**source, "containerDefinitions": request["containerDefinitions"]})
    assert not same_definition(request, {**request, "runtimePlatform": {"cpuArchitecture": "X86_64"}})


def test_the_tags_are_a_copy() -> None:
    tags = [{"key": "project", "value": "ecspress"}]
    request = register_request(described(), ECR, "wordpress", tags=tags)
    request["tags"][0]["value"] = "changed"
    assert tags == [{"key": "project", "value": "ecspress"}]
    assert "tags" not in register_request(described(), ECR, "wordpress", tags=[])


def test_a_named_container_is_replaced_even_among_several_essential_ones() -> None:
    definition = described()
    definition["containerDefinitions"][1]["essential"] = True
    request = register_request(definition, ECR, "log-router")
    assert [c["image"] for c in request["containerDefinitions"]] == ["old@sha256:" + "b" * 64, ECR]


def test_a_container_without_essential_is_essential() -> None:
    """ECS's default for `essential` is true."""
    definition = described()
    definition["containerDefinitions"] = [{"name": "wordpress", "image": "x"}]
    assert container_named(definition, None) == {"name": "wordpress", "image": "x"}


def test_the_messages_say_what_to_do() -> None:
    with pytest.raises(ImageReferenceError) as tag:
        parse_image_reference("127.0.0.1:5000/wp:latest")
    assert str(tag.value) == (
        "image '127.0.0.1:5000/wp:latest' is not a reference by digest (registry/repository@sha256:<64 hex>); "
        "deploy the digest the image pipeline returned, never a tag"
    )
    definition = described()
    definition["containerDefinitions"][1]["essential"] = True
    with pytest.raises(ValueError) as several:
        container_named(definition, None)
    assert str(several.value) == (
        "task definition has several essential containers: name the one to update (container)"
    )


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        (f"localhost/wp@{DIGEST}", "localhost"),
        (f"localhost:5000/wp@{DIGEST}", "localhost:5000"),
        (f"registry.example.com/team/wp@{DIGEST}", "registry.example.com"),
    ],
)
def test_registry_hosts(reference: str, registry: str) -> None:
    parsed = parse_image_reference(reference)
    assert parsed.registry == registry and parsed.registry_id is None and parsed.reference == reference


@pytest.mark.parametrize(
    "reference", [f"registry.example.com@{DIGEST}", f"docker/wp@{DIGEST}", f"Localhost/wp@{DIGEST}"]
)
def test_no_registry_host_is_refused(reference: str) -> None:
    with pytest.raises(ImageReferenceError) as error:
        parse_image_reference(reference)
    assert str(error.value) == f"image {reference!r} names no registry host (registry/repository@sha256:…)"


def test_fips_ecr_hosts_name_the_account() -> None:
    parsed = parse_image_reference(f"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/wp@{DIGEST}")
    assert parsed.registry_id == "123456789012"
