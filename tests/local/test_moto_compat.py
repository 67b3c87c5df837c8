"""Each moto compatibility fix: AWS's behaviour with the fix, and proof plain moto still needs it.

If a `test_plain_moto_still_*` test fails, moto fixed the bug upstream: drop the fix.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import MotoServer, free_port, start_moto, wait_for_port

MANIFEST_TAGS = [{"Key": "Name", "Value": "n"}]


@pytest.fixture(scope="module")
def plain_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """moto's own server, without ecspress's fixes."""
    port = free_port()
    log = (tmp_path_factory.mktemp("plain-moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
    )
    wait_for_port(port)
    yield MotoServer(url=f"http://127.0.0.1:{port}", process=process)
    process.terminate()
    process.wait(timeout=10)


def nat_gateway_tag_types(server: MotoServer) -> list[str]:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(
        SubnetId=subnet,
        AllocationId=allocation,
        TagSpecifications=[{"ResourceType": "natgateway", "Tags": MANIFEST_TAGS}],
    )["NatGateway"]["NatGatewayId"]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [nat]}])["Tags"]
    return [tag["ResourceType"] for tag in tags]


def test_nat_gateway_tags_report_natgateway(moto_server: MotoServer) -> None:
    assert nat_gateway_tag_types(moto_server) == ["natgateway"]


def test_plain_moto_still_reports_nat_gateway(plain_moto: MotoServer) -> None:
    assert nat_gateway_tag_types(plain_moto) == ["nat-gateway"]


def nat_gateway_interfaces(server: MotoServer) -> tuple[list[tuple[str, str]], list[tuple[str, str]], str]:
    """(type, description) of the VPC's interfaces with a NAT gateway, then after its deletion; the EIP's ENI."""
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.98.1.0/24")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]

    def interfaces() -> list[tuple[str, str]]:
        found = ec2.describe_network_interfaces(Filters=in_vpc)["NetworkInterfaces"]
        return [(i["InterfaceType"], i["Description"].replace(nat, "<nat>")) for i in found]

    alive = interfaces()
    ec2.delete_nat_gateway(NatGatewayId=nat)
    after = interfaces()
    (address,) = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"]
    ec2.release_address(AllocationId=allocation)  # what ec2_vpc_nat_gateway's release_eip does next
    return alive, after, address.get("NetworkInterfaceId", "")


def test_nat_gateway_interface_is_typed_and_deleted_with_it(moto_server: MotoServer) -> None:
    alive, after, eip_interface = nat_gateway_interfaces(moto_server)
    assert alive == [("nat_gateway", "Interface for NAT Gateway <nat>")]
    assert after == [] and eip_interface == ""


def test_plain_moto_still_keeps_the_nat_gateway_interface(plain_moto: MotoServer) -> None:
    alive, after, _ = nat_gateway_interfaces(plain_moto)
    assert alive == after == [("interface", "")]


def test_efs_legacy_tag_api(moto_server: MotoServer) -> None:
    efs = moto_server.client("efs")
    file_system = efs.create_file_system(CreationToken="compat", Tags=MANIFEST_TAGS)["FileSystemId"]
    assert efs.describe_tags(FileSystemId=file_system)["Tags"] == MANIFEST_TAGS
    efs.create_tags(FileSystemId=file_system, Tags=[{"Key": "b", "Value": "c"}])
    efs.delete_tags(FileSystemId=file_system, TagKeys=["Name"])
    assert efs.describe_tags(FileSystemId=file_system)["Tags"] == [{"Key": "b", "Value": "c"}]
    assert efs.list_tags_for_resource(ResourceId=file_system)["Tags"] == [{"Key": "b", "Value": "c"}]


def test_plain_moto_still_lacks_efs_describe_tags(plain_moto: MotoServer) -> None:
    efs = plain_moto.client("efs")
    file_system = efs.create_file_system(CreationToken="compat")["FileSystemId"]
    with pytest.raises(Exception):  # noqa: B017 - moto answers 404, botocore raises a generic error
        efs.describe_tags(FileSystemId=file_system)


def test_efs_put_backup_policy(moto_server: MotoServer) -> None:
    efs = moto_server.client("efs")
    file_system = efs.create_file_system(CreationToken="compat-backup")["FileSystemId"]
    answer = efs.put_backup_policy(FileSystemId=file_system, BackupPolicy={"Status": "ENABLED"})
    assert answer["BackupPolicy"] == {"Status": "ENABLED"}
    assert efs.describe_backup_policy(FileSystemId=file_system)["BackupPolicy"] == {"Status": "ENABLED"}


def test_plain_moto_still_lacks_efs_put_backup_policy(plain_moto: MotoServer) -> None:
    efs = plain_moto.client("efs")
    file_system = efs.create_file_system(CreationToken="compat-backup")["FileSystemId"]
    with pytest.raises(Exception):  # noqa: B017 - moto answers 500 (NotImplemented)
        efs.put_backup_policy(FileSystemId=file_system, BackupPolicy={"Status": "ENABLED"})


def create_service_settings(server: MotoServer) -> dict[str, object]:
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName="compat")
    ecs.register_task_definition(family="compat", containerDefinitions=[{"name": "a", "image": "x", "memory": 64}])
    deployment_configuration = {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    service = ecs.create_service(
        cluster="compat",
        serviceName="svc",
        taskDefinition="compat",
        desiredCount=0,
        healthCheckGracePeriodSeconds=45,
        deploymentConfiguration=deployment_configuration,
        enableExecuteCommand=True,
    )["service"]
    described = ecs.describe_services(cluster="compat", services=["svc"])["services"][0]
    assert {k: service.get(k) for k in ("healthCheckGracePeriodSeconds", "enableExecuteCommand")} == {
        k: described.get(k) for k in ("healthCheckGracePeriodSeconds", "enableExecuteCommand")
    }
    return described


def test_create_service_keeps_its_settings(moto_server: MotoServer) -> None:
    described = create_service_settings(moto_server)
    assert described["healthCheckGracePeriodSeconds"] == 45
    assert described["enableExecuteCommand"] is True
    assert described["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_plain_moto_still_drops_create_service_settings(plain_moto: MotoServer) -> None:
    assert "healthCheckGracePeriodSeconds" not in create_service_settings(plain_moto)


def test_fixes_are_listed_in_the_server_banner(tmp_path: Path) -> None:
    server = start_moto(tmp_path / "moto.log")
    try:
        banner = (tmp_path / "moto.log").read_text()
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
    for name in (
        "nat_gateway_tag_resource_type",
        "efs_legacy_tag_api",
        "efs_put_backup_policy",
        "ecs_create_service_keeps_settings",
        "nat_gateway_network_interface",
    ):
        assert name in banner
    assert "ecs_rollout_model" in banner


def tasks_listed_for_a_service(server: MotoServer, name: str, rollout_model: bool) -> tuple[list[str], list[str]]:
    """A one-off task (RunTask) beside a service: what ListTasks answers with serviceName, and without."""
    ecs = server.client("ecs")
    ecs.create_cluster(clusterName=name)
    definition = ecs.register_task_definition(
        family=name,
        networkMode="bridge",  # plain moto fails RunTask of an awsvpc one (500)
        containerDefinitions=[{"name": "web", "image": "127.0.0.1:5000/nowhere@sha256:" + "0" * 64, "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster=name, serviceName=name, taskDefinition=definition, desiredCount=1, launchType="FARGATE")
    deadline = time.monotonic() + (20 if rollout_model else 0)  # ours starts (and fails: no image) a service task
    while time.monotonic() < deadline and not ecs.list_tasks(cluster=name, desiredStatus="STOPPED")["taskArns"]:
        ecs.describe_services(cluster=name, services=[name])
        time.sleep(0.5)
    ecs.run_task(cluster=name, taskDefinition=definition, launchType="FARGATE", startedBy="one-off")
    for_service = ecs.list_tasks(cluster=name, serviceName=name, desiredStatus="STOPPED")["taskArns"]
    for_service += ecs.list_tasks(cluster=name, serviceName=name)["taskArns"]
    every = ecs.list_tasks(cluster=name, desiredStatus="STOPPED")["taskArns"] + ecs.list_tasks(cluster=name)["taskArns"]
    described = ecs.describe_tasks(cluster=name, tasks=every)["tasks"] if every else []
    return sorted(t["group"] for t in described if t["taskArn"] in for_service), sorted(t["group"] for t in described)


def test_list_tasks_of_a_service_leaves_one_off_tasks_out(moto_server: MotoServer) -> None:
    name = "compat-list-tasks"
    of_service, every = tasks_listed_for_a_service(moto_server, name, rollout_model=True)
    assert set(of_service) == {f"service:{name}"}
    assert set(every) == {f"service:{name}", f"family:{name}"}


def test_plain_moto_still_lists_every_task_for_a_service(plain_moto: MotoServer) -> None:
    of_service, _ = tasks_listed_for_a_service(plain_moto, "compat-list-tasks", rollout_model=False)
    assert of_service == ["family:compat-list-tasks"]
