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
