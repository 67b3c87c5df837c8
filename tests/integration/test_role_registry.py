"""The registry role against moto: shape, idempotence, check mode, bad input, teardown."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult
from tests.resources import resources_of

PLAYBOOK = "tests/integration/playbooks/registry_role.yml"
Runner = Callable[..., PlaybookResult]


def converge(runner: Runner, moto: MotoServer, name: str, check: bool = False, **extra: Any) -> PlaybookResult:
    extravars = {"ecspress_name": name, "ecspress_aws_endpoint_url": moto.url, **extra}
    return runner(PLAYBOOK, extravars=extravars, check=check, diff=True)


def test_repository_shape_idempotence_and_teardown(moto_server: MotoServer, playbook_runner: Runner) -> None:
    name = f"ecspress-test-reg-{uuid.uuid4().hex[:6]}"  # a killed earlier run's repository is never adopted
    first = converge(playbook_runner, moto_server, name, registry_keep_images=5)
    assert first.rc == 0, first.failed_tasks
    second = converge(playbook_runner, moto_server, name, registry_keep_images=5)
    assert second.rc == 0 and second.changed == 0, second.changed_tasks
    checked = converge(playbook_runner, moto_server, name, check=True, registry_keep_images=5)
    assert checked.rc == 0 and checked.changed == 0, checked.changed_tasks

    ecr = moto_server.client("ecr")
    (repository,) = ecr.describe_repositories(repositoryNames=[f"{name}/wordpress"])["repositories"]
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["imageTagMutability"] == "IMMUTABLE"
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName=f"{name}/wordpress")["lifecyclePolicyText"])
    kept_deployed, kept = policy["rules"]
    assert kept_deployed["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["deployed-*"],
        "countType": "imageCountMoreThan",
        "countNumber": 10,
    }
    assert (kept["rulePriority"], kept["selection"]["tagStatus"], kept["selection"]["countNumber"]) == (2, "any", 5)
    assert "repository_uri" in second.stdout and repository["repositoryUri"] in second.stdout
    assert "host: 127.0.0.1:5000" in second.stdout  # the local inventory's data plane (ecspress_registry_host)

    gone = converge(playbook_runner, moto_server, name, registry_state="absent")
    assert gone.rc == 0 and gone.changed > 0, gone.failed_tasks
    again = converge(playbook_runner, moto_server, name, registry_state="absent")
    assert again.rc == 0 and again.changed == 0, again.failed_tasks or again.changed_tasks
    assert resources_of(moto_server, name, docker=False) == {}


@pytest.mark.parametrize(
    ("extra", "message"),
    [  # README "Bad input" rows 11-13, each message whole
        (
            {"registry_repository_name": "Bad_Name"},
            "registry_repository_name 'Bad_Name' is not a name ECR accepts (lowercase, digits, . _ - / separators, "
            "2-256 characters)",
        ),
        ({"registry_keep_images": 0}, "registry_keep_images (0) is below 1"),
        (
            {"registry_keep_images": "many"},
            "argument 'registry_keep_images' is of type str and we were unable to convert to int: "
            "\"'many'\" cannot be converted to an int",
        ),
        ({"registry_state": "gone"}, "value of registry_state must be one of: present, absent, got: gone"),
    ],
    ids=["name", "keep-0", "keep-many", "state"],
)
def test_bad_input_is_refused_before_any_call(
    extra: dict[str, Any], message: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    name = f"ecspress-test-bad-{uuid.uuid4().hex[:6]}"
    result = converge(playbook_runner, moto_server, name, **extra)
    assert result.rc != 0 and result.changed == 0, result.changed_tasks
    assert len(result.failed_tasks) == 1, result.failed_tasks
    assert message in result.failed_tasks[0], result.failed_tasks[0]
    assert resources_of(moto_server, name, docker=False) == {}
