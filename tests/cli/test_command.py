"""`ecspress` driven as a user would: a subprocess of the installed command, its output and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ecspress.settings import project_root

HERE = Path(__file__).resolve().parent
ROOT = project_root()
ECSPRESS = str(Path(sys.executable).parent / "ecspress")
FIXTURE = str(HERE / "inventories" / "fixture")
ENVIRONMENTS = str(HERE / "inventories" / "environments")
LOCAL_EMPTY = str(HERE / "inventories" / "local-empty")
FIXTURE_SECRET = "s3cr3t-fixture-password-4711"


# Run artifacts and locks of these tests go to a folder of their own, never into the checkout's .ecspress/.
STATE = Path(tempfile.mkdtemp(prefix="ecspress-cli-state-"))


def ecspress(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environ = {key: value for key, value in os.environ.items() if not key.startswith("ECSPRESS_")}
    environ["ECSPRESS_STATE_DIR"] = str(STATE)
    return subprocess.run(
        [ECSPRESS, *args],
        env={**environ, **(env or {})},
        cwd=HERE,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def fixtures() -> dict[str, str]:
    return {"ECSPRESS_PLAYBOOK_DIR": str(HERE / "playbooks")}


def run_dir_of(output: str) -> Path:
    [line] = [line for line in output.splitlines() if line.startswith("run artifacts: ")]
    return Path(line.removeprefix("run artifacts: "))


@pytest.mark.parametrize("command", [[], ["up"], ["deploy"], ["rollback"], ["status"], ["down"], ["doctor"]])
def test_help_with_examples(command: list[str]) -> None:
    result = ecspress(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage: ecspress" in result.stdout
    assert "examples:" in result.stdout


@pytest.mark.parametrize("command", ["up", "deploy"])
def test_up_and_deploy_offer_a_check_preview(command: str) -> None:
    result = ecspress(command, "--help")
    assert result.returncode == 0, result.stderr
    assert "--check" in result.stdout and "change nothing" in " ".join(result.stdout.split())


def test_failing_run_names_task_host_and_message_and_exits_1() -> None:
    result = ecspress("up", "-i", FIXTURE, env=fixtures())
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        '✘ Fixture site: task "Push the image to the registry" on ecspress-fixture: '
        "registry 127.0.0.1:1 does not answer: connection refused"
    ) in result.stdout
    assert "PLAY RECAP" not in result.stdout  # progress lines, not Ansible's output
    run_dir = run_dir_of(result.stdout)
    assert run_dir.parent == STATE / "runs"
    assert list(run_dir.glob("artifacts/*/job_events/*.json"))


def test_no_log_failure_keeps_the_secret_out_of_output_and_artifacts() -> None:
    result = ecspress("deploy", "-v", "-i", FIXTURE, env=fixtures())
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert FIXTURE_SECRET not in output
    assert 'task "Use the database password" on ecspress-fixture: (output hidden by no_log)' in output
    for artifact in run_dir_of(result.stdout).rglob("*"):
        if artifact.is_file():
            assert FIXTURE_SECRET not in artifact.read_text(errors="replace"), artifact


def test_down_with_fixtures_passes_the_prod_confirmation() -> None:
    result = ecspress("down", "-i", ENVIRONMENTS, "--limit", "prod", "--yes", "--i-mean-prod", env=fixtures())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "→ teardown of ecspress-test-prod, confirm_prod=True" in result.stdout


def test_usage_errors_exit_2_with_one_line() -> None:
    for args, words in [
        (["up", "-i", "inventories/nowhere"], "does not exist"),
        (["up", "-i", str(ROOT / "inventories" / "aws")], "--limit"),
        (["down", "-i", FIXTURE], "--yes"),
        (["down", "-i", ENVIRONMENTS, "--limit", "prod", "--yes"], "--i-mean-prod"),
    ]:
        result = ecspress(*args, env=fixtures())
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


@pytest.mark.stack
def test_doctor_with_the_local_stack_up() -> None:
    result = ecspress("doctor")
    assert result.returncode == 0, result.stdout
    assert "✔ moto (AWS API)" in result.stdout and "✔ registry" in result.stdout


@pytest.mark.stack
def test_doctor_with_moto_unreachable_names_the_fix() -> None:
    result = ecspress("doctor", env={"ECSPRESS_MOTO_PORT": "9"})  # discard port: nothing listens
    assert result.returncode == 2
    assert "✘ moto (AWS API): nothing answers on http://127.0.0.1:9" in result.stdout
    assert "fix: start the local stack: `ecspress-local start`" in result.stdout


@pytest.mark.stack
def test_status_json_of_a_service_that_does_not_exist() -> None:
    result = ecspress("status", "--json", "-i", LOCAL_EMPTY)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    assert status["exists"] is False
    assert status["cluster"] == "ecspress-test-cli-nothing"
    assert status["url"] == "" and status["events"] == []


def test_a_second_run_on_the_same_environment_refuses_naming_the_holder() -> None:
    from ecspress.lock import RunLock

    with RunLock(STATE / "locks" / "fixture-all.lock", "ecspress up (test holder)"):
        result = ecspress("up", "-i", FIXTURE, env=fixtures())
    assert result.returncode == 2
    assert f"held by pid {os.getpid()}" in result.stderr and "ecspress up (test holder)" in result.stderr


def test_version() -> None:
    result = ecspress("--version")
    assert (result.returncode, result.stdout.strip()) == (0, "ecspress 0.1.0")


@pytest.mark.parametrize(
    ("state", "code"), [("completed", 0), ("in_progress", 0), ("rolled_back", 1), ("failed", 1), ("stalled", 1)]
)
def test_status_exits_1_when_the_rollout_failed_rolled_back_or_stalled(state: str, code: int) -> None:
    """A pipeline can gate on `ecspress status`: it still prints the status, and says with its exit code."""
    result = ecspress("status", "--json", "-i", FIXTURE, env={**fixtures(), "FIXTURE_ROLLOUT_STATE": state})
    assert result.returncode == code, result.stdout + result.stderr
    assert json.loads(result.stdout)["rollout_state"] == state


def test_any_environment_of_the_inventory_is_a_limit() -> None:
    """Not only dev and prod: staging is a group of this inventory."""
    result = ecspress("status", "--json", "-i", ENVIRONMENTS, "--limit", "staging", env=fixtures())
    assert result.returncode == 0, result.stdout + result.stderr
    unknown = ecspress("status", "-i", ENVIRONMENTS, "--limit", "qa", env=fixtures())
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"ecspress: inventory {ENVIRONMENTS} has no group 'qa' for --limit"
    several = ecspress("status", "-i", ENVIRONMENTS, env=fixtures())
    assert several.stderr.strip() == (
        f"ecspress: inventory {ENVIRONMENTS} holds several environments (dev, prod, staging): pick one with --limit"
    )


def test_a_run_that_fails_before_any_task_says_why() -> None:
    """A playbook Ansible cannot load: no task fails, so Ansible's own error is shown, not only "failed"."""
    result = ecspress("up", "-i", FIXTURE, env={"ECSPRESS_PLAYBOOK_DIR": str(HERE / "playbooks-broken")})
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    ended = lines.index(next(line for line in lines if line.startswith("✘ the run ended failed (rc ")))
    assert "not_a_module_anywhere" in lines[ended + 1], result.stdout
    assert lines[ended + 1].startswith("  [ERROR]"), result.stdout


def test_up_json_prints_only_the_result_on_stdout_even_when_the_run_fails() -> None:
    result = ecspress("up", "--json", "-i", FIXTURE, env=fixtures())
    assert result.returncode == 1, result.stdout + result.stderr
    document = json.loads(result.stdout)  # stdout is the JSON document only
    assert (document["ok"], document["exit_code"], document["check"]) == (False, 1, False)
    assert document["failures"] == [
        'Fixture site: task "Push the image to the registry" on ecspress-fixture: '
        "registry 127.0.0.1:1 does not answer: connection refused"
    ]
    assert (document["digest"], document["outcome"]) == ("", "")  # the fixture publishes no ecspress_result
    assert Path(document["run_artifacts"]).parent == STATE / "runs"
    assert "✘ Fixture site" in result.stderr  # the progress


@pytest.mark.parametrize(("to", "revision"), [([], "(previous)"), (["--to", "6"], "6")])
def test_rollback_passes_its_target_and_prints_the_result(to: list[str], revision: str) -> None:
    result = ecspress("rollback", "--json", *to, "-i", FIXTURE, env=fixtures())
    assert result.returncode == 0, result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert (document["task_definition_arn"], document["outcome"]) == (f"fixture-wordpress:{revision}", "completed")
