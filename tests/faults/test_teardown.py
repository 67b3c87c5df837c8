"""teardown.yml on a stack that was never created, or only half: succeeds, twice, and leaves nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from tests.conftest import MotoServer, PlaybookResult
from tests.resources import resources_of

pytestmark = [pytest.mark.stack, pytest.mark.docker]
Runner = Callable[..., PlaybookResult]


@pytest.mark.parametrize("created", ["nothing", "network and registry"])
def test_teardown_of_a_missing_or_half_created_stack_twice(
    created: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    name = f"ecspress-half-{uuid.uuid4().hex[:6]}"
    extravars = {"ecspress_name": name, "ecspress_aws_endpoint_url": moto_server.url}
    if created != "nothing":
        half = playbook_runner("playbooks/site.yml", extravars=extravars, tags="network,registry")
        assert half.rc == 0, half.failed_tasks
        created_kinds = set(resources_of(moto_server, name))
        assert {"vpcs", "subnets", "nat_gateways", "ecr_repositories"} <= created_kinds, created_kinds
    for attempt in ("first", "second"):
        down = playbook_runner("playbooks/teardown.yml", extravars=extravars)
        assert down.rc == 0, (attempt, down.failed_tasks)
        assert resources_of(moto_server, name) == {}, (attempt, resources_of(moto_server, name))
