"""Argument and prerequisite errors exit 2 with one clear line, before anything runs."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ecspress import cli, commands
from ecspress.errors import UsageError
from ecspress.inventory import inventory_groups, resolve_inventory
from ecspress.runner import prune_runs
from ecspress.settings import project_root

HERE = Path(__file__).resolve().parent
ENVIRONMENTS = str(HERE / "inventories" / "environments")
FIXTURE = str(HERE / "inventories" / "fixture")


@pytest.fixture(autouse=True)
def no_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argument errors must be caught before any playbook or the local stack runs."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may run on an argument error")

    monkeypatch.setattr(commands, "run_playbook", refuse)
    monkeypatch.setattr(commands, "start_local_stack", refuse)


def exit_code_and_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("command", ["up", "deploy", "status", "down", "doctor"])
def test_missing_inventory(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [command, "-i", "inventories/nowhere", *(["--yes"] if command == "down" else [])]
    code, err = exit_code_and_error(argv, capsys)
    assert code == 2
    assert "inventory inventories/nowhere does not exist" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["up", "deploy", "status"])
def test_inventory_with_environments_needs_a_limit(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code_and_error([command, "-i", ENVIRONMENTS], capsys)
    assert code == 2
    assert "pick one with --limit" in err


def test_the_real_aws_inventory_needs_a_limit(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code_and_error(["up", "-i", str(project_root() / "inventories" / "aws")], capsys)
    assert (code, "dev, prod" in err) == (2, True)


def test_limit_must_name_a_group_of_the_inventory(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code_and_error(["up", "-i", FIXTURE, "--limit", "dev"], capsys)
    assert code == 2 and "has no group 'dev'" in err


def test_unknown_limit_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["up", "--limit", "staging"]) == 2  # the local inventory has no group staging
    assert capsys.readouterr().err.strip().endswith("has no group 'staging' for --limit")


def test_down_without_yes_and_no_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, err = exit_code_and_error(["down", "-i", FIXTURE], capsys)
    assert code == 2 and "without --yes" in err


def test_down_prod_without_i_mean_prod(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code_and_error(["down", "-i", ENVIRONMENTS, "--limit", "prod", "--yes"], capsys)
    assert code == 2 and "--i-mean-prod" in err


def test_down_asks_on_a_terminal_and_stops_unless_yes(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal(""))
    args = cli.build_parser().parse_args(["down", "-i", FIXTURE])
    inventory = resolve_inventory(FIXTURE, project_root())
    with pytest.raises(UsageError, match="not confirmed"):
        commands.confirm_teardown(args, inventory, ask=lambda prompt: "no")
    commands.confirm_teardown(args, inventory, ask=lambda prompt: "yes")


def test_no_command_is_bad_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([]) == 2


def test_inventory_groups_yaml_and_ini(tmp_path: Path) -> None:
    (tmp_path / "hosts.yml").write_text("all:\n  children:\n    dev:\n      hosts: {a: {}}\n")
    (tmp_path / "more").write_text("[prod]\nb\n[web:children]\nprod\n")
    assert inventory_groups(tmp_path) == {"dev", "prod", "web"}
    assert inventory_groups(project_root() / "inventories" / "local") == {"local"}


def test_old_run_folders_are_pruned_to_the_newest(tmp_path: Path) -> None:
    for stamp in ("20261101T000000.000000-up", "20261102T000000.000000-deploy", "20261103T000000.000000-status"):
        (tmp_path / stamp).mkdir()
    removed = prune_runs(tmp_path, keep=2)
    assert [path.name for path in removed] == ["20261101T000000.000000-up"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "20261102T000000.000000-deploy",
        "20261103T000000.000000-status",
    ]
    assert prune_runs(tmp_path, keep=0) and len(list(tmp_path.iterdir())) == 1  # the run being made is kept


def test_check_exits_0_when_nothing_would_change_and_2_when_something_would(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--check` as a drift gate, as `terraform plan -detailed-exitcode`."""
    assert commands.check_outcome(0) == 0
    assert capsys.readouterr().out == "--check: nothing was changed, and a real run would change nothing\n"
    assert commands.check_outcome(3) == 2
    assert capsys.readouterr().out == "--check: nothing was changed; a real run would change 3 task(s), counted above\n"


def test_logs_refuses_a_since_that_is_not_a_duration(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_code_and_error(["logs", "--since", "ten"], capsys)
    assert (code, err.strip()) == (2, "ecspress: --since 'ten' is not a duration such as 30s, 10m, 2h or 1d")
