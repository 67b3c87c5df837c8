"""teardown.yml on a stack that was never created, or only half: succeeds, twice, and leaves nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.conftest import MotoServer, PlaybookResult

pytestmark = [pytest.mark.stack, pytest.mark.docker]
Runner = Callable[..., PlaybookResult]


def leftovers(moto: MotoServer, name: str) -> dict[str, list[str]]:
    vpcs = moto.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    repositories = moto.client("ecr").describe_repositories()["repositories"]
    secrets = moto.client("secretsmanager").list_secrets()["SecretList"]
    return {
        "vpcs": [vpc["VpcId"] for vpc in vpcs],
        "repositories": [r["repositoryName"] for r in repositories if r["repositoryName"].startswith(name)],
        "secrets": [s["Name"] for s in secrets if s["Name"].startswith(name)],
    }


@pytest.mark.parametrize("created", ["nothing", "network and registry"])
def test_teardown_of_a_missing_or_half_created_stack_twice(
    created: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    name = f"ecspress-half-{uuid.uuid4().hex[:6]}"
    extravars = {"ecspress_name": name, "ecspress_aws_endpoint_url": moto_server.url}
    if created != "nothing":
        half = playbook_runner("playbooks/site.yml", extravars=extravars, tags="network,registry")
        assert half.rc == 0, half.failed_tasks
        assert leftovers(moto_server, name)["vpcs"] and leftovers(moto_server, name)["repositories"]
    for attempt in ("first", "second"):
        down = playbook_runner("playbooks/teardown.yml", extravars=extravars)
        assert down.rc == 0, (attempt, down.failed_tasks)
        assert leftovers(moto_server, name) == {"vpcs": [], "repositories": [], "secrets": []}
