"""A small ECS rollout model for the local stack, on top of moto's ECS backend.

Plain moto keeps one deployment for ever and never fails it, so a real rollout wait would hang
locally. This model gives the local stack the behaviour ECS documents:

* CreateService / UpdateService with a new task definition (or forceNewDeployment) starts a new
  PRIMARY deployment (rolloutState IN_PROGRESS); the previous PRIMARY turns ACTIVE.
* Every ``ECSPRESS_LOCAL_ROLLOUT_SECONDS`` (default 2 s) the deployment looks at its task. An image
  that cannot be pulled — checked through the local registry's HTTP API, or in moto's ECR for ECR
  URIs — stops each task with ``CannotPullContainerError`` (a real STOPPED task that
  ``list_tasks``/``describe_tasks`` return).
* An image of the local registry is then run for real (``ecs_tasks``): the task starts on Docker
  with the task definition's environment, secrets and health checks, and the target group's health
  check must pass. A healthy task COMPLETES the deployment: running = desired, older deployments
  drained and their task stopped, "has reached a steady state". A task that exits or fails a check
  stops with ECS's reason and the next one starts. (ECR URIs, whose layers moto does not hold, and
  ``ECSPRESS_LOCAL_RUN_TASKS=0`` complete once the image exists.)
* Each stopped task grows ``failedTasks``; with the deployment circuit breaker on, at the threshold
  (half the desired count, at least 3, at most 200) the deployment turns FAILED and, with rollback
  on, ECS rolls back to the last deployment that completed. With the circuit breaker off, tasks keep
  failing for ever, as on ECS.

State advances lazily, when DescribeServices (or ListTasks) is answered. Service events are
written with ECS's wording. Only the local stack uses this; the collection never imports it.

Service history (moto has none of these operations): every deployment UpdateService or CreateService
starts is also a *service deployment* with its *service revision*, kept for the life of the server, as
ECS keeps 90 days of them
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html):

* ``ListServiceDeployments`` answers every one of the service's, old ones included (a
  ``ROLLBACK_SUCCESSFUL`` of an earlier deploy of the same task-definition revision stays listed),
  newest first, 20 a page unless ``maxResults`` (1-100) says otherwise, with ``nextToken``, and
  filtered by ``status`` and ``createdAt`` {after, before}
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html).
  The API reference documents no order; the console lists newest first, and so does this model.
* ``DescribeServiceDeployments`` (at most 20 ARNs; unknown ones as failures with reason ``MISSING``)
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html)
  and ``DescribeServiceRevisions`` (the revision names the task definition)
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html).
* Statuses follow the rollout: ``IN_PROGRESS``; ``SUCCESSFUL``; ``STOPPED`` when a newer deployment
  replaces one in progress (or the circuit breaker fails it without rollback); ``ROLLBACK_IN_PROGRESS``
  then ``ROLLBACK_SUCCESSFUL`` when the circuit breaker rolls back (the rollback is part of the failed
  service deployment, not one of its own); ``ROLLBACK_FAILED`` when there is nothing to roll back to.
* Eventual consistency, under a switch: with ``ECSPRESS_LOCAL_DEPLOYMENT_VISIBILITY_DELAY`` seconds
  (default 0), a service deployment is not listed (nor described) until that long after it was created,
  as ECS's read APIs may lag right after UpdateService
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html,
  https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import string
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import requests
from moto.ecr.models import ecr_backends
from moto.ecs.models import EC2ContainerServiceBackend, Service, Task

from ecspress.local import alb_front, ecs_tasks, rds_databases
from ecspress.local.ecs_tasks import LOCAL_REGISTRY_HOSTS, REGISTRY_CREDENTIALS

MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.oci.image.index.v1+json",
    ]
)
_LOCK = threading.RLock()


def step_seconds() -> float:
    return float(os.environ.get("ECSPRESS_LOCAL_ROLLOUT_SECONDS", "2"))


def visibility_delay() -> float:
    """Seconds a new service deployment stays invisible to the read APIs (the eventual-consistency switch)."""
    return float(os.environ.get("ECSPRESS_LOCAL_DEPLOYMENT_VISIBILITY_DELAY", "0"))


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Rollout:
    """What the model remembers about one deployment beyond the record moto serializes."""

    deployment: dict[str, Any]
    pull_error: str | None
    attempts: int = 0
    task_arns: list[str] = field(default_factory=list)
    # The ServiceDeployment this deployment is (None for a rollback's deployment: ECS reports the rollback
    # in the failed service deployment), and the one a rollback deployment rolls back.
    service_deployment: dict[str, Any] | None = None
    rollback_of: dict[str, Any] | None = None
    # Tasks run for real (ecs_tasks): whether this deployment's, and the one starting or running now.
    runs_tasks: bool = False
    current: tuple[Task, ecs_tasks.TaskRun] | None = None


_ROLLOUTS: dict[str, Rollout] = {}
# Service ARN -> the tasks that run for the service's completed deployment (stopped when another completes).
_RUNNING: dict[str, list[tuple[Task, ecs_tasks.TaskRun]]] = {}
# Service ARN -> its service deployments, oldest first; service revision ARN -> revision.
_SERVICE_DEPLOYMENTS: dict[str, list[dict[str, Any]]] = {}
_SERVICE_REVISIONS: dict[str, dict[str, Any]] = {}


# --- image pullability ---------------------------------------------------------------------


def split_image(image: str) -> tuple[str, str, str]:
    """`host/repo@sha256:x` or `host/repo:tag` -> (host, repository, reference)."""
    if "@" in image:
        name, reference = image.split("@", 1)
    elif ":" in image.rsplit("/", 1)[-1]:
        name, reference = image.rsplit(":", 1)
    else:
        name, reference = image, "latest"
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest, reference
    return "docker.io", name if "/" in name else f"library/{name}", reference


def registry_has(host: str, repository: str, reference: str) -> bool:
    try:
        response = requests.head(
            f"http://{host}/v2/{repository}/manifests/{reference}",
            headers={"Accept": MANIFEST_TYPES},
            auth=REGISTRY_CREDENTIALS,
            timeout=5,
        )
    except requests.RequestException:
        return False
    return response.status_code == 200


def ecr_has(backend: EC2ContainerServiceBackend, repository: str, reference: str) -> bool:
    ecr = ecr_backends[backend.account_id][backend.region_name]
    repo = ecr.repositories.get(repository)
    if repo is None:
        return False
    return any(reference in (image.get_image_digest(), image.image_tag) for image in repo.images)


def pull_error(backend: EC2ContainerServiceBackend, images: list[str]) -> str | None:
    """None when every image can be pulled, else the error ECS would report for the first one."""
    for image in images:
        host, repository, reference = split_image(image)
        if host in LOCAL_REGISTRY_HOSTS:
            found = registry_has(host, repository, reference)
        elif host.endswith(".amazonaws.com") and ".dkr.ecr." in host:
            found = ecr_has(backend, repository, reference)
        else:
            return (
                f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
                f"ref {image}: dial tcp: lookup {host}: no such host"
            )
        if not found:
            return (
                f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
                f"ref {image}: {host}/{repository}@{reference}: not found"
            )
    return None


# --- deployments ---------------------------------------------------------------------------


def deployments_of(service: Service) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], service.deployments)


def add_event(service: Service, message: str) -> None:
    service.events.insert(
        0, {"id": str(uuid.uuid4()), "createdAt": now(), "message": f"(service {service.name}) {message}"}
    )
    del service.events[100:]


def start_deployment(
    backend: EC2ContainerServiceBackend,
    service: Service,
    task_definition_arn: str,
    rollback_of: dict[str, Any] | None = None,
) -> Rollout:
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
        stop_current(_ROLLOUTS.get(str(deployment["id"])), "Scaling activity initiated by a newer deployment")
    created = now()
    number = f"{uuid.uuid4().int % 10**19:019d}"
    deployment_id = f"ecs-svc/{number}"
    record: dict[str, Any] = {
        "id": deployment_id,
        "status": "PRIMARY",
        "taskDefinition": task_definition_arn,
        "desiredCount": service.desired_count,
        "pendingCount": service.desired_count,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": created,
        "updatedAt": created,
        "launchType": service.launch_type,
        "platformFamily": "EC2" if service.launch_type == "EC2" else "Linux",
        "networkConfiguration": getattr(service, "network_configuration", None) or None,
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment in progress.",
    }
    service.deployments.insert(0, record)
    service.task_definition = task_definition_arn
    definitions = backend.describe_task_definition(task_definition_arn).container_definitions
    images = [str(container.get("image", "")) for container in definitions]
    rollout = Rollout(deployment=record, pull_error=pull_error(backend, images), rollback_of=rollback_of)
    rollout.runs_tasks = ecs_tasks.enabled() and all(split_image(image)[0] in LOCAL_REGISTRY_HOSTS for image in images)
    revision = record_revision(service, task_definition_arn, number, created)
    if rollback_of is None:
        rollout.service_deployment = record_service_deployment(service, revision, created)
    else:
        rollback_of["rollback"] = {
            "reason": "ECS deployment circuit breaker: rolling back to the last completed service revision.",
            "startedAt": created,
            "serviceRevisionArn": revision,
        }
    _ROLLOUTS[deployment_id] = rollout
    return rollout


def history_arn(service: Service, kind: str, name: str) -> str:
    """`arn:aws:ecs:<region>:<account>:<kind>/<cluster>/<service>/<name>`, as ECS names deployments and revisions."""
    return (
        f"arn:aws:ecs:{service.region_name}:{service._account_id}:{kind}/{service.cluster_name}/{service.name}/{name}"
    )


def record_revision(service: Service, task_definition_arn: str, number: str, created: datetime) -> str:
    arn = history_arn(service, "service-revision", number)
    _SERVICE_REVISIONS[arn] = {
        "serviceRevisionArn": arn,
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "taskDefinition": task_definition_arn,
        "launchType": service.launch_type or "FARGATE",
        "createdAt": created,
    }
    return arn


def record_service_deployment(service: Service, revision: str, created: datetime) -> dict[str, Any]:
    history = _SERVICE_DEPLOYMENTS.setdefault(service.arn, [])
    sources = [d["targetServiceRevision"]["arn"] for d in history[-1:] if d["status"] == "SUCCESSFUL"]
    for earlier in history:
        if earlier["status"] == "IN_PROGRESS":
            finish(earlier, "STOPPED", "A newer service deployment replaced this one.")
    name = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(21))
    enabled, _ = circuit_breaker(service)
    record: dict[str, Any] = {
        "serviceDeploymentArn": history_arn(service, "service-deployment", name),
        "serviceArn": service.arn,
        "clusterArn": service.cluster_arn,
        "createdAt": created,
        "startedAt": created,
        "updatedAt": created,
        "sourceServiceRevisions": [{"arn": arn} for arn in sources],
        "targetServiceRevision": {"arn": revision, "requestedTaskCount": service.desired_count},
        "status": "IN_PROGRESS",
        "deploymentCircuitBreaker": {
            "status": "MONITORING" if enabled else "DISABLED",
            "failureCount": 0,
            "threshold": failure_threshold(service.desired_count),
        },
    }
    history.append(record)
    return record


def finish(service_deployment: dict[str, Any], status: str, reason: str = "") -> None:
    service_deployment.update(status=status, updatedAt=now(), finishedAt=now())
    if reason:
        service_deployment["statusReason"] = reason


def circuit_breaker(service: Service) -> tuple[bool, bool]:
    config = (getattr(service, "deployment_configuration", None) or {}).get("deploymentCircuitBreaker") or {}
    return bool(config.get("enable")), bool(config.get("rollback"))


def failure_threshold(desired: int) -> int:
    return min(max(math.ceil(desired * 0.5), 3), 200)


def register_targets(backend: EC2ContainerServiceBackend, service: Service, count: int) -> None:
    """As ECS does: the deployment's tasks become the targets of the service's target groups."""
    from moto.elbv2.models import elbv2_backends

    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    for balancer in service.load_balancers or []:
        arn = str(balancer.get("targetGroupArn") or "")
        group = elbv2.target_groups.get(arn) if arn else None
        if group is None:
            continue
        port = int(balancer.get("containerPort") or group.port or 80)
        if group.targets:
            elbv2.deregister_targets(arn, [{"Id": target_id} for target_id in list(group.targets)])
        elbv2.register_targets(
            arn, [{"Id": f"10.255.{index // 250}.{index % 250 + 1}", "Port": port} for index in range(count)]
        )


def complete(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> None:
    record = rollout.deployment
    record.update(runningCount=record["desiredCount"], pendingCount=0, rolloutState="COMPLETED", updatedAt=now())
    record["rolloutStateReason"] = f"ECS deployment {record['id']} completed."
    service.deployments[:] = [record]
    service.running_count, service.pending_count = record["desiredCount"], 0
    if rollout.rollback_of is not None:
        finish(rollout.rollback_of, "ROLLBACK_SUCCESSFUL", "ECS deployment circuit breaker: rolled back.")
    elif rollout.service_deployment is not None:
        finish(rollout.service_deployment, "SUCCESSFUL")
    register_targets(backend, service, int(record["desiredCount"]))
    add_event(service, f"deployment {record['id']} deployment completed.")
    add_event(service, "has reached a steady state.")


def fail_one_task(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> None:
    """A task of the deployment could not start because its image cannot be pulled."""
    task = new_task(backend, service, rollout)
    set_stopped(task, "TaskFailedToStart", rollout.pull_error or "", {})
    count_failure(service, rollout, task, f"has started 1 tasks: (task {task.id}).")


def count_failure(service: Service, rollout: Rollout, task: Task, event: str) -> None:
    rollout.task_arns.append(task.task_arn)
    rollout.deployment["failedTasks"] += 1
    if rollout.service_deployment is not None:
        rollout.service_deployment["deploymentCircuitBreaker"]["failureCount"] += 1
    rollout.deployment["updatedAt"] = now()
    add_event(service, event)


def new_task(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> Task:
    """A task record of the deployment, as ListTasks / DescribeTasks answer it (RUNNING until stopped)."""
    return task_record(
        backend,
        service.cluster_name,
        backend.describe_task_definition(rollout.deployment["taskDefinition"]),
        group=f"service:{service.name}",
        launch_type=service.launch_type or "FARGATE",
        started_by=rollout.deployment["id"],
    )


def task_record(backend: EC2ContainerServiceBackend, cluster_name: str, task_definition: Any, **fields: Any) -> Task:
    """A task of moto's task list whose state the models set (a deployment's, a RunTask's): RUNNING, no exit code."""
    cluster = backend.clusters[cluster_name]
    # moto's Task() crashes building an awsvpc ENI (NetworkInterface has no private_dns_name), and
    # the model's tasks hold no ENI of moto's anyway: build it as a non-awsvpc task.
    network_mode, task_definition.network_mode = task_definition.network_mode, "bridge"
    try:
        task = Task(cluster, task_definition, None, None, backend, **fields)
    finally:
        task_definition.network_mode = network_mode
    for container in task.containers:
        setattr(container, "exitCode", None)  # noqa: B010  no exit code before the container exited (moto says 0)
    # moto moves a described task one state towards STOPPED per DescribeTasks; the models stop theirs when Docker does.
    task.advance = lambda: None  # type: ignore[method-assign]
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return task


def set_stopped(task: Task, stop_code: str, reason: str, containers: dict[str, tuple[int | None, str]]) -> None:
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = reason
    # moto's Task has no stopCode/stoppedAt; its serializer picks these attributes up by name.
    setattr(task, "stop_code", stop_code)  # noqa: B010
    setattr(task, "stopped_at", now())  # noqa: B010
    outcomes = list(containers.values())
    for index, container in enumerate(task.containers):
        exit_code, container_reason = outcomes[index] if index < len(outcomes) else (None, "")
        container.last_status = "STOPPED"
        setattr(container, "reason", container_reason or (reason if stop_code == "TaskFailedToStart" else ""))  # noqa: B010
        # None: not in the answer, as for a container that never ran (moto says 0 from the start).
        setattr(container, "exitCode", exit_code)  # noqa: B010


# --- tasks run for real (ecs_tasks) -----------------------------------------------------------


def resolve_secret(backend: EC2ContainerServiceBackend, value_from: str) -> str:
    """A task definition secret's value, from moto's Secrets Manager or SSM, as the ECS agent reads it."""
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ssm.models import ssm_backends

    service, name, key, stage, version = ecs_tasks.secret_reference(value_from)
    try:
        if service == "ssm":
            parameter = ssm_backends[backend.account_id][backend.region_name].get_parameter(name)
            if parameter is None:
                raise KeyError(name)
            return str(parameter.value)
        secrets_backend = secretsmanager_backends[backend.account_id][backend.region_name]
        # moto's signature says str; its code takes None for "not given", as the API does.
        value = secrets_backend.get_secret_value(name, version, stage)  # type: ignore[arg-type]
        text = str(value.get("SecretString") or "")
        return text if key is None else str(json.loads(text)[key])
    except Exception as error:  # whatever moto raises, Fargate reports it this way
        raise ecs_tasks.SecretNotFound(
            f"execution resource retrieval failed: unable to retrieve secret from asm: service call has been "
            f"retried 1 time(s): failed to fetch secret {value_from}: {type(error).__name__}: {error}"
        ) from error


def target_check(backend: EC2ContainerServiceBackend, service: Service) -> ecs_tasks.TargetCheck | None:
    """The health check of the service's (first) target group, as the task will meet it."""
    from moto.elbv2.models import elbv2_backends

    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    for balancer in service.load_balancers or []:
        group = elbv2.target_groups.get(str(balancer.get("targetGroupArn") or ""))
        if group is None or not group.health_check_enabled:
            continue
        traffic_port = int(balancer.get("containerPort") or group.port or 80)
        port = traffic_port if group.health_check_port in (None, "traffic-port") else int(group.health_check_port)
        return ecs_tasks.TargetCheck(
            target_group_arn=group.arn,
            port=port,
            path=group.health_check_path or "/",
            matcher=str((group.matcher or {}).get("HttpCode") or "200"),
            unhealthy_threshold=int(group.unhealthy_threshold_count or 2),
        )
    return None


def log_sink(backend: EC2ContainerServiceBackend) -> ecs_tasks.LogSink:
    """Lines of a task's awslogs containers into moto's CloudWatch Logs of the task's account and region (the stream
    created on the first line, as the awslogs driver does; the group must exist)."""
    from moto.logs.models import logs_backends

    logs = logs_backends[backend.account_id][backend.region_name]

    def ship(group: str, stream: str, lines: list[tuple[int, str]]) -> None:
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": when, "message": message} for when, message in lines])

    return ship


def start_run(backend: EC2ContainerServiceBackend, run: ecs_tasks.TaskRun) -> None:
    """Start a task's containers in a thread of their own, as Fargate would: the account's databases reachable, secrets
    read from moto, awslogs output shipped into moto's CloudWatch Logs."""
    run.ship_logs = log_sink(backend)
    run.prepare = lambda: rds_databases.reconcile(backend.account_id, backend.region_name)
    threading.Thread(target=ecs_tasks.start, args=(run, lambda ref: resolve_secret(backend, ref)), daemon=True).start()


def launch_task(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> None:
    task = new_task(backend, service, rollout)
    task.last_status = "PROVISIONING"
    definition = backend.describe_task_definition(rollout.deployment["taskDefinition"])
    run = ecs_tasks.TaskRun(
        task_arn=task.task_arn,
        prefix=f"{service.cluster_name}-task-{task.id[:8]}",
        definitions=[dict(container) for container in definition.container_definitions],
        task_memory=str(definition.memory) if definition.memory else None,
        efs_volumes={str(v["name"]) for v in definition.volumes or [] if v.get("efsVolumeConfiguration")},
        target=target_check(backend, service),
        grace_seconds=float(getattr(service, "health_check_grace_period_seconds", None) or 0),
        labels={
            ecs_tasks.TASK_LABEL: task.task_arn,
            ecs_tasks.SERVER_LABEL: ecs_tasks.server_id(),
            "io.ecspress.ecs-service": service.arn,
        },
    )
    rollout.current = (task, run)
    start_run(backend, run)
    add_event(service, f"has started 1 tasks: (task {task.id}).")


def advance_running(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> None:
    """One look at the deployment's task on Docker: start one, fail it, or complete the deployment."""
    if rollout.current is None:
        launch_task(backend, service, rollout)
        return
    task, run = rollout.current
    seen = ecs_tasks.observe(run)
    if seen.state == ecs_tasks.PENDING:
        return
    task.last_status = "RUNNING"
    if seen.state == ecs_tasks.HEALTHY:
        retire_running(service, f"Scaling activity initiated by (deployment {rollout.deployment['id']})")
        _RUNNING[service.arn] = [rollout.current]
        rollout.current = None
        complete(backend, service, rollout)
        alb_front.forward(backend, service, run.names[0])
    elif seen.state == ecs_tasks.STOPPED:
        ecs_tasks.stop(run)
        set_stopped(task, seen.stop_code, seen.reason, seen.containers)
        rollout.current = None
        count_failure(service, rollout, task, f"has stopped 1 running tasks: (task {task.id}).")
        trip_circuit_breaker(backend, service, rollout)


def stop_current(rollout: Rollout | None, reason: str) -> None:
    """Stop the task a deployment is starting (a newer deployment replaces it, or the service goes)."""
    if rollout is not None and rollout.current is not None:
        task, run = rollout.current
        if run.ready.is_set():
            ecs_tasks.stop(run)
        else:  # a pull may take minutes: remove its containers once the start ends, not under the model's lock
            threading.Thread(target=ecs_tasks.stop_when_started, args=(run,), daemon=True).start()
        set_stopped(task, "ServiceSchedulerInitiated", reason, {})
        rollout.current = None


def retire_running(service: Service, reason: str) -> None:
    """Stop the tasks of the service's earlier deployment (ECS drains them once the new one is healthy)."""
    for task, run in _RUNNING.pop(service.arn, []):
        ecs_tasks.stop(run)
        set_stopped(task, "ServiceSchedulerInitiated", reason, {})


def roll_back(backend: EC2ContainerServiceBackend, service: Service, failed: Rollout) -> None:
    previous = next(
        (d for d in deployments_of(service)[1:] if d["taskDefinition"] != failed.deployment["taskDefinition"]), None
    )
    if previous is None:
        if failed.service_deployment is not None:
            finish(failed.service_deployment, "ROLLBACK_FAILED", "No completed service revision to roll back to.")
        return
    add_event(service, f"rolling back to deployment {previous['id']}.")
    failed.deployment["status"] = "ACTIVE"
    service.deployments.remove(previous)
    if failed.service_deployment is not None:
        failed.service_deployment.update(status="ROLLBACK_IN_PROGRESS", updatedAt=now())
        failed.service_deployment["statusReason"] = "ECS deployment circuit breaker: tasks failed to start."
    start_deployment(backend, service, previous["taskDefinition"], rollback_of=failed.service_deployment)


def advance(backend: EC2ContainerServiceBackend, service: Service) -> None:
    """Bring the service's primary deployment up to date with the wall clock."""
    deployments = deployments_of(service)
    primary = deployments[0] if deployments else None
    rollout = _ROLLOUTS.get(primary["id"]) if primary else None
    if rollout is None or primary is None or primary["rolloutState"] != "IN_PROGRESS":
        return
    due = int((now() - primary["createdAt"]) / timedelta(seconds=step_seconds()))
    if due < 1:
        return
    if primary["desiredCount"] == 0 or (rollout.pull_error is None and not rollout.runs_tasks):
        complete(backend, service, rollout)
    elif rollout.pull_error is None:
        advance_running(backend, service, rollout)
    else:
        while rollout.attempts < due and primary["rolloutState"] == "IN_PROGRESS":
            rollout.attempts += 1
            fail_one_task(backend, service, rollout)
            trip_circuit_breaker(backend, service, rollout)


def trip_circuit_breaker(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> None:
    """At the threshold of failed tasks, with the circuit breaker on: FAILED, then the rollback if asked."""
    enabled, rollback = circuit_breaker(service)
    primary = rollout.deployment
    if not enabled or primary["failedTasks"] < failure_threshold(primary["desiredCount"]):
        return
    primary["rolloutState"] = "FAILED"
    primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
    add_event(service, f"deployment {primary['id']} deployment failed: tasks failed to start.")
    if rollback:
        roll_back(backend, service, rollout)
    elif rollout.service_deployment is not None:
        finish(rollout.service_deployment, "STOPPED", "ECS deployment circuit breaker: tasks failed to start.")


# --- hooks into moto -----------------------------------------------------------------------


def _wrap_create_service(original: Any) -> Any:
    def create_service(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Service:
        with _LOCK:
            service: Service = original(self, *args, **kwargs)
            if service.task_definition and service.deployment_controller.get("type") == "ECS":
                service.deployments.clear()
                start_deployment(self, service, service.task_definition)
            return service

    return create_service


def _wrap_update_service(original: Any) -> Any:
    def update_service(self: EC2ContainerServiceBackend, service_properties: dict[str, Any]) -> Service:
        with _LOCK:
            requested = service_properties.get("task_definition")
            force = bool(service_properties.get("force_new_deployment"))
            service: Service = original(self, service_properties)
            if not service.deployments or service.deployment_controller.get("type") != "ECS":
                return service
            primary = deployments_of(service)[0]
            arn = str(self.describe_task_definition(requested).arn if requested else primary["taskDefinition"])
            if arn != primary["taskDefinition"] or force:
                start_deployment(self, service, arn)
            else:
                service.task_definition = arn
                primary.update(desiredCount=service.desired_count, updatedAt=now())
                if primary["rolloutState"] == "COMPLETED":
                    primary.update(runningCount=service.desired_count, pendingCount=0)
                if service.desired_count == 0:
                    retire_running(service, f"Scaling activity initiated by (deployment {primary['id']})")
            return service

    return update_service


def _wrap_delete_service(original: Any) -> Any:
    def delete_service(self: EC2ContainerServiceBackend, cluster_name: str, service_name: str, force: bool) -> Service:
        with _LOCK:
            service: Service = original(self, cluster_name, service_name, force)
            for deployment in deployments_of(service):
                stop_current(_ROLLOUTS.get(deployment["id"]), "Service deleted")
            retire_running(service, "Service deleted")
            alb_front.forget(self, service)
            return service

    return delete_service


def _wrap_describe_services(original: Any) -> Any:
    def describe_services(self: EC2ContainerServiceBackend, cluster_str: str, service_names: list[str]) -> Any:
        with _LOCK:
            for name in service_names:
                key = f"{cluster_str.split('/')[-1]}:{name.split('/')[-1]}"
                if key in self.services:
                    advance(self, self.services[key])
            return original(self, cluster_str, service_names)

    return describe_services


# --- service history: ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions ---------


# The fields of a ServiceDeploymentBrief (ListServiceDeployments) besides targetServiceRevisionArn.
BRIEF_FIELDS: tuple[str, ...] = ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt")
BRIEF_FIELDS += ("finishedAt", "status", "statusReason")


def visible(record: dict[str, Any]) -> bool:
    """False while the eventual-consistency switch hides a service deployment this young."""
    return bool(now() - record["createdAt"] >= timedelta(seconds=visibility_delay()))


def as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # moto's parser hands timestamps over as naive UTC
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    return datetime.fromisoformat(str(value))


def list_service_deployments(
    backend: EC2ContainerServiceBackend,
    cluster: str,
    service_name: str,
    status: list[str] | None = None,
    created_at: dict[str, Any] | None = None,
    next_token: str | None = None,
    max_results: int | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The visible service deployments of a service, newest first, one page; the next page's token."""
    with _LOCK:
        service = backend._get_service(cluster, service_name.split("/")[-1])
        advance(backend, service)
        after = as_datetime((created_at or {}).get("after"))
        before = as_datetime((created_at or {}).get("before"))
        found = [
            d
            for d in reversed(_SERVICE_DEPLOYMENTS.get(service.arn, []))
            if visible(d)
            and (not status or d["status"] in status)
            and (after is None or d["createdAt"] >= after)
            and (before is None or d["createdAt"] <= before)
        ]
        start, size = int(next_token or 0), min(max(int(max_results or 20), 1), 100)
        page = [
            {key: d[key] for key in BRIEF_FIELDS if key in d}
            | {"targetServiceRevisionArn": d["targetServiceRevision"]["arn"]}
            for d in found[start : start + size]
        ]
        return page, (str(start + size) if start + size < len(found) else None)


def describe_service_deployments(arns: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    with _LOCK:
        known = {d["serviceDeploymentArn"]: d for history in _SERVICE_DEPLOYMENTS.values() for d in history}
        found = [dict(known[arn]) for arn in arns if arn in known and visible(known[arn])]
        missing = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in known or not visible(known[arn])]
        return found, missing


def describe_service_revisions(arns: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    with _LOCK:
        found = [dict(_SERVICE_REVISIONS[arn]) for arn in arns if arn in _SERVICE_REVISIONS]
        missing = [{"arn": arn, "reason": "MISSING"} for arn in arns if arn not in _SERVICE_REVISIONS]
        return found, missing


def _response_methods() -> dict[str, Any]:
    """The three operations as methods of moto's ECS response class (moto dispatches by action name)."""
    from moto.core.responses import ActionResult

    def list_service_deployments_action(self: Any) -> ActionResult:
        page, token = list_service_deployments(
            self.ecs_backend,
            self._get_param("cluster", "default"),
            self._get_param("service"),
            self._get_param("status"),
            self._get_param("createdAt"),
            self._get_param("nextToken"),
            self._get_param("maxResults"),
        )
        return ActionResult({"serviceDeployments": page, **({"nextToken": token} if token else {})})

    def describe_service_deployments_action(self: Any) -> ActionResult:
        found, failures = describe_service_deployments(self._get_param("serviceDeploymentArns", []))
        return ActionResult({"serviceDeployments": found, "failures": failures})

    def describe_service_revisions_action(self: Any) -> ActionResult:
        found, failures = describe_service_revisions(self._get_param("serviceRevisionArns", []))
        return ActionResult({"serviceRevisions": found, "failures": failures})

    return {
        "list_service_deployments": list_service_deployments_action,
        "describe_service_deployments": describe_service_deployments_action,
        "describe_service_revisions": describe_service_revisions_action,
    }


def install() -> str:
    """Hook the model into moto's ECS backend (idempotent); returns its name for the start banner."""
    backend = EC2ContainerServiceBackend
    if not getattr(backend, "_ecspress_rollout_model", False):
        backend.create_service = _wrap_create_service(backend.create_service)  # type: ignore[method-assign]
        backend.update_service = _wrap_update_service(backend.update_service)  # type: ignore[method-assign]
        backend.describe_services = _wrap_describe_services(backend.describe_services)  # type: ignore[method-assign]
        backend.delete_service = _wrap_delete_service(backend.delete_service)  # type: ignore[method-assign]
        from moto.ecs.responses import EC2ContainerServiceResponse

        for name, method in _response_methods().items():
            setattr(EC2ContainerServiceResponse, name, method)
        backend._ecspress_rollout_model = True  # type: ignore[attr-defined]
    return "ecs_rollout_model"
