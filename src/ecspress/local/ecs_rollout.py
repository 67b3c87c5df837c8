"""A small ECS rollout model for the local stack, on top of moto's ECS backend.

Plain moto keeps one deployment for ever and never fails it, so a real rollout wait would hang
locally. This model gives the local stack the behaviour ECS documents:

* CreateService / UpdateService with a new task definition (or forceNewDeployment) starts a new
  PRIMARY deployment (rolloutState IN_PROGRESS); the previous PRIMARY turns ACTIVE.
* Every ``ECSPRESS_LOCAL_ROLLOUT_SECONDS`` (default 2 s) the deployment launches a task. If every
  container image of the task definition can be pulled — checked for real through the local
  registry's HTTP API, or in moto's ECR for ECR URIs — the deployment COMPLETES: running =
  desired, older deployments drained, "has reached a steady state".
* Otherwise each task stops with ``CannotPullContainerError`` (a real STOPPED task that
  ``list_tasks``/``describe_tasks`` return), ``failedTasks`` grows, and with the deployment circuit
  breaker on, at the threshold (half the desired count, at least 3, at most 200) the deployment
  turns FAILED and, with rollback on, ECS rolls back to the last deployment that completed.
  With the circuit breaker off, tasks keep failing for ever, as on ECS.

State advances lazily, when DescribeServices (or ListTasks) is answered. Service events are
written with ECS's wording. Only the local stack uses this; the collection never imports it.
"""

from __future__ import annotations

import math
import os
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import requests
from moto.ecr.models import ecr_backends
from moto.ecs.models import EC2ContainerServiceBackend, Service, Task

REGISTRY_CREDENTIALS = ("AWS", os.environ.get("ECSPRESS_LOCAL_REGISTRY_PASSWORD", "123456789012-auth-token"))
LOCAL_REGISTRY_HOSTS = {"127.0.0.1:5000", "localhost:5000", os.environ.get("ECSPRESS_REGISTRY_HOST", "127.0.0.1:5000")}
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


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Rollout:
    """What the model remembers about one deployment beyond the record moto serializes."""

    deployment: dict[str, Any]
    pull_error: str | None
    attempts: int = 0
    task_arns: list[str] = field(default_factory=list)


_ROLLOUTS: dict[str, Rollout] = {}


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


def start_deployment(backend: EC2ContainerServiceBackend, service: Service, task_definition_arn: str) -> Rollout:
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
    created = now()
    deployment_id = f"ecs-svc/{uuid.uuid4().int % 10**19:019d}"
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
    rollout = Rollout(deployment=record, pull_error=pull_error(backend, images))
    _ROLLOUTS[deployment_id] = rollout
    return rollout


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
    register_targets(backend, service, int(record["desiredCount"]))
    add_event(service, f"deployment {record['id']} deployment completed.")
    add_event(service, "has reached a steady state.")


def fail_one_task(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> None:
    task = stopped_task(backend, service, rollout)
    rollout.task_arns.append(task.task_arn)
    rollout.deployment["failedTasks"] += 1
    rollout.deployment["updatedAt"] = now()
    add_event(service, f"has started 1 tasks: (task {task.id}).")


def stopped_task(backend: EC2ContainerServiceBackend, service: Service, rollout: Rollout) -> Task:
    cluster = backend.clusters[service.cluster_name]
    task_definition = backend.describe_task_definition(rollout.deployment["taskDefinition"])
    # moto's Task() crashes building an awsvpc ENI (NetworkInterface has no private_dns_name), and a
    # task that never started holds no ENI anyway: build it as a non-awsvpc task.
    network_mode, task_definition.network_mode = task_definition.network_mode, "bridge"
    try:
        task = Task(
            cluster,
            task_definition,
            None,
            None,
            backend,
            group=f"service:{service.name}",
            launch_type=service.launch_type or "FARGATE",
            started_by=rollout.deployment["id"],
        )
    finally:
        task_definition.network_mode = network_mode
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = rollout.pull_error or ""
    # moto's Task has no stopCode/stoppedAt; its serializer picks these attributes up by name.
    setattr(task, "stop_code", "TaskFailedToStart")  # noqa: B010
    setattr(task, "stopped_at", now())  # noqa: B010
    for container in task.containers:
        container.last_status = "STOPPED"
        setattr(container, "reason", rollout.pull_error)  # noqa: B010
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return task


def roll_back(backend: EC2ContainerServiceBackend, service: Service, failed: Rollout) -> None:
    previous = next(
        (d for d in deployments_of(service)[1:] if d["taskDefinition"] != failed.deployment["taskDefinition"]), None
    )
    if previous is None:
        return
    add_event(service, f"rolling back to deployment {previous['id']}.")
    failed.deployment["status"] = "ACTIVE"
    service.deployments.remove(previous)
    start_deployment(backend, service, previous["taskDefinition"])


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
    if rollout.pull_error is None or primary["desiredCount"] == 0:
        complete(backend, service, rollout)
        return
    enabled, rollback = circuit_breaker(service)
    while rollout.attempts < due:
        rollout.attempts += 1
        fail_one_task(backend, service, rollout)
        if enabled and primary["failedTasks"] >= failure_threshold(primary["desiredCount"]):
            primary["rolloutState"] = "FAILED"
            primary["rolloutStateReason"] = "ECS deployment circuit breaker: tasks failed to start."
            add_event(service, f"deployment {primary['id']} deployment failed: tasks failed to start.")
            if rollback:
                roll_back(backend, service, rollout)
            return


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
            return service

    return update_service


def _wrap_describe_services(original: Any) -> Any:
    def describe_services(self: EC2ContainerServiceBackend, cluster_str: str, service_names: list[str]) -> Any:
        with _LOCK:
            for name in service_names:
                key = f"{cluster_str.split('/')[-1]}:{name.split('/')[-1]}"
                if key in self.services:
                    advance(self, self.services[key])
            return original(self, cluster_str, service_names)

    return describe_services


def install() -> str:
    """Hook the model into moto's ECS backend (idempotent); returns its name for the start banner."""
    backend = EC2ContainerServiceBackend
    if not getattr(backend, "_ecspress_rollout_model", False):
        backend.create_service = _wrap_create_service(backend.create_service)  # type: ignore[method-assign]
        backend.update_service = _wrap_update_service(backend.update_service)  # type: ignore[method-assign]
        backend.describe_services = _wrap_describe_services(backend.describe_services)  # type: ignore[method-assign]
        backend._ecspress_rollout_model = True  # type: ignore[attr-defined]
    return "ecs_rollout_model"
