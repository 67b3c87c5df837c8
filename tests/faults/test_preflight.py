"""Wrong, missing or unreachable AWS credentials and region: one clear line before any change.

Each fault is real: no credentials anywhere, a moto server that checks credentials against its
IAM (`INITIAL_NO_AUTH_ACTION_COUNT=0`) and refuses ours, a closed port as the endpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult, free_port, start_moto
from tests.resources import resources_of

pytestmark = [pytest.mark.stack]
Runner = Callable[..., PlaybookResult]
NAME = f"ecspress-test-pre-{uuid.uuid4().hex[:6]}"  # names of this run's own
REFUSING_TASKS = (
    "AWS credentials and region answer",
    "The environment name is well formed",
    "The region is well formed",
)
NO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "",
    "AWS_SECRET_ACCESS_KEY": "",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",  # no instance-metadata probe off this machine
}


@pytest.fixture(scope="module")
def moto_with_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto server that checks every request's credentials against its own IAM users."""
    server = start_moto(tmp_path_factory.mktemp("moto-auth") / "moto.log", {"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def site(runner: Runner, endpoint: str, env: dict[str, str] | None = None, **extra: Any) -> PlaybookResult:
    variables = {"ecspress_name": NAME, "ecspress_aws_endpoint_url": endpoint, **extra}
    return runner("playbooks/site.yml", extravars=variables, env=env)


def assert_refused_in_one_line(result: PlaybookResult, *expected: str) -> None:
    assert result.rc != 0
    assert len(result.failed_tasks) == 1, result.failed_tasks
    message = result.failed_tasks[0]
    assert message.startswith(REFUSING_TASKS), message
    for fragment in expected:
        assert fragment in message, message
    assert "Traceback" not in result.stdout
    assert result.changed == 0 and result.changed_tasks == [], result.changed_tasks


def assert_nothing_created(moto: MotoServer, name: str = NAME) -> None:
    """No resource of any kind, in moto or Docker, carries the environment's name."""
    assert resources_of(moto, name) == {}


def test_missing_credentials(moto_server: MotoServer, playbook_runner: Runner) -> None:
    result = site(playbook_runner, moto_server.url, env=NO_CREDENTIALS)
    assert_refused_in_one_line(result, "AWS credentials or region rejected", "us-east-1", "Nothing was changed")
    assert "credentials" in result.failed_tasks[0].split("):", 1)[1].lower()
    assert_nothing_created(moto_server)


def test_credentials_the_endpoint_refuses(moto_with_auth: MotoServer, playbook_runner: Runner) -> None:
    result = site(playbook_runner, moto_with_auth.url)
    assert_refused_in_one_line(result, "AWS credentials or region rejected", "InvalidClientTokenId")


def test_endpoint_that_does_not_answer(playbook_runner: Runner) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = site(playbook_runner, closed)
    assert_refused_in_one_line(result, "AWS credentials or region rejected", closed)


NAME_RULE = (
    "ecspress_name must be lowercase letters, digits and hyphens, start with a letter and be at most 28 characters"
)
REGION_RULE = "ecspress_region must be an AWS region such as eu-west-1"


@pytest.mark.parametrize(
    ("extra", "task", "message"),
    [
        ({"ecspress_region": "Ireland"}, "The region is well formed", f'{REGION_RULE} (got "Ireland")'),
        ({"ecspress_region": "eu-west"}, "The region is well formed", f'{REGION_RULE} (got "eu-west")'),
        ({"ecspress_name": "My_Site"}, "The environment name is well formed", f'{NAME_RULE} (got "My_Site")'),
        ({"ecspress_name": "a" * 29}, "The environment name is well formed", f'{NAME_RULE} (got "{"a" * 29}")'),
    ],
)
def test_malformed_name_or_region(
    extra: dict[str, str], task: str, message: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    """README's bad-input rows 1 and 2, word for word."""
    result = site(playbook_runner, moto_server.url, **extra)
    assert_refused_in_one_line(result)
    assert result.failed_tasks == [f"{task}: {message}"]
    assert_nothing_created(moto_server, extra.get("ecspress_name", NAME))
