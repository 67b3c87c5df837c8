"""efs_backup_policy reads a missing policy as DISABLED and a change under way as done."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.ecspress.wordpress.plugins.modules import efs_backup_policy as module
from botocore.stub import Stubber


@pytest.mark.parametrize(
    ("status", "settled"), [("ENABLED", "ENABLED"), ("ENABLING", "ENABLED"), ("DISABLING", "DISABLED")]
)
def test_settled(status: str, settled: str) -> None:
    assert module.settled(status) == settled


def test_a_file_system_without_a_policy_has_backups_off() -> None:
    client = boto3.client("efs", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_client_error("describe_backup_policy", "PolicyNotFound", expected_params={"FileSystemId": "fs-1"})
    stub.add_response("describe_backup_policy", {"BackupPolicy": {"Status": "ENABLING"}}, {"FileSystemId": "fs-1"})
    stub.activate()

    def describe(**kwargs: object) -> object:
        kwargs.pop("aws_retry", None)
        return client.describe_backup_policy(**kwargs)

    class Client:
        describe_backup_policy = staticmethod(describe)

    assert module.current_status(Client(), "fs-1") == "DISABLED"
    assert module.current_status(Client(), "fs-1") == "ENABLING"
    stub.assert_no_pending_responses()
