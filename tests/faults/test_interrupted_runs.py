"""A run killed mid-stage (SIGKILL to ansible-playbook and its workers) and run again converges.

Network stage: killed as it starts the subnets, the NAT gateways or the security groups; the
re-run ends with one VPC, its four subnets, one internet gateway, one NAT gateway (the local
inventory's shared mode) and the four chained groups, and a third run changes nothing.
Image stage: killed while Ansible configures the builder container, then again while the smoke
test waits for WordPress; the last run builds, smoke tests and pushes, and leaves no builder or
smoke-test container and no smoke-test secrets folder behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult, ansible_playbook_process

Runner = Callable[..., PlaybookResult]


def run_until(playbook: str, extravars: dict[str, str], marker: str, after: float = 1.0, **popen: Any) -> str:
    """Start ansible-playbook, SIGKILL its whole process group once `marker` is printed; return the output."""
    process = ansible_playbook_process(playbook, extravars, start_new_session=True, **popen)
    assert process.stdout is not None
    seen: list[str] = []
    try:
        for line in process.stdout:
            seen.append(line)
            if marker in line:
                time.sleep(after)
                break
        else:
            pytest.fail(f"the run ended before {marker!r}:\n{''.join(seen)[-3000:]}")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return "".join(seen)


# --- network ------------------------------------------------------------------------------


def network_of(moto: MotoServer, name: str) -> dict[str, int]:
    ec2 = moto.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
    counts = {"vpcs": len(vpcs)}
    if len(vpcs) != 1:
        return counts
    in_vpc = [{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}]
    nats = ec2.describe_nat_gateways(Filters=in_vpc)["NatGateways"]
    groups = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpcs[0]["VpcId"]]}])
    counts["subnets"] = len(ec2.describe_subnets(Filters=in_vpc)["Subnets"])
    counts["internet_gateways"] = len(gateways["InternetGateways"])
    counts["nat_gateways"] = len([nat for nat in nats if nat["State"] in ("pending", "available")])
    counts["security_groups"] = len([group for group in groups if group["GroupName"] != "default"])
    return counts


@pytest.mark.stack
@pytest.mark.parametrize("kill_at", ["Subnets", "NAT gateways"])
def test_network_stage_killed_then_rerun_converges(
    kill_at: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    name = f"ecspress-intr-{uuid.uuid4().hex[:6]}"
    extravars = {"ecspress_name": name, "ecspress_aws_endpoint_url": moto_server.url}
    args = ("playbooks/site.yml",)
    output = run_until(args[0], extravars, f"TASK [ecspress.wordpress.network : {kill_at}", after=0.5)
    assert "PLAY RECAP" not in output

    rerun = playbook_runner(args[0], extravars=extravars, tags="network")
    assert rerun.rc == 0, rerun.failed_tasks
    again = playbook_runner(args[0], extravars=extravars, tags="network")
    assert again.rc == 0 and again.changed == 0, again.changed_tasks
    assert network_of(moto_server, name) == {
        "vpcs": 1,
        "subnets": 4,
        "internet_gateways": 1,
        "nat_gateways": 1,
        "security_groups": 4,
    }
    down = playbook_runner("playbooks/teardown.yml", extravars=extravars, tags="network")
    assert down.rc == 0, down.failed_tasks
    assert network_of(moto_server, name) == {"vpcs": 0}


# --- image ----------------------------------------------------------------------------------


def containers_named(prefix: str) -> list[str]:
    names = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return [name for name in names if name.startswith(prefix)]


def smoke_secret_folders(name: str) -> list[Path]:
    return sorted(Path(os.environ.get("TMPDIR", "/tmp")).glob(f"{name}-builder-smoke-*"))


@pytest.mark.docker
@pytest.mark.stack
@pytest.mark.slow
def test_image_build_killed_then_rerun_builds_and_leaves_nothing(playbook_runner: Runner) -> None:
    name = f"ecspress-intr-{uuid.uuid4().hex[:6]}"
    extravars = {"ecspress_name": name}
    # The role's first task in the builder (its `content` entry point ran earlier, for the tag).
    configures = "TASK [ecspress.wordpress.wordpress_image : Install python3"
    run_until("playbooks/image.yml", extravars, configures, after=3)
    assert containers_named(f"{name}-builder"), "the kill should have left the builder behind"

    # The smoke test runs WordPress with local_run's wordpress_site entry point.
    smoke_waits = "TASK [ecspress.wordpress.local_run : The health endpoint"
    run_until("playbooks/image.yml", extravars, smoke_waits, after=0)
    assert containers_named(f"{name}-builder-smoke"), "the kill should have left the smoke test behind"
    assert smoke_secret_folders(name), "the kill should have left the smoke-test secrets folder behind"

    rerun = playbook_runner("playbooks/image.yml", extravars=extravars)
    assert rerun.rc == 0, rerun.failed_tasks
    assert "Start the builder" in " ".join(rerun.changed_tasks)
    assert "Push" in " ".join(rerun.changed_tasks)
    assert containers_named(name) == []
    assert smoke_secret_folders(name) == []
    repository = f"{name}/wordpress"
    down = playbook_runner(
        "playbooks/teardown.yml", extravars={**extravars, "registry_repository_name": repository}, tags="registry"
    )
    assert down.rc == 0, down.failed_tasks
