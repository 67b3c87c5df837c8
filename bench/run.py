"""ecspress benchmarks: each figure next to its peer, measured in one run on this machine.

    .venv/bin/python bench/run.py [--repeat 3] [--only build,rebuild,size,rollout,converge,opcache,up]

Prints a table and writes bench/results.md (date, cores, versions). Nothing here passes or fails.
Load generation (wrk) targets 127.0.0.1 only, with bounded duration and connections.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / ".cache" / "collections")]

from tests.conftest import ansible_environment  # noqa: E402

NAME = "ecspress-bench"
PEER_TAG = "ecspress-bench/peer:latest"
Row = dict[str, str]


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


def playbook(path: str, *extra: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = ansible_environment()
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"
    return sh(
        str(ROOT / ".venv/bin/ansible-playbook"),
        "-i",
        str(ROOT / "inventories/local"),
        str(ROOT / path),
        "-e",
        f"ecspress_name={NAME}",
        *extra,
        env=env,
        check=check,
    )


def image_build(force: bool) -> subprocess.CompletedProcess[str]:
    extra = ["-e", "image_pipeline_smoke_test=false"] + (["-e", "image_pipeline_force_build=true"] if force else [])
    return playbook("playbooks/image.yml", *extra)


def peer_build(buildkit: bool, cache: bool) -> None:
    client = "/usr/bin/docker" if buildkit else "docker"
    args = [client, "build", "-q", "-t", PEER_TAG, "-f", str(ROOT / "bench/Dockerfile.peer")]
    args += [] if cache else ["--no-cache"]
    sh(*args, str(ROOT / "bench"), env={"DOCKER_BUILDKIT": "1" if buildkit else "0"})


def ratio(ours: float, peer: float) -> str:
    return f"{ours / peer:.2f}x" if peer else "n/a"


def bench_build(repeat: int) -> list[Row]:
    ours = median_of(repeat, lambda: image_build(force=True))
    legacy = median_of(repeat, lambda: peer_build(buildkit=False, cache=False))
    kit = median_of(repeat, lambda: peer_build(buildkit=True, cache=False))
    return [
        {
            "figure": "image build, cold (median s)",
            "ecspress": f"{ours:.1f}",
            "peer": f"legacy {legacy:.1f}",
            "ratio": ratio(ours, legacy),
            "target": "≤ 1.25x",
        },
        {
            "figure": "image build, cold (median s)",
            "ecspress": f"{ours:.1f}",
            "peer": f"BuildKit {kit:.1f}",
            "ratio": ratio(ours, kit),
            "target": "≤ 1.5x",
        },
    ]


def bench_rebuild(repeat: int) -> list[Row]:
    image_build(force=False)
    ours = median_of(repeat, lambda: image_build(force=False))
    peer_build(buildkit=False, cache=True)
    peer = median_of(repeat, lambda: peer_build(buildkit=False, cache=True))
    return [
        {
            "figure": "unchanged rebuild (median s)",
            "ecspress": f"{ours:.1f}",
            "peer": f"cached build {peer:.2f}",
            "ratio": ratio(ours, peer),
            "target": "≤ 5 s, no new image",
        }
    ]


def image_size(reference: str) -> int:
    return int(json.loads(sh("docker", "image", "inspect", reference).stdout)[0]["Size"])


def bench_size(_: int) -> list[Row]:
    image_build(force=False)
    ours = sh("docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"127.0.0.1:5000/{NAME}/wordpress").stdout
    reference = ours.split()[0]
    peer_build(buildkit=False, cache=True)
    mine, theirs = image_size(reference), image_size(PEER_TAG)
    return [
        {
            "figure": "image size (MB)",
            "ecspress": f"{mine / 1e6:.0f}",
            "peer": f"Dockerfile {theirs / 1e6:.0f}",
            "ratio": ratio(mine, theirs),
            "target": "≤ 0.85x",
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
            }
        )
    return rows


def moto_requests() -> int:
    log = ROOT / ".ecspress/local/moto.log"
    return sum(1 for line in log.read_text(errors="replace").splitlines() if '"POST /' in line or '"GET /' in line)


def bench_converge(_: int) -> list[Row]:
    playbook("playbooks/teardown.yml", check=False)
    stages = ["network", "registry", "database", "service"]
    first: dict[str, tuple[float, int]] = {}
    second: dict[str, tuple[float, int]] = {}
    playbook("site.yml", "--tags", "image")
    for runs in (first, second):
        for stage in stages:
            before = moto_requests()
            seconds = timed(lambda stage=stage: playbook("site.yml", "--tags", stage))
            runs[stage] = (seconds, moto_requests() - before)
    rows = []
    for stage in stages:
        rows.append(
            {
                "figure": f"no-op converge: {stage} (s / API calls)",
                "ecspress": f"{second[stage][0]:.1f} s / {second[stage][1]}",
                "peer": f"first {first[stage][0]:.1f} s / {first[stage][1]}",
                "ratio": ratio(second[stage][0], first[stage][0]),
                "target": "changed=0, ≤ 0.40x",
            }
        )
    return rows


def wrk(url_port: int) -> float:
    out = sh(
        "wrk",
        "-t2",
        "-c16",
        "-d10s",
        "--timeout",
        "5s",
        "-H",
        f"Host: 127.0.0.1:{url_port}",
        f"http://127.0.0.1:{url_port}/",
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
    return float(line.split()[1])


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
        "127.0.0.1:8089:80",
        "-v",
        f"{off}:/etc/php/8.4/apache2/conf.d/99-opcache-off.ini:ro",
        *env,
        *mounts,
        image,
    )
    time.sleep(3)
    try:
        on = statistics.median(wrk(8080) for _ in range(repeat))
        without = statistics.median(wrk(8089) for _ in range(repeat))
    finally:
        sh("docker", "rm", "-f", f"{NAME}-nocache", check=False)
    return [
        {
            "figure": "home page req/s, OPcache as configured",
            "ecspress": f"{on:.0f}",
            "peer": f"OPcache off {without:.0f}",
            "ratio": ratio(on, without),
            "target": "≥ 5x",
        }
    ]


def bench_up(repeat: int) -> list[Row]:
    seconds = median_of(repeat, lambda: sh("make", "-C", str(ROOT), "up"))
    return [
        {
            "figure": "make up, warm machine (median s)",
            "ecspress": f"{seconds:.1f}",
            "peer": "—",
            "ratio": "—",
            "target": "reported",
        }
    ]


FIGURES: dict[str, Callable[[int], list[Row]]] = {
    "rollout": bench_rollout,
    "build": bench_build,
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
    header = "| figure | ecspress | peer (same run) | ratio | target |\n|---|---|---|---|---|\n"
    return header + "".join(
        f"| {r['figure']} | {r['ecspress']} | {r['peer']} | {r['ratio']} | {r['target']} |\n" for r in rows
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", default=",".join(FIGURES))
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.only.split(","):
        try:
            rows += FIGURES[name](args.repeat)
        except (subprocess.CalledProcessError, StopIteration, KeyError, OSError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            rows.append(
                {
                    "figure": name,
                    "ecspress": "not measured",
                    "peer": detail.strip()[-120:].replace("|", "/"),
                    "ratio": "—",
                    "target": "—",
                }
            )
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = f"# ecspress benchmarks\n\n{stamp}, {os.cpu_count()} cores, {versions()}, median of {args.repeat}.\n\n"
    text += table(rows)
    print(text)
    (ROOT / "bench/results.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
