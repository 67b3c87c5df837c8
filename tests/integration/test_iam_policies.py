"""The published least-privilege IAM policies (files/iam/) against moto with request authorization on.

moto authorizes a request when its IAM access-key check is on (``INITIAL_NO_AUTH_ACTION_COUNT``, set at run
time through ``/moto-api/reset-auth``): every request is then signed by a known key and its action must be
allowed by the caller's policies. The site stages (site.yml without the image build) and the teardown run as a
role holding the site policy; ``playbooks/deploy.yml`` (without the build) and ``status.yml`` as a role holding
the deploy policy. Every action moto saw must have been allowed, and removing an action the run needs makes it
fail with AccessDenied naming that action.

moto checks actions only: it authorizes every request against the resource ``*`` and ignores ``iam:PassRole``
and the tag-on-create permissions, so the roles hold the policies' actions with ``Resource: *`` and no
conditions (``moto_view``), and the resources, conditions and implicit actions are checked here statically
with a small evaluator (docs/aws-differences.md says why).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from tests.conftest import REGION, ROOT, PlaybookResult, free_port, run_playbook, wait_for_port

pytestmark = pytest.mark.slow

POLICIES = ROOT / "files" / "iam"
NAME = f"ecspress-iam-{uuid.uuid4().hex[:4]}"  # the policies scope resources to ecspress-*; a name of this run's own
ACCOUNT = "123456789012"
REPOSITORY = f"{NAME}/wordpress"
# moto 5.2.5 server mode, with two test-only changes: (1) a request without a body is signed over an empty
# payload (moto hashes the parsed headers of a body-less EFS GET/DELETE instead, so every EFS request fails with
# SignatureDoesNotMatch once authorization is on); (2) each authorization decision is appended to a log.
LAUNCHER = """
import os, sys
from moto.iam import access_control as ac
create = ac.IAMRequestBase._create_aws_request
def _create_aws_request(self):
    request = create(self)
    if not self._body and self._method in ("GET", "HEAD", "DELETE"):
        request.data = b""
    return request
ac.IAMRequestBase._create_aws_request = _create_aws_request
check = ac.IAMRequestBase.check_action_permitted
def check_action_permitted(self, resource):
    outcome = "denied"
    try:
        check(self, resource)
        outcome = "allowed"
    finally:
        with open(os.environ["ECSPRESS_IAM_ACTION_LOG"], "a") as log:
            log.write(self._access_key.arn + "\\t" + self._action + "\\t" + outcome + "\\n")
ac.IAMRequestBase.check_action_permitted = check_action_permitted
from ecspress.local import motoserver
sys.exit(motoserver.main(sys.argv[1:]))
"""
# Called and allowed to fail: amazon.aws.aws_caller_info reads the account alias when it may. And
# sts:GetCallerIdentity, which needs no permission (moto lets it through as AWS does).
OPTIONAL = {"iam:ListAccountAliases", "sts:GetCallerIdentity"}


# --- the documents --------------------------------------------------------------------------------


def load(name: str) -> dict[str, Any]:
    return dict(json.loads((POLICIES / f"ecspress-{name}.json").read_text()))


def listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def actions_of(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in listed(statement["Action"])}


def moto_view(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as moto can enforce it: the same actions, on every resource, without conditions."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": sorted(actions_of(policy)), "Resource": "*"}],
    }


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    statements = []
    for statement in policy["Statement"]:
        kept = [a for a in listed(statement["Action"]) if a != action]
        if kept:
            statements.append({**statement, "Action": kept})
    return {**policy, "Statement": statements}


def allows(policy: dict[str, Any], action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """IAM's evaluation for Allow statements with wildcards, StringEquals, StringLike and ArnLike (all this project
    uses; ArnLike matches like StringLike for whole ARNs)."""
    for statement in policy["Statement"]:
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatchcase(action.lower(), pattern.lower()) for pattern in listed(statement["Action"])):
            continue
        if not any(fnmatchcase(resource, pattern) for pattern in listed(statement["Resource"])):
            continue
        if all(
            key in (context or {})
            and any(
                (context or {})[key] == value
                if operator == "StringEquals"
                else fnmatchcase((context or {})[key], value)
                for value in listed(values)
            )
            for operator, pairs in statement.get("Condition", {}).items()
            for key, values in pairs.items()
        ):
            return True
    return False


# What the product needs that moto never asks for, as (action, resource of an ecspress-dev stack in
# eu-west-1, request context). Each is a call AWS authorizes besides the API operation itself.
ARN = {
    "role": f"arn:aws:iam::{ACCOUNT}:role/ecspress-dev-task",
    "execution_role": f"arn:aws:iam::{ACCOUNT}:role/ecspress-dev-task-execution",
    "service": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/ecspress-dev/ecspress-dev",
    "task_definition": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/ecspress-dev-wordpress:7",
    "repository": f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/ecspress-dev/wordpress",
    "deployment": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service-deployment/ecspress-dev/ecspress-dev/Kx9NoIbPCYnS",
    "revision": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service-revision/ecspress-dev/ecspress-dev/4980306466373577095",
    "task": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task/ecspress-dev/0b69d5c0d0b64a1b9a3b3a4f2c6c6d41",
}
TO_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
DEPLOY_IMPLICIT = [
    # RegisterTaskDefinition with a task role and an execution role: iam:PassRole on both.
    ("iam:PassRole", ARN["role"], TO_TASKS),
    ("iam:PassRole", ARN["execution_role"], TO_TASKS),
    # RegisterTaskDefinition with tags (ecs_deploy copies the revision's tags): ecs:TagResource.
    ("ecs:TagResource", ARN["task_definition"], {"ecs:CreateAction": "RegisterTaskDefinition"}),
    # docker push / the registry API reads: the image stage, not served by moto locally.
    *[
        (f"ecr:{action}", ARN["repository"], {})
        for action in (
            "BatchCheckLayerAvailability",
            "InitiateLayerUpload",
            "UploadLayerPart",
            "CompleteLayerUpload",
            "PutImage",
            "BatchGetImage",
            "GetDownloadUrlForLayer",
            "ListImages",  # GET /v2/<repository>/tags/list: the image stage's forced-rebuild tags
        )
    ],
    # ecs_deployment_wait, once ListServiceDeployments answers (moto 5.2.5 does not implement it).
    ("ecs:DescribeServiceDeployments", ARN["deployment"], {}),
    ("ecs:DescribeServiceRevisions", ARN["revision"], {}),
    ("ecs:DescribeTasks", ARN["task"], {}),
]
SITE_IMPLICIT = [
    *DEPLOY_IMPLICIT,
    ("ecs:TagResource", ARN["service"], {"ecs:CreateAction": "CreateService"}),
    # The install's one-off task (ecs_run_task): RunTask on the family in our cluster, StopTask on a timeout; RunTask
    # passes the task's roles (iam:PassRole, above).
    ("ecs:RunTask", ARN["task_definition"], {"ecs:cluster": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/ecspress-dev"}),
    ("ecs:StopTask", ARN["task"], {}),
    # Create* with tags: each service authorizes its tagging action too.
    ("ec2:CreateTags", "*", {}),
    ("rds:AddTagsToResource", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:ecspress-dev", {}),
    (
        "secretsmanager:TagResource",
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:ecspress-dev/database-Ab12Cd",
        {},
    ),
    (
        "elasticloadbalancing:AddTags",
        f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/ecspress-dev-tg/73e2d6bc24d8a067",
        {},
    ),
    ("elasticfilesystem:TagResource", "*", {}),
    ("logs:TagResource", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/ecspress-dev", {}),
    ("iam:TagRole", ARN["role"], {}),
    # EFS creates and deletes the mount targets' network interfaces as the caller.
    ("ec2:CreateNetworkInterface", "*", {}),
    ("ec2:DescribeNetworkInterfaces", "*", {}),
    ("ec2:DeleteNetworkInterface", "*", {}),
    # Target tracking: Application Auto Scaling creates and deletes the CloudWatch alarms as the caller.
    (
        "cloudwatch:PutMetricAlarm",
        f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:TargetTracking-service/ecspress-dev/ecspress-dev-AlarmHigh-1",
        {},
    ),
    (
        "cloudwatch:DeleteAlarms",
        f"arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:TargetTracking-service/ecspress-dev/ecspress-dev-AlarmLow-1",
        {},
    ),
    ("cloudwatch:DescribeAlarms", "*", {}),
    # The first ECS service / ALB / RDS instance / EFS / scalable target of an account creates its service-linked role.
    *[
        (
            "iam:CreateServiceLinkedRole",
            f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/{service}/x",
            {"iam:AWSServiceName": service},
        )
        for service in (
            "ecs.amazonaws.com",
            "elasticloadbalancing.amazonaws.com",
            "rds.amazonaws.com",
            "elasticfilesystem.amazonaws.com",
            "ecs.application-autoscaling.amazonaws.com",
        )
    ],
]


# Granted, called by the product, but not on the paths the test runs (a re-run that corrects drift, an
# option the local inventory turns off, the Docker build). Each is named in the module or role that calls it.
CONDITIONAL = {
    "ec2:DeleteRoute": "ec2_vpc_route_table purges a route that is not wanted",
    "ec2:ReplaceRoute": "ec2_vpc_route_table: a private route moved to another NAT gateway",
    "ec2:DeleteTags": "the EC2 modules purge tags that are no longer wanted",
    "ec2:RevokeSecurityGroupIngress": "ec2_security_group purges a rule no longer wanted",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress": "ec2_security_group: a changed rule_desc",
    "ecr:GetAuthorizationToken": "image stage (ecr_authorization_token), needs Docker",
    "rds:CreateDBSnapshot": "database_final_snapshot: DeleteDBInstance takes a final snapshot (prod teardown)",
    "ecr:CreateRepository": "registry stage of deploy.yml on a repository that is missing",
    "ecr:PutImageScanningConfiguration": "registry stage: registry_scan_on_push changed",
    "ecr:PutImageTagMutability": "registry stage: registry_immutable_tags changed",
    "ecr:PutLifecyclePolicy": "registry stage: registry_keep_images changed",
    "ecs:PutClusterCapacityProviders": "ecs_cluster: capacity providers changed",
    "elasticfilesystem:DeleteTags": "community.aws.efs purges tags",
    "elasticfilesystem:UntagResource": "efs_access_point purges tags",
    "elasticfilesystem:ModifyMountTargetSecurityGroups": "community.aws.efs: a mount target's groups changed",
    "elasticloadbalancing:ModifyListener": "elb_application_lb: a listener changed (HTTPS certificate)",
    "elasticloadbalancing:ModifyLoadBalancerAttributes": "drop_invalid_header_fields (on for AWS, off locally)",
    "elasticloadbalancing:ModifyTargetGroup": "elb_target_group: the health check changed",
    "elasticloadbalancing:RemoveTags": "elb_application_lb / elb_target_group purge tags",
    "elasticloadbalancing:SetSecurityGroups": "elb_application_lb: the ALB's group changed",
    "elasticloadbalancing:SetSubnets": "elb_application_lb: the public subnets changed",
    "iam:UntagRole": "iam_role purges tags",
    "iam:UpdateAssumeRolePolicy": "iam_role: the trust policy changed",
    "iam:UpdateRole": "iam_role: the description changed",
    "logs:TagLogGroup": "cloudwatchlogs_log_group: tags changed",
    "logs:FilterLogEvents": "the ecspress CLI, not a playbook: `ecspress logs`",
    "logs:GetLogEvents": "the ecspress CLI, not a playbook: the output `ecspress admin` prints",
    "logs:UntagLogGroup": "cloudwatchlogs_log_group purges tags",
    "rds:ModifyDBInstance": "rds_instance: settings changed; teardown with database_force_delete",
    "rds:ModifyDBSubnetGroup": "rds_subnet_group: the private subnets changed",
    "rds:RemoveTagsFromResource": "rds_instance / rds_subnet_group purge tags",
    "secretsmanager:RestoreSecret": "database stage within the recovery window of a deleted secret",
    "secretsmanager:UntagResource": "secretsmanager_secret purges tags",
}


# --- static checks ----------------------------------------------------------------------------------


def test_documents_fit_where_they_are_meant_to_go() -> None:
    """The deploy policy fits a customer managed policy (6,144 characters without whitespace); the site policy
    fits a role's inline policies (10,240). https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html"""
    for name, limit in (("deploy", 6144), ("site", 10240)):
        policy = load(name)
        assert policy["Version"] == "2012-10-17"
        assert len("".join((POLICIES / f"ecspress-{name}.json").read_text().split())) <= limit
        sids = [statement["Sid"] for statement in policy["Statement"]]
        assert len(sids) == len(set(sids)), sids
        for statement in policy["Statement"]:
            actions = listed(statement["Action"])
            assert all(":" in action and "*" not in action for action in actions), actions  # no wildcard actions


def test_site_policy_covers_the_deploy_policy() -> None:
    """site.yml runs the image and deploy stages too."""
    site, deploy = load("site"), load("deploy")
    assert actions_of(deploy) <= actions_of(site), actions_of(deploy) - actions_of(site)


@pytest.mark.parametrize(("name", "implicit"), [("deploy", DEPLOY_IMPLICIT), ("site", SITE_IMPLICIT)])
def test_actions_moto_never_asks_for_are_granted(name: str, implicit: list[tuple[str, str, dict[str, str]]]) -> None:
    policy = load(name)
    missing = [
        (action, resource) for action, resource, context in implicit if not allows(policy, action, resource, context)
    ]
    assert not missing


@pytest.mark.parametrize(
    "action", ["iam:PassRole", "ecs:TagResource", "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"]
)
def test_the_static_check_fails_without_an_implicit_action(action: str) -> None:
    for name, implicit in (("deploy", DEPLOY_IMPLICIT), ("site", SITE_IMPLICIT)):
        planted = without(load(name), action)
        missing = {a for a, resource, context in implicit if not allows(planted, a, resource, context)}
        assert missing == {action}


def test_resources_are_scoped_to_the_stack() -> None:
    for name in ("deploy", "site"):
        policy = load(name)
        # PassRole: only the two task roles, only to ECS tasks.
        assert allows(policy, "iam:PassRole", ARN["execution_role"], TO_TASKS)
        assert not allows(policy, "iam:PassRole", ARN["execution_role"], {"iam:PassedToService": "ec2.amazonaws.com"})
        assert not allows(policy, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/ecspress-deploy", TO_TASKS)
        assert not allows(policy, "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", TO_TASKS)
        # Only the stack's service, repository, and tag-on-create only.
        assert allows(policy, "ecs:UpdateService", ARN["service"])
        assert not allows(policy, "ecs:UpdateService", ARN["service"].replace("ecspress-dev", "billing"))
        assert allows(policy, "ecr:PutImage", ARN["repository"])
        assert not allows(policy, "ecr:PutImage", ARN["repository"].replace("ecspress-dev/wordpress", "billing/api"))
        assert not allows(policy, "ecs:TagResource", ARN["task_definition"])  # no CreateAction: a tag change
        assert not allows(policy, "iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/ecspress-deploy")
    site = load("site")
    assert allows(site, "iam:PutRolePolicy", ARN["execution_role"])
    assert allows(
        site,
        "secretsmanager:GetSecretValue",
        f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:ecspress-dev/wordpress-keys-Zx9Y8w",
    )
    assert not allows(
        site, "secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/stripe-Zx9Y8w"
    )
    assert allows(site, "rds:DeleteDBInstance", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:ecspress-dev")
    assert not allows(site, "rds:DeleteDBInstance", f"arn:aws:rds:eu-west-1:{ACCOUNT}:db:billing")
    assert allows(site, "logs:DeleteLogGroup", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/ecs/ecspress-dev:*")
    assert not allows(site, "logs:DeleteLogGroup", f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/billing")
    alb = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/ecspress-dev-alb/50dc6c495c0c9188"
    assert allows(site, "elasticloadbalancing:DeleteLoadBalancer", alb)
    assert not allows(site, "elasticloadbalancing:DeleteLoadBalancer", alb.replace("ecspress-dev-alb", "billing-alb"))
    assert not allows(load("deploy"), "ecs:DeleteService", ARN["service"])
    assert not allows(load("deploy"), "ecr:DeleteRepository", ARN["repository"])


# --- moto with authorization on ----------------------------------------------------------------------


@dataclass
class AuthorizingMoto:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    work: Path
    identities: dict[str, dict[str, str]] = field(default_factory=dict)
    runs: int = 0

    def client(self, service: str, identity: str = "admin") -> Any:
        env = self.identities[identity]
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=env.get("AWS_SESSION_TOKEN"),
        )

    def role_identity(self, name: str, policy: dict[str, Any], iam: Any, sts: Any) -> None:
        """A role holding `policy` inline, assumed: the credentials a CI job or an operator would have."""
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/admin"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        iam.put_role_policy(RoleName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
        credentials = sts.assume_role(RoleArn=arn, RoleSessionName=name)["Credentials"]
        self.identities[name] = {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }

    def decisions(self, identity: str, since: int = 0) -> list[tuple[str, str]]:
        """(action, allowed|denied) of every request `identity` made, from line `since` of the log."""
        lines = self.log.read_text().splitlines()[since:] if self.log.exists() else []
        return [
            (action, outcome)
            for arn, action, outcome in (line.split("\t") for line in lines)
            if arn.endswith(f"/{identity}") or f"/{identity}/" in arn
        ]

    def mark(self) -> int:
        return len(self.log.read_text().splitlines()) if self.log.exists() else 0

    def run(self, identity: str, playbook: str, tags: str | None = None, **extravars: Any) -> PlaybookResult:
        self.runs += 1
        return run_playbook(
            playbook,
            extravars={
                "ecspress_name": NAME,
                "ecspress_env": "dev",
                "ecspress_aws_endpoint_url": self.url,
                **extravars,
            },
            tags=tags,
            env={"AWS_SESSION_TOKEN": "", **self.identities[identity]},
            private_dir=self.work / f"run-{self.runs}",
        )

    def put_image(self, number: int) -> dict[str, Any]:
        """An image in ECR (put with admin credentials: the build needs Docker), as the image stage publishes it."""
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": number,
                "digest": "sha256:" + "c" * 64,
            },
            "layers": [],
        }
        digest = f"sha256:{number:064x}"
        self.client("ecr").put_image(
            repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=f"v{number}", imageDigest=digest
        )
        return {"reference": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{REPOSITORY}@{digest}", "pending": False}


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthorizingMoto]:
    work = tmp_path_factory.mktemp("iam")
    port = free_port()
    log = work / "decisions.tsv"
    env = {**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "false", "ECSPRESS_IAM_ACTION_LOG": str(log)}
    with (work / "moto.log").open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, "--host", "127.0.0.1", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )
    server = AuthorizingMoto(f"http://127.0.0.1:{port}", process, log, work)
    try:
        wait_for_port(port)
        deadline = time.monotonic() + 30
        while "moto listening" not in (work / "moto.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        # Bootstrap while moto does not authorize yet: an admin user, the published documents (moto checks
        # their syntax and size quota), and a role per policy, assumed.
        bootstrap = {"aws_access_key_id": "bootstrap", "aws_secret_access_key": "bootstrap"}
        iam = boto3.client("iam", endpoint_url=server.url, region_name=REGION, **bootstrap)
        sts = boto3.client("sts", endpoint_url=server.url, region_name=REGION, **bootstrap)
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="admin", PolicyDocument=json.dumps(everything))
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        server.identities["admin"] = {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
        iam.create_policy(PolicyName="ecspress-deploy", PolicyDocument=json.dumps(load("deploy")))
        tasks = {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        trust = {"Version": "2012-10-17", "Statement": [tasks]}
        iam.create_role(RoleName="published-site", AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(
            RoleName="published-site", PolicyName="ecspress-site", PolicyDocument=json.dumps(load("site"))
        )
        for name in ("site", "deploy"):
            server.role_identity(f"ecspress-{name}-runner", moto_view(load(name)), iam, sts)
        requests.post(f"{server.url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def refused(moto: AuthorizingMoto, identity: str, since: int) -> set[str]:
    return {action for action, outcome in moto.decisions(identity, since) if outcome == "denied"} - OPTIONAL


@dataclass
class Stack:
    site: PlaybookResult
    deploy: PlaybookResult
    status: PlaybookResult
    site_actions: set[str]
    deploy_actions: set[str]
    site_refused: set[str]
    deploy_refused: set[str]


@pytest.fixture(scope="module")
def stack(moto: AuthorizingMoto) -> Iterator[Stack]:
    """The site stages as the site role (the service created on an image the deploy then replaces; the image is put
    into ECR between the registry and the service stages), then
    deploy.yml and status.yml as the deploy role. Afterwards, whatever order the tests ran in: teardown.yml as
    the site role, and the check that every granted action was used (a failure is reported as an error of the
    last test using the stack)."""
    start = moto.mark()
    # The service stage registers its task definition only with a digest that is in ECR: the image the image stage
    # would push goes in (with admin credentials) once the registry stage created the repository.
    site = moto.run("ecspress-site-runner", "site.yml", tags="network,registry,database")
    if site.rc == 0:
        site = moto.run(
            "ecspress-site-runner", "site.yml", tags="network,database,service", ecspress_image=moto.put_image(0)
        )
    middle = moto.mark()
    deploy = status = site
    if site.rc == 0:
        deploy = moto.run(
            "ecspress-deploy-runner", "playbooks/deploy.yml", tags="registry,deploy", ecspress_image=moto.put_image(1)
        )
        status = moto.run("ecspress-deploy-runner", "playbooks/status.yml")
    yield Stack(
        site=site,
        deploy=deploy,
        status=status,
        site_actions={action for action, _ in moto.decisions("ecspress-site-runner", start)},
        deploy_actions={action for action, _ in moto.decisions("ecspress-deploy-runner", middle)},
        site_refused=refused(moto, "ecspress-site-runner", start),
        deploy_refused=refused(moto, "ecspress-deploy-runner", middle),
    )
    teardown_runs_with_the_site_policy(moto)
    every_granted_action_is_used(moto)


def test_moto_refuses_an_action_the_role_lacks(moto: AuthorizingMoto) -> None:
    """The enforcement itself: the deploy role may not delete the cluster (and EFS requests are authorized too)."""
    ecs, efs = moto.client("ecs", "ecspress-deploy-runner"), moto.client("efs", "ecspress-deploy-runner")
    for call in (lambda: ecs.delete_cluster(cluster=NAME), efs.describe_file_systems):
        with pytest.raises(Exception, match="not authorized to perform"):
            call()


def test_the_site_stages_run_with_the_site_policy(stack: Stack) -> None:
    assert stack.site.rc == 0, stack.site.failed_tasks
    assert not stack.site_refused
    assert stack.site_actions - OPTIONAL <= actions_of(load("site"))


def test_deploy_and_status_run_with_the_deploy_policy(stack: Stack) -> None:
    assert stack.deploy.rc == 0, stack.deploy.failed_tasks
    assert " is completed on " in stack.deploy.stdout
    assert stack.status.rc == 0, stack.status.failed_tasks
    assert not stack.deploy_refused
    called = stack.deploy_actions - OPTIONAL
    assert called <= actions_of(load("deploy"))
    assert {
        "ecr:DescribeImages",
        "ecs:RegisterTaskDefinition",
        "ecs:UpdateService",
        "ecs:ListServiceDeployments",
    } <= called


# Planted: the deploy policy without one action the issue names, each on a new image. Only the deploy stage
# runs (the service role's `image` entry, then the ecs_deploy role, as deploy.yml calls them): preflight and the
# registry stage were shown above.
PLANTED = [
    "ecr:DescribeImages",
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
]
DEPLOY_STAGE = [
    {
        "name": "The deploy stage of playbooks/deploy.yml",
        "hosts": "all",
        "gather_facts": False,
        "module_defaults": {
            "group/ecspress.wordpress.aws": {"region": REGION, "endpoint_url": "{{ ecspress_aws_endpoint_url }}"}
        },
        "tasks": [
            {
                "name": "Task definition revision with the new digest",
                "ansible.builtin.import_role": {"name": "ecspress.wordpress.service", "tasks_from": "image.yml"},
            },
            {"name": "Roll", "ansible.builtin.import_role": {"name": "ecspress.wordpress.ecs_deploy"}},
        ],
    }
]


@pytest.mark.parametrize("action", PLANTED)
def test_deploy_fails_without_an_action_it_calls(stack: Stack, moto: AuthorizingMoto, action: str) -> None:
    assert action in stack.deploy_actions, f"{action} is no longer called: drop it from PLANTED and the policy"
    identity = f"planted-{action.split(':')[1]}"
    moto.role_identity(identity, moto_view(without(load("deploy"), action)), moto.client("iam"), moto.client("sts"))
    playbook = moto.work / "deploy_stage.yml"
    playbook.write_text(json.dumps(DEPLOY_STAGE))
    image = moto.put_image(10 + PLANTED.index(action))
    start = moto.mark()
    result = moto.run(identity, str(playbook), ecspress_image=image)
    # What makes the policy tests above fail whatever the product does with the refusal (on AWS,
    # ecs_deployment_wait falls back to describe_services with a warning on AccessDeniedException; moto
    # answers 403 instead, so here the run fails).
    assert action in refused(moto, identity, start)
    assert result.rc != 0
    assert f"not authorized to perform: {action}" in result.stdout, result.failed_tasks


def test_the_registry_stage_fails_without_an_action_it_calls(stack: Stack, moto: AuthorizingMoto) -> None:
    """The same for the site policy, on its cheapest stage: a new repository needs its lifecycle policy."""
    planted = moto_view(without(load("site"), "ecr:PutLifecyclePolicy"))
    moto.role_identity("planted-lifecycle", planted, moto.client("iam"), moto.client("sts"))
    result = moto.run(
        "planted-lifecycle", "tests/integration/playbooks/registry_role.yml", ecspress_name=f"{NAME}-planted"
    )
    assert result.rc != 0
    assert "not authorized to perform: ecr:PutLifecyclePolicy" in result.stdout, result.failed_tasks


def teardown_runs_with_the_site_policy(moto: AuthorizingMoto) -> None:
    start = moto.mark()
    result = moto.run("ecspress-site-runner", "playbooks/teardown.yml")
    assert result.rc == 0, result.failed_tasks
    assert not refused(moto, "ecspress-site-runner", start)
    called = {action for action, _ in moto.decisions("ecspress-site-runner", start)} - OPTIONAL
    assert called <= actions_of(load("site"))
    assert {"ecs:DeleteService", "rds:DeleteDBInstance", "ec2:DeleteVpc", "iam:DeleteRole"} <= called


def every_granted_action_is_used(moto: AuthorizingMoto) -> None:
    """Least privilege the other way round: each action of a policy was called by the runs above, is implied
    by one of their calls (teardown included), or is on a path named in CONDITIONAL."""
    called = {
        "site": {action for action, _ in moto.decisions("ecspress-site-runner")},
        "deploy": {action for action, _ in moto.decisions("ecspress-deploy-runner")},
    }
    called["site"] |= called["deploy"]  # site.yml runs the deploy stage too
    for name, implicit in (("deploy", DEPLOY_IMPLICIT), ("site", SITE_IMPLICIT)):
        unused = actions_of(load(name)) - called[name] - {action for action, _, _ in implicit} - set(CONDITIONAL)
        assert not unused, f"{name}: granted but never called, implied or named in CONDITIONAL"
    granted = actions_of(load("site"))
    assert not set(CONDITIONAL) - granted, "CONDITIONAL names an action no policy grants"
