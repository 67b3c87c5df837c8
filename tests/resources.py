"""Every kind of resource ecspress creates for an environment, in moto and in Docker, in one listing.

Teardown and `--check` tests compare `resources_of(...)` with `{}` (nothing at all) instead of
looking for a few kinds each: a kind the product starts creating and a teardown forgets shows up
here without any test changing. The names follow the roles' vars (roles/*/vars/main.yml): every
resource is named `<name>…`, `/ecs/<name>` or tagged `Name=<name>…`, or lives inside such a resource.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, MotoServer

Listing = dict[str, list[str]]


def _named(items: list[dict[str, Any]], key: str, name: str) -> list[str]:
    return sorted(str(item[key]) for item in items if str(item.get(key, "")).startswith(name))


def _tag_name(item: dict[str, Any]) -> str:
    return next((tag["Value"] for tag in item.get("Tags") or [] if tag["Key"] == "Name"), "")


def _tagged(items: list[dict[str, Any]], key: str, name: str) -> list[str]:
    return sorted(f"{item[key]} ({_tag_name(item)})" for item in items if _tag_name(item).startswith(name))


def ec2_resources(moto: MotoServer, name: str) -> Listing:
    """VPC and everything in it (subnets, gateways, NAT, route tables, groups, ENIs) and the NAT's EIPs."""
    ec2 = moto.client("ec2")
    vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if _tag_name(v).startswith(name)]
    ids = [v["VpcId"] for v in vpcs]
    in_vpcs = [{"Name": "vpc-id", "Values": ids}]
    found: Listing = {"vpcs": _tagged(vpcs, "VpcId", name)}
    if ids:
        found["subnets"] = sorted(s["SubnetId"] for s in ec2.describe_subnets(Filters=in_vpcs)["Subnets"])
        gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": ids}])
        found["internet_gateways"] = sorted(g["InternetGatewayId"] for g in gateways["InternetGateways"])
        tables = ec2.describe_route_tables(Filters=in_vpcs)["RouteTables"]
        found["route_tables"] = sorted(
            t["RouteTableId"] for t in tables if not any(a.get("Main") for a in t.get("Associations", []))
        )
        groups = ec2.describe_security_groups(Filters=in_vpcs)["SecurityGroups"]
        found["security_groups"] = sorted(g["GroupId"] for g in groups if g["GroupName"] != "default")
        interfaces = ec2.describe_network_interfaces(Filters=in_vpcs)["NetworkInterfaces"]
        found["network_interfaces"] = sorted(i["NetworkInterfaceId"] for i in interfaces)
    nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")]
    found["nat_gateways"] = _tagged(nats, "NatGatewayId", name)
    found["elastic_ips"] = _tagged(ec2.describe_addresses()["Addresses"], "AllocationId", name)
    return found


def rds_resources(moto: MotoServer, name: str) -> Listing:
    rds = moto.client("rds")
    return {
        "db_instances": _named(rds.describe_db_instances()["DBInstances"], "DBInstanceIdentifier", name),
        "db_subnet_groups": _named(rds.describe_db_subnet_groups()["DBSubnetGroups"], "DBSubnetGroupName", name),
    }


def secret_resources(moto: MotoServer, name: str) -> Listing:
    """Secrets, including those scheduled for deletion (their names stay taken until the window ends)."""
    listed = moto.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
    ours = [s for s in listed if s["Name"].startswith(name)]
    return {
        "secrets": sorted(s["Name"] for s in ours if "DeletedDate" not in s),
        "secrets_scheduled_for_deletion": sorted(s["Name"] for s in ours if "DeletedDate" in s),
    }


def ecs_resources(moto: MotoServer, name: str) -> Listing:
    ecs = moto.client("ecs")
    arns = ecs.list_clusters()["clusterArns"]
    clusters = ecs.describe_clusters(clusters=arns)["clusters"] if arns else []
    active = [c for c in clusters if c["status"] == "ACTIVE" and c["clusterName"].startswith(name)]
    services: list[str] = []
    for cluster in active:
        arns = ecs.list_services(cluster=cluster["clusterArn"])["serviceArns"]
        described = ecs.describe_services(cluster=cluster["clusterArn"], services=arns)["services"] if arns else []
        services += [s["serviceName"] for s in described if s["status"] == "ACTIVE"]
    families = ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    return {
        "ecs_clusters": sorted(c["clusterName"] for c in active),
        "ecs_services": sorted(services),
        "task_definitions": sorted(a for a in families if a.rsplit("/", 1)[-1].startswith(name)),
    }


def iam_resources(moto: MotoServer, name: str) -> Listing:
    iam = moto.client("iam")
    roles = _named(iam.list_roles()["Roles"], "RoleName", name)
    inline = [f"{role}/{policy}" for role in roles for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    policies = _named(iam.list_policies(Scope="Local")["Policies"], "PolicyName", name)
    return {"iam_roles": roles, "iam_role_policies": sorted(inline), "iam_policies": policies}


def load_balancer_resources(moto: MotoServer, name: str) -> Listing:
    elb = moto.client("elbv2")
    balancers = [b for b in elb.describe_load_balancers()["LoadBalancers"] if b["LoadBalancerName"].startswith(name)]
    listeners = [
        listener["ListenerArn"]
        for balancer in balancers
        for listener in elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    ]
    return {
        "load_balancers": sorted(b["LoadBalancerName"] for b in balancers),
        "target_groups": _named(elb.describe_target_groups()["TargetGroups"], "TargetGroupName", name),
        "listeners": sorted(listeners),
    }


def efs_resources(moto: MotoServer, name: str) -> Listing:
    efs = moto.client("efs")
    systems = [fs for fs in efs.describe_file_systems()["FileSystems"] if str(fs.get("Name", "")).startswith(name)]
    targets, points = [], []
    for system in systems:
        targets += [
            t["MountTargetId"] for t in efs.describe_mount_targets(FileSystemId=system["FileSystemId"])["MountTargets"]
        ]
        points += [
            p["AccessPointId"] for p in efs.describe_access_points(FileSystemId=system["FileSystemId"])["AccessPoints"]
        ]
    return {
        "efs_file_systems": sorted(fs["FileSystemId"] for fs in systems),
        "efs_mount_targets": sorted(targets),
        "efs_access_points": sorted(points),
    }


def scaling_resources(moto: MotoServer, name: str) -> Listing:
    scaling = moto.client("application-autoscaling")
    targets = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    prefix = f"service/{name}"
    return {
        "scalable_targets": sorted(t["ResourceId"] for t in targets if t["ResourceId"].startswith(prefix)),
        "scaling_policies": sorted(p["PolicyName"] for p in policies if p["ResourceId"].startswith(prefix)),
    }


def other_aws_resources(moto: MotoServer, name: str) -> Listing:
    groups = moto.client("logs").describe_log_groups(logGroupNamePrefix=f"/ecs/{name}")["logGroups"]
    repositories = moto.client("ecr").describe_repositories()["repositories"]
    return {
        "log_groups": sorted(g["logGroupName"] for g in groups),
        "ecr_repositories": _named(repositories, "repositoryName", name),
    }


AWS_KINDS: list[Callable[[MotoServer, str], Listing]] = [
    ec2_resources,
    rds_resources,
    secret_resources,
    ecs_resources,
    iam_resources,
    load_balancer_resources,
    efs_resources,
    scaling_resources,
    other_aws_resources,
]


def _docker_lines(*args: str) -> list[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True, timeout=60).stdout.split()


def docker_resources(name: str) -> Listing:
    """Containers, volumes and networks named after the environment, and its images (repository `…/<name>/…`)."""
    images = [line for line in _docker_lines("images", "--format", "{{.Repository}}:{{.Tag}}") if f"/{name}/" in line]
    return {
        "containers": sorted(c for c in _docker_lines("ps", "-a", "--format", "{{.Names}}") if c.startswith(name)),
        "volumes": sorted(v for v in _docker_lines("volume", "ls", "--format", "{{.Name}}") if v.startswith(name)),
        "networks": sorted(n for n in _docker_lines("network", "ls", "--format", "{{.Name}}") if n.startswith(name)),
        "images": sorted(images),
    }


def local_secrets(name: str, root: Path = ROOT) -> Listing:
    folder = root / ".ecspress" / "local" / "secrets" / name
    return {"local_secrets_folder": [str(folder)] if folder.exists() else []}


def resources_of(moto: MotoServer | None, name: str, *, docker: bool = True, images: bool = True) -> Listing:
    """Every resource of environment `name` that exists, by kind; kinds with none are left out."""
    found: Listing = {}
    for kind in AWS_KINDS if moto is not None else []:
        found.update(kind(moto, name))
    if docker:
        found.update(docker_resources(name))
        if not images:
            found.pop("images")
    found.update(local_secrets(name))
    return {kind: names for kind, names in found.items() if names}


def describe(found: Listing) -> str:
    return json.dumps(found, indent=1, sort_keys=True)
