"""network + database roles against moto: shape, SG chain, idempotence, check mode, secrets, bad input, teardown."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import MotoServer, PlaybookResult, run_playbook
from tests.resources import resources_of

PLAYBOOK = "tests/integration/playbooks/network_role.yml"
NAME = f"ecspress-test-netdb-{uuid.uuid4().hex[:4]}"  # names of this run's own
Runner = Callable[..., PlaybookResult]


def variables(moto: MotoServer, **extra: Any) -> dict[str, Any]:
    return {"ecspress_name": NAME, "ecspress_aws_endpoint_url": moto.url, "with_database": True, **extra}


@pytest.fixture(scope="module")
def converged(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PlaybookResult]]:
    runs = {}
    for key, check in (("first", False), ("second", False), ("check", True)):
        runs[key] = run_playbook(
            PLAYBOOK, extravars=variables(moto_server), check=check, diff=True, private_dir=tmp_path_factory.mktemp(key)
        )
    yield runs
    # Teardown, twice, whatever order the tests ran in (a failure here is reported on the last test).
    for attempt in range(2):
        for extra in (
            {"with_network": False, "database_state": "absent"},
            {"with_database": False, "network_state": "absent"},
        ):
            result = run_playbook(
                PLAYBOOK, extravars=variables(moto_server, **extra), private_dir=tmp_path_factory.mktemp("down")
            )
            assert result.rc == 0, result.failed_tasks
            assert attempt == 0 or result.changed == 0, result.changed_tasks
    left = resources_of(moto_server, NAME, docker=False)
    assert left == {}, left


def test_converges_then_changes_nothing(converged: dict[str, PlaybookResult]) -> None:
    assert converged["first"].rc == 0, converged["first"].failed_tasks
    assert converged["second"].rc == 0 and converged["second"].changed == 0, converged["second"].changed_tasks
    assert converged["check"].rc == 0 and converged["check"].changed == 0, converged["check"].changed_tasks


def groups(moto: MotoServer) -> dict[str, dict[str, Any]]:
    found = moto.client("ec2").describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{NAME}-*"]}])
    return {g["GroupName"].removeprefix(f"{NAME}-"): g for g in found["SecurityGroups"]}


def test_two_azs_public_and_private(converged: dict[str, PlaybookResult], moto_server: MotoServer) -> None:
    ec2 = moto_server.client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2 and len(subnets) == 4
    tiers = sorted(tag["Value"] for s in subnets for tag in s["Tags"] if tag["Key"] == "tier")
    assert tiers == ["private", "private", "public", "public"]
    nats = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["NatGateways"]
    assert len([n for n in nats if n["State"] == "available"]) == 1


Rule = tuple[str, int | None, int | None, tuple[str, ...]]


def rules(permissions: list[dict[str, Any]]) -> list[Rule]:
    """Every permission in full: protocol, both ports, and every source (IPv4, IPv6, prefix list, group)."""
    found = []
    for perm in permissions:
        sources = (
            [r["CidrIp"] for r in perm.get("IpRanges", [])]
            + [r["CidrIpv6"] for r in perm.get("Ipv6Ranges", [])]
            + [r["PrefixListId"] for r in perm.get("PrefixListIds", [])]
            + [r["GroupId"] for r in perm.get("UserIdGroupPairs", [])]
        )
        found.append((perm["IpProtocol"], perm.get("FromPort"), perm.get("ToPort"), tuple(sorted(sources))))
    return sorted(found, key=str)


def test_security_group_chain_is_exact(converged: dict[str, PlaybookResult], moto_server: MotoServer) -> None:
    sgs = groups(moto_server)
    ids = {name: group["GroupId"] for name, group in sgs.items()}
    assert sorted(sgs) == ["alb", "db", "efs", "task"]
    assert {name: rules(group["IpPermissions"]) for name, group in sgs.items()} == {
        "alb": [("tcp", 443, 443, ("0.0.0.0/0",)), ("tcp", 80, 80, ("0.0.0.0/0",))],
        "task": [("tcp", 80, 80, (ids["alb"],))],
        "db": [("tcp", 3306, 3306, (ids["task"],))],
        "efs": [("tcp", 2049, 2049, (ids["task"],))],
    }
    # Egress: AWS's default (everything out), nothing added.
    assert {name: rules(group["IpPermissionsEgress"]) for name, group in sgs.items()} == {
        name: [("-1", None, None, ("0.0.0.0/0",))] for name in sgs
    }


def test_database_is_private_encrypted_and_its_password_never_printed(
    converged: dict[str, PlaybookResult], moto_server: MotoServer
) -> None:
    (instance,) = moto_server.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    assert instance["PubliclyAccessible"] is False and instance["StorageEncrypted"] is True
    assert instance["DBSubnetGroup"]["DBSubnetGroupName"] == NAME
    assert instance["BackupRetentionPeriod"] == 7
    secret = json.loads(
        moto_server.client("secretsmanager").get_secret_value(SecretId=f"{NAME}/database")["SecretString"]
    )
    assert secret["host"] == instance["Endpoint"]["Address"] and len(secret["password"]) == 32
    for run in converged.values():
        assert secret["password"] not in run.stdout


def test_database_reports_the_resolved_version_and_the_gp3_baseline(
    converged: dict[str, PlaybookResult], moto_server: MotoServer
) -> None:
    """The stand-in refuses gp3 IOPS/throughput under 400 GiB and resolves 11.4 to 11.4.5 (as AWS does): the first
    run creates without them, the second passes 11.4.5 and sends no modify (see test_converges_then_changes_nothing)."""
    (instance,) = moto_server.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    assert instance["EngineVersion"] == "11.4.5"
    assert (instance["StorageType"], instance["Iops"], instance["StorageThroughput"]) == ("gp3", 3000, 125)


def built_network(moto: MotoServer) -> dict[str, Any]:
    """The converged network, as the network role publishes it, for database-only runs under other names."""
    ec2 = moto.client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]
    private = ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}, {"Name": "tag:tier", "Values": ["private"]}]
    )["Subnets"]
    return {
        "private_subnet_ids": sorted(s["SubnetId"] for s in private),
        "security_groups": {"db": groups(moto)["db"]["GroupId"]},
    }


@pytest.fixture
def extra_database(moto_server: MotoServer) -> Iterator[Callable[[str], str]]:
    """Names a database-only environment for one test; removed afterwards (directly, not by the role under test)."""
    names: list[str] = []
    yield lambda name: names.append(name) or name  # type: ignore[func-returns-value]
    rds, secrets = moto_server.client("rds"), moto_server.client("secretsmanager")
    for name in names:
        with contextlib.suppress(ClientError):  # already gone
            rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
        with contextlib.suppress(ClientError):
            rds.delete_db_subnet_group(DBSubnetGroupName=name)
        with contextlib.suppress(ClientError):
            secrets.delete_secret(SecretId=f"{name}/database", ForceDeleteWithoutRecovery=True)


def database_only(moto: MotoServer, name: str, **extra: Any) -> dict[str, Any]:
    return variables(moto, ecspress_name=name, with_network=False, database_network=built_network(moto), **extra)


def stored_secret(moto: MotoServer, name: str) -> dict[str, Any]:
    return dict(json.loads(moto.client("secretsmanager").get_secret_value(SecretId=f"{name}/database")["SecretString"]))


def test_gp3_iops_and_throughput_provisioned_from_400_gib(
    converged: dict[str, PlaybookResult],
    moto_server: MotoServer,
    playbook_runner: Runner,
    extra_database: Callable[[str], str],
) -> None:
    name = extra_database(f"{NAME}-400")
    for run in ("first", "second"):
        result = playbook_runner(PLAYBOOK, extravars=database_only(moto_server, name, database_allocated_storage=400))
        assert result.rc == 0, (run, result.failed_tasks)
    assert result.changed == 0, result.changed_tasks
    (instance,) = moto_server.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    assert (instance["AllocatedStorage"], instance["Iops"], instance["StorageThroughput"]) == (400, 12000, 500)


def test_password_is_stored_before_the_database_is_created(
    converged: dict[str, PlaybookResult],
    moto_server: MotoServer,
    playbook_runner: Runner,
    extra_database: Callable[[str], str],
) -> None:
    """A run that stops at the RDS create (here AWS refuses the instance class at the create, as when what RDS offers
    changed since the checks before the first stage, which this run skips) leaves the password stored, and the next
    run creates the database with that password, not a new one."""
    name = extra_database(f"{NAME}-early")
    refused_at_create = {"database_instance_class": "db.x9.huge", "ecspress_inputs_checked": True}
    stopped = playbook_runner(PLAYBOOK, extravars=database_only(moto_server, name, **refused_at_create))
    assert stopped.rc != 0 and "RDS does not support creating a DB instance" in stopped.stdout
    password = stored_secret(moto_server, name)["password"]
    assert len(password) == 32
    result = playbook_runner(PLAYBOOK, extravars=database_only(moto_server, name))
    assert result.rc == 0, result.failed_tasks
    (instance,) = moto_server.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    secret = stored_secret(moto_server, name)
    assert secret["password"] == password and secret["host"] == instance["Endpoint"]["Address"]


def test_recreate_within_the_recovery_window_restores_the_secret(
    converged: dict[str, PlaybookResult],
    moto_server: MotoServer,
    playbook_runner: Runner,
    extra_database: Callable[[str], str],
) -> None:
    """prod's teardown schedules the secret's deletion (30 days); AWS refuses a new secret of that name meanwhile."""
    name = extra_database(f"{NAME}-restore")
    assert playbook_runner(PLAYBOOK, extravars=database_only(moto_server, name)).rc == 0
    password = stored_secret(moto_server, name)["password"]
    # Not the automated backups prod keeps: moto 5.2.5 names an instance's automated snapshot rds:<name>-<minute>
    # and then refuses to create an instance of the same name in that minute (DBSnapshotAlreadyExists), which AWS
    # does not (docs/aws-differences.md; CI17 found it).
    teardown = playbook_runner(
        PLAYBOOK,
        extravars=database_only(
            moto_server, name, database_state="absent", ecspress_env="prod", database_keep_automated_backups=False
        ),
    )
    assert teardown.rc == 0, teardown.failed_tasks
    described = moto_server.client("secretsmanager").describe_secret(SecretId=f"{name}/database")
    assert "DeletedDate" in described
    recreated = playbook_runner(PLAYBOOK, extravars=database_only(moto_server, name))
    assert recreated.rc == 0, recreated.failed_tasks
    described = moto_server.client("secretsmanager").describe_secret(SecretId=f"{name}/database")
    assert "DeletedDate" not in described
    (instance,) = moto_server.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"]
    secret = stored_secret(moto_server, name)
    assert secret["password"] == password and secret["host"] == instance["Endpoint"]["Address"]


def test_each_teardown_takes_its_own_final_snapshot(
    converged: dict[str, PlaybookResult],
    moto_server: MotoServer,
    playbook_runner: Runner,
    extra_database: Callable[[str], str],
) -> None:
    """Each teardown takes its own final snapshot; the automated backups go with the instance (AWS's default) unless
    database_keep_automated_backups (on in prod): the first teardown drops them, the second keeps them."""
    name = extra_database(f"{NAME}-snap")
    rds = moto_server.client("rds")
    for keep in (False, True):
        assert playbook_runner(PLAYBOOK, extravars=database_only(moto_server, name)).rc == 0
        assert rds.describe_db_instance_automated_backups(DBInstanceIdentifier=name)["DBInstanceAutomatedBackups"]
        teardown = playbook_runner(
            PLAYBOOK,
            extravars=database_only(
                moto_server,
                name,
                database_state="absent",
                database_final_snapshot=True,
                database_keep_automated_backups=keep,
            ),
        )
        assert teardown.rc == 0, teardown.failed_tasks
        kept = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=name)["DBInstanceAutomatedBackups"]
        assert [backup["DBInstanceIdentifier"] for backup in kept] == ([name] if keep else []), kept
    snapshots = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    names = [s["DBSnapshotIdentifier"] for s in snapshots if s["DBInstanceIdentifier"] == name]
    assert len(set(names)) == 2 and all(n.startswith(f"{name}-final-") for n in names), names


@pytest.mark.parametrize(
    ("extra", "message"),
    [  # README "Bad input" rows 6-10, each message whole
        ({"network_vpc_cidr": "10.0.0.0/33"}, "network_vpc_cidr: '10.0.0.0/33' is not a valid IPv4 CIDR"),
        (
            {"network_public_subnets": ["10.42.0.0/24", "10.42.0.0/25"]},
            "network_public_subnets/network_private_subnets: 10.42.0.0/24 overlaps 10.42.0.0/25",
        ),
        ({"network_azs": ["us-east-1a"]}, "network_azs: at least 2 distinct availability zones are needed"),
        ({"database_engine": "oracle"}, "value of database_engine must be one of: mariadb, mysql, got: oracle"),
        (
            {"network_container_port": "http"},
            "argument 'network_container_port' is of type str and we were unable to convert to int: "
            "\"'http'\" cannot be converted to an int",
        ),
    ],
    ids=["vpc-cidr", "overlap", "one-az", "engine", "port"],
)
def test_bad_input_is_refused_before_any_call(
    extra: dict[str, Any], message: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    name = f"ecspress-test-bad-{uuid.uuid4().hex[:6]}"
    with_network = "database_engine" not in extra  # the database case gets a prepared network fact instead
    network = {"private_subnet_ids": ["subnet-1", "subnet-2"], "security_groups": {"db": "sg-1"}}
    result = playbook_runner(
        PLAYBOOK,
        extravars=variables(
            moto_server, ecspress_name=name, with_network=with_network, database_network=network, **extra
        ),
    )
    assert result.rc != 0 and result.changed == 0, result.changed_tasks
    assert len(result.failed_tasks) == 1, result.failed_tasks
    assert message in result.failed_tasks[0], result.failed_tasks[0]
    assert resources_of(moto_server, name, docker=False) == {}


def test_network_teardown_waits_for_interfaces_in_use_and_deletes_nothing_meanwhile(
    converged: dict[str, PlaybookResult], moto_server: MotoServer, playbook_runner: Runner
) -> None:
    ec2 = moto_server.client("ec2")
    (vpc,) = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"][0]["SubnetId"]
    # What a Fargate task leaves for minutes after it stopped: an interface still in the VPC.
    lingering = ec2.create_network_interface(SubnetId=subnet, Description="a stopped Fargate task")
    lingering_id = lingering["NetworkInterface"]["NetworkInterfaceId"]
    network_down = {"with_database": False, "network_state": "absent", "network_teardown_wait_seconds": 1}
    refused = playbook_runner(PLAYBOOK, extravars=variables(moto_server, **network_down))
    assert refused.rc != 0 and refused.changed == 0, refused.changed_tasks
    assert refused.failed_tasks == [
        f"No network interface of the VPC is still in use: 1 network interface(s) of VPC {vpc['VpcId']} still exist "
        f"after 1 s (network_teardown_wait_seconds): {lingering_id} a stopped Fargate task. Remove what uses them "
        "(or wait and run the teardown again); nothing of the network was deleted."
    ]
    assert len(groups(moto_server)) == 4
    ec2.delete_network_interface(NetworkInterfaceId=lingering_id)  # the teardown in `converged` then goes through
