"""The `service` role against moto: converge twice, check mode, the shape AWS would see, drift, bad input, teardown.

One stack is converged once per module (a full converge takes ~15 s) and shared by the read-back tests; the
tests that change it run after them, in file order, and the teardown tests run last. The network, database
secret and image digest the role consumes are built with boto3 here, so the role is tested on its own.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult, run_playbook
from tests.resources import describe, resources_of

pytestmark = pytest.mark.slow

PLAYBOOK = Path(__file__).parent / "playbooks" / "service_role.yml"
# The service role, then the deploy stage: what site.yml runs, without the network, database and image stages.
DEPLOY_PLAYBOOK = Path(__file__).parent / "playbooks" / "service_and_deploy.yml"
SALT_KEYS = [
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
]
DB_PASSWORD = "db-password-never-in-env"
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {
        "mediaType": "application/vnd.docker.container.image.v1+json",
        "size": 7023,
        "digest": "sha256:" + "b" * 64,
    },
    "layers": [
        {
            "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "size": 32654,
            "digest": "sha256:" + "c" * 64,
        }
    ],
}


@dataclass
class Prerequisites:
    """What the network, database and image stages would hand the role, built with boto3."""

    moto: MotoServer
    network: dict[str, Any]
    database: dict[str, Any]
    image: str
    private_dir: Path
    runs: int = 0

    def extravars(self, name: str, **overrides: Any) -> dict[str, Any]:
        return {
            "ecspress_name": name,
            "ecspress_aws_endpoint_url": self.moto.url,
            "service_network": self.network,
            "service_database": self.database,
            "service_image": self.image,
            # moto has no routing.http.drop_invalid_header_fields attribute (the ALB module fails reading it).
            "service_alb_drop_invalid_header_fields": False,
            **overrides,
        }

    def run(
        self, name: str, *, check: bool = False, diff: bool = False, playbook: Path = PLAYBOOK, **overrides: Any
    ) -> PlaybookResult:
        self.runs += 1
        return run_playbook(
            playbook,
            extravars=self.extravars(name, **overrides),
            check=check,
            diff=diff,
            private_dir=self.private_dir / f"run-{self.runs}",
        )


@dataclass
class Stack:
    name: str
    prerequisites: Prerequisites
    converges: list[PlaybookResult] = field(default_factory=list)
    check_run: PlaybookResult | None = None
    revisions_after: list[int] = field(default_factory=list)
    salts_after: list[dict[str, str]] = field(default_factory=list)
    # What the tests that change the stack have asked for so far: every later converge keeps it, so
    # those tests pass in any order (each asserts only what its own change does).
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return f"{self.name}-wordpress"

    @property
    def network(self) -> dict[str, Any]:
        """The network the service is on now (a test may move it to other subnets)."""
        return dict(self.settings.get("service_network", self.prerequisites.network))

    def converge(self, *, diff: bool = False, **changes: Any) -> PlaybookResult:
        """Converge with every setting asked for so far plus `changes` (kept for later converges)."""
        self.settings.update(changes)
        return self.prerequisites.run(self.name, diff=diff, **self.settings)

    def client(self, service: str) -> Any:
        return self.prerequisites.moto.client(service)


def unique_name(prefix: str = "svc") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def build_prerequisites(moto: MotoServer, tag: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    ec2 = moto.client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.91.0.0/16")["Vpc"]["VpcId"]

    def subnet(cidr: str, zone: str) -> str:
        return str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"])

    groups = {
        role: ec2.create_security_group(GroupName=f"{tag}-{role}", Description=role, VpcId=vpc_id)["GroupId"]
        for role in ("alb", "task", "db", "efs")
    }
    network = {
        "vpc_id": vpc_id,
        "public_subnet_ids": [subnet("10.91.0.0/24", "us-east-1a"), subnet("10.91.1.0/24", "us-east-1b")],
        "private_subnet_ids": [subnet("10.91.10.0/24", "us-east-1a"), subnet("10.91.11.0/24", "us-east-1b")],
        "azs": ["us-east-1a", "us-east-1b"],
        "security_groups": groups,
    }
    secret_arn = moto.client("secretsmanager").create_secret(
        Name=f"{tag}/db", SecretString=json.dumps({"username": "wordpress", "password": DB_PASSWORD})
    )["ARN"]
    database = {
        "endpoint": f"{tag}.db.example.internal",
        "port": 3306,
        "name": "wordpress",
        "user": "wordpress",
        "secret_arn": secret_arn,
    }
    ecr = moto.client("ecr")
    repository = f"{tag}/wordpress"
    ecr.create_repository(repositoryName=repository)
    digest = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(MANIFEST), imageTag="smoke-tested")[
        "image"
    ]["imageId"]["imageDigest"]
    image = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{repository}@{digest}"
    return network, database, image


@pytest.fixture(scope="module")
def prerequisites(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Prerequisites:
    network, database, image = build_prerequisites(moto_server, unique_name("pre"))
    return Prerequisites(moto_server, network, database, image, tmp_path_factory.mktemp("service-role"))


def active_revisions(stack: Stack) -> list[int]:
    arns = stack.client("ecs").list_task_definitions(familyPrefix=stack.family, status="ACTIVE")["taskDefinitionArns"]
    return sorted(int(arn.rsplit(":", 1)[1]) for arn in arns)


def salts(stack: Stack) -> dict[str, str]:
    value = stack.client("secretsmanager").get_secret_value(SecretId=f"{stack.name}/wordpress-keys")["SecretString"]
    return dict(json.loads(value))


@pytest.fixture(scope="module")
def stack(prerequisites: Prerequisites) -> Iterator[Stack]:
    """Converge twice, then --check --diff; record revisions and salts after each converge."""
    built = Stack(unique_name(), prerequisites)
    for _ in range(2):
        result = prerequisites.run(built.name)
        assert result.rc == 0, result.failed_tasks or result.stdout[-3000:]
        built.converges.append(result)
        built.revisions_after.append(active_revisions(built))
        built.salts_after.append(salts(built))
    built.check_run = prerequisites.run(built.name, check=True, diff=True)
    yield built
    # Teardown, twice, whatever order the tests ran in (a failure here is reported on the last test).
    first = prerequisites.run(built.name, service_state="absent")
    assert first.rc == 0 and first.changed > 0, first.failed_tasks
    second = prerequisites.run(built.name, service_state="absent")
    assert second.rc == 0 and second.changed == 0, second.failed_tasks or second.changed_tasks
    services = prerequisites.moto.client("ecs").describe_services(cluster=built.name, services=[built.name])
    assert all(service["status"] == "INACTIVE" for service in services["services"])
    left = resources_of(prerequisites.moto, built.name, docker=False)
    assert left == {}, describe(left)


def service_of(stack: Stack) -> dict[str, Any]:
    services = stack.client("ecs").describe_services(cluster=stack.name, services=[stack.name])["services"]
    return dict(services[0])


def task_definition_of(stack: Stack, revision: int | None = None) -> dict[str, Any]:
    """The service's task definition now, or the given revision of the family."""
    ecs = stack.client("ecs")
    name = service_of(stack)["taskDefinition"] if revision is None else f"{stack.family}:{revision}"
    return dict(ecs.describe_task_definition(taskDefinition=name)["taskDefinition"])


# --- idempotence --------------------------------------------------------------------------------


def test_first_converge_creates_the_stack(stack: Stack) -> None:
    first = stack.converges[0]
    assert first.changed > 0
    assert first.failed == 0


def test_second_converge_changes_nothing(stack: Stack) -> None:
    second = stack.converges[1]
    assert second.changed == 0, f"changed on the second run: {second.changed_tasks}"


def test_check_diff_after_converge_reports_no_change(stack: Stack) -> None:
    assert stack.check_run is not None
    assert stack.check_run.rc == 0, stack.check_run.failed_tasks
    assert stack.check_run.changed == 0, f"--check --diff would change: {stack.check_run.changed_tasks}"


def test_rerun_registers_no_new_task_definition_revision(stack: Stack) -> None:
    assert stack.revisions_after[0] == stack.revisions_after[1] == [1]


def test_wordpress_keys_are_generated_once(stack: Stack) -> None:
    first, second = stack.salts_after
    assert sorted(first) == sorted(SALT_KEYS)
    assert first == second
    assert len(set(first.values())) == len(SALT_KEYS)
    assert all(len(value) == 64 for value in first.values())


def test_secrets_never_reach_the_output(stack: Stack) -> None:
    for result in [*stack.converges, stack.check_run]:
        assert result is not None
        for value in [DB_PASSWORD, *stack.salts_after[0].values()]:
            assert value not in result.stdout


# --- read back what AWS would see ---------------------------------------------------------------


def test_task_definition_injects_the_db_password_and_salts_as_secrets(stack: Stack) -> None:
    definition = task_definition_of(stack, revision=1)  # as the fixture's converges left it
    (container,) = definition["containerDefinitions"]
    secrets = {item["name"]: item["valueFrom"] for item in container["secrets"]}
    environment = {item["name"]: item["value"] for item in container["environment"]}
    db_arn = stack.prerequisites.database["secret_arn"]
    keys_arn = stack.client("secretsmanager").describe_secret(SecretId=f"{stack.name}/wordpress-keys")["ARN"]

    assert secrets["WORDPRESS_DB_PASSWORD"] == f"{db_arn}:password::"
    for key in SALT_KEYS:
        assert secrets[f"WORDPRESS_{key}"] == f"{keys_arn}:{key}::"
    assert sorted(environment) == ["WORDPRESS_DB_HOST", "WORDPRESS_DB_NAME", "WORDPRESS_DB_USER"]
    assert environment["WORDPRESS_DB_HOST"] == f"{stack.prerequisites.database['endpoint']}:3306"
    secret_values = {DB_PASSWORD, *stack.salts_after[0].values()}
    assert not secret_values & set(environment.values())
    assert not set(secrets) & set(environment)


def test_task_definition_shape(stack: Stack) -> None:
    definition = task_definition_of(stack, revision=1)  # as the fixture's converges left it
    (container,) = definition["containerDefinitions"]
    assert definition["networkMode"] == "awsvpc"
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert (definition["cpu"], definition["memory"]) == ("512", "1024")
    assert container["image"] == stack.prerequisites.image
    assert "/healthz" in " ".join(container["healthCheck"]["command"])
    assert container["logConfiguration"]["logDriver"] == "awslogs"
    assert container["logConfiguration"]["options"]["awslogs-group"] == f"/ecs/{stack.name}"
    assert container["portMappings"][0]["containerPort"] == 80
    iam = stack.client("iam")
    assert definition["executionRoleArn"] == iam.get_role(RoleName=f"{stack.name}-task-execution")["Role"]["Arn"]
    assert definition["taskRoleArn"] == iam.get_role(RoleName=f"{stack.name}-task")["Role"]["Arn"]


def test_wp_content_is_an_encrypted_efs_access_point_mounted_in_the_task(stack: Stack) -> None:
    definition = task_definition_of(stack, revision=1)  # as the fixture's converges left it
    (container,) = definition["containerDefinitions"]
    (volume,) = definition["volumes"]
    efs = stack.client("efs")
    (file_system,) = efs.describe_file_systems(CreationToken=f"{stack.name}-wp-content")["FileSystems"]
    (access_point,) = efs.describe_access_points(FileSystemId=file_system["FileSystemId"])["AccessPoints"]
    assert efs.describe_backup_policy(FileSystemId=file_system["FileSystemId"])["BackupPolicy"] == {"Status": "ENABLED"}
    config = volume["efsVolumeConfiguration"]

    (mount,) = container["mountPoints"]
    assert (mount["sourceVolume"], mount["containerPath"]) == (volume["name"], "/var/lib/wordpress/wp-content/uploads")
    assert not mount.get("readOnly")
    assert config["fileSystemId"] == file_system["FileSystemId"]
    assert config["rootDirectory"] == "/"
    assert config["transitEncryption"] == "ENABLED"
    assert config["authorizationConfig"] == {"accessPointId": access_point["AccessPointId"], "iam": "ENABLED"}
    assert file_system["Encrypted"] is True
    assert access_point["PosixUser"] == {"Uid": 33, "Gid": 33}
    assert access_point["RootDirectory"]["Path"] == "/wp-content/uploads"
    targets = efs.describe_mount_targets(FileSystemId=file_system["FileSystemId"])["MountTargets"]
    assert sorted(t["SubnetId"] for t in targets) == sorted(stack.network["private_subnet_ids"])
    for target in targets:
        groups = efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])["SecurityGroups"]
        assert groups == [stack.prerequisites.network["security_groups"]["efs"]]


def test_service_runs_on_fargate_in_private_subnets_with_circuit_breaker_and_rollback(stack: Stack) -> None:
    service = service_of(stack)
    network = stack.prerequisites.network
    awsvpc = service["networkConfiguration"]["awsvpcConfiguration"]
    assert service["launchType"] == "FARGATE"
    assert service["desiredCount"] == 2
    assert sorted(awsvpc["subnets"]) == sorted(stack.network["private_subnet_ids"])
    assert awsvpc["securityGroups"] == [network["security_groups"]["task"]]
    assert awsvpc["assignPublicIp"] == "DISABLED"
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["healthCheckGracePeriodSeconds"] == 120
    (balancer,) = service["loadBalancers"]
    assert (balancer["containerName"], balancer["containerPort"]) == ("wordpress", 80)


def test_cluster_has_container_insights_and_fargate_providers(stack: Stack) -> None:
    (cluster,) = stack.client("ecs").describe_clusters(clusters=[stack.name], include=["SETTINGS"])["clusters"]
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert "FARGATE" in cluster["capacityProviders"]


def test_autoscaling_target_and_cpu_policy_are_registered(stack: Stack) -> None:
    scaling = stack.client("application-autoscaling")
    resource = f"service/{stack.name}/{stack.name}"
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    (policy,) = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    config = policy["TargetTrackingScalingPolicyConfiguration"]
    assert policy["PolicyType"] == "TargetTrackingScaling"
    assert config["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    assert config["TargetValue"] == 60.0


def test_load_balancer_target_group_and_listener(stack: Stack) -> None:
    elb = stack.client("elbv2")
    network = stack.prerequisites.network
    (balancer,) = elb.describe_load_balancers(Names=[f"{stack.name}-alb"])["LoadBalancers"]
    (group,) = elb.describe_target_groups(Names=[f"{stack.name}-tg"])["TargetGroups"]
    (listener,) = elb.describe_listeners(LoadBalancerArn=balancer["LoadBalancerArn"])["Listeners"]
    assert balancer["Scheme"] == "internet-facing"
    assert balancer["SecurityGroups"] == [network["security_groups"]["alb"]]
    assert sorted(zone["SubnetId"] for zone in balancer["AvailabilityZones"]) == sorted(network["public_subnet_ids"])
    assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "HTTP", 80)
    assert group["HealthCheckPath"] == "/healthz"
    assert group["Matcher"] == {"HttpCode": "200"}
    assert (listener["Protocol"], listener["Port"]) == ("HTTP", 80)
    assert listener["DefaultActions"] == [{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}]
    assert service_of(stack)["loadBalancers"][0]["targetGroupArn"] == group["TargetGroupArn"]


def test_execution_role_reads_exactly_the_three_secrets(stack: Stack) -> None:
    """The database password, the keys and salts, and the first administrator's password (for the install task)."""
    iam = stack.client("iam")
    role = f"{stack.name}-task-execution"
    document = iam.get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]
    statements = {statement["Sid"]: statement for statement in document["Statement"]}
    manager = stack.client("secretsmanager")
    keys_arn = manager.describe_secret(SecretId=f"{stack.name}/wordpress-keys")["ARN"]
    admin_arn = manager.describe_secret(SecretId=f"{stack.name}/wordpress-admin")["ARN"]
    assert statements["ReadTheSecrets"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert sorted(statements["ReadTheSecrets"]["Resource"]) == sorted(
        [stack.prerequisites.database["secret_arn"], keys_arn, admin_arn]
    )
    repository = stack.prerequisites.image.split("/", 1)[1].split("@")[0]
    assert statements["PullTheImage"]["Resource"] == [f"arn:aws:ecr:us-east-1:123456789012:repository/{repository}"]
    assert iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"] == []
    for statement in document["Statement"]:
        if statement["Sid"] != "EcrLogin":
            assert statement["Resource"] != ["*"], statement


def test_published_fact(stack: Stack) -> None:
    balancer = stack.client("elbv2").describe_load_balancers(Names=[f"{stack.name}-alb"])["LoadBalancers"][0]
    group = stack.client("elbv2").describe_target_groups(Names=[f"{stack.name}-tg"])["TargetGroups"][0]
    shown = stack.converges[1].stdout
    published = shown[shown.index("ecspress_service:") :]
    for expected in (
        f"cluster: {stack.name}",
        f"service: {stack.name}",
        f"load_balancer_dns: {balancer['DNSName']}",
        f"url: http://{balancer['DNSName']}/",
        f"target_group_arn: {group['TargetGroupArn']}",
        f"task_definition_arn: arn:aws:ecs:us-east-1:123456789012:task-definition/{stack.family}:1",
    ):
        assert expected in published, published


# --- changes the module would have dropped, applied ---------------------------------------------


def test_deployment_configuration_and_subnet_changes_are_applied(stack: Stack) -> None:
    ec2 = stack.client("ec2")
    network = stack.prerequisites.network
    new_subnets = [
        ec2.create_subnet(VpcId=network["vpc_id"], CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for cidr, zone in (("10.91.20.0/24", "us-east-1a"), ("10.91.21.0/24", "us-east-1b"))
    ]
    changed_network = {**network, "private_subnet_ids": new_subnets}
    before = service_of(stack)

    result = stack.converge(service_network=changed_network, service_deployment_maximum_percent=150, diff=True)
    assert result.rc == 0, result.failed_tasks
    assert "Apply network, deployment and platform settings ecs_service does not compare" in result.changed_tasks

    after = service_of(stack)
    assert before["deploymentConfiguration"]["maximumPercent"] == 200
    assert after["deploymentConfiguration"]["maximumPercent"] == 150
    assert after["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert sorted(after["networkConfiguration"]["awsvpcConfiguration"]["subnets"]) == sorted(new_subnets)
    again = stack.converge()
    assert again.changed == 0, again.changed_tasks


def test_task_size_change_registers_exactly_one_revision(stack: Stack) -> None:
    """community.aws.ecs_taskdefinition would match the old revision: it does not compare cpu or memory. The role
    registers and publishes the revision; rolling the service onto it is the deploy stage's."""
    before, running = active_revisions(stack), service_of(stack)["taskDefinition"]
    result = stack.converge(service_cpu=1024, service_memory=2048)
    assert result.rc == 0, result.failed_tasks
    after = active_revisions(stack)
    assert after == [*before, before[-1] + 1]
    definition = task_definition_of(stack, after[-1])
    assert (definition["cpu"], definition["memory"]) == ("1024", "2048")
    assert f"task_definition_arn: {definition['taskDefinitionArn']}" in result.stdout
    assert service_of(stack)["taskDefinition"] == running
    again = stack.converge()
    assert again.changed == 0, again.changed_tasks
    assert active_revisions(stack) == after


def push_next_image(stack: Stack, layer: str) -> str:
    """A new digest in the stack's ECR repository."""
    repository = stack.prerequisites.image.split("/", 1)[1].split("@")[0]
    # moto derives an image digest from the layer digests only (not the manifest), so change a layer.
    manifest = {**MANIFEST, "layers": [{**MANIFEST["layers"][0], "digest": "sha256:" + layer * 64}]}
    digest = stack.client("ecr").put_image(
        repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=f"next-{layer}"
    )["image"]["imageId"]["imageDigest"]
    return f"{stack.prerequisites.image.split('@')[0]}@{digest}"


def test_a_new_image_is_registered_with_the_settings_and_left_to_the_deploy_step(stack: Stack) -> None:
    new_image = push_next_image(stack, "d")
    before, running = active_revisions(stack), service_of(stack)["taskDefinition"]

    registered = stack.converge(service_image=new_image)
    assert registered.rc == 0, registered.failed_tasks
    assert active_revisions(stack) == [*before, before[-1] + 1]
    assert task_definition_of(stack, before[-1] + 1)["containerDefinitions"][0]["image"] == new_image
    assert service_of(stack)["taskDefinition"] == running, "only the deploy stage moves the service"
    again = stack.converge()
    assert again.changed == 0, again.changed_tasks


def test_an_image_never_pushed_registers_nothing(stack: Stack) -> None:
    missing = f"{stack.prerequisites.image.split('@')[0]}@sha256:{'e' * 64}"
    before = active_revisions(stack)
    refused = stack.prerequisites.run(stack.name, **{**stack.settings, "service_image": missing})
    assert refused.rc != 0
    assert f"refusing to deploy sha256:{'e' * 64}: it is not in ECR repository" in " ".join(refused.failed_tasks)
    assert active_revisions(stack) == before


def test_a_setting_and_the_image_changed_in_one_run_make_one_revision_and_one_rollout(stack: Stack) -> None:
    """Two owners of the task definition made two revisions and two rollouts, and waited for the second only."""
    new_image = push_next_image(stack, "f")
    ecs = stack.client("ecs")
    before = active_revisions(stack)
    started = ecs.list_service_deployments(cluster=stack.name, service=stack.name)["serviceDeployments"]
    stack.settings.update(service_memory=4096, service_cpu=1024, service_image=new_image)
    result = stack.prerequisites.run(stack.name, playbook=DEPLOY_PLAYBOOK, **stack.settings)
    assert result.rc == 0, result.failed_tasks
    assert active_revisions(stack) == [*before, before[-1] + 1]
    running = task_definition_of(stack)
    assert running["revision"] == before[-1] + 1
    assert (running["memory"], running["containerDefinitions"][0]["image"]) == ("4096", new_image)
    deployments = ecs.list_service_deployments(cluster=stack.name, service=stack.name)["serviceDeployments"]
    new = [d for d in deployments if d["serviceDeploymentArn"] not in {s["serviceDeploymentArn"] for s in started}]
    assert len(new) == 1, new
    assert "state: completed" in result.stdout
    again = stack.prerequisites.run(stack.name, playbook=DEPLOY_PLAYBOOK, **stack.settings)
    assert again.changed == 0, again.changed_tasks


# --- bad input: refused before any AWS call, naming the variable --------------------------------


# README "Bad input" rows 14-19 (and the name), each message whole.
BAD_INPUTS: dict[str, tuple[dict[str, Any], str]] = {
    "cpu_memory_pair": (
        {"service_cpu": 256, "service_memory": 4096},
        "service_cpu=256 with service_memory=4096 is not a Fargate task size. With service_cpu=256, service_memory "
        "must be one of 512, 1024, 2048.",
    ),
    "min_above_max": (
        {"service_min_capacity": 5, "service_max_capacity": 3},
        "service_min_capacity=5 and service_max_capacity=3 must satisfy 0 <= service_min_capacity <= "
        "service_max_capacity",
    ),
    "container_port_not_numeric": (
        {"service_container_port": "http"},
        "argument 'service_container_port' is of type str and we were unable to convert to int: "
        "\"'http'\" cannot be converted to an int",
    ),
    "database_port_not_numeric": (
        {"service_database": {"port": "abc"}},
        "service_database must look like the database role's ecspress_database: endpoint, port (a number 1-65535), "
        "name, user, secret_arn (a Secrets Manager ARN). Got endpoint=",
    ),
    "image_by_tag": (
        {"service_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/wp:latest"},
        "service_image '123456789012.dkr.ecr.us-east-1.amazonaws.com/wp:latest' is not an image reference by digest "
        "(repo@sha256:<64 hex>)",
    ),
    "name_too_long": (
        {"ecspress_name": "x" * 29},
        f"service_name '{'x' * 29}' must be 1 to 28 letters, digits or hyphens, neither starting nor ending with a "
        "hyphen (the ALB and target group names add '-alb' / '-tg' and may not exceed 32 characters).",
    ),
    "log_retention_not_accepted": (
        {"service_log_retention_days": 10},
        "value of service_log_retention_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1827, 3653, got: 10",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_refused_before_any_aws_call(prerequisites: Prerequisites, case: str) -> None:
    overrides, expected = BAD_INPUTS[case]
    overrides = dict(overrides)
    if "service_database" in overrides:
        overrides["service_database"] = {**prerequisites.database, **overrides["service_database"]}
    name = str(overrides.get("ecspress_name", unique_name("bad")))
    result = prerequisites.run(name, **overrides)

    assert result.rc != 0 and result.changed == 0, result.changed_tasks
    assert len(result.failed_tasks) == 1, result.failed_tasks
    assert expected in result.failed_tasks[0], result.failed_tasks[0]
    assert resources_of(prerequisites.moto, name, docker=False) == {}


# --- teardown -----------------------------------------------------------------------------------


def test_check_mode_on_a_new_stack_reports_changes_and_creates_nothing(prerequisites: Prerequisites) -> None:
    name = unique_name("check")
    result = prerequisites.run(name, check=True, diff=True)
    assert result.rc == 0, result.failed_tasks
    assert result.changed > 0
    assert resources_of(prerequisites.moto, name, docker=False) == {}
    assert prerequisites.moto.client("ecs").describe_clusters(clusters=[name])["clusters"] == []


def test_teardown_of_a_half_created_stack(prerequisites: Prerequisites) -> None:
    """Some resources exist (as after a run that failed midway), the rest never did."""
    name = unique_name("half")
    moto = prerequisites.moto
    moto.client("ecs").create_cluster(clusterName=name)
    moto.client("logs").create_log_group(logGroupName=f"/ecs/{name}")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    moto.client("iam").create_role(RoleName=f"{name}-task-execution", AssumeRolePolicyDocument=json.dumps(trust))
    moto.client("efs").create_file_system(CreationToken=f"{name}-wp-content", Encrypted=True)

    for attempt in range(2):
        result = prerequisites.run(name, service_state="absent")
        assert result.rc == 0, result.failed_tasks
        assert (result.changed > 0) if attempt == 0 else (result.changed == 0), result.changed_tasks
    assert resources_of(moto, name, docker=False) == {}
