"""ecspress.progress, exactly: stages, counts, failure lines and censoring rendered from ansible-runner events."""

from __future__ import annotations

import io
import time
from itertools import pairwise
from typing import Any

import pytest

from ecspress.progress import (
    CENSORED_PREFIX,
    NO_LOG_HIDDEN,
    SPINNER,
    STAGE_OF_ROLE,
    Failure,
    Progress,
    Stage,
    censor_stdout,
    failure_message,
    is_censored,
    role_stage,
    stage_of,
)

HOST = "web-1"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def start(task: str, role: str | None = None, play: str = "Site") -> dict[str, Any]:
    return {"event": "playbook_on_task_start", "event_data": {"task": task, "role": role, "play": play}}


def event(kind: str, task: str, role: str | None, res: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    data = {"task": task, "role": role, "play": "Site", "host": HOST, "res": res or {}, **extra}
    return {"event": kind, "event_data": data, "stdout": f"{kind} output"}


def test_stage_names() -> None:
    assert STAGE_OF_ROLE == {
        "network": "network",
        "registry": "registry",
        "database": "database",
        "image_pipeline": "image",
        "wordpress_image": "image",
        "service": "service",
        "ecs_deploy": "deploy",
        "local_run": "local",
    }
    assert stage_of({"role": "ecspress.wordpress.ecs_deploy", "play": "Site"}) == "deploy"
    assert stage_of({"role": "a.b.custom", "play": "Site"}) == "custom"
    assert stage_of({"role": "", "play": "Tear down"}) == "Tear down"
    assert stage_of({"role": None, "play": None}) == "play"
    checks = {"role": "ecspress.wordpress.service", "play": "Site", "task_path": "/r/service/tasks/validate.yml:12"}
    assert stage_of(checks) == "preflight"  # site.yml checks every stage's input before the first stage
    assert stage_of({**checks, "task_path": "/r/service/tasks/present.yml:3"}) == "service"


def test_a_shared_entry_point_stays_in_the_stage_that_called_it() -> None:
    """The image stage's smoke test runs local_run's wordpress_site: its tasks are the image stage's, not `local`."""
    progress = Progress(out=io.StringIO(), tty=False)
    smoke = {"role": "ecspress.wordpress.local_run", "task_path": "/c/roles/local_run/tasks/wordpress_site.yml:40"}
    for data in (
        {"role": "ecspress.wordpress.image_pipeline", "task_path": "/c/roles/image_pipeline/tasks/build.yml:9"},
        smoke,
        {"role": "ecspress.wordpress.image_pipeline", "task_path": "/c/roles/image_pipeline/tasks/tag.yml:2"},
        {"role": "ecspress.wordpress.local_run", "task_path": "/c/roles/local_run/tasks/present.yml:2"},
        smoke,
    ):
        progress.handle({"event": "playbook_on_task_start", "event_data": data})
    assert [stage.name for stage in progress.stages] == ["image", "local"]
    assert stage_of(smoke) == "" and role_stage(smoke) == "local"


@pytest.mark.parametrize(
    ("res", "censored"),
    [
        ({"censored": "hidden"}, True),
        ({"results": [{"ok": 1}, {"censored": "hidden"}]}, True),
        ({"results": ["censored"]}, False),
        ({"results": [{"ok": 1}]}, False),
        ({"results": None, "msg": "censored"}, False),
        ({}, False),
    ],
)
def test_is_censored(res: dict[str, Any], censored: bool) -> None:
    assert is_censored(res) is censored


@pytest.mark.parametrize(
    ("kind", "stdout"),
    [
        ("runner_on_failed", f"fatal: [{HOST}]: FAILED! => {NO_LOG_HIDDEN}"),
        ("runner_item_on_failed", f"failed: [{HOST}] => {NO_LOG_HIDDEN}"),
        ("runner_on_unreachable", f"fatal: [{HOST}]: UNREACHABLE! => {NO_LOG_HIDDEN}"),
        ("runner_on_ok", f"ok: [{HOST}] => {NO_LOG_HIDDEN}"),
        ("runner_item_on_ok", f"ok: [{HOST}] => {NO_LOG_HIDDEN}"),
        ("runner_on_start", f"{HOST}: {NO_LOG_HIDDEN}"),
    ],
)
def test_censored_stdout_is_replaced(kind: str, stdout: str) -> None:
    hidden = event(kind, "t", None, {"censored": "x"})
    hidden["stdout"] = "[ERROR]: Task failed: s3cr3t"
    censor_stdout(hidden)
    assert hidden["stdout"] == stdout
    assert NO_LOG_HIDDEN == "(output hidden by no_log)" and len(CENSORED_PREFIX) == 5


def test_uncensored_or_empty_stdout_is_kept() -> None:
    plain = event("runner_on_ok", "t", None, {"msg": "fine"})
    censor_stdout(plain)
    assert plain["stdout"] == "runner_on_ok output"
    empty = event("runner_on_failed", "t", None, {"censored": "x"})
    empty["stdout"] = ""
    censor_stdout(empty)
    assert empty["stdout"] == ""
    no_host = {"event": "runner_on_failed", "event_data": {"res": {"censored": "x"}}, "stdout": "secret"}
    censor_stdout(no_host)
    assert no_host["stdout"] == f"fatal: [?]: FAILED! => {NO_LOG_HIDDEN}"
    no_data: dict[str, Any] = {"event": "runner_on_failed", "stdout": "x"}
    censor_stdout(no_data)
    assert no_data["stdout"] == "x"


@pytest.mark.parametrize(
    ("res", "message"),
    [
        ({"censored": "x", "msg": "secret"}, NO_LOG_HIDDEN),
        ({"results": [{"ok": True}, {"censored": "x"}], "msg": "One or more items failed"}, NO_LOG_HIDDEN),
        ({"results": [{"msg": "fine"}, {"failed": True, "msg": "item two broke"}], "msg": "items"}, "item two broke"),
        ({"results": [{"unreachable": True, "msg": "gone"}], "msg": "x"}, "gone"),
        ({"results": ["not a mapping"], "msg": "plain"}, "plain"),
        ({"results": [{"msg": "fine"}], "msg": "plain"}, "plain"),
        ({"msg": "  several\n  lines  "}, "several lines"),
        ({"msg": "MODULE FAILURE\nSee stdout/stderr", "module_stderr": "a\n\nb\nc\nd\n"}, "MODULE FAILURE: b | c | d"),
        ({"msg": "MODULE FAILURE", "stderr": "boom"}, "MODULE FAILURE: boom"),
        ({"msg": "MODULE FAILURE", "module_stdout": "out1\nout2"}, "MODULE FAILURE: out1 | out2"),
        ({"msg": "MODULE FAILURE", "stdout": "last"}, "MODULE FAILURE: last"),
        ({"msg": "MODULE FAILURE"}, "MODULE FAILURE"),
        ({"module_stderr": "Traceback\nKeyError: x"}, "Traceback | KeyError: x"),
        ({}, "failed without a message"),
        (
            {
                "msg": "Task failed: Finalization of task args for 'ansible.builtin.set_fact' failed: Error while "
                "resolving value for '__service_rollback': The filter plugin 'ecspress.wordpress.rollback_target' "
                "failed: the service runs x:1, the family's first revision: nothing precedes it"
            },
            "the service runs x:1, the family's first revision: nothing precedes it",
        ),
        (
            {"msg": "The filter plugin 'a.b.c' failed: kept, not a task's templating chain"},
            "The filter plugin 'a.b.c' failed: kept, not a task's templating chain",
        ),
    ],
)
def test_failure_message(res: dict[str, Any], message: str) -> None:
    assert failure_message(res) == message


def test_long_messages_are_cut_to_400_characters() -> None:
    assert failure_message({"msg": "x" * 400}) == "x" * 400
    assert failure_message({"msg": "x" * 401}) == "x" * 399 + "…"


def test_stage_and_failure_render() -> None:
    stage = Stage("network", 0.0, ok=3, changed=1)
    assert stage.counts() == "ok=3 changed=1"
    assert stage.render("✔", 2.25) == "✔ network     2.2s  ok=3 changed=1"
    stage.failed = 2
    assert stage.render("✘", 12.0) == "✘ network    12.0s  ok=3 changed=1 failed=2"
    assert Stage("x", 1.0).skipped == 0 and Stage("x", 1.0).failures == []
    failure = Failure("image", "Build", HOST, "no space left")
    assert failure.render() == f'✘ image: task "Build" on {HOST}: no space left'


def run(events: list[dict[str, Any]], run_failed: bool, **kwargs: Any) -> tuple[str, Progress, list[Failure]]:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, tty=False, clock=clock, **kwargs)
    for item in events:
        clock.now += 1.5
        assert progress(item) is True
    failures = progress.close(run_failed)
    return out.getvalue(), progress, failures


def test_one_line_per_stage_with_counts() -> None:
    text, progress, failures = run(
        [
            start("VPC", "network"),
            event("runner_on_ok", "VPC", "network", {"changed": True}),
            start("Subnets", "network"),
            event("runner_on_ok", "Subnets", "network", {"changed": False}),
            event("runner_on_skipped", "Subnets", "network"),
            start("Repository", "ecspress.wordpress.registry"),
            event("runner_on_ok", "Repository", "registry"),
        ],
        run_failed=False,
    )
    assert text == "✔ network     7.5s  ok=2 changed=1\n✔ registry    1.5s  ok=1 changed=0\n"
    assert failures == [] and [stage.skipped for stage in progress.stages] == [1, 0]


def test_a_result_before_any_task_start_opens_its_stage() -> None:
    text, _, _ = run([event("runner_on_ok", "Ping", None)], run_failed=False)
    assert text == "✔ Site        0.0s  ok=1 changed=0\n"


def test_failures_are_reported_only_when_the_run_failed() -> None:
    events = [
        start("Build", "image_pipeline"),
        event("runner_on_failed", "Build", "image_pipeline", {"msg": "no space left"}),
        {"event": "playbook_on_stats", "event_data": {"failures": {HOST: 1}, "dark": {}, "artifact_data": {"a": 1}}},
    ]
    text, progress, failures = run(events, run_failed=True)
    assert failures == [Failure("image", "Build", HOST, "no space left")]
    assert text == f'✘ image       3.0s  ok=0 changed=0 failed=1\n✘ image: task "Build" on {HOST}: no space left\n'
    assert progress.failed_hosts == {HOST} and progress.custom_stats == {"a": 1}
    text, _, failures = run(events, run_failed=False)
    assert failures == [] and text == "✔ image       3.0s  ok=0 changed=0 failed=1\n"


def test_unreachable_hosts_count_as_failed_and_unnamed_tasks_are_marked() -> None:
    unreachable = {"event": "runner_on_unreachable", "event_data": {"role": "network", "res": {"msg": "no route"}}}
    _, _, failures = run([unreachable], run_failed=True)
    assert failures == [Failure("network", "?", "?", "no route")]


def test_ignored_errors_count_as_ok_and_rescued_hosts_are_not_reported() -> None:
    events = [
        start("Probe", "service"),
        event("runner_on_failed", "Probe", "service", {"msg": "ignored"}, ignore_errors=True),
        event("runner_on_failed", "Wait", "service", {"msg": "rescued"}),
        {"event": "playbook_on_stats", "event_data": {"failures": {}, "dark": {"other": 1}}},
    ]
    text, progress, failures = run(events, run_failed=True)
    assert failures == [] and progress.failed_hosts == {"other"}
    assert text == "✘ service     4.5s  ok=1 changed=0 failed=1\n"


def test_without_stats_the_last_failure_of_each_host_is_reported() -> None:
    events = [
        start("One", "service"),
        event("runner_on_failed", "One", "service", {"msg": "first"}),
        start("Two", "ecs_deploy"),
        event("runner_on_failed", "Two", "ecs_deploy", {"msg": "second"}),
    ]
    _, _, failures = run(events, run_failed=True)
    assert failures == [Failure("deploy", "Two", HOST, "second")]


def test_debug_messages_of_plays_and_check_previews_of_roles() -> None:
    events = [
        event("runner_on_ok", "URL", None, {"msg": "WordPress: http://x/"}, task_action="ansible.legacy.debug"),
        event("runner_on_ok", "Preview", "network", {"changed": True, "msg": ["VPC", "IGW"]}, task_action="debug"),
        event("runner_on_ok", "Preview", "registry", {"changed": True, "msg": "repo"}, task_action="debug"),
        event("runner_on_ok", "Detail", "network", {"changed": False, "msg": "quiet"}, task_action="debug"),
        event("runner_on_ok", "Secret", None, {"censored": "x", "msg": "s3cr3t"}, task_action="debug"),
        event("runner_on_ok", "Empty", None, {"msg": ""}, task_action="debug"),
        event("runner_on_ok", "Not debug", None, {"msg": "set_fact says"}, task_action="set_fact"),
    ]
    _, progress, _ = run(events, run_failed=False)
    assert progress.messages == [
        "WordPress: http://x/",
        "network would create: VPC; IGW",
        "registry would create: repo",
    ]


def test_echo_prints_ansible_output_and_never_redraws() -> None:
    text, progress, _ = run([start("VPC", "network"), event("runner_on_ok", "VPC", "network")], False, echo=True)
    assert text == "runner_on_ok output\n✔ network     1.5s  ok=1 changed=0\n"
    assert progress.tty is False and progress.echo is True


def test_tty_redraws_the_current_stage_in_place() -> None:
    out, clock = io.StringIO(), Clock()
    progress = Progress(out, tty=True, clock=clock, tick=60)
    assert progress.tick == 60 and progress.clock is clock
    progress(start("VPC", "network"))
    clock.now += 2
    progress(event("runner_on_ok", "VPC", "network", {"changed": True}))
    progress.close(run_failed=False)
    clear = "\r\x1b[2K"
    assert out.getvalue() == (
        f"{clear}⠋ network     0.0s  ok=0 changed=0"
        f"{clear}⠋ network     2.0s  ok=1 changed=1"
        f"{clear}✔ network     2.0s  ok=1 changed=1\n"
    )


def test_the_spinner_turns_while_a_stage_runs() -> None:
    out = io.StringIO()
    progress = Progress(out, tty=True, clock=Clock(), tick=0.001)
    progress(start("VPC", "network"))
    deadline = time.monotonic() + 5
    while out.getvalue().count("\r") < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    progress.close(run_failed=False)
    frames = [part[0] for part in out.getvalue().split("\r\x1b[2K") if part]
    assert frames[-1] == "✔" and all(frame in SPINNER for frame in frames[:-1])
    turns = [(SPINNER.index(after) - SPINNER.index(before)) % len(SPINNER) for before, after in pairwise(frames[:-1])]
    assert len(turns) >= 3 and set(turns) <= {0, 1} and turns.count(1) >= 2, frames
    assert progress._ticker is not None and progress._ticker.daemon and not progress._ticker.is_alive()


def test_no_ticker_without_a_tty() -> None:
    progress = Progress(io.StringIO(), tty=False)
    assert progress._ticker is None and progress.clock is time.monotonic and progress.tick == 0.2
    assert progress.failures == [] and progress.custom_stats == {} and progress.messages == []
    assert progress.close(run_failed=True) == []


def test_every_count_adds_up_and_only_failed_stages_of_a_failed_run_are_marked() -> None:
    events = [
        start("Probe", "service"),
        event("runner_on_skipped", "Probe", "service"),
        event("runner_on_skipped", "Probe", "service"),
        event("runner_on_failed", "Probe", "service", {"msg": "ignored"}, ignore_errors=True),
        event("runner_on_failed", "Probe", "service", {"msg": "ignored"}, ignore_errors=True),
        event("runner_on_failed", "Probe", "service", {"msg": "rescued"}),
        event("runner_on_failed", "Probe", "service", {"msg": "rescued again"}),
        start("Deploy", "ecs_deploy"),
        event("runner_on_ok", "Deploy", "ecs_deploy"),
        start("Local", "local_run"),
        event("runner_on_failed", "Local", "local_run", {"msg": "broke"}),
    ]
    text, progress, failures = run(events, run_failed=True)
    assert [(stage.ok, stage.skipped, stage.failed) for stage in progress.stages] == [(2, 2, 2), (1, 0, 0), (0, 0, 1)]
    assert text.splitlines() == [
        "✔ service    10.5s  ok=2 changed=0 failed=2",
        "✔ deploy      3.0s  ok=1 changed=0",
        "✘ local       1.5s  ok=0 changed=0 failed=1",
        f'✘ local: task "Local" on {HOST}: broke',
    ]
    assert failures == [Failure("local", "Local", HOST, "broke")]


def test_a_failed_run_marks_only_stages_with_failures() -> None:
    events = [
        start("Build", "image_pipeline"),
        event("runner_on_failed", "Build", "image_pipeline", {"msg": "broke"}),
        start("Cleanup", "local_run"),
        event("runner_on_ok", "Cleanup", "local_run"),
    ]
    text, _, _ = run(events, run_failed=True)
    assert text.splitlines()[:2] == [
        "✔ image       3.0s  ok=0 changed=0 failed=1",
        "✔ local       1.5s  ok=1 changed=0",
    ]
