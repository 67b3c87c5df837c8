"""ecs_deploy.deploy() on botocore clients answered by Stubber: it points the service at a registered revision."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.ecspress.wordpress.plugins.module_utils._retries import retry_decorator
from ansible_collections.ecspress.wordpress.plugins.modules import ecs_deploy as module
from botocore.stub import Stubber

ROOT = Path(__file__).resolve().parents[4]
TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/wp:{}"
REPOSITORY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/wp"
OLD_IMAGE, NEW_IMAGE = f"{REPOSITORY}@sha256:{'a' * 64}", f"{REPOSITORY}@sha256:{'b' * 64}"


def client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")


def task_definition(revision: int, image: str) -> dict[str, Any]:
    return {
        "taskDefinitionArn": TD.format(revision),
        "family": "wp",
        "revision": revision,
        "status": "ACTIVE",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{"name": "wordpress", "image": image, "essential": True}],
    }


def wrapped(boto_client: Any) -> Any:
    """The client as AnsibleAWSModule hands it out: it takes aws_retry=True."""
    return RetryingBotoClientWrapper(boto_client, retry_decorator(delay=0.001, max_delay=0.001))


class Module:
    def __init__(self, check_mode: bool = False) -> None:
        self.check_mode = check_mode
        self.params = {
            "cluster": "c",
            "service": "wp",
            "task_definition": TD.format(7),
            "container": "wordpress",
            "repository_name": None,
            "registry_id": None,
            "verify_image": True,
        }


def deploy(update_answer: dict[str, Any] | None, check_mode: bool = False) -> dict[str, Any]:
    ecs, ecr = client("ecs"), client("ecr")
    ecs_stub, ecr_stub = Stubber(ecs), Stubber(ecr)
    service = {"serviceName": "wp", "status": "ACTIVE", "taskDefinition": TD.format(6)}
    ecs_stub.add_response("describe_services", {"services": [service], "failures": []})
    ecs_stub.add_response("describe_task_definition", {"taskDefinition": task_definition(6, OLD_IMAGE), "tags": []})
    ecs_stub.add_response("describe_task_definition", {"taskDefinition": task_definition(7, NEW_IMAGE), "tags": []})
    ecr_stub.add_response(
        "describe_images",
        {"imageDetails": [{"imageDigest": f"sha256:{'b' * 64}"}]},
        {"repositoryName": "wp", "imageIds": [{"imageDigest": f"sha256:{'b' * 64}"}], "registryId": "123456789012"},
    )
    if update_answer is not None:
        ecs_stub.add_response(
            "update_service", update_answer, {"cluster": "c", "service": "wp", "taskDefinition": TD.format(7)}
        )
    ecs_stub.activate()
    ecr_stub.activate()
    result = module.deploy(Module(check_mode), wrapped(ecs), wrapped(ecr))  # type: ignore[arg-type]
    ecs_stub.assert_no_pending_responses()
    ecr_stub.assert_no_pending_responses()
    return result


def test_the_deployment_update_service_started_is_returned() -> None:
    answer = {
        "service": {
            "serviceName": "wp",
            "taskDefinition": TD.format(7),
            "deployments": [
                {"id": "ecs-svc/66", "status": "ACTIVE", "taskDefinition": TD.format(6)},
                {"id": "ecs-svc/77", "status": "PRIMARY", "taskDefinition": TD.format(7)},
            ],
        }
    }
    result = deploy(answer)
    assert (result["deployment_id"], result["task_definition_arn"]) == ("ecs-svc/77", TD.format(7))
    assert result["changed"] and result["service_updated"] and "registered" not in result
    assert (result["image"], result["previous_image"]) == (NEW_IMAGE, OLD_IMAGE)


def test_no_deployment_id_without_an_update() -> None:
    assert deploy(None, check_mode=True)["deployment_id"] == ""
    empty = {"service": {"serviceName": "wp", "deployments": [{"id": "ecs-svc/66", "status": "PRIMARY"}]}}
    assert deploy(empty)["deployment_id"] == ""


def test_a_tag_in_the_revision_is_refused_before_any_change() -> None:
    ecs, ecr = client("ecs"), client("ecr")
    ecs_stub = Stubber(ecs)
    service = {"serviceName": "wp", "status": "ACTIVE", "taskDefinition": TD.format(6)}
    ecs_stub.add_response("describe_services", {"services": [service], "failures": []})
    ecs_stub.add_response("describe_task_definition", {"taskDefinition": task_definition(6, OLD_IMAGE), "tags": []})
    ecs_stub.add_response("describe_task_definition", {"taskDefinition": task_definition(7, f"{REPOSITORY}:latest")})
    ecs_stub.activate()
    with pytest.raises(module.DeployError) as refused:
        module.deploy(Module(), wrapped(ecs), wrapped(ecr))  # type: ignore[arg-type]
    assert str(refused.value).startswith(f"{TD.format(7)}: image '{REPOSITORY}:latest' is not a reference by digest")
    ecs_stub.assert_no_pending_responses()


def test_the_revision_the_service_runs_changes_nothing_and_asks_ecr_nothing() -> None:
    ecs, ecr = client("ecs"), client("ecr")
    ecs_stub, ecr_stub = Stubber(ecs), Stubber(ecr)
    service = {"serviceName": "wp", "status": "ACTIVE", "taskDefinition": TD.format(7)}
    ecs_stub.add_response("describe_services", {"services": [service], "failures": []})
    for _ in range(2):
        ecs_stub.add_response("describe_task_definition", {"taskDefinition": task_definition(7, NEW_IMAGE)})
    ecs_stub.activate()
    ecr_stub.activate()
    result = module.deploy(Module(), wrapped(ecs), wrapped(ecr))  # type: ignore[arg-type]
    assert not result["changed"] and result["deployment_id"] == "" and result["task_definition_arn"] == TD.format(7)


@pytest.mark.parametrize("key", ["deployment_id"])
def test_return_documents_the_deployment_id(key: str) -> None:
    assert key in yaml.safe_load(module.RETURN)


def test_the_role_waits_for_the_deployment_id_and_falls_back_to_the_task_definition() -> None:
    tasks = yaml.safe_load((ROOT / "roles" / "ecs_deploy" / "tasks" / "main.yml").read_text())
    wait = next(t for t in tasks if "ecspress.wordpress.ecs_deployment_wait" in t)[
        "ecspress.wordpress.ecs_deployment_wait"
    ]
    assert "__ecs_deploy_result.deployment_id" in wait["deployment_id"]
    assert "omit" in wait["task_definition"] and "omit" in wait["deployment_id"]
    assert wait["max_poll_interval"] == "{{ ecs_deploy_max_poll_interval }}"
