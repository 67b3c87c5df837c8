"""The local stand-in stack: Docker engine, moto (the AWS API) and a registry (ECR's data plane).

``ecspress-local start`` makes sure each part runs, starting only what does not answer yet,
and prints what it did; ``ecspress-local stop`` stops what *it* started and nothing else.
State (PIDs, ports, log paths) lives in one ignored folder, ``.ecspress/local`` by default.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import bcrypt
import requests

from ecspress.local import ecs_tasks
from ecspress.local.apt_sources import read_mirror

MOTO_PORT = int(os.environ.get("ECSPRESS_MOTO_PORT", "5100"))
REGISTRY_PORT = int(os.environ.get("ECSPRESS_REGISTRY_PORT", "5000"))
LOCAL_ACCOUNT_ID = "123456789012"
# moto's ECR GetAuthorizationToken always answers AWS:<account>-auth-token; the local registry
# accepts exactly that, so pushing locally takes the same token path as pushing to ECR.
REGISTRY_USER = "AWS"
REGISTRY_PASSWORD = f"{LOCAL_ACCOUNT_ID}-auth-token"
DEFAULT_BASE_IMAGE = "ecspress/base:trixie"
APT_PACKAGES = ("docker.io", "docker-registry", "debootstrap")
DOCKER_SOCKET = "/var/run/docker.sock"
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class StackError(RuntimeError):
    """A part of the stack could not be started; the message says how to fix it."""


@dataclass
class Component:
    name: str
    pid: int | None = None
    started_by_us: bool = False
    endpoint: str = ""
    log: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


def state_dir() -> Path:
    return Path(os.environ.get("ECSPRESS_STATE_DIR", Path.cwd() / ".ecspress")) / "local"


def load_state(directory: Path) -> dict[str, Component]:
    path = directory / "state.json"
    if not path.is_file():
        return {}
    return {name: Component(**data) for name, data in json.loads(path.read_text()).items()}


def save_state(directory: Path, state: dict[str, Component]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "state.json.tmp"
    tmp.write_text(json.dumps({name: asdict(c) for name, c in state.items()}, indent=2) + "\n")
    tmp.replace(directory / "state.json")


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.is_file() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise StackError(f"{what} did not answer within {timeout:.0f}s")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def spawn(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start a long-running process detached from us (its own session), output to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    return process.pid


def stop_pid(pid: int, timeout: float = 20.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        wait_until(lambda: not pid_alive(pid), timeout, f"process {pid}")
    except StackError:
        os.kill(pid, signal.SIGKILL)


# --- Debian packages -----------------------------------------------------------------------


def missing_packages(packages: Sequence[str]) -> list[str]:
    missing = []
    for package in packages:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True, check=False
        )
        if "install ok installed" not in result.stdout:
            missing.append(package)
    return missing


def ensure_packages(packages: Sequence[str] = APT_PACKAGES, say: Callable[[str], None] = print) -> None:
    missing = missing_packages(packages)
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0:
        raise StackError(f"missing Debian packages {', '.join(missing)}: run `sudo {' '.join(command)}`")
    say(f"installing Debian packages: {', '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run([*command, "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)


# --- Docker engine -------------------------------------------------------------------------


def docker_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """The engine Docker clients talk to: $DOCKER_HOST when set, else the default socket."""
    environ = os.environ if environ is None else environ
    return environ.get("DOCKER_HOST") or f"unix://{DOCKER_SOCKET}"


def docker_answers(endpoint: str | None = None) -> bool:
    """Whether a Docker engine answers ``GET /_ping`` at a ``unix://`` or ``tcp://`` endpoint."""
    endpoint = endpoint or f"unix://{DOCKER_SOCKET}"
    try:
        if endpoint.startswith("tcp://"):
            host, _, port = endpoint.removeprefix("tcp://").partition(":")
            sock = socket.create_connection((host, int(port or 2375)), timeout=2)
        else:
            sock = socket.socket(socket.AF_UNIX)
            sock.settimeout(2)
            sock.connect(endpoint.removeprefix("unix://"))
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return sock.recv(64).split(b" ")[1:2] == [b"200"]
    except (OSError, ValueError):
        return False


def ensure_dockerd(directory: Path, previous: Component | None) -> Component:
    endpoint = docker_endpoint()
    if endpoint != f"unix://{DOCKER_SOCKET}":  # the user's engine: use it, never start one elsewhere
        if docker_answers(endpoint):
            return Component("dockerd", endpoint=endpoint, detail={"note": "DOCKER_HOST, not started by us"})
        raise StackError(
            f"the Docker engine does not answer on {endpoint} (DOCKER_HOST): start that engine, or unset "
            f"DOCKER_HOST and ecspress-local starts dockerd on {DOCKER_SOCKET}; nothing was changed"
        )
    if docker_answers():
        if previous and previous.started_by_us and pid_alive(previous.pid):
            return previous
        return Component("dockerd", endpoint=f"unix://{DOCKER_SOCKET}", detail={"note": "already running"})
    if shutil.which("dockerd") is None:
        raise StackError("dockerd is not installed: run `apt-get install docker.io`")
    log = directory / "dockerd.log"
    pid = spawn(["dockerd", "--pidfile", str(directory / "dockerd.pid")], log)
    wait_until(docker_answers, 60, f"dockerd (log: {log})")
    return Component("dockerd", pid=pid, started_by_us=True, endpoint=f"unix://{DOCKER_SOCKET}", log=str(log))


# --- moto (the AWS API) --------------------------------------------------------------------


def moto_answers(endpoint: str) -> bool:
    try:
        response = requests.post(
            endpoint,
            data="Action=GetCallerIdentity&Version=2011-06-15",
            timeout=2,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/sts/aws4_request",
            },
        )
    except requests.RequestException:
        return False
    return response.status_code == 200 and b"GetCallerIdentityResult" in response.content


def answers_soon(check: Callable[[], bool], seconds: float = 20) -> bool:
    """A process of ours that is alive but busy (a loaded machine) is given time before it is judged."""
    try:
        wait_until(check, seconds, "an answer")
    except StackError:
        return False
    return True


def ensure_moto(directory: Path, previous: Component | None, port: int = MOTO_PORT) -> Component:
    endpoint = f"http://127.0.0.1:{port}"
    if previous and previous.started_by_us and pid_alive(previous.pid) and answers_soon(lambda: moto_answers(endpoint)):
        return previous
    if port_open(port):
        if moto_answers(endpoint):
            return Component("moto", endpoint=endpoint, detail={"note": "already running, not started by us"})
        raise StackError(f"127.0.0.1:{port} is taken by something that is not an AWS API; free the port")
    log = directory / "moto.log"
    pid = spawn(
        [sys.executable, "-m", "ecspress.local.motoserver", "--host", "127.0.0.1", "--port", str(port)],
        log,
        env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
    )
    wait_until(lambda: moto_answers(endpoint), 60, f"moto (log: {log})")
    return Component("moto", pid=pid, started_by_us=True, endpoint=endpoint, log=str(log))


# --- registry (ECR's data plane) -----------------------------------------------------------


def registry_config(directory: Path, port: int) -> Path:
    """Write the registry's config and htpasswd (bcrypt, as docker-registry requires)."""
    htpasswd = directory / "registry.htpasswd"
    if not htpasswd.is_file():
        hashed = bcrypt.hashpw(REGISTRY_PASSWORD.encode(), bcrypt.gensalt(rounds=10)).decode()
        htpasswd.write_text(f"{REGISTRY_USER}:{hashed}\n")
        htpasswd.chmod(0o600)
    config = directory / "registry.yml"
    config.write_text(
        f"""version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: {directory / "registry-data"}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
auth:
  htpasswd:
    realm: ecspress-local
    path: {htpasswd}
"""
    )
    return config


def registry_answers(endpoint: str) -> bool:
    try:
        response = requests.get(f"{endpoint}/v2/", timeout=2, auth=(REGISTRY_USER, REGISTRY_PASSWORD))
    except requests.RequestException:
        return False
    return response.status_code == 200


def free_local_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_registry(directory: Path, previous: Component | None, port: int | None = None) -> Component:
    """docker-registry on `port`, or on a free internal port behind the gate (see ensure_registry_gate)."""
    if previous and previous.started_by_us and pid_alive(previous.pid):
        if previous.endpoint != f"http://127.0.0.1:{REGISTRY_PORT}" and answers_soon(
            lambda: registry_answers(previous.endpoint)
        ):
            return previous
        stop_pid(int(previous.pid or 0))  # an older stack served the public port itself: the gate takes it
    binary = shutil.which("docker-registry")
    if binary is None:
        raise StackError("docker-registry is not installed: run `apt-get install docker-registry`")
    internal = port or free_local_port()
    endpoint = f"http://127.0.0.1:{internal}"
    log = directory / "registry.log"
    pid = spawn([binary, "serve", str(registry_config(directory, internal))], log)
    wait_until(lambda: registry_answers(endpoint), 30, f"registry (log: {log})")
    return Component(
        "registry",
        pid=pid,
        started_by_us=True,
        endpoint=endpoint,
        log=str(log),
        detail={"user": REGISTRY_USER, "data": str(directory / "registry-data")},
    )


def ensure_registry_gate(
    directory: Path, previous: Component | None, upstream: str, port: int = REGISTRY_PORT, moto_port: int = MOTO_PORT
) -> Component:
    """ECR's tag immutability in front of the registry (ecspress.local.registry_gate), on the public port."""
    endpoint = f"http://127.0.0.1:{port}"
    if previous and previous.started_by_us and pid_alive(previous.pid):
        if previous.detail.get("upstream") == upstream and answers_soon(lambda: registry_answers(endpoint)):
            return previous
        stop_pid(int(previous.pid or 0))
    if port_open(port):
        if registry_answers(endpoint):
            return Component("registry-gate", endpoint=endpoint, detail={"note": "already running, not started by us"})
        raise StackError(f"127.0.0.1:{port} is taken by something that is not our registry; free the port")
    log = directory / "registry-gate.log"
    argv = [sys.executable, "-m", "ecspress.local.registry_gate", "--port", str(port), "--upstream", upstream]
    pid = spawn([*argv, "--ecr-endpoint", f"http://127.0.0.1:{moto_port}"], log)
    wait_until(lambda: registry_answers(endpoint), 30, f"registry gate (log: {log})")
    return Component(
        "registry-gate", pid=pid, started_by_us=True, endpoint=endpoint, log=str(log), detail={"upstream": upstream}
    )


# --- base image ----------------------------------------------------------------------------


def docker(*args: str, timeout: float = 600, check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check, **kwargs)


def image_id(name: str) -> str | None:
    result = docker("image", "inspect", "--format", "{{.Id}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def try_pull(name: str, timeout: float = 60) -> bool:
    try:
        return docker("pull", "--quiet", name, timeout=timeout, check=False).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def suite_of(image: str) -> str:
    """`ecspress/base:trixie` or `debian:trixie-slim` -> `trixie`."""
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "trixie"
    return tag.split("-", 1)[0]


SLIM_DPKG_EXCLUDES = """\
# ecspress base image: keep documentation, man pages and translations out of the image.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
"""
NO_RECOMMENDS = 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n'


def debian_sources(suite: str, archive: str, security: str | None) -> str:
    text = f"Types: deb\nURIs: {archive}\nSuites: {suite} {suite}-updates\nComponents: main\n"
    text += "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    if security:
        text += f"\nTypes: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\n"
        text += "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    return text


def chroot(root: Path, script: str) -> None:
    subprocess.run(
        ["chroot", str(root), "/bin/sh", "-ec", script],
        check=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "DEBIAN_FRONTEND": "noninteractive"},
        capture_output=True,
    )


def debootstrap_image(name: str, work: Path, say: Callable[[str], None]) -> None:
    """Build `name` offline: debootstrap minbase from the host's apt mirror, security updates, slimmed."""
    suite = suite_of(name)
    mirror = read_mirror()
    root = work / f"rootfs-{suite}"
    shutil.rmtree(root, ignore_errors=True)
    say(f"building base image {name} offline: debootstrap --variant=minbase {suite} (~30 s)")
    subprocess.run(
        ["debootstrap", "--variant=minbase", "--include=ca-certificates", suite, str(root), mirror.archive],
        check=True,
        capture_output=True,
    )
    (root / "etc/apt/sources.list").unlink(missing_ok=True)
    (root / "etc/apt/sources.list.d/debian.sources").write_text(debian_sources(suite, mirror.archive, mirror.security))
    (root / "etc/dpkg/dpkg.cfg.d/01-ecspress-slim").write_text(SLIM_DPKG_EXCLUDES)
    (root / "etc/apt/apt.conf.d/01-ecspress-no-recommends").write_text(NO_RECOMMENDS)
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    chroot(root, "apt-get update -qq && apt-get -y -qq dist-upgrade >/dev/null && apt-get clean")
    for junk in (
        "var/lib/apt/lists",
        "var/cache/apt",
        "usr/share/doc",
        "usr/share/man",
        "usr/share/info",
        "usr/share/locale",
        "var/log",
    ):
        for child in (root / junk).glob("*"):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    (root / "etc/resolv.conf").write_text("")
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        [
            "docker",
            "import",
            "--change",
            f"ENV PATH={IMAGE_PATH}",
            "--change",
            'CMD ["/bin/bash"]',
            "--message",
            f"ecspress offline base: debootstrap {suite}",
            "-",
            name,
        ],
        stdin=tar.stdout,
        check=True,
        capture_output=True,
    )
    tar.wait()
    shutil.rmtree(root, ignore_errors=True)


def ensure_base_image(directory: Path, name: str, rebuild: bool, say: Callable[[str], None]) -> Component:
    if not rebuild and (existing := image_id(name)):
        return Component("base-image", endpoint=name, detail={"id": existing, "source": "cached"})
    if not rebuild and try_pull(name):
        return Component("base-image", endpoint=name, detail={"id": image_id(name), "source": "pulled"})
    offline_name = name if name.startswith("ecspress/") else f"ecspress/base:{suite_of(name)}"
    if offline_name != name:
        say(
            f"{name} cannot be pulled (no registry reachable); building {offline_name} instead — "
            f"set ecspress_base_image: {offline_name} in your inventory"
        )
    debootstrap_image(offline_name, directory, say)
    return Component(
        "base-image",
        endpoint=offline_name,
        started_by_us=True,
        detail={"id": image_id(offline_name), "source": "debootstrap"},
    )


# --- start / stop / status -----------------------------------------------------------------


def start(
    base_image: str = DEFAULT_BASE_IMAGE, rebuild_base: bool = False, say: Callable[[str], None] = print
) -> dict[str, Component]:
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    state = load_state(directory)
    ensure_packages(say=say)
    steps: list[tuple[str, Callable[[Component | None], Component]]] = [
        ("dockerd", lambda prev: ensure_dockerd(directory, prev)),
        ("moto", lambda prev: ensure_moto(directory, prev)),
        ("registry", lambda prev: ensure_registry(directory, prev)),
        ("registry-gate", lambda prev: ensure_registry_gate(directory, prev, state["registry"].endpoint)),
        ("base-image", lambda prev: ensure_base_image(directory, base_image, rebuild_base, say)),
    ]
    for name, ensure in steps:
        previous = state.get(name)
        current = ensure(previous)
        if previous is not None and previous.started_by_us and not current.started_by_us and name != "base-image":
            current.started_by_us, current.pid = False, None
        state[name] = current
        save_state(directory, state)
        say(describe(current, fresh=previous is None or previous.pid != current.pid))
    return state


def describe(component: Component, fresh: bool) -> str:
    if component.name == "base-image":
        source, short_id = component.detail.get("source"), str(component.detail.get("id", ""))[:19]
        return f"  base-image  {component.endpoint} ({source}, {short_id})"
    verb = "started" if component.started_by_us and fresh else "running"
    owner = f"pid {component.pid}" if component.started_by_us else "not ours"
    log = f", log {component.log}" if component.log else ""
    return f"  {component.name:<10}  {verb:<7} {component.endpoint} ({owner}{log})"


def stop(say: Callable[[str], None] = print) -> None:
    directory = state_dir()
    state = load_state(directory)
    for name in ("registry-gate", "registry", "moto", "dockerd"):
        component = state.get(name)
        if component and component.started_by_us and pid_alive(component.pid):
            say(f"  stopping {name} (pid {component.pid})")
            stop_pid(int(component.pid or 0), timeout=30 if name == "dockerd" else 10)
        if name == "moto" and docker_answers():
            # moto removed the ECS task containers it ran (ecs_tasks); their network goes with it.
            docker("network", "rm", ecs_tasks.NETWORK, check=False)
        state.pop(name, None)
    save_state(directory, state)


def status() -> dict[str, Any]:
    state = load_state(state_dir())
    answers = {
        "dockerd": docker_answers(),
        "moto": moto_answers(f"http://127.0.0.1:{MOTO_PORT}"),
        "registry-gate": registry_answers(f"http://127.0.0.1:{REGISTRY_PORT}"),
    }
    if "registry" in state:
        answers["registry"] = registry_answers(state["registry"].endpoint)
    if "base-image" in state:
        answers["base-image"] = image_id(state["base-image"].endpoint) is not None
    return {name: {"answers": answers.get(name), **asdict(component)} for name, component in state.items()} | {
        name: {"answers": ok} for name, ok in answers.items() if name not in state
    }


def registry_auth_header() -> str:
    return "Basic " + base64.b64encode(f"{REGISTRY_USER}:{REGISTRY_PASSWORD}".encode()).decode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ecspress-local",
        description="Start, stop or inspect the local stand-in stack (dockerd, moto on 127.0.0.1:5100, "
        "registry on 127.0.0.1:5000, offline base image).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    start_parser = sub.add_parser("start", help="start what is not running yet (idempotent)")
    start_parser.add_argument("--base-image", default=os.environ.get("ECSPRESS_BASE_IMAGE", DEFAULT_BASE_IMAGE))
    start_parser.add_argument("--rebuild-base", action="store_true", help="rebuild the base image even if cached")
    sub.add_parser("stop", help="stop what `start` started, and only that")
    status_parser = sub.add_parser("status", help="what runs, and who started it")
    status_parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            print(f"local stack (state in {state_dir()}):")
            start(args.base_image, args.rebuild_base)
        elif args.command == "stop":
            stop()
        else:
            report = status()
            print(
                json.dumps(report, indent=2)
                if args.json
                else "\n".join(
                    f"  {name:<10} {'answers' if info.get('answers') else 'down'}" for name, info in report.items()
                )
            )
    except (StackError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", None)
        print(f"ecspress-local: {error}" + (f"\n{detail.strip()}" if detail else ""), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
