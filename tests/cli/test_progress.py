"""Progress rendering from synthetic ansible-runner events (no Ansible run)."""

from __future__ import annotations

import io
from typing import Any

import pytest

from ecspress.progress import NO_LOG_HIDDEN, Progress, failure_message, stage_of

SECRET = "s3cr3t-unit-password"
CENSORED = {"censored": "the output has been hidden due to the fact that 'no_log: true' was specified for this result"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def task_start(task: str, role: str | None = None, play: str = "WordPress on ECS Fargate") -> dict[str, Any]:
    return {"event": "playbook_on_task_start", "event_data": {"task": task, "role": role, "play": play}}


def result(kind: str, task: str, role: str | None, res: dict[str, Any], **extra: Any) -> dict[str, Any]:
    data = {"task": task, "role": role, "play": "WordPress on ECS Fargate", "host": "ecspress-local", "res": res}
    return {"event": kind, "event_data": {**data, **extra}, "stdout": f"{kind}: {res}"}


def stats(failed: bool, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "event": "playbook_on_stats",
        "event_data": {"failures": {"ecspress-local": 1} if failed else {}, "dark": {}, "artifact_data": custom or {}},
    }


@pytest.mark.parametrize(
    ("data", "stage"),
    [
        ({"role": "network"}, "network"),
        ({"role": "ecspress.wordpress.image_pipeline"}, "image"),
        ({"role": "wordpress_image"}, "image"),
        ({"role": "ecs_deploy"}, "deploy"),
        ({"role": "local_run"}, "local"),
        ({"role": "service"}, "service"),
        ({"role": "custom_role"}, "custom_role"),
        ({"role": None, "play": "Tear down"}, "Tear down"),
        ({}, "play"),
    ],
)
def test_stage_of_maps_roles_and_falls_back_to_the_play(data: dict[str, Any], stage: str) -> None:
    assert stage_of(data) == stage


def test_one_line_per_stage_with_counts_and_time_when_not_a_tty() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, tty=False, clock=clock)
    progress(task_start("Create the VPC", "network"))
    progress(result("runner_on_ok", "Create the VPC", "network", {"changed": True}))
    clock.now += 12.34
    progress(result("runner_on_ok", "Subnets", "network", {"changed": False}))
    progress(task_start("Repository", "registry"))
    progress(result("runner_on_skipped", "Repository", "registry", {}))
    clock.now += 1
    progress(stats(failed=False, custom={"ecspress_status": {"exists": False}}))
    assert progress.close(run_failed=False) == []
    assert out.getvalue().splitlines() == [
        "✔ network    12.3s  ok=2 changed=1",
        "✔ registry    1.0s  ok=0 changed=0",
    ]
    assert progress.custom_stats == {"ecspress_status": {"exists": False}}


def test_failure_names_stage_task_host_and_message() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, clock=Clock())
    progress(task_start("Push the image", "image_pipeline"))
    progress(result("runner_on_failed", "Push the image", "image_pipeline", {"msg": "registry 127.0.0.1:5000 refused"}))
    progress(stats(failed=True))
    failures = progress.close(run_failed=True)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("✘ image") and "failed=1" in lines[0]
    assert lines[1] == '✘ image: task "Push the image" on ecspress-local: registry 127.0.0.1:5000 refused'
    assert [failure.task for failure in failures] == ["Push the image"]


def test_no_log_failure_never_leaks_and_event_stdout_is_censored() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, clock=Clock(), echo=True)
    progress(task_start("Use the password", "database"))
    event = result("runner_on_failed", "Use the password", "database", dict(CENSORED))
    event["stdout"] = f"[ERROR]: Task failed: Action failed: the password is {SECRET}"
    progress(event)
    progress(stats(failed=True))
    progress.close(run_failed=True)
    assert SECRET not in out.getvalue()
    assert SECRET not in event["stdout"]
    assert f'✘ database: task "Use the password" on ecspress-local: {NO_LOG_HIDDEN}' in out.getvalue()


def test_ignored_and_rescued_failures_are_not_reported() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=False, clock=Clock())
    progress(task_start("Probe", "network"))
    progress(result("runner_on_failed", "Probe", "network", {"msg": "ignored"}, ignore_errors=True))
    progress(result("runner_on_failed", "Rescued", "network", {"msg": "rescued later"}))
    progress(task_start("Next", "registry"))
    progress(result("runner_on_ok", "Next", "registry", {}))
    progress(stats(failed=False))
    assert progress.close(run_failed=False) == []
    assert "✘" not in out.getvalue()


@pytest.mark.parametrize(
    ("res", "message"),
    [
        ({"msg": "plain"}, "plain"),
        ({"stderr": "line 1\nline 2\n\nboom"}, "line 1 | line 2 | boom"),
        ({"stdout": "only stdout"}, "only stdout"),
        (
            {"msg": "MODULE FAILURE\nSee stdout/stderr", "module_stderr": "Traceback\nKeyError: 'x'"},
            "MODULE FAILURE: Traceback | KeyError: 'x'",
        ),
        (
            {"msg": "One or more items failed", "results": [{"failed": False}, {"failed": True, "msg": "item 2"}]},
            "item 2",
        ),
        ({"msg": "One or more items failed", "results": [dict(CENSORED)]}, NO_LOG_HIDDEN),
        ({}, "failed without a message"),
    ],
)
def test_failure_message(res: dict[str, Any], message: str) -> None:
    assert failure_message(res) == message


def test_tty_redraws_in_place_with_a_spinner() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, tty=True, clock=clock, tick=0.01)
    progress(task_start("VPC", "network"))
    clock.now += 2
    progress(result("runner_on_ok", "VPC", "network", {"changed": True}))
    progress.close(run_failed=False)
    text = out.getvalue()
    assert "\r\x1b[2K" in text
    assert text.rstrip("\n").split("\r\x1b[2K")[-1] == "✔ network     2.0s  ok=1 changed=1"


def test_check_mode_previews_of_roles_are_kept_by_stage_other_role_debug_output_is_not() -> None:
    progress = Progress(io.StringIO(), tty=False, clock=Clock())
    progress(task_start("What the network stage would create", "network"))
    preview = {"changed": True, "msg": ["VPC ecspress-dev 10.42.0.0/16", "internet gateway"]}
    progress(result("runner_on_ok", "What the network stage would create", "network", preview, task_action="debug"))
    detail = {"changed": False, "msg": "repo@sha256:abc (tag wp-1)"}
    progress(result("runner_on_ok", "Image by digest", "image_pipeline", detail, task_action="ansible.builtin.debug"))
    progress(
        result("runner_on_ok", "Where WordPress answers", None, {"msg": "WordPress: http://x/"}, task_action="debug")
    )
    progress.close(run_failed=False)
    assert progress.messages == [
        "network would create: VPC ecspress-dev 10.42.0.0/16; internet gateway",
        "WordPress: http://x/",
    ]
