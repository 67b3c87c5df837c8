"""ecspress benchmarks: each figure next to its peer, measured in one run on this machine.

    .venv/bin/python bench/run.py [--repeat 3] [--only build,change,rebuild,size,rollout,converge,opcache,up]

Prints a table and writes bench/results.md (date, cores, versions). Nothing here passes or fails.
Load generation (wrk) targets 127.0.0.1 only, with bounded duration and connections.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import http.server
import itertools
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / ".cache" / "collections")]

from tests.conftest import ansible_environment  # noqa: E402

NAME = "ecspress-bench"
PEER_TAG = "ecspress-bench/peer:latest"
# 127.0.0.1:8080 belongs to the ecspress-local site (make up); the bench site answers here instead.
SITE_PORT = 8088
NOCACHE_PORT = 8089
MOTO = ("127.0.0.1", 5100)
WORK = ROOT / "bench/.work"
Row = dict[str, str]


def bench_inventory() -> Path:
    """inventories/local with the bench's name and port, so `make up INVENTORY=...` also keeps to NAME."""
    inventory = WORK / "inventory"
    inventory.mkdir(parents=True, exist_ok=True)
    group_vars = inventory / "group_vars"
    if not group_vars.is_symlink():
        group_vars.symlink_to(ROOT / "inventories/local/group_vars")
    secrets = ROOT / ".ecspress/local/secrets" / NAME  # where inventories/local would put them
    (inventory / "hosts.yml").write_text(
        "---\nlocal:\n  hosts:\n    ecspress-bench:\n"
        "      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n'
        f"      ecspress_name: {NAME}\n"
        f"      local_run_port: {SITE_PORT}\n"
        f"      local_run_secrets_dir: {secrets}\n"
    )
    return inventory


def sh(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check, env={**os.environ, **(env or {})})


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_of(repeat: int, action: Callable[[], object], before: Callable[[], object] | None = None) -> float:
    samples = []
    for _ in range(repeat):
        if before:
            before()
        samples.append(timed(action))
    return statistics.median(samples)


def playbook(
    path: str, *extra: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = ansible_environment(env)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"
    return sh(
        str(ROOT / ".venv/bin/ansible-playbook"),
        "-i",
        str(bench_inventory()),
        str(ROOT / path),
        "-e",
        f"ecspress_name={NAME}",
        *extra,
        env=env,
        check=check,
    )


def image_build(
    force: bool, env: dict[str, str] | None = None, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    args = ["-e", "image_pipeline_smoke_test=false"] + (["-e", "image_pipeline_force_build=true"] if force else [])
    return playbook("playbooks/image.yml", *args, *extra, env=env)


def peer_build(buildkit: bool, cache: bool) -> None:
    client = "/usr/bin/docker" if buildkit else "docker"
    args = [client, "build", "-q", "-t", PEER_TAG, "-f", str(ROOT / "bench/Dockerfile.peer")]
    args += [] if cache else ["--no-cache"]
    sh(*args, str(ROOT / "bench"), env={"DOCKER_BUILDKIT": "1" if buildkit else "0"})


def ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}x" if peer else "n/a"


def verdict(met: bool) -> str:
    """The row's target against its figure, measured in this run (issue 18's targets)."""
    return "met" if met else "not met"


def cold_build() -> tuple[float, float]:
    """(seconds from starting the builder to the commit and the builder's removal, seconds of the whole run).
    The first is what `docker build` does; the whole run adds preflight, registry, login and the push."""
    log, env = stage_log("build")
    start = time.perf_counter()
    image_build(force=True, env=env)
    whole = time.perf_counter() - start
    tasks = [(str(e["name"]), float(e["t"])) for e in read_log(log) if e["event"] == "task"]
    names = [name for name, _ in tasks]
    first, after_removal = names.index("Start the builder"), names.index("Remove the builder") + 1
    return tasks[after_removal][1] - tasks[first][1], whole


def bench_build(repeat: int) -> list[Row]:
    samples = [cold_build() for _ in range(repeat)]
    ours = statistics.median(sample[0] for sample in samples)
    whole = statistics.median(sample[1] for sample in samples)
    legacy = median_of(repeat, lambda: peer_build(buildkit=False, cache=False))
    kit = median_of(repeat, lambda: peer_build(buildkit=True, cache=False))
    figure = "image build, cold: builder container + Ansible + commit (median s)"
    return [
        {
            "figure": figure,
            "ecspress": f"{ours:.1f}",
            "peer": f"legacy {legacy:.1f}",
            "ratio": ratio(ours, legacy),
            "target": "reported",
            "met": "—",
        },
        {
            "figure": figure,
            "ecspress": f"{ours:.1f}",
            "peer": f"BuildKit {kit:.1f}",
            "ratio": ratio(ours, kit),
            "target": "≤ 1.5x",
            "met": verdict(ours <= 1.5 * kit),
        },
        {
            "figure": "image.yml cold, whole run: + preflight, registry, login, push (median s)",
            "ecspress": f"{whole:.1f}",
            "peer": f"legacy {legacy:.1f} (no push)",
            "ratio": ratio(whole, legacy),
            "target": "reported",
            "met": "—",
        },
    ]


PEER_PUSH = f"127.0.0.1:5000/{NAME}/wordpress"


def peer_change_and_push(opcache_mb: int) -> None:
    """BuildKit's cached rebuild of the peer with one PHP setting changed, then its push (the layers above the
    setting are cached and already in the registry; the registry login is the image pipeline's)."""
    tag = f"{PEER_PUSH}:peer-{opcache_mb}"
    args = ["/usr/bin/docker", "build", "-q", "-t", tag, "--build-arg", f"OPCACHE_MB={opcache_mb}"]
    sh(*args, "-f", str(ROOT / "bench/Dockerfile.peer"), str(ROOT / "bench"), env={"DOCKER_BUILDKIT": "1"})
    sh("docker", "--config", str(ROOT / ".cache/docker"), "push", "-q", tag)


def bench_change(repeat: int) -> list[Row]:
    """A configuration-only change (one OPcache value, new each time) to a new image in the registry: ours (image.yml,
    the package layer reused, smoke test off as the peer has none) and the Dockerfile's (BuildKit cached + push)."""
    image_build(force=False)  # the package layer and the registry login exist
    peer_change_and_push(127)  # the peer's layers are built and pushed once
    values = iter(range(140, 140 + 2 * repeat))
    ours = median_of(
        repeat, lambda: image_build(False, extra=("-e", f"wordpress_image_opcache_memory_consumption={next(values)}"))
    )
    peer = median_of(repeat, lambda: peer_change_and_push(next(values)))
    return [
        {
            "figure": "configuration-only change → new image pushed (median s)",
            "ecspress": f"{ours:.1f}",
            "peer": f"BuildKit cached + push {peer:.1f}",
            "ratio": ratio(ours, peer),
            "target": "≤ 2x",
            "met": verdict(ours <= 2 * peer),
        }
    ]


def our_images() -> set[str]:
    return set(sh("docker", "images", "-q", "--no-trunc", f"127.0.0.1:5000/{NAME}/wordpress").stdout.split())


def bench_rebuild(repeat: int) -> list[Row]:
    image_build(force=False)
    before = our_images()
    ours = median_of(repeat, lambda: image_build(force=False))
    new_images = len(our_images() - before)
    peer_build(buildkit=False, cache=True)
    peer = median_of(repeat, lambda: peer_build(buildkit=False, cache=True))
    return [
        {
            "figure": "unchanged rebuild (median s)",
            "ecspress": f"{ours:.1f}, {new_images} new image(s)",
            "peer": f"cached build {peer:.2f}",
            "ratio": ratio(ours, peer),
            "target": "≤ 3 s, no new image",
            "met": verdict(ours <= 3 and new_images == 0),
        }
    ]


def image_size(reference: str) -> int:
    return int(json.loads(sh("docker", "image", "inspect", reference).stdout)[0]["Size"])


def built_reference(run: subprocess.CompletedProcess[str]) -> str:
    """repository:tag of the image the pipeline reported ("<repo>@sha256:... (tag wp-..., WordPress ...)")."""
    found = re.search(r"(\S+)@sha256:[0-9a-f]{64}\s+\(tag ([^,)\s]+)", run.stdout)  # YAML callback wraps
    if not found:
        raise OSError("image.yml printed no image reference")
    repository = found.group(1).split('"')[-1]
    return f"{repository}:{found.group(2)}"


def bench_size(_: int) -> list[Row]:
    reference = built_reference(image_build(force=False))
    peer_build(buildkit=False, cache=True)
    mine, theirs = image_size(reference), image_size(PEER_TAG)
    return [
        {
            "figure": "image size (MB)",
            "ecspress": f"{mine / 1e6:.0f}",
            "peer": f"Dockerfile {theirs / 1e6:.0f}",
            "ratio": ratio(mine, theirs),
            "target": "≤ 0.6x",
            "met": verdict(mine <= 0.6 * theirs),
        }
    ]


def bench_rollout(_: int) -> list[Row]:
    from bench.rollout_latency import compare

    rows = []
    for case, ours_polls, ours_seconds, waiter_polls, waiter_seconds, waiter_outcome in compare():
        rows.append(
            {
                "figure": f"failing rollout reported: {case}",
                "ecspress": f"poll {ours_polls} ({ours_seconds} s)",
                "peer": f"services_stable: {waiter_outcome} after {waiter_polls} polls ({waiter_seconds} s)",
                "ratio": ratio(ours_seconds, waiter_seconds),
                "target": "first poll that shows it",
                "met": "—",
            }
        )
    return rows


class CountingProxy(http.server.ThreadingHTTPServer):
    """Forwards AWS API calls to moto and counts them. moto on 127.0.0.1:5100 is shared with other runs
    (and may log elsewhere), so its log cannot say which calls were ours."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.times: list[float] = []  # time.time() of each AWS API call (moto-api excluded)
        self.lock = threading.Lock()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CountingProxy

    def _forward(self) -> None:
        start = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream = http.client.HTTPConnection(*MOTO, timeout=300)
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        upstream.close()
        if not self.path.startswith("/moto-api"):
            with self.server.lock:
                self.server.times.append(start)
        self.send_response(answer.status, answer.reason)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                self.send_header(key, value)
        length_out = answer.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
        self.send_header("Content-Length", length_out)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    def log_message(self, *_: object) -> None:
        pass


def changed(run: subprocess.CompletedProcess[str]) -> int:
    return sum(int(n) for n in re.findall(r"\schanged=(\d+)", run.stdout))


STAGES_CALLBACK = '''
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_stages
type: aggregate
short_description: task start times and changed results per role, for bench/run.py
description: [Task start times and changed results per role, for bench/run.py.]
"""


def _role(task):
    return task._role.get_name(include_role_fqcn=False) if task._role else ""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_stages"
    CALLBACK_NEEDS_ENABLED = True

    def _write(self, **item):
        with open(os.environ["BENCH_STAGES_LOG"], "a") as out:
            out.write(json.dumps(item) + "\\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write(t=time.time(), event="task", role=_role(task), name=task.name)

    v2_playbook_on_handler_task_start = v2_playbook_on_task_start

    def v2_runner_on_ok(self, result):
        self._write(t=time.time(), event="ok", role=_role(result._task), changed=bool(result._result.get("changed")))

    def v2_playbook_on_stats(self, stats):
        self._write(t=time.time(), event="end", role="")
'''


def stage_log(name: str) -> tuple[Path, dict[str, str]]:
    """A fresh log for the bench_stages callback, and the environment that makes ansible-playbook write it."""
    plugins = WORK / "callback_plugins"
    plugins.mkdir(parents=True, exist_ok=True)
    (plugins / "bench_stages.py").write_text(STAGES_CALLBACK)
    log = WORK / f"{name}.jsonl"
    log.unlink(missing_ok=True)
    env = {
        "ANSIBLE_CALLBACK_PLUGINS": str(plugins),
        "ANSIBLE_CALLBACKS_ENABLED": "bench_stages",
        "BENCH_STAGES_LOG": str(log),
    }
    return log, env


def read_log(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def stage_breakdown(events: list[dict[str, object]], calls: list[float]) -> dict[str, tuple[float, int, int]]:
    """Per role: seconds of its tasks, AWS API calls made while they ran, results that changed something.
    One host, tasks run one after another: a call belongs to the task that started last before it."""
    starts = [e for e in events if e["event"] in ("task", "end")]
    out: dict[str, list[float]] = {}
    for here, following in itertools.pairwise(starts):
        begin, finish = float(here["t"]), float(following["t"])  # type: ignore[arg-type]
        entry = out.setdefault(str(here["role"]), [0.0, 0, 0])
        entry[0] += finish - begin
        entry[1] += sum(1 for t in calls if begin <= t < finish)
    for e in events:
        if e["event"] == "ok" and e.get("changed"):
            out.setdefault(str(e["role"]), [0.0, 0, 0])[2] += 1
    return {role: (v[0], int(v[1]), int(v[2])) for role, v in out.items()}


def bench_converge(_: int) -> list[Row]:
    """site.yml's AWS stages after a teardown (first converge), then again (no-op converge), each pass one run.
    The stages cannot run as separate playbooks: database and service read ecspress_network, a fact the
    network role sets in the same play. Per stage: time of its tasks, AWS calls while they ran, changed."""
    playbook("playbooks/teardown.yml", check=False)
    stages = ["network", "registry", "database", "service"]
    tags = "network,registry,database,image,service"  # service deploys the image's digest: image reuses it
    proxy = CountingProxy()
    passes: list[tuple[float, int, int, dict[str, tuple[float, int, int]]]] = []
    try:
        for number in (1, 2):
            log, env = stage_log(f"converge-{number}")
            before = len(proxy.times)
            start = time.perf_counter()
            run = playbook(
                "site.yml",
                "--tags",
                tags,
                "-e",
                f"ecspress_aws_endpoint_url={proxy.url}",
                env=env,
            )
            seconds = time.perf_counter() - start
            events = read_log(log)
            calls = proxy.times[before:]
            passes.append((seconds, len(calls), changed(run), stage_breakdown(events, calls)))
    finally:
        proxy.shutdown()
        proxy.server_close()
    (first_s, first_calls, first_changed, first), (second_s, second_calls, second_changed, second) = passes
    rows = []
    for stage in stages:
        rows.append(
            {
                "figure": f"no-op converge: {stage} (s / API calls)",
                "ecspress": f"{second[stage][0]:.1f} s / {second[stage][1]}, changed={second[stage][2]}",
                "peer": f"first {first[stage][0]:.1f} s / {first[stage][1]}, changed={first[stage][2]}",
                "ratio": ratio(second[stage][0], first[stage][0]),
                "target": "reported (per role)",
                "met": "—",
            }
        )
    rows.append(
        {
            "figure": f"no-op converge: whole run --tags {tags} (s / API calls)",
            "ecspress": f"{second_s:.1f} s / {second_calls}, changed={second_changed}",
            "peer": f"first {first_s:.1f} s / {first_calls}, changed={first_changed}",
            "ratio": ratio(second_s, first_s),
            "target": "changed=0, ≤ 0.40x",
            "met": verdict(second_changed == 0 and second_s <= 0.40 * first_s),
        }
    )
    return rows


def home_page(port: int) -> None:
    """The home page itself (200, not a redirect to the site URL), with the Host header of the site URL."""
    for _ in range(60):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/", headers={"Host": f"127.0.0.1:{SITE_PORT}"})
            answer = connection.getresponse()
            answer.read()
            if answer.status == 200:
                return
        except OSError:
            pass
        time.sleep(1)
    raise OSError(f"127.0.0.1:{port}/ does not answer 200")


def wrk(url_port: int) -> tuple[float, float]:
    """(requests/s, p99 latency in ms) of the home page."""
    # Both containers serve the same site, installed as http://127.0.0.1:SITE_PORT/: any other Host is
    # answered with a redirect, which would measure redirects, not pages.
    out = sh(
        "wrk",
        "-t2",
        "-c16",
        "-d10s",
        "--timeout",
        "5s",
        "--latency",
        "-H",
        f"Host: 127.0.0.1:{SITE_PORT}",
        f"http://127.0.0.1:{url_port}/",
    ).stdout
    # Timeouts only mark slow answers (wrk still counts them as requests); anything else is a failure.
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+)", out)
    if "Non-2xx or 3xx responses" in out or (errors and any(int(n) for n in errors.groups())):
        raise OSError(f"wrk on :{url_port}: " + " ".join(out.split()[-12:]))
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return float(line.split()[1]), (float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan"))


PHP_OPCACHE = (
    "PHP_INI_SCAN_DIR=/etc/php/8.4/apache2/conf.d php -c /etc/php/8.4/apache2/php.ini "
    "-r 'echo (int) ini_get(\"opcache.enable\");'"
)


def bench_opcache(repeat: int) -> list[Row]:
    playbook("site.yml")
    image = sh("docker", "inspect", "--format", "{{.Config.Image}}", f"{NAME}-wordpress").stdout.strip()
    off = ROOT / "bench/.work/opcache-off.ini"
    off.parent.mkdir(parents=True, exist_ok=True)
    off.write_text("opcache.enable=0\n")
    inspect = json.loads(sh("docker", "inspect", f"{NAME}-wordpress").stdout)[0]
    sh("docker", "rm", "-f", f"{NAME}-nocache", check=False)
    env = [arg for item in inspect["Config"]["Env"] if item.startswith("WORDPRESS_") for arg in ("-e", item)]
    mounts = [
        arg for m in inspect["Mounts"] if m["Type"] == "bind" for arg in ("-v", f"{m['Source']}:{m['Destination']}:ro")
    ]
    sh(
        "docker",
        "run",
        "-d",
        "--name",
        f"{NAME}-nocache",
        "--network",
        f"{NAME}-net",
        "-p",
        f"127.0.0.1:{NOCACHE_PORT}:80",
        "-v",
        f"{off}:/etc/php/8.4/apache2/conf.d/99-opcache-off.ini:ro",
        *env,
        *mounts,
        image,
    )
    try:
        home_page(SITE_PORT)
        home_page(NOCACHE_PORT)
        enabled = sh("docker", "exec", f"{NAME}-nocache", "sh", "-c", PHP_OPCACHE).stdout.strip()
        if enabled != "0":
            raise OSError(f"OPcache still enabled in {NAME}-nocache ({enabled!r})")
        wrk(SITE_PORT), wrk(NOCACHE_PORT)  # warm-up, not counted: OPcache filled
        pairs = [(wrk(SITE_PORT), wrk(NOCACHE_PORT)) for _ in range(repeat)]  # interleaved: same load
        on = statistics.median(pair[0][0] for pair in pairs)
        on_p99 = statistics.median(pair[0][1] for pair in pairs)
        without = statistics.median(pair[1][0] for pair in pairs)
    finally:
        sh("docker", "rm", "-f", f"{NAME}-nocache", check=False)
    return [
        {
            "figure": "home page req/s (p99 ms), OPcache as configured",
            "ecspress": f"{on:.0f} (p99 {on_p99:.0f})",
            "peer": f"OPcache off {without:.0f}",
            "ratio": ratio(on, without),
            "target": "reported (the Dockerfile-built peer serves no site yet)",
            "met": "—",
        }
    ]


def bench_up(repeat: int) -> list[Row]:
    # The bench inventory: `make up` as is would converge the ecspress-local site, which is not ours.
    up = ("make", "-C", str(ROOT), "up", f"INVENTORY={bench_inventory()}")
    sh(*up)  # warm: the site exists before the timed runs
    seconds = median_of(repeat, lambda: sh(*up))
    return [
        {
            "figure": "make up, warm machine (median s)",
            "ecspress": f"{seconds:.1f}",
            "peer": "—",
            "ratio": "—",
            "target": "≤ 30 s",
            "met": verdict(seconds <= 30),
        }
    ]


FIGURES: dict[str, Callable[[int], list[Row]]] = {
    "rollout": bench_rollout,
    "build": bench_build,
    "change": bench_change,
    "rebuild": bench_rebuild,
    "size": bench_size,
    "converge": bench_converge,
    "opcache": bench_opcache,
    "up": bench_up,
}


def versions() -> str:
    docker = sh("docker", "version", "--format", "{{.Server.Version}}", check=False).stdout.strip()
    ansible = sh(str(ROOT / ".venv/bin/ansible"), "--version", check=False).stdout.splitlines()[0]
    return f"Python {platform.python_version()}, {ansible}, Docker engine {docker}"


def table(rows: list[Row]) -> str:
    header = "| figure | ecspress | peer (same run) | ratio | target | met |\n|---|---|---|---|---|---|\n"
    return header + "".join(
        f"| {r['figure']} | {r['ecspress']} | {r['peer']} | {r['ratio']} | {r['target']} | {r.get('met', '—')} |\n"
        for r in rows
    )


def clean_up() -> None:
    """Remove what the bench started: its site (local containers, moto resources), then any other NAME-* container."""
    playbook("playbooks/teardown.yml", check=False)
    names = sh("docker", "ps", "-aq", "--filter", f"name=^{NAME}-", check=False).stdout.split()
    if names:
        sh("docker", "rm", "-f", *names, check=False)


def failure(error: Exception) -> str:
    """The line that says why: Ansible prints its errors on stdout."""
    output = (getattr(error, "stdout", "") or "") + "\n" + (getattr(error, "stderr", "") or "")
    reasons = [line for line in output.splitlines() if line.startswith(("[ERROR]", "fatal:", "ERROR", "Error"))]
    return reasons[-1] if reasons else (getattr(error, "stderr", "") or str(error))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(FIGURES))
    parser.add_argument("--note", action="append", default=[], help="a line for the notes under the table")
    args = parser.parse_args()
    load_before = os.getloadavg()
    rows: list[Row] = []
    for name in args.only.split(","):
        try:
            rows += FIGURES[name](args.repeat)
        except (subprocess.CalledProcessError, StopIteration, KeyError, OSError) as error:
            detail = failure(error)
            rows.append(
                {
                    "figure": name,
                    "ecspress": "not measured",
                    "peer": detail.strip()[-120:].replace("|", "/"),
                    "ratio": "—",
                    "target": "—",
                    "met": "—",
                }
            )
    if {"converge", "opcache", "up"} & set(args.only.split(",")):
        clean_up()
    load_after = os.getloadavg()
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"# ecspress benchmarks\n\n{stamp}, {os.cpu_count()} cores, {versions()}, median of {args.repeat}.\n\n"
    text += table(rows)
    notes = [
        f"Load average (1 min) {load_before[0]:.1f} at the start, {load_after[0]:.1f} at the end.",
        *args.note,
    ]
    text += "\nNotes:\n\n" + "".join(f"- {note}\n" for note in notes)
    print(text)
    (ROOT / "bench/results.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
