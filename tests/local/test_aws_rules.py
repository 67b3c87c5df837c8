"""Each AWS rule of the stand-in: it fires with AWS's code and message, a valid request passes, and plain
moto accepts the refused request (so the rule is needed).

If a `test_plain_moto_accepts` case fails, moto now enforces the rule itself: keep the rule's test, drop
the rule. The rules moto already enforces (`aws_rules.MOTO_ALREADY_ENFORCES`) are tested on both servers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from ecspress.local import aws_rules
from tests.conftest import MotoServer
from tests.local.test_moto_compat import plain_moto  # noqa: F401 - fixture

_NAMES = itertools.count()


def db_kwargs(**extra: Any) -> dict[str, Any]:
    """A CreateDBInstance request AWS accepts (the database role's shape), with `extra` on top."""
    return {
        "DBInstanceIdentifier": f"rules-{next(_NAMES)}",
        "Engine": "mariadb",
        "EngineVersion": "11.4",
        "DBInstanceClass": "db.t4g.micro",
        "AllocatedStorage": 20,
        "StorageType": "gp3",
        "MasterUsername": "wordpress",
        "MasterUserPassword": "a-password-of-32-characters-long",
        "BackupRetentionPeriod": 7,
        **extra,
    }


def create_db(server: MotoServer, **extra: Any) -> dict[str, Any]:
    return dict(server.client("rds").create_db_instance(**db_kwargs(**extra))["DBInstance"])


def refused(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


GP3_MESSAGE = "You can't specify IOPS or storage throughput for engine mariadb and a storage size less than 400."

# --- RDS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra", [{"Iops": 3000}, {"StorageThroughput": 125}, {"Iops": 3000, "StorageThroughput": 125}]
)
def test_gp3_iops_or_throughput_under_400_gib_refused(moto_server: MotoServer, extra: dict[str, int]) -> None:
    assert refused(lambda: create_db(moto_server, **extra)) == ("InvalidParameterCombination", GP3_MESSAGE)


def test_gp3_under_400_gib_reports_the_included_baseline(moto_server: MotoServer) -> None:
    instance = create_db(moto_server)
    assert (instance["StorageType"], instance["Iops"], instance["StorageThroughput"]) == ("gp3", 3000, 125)


def test_gp3_from_400_gib_takes_iops_and_throughput(moto_server: MotoServer) -> None:
    instance = create_db(moto_server, AllocatedStorage=400, Iops=12000, StorageThroughput=500)
    assert (instance["Iops"], instance["StorageThroughput"]) == (12000, 500)


def test_gp3_modify_under_400_gib_refused(moto_server: MotoServer) -> None:
    name = create_db(moto_server)["DBInstanceIdentifier"]
    rds = moto_server.client("rds")
    assert refused(
        lambda: rds.modify_db_instance(DBInstanceIdentifier=name, StorageThroughput=200, ApplyImmediately=True)
    ) == ("InvalidParameterCombination", GP3_MESSAGE)


def test_major_only_engine_version_resolves_to_its_default_minor(moto_server: MotoServer) -> None:
    assert create_db(moto_server)["EngineVersion"] == "11.4.5"
    assert create_db(moto_server, Engine="mysql", EngineVersion="8.0")["EngineVersion"] == "8.0.41"
    assert create_db(moto_server, EngineVersion="11.4.3")["EngineVersion"] == "11.4.3"


def test_engine_version_not_offered_refused(moto_server: MotoServer) -> None:
    assert refused(lambda: create_db(moto_server, EngineVersion="11.4.99")) == (
        "InvalidParameterCombination",
        "Cannot find version 11.4.99 for mariadb",
    )


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("11.4", "Cannot find upgrade path from 11.4.5 to 11.4."),
        ("11.4.3", "Cannot upgrade mariadb from 11.4.5 to 11.4.3"),
        ("10.11.11", "Cannot upgrade mariadb from 11.4.5 to 10.11.11"),
    ],
)
def test_modify_to_a_version_that_is_no_upgrade_target_refused(
    moto_server: MotoServer, target: str, message: str
) -> None:
    name = create_db(moto_server)["DBInstanceIdentifier"]
    rds = moto_server.client("rds")
    assert refused(
        lambda: rds.modify_db_instance(DBInstanceIdentifier=name, EngineVersion=target, ApplyImmediately=True)
    ) == ("InvalidParameterCombination", message)


def test_major_upgrade_needs_allow_major_version_upgrade(moto_server: MotoServer) -> None:
    name = create_db(moto_server, Engine="mysql", EngineVersion="8.0.40")["DBInstanceIdentifier"]
    rds = moto_server.client("rds")
    assert refused(lambda: rds.modify_db_instance(DBInstanceIdentifier=name, EngineVersion="8.4.4")) == (
        "InvalidParameterCombination",
        "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.",
    )
    minor = rds.modify_db_instance(DBInstanceIdentifier=name, EngineVersion="8.0.41", ApplyImmediately=True)
    assert minor["DBInstance"]["EngineVersion"] == "8.0.41"
    major = rds.modify_db_instance(
        DBInstanceIdentifier=name, EngineVersion="8.4.4", AllowMajorVersionUpgrade=True, ApplyImmediately=True
    )
    assert major["DBInstance"]["EngineVersion"] == "8.4.4"


def test_describe_db_engine_versions_default_for_a_major(moto_server: MotoServer) -> None:
    rds = moto_server.client("rds")
    default = rds.describe_db_engine_versions(Engine="mariadb", EngineVersion="11.4", DefaultOnly=True)
    assert [v["EngineVersion"] for v in default["DBEngineVersions"]] == ["11.4.5"]
    every = rds.describe_db_engine_versions(Engine="mariadb", EngineVersion="11.4")["DBEngineVersions"]
    assert [v["EngineVersion"] for v in every] == ["11.4.3", "11.4.4", "11.4.5"]
    (oldest,) = rds.describe_db_engine_versions(Engine="mariadb", EngineVersion="11.4.3")["DBEngineVersions"]
    assert [t["EngineVersion"] for t in oldest["ValidUpgradeTarget"]] == ["11.4.4", "11.4.5"]
    assert oldest["DBParameterGroupFamily"] == "mariadb11.4"


def test_instance_class_must_exist_for_the_engine(moto_server: MotoServer) -> None:
    assert refused(lambda: create_db(moto_server, DBInstanceClass="t3.micro")) == (
        "InvalidParameterCombination",
        "RDS does not support creating a DB instance with the following combination: DBInstanceClass=t3.micro, "
        "Engine=mariadb, EngineVersion=11.4.5, LicenseModel=general-public-license. For supported combinations "
        "of instance class and database engine version, see the documentation.",
    )
    assert create_db(moto_server, DBInstanceClass="db.t3.micro")["DBInstanceClass"] == "db.t3.micro"


def test_orderable_options_name_the_classes_the_engine_offers(moto_server: MotoServer) -> None:
    """What the database stage asks before the first stage: the catalogue's class, per version; none for a typo."""
    rds = moto_server.client("rds")
    offered = rds.describe_orderable_db_instance_options(Engine="mariadb", DBInstanceClass="db.t4g.micro")
    assert [o["EngineVersion"] for o in offered["OrderableDBInstanceOptions"]][-3:] == ["11.4.3", "11.4.4", "11.4.5"]
    assert {o["DBInstanceClass"] for o in offered["OrderableDBInstanceOptions"]} == {"db.t4g.micro"}
    one = rds.describe_orderable_db_instance_options(
        Engine="mariadb", EngineVersion="11.4.5", DBInstanceClass="db.t4g.micro"
    )["OrderableDBInstanceOptions"]
    assert [(o["Engine"], o["EngineVersion"], o["DBInstanceClass"]) for o in one] == [
        ("mariadb", "11.4.5", "db.t4g.micro")
    ]
    typo = rds.describe_orderable_db_instance_options(Engine="mariadb", DBInstanceClass="db.t4g.mirco")
    assert typo["OrderableDBInstanceOptions"] == []


@pytest.mark.parametrize("storage", [19, 65537])
def test_allocated_storage_bounds(moto_server: MotoServer, storage: int) -> None:
    assert refused(lambda: create_db(moto_server, AllocatedStorage=storage)) == (
        "InvalidParameterCombination",
        f"Invalid storage size for engine name mariadb and storage type gp3: {storage}",
    )


@pytest.mark.parametrize("days", [-1, 36])
def test_backup_retention_bounds(moto_server: MotoServer, days: int) -> None:
    assert refused(lambda: create_db(moto_server, BackupRetentionPeriod=days)) == (
        "InvalidParameterValue",
        f"Invalid backup retention period: {days}. Must be between 0 and 35.",
    )
    assert create_db(moto_server, BackupRetentionPeriod=35)["BackupRetentionPeriod"] == 35


def final_snapshot_twice(server: MotoServer) -> tuple[str, str]:
    rds, snapshot = server.client("rds"), f"rules-final-{next(_NAMES)}"
    first = create_db(server, StorageType="gp2")["DBInstanceIdentifier"]
    rds.delete_db_instance(DBInstanceIdentifier=first, FinalDBSnapshotIdentifier=snapshot)
    second = create_db(server, StorageType="gp2")["DBInstanceIdentifier"]
    code, message = refused(
        lambda: rds.delete_db_instance(DBInstanceIdentifier=second, FinalDBSnapshotIdentifier=snapshot)
    )
    return code, message.replace(snapshot, "<name>")


SNAPSHOT_EXISTS = (
    "DBSnapshotAlreadyExists",
    "Cannot create the snapshot because a snapshot with the identifier <name> already exists.",
)


def test_final_snapshot_name_that_exists_refused(moto_server: MotoServer) -> None:
    assert final_snapshot_twice(moto_server) == SNAPSHOT_EXISTS


# --- EC2 ---------------------------------------------------------------------------------------

ZONE_MESSAGE = (
    "Value (eu-west-1a) for parameter availabilityZone is invalid. Subnets can currently only be created in the "
    "following availability zones: us-east-1a, us-east-1b, us-east-1c, us-east-1d, us-east-1e, us-east-1f."
)


def subnet_in(server: MotoServer, zone: str) -> Callable[[], Any]:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    return lambda: ec2.create_subnet(VpcId=vpc, CidrBlock="10.98.1.0/24", AvailabilityZone=zone)


def test_subnet_zone_outside_the_client_region_refused(moto_server: MotoServer) -> None:
    assert refused(subnet_in(moto_server, "eu-west-1a")) == ("InvalidParameterValue", ZONE_MESSAGE)
    assert subnet_in(moto_server, "us-east-1a")()["Subnet"]["AvailabilityZone"] == "us-east-1a"


@pytest.mark.parametrize("cidr", ["10.0.0.0/15", "10.0.0.0/29"])
def test_vpc_cidr_outside_16_to_28_refused(moto_server: MotoServer, cidr: str) -> None:
    ec2 = moto_server.client("ec2")
    assert refused(lambda: ec2.create_vpc(CidrBlock=cidr)) == ("InvalidVpc.Range", f"The CIDR '{cidr}' is invalid.")
    assert ec2.create_vpc(CidrBlock="10.0.0.0/28")["Vpc"]["CidrBlock"] == "10.0.0.0/28"


# --- Secrets Manager ---------------------------------------------------------------------------


def recreate_scheduled_secret(server: MotoServer) -> Callable[[], Any]:
    client, name = server.client("secretsmanager"), f"rules/{next(_NAMES)}"
    client.create_secret(Name=name, SecretString="{}")
    client.delete_secret(SecretId=name, RecoveryWindowInDays=30)  # as prod's teardown does
    return lambda: client.create_secret(Name=name, SecretString="{}")


def test_create_secret_scheduled_for_deletion_refused(moto_server: MotoServer) -> None:
    assert refused(recreate_scheduled_secret(moto_server)) == (
        "InvalidRequestException",
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
    )


# --- EFS ---------------------------------------------------------------------------------------


def access_point_twice(server: MotoServer) -> Callable[[], Any]:
    """An access point, deleted with its file system (a teardown), then a new one with the same ClientToken."""
    efs = server.client("efs")
    token = f"rules-ap-{next(_NAMES)}"
    first_fs = efs.create_file_system(CreationToken=f"{token}-1")["FileSystemId"]
    point = efs.create_access_point(ClientToken=token, FileSystemId=first_fs)["AccessPointId"]
    efs.delete_access_point(AccessPointId=point)
    efs.delete_file_system(FileSystemId=first_fs)
    second_fs = efs.create_file_system(CreationToken=f"{token}-2")["FileSystemId"]
    return lambda: efs.create_access_point(ClientToken=token, FileSystemId=second_fs)


def test_efs_access_point_client_token_seen_before_refused(moto_server: MotoServer) -> None:
    code, message = refused(access_point_twice(moto_server))
    assert code == "AccessPointAlreadyExists"
    assert message.startswith("Access point fsap-") and message.endswith(
        " already exists with the specified client token."
    )


# --- plain moto: each refused request above goes through, so the rule is needed -----------------

PLAIN_MOTO_ACCEPTS: dict[str, Callable[[MotoServer], Any]] = {
    "gp3_iops_under_400": lambda s: create_db(s, Iops=3000, StorageThroughput=125),
    "engine_version_not_offered": lambda s: create_db(s, EngineVersion="11.4.99"),
    "major_only_kept_as_given": lambda s: create_db(s)["EngineVersion"] == "11.4" or pytest.fail("resolved"),
    "modify_to_a_bare_major": lambda s: s.client("rds").modify_db_instance(
        DBInstanceIdentifier=create_db(s, EngineVersion="11.4.5")["DBInstanceIdentifier"], EngineVersion="11.4"
    ),
    "instance_class_without_db": lambda s: create_db(s, DBInstanceClass="t3.micro"),
    "allocated_storage_19": lambda s: create_db(s, AllocatedStorage=19),
    "backup_retention_36": lambda s: create_db(s, BackupRetentionPeriod=36),
    "subnet_in_another_region": lambda s: subnet_in(s, "eu-west-1a")(),
    "efs_access_point_client_token_reused": lambda s: access_point_twice(s)(),
}


@pytest.mark.parametrize("case", sorted(PLAIN_MOTO_ACCEPTS))
def test_plain_moto_accepts(plain_moto: MotoServer, case: str) -> None:  # noqa: F811
    PLAIN_MOTO_ACCEPTS[case](plain_moto)


def test_plain_moto_has_no_describe_db_engine_versions(plain_moto: MotoServer) -> None:  # noqa: F811
    with pytest.raises(ResponseParserError, match="500 Internal Server Error"):  # moto: NotImplementedError
        plain_moto.client("rds").describe_db_engine_versions(Engine="mariadb")


def test_plain_moto_offers_no_mariadb_instance_class(plain_moto: MotoServer) -> None:  # noqa: F811
    answer = plain_moto.client("rds").describe_orderable_db_instance_options(
        Engine="mariadb", DBInstanceClass="db.t4g.micro"
    )
    assert answer["OrderableDBInstanceOptions"] == []


def test_plain_moto_refuses_a_scheduled_secret_name_with_another_code(plain_moto: MotoServer) -> None:  # noqa: F811
    assert refused(recreate_scheduled_secret(plain_moto))[0] == "ResourceExistsException"


def test_plain_moto_already_enforces_final_snapshot_and_vpc_range(plain_moto: MotoServer) -> None:  # noqa: F811
    assert set(aws_rules.MOTO_ALREADY_ENFORCES) == {"rds_final_snapshot_name_unique", "ec2_vpc_cidr_16_to_28"}
    assert final_snapshot_twice(plain_moto) == SNAPSHOT_EXISTS
    code, _ = refused(lambda: plain_moto.client("ec2").create_vpc(CidrBlock="10.0.0.0/15"))
    assert code == "InvalidVpc.Range"
