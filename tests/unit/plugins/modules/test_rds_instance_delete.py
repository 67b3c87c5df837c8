"""rds_instance_delete: DeleteDBInstance's request at its edges, and a missing instance read as nothing to delete."""

from __future__ import annotations

import boto3
import pytest
from ansible_collections.ecspress.wordpress.plugins.modules import rds_instance_delete as module
from botocore.stub import Stubber


@pytest.mark.parametrize(
    ("final", "keep", "expected"),
    [
        ("", False, {"SkipFinalSnapshot": True, "DeleteAutomatedBackups": True}),
        ("", True, {"SkipFinalSnapshot": True, "DeleteAutomatedBackups": False}),
        (
            "db-final-1",
            True,
            {"SkipFinalSnapshot": False, "DeleteAutomatedBackups": False, "FinalDBSnapshotIdentifier": "db-final-1"},
        ),
        (
            "db-final-1",
            False,
            {"SkipFinalSnapshot": False, "DeleteAutomatedBackups": True, "FinalDBSnapshotIdentifier": "db-final-1"},
        ),
    ],
    ids=["nothing-kept", "backups-kept", "both-kept", "snapshot-only"],
)
def test_delete_request(final: str, keep: bool, expected: dict[str, object]) -> None:
    assert module.delete_request("db", final, keep) == {"DBInstanceIdentifier": "db", **expected}


def test_a_missing_instance_has_no_status() -> None:
    client = boto3.client("rds", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    stub = Stubber(client)
    stub.add_client_error("describe_db_instances", "DBInstanceNotFound", expected_params={"DBInstanceIdentifier": "db"})
    stub.add_response(
        "describe_db_instances", {"DBInstances": [{"DBInstanceStatus": "deleting"}]}, {"DBInstanceIdentifier": "db"}
    )
    stub.activate()

    def describe(**kwargs: object) -> object:
        kwargs.pop("aws_retry", None)
        return client.describe_db_instances(**kwargs)

    class Client:
        describe_db_instances = staticmethod(describe)

    assert module.instance_status(Client(), "db") is None
    assert module.instance_status(Client(), "db") == "deleting"
    stub.assert_no_pending_responses()
