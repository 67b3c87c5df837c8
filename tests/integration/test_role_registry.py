"""The registry role against moto: shape, idempotence, check mode, bad input, teardown."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult

PLAYBOOK = "tests/integration/playbooks/registry_role.yml"
Runner = Callable[..., PlaybookResult]


def converge(runner: Runner, moto: MotoServer, **extra: Any) -> PlaybookResult:
    extravars = {"ecspress_name": "ecspress-test-reg", "ecspress_aws_endpoint_url": moto.url, **extra}
    return runner(PLAYBOOK, extravars=extravars, diff=True)


def test_repository_shape_idempotence_and_teardown(moto_server: MotoServer, playbook_runner: Runner) -> None:
    first = converge(playbook_runner, moto_server, registry_keep_images=5)
    assert first.rc == 0, first.failed_tasks
    second = converge(playbook_runner, moto_server, registry_keep_images=5)
    assert second.rc == 0 and second.changed == 0, second.changed_tasks
    checked = playbook_runner(
        PLAYBOOK,
        check=True,
        diff=True,
        extravars={
            "ecspress_name": "ecspress-test-reg",
            "ecspress_aws_endpoint_url": moto_server.url,
            "registry_keep_images": 5,
        },
    )
    assert checked.rc == 0 and checked.changed == 0, checked.changed_tasks

    ecr = moto_server.client("ecr")
    (repository,) = ecr.describe_repositories(repositoryNames=["ecspress-test-reg/wordpress"])["repositories"]
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert repository["imageTagMutability"] == "IMMUTABLE"
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName="ecspress-test-reg/wordpress")["lifecyclePolicyText"])
    assert policy["rules"][0]["selection"]["countNumber"] == 5
    assert "repository_uri" in second.stdout and repository["repositoryUri"] in second.stdout

    for _ in range(2):
        gone = converge(playbook_runner, moto_server, registry_state="absent")
        assert gone.rc == 0, gone.failed_tasks
    names = [r["repositoryName"] for r in ecr.describe_repositories()["repositories"]]
    assert "ecspress-test-reg/wordpress" not in names


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"registry_repository_name": "Bad_Name"}, "registry_repository_name"),
        ({"registry_keep_images": 0}, "registry_keep_images"),
        ({"registry_keep_images": "many"}, "registry_keep_images"),
        ({"registry_state": "gone"}, "registry_state"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    extra: dict[str, Any], named: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    result = converge(playbook_runner, moto_server, **{**extra, "ecspress_name": "ecspress-test-bad"})
    assert result.rc != 0
    assert named in result.stdout
    names = [r["repositoryName"] for r in moto_server.client("ecr").describe_repositories()["repositories"]]
    assert not any(name.startswith("ecspress-test-bad") for name in names)
