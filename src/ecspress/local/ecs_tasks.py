"""ECS tasks of the local rollout model, run for real on the local Docker engine.

Fargate starts each task of a deployment: it pulls the images, resolves the task definition's
``secrets``, starts the containers in one network namespace (awsvpc), runs each container's health
check, and registers the task with the service's target groups, whose health check must pass
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-load-balancing.html). A task
that cannot start, whose essential container exits, or that fails a health check stops, and
counts towards the deployment circuit breaker
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html).
This module does the same with Docker, so that an image that pulls but does not serve fails the
local rollout as it fails on Fargate:

* each container of the task runs on the Docker network ``ecspress-local-tasks`` (published
  nowhere), the second and later ones in the first one's network namespace, with the task
  definition's command, entry point, environment, resolved secrets, memory and health check;
* a secret is read from moto's Secrets Manager (``arn…:secret:name[:json-key[:stage[:version]]]``)
  or SSM Parameter Store; one that does not resolve fails the task with
  ``ResourceInitializationError`` as on Fargate
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html);
* EFS volumes become empty Docker volumes (an EFS file system starts empty; Docker would otherwise
  copy the image's files into a new volume);
* the target group's health check (path, port, matcher, unhealthy threshold) is sent from inside the
  task's network namespace by a probe container of the local base image; the first success makes
  the target healthy, as a newly registered target needs
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html);
  failures count only after the service's health-check grace period.

* a container whose task definition sends its logs with the ``awslogs`` driver has its output shipped
  into moto's CloudWatch Logs, in the log group of its ``awslogs-group`` option and the stream
  ``<awslogs-stream-prefix>/<container name>/<task id>``, as the awslogs driver names them on Fargate
  (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html), so that
  ``ecspress logs`` reads the local tasks as it reads Fargate's.

Timings are shortened, each capped at ``ECSPRESS_LOCAL_TASK_TIME_CAP`` seconds (default 10): the
container health check's interval (at most 2 s) and start period, the grace period. A deployment
runs one task whatever its desired count. ``ECSPRESS_LOCAL_RUN_TASKS=0`` turns this off (the model
then only checks that each image can be pulled). Both are written down in docs/aws-differences.md.
"""

from __future__ import annotations

import base64
import calendar
import json
import os
import re
import shlex
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NETWORK = "ecspress-local-tasks"
TASK_LABEL = "io.ecspress.ecs-task"
SERVER_LABEL = "io.ecspress.moto-server"
PROBE_IMAGE = os.environ.get("ECSPRESS_LOCAL_PROBE_IMAGE", "ecspress/base:trixie")
REGISTRY_CREDENTIALS = ("AWS", os.environ.get("ECSPRESS_LOCAL_REGISTRY_PASSWORD", "123456789012-auth-token"))
LOCAL_REGISTRY_HOSTS = {"127.0.0.1:5000", "localhost:5000", os.environ.get("ECSPRESS_REGISTRY_HOST", "127.0.0.1:5000")}
PROBE_EVERY_SECONDS = 2.0

# Task states, as observe() reports them.
PENDING, RUNNING, HEALTHY, STOPPED = "PENDING", "RUNNING", "HEALTHY", "STOPPED"


def enabled() -> bool:
    return os.environ.get("ECSPRESS_LOCAL_RUN_TASKS", "1") != "0"


def time_cap() -> float:
    return float(os.environ.get("ECSPRESS_LOCAL_TASK_TIME_CAP", "10"))


def server_id() -> str:
    """Which moto server started a container (tests run several on one Docker engine)."""
    return os.environ.get("ECSPRESS_LOCAL_SERVER_ID", str(os.getpid()))


# --- what a container definition asks of Docker (pure) --------------------------------------


class SecretNotFound(Exception):
    """A task definition secret that does not resolve; the message is what Fargate reports."""


def health_args(check: dict[str, Any] | None, cap: float) -> list[str]:
    """`docker run` flags for an ECS container healthCheck (command CMD-SHELL or CMD), timings shortened."""
    if not check or not check.get("command"):
        return []
    command = [str(part) for part in check["command"]]
    if command[0] == "NONE":
        return ["--no-healthcheck"]
    if command[0] == "CMD-SHELL":
        test = " ".join(command[1:])
    else:  # CMD: exec form; Docker's --health-cmd runs through a shell, so quote each word
        test = shlex.join(command[1:] if command[0] == "CMD" else command)
    interval = min(float(check.get("interval", 30)), 2.0)
    start_period = min(float(check.get("startPeriod", 0)), cap)
    return [
        "--health-cmd",
        test,
        "--health-interval",
        f"{interval:g}s",
        "--health-timeout",
        f"{float(check.get('timeout', 5)):g}s",
        "--health-retries",
        str(int(check.get("retries", 3))),
        "--health-start-period",
        f"{start_period:g}s",
    ]


def container_args(
    definition: dict[str, Any],
    task_memory: str | None,
    resolve: Callable[[str], str],
    efs_volumes: set[str],
) -> list[str]:
    """The `docker run` options (before the image) for one ECS container definition."""
    args: list[str] = []
    for pair in definition.get("environment") or []:
        args += ["--env", f"{pair['name']}={pair['value']}"]
    for secret in definition.get("secrets") or []:
        args += ["--env", f"{secret['name']}={resolve(str(secret['valueFrom']))}"]
    memory = definition.get("memory") or task_memory
    if memory:
        args += ["--memory", f"{int(memory)}m"]
    if definition.get("user"):
        args += ["--user", str(definition["user"])]
    if definition.get("workingDirectory"):
        args += ["--workdir", str(definition["workingDirectory"])]
    if definition.get("entryPoint"):
        # Docker takes one word as --entrypoint; the rest goes before the command.
        args += ["--entrypoint", str(definition["entryPoint"][0])]
    for mount in definition.get("mountPoints") or []:
        if mount.get("sourceVolume") in efs_volumes:
            args += ["--mount", f"type=volume,target={mount['containerPath']},volume-nocopy=true"]
    return args + health_args(definition.get("healthCheck"), time_cap())


def container_command(definition: dict[str, Any]) -> list[str]:
    """The words after the image: the entry point's other words, then the command."""
    entry = [str(word) for word in definition.get("entryPoint") or []][1:]
    return entry + [str(word) for word in definition.get("command") or []]


def with_overrides(definitions: list[dict[str, Any]], overrides: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Container definitions as a RunTask's ``containerOverrides`` change them: the command replaced, environment
    variables added or replaced by name
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerOverride.html). Health checks are left
    out: the health of a task that is not part of a service does not stop it
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/healthcheck.html), and a one-off command container
    does not serve what the check asks for."""
    by_name = {str(o.get("name")): o for o in (overrides or {}).get("containerOverrides") or []}
    changed = []
    for definition in definitions:
        merged = {key: value for key, value in definition.items() if key != "healthCheck"}
        override = by_name.get(str(definition.get("name")), {})
        if override.get("command") is not None:
            merged["command"] = list(override["command"])
        if override.get("environment"):
            environment = {str(pair["name"]): pair for pair in definition.get("environment") or []}
            environment.update({str(pair["name"]): pair for pair in override["environment"]})
            merged["environment"] = list(environment.values())
        changed.append(merged)
    return changed


def secret_reference(value_from: str) -> tuple[str, str, str | None, str | None, str | None]:
    """`arn:…:secretsmanager:…:secret:NAME[:json-key[:stage[:version]]]` -> (service, secret id, key, stage,
    version); an SSM parameter (name or ARN) -> ("ssm", name, None, None, None)."""
    parts = value_from.split(":")
    if len(parts) >= 7 and parts[2] == "secretsmanager":
        extra = [*parts[7:], None, None, None]
        return "secretsmanager", ":".join(parts[:7]), extra[0] or None, extra[1] or None, extra[2] or None
    if value_from.startswith("arn:") and ":parameter/" in value_from:
        return "ssm", "/" + value_from.split(":parameter/", 1)[1], None, None, None
    return "ssm", value_from, None, None, None


def matches(status: int, matcher: str) -> bool:
    """An HTTP status against a target group matcher: "200", "200,302", "200-399"."""
    for part in matcher.split(","):
        low, _, high = part.strip().partition("-")
        if low.isdigit() and int(low) <= status <= int(high or low):
            return True
    return False


# --- one task on Docker ---------------------------------------------------------------------


LogSink = Callable[[str, str, list[tuple[int, str]]], None]


@dataclass(frozen=True)
class TargetCheck:
    """The health check of the target group the task is registered with."""

    target_group_arn: str
    port: int
    path: str
    matcher: str
    unhealthy_threshold: int


@dataclass
class TaskRun:
    """One ECS task of a deployment, as containers on the local Docker engine."""

    task_arn: str
    prefix: str  # the containers' names start with it: <cluster>-task-<id>
    definitions: list[dict[str, Any]]
    task_memory: str | None
    efs_volumes: set[str]
    target: TargetCheck | None
    grace_seconds: float
    labels: dict[str, str]
    error: str | None = None
    started_at: float | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    failed_probes: int = 0
    last_probe: float = 0.0
    names: list[str] = field(default_factory=list)
    # Where an awslogs container's lines go: (log group, stream, [(epoch ms, line)]); None: nowhere.
    ship_logs: LogSink | None = None
    # Run before the containers start (the local RDS model starts the databases the task may reach).
    prepare: Callable[[], None] | None = None

    def container_name(self, definition: dict[str, Any]) -> str:
        return f"{self.prefix}-{definition['name']}"


@dataclass(frozen=True)
class Observation:
    state: str
    stop_code: str = ""
    reason: str = ""
    # container name -> (exit code or None, the container's reason)
    containers: dict[str, tuple[int | None, str]] = field(default_factory=dict)


def docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The docker CLI, logged in to the local registry through a config of its own."""
    return subprocess.run(
        ["docker", "--config", str(docker_config()), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


_CONFIG: Path | None = None


def docker_config() -> Path:
    global _CONFIG
    if _CONFIG is None:
        _CONFIG = Path(tempfile.mkdtemp(prefix="ecspress-tasks-docker-"))
        token = base64.b64encode(":".join(REGISTRY_CREDENTIALS).encode()).decode()
        auths = {host: {"auth": token} for host in LOCAL_REGISTRY_HOSTS}
        (_CONFIG / "config.json").write_text(json.dumps({"auths": auths}))
        (_CONFIG / "config.json").chmod(0o600)
    return _CONFIG


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
    return lines[-1].removeprefix("Error response from daemon: ") if lines else f"exit code {result.returncode}"


def ensure_network() -> None:
    if docker("network", "inspect", NETWORK).returncode != 0:
        created = docker("network", "create", "--label", f"{TASK_LABEL}=network", NETWORK)
        if created.returncode != 0 and "already exists" not in created.stderr:
            raise RuntimeError(last_line(created))


def start(run: TaskRun, resolve: Callable[[str], str]) -> None:
    """Pull, resolve, start (in a thread of its own: a pull can take a while); sets run.error on failure."""
    try:
        run.error = _start(run, resolve)
    except Exception as error:  # whatever happens, the task must end in a state
        run.error = f"CannotStartContainerError: {error}"
    finally:
        run.started_at = time.monotonic()
        run.ready.set()


def _start(run: TaskRun, resolve: Callable[[str], str]) -> str | None:
    if run.prepare is not None:
        run.prepare()
    for definition in run.definitions:
        image = str(definition["image"])
        if docker("image", "inspect", image).returncode != 0:
            pulled = docker("pull", "--quiet", image, timeout=600)
            if pulled.returncode != 0:
                return f"CannotPullContainerError: pull image manifest has been retried 5 time(s): {last_line(pulled)}"
    try:
        options = [
            container_args(definition, run.task_memory, resolve, run.efs_volumes) for definition in run.definitions
        ]
    except SecretNotFound as missing:
        return f"ResourceInitializationError: unable to pull secrets or registry auth: {missing}"
    ensure_network()
    labels = [word for key, value in run.labels.items() for word in ("--label", f"{key}={value}")]
    for index, (definition, extra) in enumerate(zip(run.definitions, options, strict=True)):
        name = run.container_name(definition)
        network = NETWORK if index == 0 else f"container:{run.names[0]}"  # awsvpc: one namespace per task
        started = docker(
            "run",
            "--detach",
            "--name",
            name,
            "--network",
            network,
            *labels,
            *extra,
            str(definition["image"]),
            *container_command(definition),
        )
        if started.returncode != 0:
            docker("rm", "--force", "--volumes", name)
            return f"CannotStartContainerError: {last_line(started)}"
        run.names.append(name)
        follow_logs(run, definition, name)
    return None


def awslogs_stream(definition: dict[str, Any], task_arn: str) -> tuple[str, str] | None:
    """(log group, stream) of a container logging with awslogs: `<prefix>/<container>/<task id>`; None otherwise."""
    configuration = definition.get("logConfiguration") or {}
    options = configuration.get("options") or {}
    if configuration.get("logDriver") != "awslogs" or not options.get("awslogs-group"):
        return None
    task_id = task_arn.rsplit("/", 1)[-1]
    prefix = options.get("awslogs-stream-prefix")
    stream = f"{prefix}/{definition['name']}/{task_id}" if prefix else task_id
    return str(options["awslogs-group"]), stream


def docker_log_line(line: str) -> tuple[int, str]:
    """`docker logs --timestamps` line -> (epoch milliseconds, message)."""
    stamp, _, message = line.rstrip("\n").partition(" ")
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$", stamp)
    if match is None:
        return int(time.time() * 1000), line.rstrip("\n")
    seconds = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    fraction = float(match.group(2) or 0)
    return int((seconds + fraction) * 1000), message


def follow_logs(run: TaskRun, definition: dict[str, Any], container: str) -> None:
    """Ship the container's output while it lives (a thread ending with the container)."""
    target = awslogs_stream(definition, run.task_arn)
    if run.ship_logs is None or target is None:
        return
    sink, (group, stream) = run.ship_logs, target

    def ship() -> None:
        follower = subprocess.Popen(
            ["docker", "logs", "--follow", "--timestamps", container],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert follower.stdout is not None
        for line in follower.stdout:
            try:
                sink(group, stream, [docker_log_line(line)])
            except Exception:  # a group deleted under a running task: its lines go nowhere, as they would on AWS
                continue
        follower.wait()

    threading.Thread(target=ship, daemon=True).start()


def inspect(names: list[str]) -> dict[str, dict[str, Any]]:
    if not names:
        return {}
    result = docker("container", "inspect", *names)
    found = json.loads(result.stdout or "[]")
    return {str(item["Name"]).lstrip("/"): item["State"] for item in found}


def observe(run: TaskRun) -> Observation:
    """Where the task stands: PENDING, RUNNING, HEALTHY, or STOPPED with ECS's stop code and reason."""
    if not run.ready.is_set():
        return Observation(PENDING)
    if run.error:
        return Observation(STOPPED, "TaskFailedToStart", run.error)
    states = inspect(run.names)
    containers = {name: container_outcome(states.get(name)) for name in run.names}
    essential = [run.container_name(d) for d in run.definitions if d.get("essential", True)]
    if any(states.get(name, {}).get("Status") != "running" for name in essential):
        return Observation(STOPPED, "EssentialContainerExited", "Essential container in task exited", containers)
    health = [states[name].get("Health", {}).get("Status") for name in essential if "Health" in states[name]]
    if "unhealthy" in health:
        return Observation(STOPPED, "ServiceSchedulerInitiated", "Task failed container health checks", containers)
    if "starting" in health:
        return Observation(RUNNING)
    if run.target is None:
        return Observation(HEALTHY)
    return target_observation(run)


def container_outcome(state: dict[str, Any] | None) -> tuple[int | None, str]:
    if state is None:
        return None, "the container is gone"
    if state.get("Status") == "running":
        return None, ""
    if state.get("OOMKilled"):
        return int(state.get("ExitCode", 137)), "OutOfMemoryError: Container killed due to memory usage"
    # ECS gives a container that exited by itself an exitCode and no reason (reasons are for errors).
    return int(state.get("ExitCode", 0)), ""


def target_observation(run: TaskRun) -> Observation:
    """One target group health check at most every PROBE_EVERY_SECONDS; failures count after the grace period."""
    assert run.target is not None and run.started_at is not None
    if time.monotonic() - run.last_probe < PROBE_EVERY_SECONDS:
        return Observation(RUNNING)
    run.last_probe = time.monotonic()
    status = probe(run.names[0], run.target.port, run.target.path)
    if status is not None and matches(status, run.target.matcher):
        return Observation(HEALTHY)
    if time.monotonic() - run.started_at >= min(run.grace_seconds, time_cap()):
        run.failed_probes += 1
    if run.failed_probes >= run.target.unhealthy_threshold:
        reason = f"Task failed ELB health checks in (target-group {run.target.target_group_arn})"
        return Observation(STOPPED, "ServiceSchedulerInitiated", reason)
    return Observation(RUNNING)


def probe(container: str, port: int, path: str) -> int | None:
    """GET path on the task's port from inside its network namespace; the HTTP status, or None."""
    request = f"GET {path} HTTP/1.0\\r\\nHost: 127.0.0.1:{port}\\r\\nUser-Agent: ELB-HealthChecker/2.0\\r\\n\\r\\n"
    script = f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf '{request}' >&3 && head -n 1 <&3"
    result = docker(
        "run",
        "--rm",
        "--network",
        f"container:{container}",
        "--entrypoint",
        "timeout",
        PROBE_IMAGE,
        "5",
        "bash",
        "-c",
        script,
        timeout=30,
    )
    found = re.match(r"HTTP/\S+\s+(\d{3})", result.stdout.strip())
    return int(found.group(1)) if found else None


def stop(run: TaskRun) -> None:
    if run.names:
        docker("rm", "--force", "--volumes", *run.names)


def stop_when_started(run: TaskRun, timeout: float = 600) -> None:
    """Stop a task whose start (a pull) is still under way, once it ended: its containers would stay otherwise."""
    run.ready.wait(timeout)
    stop(run)


def remove_containers(**labels: str) -> None:
    """Remove every task container with these labels (all of this server's when none are given)."""
    wanted = {SERVER_LABEL: server_id(), **labels}
    filters = [word for key, value in wanted.items() for word in ("--filter", f"label={key}={value}")]
    found = docker("ps", "--all", "--quiet", *filters).stdout.split()
    if found:
        docker("rm", "--force", "--volumes", *found)
