"""One-off ECS tasks (RunTask) of the local stand-in, run for real on the local Docker engine.

On ECS, ``RunTask`` starts a task outside any service: Fargate pulls the image, resolves the task definition's
secrets, runs the containers with the request's ``containerOverrides`` (a command, extra environment), and the
task is ``STOPPED`` once its essential container exits, with ``stopCode`` ``EssentialContainerExited`` and each
container's ``exitCode`` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html,
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle.html). A task that cannot start stops
with ``TaskFailedToStart`` and the reason. The health of a task outside a service does not stop it.

moto 5.2.5 builds a Fargate task of an awsvpc task definition with a network interface that has no
``private_dns_name`` and fails the request (500), and its tasks never run and never exit: a one-off command could
neither be started nor waited for locally. This model answers ``RunTask`` with tasks that run on Docker
(``ecs_tasks``: same network, secrets, log shipping as the service tasks of ``ecs_rollout``), with the databases of
the local RDS model reachable (``rds_databases``); ``DescribeTasks`` and ``ListTasks`` report their state as ECS
does, ``StopTask`` stops them. The tasks' containers are removed a few seconds after they exit (their output is in
CloudWatch Logs by then). With ``ECSPRESS_LOCAL_RUN_TASKS=0`` a RunTask's task is STOPPED at once with
``TaskFailedToStart`` and says why (never a made-up exit code).
"""

from __future__ import annotations

import threading
from typing import Any

from moto.ecs.exceptions import InvalidParameterException
from moto.ecs.models import EC2ContainerServiceBackend, Task

from ecspress.local import ecs_rollout, ecs_tasks

# Task ARN -> the one-off task and its run, until the task stopped.
_RUNS: dict[str, tuple[Task, ecs_tasks.TaskRun]] = {}
# Seconds an exited one-off task's containers stay, so that their last lines reach CloudWatch Logs.
KEEP_EXITED_SECONDS = 5.0


def new_task(
    backend: EC2ContainerServiceBackend, cluster_name: str, definition: Any, overrides: dict[str, Any], **fields: Any
) -> Task:
    """A task record as RunTask returns it (PROVISIONING), held in moto's task list."""
    task = ecs_rollout.task_record(backend, cluster_name, definition, overrides=overrides, **fields)
    task.last_status = "PROVISIONING"
    return task


def start(backend: EC2ContainerServiceBackend, task: Task, definition: Any, overrides: dict[str, Any]) -> None:
    run = ecs_tasks.TaskRun(
        task_arn=task.task_arn,
        prefix=f"{task.cluster_name}-run-{task.id[:8]}",
        definitions=ecs_tasks.with_overrides([dict(c) for c in definition.container_definitions], overrides),
        task_memory=str(definition.memory) if definition.memory else None,
        efs_volumes={str(v["name"]) for v in definition.volumes or [] if v.get("efsVolumeConfiguration")},
        target=None,
        grace_seconds=0,
        labels={ecs_tasks.TASK_LABEL: task.task_arn, ecs_tasks.SERVER_LABEL: ecs_tasks.server_id()},
    )
    _RUNS[task.task_arn] = (task, run)
    ecs_rollout.start_run(backend, run)


def advance() -> None:
    """One look at each one-off task still running: RUNNING once started, STOPPED once its container exited."""
    for arn, (task, run) in list(_RUNS.items()):
        seen = ecs_tasks.observe(run)
        if seen.state == ecs_tasks.PENDING:
            continue
        if seen.state != ecs_tasks.STOPPED:
            task.last_status = "RUNNING"
            continue
        ecs_rollout.set_stopped(task, seen.stop_code, seen.reason, seen.containers)
        del _RUNS[arn]
        threading.Timer(KEEP_EXITED_SECONDS, ecs_tasks.stop, args=(run,)).start()


def _wrap_run_task(original: Any) -> Any:
    def run_task(
        self: EC2ContainerServiceBackend,
        cluster_str: str,
        task_definition_str: str,
        count: int,
        overrides: dict[str, Any] | None,
        started_by: str,
        tags: list[dict[str, str]] | None,
        launch_type: str | None,
        networking_configuration: dict[str, Any] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> list[Task]:
        with ecs_rollout._LOCK:
            cluster = self._get_cluster(cluster_str)
            definition = self.describe_task_definition(task_definition_str)
            if definition.network_mode == "awsvpc" and not networking_configuration:
                raise InvalidParameterException(
                    "Network Configuration must be provided when networkMode 'awsvpc' is specified."
                )
            tasks = []
            for _ in range(count):
                task = new_task(
                    self,
                    cluster.name,
                    definition,
                    overrides or {},
                    group=f"family:{definition.family}",
                    started_by=started_by or "",
                    tags=tags or [],
                    launch_type=launch_type or "FARGATE",
                )
                if ecs_tasks.enabled():
                    start(self, task, definition, overrides or {})
                else:  # never a made-up exit code: the task says it did not run
                    reason = "CannotStartContainerError: the local stand-in runs no tasks (ECSPRESS_LOCAL_RUN_TASKS=0)"
                    ecs_rollout.set_stopped(task, "TaskFailedToStart", reason, {})
                tasks.append(task)
            return tasks

    return run_task


def _wrap_reading(original: Any) -> Any:
    def reading(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
        with ecs_rollout._LOCK:
            advance()
        return original(self, *args, **kwargs)

    return reading


def _wrap_stop_task(original: Any) -> Any:
    def stop_task(self: EC2ContainerServiceBackend, cluster_str: str, task_str: str, reason: str) -> Task:
        with ecs_rollout._LOCK:
            for arn, (task, run) in list(_RUNS.items()):
                if arn.endswith(task_str.split("/")[-1]):
                    del _RUNS[arn]
                    threading.Thread(target=ecs_tasks.stop_when_started, args=(run,), daemon=True).start()
                    ecs_rollout.set_stopped(task, "UserInitiated", reason, {})
                    return task
        return original(self, cluster_str, task_str, reason)  # type: ignore[no-any-return]

    return stop_task


def install() -> str:
    """Hook the model into moto's ECS backend (idempotent); returns its name for the start banner."""
    backend = EC2ContainerServiceBackend
    if not getattr(backend, "_ecspress_one_off_model", False):
        backend.run_task = _wrap_run_task(backend.run_task)  # type: ignore[method-assign]
        backend.describe_tasks = _wrap_reading(backend.describe_tasks)  # type: ignore[method-assign]
        backend.list_tasks = _wrap_reading(backend.list_tasks)  # type: ignore[method-assign]
        backend.stop_task = _wrap_stop_task(backend.stop_task)  # type: ignore[method-assign]
        backend._ecspress_one_off_model = True  # type: ignore[attr-defined]
    return "ecs_one_off_model"
