"""The whole local site, as `make up` runs it: WordPress answers on 127.0.0.1:8080, a second run
changes nothing on the AWS side and builds nothing, no secret is ever printed, teardown leaves
nothing of ours behind."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from tests.conftest import ROOT, PlaybookResult, run_playbook

pytestmark = [pytest.mark.docker, pytest.mark.stack, pytest.mark.slow]
NAME = "ecspress-e2e"
PORT = 18080  # not 8080: a user's `make up` site may be running there
MOTO = "http://127.0.0.1:5100"
SECRETS = ROOT / ".ecspress" / "local" / "secrets" / NAME


def aws(service: str) -> object:
    return boto3.client(
        service,
        endpoint_url=MOTO,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, PlaybookResult]]:
    extravars = {"ecspress_name": NAME, "local_run_port": PORT}
    runs = {
        "first": run_playbook(
            "site.yml", extravars=extravars, verbosity=3, private_dir=tmp_path_factory.mktemp("site1")
        ),
    }
    runs["second"] = run_playbook("site.yml", extravars=extravars, private_dir=tmp_path_factory.mktemp("site2"))
    runs["check"] = run_playbook(
        "site.yml", extravars=extravars, check=True, diff=True, private_dir=tmp_path_factory.mktemp("site3")
    )
    runs["_private"] = tmp_path_factory.getbasetemp()  # type: ignore[assignment]
    yield runs
    run_playbook("playbooks/teardown.yml", extravars=extravars, private_dir=tmp_path_factory.mktemp("down"))


def test_wordpress_answers_on_localhost(site: dict[str, PlaybookResult]) -> None:
    assert site["first"].rc == 0, site["first"].failed_tasks
    page = requests.get(f"http://127.0.0.1:{PORT}/", timeout=10)
    assert page.status_code == 200 and "ecspress WordPress" in page.text
    assert f"WordPress: http://127.0.0.1:{PORT}/" in site["first"].stdout


def test_the_running_container_uses_the_pushed_digest(site: dict[str, PlaybookResult]) -> None:
    image = subprocess.run(
        ["docker", "inspect", "--format", "{{.Config.Image}}", f"{NAME}-wordpress"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert image.startswith("127.0.0.1:5000/") and "@sha256:" in image
    ecs = aws("ecs")
    service = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]  # type: ignore[attr-defined]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])  # type: ignore[attr-defined]
    assert definition["taskDefinition"]["containerDefinitions"][0]["image"] == image


def test_second_run_changes_nothing_and_builds_nothing(site: dict[str, PlaybookResult]) -> None:
    second = site["second"]
    assert second.rc == 0, second.failed_tasks
    assert second.changed == 0, second.changed_tasks


def test_check_diff_after_that_reports_no_change(site: dict[str, PlaybookResult]) -> None:
    check = site["check"]
    assert check.rc == 0, check.failed_tasks
    assert check.changed == 0, check.changed_tasks


def secrets_to_look_for() -> list[str]:
    values = [path.read_text().strip() for path in SECRETS.glob("*") if path.is_file()]
    manager = aws("secretsmanager")
    for entry in manager.list_secrets()["SecretList"]:  # type: ignore[attr-defined]
        if entry["Name"].startswith(NAME):
            raw = manager.get_secret_value(SecretId=entry["ARN"])["SecretString"]  # type: ignore[attr-defined]
            try:
                parsed = json.loads(raw)
            except ValueError:
                values.append(raw)
                continue
            values += [
                str(v)
                for k, v in parsed.items()
                if "password" in k.lower() or "key" in k.lower() or "salt" in k.lower()
            ]
    return [v for v in values if len(v) >= 12]


def test_no_secret_in_any_output_at_vvv(site: dict[str, PlaybookResult]) -> None:
    secrets = secrets_to_look_for()
    assert len(secrets) >= 10, "expected the DB passwords and the eight salts"
    haystacks = [run.stdout for key, run in site.items() if isinstance(run, PlaybookResult)]
    base = Path(str(site["_private"]))
    haystacks += [
        p.read_text(errors="replace") for p in base.rglob("*") if p.is_file() and p.stat().st_size < 50_000_000
    ]
    leaked = [secret[:4] + "…" for secret in secrets if any(secret in text for text in haystacks)]
    assert leaked == []


def test_local_secret_files_are_0600(site: dict[str, PlaybookResult]) -> None:
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in SECRETS.glob("*")}
    assert modes and set(modes.values()) == {"0o600"}, modes


def test_teardown_leaves_nothing_of_ours(site: dict[str, PlaybookResult], tmp_path: Path) -> None:
    """Runs last (file order); the fixture tears down once more afterwards, proving a second teardown works."""
    down = run_playbook(
        "playbooks/teardown.yml",
        extravars={"ecspress_name": NAME, "local_run_port": PORT},
        private_dir=tmp_path / "down",
    )
    assert down.rc == 0, down.failed_tasks
    containers = subprocess.run(
        ["docker", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [c for c in containers if c.startswith(NAME)] == []
    ec2, ecs, rds = aws("ec2"), aws("ecs"), aws("rds")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"{NAME}*"]}])["Vpcs"]  # type: ignore[attr-defined]
    assert vpcs == []
    services = ecs.describe_services(cluster=NAME, services=[NAME]).get("services", [])  # type: ignore[attr-defined]
    assert all(s["status"] == "INACTIVE" for s in services)
    instances = rds.describe_db_instances()["DBInstances"]  # type: ignore[attr-defined]
    assert [i for i in instances if i["DBInstanceIdentifier"].startswith(NAME)] == []
    repositories = aws("ecr").describe_repositories()["repositories"]  # type: ignore[attr-defined]
    assert [r for r in repositories if r["repositoryName"].startswith(NAME)] == []
    balancers = aws("elbv2").describe_load_balancers()["LoadBalancers"]  # type: ignore[attr-defined]
    assert [b for b in balancers if b["LoadBalancerName"].startswith(NAME)] == []
    secrets = aws("secretsmanager").list_secrets()["SecretList"]  # type: ignore[attr-defined]
    assert [s for s in secrets if s["Name"].startswith(NAME)] == []
