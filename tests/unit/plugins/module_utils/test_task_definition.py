"""Task definitions: replace exactly one image, and decide whether to keep, reuse or register a revision."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import (
    Registration,
    container_named,
    plan_registration,
    register_request,
    task_definition_changes,
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


def test_only_the_named_image_changes_and_aws_fields_are_dropped() -> None:
    request = register_request(described(), ECR, "wordpress")
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
    assert "tags" not in request


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
    assert task_definition_changes(request, {**source, "containerDefinitions": request["containerDefinitions"]}) == []
    assert task_definition_changes(request, {**request, "runtimePlatform": {"cpuArchitecture": "X86_64"}}) == [
        "runtimePlatform.cpuArchitecture",
        "runtimePlatform.operatingSystemFamily (missing)",
    ]


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
    definition = described()
    definition["containerDefinitions"][1]["essential"] = True
    with pytest.raises(ValueError) as several:
        container_named(definition, None)
    assert str(several.value) == (
        "task definition has several essential containers: name the one to update (container)"
    )


# --- the registration decision ----------------------------------------------------------------------------------------


def revision(number: int, image: str) -> dict[str, Any]:
    arn = f"arn:aws:ecs:eu-west-1:1:task-definition/wp:{number}"
    return {**described(image), "revision": number, "taskDefinitionArn": arn}


def never_asked() -> dict[str, Any] | None:
    raise AssertionError("the family's newest revision was looked up although the running one is the wanted one")


def test_the_running_revision_is_kept_when_it_is_the_wanted_one() -> None:
    """Kept without a second read: a no-op converge does not look up the family's newest revision."""
    wanted = register_request(described(ECR), None)
    assert plan_registration(wanted, revision(6, ECR), never_asked) == Registration(
        "keep", "arn:aws:ecs:eu-west-1:1:task-definition/wp:6", []
    )


def test_the_newest_revision_is_reused_when_it_is_the_wanted_one() -> None:
    """After a rollback the service runs :6 while :7 (the wanted one) exists: no identical :8."""
    wanted = register_request(described(ECR), None)
    plan = plan_registration(wanted, revision(6, "old@sha256:" + "b" * 64), lambda: revision(7, ECR))
    assert plan == Registration(
        "reuse", "arn:aws:ecs:eu-west-1:1:task-definition/wp:7", ["containerDefinitions[wordpress].image"]
    )


def test_a_changed_setting_and_image_make_one_registration_with_both_changes() -> None:
    wanted = {**register_request(described(ECR), None), "cpu": "1024"}
    old = revision(6, "old@sha256:" + "b" * 64)
    assert plan_registration(wanted, old, lambda: old) == Registration(
        "register", "", ["containerDefinitions[wordpress].image", "cpu"]
    )


def test_before_the_service_exists_the_newest_revision_is_compared() -> None:
    wanted = register_request(described(ECR), None)
    assert plan_registration(wanted, None, lambda: revision(3, ECR)).action == "reuse"
    assert plan_registration(wanted, None, lambda: None) == Registration("register", "", ["(no active revision)"])
