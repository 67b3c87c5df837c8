"""The whole local site, as `make up` runs it: WordPress answers on 127.0.0.1:8080, a second run
changes nothing on the AWS side and builds nothing, no secret is ever printed, teardown leaves
nothing of ours behind."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
import yaml

from tests.conftest import ROOT, MotoServer, PlaybookResult, run_playbook, serving
from tests.resources import describe, resources_of

pytestmark = [pytest.mark.docker, pytest.mark.stack, pytest.mark.slow]
# A name of this run's own: what a killed earlier run left (in moto, Docker or the registry) is never adopted.
NAME = f"ecspress-e2e-{uuid.uuid4().hex[:4]}"


def unused_site_port() -> int:
    """A port on 127.0.0.1 nothing listens on, below the kernel's ephemeral range (Docker allocates the
    `127.0.0.1::80` ports of smoke tests from it). Not 8080, nor any fixed one: a user's `make up` site,
    or a container another run left behind with a restart policy (Docker starts it again with its port),
    may hold it."""
    ephemeral_start = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    upper = ephemeral_start if 21000 < ephemeral_start < 30000 else 30000
    for port in random.sample(range(20000, upper), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))  # Docker's proxy binds each published port
            except OSError:
                continue
        return port
    raise RuntimeError(f"no unused port on 127.0.0.1 between 20000 and {upper}")


PORT = unused_site_port()
MOTO = "http://127.0.0.1:5100"
SECRETS = ROOT / ".ecspress" / "local" / "secrets" / NAME


ECSPRESS = str(Path(sys.executable).parent / "ecspress")
OPCACHE_MB = 96  # not the role's default (128): the deploy test changes it


RUNS = ROOT / ".ecspress" / "runs"


def ecspress(*args: str) -> subprocess.CompletedProcess[str]:
    """The `ecspress` command as a user runs it, from the checkout. Neither its output nor the run folder it
    saves holds a secret; the folder is then removed (kept when the run failed, for the failure message)."""
    before = set(RUNS.glob("*")) if RUNS.exists() else set()
    secrets = set(secrets_to_look_for())  # before too: `down` deletes them
    result = subprocess.run(
        [ECSPRESS, *args], cwd=ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=1500
    )
    saved = sorted(set(RUNS.glob("*")) - before) if RUNS.exists() else []
    texts = [result.stdout, result.stderr]
    texts += [f.read_text(errors="replace") for folder in saved for f in folder.rglob("*") if f.is_file()]
    secrets |= set(secrets_to_look_for())
    leaked = [secret[:4] + "…" for secret in secrets if any(secret in text for text in texts)]
    assert not leaked, f"`ecspress {' '.join(args)}` printed or saved secrets starting {leaked} (run folders {saved})"
    if result.returncode != 1:  # 1: the run failed, its folder is named in the message
        for folder in saved:
            shutil.rmtree(folder)
    return result


# Mail: the SMTP server (aiosmtpd, Debian's python3-aiosmtpd) the tasks send through, a container on their network as a
# relay inside the VPC would be; it takes mail only from this user and password (AUTH LOGIN/PLAIN without TLS: a test
# relay). The password reaches WordPress through Secrets Manager (`<name>/smtp`) and the ECS secret.
SMTP_USER, SMTP_PASSWORD, SMTP_FROM = "ecspress-mail", f"smtp-{uuid.uuid4().hex}", "wordpress@example.test"
SMTP_SETTINGS = {
    "service_smtp_host": f"{NAME}-smtp",
    "service_smtp_port": 2525,
    "service_smtp_security": "none",
    "service_smtp_user": SMTP_USER,
    "service_smtp_password": SMTP_PASSWORD,
    "service_smtp_from": SMTP_FROM,
}
SMTP_IMAGE = "ecspress/test-smtp:trixie"
SMTP_SERVER = """
import os, pathlib, signal, uuid
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

class Keep:
    async def handle_DATA(self, server, session, envelope):
        pathlib.Path("/mail", uuid.uuid4().hex + ".eml").write_bytes(envelope.original_content or envelope.content)
        return "250 kept"

def authenticate(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
        os.environ["SMTP_USER"].encode(), os.environ["SMTP_PASSWORD"].encode())
    return AuthResult(success=ok)

Controller(Keep(), hostname="0.0.0.0", port=2525, authenticator=authenticate, auth_required=True,
           auth_require_tls=False).start()
signal.pause()
"""

THEME, PLUGIN = "ecspress-e2e-theme", "ecspress-e2e-plugin"
# A classic theme and a plugin as wordpress.org ships them (a zip, one top folder named after the slug).
THEME_FILES = {
    f"{THEME}/style.css": f"/*\nTheme Name: {THEME}\nVersion: 1.0\n*/\n",
    f"{THEME}/index.php": '<html><head><?php wp_head(); ?></head><body><p><?php echo esc_html("'
    + THEME
    + ' renders " . get_bloginfo("name")); ?></p><?php wp_footer(); ?></body></html>\n',
}
PLUGIN_FILES = {
    f"{PLUGIN}/{PLUGIN}.php": f"<?php\n/*\nPlugin Name: {PLUGIN}\n*/\n"
    f"add_action('wp_footer', function () {{ echo '<p>{PLUGIN} is active</p>'; }});\n",
}
# Stands in for wp-cli.phar (its release is on GitHub, which this machine cannot reach): a PHP program run the same way
# (`wp ARGS --path=DOCROOT`), refusing root without --allow-root as WP-CLI does; it knows `option get NAME`.
WP_CLI_STAND_IN = """#!/usr/bin/env php
<?php
$args = array_slice($argv, 1);
$path = substr(current(preg_grep('/^--path=/', $args)) ?: '--path=', 7);
if (posix_geteuid() === 0 && !in_array('--allow-root', $args, true)) {
    fwrite(STDERR, "Error: YIKES! It looks like you're running this as root.\\n");
    exit(1);
}
$words = array_values(preg_grep('/^--/', $args, PREG_GREP_INVERT));
if (array_slice($words, 0, 2) !== ['option', 'get'] || count($words) !== 3) {
    fwrite(STDERR, "Error: this WP-CLI stand-in knows only `option get NAME`\\n");
    exit(1);
}
$_SERVER['HTTP_HOST'] = 'localhost';
require $path . '/wp-load.php';
echo get_option($words[2]), "\\n";
"""


def zip_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def site_settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A theme, a plugin and WP-CLI served over HTTP from 127.0.0.1, and the inventory variables that pin them."""
    folder = tmp_path_factory.mktemp("downloads")
    files = {"theme.zip": zip_of(THEME_FILES), "plugin.zip": zip_of(PLUGIN_FILES)}
    files["wp-cli.phar"] = WP_CLI_STAND_IN.encode()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    with serving(folder) as base:

        def pin(name: str) -> dict[str, str]:
            return {"src": f"{base}/{name}", "checksum": "sha256:" + hashlib.sha256(files[name]).hexdigest()}

        yield {
            **SMTP_SETTINGS,
            "wordpress_image_themes": [pin("theme.zip")],
            "wordpress_image_plugins": [pin("plugin.zip")],
            "wordpress_image_wp_cli_src": pin("wp-cli.phar")["src"],
            "wordpress_image_wp_cli_checksum": pin("wp-cli.phar")["checksum"],
        }


@pytest.fixture(scope="module")
def e2e_inventory(tmp_path_factory: pytest.TempPathFactory, site_settings: dict[str, Any]) -> Path:
    """inventories/local for this test's environment name and port (the CLI takes no -e), and the pinned downloads."""
    inventory = tmp_path_factory.mktemp("inventory") / "e2e"
    shutil.copytree(ROOT / "inventories" / "local", inventory)
    settings = {"ecspress_name": NAME, "local_run_port": PORT, **site_settings}
    (inventory / "group_vars" / "all" / "zz-e2e.yml").write_text("---\n" + yaml.safe_dump(settings))
    return inventory


def aws(service: str) -> object:
    return boto3.client(
        service,
        endpoint_url=MOTO,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, e2e_inventory: Path, site_settings: dict[str, Any]
) -> Iterator[dict[str, PlaybookResult]]:
    """The site, run three times; afterwards `ecspress down` must leave nothing, whatever order the tests ran in
    (a failure here is reported as an error of the last test using the site)."""
    extravars = {"ecspress_name": NAME, "local_run_port": PORT, **site_settings}
    runs = {
        "first": run_playbook(
            "site.yml", extravars=extravars, verbosity=3, private_dir=tmp_path_factory.mktemp("site1")
        ),
    }
    runs["second"] = run_playbook(
        "site.yml", extravars=extravars, verbosity=3, private_dir=tmp_path_factory.mktemp("site2")
    )
    runs["check"] = run_playbook(
        "site.yml",
        extravars=extravars,
        check=True,
        diff=True,
        verbosity=3,
        private_dir=tmp_path_factory.mktemp("site3"),
    )
    runs["_private"] = tmp_path_factory.getbasetemp()  # type: ignore[assignment]
    yield runs
    down = ecspress("down", "-i", str(e2e_inventory), "--yes", "--keep-stack")
    assert down.returncode == 0, down.stdout[-3000:] + down.stderr[-3000:]
    assert "local stack:" not in down.stdout  # --keep-stack: moto and the registry stay for the other tests
    left = resources_of(MotoServer(MOTO), NAME)
    assert left == {}, describe(left)
    again = run_playbook("playbooks/teardown.yml", extravars=extravars, private_dir=tmp_path_factory.mktemp("down"))
    assert again.rc == 0 and again.changed == 0, again.changed_tasks


def test_wordpress_answers_on_localhost(site: dict[str, PlaybookResult]) -> None:
    assert site["first"].rc == 0, site["first"].failed_tasks
    page = requests.get(f"http://127.0.0.1:{PORT}/", timeout=10)
    assert page.status_code == 200 and "ecspress WordPress" in page.text
    assert f"WordPress: http://127.0.0.1:{PORT}/" in site["first"].stdout
    assert f"the password: the file {SECRETS}/admin_password)" in site["first"].stdout


def test_the_theme_of_the_image_renders_with_the_uploads_where_the_task_mounts_efs(
    site: dict[str, PlaybookResult],
) -> None:
    """Fargate's layout locally: a volume at the task definition's EFS mount path (the uploads only), and the theme the
    image ships still renders (a volume over the whole wp-content would hide it)."""
    ecs = aws("ecs")
    revision = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"]  # type: ignore[attr-defined]
    container = ecs.describe_task_definition(taskDefinition=revision)["taskDefinition"]["containerDefinitions"][0]  # type: ignore[attr-defined]
    (efs_path,) = [mount["containerPath"] for mount in container["mountPoints"]]
    inspected = json.loads(
        subprocess.run(
            ["docker", "container", "inspect", f"{NAME}-wordpress"], capture_output=True, text=True, check=True
        ).stdout
    )[0]
    volumes = {mount["Destination"]: mount["Name"] for mount in inspected["Mounts"] if mount["Type"] == "volume"}
    assert volumes == {efs_path: f"{NAME}-uploads"}
    page = requests.get(f"http://127.0.0.1:{PORT}/", timeout=10).text
    stylesheets = re.findall(rf"http://127\.0\.0\.1:{PORT}/wp-content/themes/[a-z0-9-]+/[^'\"]+\.css[^'\"]*", page)
    assert stylesheets, page[:2000]
    assert requests.get(stylesheets[0], timeout=10).status_code == 200


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


INSTALL_TASK = "Complete the WordPress install with a one-off task of the deployed revision"


def one_off(command: list[str], environment: dict[str, str]) -> dict[str, Any]:
    """RunTask of the service's revision with the WordPress container's command replaced, in the service's own network;
    the task once STOPPED."""
    ecs = aws("ecs")
    service = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]  # type: ignore[attr-defined]
    override = {"name": "wordpress", "command": command}
    override["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
    task = ecs.run_task(  # type: ignore[attr-defined]
        cluster=NAME,
        taskDefinition=service["taskDefinition"],
        launchType="FARGATE",
        networkConfiguration=service["networkConfiguration"],
        overrides={"containerOverrides": [override]},
    )["tasks"][0]
    deadline = time.monotonic() + 120
    while task["lastStatus"] != "STOPPED" and time.monotonic() < deadline:
        time.sleep(1)
        task = ecs.describe_tasks(cluster=NAME, tasks=[task["taskArn"]])["tasks"][0]  # type: ignore[attr-defined]
    return dict(task)


def test_the_deploy_installed_wordpress_with_a_one_off_task_and_the_password_of_the_secret(
    site: dict[str, PlaybookResult],
) -> None:
    """The AWS path's install: a one-off task of the deployed revision ran ecspress-wp-install once (the second run
    started none), against the database at the RDS endpoint; the administrator logs in with the secret's password."""
    assert site["first"].changed_tasks.count(INSTALL_TASK) == 1, site["first"].changed_tasks
    assert INSTALL_TASK not in site["second"].changed_tasks and INSTALL_TASK not in site["check"].changed_tasks
    ecs = aws("ecs")
    arns = ecs.list_tasks(cluster=NAME, startedBy="ecspress-install")["taskArns"]  # type: ignore[attr-defined]
    (install,) = ecs.describe_tasks(cluster=NAME, tasks=arns)["tasks"]  # type: ignore[attr-defined]
    assert (install["lastStatus"], install["stopCode"], install["containers"][0]["exitCode"]) == (
        "STOPPED",
        "EssentialContainerExited",
        0,
    )
    secret = aws("secretsmanager").describe_secret(SecretId=f"{NAME}/wordpress-admin")  # type: ignore[attr-defined]
    assert {"Key": "ecspress:wordpress-installed", "Value": "true"} in secret["Tags"]
    login = (
        '$_SERVER["HTTP_HOST"] = "localhost"; require "/usr/share/wordpress/wp-load.php";'
        ' $user = wp_authenticate(getenv("WHO"), getenv("WORDPRESS_ADMIN_PASSWORD"));'
        ' echo get_option("home"), " ", get_option("blogname"), "\\n"; exit(is_wp_error($user) ? 4 : 0);'
    )
    checked = one_off(["php", "-r", login], {"WHO": "admin"})
    assert checked["containers"][0].get("exitCode") == 0, checked
    wrong = one_off(
        ["php", "-r", login.replace('getenv("WORDPRESS_ADMIN_PASSWORD")', '"not-the-password"')], {"WHO": "admin"}
    )
    assert wrong["containers"][0].get("exitCode") == 4, wrong  # the check can fail
    lines = aws("logs").get_log_events(  # type: ignore[attr-defined]
        logGroupName=f"/ecs/{NAME}", logStreamName=f"wordpress/wordpress/{checked['taskArn'].rsplit('/', 1)[1]}"
    )["events"]
    dns = aws("elbv2").describe_load_balancers(Names=[f"{NAME}-alb"])["LoadBalancers"][0]["DNSName"]  # type: ignore[attr-defined]
    assert [event["message"] for event in lines] == [f"http://{dns} {NAME}"]


def test_ecspress_admin_runs_commands_as_one_off_tasks(site: dict[str, PlaybookResult], e2e_inventory: Path) -> None:
    """`ecspress admin`: a new admin password into the secret and WordPress, a theme the image ships, the site URL;
    each a one-off task whose output the command prints; a bad argument fails with the image's own words."""
    manager = aws("secretsmanager")
    before = manager.get_secret_value(SecretId=f"{NAME}/wordpress-admin")["SecretString"]  # type: ignore[attr-defined]
    reset = ecspress("admin", "reset-password", "admin", "-i", str(e2e_inventory), "--json")
    assert reset.returncode == 0, reset.stdout[-3000:] + reset.stderr[-3000:]
    document = json.loads(reset.stdout)
    assert (document["admin_exit_code"], document["admin_output"]) == (
        0,
        ["ecspress-wp-admin: the password of 'admin' is the secret's now; its sessions ended"],
    )
    assert manager.get_secret_value(SecretId=f"{NAME}/wordpress-admin")["SecretString"] != before  # type: ignore[attr-defined]
    login = (
        '$_SERVER["HTTP_HOST"] = "localhost"; require "/usr/share/wordpress/wp-load.php";'
        ' $user = wp_authenticate("admin", getenv("WORDPRESS_ADMIN_PASSWORD"));'
        " exit(is_wp_error($user) ? 4 : 0);"
    )
    assert one_off(["php", "-r", login], {})["containers"][0].get("exitCode") == 0  # the new secret is the password

    theme = ecspress("admin", "activate-theme", "twentytwentyfive", "-i", str(e2e_inventory))
    assert theme.returncode == 0, theme.stdout[-3000:] + theme.stderr[-3000:]
    assert "ecspress-wp-admin: the theme twentytwentyfive is active already" in theme.stdout
    missing = ecspress("admin", "activate-theme", "no-such-theme", "-i", str(e2e_inventory))
    assert missing.returncode == 1, missing.stdout[-3000:] + missing.stderr[-3000:]
    assert "exit code 2" in missing.stdout
    has = "ecspress-e2e-theme, twentytwentyfive"  # the image's own theme and the one the inventory pins
    assert f"ecspress-wp-admin: no theme 'no-such-theme' in the image; it has: {has}" in missing.stdout

    moved = ecspress("admin", "site-url", "https://www.example.test/", "-i", str(e2e_inventory))
    assert moved.returncode == 0, moved.stdout[-3000:] + moved.stderr[-3000:]
    assert "ecspress-wp-admin: the site URL is https://www.example.test (was http://" in moved.stdout
    again = ecspress("admin", "site-url", "https://www.example.test/", "-i", str(e2e_inventory))
    assert "the site URL is https://www.example.test already" in again.stdout
    # back to the load balancer's address: the other tests of this site see the URL the install set (CI15 ran the
    # install test after this one)
    dns = aws("elbv2").describe_load_balancers(Names=[f"{NAME}-alb"])["LoadBalancers"][0]["DNSName"]  # type: ignore[attr-defined]
    back = ecspress("admin", "site-url", f"http://{dns}", "-i", str(e2e_inventory))
    assert f"ecspress-wp-admin: the site URL is http://{dns} (was https://www.example.test)" in back.stdout, back.stdout


def through_the_load_balancer(path: str = "/") -> requests.Response:
    """A page of the AWS path's site (the ECS model's tasks, the RDS model's database) as the ALB serves it."""
    dns = aws("elbv2").describe_load_balancers(Names=[f"{NAME}-alb"])["LoadBalancers"][0]["DNSName"]  # type: ignore[attr-defined]
    address = requests.get(f"{MOTO}/ecspress-local/resolve/{dns}", timeout=10).text
    return requests.get(f"http://{address}{path}", headers={"Host": dns}, timeout=10)


def test_a_theme_a_plugin_and_wp_cli_pinned_in_the_inventory_are_in_the_image(
    site: dict[str, PlaybookResult], e2e_inventory: Path
) -> None:
    """wordpress_image_themes / _plugins / _wp_cli_*: zips and a phar served from 127.0.0.1, pinned by checksum, baked
    into the image; activated with `ecspress admin`, the theme and the plugin render on the home page through the load
    balancer; `ecspress wp` runs the image's WP-CLI against the site's database."""
    for command, slug, said in [
        ("activate-theme", THEME, f"the theme {THEME} is active"),
        ("activate-plugin", PLUGIN, f"the plugin {PLUGIN}/{PLUGIN}.php is active"),
    ]:
        result = ecspress("admin", command, slug, "-i", str(e2e_inventory))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert f"ecspress-wp-admin: {said}" in result.stdout, result.stdout
    try:
        page = through_the_load_balancer()
        assert page.status_code == 200
        assert f"{THEME} renders {NAME}" in page.text and f"{PLUGIN} is active" in page.text, page.text[:2000]
        wp = ecspress("wp", "-i", str(e2e_inventory), "--", "option", "get", "blogname")
        assert wp.returncode == 0, wp.stdout[-3000:] + wp.stderr[-3000:]
        assert wp.stdout.rstrip().endswith(f"\n  {NAME}"), wp.stdout
    finally:  # the other tests of this site see the image's default theme
        back = ecspress("admin", "activate-theme", "twentytwentyfive", "-i", str(e2e_inventory))
        assert "ecspress-wp-admin: the theme twentytwentyfive is active" in back.stdout, back.stdout
    assert "twentytwentyfive" in through_the_load_balancer().text


def smtp_image() -> str:
    """An image with Debian's aiosmtpd, made once from the base image (apt from the machine's mirror), then cached."""
    if subprocess.run(["docker", "image", "inspect", SMTP_IMAGE], capture_output=True, check=False).returncode != 0:
        builder = f"{NAME}-smtp-build"
        install = (
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-aiosmtpd >/dev/null"
            " && rm -rf /var/lib/apt/lists/*"
        )
        run = ["docker", "run", "--name", builder, "-e", "DEBIAN_FRONTEND=noninteractive", "ecspress/base:trixie"]
        subprocess.run(
            [*run, "sh", "-c", install],
            capture_output=True,
            check=True,
            timeout=600,
        )
        subprocess.run(["docker", "commit", builder, SMTP_IMAGE], capture_output=True, check=True)
        subprocess.run(["docker", "rm", builder], capture_output=True, check=True)
    return SMTP_IMAGE


def test_a_password_reset_mail_goes_through_the_smtp_server_with_the_secret_password(
    site: dict[str, PlaybookResult], tmp_path: Path
) -> None:
    """service_smtp_*: WordPress's lost-password form, posted through the load balancer, sends its mail through the
    inventory's SMTP server, authenticated with the password the task reads from Secrets Manager; the From address is
    the inventory's. The password is in no environment value of the task definition."""
    ecs = aws("ecs")
    revision = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"]  # type: ignore[attr-defined]
    (container,) = ecs.describe_task_definition(taskDefinition=revision)["taskDefinition"]["containerDefinitions"]  # type: ignore[attr-defined]
    smtp_arn = aws("secretsmanager").describe_secret(SecretId=f"{NAME}/smtp")["ARN"]  # type: ignore[attr-defined]
    assert {"name": "WORDPRESS_SMTP_PASSWORD", "valueFrom": f"{smtp_arn}:password::"} in container["secrets"]
    assert {"name": "WORDPRESS_SMTP_HOST", "value": f"{NAME}-smtp"} in container["environment"]
    assert SMTP_PASSWORD not in json.dumps(container)
    role = f"{NAME}-task-execution"
    policy = aws("iam").get_role_policy(RoleName=role, PolicyName=role)["PolicyDocument"]  # type: ignore[attr-defined]
    (reads,) = [statement for statement in policy["Statement"] if statement["Sid"] == "ReadTheSecrets"]
    assert smtp_arn in reads["Resource"]

    mail = tmp_path / "mail"
    mail.mkdir()
    server = f"{NAME}-smtp"
    run = ["docker", "run", "--detach", "--name", server, "--network", "ecspress-local-tasks", "-v", f"{mail}:/mail"]
    credentials = ["-e", f"SMTP_USER={SMTP_USER}", "-e", f"SMTP_PASSWORD={SMTP_PASSWORD}"]
    subprocess.run(
        [*run, *credentials, smtp_image(), "python3", "-c", SMTP_SERVER],
        capture_output=True,
        check=True,
    )
    try:
        time.sleep(2)  # aiosmtpd listening
        dns = aws("elbv2").describe_load_balancers(Names=[f"{NAME}-alb"])["LoadBalancers"][0]["DNSName"]  # type: ignore[attr-defined]
        address = requests.get(f"{MOTO}/ecspress-local/resolve/{dns}", timeout=10).text
        asked = requests.post(
            f"http://{address}/wp-login.php?action=lostpassword",
            data={"user_login": "admin", "redirect_to": "", "wp-submit": "Get New Password"},
            headers={"Host": dns},
            allow_redirects=False,
            timeout=30,
        )
        assert (asked.status_code, asked.headers.get("Location")) == (302, "/wp-login.php?checkemail=confirm"), (
            asked.status_code,
            asked.text[:3000],
        )
        deadline = time.monotonic() + 30
        while not list(mail.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.5)
        (received,) = list(mail.glob("*.eml"))
    finally:
        subprocess.run(["docker", "rm", "--force", server], capture_output=True, check=False)
    message = email.message_from_bytes(received.read_bytes(), policy=email.policy.default)
    assert (message["Subject"], message["To"], message["From"].addresses[0].addr_spec) == (
        f"[{NAME}] Password Reset",
        "admin@example.com",
        SMTP_FROM,
    )
    body = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert re.search(rf"http://{re.escape(dns)}/wp-login\.php\?login=admin&key=[A-Za-z0-9]+&action=rp", body), body


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


def test_no_secret_in_any_output_at_vvv(site: dict[str, PlaybookResult], e2e_inventory: Path) -> None:
    secrets = secrets_to_look_for()
    assert len(secrets) >= 10, "expected the DB passwords and the eight salts"
    haystacks = [run.stdout for key, run in site.items() if isinstance(run, PlaybookResult)]
    base = Path(str(site["_private"]))
    # Not the inputs this test gave (the SMTP password among them, where a user's vault would hold it): the inventory
    # and ansible-runner's copy of the extra variables. Everything a run printed or saved is searched.
    haystacks += [
        p.read_text(errors="replace")
        for p in base.rglob("*")
        if p.is_file()
        and p.stat().st_size < 50_000_000
        and p.parts[-2:] != ("env", "extravars")
        and not p.is_relative_to(e2e_inventory)
    ]
    leaked = [secret[:4] + "…" for secret in secrets if any(secret in text for text in haystacks)]
    assert leaked == []


def test_no_secret_in_the_image_layers_history_or_task_definition(site: dict[str, PlaybookResult]) -> None:
    """`docker save` of the running image (every layer), its history and the task definition: no secret."""
    secrets = [secret.encode() for secret in secrets_to_look_for()]
    image = running_image()
    history = subprocess.run(
        ["docker", "history", "--no-trunc", image], capture_output=True, check=True, timeout=120
    ).stdout
    saved = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
    assert saved.stdout is not None
    found: set[bytes] = {secret for secret in secrets if secret in history}
    tail = b""
    while chunk := saved.stdout.read(1 << 20):
        window = tail + chunk
        found |= {secret for secret in secrets if secret in window}
        tail = window[-256:]
    assert saved.wait(timeout=300) == 0
    ecs = aws("ecs")
    arn = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"]  # type: ignore[attr-defined]
    definition = json.dumps(ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"], default=str).encode()  # type: ignore[attr-defined]
    found |= {secret for secret in secrets if secret in definition}
    assert [secret[:4].decode() + "…" for secret in found] == []


def test_local_secret_files_are_0600(site: dict[str, PlaybookResult]) -> None:
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in SECRETS.glob("*")}
    assert modes and set(modes.values()) == {"0o600"}, modes


def running_image() -> str:
    return subprocess.run(
        ["docker", "inspect", "--format", "{{.Config.Image}}", f"{NAME}-wordpress"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


SITE_CHECK = "The home page is WordPress from a working database"
DB_DOWN = (
    'WordPress cannot reach its database ("Error establishing a database connection", HTTP 500): a wrong database '
    "password or user, or the database is stopped or not reachable from the tasks"
)


def converge_service_and_deploy(tmp_path: Path, label: str, settings: dict[str, Any], **extra: Any) -> PlaybookResult:
    """site.yml without the image and local stages, on the image the service runs (what the image stage would
    publish): the network and database stages publish what the service stage reads. With the site's own settings
    (mail among them), so the service keeps them for the other tests."""
    image = {"reference": running_image(), "pending": False}
    extravars = {**settings, "ecspress_name": NAME, "local_run_port": PORT, "ecspress_image": image, **extra}
    tags = "network,database,service,deploy"
    return run_playbook("site.yml", extravars=extravars, tags=tags, private_dir=tmp_path / label)


def test_a_deploy_fails_with_the_reason_when_the_database_is_stopped_or_its_password_wrong(
    site: dict[str, PlaybookResult], site_settings: dict[str, Any], tmp_path: Path
) -> None:
    """The ALB's health check (a static file) passes; the deploy's own check of the home page through the load
    balancer does not, and says why: with the database stopped, then (started again) with new tasks that read a wrong
    password from the secret. Both put right, the next deploy passes. (One test: each failing converge is followed by
    the next fault, and one passing converge ends both.)"""
    rds = aws("rds")
    rds.stop_db_instance(DBInstanceIdentifier=NAME)  # type: ignore[attr-defined]
    try:
        time.sleep(12)  # the stand-in stops the server in the background, as AWS does
        stopped = converge_service_and_deploy(tmp_path, "stopped", site_settings, ecs_deploy_site_check_tries=1)
        assert stopped.rc != 0
        (failure,) = stopped.failed_tasks
        assert failure.startswith(f"{SITE_CHECK}: The rollout completed, but the site does not work: http://"), failure
        assert failure.endswith(f"answered: {DB_DOWN}."), failure
    finally:
        rds.start_db_instance(DBInstanceIdentifier=NAME)  # type: ignore[attr-defined]
    time.sleep(8)

    manager = aws("secretsmanager")
    secret_id = f"{NAME}/database"
    right = manager.get_secret_value(SecretId=secret_id)["SecretString"]  # type: ignore[attr-defined]
    manager.put_secret_value(
        SecretId=secret_id, SecretString=json.dumps({**json.loads(right), "password": "wrong-password-1"})
    )  # type: ignore[attr-defined]
    try:
        wrong = converge_service_and_deploy(
            tmp_path,
            "wrong",
            site_settings,
            service_environment={"ECSPRESS_TEST": "wrong password"},  # a new revision: new tasks read the secret
            ecs_deploy_site_check_tries=1,
        )
        assert wrong.rc != 0
        (failure,) = wrong.failed_tasks
        assert failure.endswith(f"answered: {DB_DOWN}."), failure
    finally:
        manager.put_secret_value(SecretId=secret_id, SecretString=right)  # type: ignore[attr-defined]
    fixed = converge_service_and_deploy(tmp_path, "fixed", site_settings)
    assert fixed.rc == 0, fixed.failed_tasks


def test_ecspress_deploy_rolls_out_a_changed_opcache_value(
    site: dict[str, PlaybookResult], e2e_inventory: Path
) -> None:
    """A user changes one OPcache value; `ecspress deploy` builds, registers a revision, serves it; `ecspress
    rollback` goes back to the revision before; `ecspress logs` shows what the running task logged."""
    ecs = aws("ecs")
    before = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"]  # type: ignore[attr-defined]
    image_before = running_image()
    (e2e_inventory / "group_vars" / "all" / "zz-opcache.yml").write_text(
        f"---\nwordpress_image_opcache_memory_consumption: {OPCACHE_MB}\n"
    )

    preview = ecspress("deploy", "--check", "-i", str(e2e_inventory))
    assert preview.returncode == 2, preview.stdout[-3000:] + preview.stderr[-3000:]  # 2: something would change
    assert "→ image would create: 127.0.0.1:5000/" in preview.stdout
    assert "→ deploy would create: The service " in preview.stdout
    assert "--check: nothing was changed" in preview.stdout
    assert ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"] == before  # type: ignore[attr-defined]
    assert running_image() == image_before

    result = ecspress("deploy", "--json", "-i", str(e2e_inventory))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    after = ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"]  # type: ignore[attr-defined]
    assert int(after.rsplit(":", 1)[1]) == int(before.rsplit(":", 1)[1]) + 1
    definition = ecs.describe_task_definition(taskDefinition=after)["taskDefinition"]  # type: ignore[attr-defined]
    image = definition["containerDefinitions"][0]["image"]
    assert "@sha256:" in image and image != image_before and running_image() == image
    # --json: stdout is the result a pipeline reads, and nothing else (the progress went to stderr)
    document = json.loads(result.stdout)
    assert (document["ok"], document["exit_code"], document["outcome"]) == (True, 0, "completed"), document
    assert (document["image"], document["digest"]) == (image, image.split("@")[1])
    assert document["task_definition_arn"] == after and document["deployment_id"].startswith("ecs-svc/")
    assert document["url"] == f"http://127.0.0.1:{PORT}/"
    assert "✔ deploy" in result.stderr
    setting = subprocess.run(
        [
            "docker",
            "exec",
            f"{NAME}-wordpress",
            "sh",
            "-c",  # PHP as Apache's SAPI configures it: its conf.d, not the CLI's
            'PHP_INI_SCAN_DIR="$(ls -d /etc/php/*/apache2/conf.d)" '
            "php -r 'echo ini_get(\"opcache.memory_consumption\");'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert setting == str(OPCACHE_MB)
    page = requests.get(f"http://127.0.0.1:{PORT}/", timeout=10)
    assert page.status_code == 200 and "ecspress WordPress" in page.text  # ecspress() looked for secrets
    # status names the revision and the address the site answers on (its container's port, not a fixed 8080)
    status = ecspress("status", "--json", "-i", str(e2e_inventory))
    assert status.returncode == 0, status.stdout[-3000:] + status.stderr[-3000:]
    shown = json.loads(status.stdout)
    assert (shown["task_definition"], shown["url"], shown["rollout_state"]) == (
        after,
        f"http://127.0.0.1:{PORT}/",
        "completed",
    ), shown

    # and back: `ecspress rollback` returns the service to the revision before, the local site to its image
    back = ecspress("rollback", "--json", "-i", str(e2e_inventory))
    assert back.returncode == 0, back.stdout[-3000:] + back.stderr[-3000:]
    assert (json.loads(back.stdout)["outcome"], json.loads(back.stdout)["task_definition_arn"]) == ("completed", before)
    assert ecs.describe_services(cluster=NAME, services=[NAME])["services"][0]["taskDefinition"] == before  # type: ignore[attr-defined]
    assert running_image() == image_before

    # `ecspress logs`: a request the running task served, read back from CloudWatch Logs with its task id (the
    # stand-in ships the local tasks' output there, as the awslogs driver does on Fargate)
    task_ids = [arn.rsplit("/", 1)[1] for arn in ecs.list_tasks(cluster=NAME, serviceName=NAME)["taskArns"]]  # type: ignore[attr-defined]
    containers = subprocess.run(
        ["docker", "ps", "--quiet", "--filter", f"name={NAME}-task-", "--filter", "status=running"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    probe = "php -r '@file_get_contents(\"http://127.0.0.1/ecspress-logs-probe\");'"
    subprocess.run(["docker", "exec", containers[0], "sh", "-c", probe], capture_output=True, check=True)
    time.sleep(2)  # the stand-in ships lines as docker logs them
    shown_logs = ecspress("logs", "--since", "1h", "-i", str(e2e_inventory))
    assert shown_logs.returncode == 0, shown_logs.stdout[-3000:] + shown_logs.stderr[-3000:]
    probed = [line for line in shown_logs.stdout.splitlines() if "/ecspress-logs-probe" in line]
    assert probed and probed[-1].split(" ")[1] in task_ids, shown_logs.stdout[-3000:]


def test_check_on_a_fresh_environment_previews_every_stage_and_creates_nothing(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """`ecspress up --check` before anything exists: each stage says what it would create; nothing is created."""
    name = f"{NAME}-check"
    inventory = tmp_path_factory.mktemp("inventory-check") / "e2e-check"
    shutil.copytree(ROOT / "inventories" / "local", inventory)
    (inventory / "group_vars" / "all" / "zz-e2e.yml").write_text(
        f"---\necspress_name: {name}\nlocal_run_port: {unused_site_port()}\n"
    )

    result = ecspress("up", "--check", "-i", str(inventory))
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-3000:]  # 2: something would change
    for stage, words in [
        ("network", f"VPC {name} 10.42.0.0/16"),
        ("registry", f"ECR repository {name}/wordpress"),
        ("database", f"DB subnet group {name}"),
        ("image", f"127.0.0.1:5000/{name}/wordpress:wp-"),
        ("service", f"ECS cluster {name}"),
        ("deploy", f"The service {name}/{name} rolled onto"),
        ("local", f"{name}-wordpress from the new image"),
    ]:
        assert f"→ {stage} would create: " in result.stdout and words in result.stdout, (stage, result.stdout)
    assert resources_of(MotoServer(MOTO), name) == {}
