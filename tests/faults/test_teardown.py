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


def test_a_refused_prod_teardown_changes_nothing_at_all(moto_server: MotoServer, playbook_runner: Runner) -> None:
    """Every refusal comes before the first deletion: without the confirmation, and with a database whose deletion
    protection was turned on outside the inventory (the console), nothing of the stack is touched. Before, the
    service stage had deleted the uploads (EFS) when the database stage refused."""
    name = f"ecspress-prod-{uuid.uuid4().hex[:6]}"
    moto_server.client("ecs").create_cluster(clusterName=name)
    moto_server.client("logs").create_log_group(logGroupName=f"/ecs/{name}")
    moto_server.client("efs").create_file_system(
        CreationToken=f"{name}-wp-content", Encrypted=True, Tags=[{"Key": "Name", "Value": f"{name}-wp-content"}]
    )
    moto_server.client("ecr").create_repository(repositoryName=f"{name}/wordpress")
    ec2 = moto_server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.93.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.93.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for index, zone in enumerate(("us-east-1a", "us-east-1b"))
    ]
    moto_server.client("rds").create_db_subnet_group(
        DBSubnetGroupName=name, DBSubnetGroupDescription="t", SubnetIds=subnets
    )
    moto_server.client("rds").create_db_instance(
        DBSubnetGroupName=name,
        DBInstanceIdentifier=name,
        Engine="mariadb",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="wordpress",
        MasterUserPassword="not-a-real-password-1",
        DeletionProtection=True,
    )
    before = resources_of(moto_server, name, docker=False)
    kinds = {"ecs_clusters", "log_groups", "efs_file_systems", "ecr_repositories", "db_instances", "db_subnet_groups"}
    assert kinds <= set(before), before
    prod = {"ecspress_name": name, "ecspress_aws_endpoint_url": moto_server.url, "ecspress_env": "prod"}

    unconfirmed = playbook_runner("playbooks/teardown.yml", extravars=prod)
    assert unconfirmed.rc != 0 and unconfirmed.changed == 0, unconfirmed.changed_tasks
    assert unconfirmed.failed_tasks == [
        "Refuse to tear production down without an explicit confirmation: ecspress_env is prod: pass "
        "-e ecspress_confirm_prod=true (ecspress down --i-mean-prod) to tear it down"
    ]
    protected = playbook_runner("playbooks/teardown.yml", extravars={**prod, "ecspress_confirm_prod": True})
    assert protected.rc != 0 and protected.changed == 0, protected.changed_tasks
    assert protected.failed_tasks == [
        f"Refuse to delete a protected database without database_force_delete: The RDS instance {name} has "
        "deletion protection on: set database_force_delete=true to delete it (protection is turned off first). "
        "Nothing was deleted."
    ]
    assert resources_of(moto_server, name, docker=False) == before

    forced = playbook_runner(
        "playbooks/teardown.yml", extravars={**prod, "ecspress_confirm_prod": True, "database_force_delete": True}
    )
    assert forced.rc == 0, forced.failed_tasks
    assert resources_of(moto_server, name, docker=False) == {}
    # What a prod teardown keeps of the database: its own final snapshot and the automated backups (point in time).
    rds = moto_server.client("rds")
    finals = [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(DBInstanceIdentifier=name)["DBSnapshots"]]
    assert [s for s in finals if s.startswith(f"{name}-final-")], finals
    kept = rds.describe_db_instance_automated_backups(DBInstanceIdentifier=name)["DBInstanceAutomatedBackups"]
    assert [backup["DBInstanceIdentifier"] for backup in kept] == [name]
