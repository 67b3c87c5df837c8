"""Fixtures shared by every test tree: a private moto server, AWS clients, a playbook runner."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ansible_runner
import boto3
import pytest

from ecspress import settings

ROOT = Path(__file__).resolve().parent.parent
COLLECTIONS_PATH = ROOT / ".cache" / "collections"
REGION = "us-east-1"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
# Tests run ansible-playbook, molecule and ecspress from the virtual environment of this interpreter.
VENV_BIN = str(Path(sys.executable).parent)
if VENV_BIN not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([VENV_BIN, os.environ.get("PATH", "")])


# The longest test files, longest first (from `make test`'s durations table). With the workers taking one file
# each at a time, starting these first keeps the run from ending on one long file while the others idle.
# Order inside a file is unchanged; every file passes alone, so the order is only about time. xdist would reorder
# the files by their number of tests (most first: the unit tests, the 9-test e2e file near the end, which took
# `make test` from 22 to 42 minutes): the Makefile passes --no-loadscope-reorder so that this order holds.
LONGEST_FIRST = (
    "tests/e2e/test_site.py",
    "tests/integration/test_image_pipeline.py",
    "tests/integration/test_role_service.py",  # before the third image build, so at most two build at once
    "tests/faults/test_interrupted_runs.py",
    "tests/faults/test_registry_down.py",
    "tests/integration/test_iam_policies.py",
    "tests/integration/test_role_network_database.py",
    "tests/faults/test_teardown.py",
    "tests/molecule/test_scenarios.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: files and tests keep their order otherwise


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """The files of folder over HTTP on 127.0.0.1 (where a user downloads a theme or WP-CLI from); the base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def ansible_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every ansible run of the tests uses: the CLI's, with fake credentials, no colour."""
    env = settings.ansible_environment(ROOT, {"ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1"})
    env.update(FAKE_CREDENTIALS)
    env["AWS_DEFAULT_REGION"] = REGION
    env.update(extra or {})
    return env


@dataclass
class MotoServer:
    url: str
    process: subprocess.Popen[bytes] | None = None  # None: a server this test did not start (the local stack's)

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def reset(self) -> None:
        """Forget every resource (moto's own reset API)."""
        import requests

        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()


def start_moto(log_path: Path, extra_env: dict[str, str] | None = None) -> MotoServer:
    port = free_port()
    # ECS tasks are not run on Docker unless a test asks (ECSPRESS_LOCAL_RUN_TASKS=1, tests/local/test_ecs_tasks.py):
    # the other tests deploy tiny manifests that pull but cannot run, and test what the API answers.
    env = {
        **os.environ,
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        "ECSPRESS_LOCAL_RUN_TASKS": "0",
        **(extra_env or {}),
    }
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ecspress.local.motoserver", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    wait_for_port(port)
    deadline = time.monotonic() + 10
    while "moto listening" not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    return MotoServer(url=f"http://127.0.0.1:{port}", process=process)


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A private moto server (with ecspress's compatibility fixes) for the whole test session."""
    server = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


class FargateService:
    """One ECS service on the rollout moto, with the network bits Fargate needs."""

    def __init__(self, server: MotoServer, name: str, circuit_breaker: bool = True, step: float = 0.5) -> None:
        self.ecs, ec2 = server.client("ecs"), server.client("ec2")
        self.vpc = vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
        self.subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
        self.step = step
        self.group = ec2.create_security_group(GroupName=name, Description="t", VpcId=vpc)["GroupId"]
        self.cluster, self.name, self.circuit_breaker = name, name, circuit_breaker
        self.ecs.create_cluster(clusterName=name)

    def task_definition(self, image: str, secrets: list[dict[str, str]] | None = None) -> str:
        return self.register({"name": "wordpress", "image": image, "essential": True, "secrets": secrets or []})

    def register(self, container: dict[str, Any]) -> str:
        """A Fargate task definition revision of the service's family with this one container; its ARN."""
        return str(
            self.ecs.register_task_definition(
                family=self.name,
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[container],
            )["taskDefinition"]["taskDefinitionArn"]
        )

    def create(self, task_definition: str, desired: int = 2, **extra: Any) -> None:
        self.ecs.create_service(
            cluster=self.cluster,
            serviceName=self.name,
            taskDefinition=task_definition,
            desiredCount=desired,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [self.subnet], "securityGroups": [self.group]}},
            deploymentConfiguration={"deploymentCircuitBreaker": {"enable": self.circuit_breaker, "rollback": True}},
            **extra,
        )

    def describe(self) -> dict[str, Any]:
        return dict(self.ecs.describe_services(cluster=self.cluster, services=[self.name])["services"][0])

    def wait_for(self, predicate: Any, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            described = self.describe()
            if predicate(described):
                return described
            time.sleep(self.step / 2)
        raise AssertionError(f"service never reached the state; last: {self.describe()['deployments']}")


def ansible_playbook_process(playbook: str, extravars: dict[str, Any], **popen: Any) -> subprocess.Popen[str]:
    """`ansible-playbook -i inventories/local <playbook> -e k=v…` as a process whose output can be read live
    (for tests that cause a fault at a given task)."""
    args = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"), playbook]
    for key, value in extravars.items():
        args += ["-e", f"{key}={value}"]
    return subprocess.Popen(
        args,
        cwd=ROOT,
        env={**os.environ, **ansible_environment()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


LOCAL_REGISTRY = "127.0.0.1:5000"
LOCAL_REGISTRY_AUTH = ("AWS", "123456789012-auth-token")


def push_test_manifest(repository: str, tag: str, registry: str = LOCAL_REGISTRY) -> str:
    """Put a tiny, valid image manifest into the local registry; return its digest."""
    import hashlib

    import requests

    base = f"http://{registry}/v2/{repository}"
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": []},
            "config": {},
            "comment": tag,
        }
    )
    config_digest = "sha256:" + hashlib.sha256(config.encode()).hexdigest()
    upload = requests.post(f"{base}/blobs/uploads/", auth=LOCAL_REGISTRY_AUTH, timeout=10)
    upload.raise_for_status()
    location = upload.headers["Location"]
    separator = "&" if "?" in location else "?"
    requests.put(
        f"{location}{separator}digest={config_digest}",
        data=config.encode(),
        auth=LOCAL_REGISTRY_AUTH,
        timeout=10,
        headers={"Content-Type": "application/octet-stream"},
    ).raise_for_status()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": config_digest,
            },
            "layers": [],
        }
    )
    response = requests.put(
        f"{base}/manifests/{tag}",
        data=manifest,
        auth=LOCAL_REGISTRY_AUTH,
        timeout=10,
        headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"},
    )
    response.raise_for_status()
    return str(response.headers["Docker-Content-Digest"])


@dataclass
class PlaybookResult:
    rc: int
    status: str
    stats: dict[str, dict[str, int]]
    stdout: str
    changed_tasks: list[str] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(self.stats.get("changed", {}).values())

    @property
    def failed(self) -> int:
        return sum(self.stats.get("failures", {}).values()) + sum(self.stats.get("dark", {}).values())


def run_playbook(
    playbook: str | Path,
    *,
    inventory: str | Path | None = None,
    extravars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    tags: str | None = None,
    env: dict[str, str] | None = None,
    private_dir: Path,
    verbosity: int = 0,
) -> PlaybookResult:
    """Run a playbook with ansible-runner, the way the ecspress CLI does; never raises on failure."""
    cmdline = []
    if check:
        cmdline.append("--check")
    if diff:
        cmdline.append("--diff")
    private_dir.mkdir(parents=True, exist_ok=True)
    runner = ansible_runner.run(
        private_data_dir=str(private_dir),
        project_dir=str(ROOT),
        playbook=str(Path(playbook) if Path(playbook).is_absolute() else ROOT / playbook),
        inventory=str(inventory or ROOT / "inventories" / "local"),
        extravars=extravars or {},
        cmdline=" ".join(cmdline) or None,
        tags=tags,
        envvars=ansible_environment(env),
        quiet=True,
        verbosity=verbosity,
    )
    changed, failed = [], []
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok" and data.get("res", {}).get("changed"):
            changed.append(data.get("task", "?"))
        if event.get("event") == "runner_on_failed" and not data.get("ignore_errors"):
            failed.append(f"{data.get('task', '?')}: {data.get('res', {}).get('msg', '')}")
    return PlaybookResult(
        rc=int(runner.rc),
        status=str(runner.status),
        stats=runner.stats or {},
        stdout=runner.stdout.read(),
        changed_tasks=changed,
        failed_tasks=failed,
    )


@pytest.fixture
def playbook_runner(tmp_path: Path) -> Callable[..., PlaybookResult]:
    counter = iter(range(1000))

    def _run(playbook: str | Path, **kwargs: Any) -> PlaybookResult:
        return run_playbook(playbook, private_dir=tmp_path / f"runner-{next(counter)}", **kwargs)

    return _run
