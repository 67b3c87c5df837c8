"""The local rollout model runs each deployment's task on Docker, as Fargate runs it.

An image that pulls but does not serve fails the rollout as on Fargate: an essential container
that exits, a container health check or the target group's health check that fails, a secret
that does not resolve, an image that cannot start. The reasons are ECS's, and the product's
classifier (module_utils/_rollout.py) names each one.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.module_utils._rollout import classify_task

from ecspress.local import ecs_tasks
from tests.conftest import FargateService, MotoServer, push_test_manifest, start_moto

pytestmark = [pytest.mark.stack, pytest.mark.docker]
STEP = 0.5
# A web server in the local base image (perl-base only): 200 on /healthz, 404 elsewhere.
SERVE = (
    "use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalPort => 80, Listen => 5, ReuseAddr => 1) or die $!;"
    " while (my $c = $s->accept) { my ($path) = (<$c> // '') =~ m{^GET (\\S+)};"
    " while (<$c>) { last if /^\\r?\\n$/ }"
    " print $c ($path // '') eq '/healthz'"
    ' ? "HTTP/1.0 200 OK\\r\\n\\r\\nok" : "HTTP/1.0 404 Not Found\\r\\n\\r\\n";'
    " close $c }"
)


@pytest.fixture(scope="module")
def tasks_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start_moto(
        tmp_path_factory.mktemp("tasks") / "moto.log",
        {
            "ECSPRESS_LOCAL_ROLLOUT_SECONDS": str(STEP),
            "ECSPRESS_LOCAL_RUN_TASKS": "1",
            "ECSPRESS_LOCAL_TASK_TIME_CAP": "3",
        },
    )
    yield server
    assert server.process is not None
    server.process.terminate()
    server.process.wait(timeout=30)
    # The server removed the task containers it ran when it stopped (their state died with it).
    assert containers(f"{ecs_tasks.SERVER_LABEL}={server.process.pid}") == []


@pytest.fixture(scope="module")
def served_image() -> Iterator[str]:
    """The local base image, pushed to the local registry (by digest): what the tasks run, with SERVE."""
    reference = f"127.0.0.1:5000/ecspress-test/tasks:{uuid.uuid4().hex[:8]}"
    assert ecs_tasks.docker("tag", ecs_tasks.PROBE_IMAGE, reference).returncode == 0
    pushed = ecs_tasks.docker("push", reference)
    assert pushed.returncode == 0, pushed.stderr
    digest = next(line.split("digest: ")[1].split()[0] for line in pushed.stdout.splitlines() if "digest: " in line)
    yield f"{reference.rsplit(':', 1)[0]}@{digest}"
    ecs_tasks.docker("rmi", reference)


def containers(label: str) -> list[str]:
    return ecs_tasks.docker("ps", "--all", "--quiet", "--filter", f"label={label}").stdout.split()


def container_definition(image: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "web",
        "image": image,
        "essential": True,
        "entryPoint": ["perl", "-e"],
        "command": [SERVE],
        "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
        **extra,
    }


def target_group(server: MotoServer, service: FargateService, path: str = "/healthz") -> dict[str, Any]:
    group = server.client("elbv2").create_target_group(
        Name=service.name, Protocol="HTTP", Port=80, VpcId=service.vpc, TargetType="ip", HealthCheckPath=path
    )["TargetGroups"][0]
    return {"targetGroupArn": group["TargetGroupArn"], "containerName": "web", "containerPort": 80}


def tasks_of(service: FargateService, status: str) -> list[dict[str, Any]]:
    arns = service.ecs.list_tasks(cluster=service.cluster, desiredStatus=status)["taskArns"]
    return service.ecs.describe_tasks(cluster=service.cluster, tasks=arns)["tasks"] if arns else []


def remove(service: FargateService) -> None:
    service.ecs.delete_service(cluster=service.cluster, service=service.name, force=True)


def test_a_serving_image_runs_on_a_network_of_ours_published_nowhere(tasks_moto: MotoServer, served_image: str) -> None:
    service = FargateService(tasks_moto, f"serve-{uuid.uuid4().hex[:6]}")
    secret = tasks_moto.client("secretsmanager").create_secret(
        Name=f"{service.name}/db", SecretString=json.dumps({"password": "s3cret-value"})
    )["ARN"]
    first = service.register(
        container_definition(
            served_image,
            environment=[{"name": "MODE", "value": "test"}],
            secrets=[{"name": "DB_PASSWORD", "valueFrom": f"{secret}:password::"}],
        ),
    )
    service.create(
        first, desired=1, loadBalancers=[target_group(tasks_moto, service)], healthCheckGracePeriodSeconds=60
    )
    service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED", timeout=60)

    (task,) = tasks_of(service, "RUNNING")
    assert task["taskDefinitionArn"] == first
    (name,) = [
        n
        for n in ecs_tasks.docker(
            "ps", "--format", "{{.Names}}", "--filter", f"label={ecs_tasks.TASK_LABEL}={task['taskArn']}"
        ).stdout.split()
    ]
    assert name == f"{service.cluster}-task-{task['taskArn'].rsplit('/', 1)[1][:8]}-web"
    (inspected,) = json.loads(ecs_tasks.docker("container", "inspect", name).stdout)
    assert list(inspected["NetworkSettings"]["Networks"]) == [ecs_tasks.NETWORK]
    assert not any(inspected["NetworkSettings"]["Ports"].values())  # published nowhere
    assert {"MODE=test", "DB_PASSWORD=s3cret-value"} <= set(inspected["Config"]["Env"])
    assert inspected["HostConfig"]["Memory"] == 512 * 1024 * 1024

    second = service.register(container_definition(served_image))
    updated = service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=second)
    new_deployment = next(d["id"] for d in updated["service"]["deployments"] if d["status"] == "PRIMARY")
    service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED" and s["taskDefinition"] == second, 60)
    (old,) = tasks_of(service, "STOPPED")
    assert old["taskArn"] == task["taskArn"]
    assert old["stoppedReason"] == f"Scaling activity initiated by (deployment {new_deployment})"
    assert containers(f"{ecs_tasks.TASK_LABEL}={task['taskArn']}") == []
    assert len(containers(f"io.ecspress.ecs-service={updated['service']['serviceArn']}")) == 1

    remove(service)
    assert containers(f"io.ecspress.ecs-service={updated['service']['serviceArn']}") == []


def test_an_image_that_exits_fails_the_rollout_and_rolls_back(tasks_moto: MotoServer, served_image: str) -> None:
    service = FargateService(tasks_moto, f"exits-{uuid.uuid4().hex[:6]}")
    good = service.register(container_definition(served_image))
    service.create(good, desired=1)
    service.wait_for(lambda s: s["deployments"][0]["rolloutState"] == "COMPLETED", timeout=60)
    bad = service.register(container_definition(served_image, entryPoint=["sh", "-c"], command=["exit 3"]))
    service.ecs.update_service(cluster=service.cluster, service=service.name, taskDefinition=bad)
    rolled = service.wait_for(
        lambda s: s["taskDefinition"] == good and s["deployments"][0]["rolloutState"] == "COMPLETED", timeout=90
    )
    assert any("deployment failed: tasks failed to start" in e["message"] for e in rolled["events"])
    failed = [t for t in tasks_of(service, "STOPPED") if t["taskDefinitionArn"] == bad]
    assert len(failed) == 3  # the circuit breaker's threshold for one task
    for task in failed:
        assert (task["stopCode"], task["stoppedReason"]) == (
            "EssentialContainerExited",
            "Essential container in task exited",
        )
        assert task["containers"][0]["exitCode"] == 3
        failure = classify_task(task)
        assert (failure.kind, failure.exit_codes) == ("essential container exited", (3,))
    remove(service)


@pytest.mark.parametrize(
    ("case", "kind"),
    [
        ("target group health check", "ELB health checks failed"),
        ("container health check", "container health check failed"),
        ("secret", "ResourceInitializationError"),
        ("no command", "CannotStartContainerError"),
    ],
)
def test_a_task_that_cannot_serve_stops_with_ecs_reason(
    tasks_moto: MotoServer, served_image: str, case: str, kind: str
) -> None:
    service = FargateService(tasks_moto, f"fail-{uuid.uuid4().hex[:6]}", circuit_breaker=False)
    extra: dict[str, Any] = {}
    definition = container_definition(served_image)
    if case == "target group health check":
        extra = {
            "loadBalancers": [target_group(tasks_moto, service, path="/missing")],
            "healthCheckGracePeriodSeconds": 1,
        }
    elif case == "container health check":
        definition["healthCheck"] = {"command": ["CMD-SHELL", "exit 1"], "interval": 5, "retries": 2, "timeout": 2}
    elif case == "secret":
        missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nowhere-AbCdEf"
        definition["secrets"] = [{"name": "DB_PASSWORD", "valueFrom": missing}]
    else:
        tag = uuid.uuid4().hex[:8]
        definition = {
            "name": "web",
            "image": f"127.0.0.1:5000/ecspress-test/tasks@{push_test_manifest('ecspress-test/tasks', tag)}",
        }
    service.create(service.register(definition), desired=1, **extra)
    service.wait_for(lambda s: s["deployments"][0]["failedTasks"] >= 1, timeout=60)
    task = tasks_of(service, "STOPPED")[0]
    group = extra.get("loadBalancers", [{}])[0].get("targetGroupArn")
    expected = {
        "target group health check": f"Task failed ELB health checks in (target-group {group})",
        "container health check": "Task failed container health checks",
        "secret": "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve secret from asm",
        "no command": "CannotStartContainerError: ",
    }[case]
    assert task["stoppedReason"].startswith(expected), task["stoppedReason"]
    assert classify_task(task).kind == kind
    remove(service)
    assert containers(f"{ecs_tasks.TASK_LABEL}={task['taskArn']}") == []


def run_one_off(service: FargateService, task_definition: str, command: list[str], **extra: Any) -> dict[str, Any]:
    """RunTask with the container's command overridden; the task once STOPPED (as ecs_run_task waits for it)."""
    started = service.ecs.run_task(
        cluster=service.cluster,
        taskDefinition=task_definition,
        launchType="FARGATE",
        startedBy="ecspress-test",
        networkConfiguration={"awsvpcConfiguration": {"subnets": [service.subnet], "securityGroups": [service.group]}},
        overrides={"containerOverrides": [{"name": "web", "command": command, **extra}]},
    )
    (task,) = started["tasks"]
    assert task["lastStatus"] == "PROVISIONING"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        (task,) = service.ecs.describe_tasks(cluster=service.cluster, tasks=[task["taskArn"]])["tasks"]
        if task["lastStatus"] == "STOPPED":
            return dict(task)
        time.sleep(STEP)
    raise AssertionError(f"the one-off task never stopped: {task['lastStatus']}")


def test_a_one_off_task_runs_the_overridden_command_and_reports_its_exit_code(
    tasks_moto: MotoServer, served_image: str
) -> None:
    service = FargateService(tasks_moto, f"once-{uuid.uuid4().hex[:6]}")
    group = f"/ecspress-test/{service.name}"
    tasks_moto.client("logs").create_log_group(logGroupName=group)
    awslogs = {"logDriver": "awslogs", "options": {"awslogs-group": group, "awslogs-stream-prefix": "ecs"}}
    # A health check a one-off command never passes: outside a service it does not stop the task.
    unhealthy = {"command": ["CMD-SHELL", "exit 1"], "interval": 5, "retries": 1, "timeout": 2}
    definition = service.register(
        container_definition(
            served_image,
            entryPoint=["sh", "-c"],
            environment=[{"name": "GREETING", "value": "hello"}],
            logConfiguration=awslogs,
            healthCheck=unhealthy,
        )
    )
    override = [{"name": "WHO", "value": "one-off"}]
    task = run_one_off(service, definition, ['sleep 3; echo "$GREETING $WHO"; exit 3'], environment=override)
    assert (task["stopCode"], task["stoppedReason"]) == (
        "EssentialContainerExited",
        "Essential container in task exited",
    )
    assert task["containers"][0]["exitCode"] == 3
    assert task["startedBy"] == "ecspress-test"
    assert task["overrides"]["containerOverrides"][0]["command"] == ['sleep 3; echo "$GREETING $WHO"; exit 3']
    stream = f"ecs/web/{task['taskArn'].rsplit('/', 1)[1]}"
    events = tasks_moto.client("logs").get_log_events(logGroupName=group, logStreamName=stream)["events"]
    assert [event["message"] for event in events] == ["hello one-off"]
    deadline = time.monotonic() + 30  # the containers go a few seconds after the exit
    while containers(f"{ecs_tasks.TASK_LABEL}={task['taskArn']}") and time.monotonic() < deadline:
        time.sleep(STEP)
    assert containers(f"{ecs_tasks.TASK_LABEL}={task['taskArn']}") == []


def test_a_one_off_task_that_cannot_start_stops_with_ecs_reason(tasks_moto: MotoServer, served_image: str) -> None:
    service = FargateService(tasks_moto, f"nostart-{uuid.uuid4().hex[:6]}")
    missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nowhere-AbCdEf"
    definition = service.register(
        container_definition(served_image, secrets=[{"name": "DB_PASSWORD", "valueFrom": missing}])
    )
    task = run_one_off(service, definition, ["true"])
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("ResourceInitializationError: unable to pull secrets or registry auth")
    assert "exitCode" not in task["containers"][0]
