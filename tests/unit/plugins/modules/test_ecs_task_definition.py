"""ecs_task_definition.ensure() on Stubber-answered clients: one registration, only when something differs."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import REGISTER_FIELDS
from ansible_collections.ecspress.wordpress.plugins.modules import ecs_task_definition as module
from botocore.stub import Stubber

TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:{}"
REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp"
OLD_IMAGE, NEW_IMAGE = f"{REPOSITORY}@sha256:{'a' * 64}", f"{REPOSITORY}@sha256:{'b' * 64}"
TAGS = [{"key": "project", "value": "ecspress"}]


def wanted(image: str = NEW_IMAGE, cpu: str = "512") -> dict[str, Any]:
    return {
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": cpu,
        "memory": "1024",
        "containerDefinitions": [{"name": "wordpress", "image": image, "essential": True}],
    }


def described(revision: int, image: str, cpu: str) -> dict[str, Any]:
    """As ECS answers: ARN, revision, status, and values AWS fills in."""
    definition = {**wanted(image, cpu), "family": "wp", "taskDefinitionArn": TD.format(revision)}
    definition.update(revision=revision, status="ACTIVE", compatibilities=["EC2", "FARGATE"])
    definition["containerDefinitions"][0].update(cpu=0, volumesFrom=[], mountPoints=[])
    return definition


class Module:
    def __init__(self, check_mode: bool = False, **params: Any) -> None:
        self.check_mode = check_mode
        self.params = {
            "family": "wp",
            "definition": None,
            "image": None,
            "container": None,
            "cluster": "c",
            "service": "wp",
            "verify_image": False,
            **params,
        }


def ensure(
    params: dict[str, Any],
    running: dict[str, Any],
    newest: dict[str, Any] | None,
    check_mode: bool = False,
    **expect: Any,
) -> dict[str, Any]:
    """Runs ensure() against stubbed ECS and ECR; newest=None: the family's newest revision must not be read."""
    ecs = boto3.client("ecs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(ecs)
    service = {"serviceName": "wp", "status": "ACTIVE", "taskDefinition": running["taskDefinitionArn"]}
    stub.add_response("describe_services", {"services": [service], "failures": []})
    stub.add_response("describe_task_definition", {"taskDefinition": running, "tags": TAGS})
    if newest is not None:
        stub.add_response(
            "describe_task_definition",
            {"taskDefinition": newest, "tags": []},
            {"taskDefinition": "wp", "include": ["TAGS"]},
        )
    if "register" in expect:
        stub.add_response(
            "register_task_definition", {"taskDefinition": described(8, NEW_IMAGE, "512")}, expect["register"]
        )
    stub.activate()
    client = RetryingBotoClientWrapper(ecs, retry_decorator(delay=0.001, max_delay=0.001))
    ecr = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    ecr_stub = Stubber(ecr)
    if "pushed" in expect:
        digest = NEW_IMAGE.split("@")[1]
        request = {"repositoryName": "wp", "imageIds": [{"imageDigest": digest}], "registryId": "123456789012"}
        if expect["pushed"]:
            ecr_stub.add_response("describe_images", {"imageDetails": [{"imageDigest": digest}]}, request)
        else:
            ecr_stub.add_client_error("describe_images", "ImageNotFoundException", expected_params=request)
    ecr_stub.activate()
    wrapped_ecr = RetryingBotoClientWrapper(ecr, retry_decorator(delay=0.001, max_delay=0.001))
    result = module.ensure(Module(check_mode, **params), client, wrapped_ecr)  # type: ignore[arg-type]
    ecr_stub.assert_no_pending_responses()
    stub.assert_no_pending_responses()
    return result


def test_a_new_image_and_a_new_setting_make_one_revision() -> None:
    """The double rollout of two owners is impossible: both changes land in one registration."""
    old = described(6, OLD_IMAGE, "256")
    result = ensure({"definition": wanted()}, old, old, register={**wanted(), "family": "wp"})
    assert (result["action"], result["task_definition_arn"], result["changed"]) == ("register", TD.format(8), True)
    assert result["changes"] == ["cpu", "containerDefinitions[wordpress].image"]
    assert result["previous_task_definition_arn"] == TD.format(6)


def test_the_revision_the_service_runs_is_kept_after_one_read_of_it() -> None:
    """A no-op converge describes the service and its revision, and not the family's newest revision."""
    running = described(6, NEW_IMAGE, "512")
    result = ensure({"definition": wanted()}, running, None)
    assert (result["action"], result["task_definition_arn"], result["changed"]) == ("keep", TD.format(6), False)


def test_the_newest_revision_is_reused_after_a_rollback() -> None:
    result = ensure({"definition": wanted()}, described(6, OLD_IMAGE, "512"), described(7, NEW_IMAGE, "512"))
    assert (result["action"], result["task_definition_arn"], result["changed"]) == ("reuse", TD.format(7), False)


def test_check_mode_registers_nothing_and_says_so() -> None:
    old = described(6, OLD_IMAGE, "256")
    result = ensure({"definition": wanted()}, old, old, check_mode=True)
    assert (result["changed"], result["task_definition_arn"]) == (True, "wp:(new revision)")


def test_an_image_alone_replaces_it_in_the_running_revision_and_keeps_its_tags() -> None:
    old = described(6, OLD_IMAGE, "512")
    request = {key: value for key, value in old.items() if key in REGISTER_FIELDS}
    request["containerDefinitions"] = [{**old["containerDefinitions"][0], "image": NEW_IMAGE}]
    result = ensure({"image": NEW_IMAGE, "container": "wordpress"}, old, old, register={**request, "tags": TAGS})
    assert result["changes"] == ["containerDefinitions[wordpress].image"] and result["action"] == "register"


def test_an_image_alone_needs_a_running_service() -> None:
    with pytest.raises(module.TaskDefinitionError, match=r"^service wp does not run in cluster c: an image alone"):
        module.wanted_definition(Module(image=NEW_IMAGE).params, None)


def test_a_digest_that_was_never_pushed_registers_nothing() -> None:
    old = described(6, OLD_IMAGE, "256")
    with pytest.raises(module.TaskDefinitionError) as refused:
        ensure({"definition": wanted(), "verify_image": True}, old, old, pushed=False)
    assert str(refused.value) == (
        f"task definition wp: refusing to deploy {NEW_IMAGE.split('@')[1]}: it is not in ECR repository wp "
        "(ImageNotFoundException); push it first (the image stage does)"
    )


def test_a_pushed_digest_is_looked_up_once_before_registering() -> None:
    old = described(6, OLD_IMAGE, "256")
    result = ensure(
        {"definition": wanted(), "verify_image": True}, old, old, pushed=True, register={**wanted(), "family": "wp"}
    )
    assert result["action"] == "register"
