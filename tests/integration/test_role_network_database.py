"""network + database roles against moto: shape, SG chain, idempotence, check mode, secrets, bad input, teardown."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult, run_playbook

PLAYBOOK = "tests/integration/playbooks/network_role.yml"
NAME = "ecspress-test-netdb"
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


def test_security_group_chain_is_exact(converged: dict[str, PlaybookResult], moto_server: MotoServer) -> None:
    sgs = groups(moto_server)
    ids = {name: group["GroupId"] for name, group in sgs.items()}

    def ingress(name: str) -> list[tuple[int, str]]:
        rules = []
        for perm in sgs[name]["IpPermissions"]:
            rules += [(perm["FromPort"], r["CidrIp"]) for r in perm.get("IpRanges", [])]
            rules += [(perm["FromPort"], p["GroupId"]) for p in perm.get("UserIdGroupPairs", [])]
        return sorted(rules)

    assert ingress("alb") == [(80, "0.0.0.0/0"), (443, "0.0.0.0/0")]
    assert ingress("task") == [(80, ids["alb"])]
    assert ingress("db") == [(3306, ids["task"])]
    assert ingress("efs") == [(2049, ids["task"])]


def test_database_is_private_encrypted_and_its_password_never_printed(
    converged: dict[str, PlaybookResult], moto_server: MotoServer
) -> None:
    (instance,) = moto_server.client("rds").describe_db_instances(DBInstanceIdentifier=NAME)["DBInstances"]
    assert instance["PubliclyAccessible"] is False and instance["StorageEncrypted"] is True
    assert instance["DBSubnetGroup"]["DBSubnetGroupName"] == NAME
    assert instance["BackupRetentionPeriod"] == 7
    import json

    secret = json.loads(
        moto_server.client("secretsmanager").get_secret_value(SecretId=f"{NAME}/database")["SecretString"]
    )
    assert secret["host"] == instance["Endpoint"]["Address"] and len(secret["password"]) == 32
    for run in converged.values():
        assert secret["password"] not in run.stdout


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"network_vpc_cidr": "10.0.0.0/33"}, "network_vpc_cidr"),
        ({"network_public_subnets": ["10.42.0.0/24", "10.42.0.0/25"]}, "overlaps"),
        ({"network_azs": ["us-east-1a"]}, "network_azs"),
        ({"database_engine": "oracle"}, "database_engine"),
        ({"network_container_port": "http"}, "network_container_port"),
    ],
)
def test_bad_input_is_refused_before_any_call(
    extra: dict[str, Any], named: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    name = f"ecspress-test-bad-{named.replace('_', '-')}"
    with_network = named != "database_engine"  # the database case gets a prepared network fact instead
    network = {"private_subnet_ids": ["subnet-1", "subnet-2"], "security_groups": {"db": "sg-1"}}
    result = playbook_runner(
        PLAYBOOK,
        extravars=variables(
            moto_server, ecspress_name=name, with_network=with_network, database_network=network, **extra
        ),
    )
    assert result.rc != 0
    assert named in result.stdout
    vpcs = moto_server.client("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])
    assert vpcs["Vpcs"] == []
    instances = moto_server.client("rds").describe_db_instances()["DBInstances"]
    assert [i for i in instances if i["DBInstanceIdentifier"] == name] == []


def test_teardown_twice_leaves_nothing(
    converged: dict[str, PlaybookResult], moto_server: MotoServer, playbook_runner: Runner
) -> None:
    for _ in range(2):
        for extra in (
            {"with_network": False, "database_state": "absent"},
            {"with_database": False, "network_state": "absent"},
        ):
            result = playbook_runner(PLAYBOOK, extravars=variables(moto_server, **extra))
            assert result.rc == 0, result.failed_tasks
    ec2 = moto_server.client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [NAME]}])["Vpcs"] == []
    assert groups(moto_server) == {}
    assert [
        i for i in moto_server.client("rds").describe_db_instances()["DBInstances"] if i["DBInstanceIdentifier"] == NAME
    ] == []
    names = [s["Name"] for s in moto_server.client("secretsmanager").list_secrets()["SecretList"]]
    assert f"{NAME}/database" not in names
