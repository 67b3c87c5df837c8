"""Verify the container that ecspress.wordpress.wordpress_image configured.

By the time verify runs, side_effect.yml has purged Python from the container (as the image
pipeline does before committing), so everything here goes through `docker exec` and the tools
the image keeps: sh, dpkg, apache2ctl and the PHP CLI.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from testinfra.host import Host

PHP_VERSION = "8.4"
DOCROOT = "/usr/share/wordpress"
CONTENT_DIR = "/var/lib/wordpress/wp-content"
PHP_APACHE_DIR = f"/etc/php/{PHP_VERSION}/apache2"
ENTRYPOINT = "/usr/local/bin/ecspress-entrypoint"
HEALTHCHECK = "/usr/local/bin/ecspress-healthcheck"
APACHE_LOG = "/tmp/ecspress-verify-apache.log"
VERIFY_PAGE = f"{DOCROOT}/ecspress-verify.php"
PASSWORD_FILE = "/tmp/ecspress-verify-db-password"
CLIENT_ADDRESS = "203.0.113.7"

# The environment a deploy would give the container (official `wordpress` image names).
RUNTIME_ENV = {
    "WORDPRESS_DB_HOST": "127.0.0.1:1",
    "WORDPRESS_DB_NAME": "ecspress_verify",
    "WORDPRESS_DB_USER": "verify_user",
    "WORDPRESS_DB_PASSWORD": "from-the-variable",
    "WORDPRESS_DB_PASSWORD_FILE": PASSWORD_FILE,
    "WORDPRESS_AUTH_KEY": "verify-auth-key",
    "WORDPRESS_TABLE_PREFIX": "ev_",
    "WORDPRESS_DEBUG": "0",
}

# A PHP page placed in the docroot only for this test: it shows what mod_php sees.
VERIFY_PAGE_SOURCE = """<?php
require '/etc/wordpress/config-default.php';
header('Content-Type: application/json');
$opcache = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
echo json_encode([
    'sapi' => PHP_SAPI,
    'db_host' => DB_HOST,
    'db_name' => DB_NAME,
    'db_user' => DB_USER,
    'db_password' => DB_PASSWORD,
    'auth_key' => AUTH_KEY,
    'nonce_salt' => NONCE_SALT,
    'table_prefix' => $table_prefix,
    'debug' => WP_DEBUG,
    'disallow_file_mods' => DISALLOW_FILE_MODS,
    'https' => $_SERVER['HTTPS'] ?? null,
    'remote_addr' => $_SERVER['REMOTE_ADDR'],
    'opcache_enabled' => $opcache !== false && $opcache['opcache_enabled'],
    'jit_on' => $opcache !== false && ($opcache['jit']['on'] ?? false),
    'validate_timestamps' => ini_get('opcache.validate_timestamps'),
    'expose_php' => ini_get('expose_php'),
    'extensions' => array_map('strtolower', get_loaded_extensions()),
]);
"""

# HTTP client for inside the container: the image has no curl and no Python, but it has PHP.
HTTP_CLIENT = """
$headers = json_decode($argv[2], true);
$lines = [];
foreach ($headers as $name => $value) { $lines[] = "$name: $value"; }
$context = stream_context_create(['http' => [
    'header' => implode("\\r\\n", $lines), 'ignore_errors' => true, 'follow_location' => 0, 'timeout' => 10,
]]);
$body = @file_get_contents('http://127.0.0.1' . $argv[1], false, $context);
$received = $http_response_header ?? [];
echo json_encode(['status_line' => $received[0] ?? '', 'headers' => $received, 'body' => $body === false ? '' : $body]);
"""


def http_get(host: Host, path: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    result = host.run("php -r %s -- %s %s", HTTP_CLIENT, path, json.dumps(headers or {}))
    assert result.rc == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout)
    parts = answer["status_line"].split()
    answer["status"] = int(parts[1]) if len(parts) > 1 else 0
    return answer


def header_value(answer: dict[str, Any], name: str) -> str:
    prefix = name.lower() + ":"
    for line in answer["headers"]:
        if line.lower().startswith(prefix):
            return str(line.split(":", 1)[1].strip())
    return ""


@pytest.fixture(scope="module")
def apache(host: Host) -> Iterator[Host]:
    """Start Apache through the image's entrypoint, with a deploy-like environment."""
    host.run_expect([0], "printf 'from-a-file\\n' > %s && chmod 0644 %s", PASSWORD_FILE, PASSWORD_FILE)
    host.run_expect([0], "printf '%%s' %s > %s && chmod 0644 %s", VERIFY_PAGE_SOURCE, VERIFY_PAGE, VERIFY_PAGE)
    env = " ".join(f"{name}={value}" for name, value in RUNTIME_ENV.items())
    host.run_expect([0], f"env {env} setsid {ENTRYPOINT} > {APACHE_LOG} 2>&1 < /dev/null &")
    deadline = time.monotonic() + 20
    while host.run(HEALTHCHECK).rc != 0:
        if time.monotonic() > deadline:
            pytest.fail("Apache did not answer: " + host.file(APACHE_LOG).content_string)
        time.sleep(0.5)
    yield host
    host.run("kill $(cat /run/apache2/apache2.pid)")
    host.run("rm -f %s %s", VERIFY_PAGE, PASSWORD_FILE)


# --- packages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "apache2",
        "libapache2-mod-php",
        f"libapache2-mod-php{PHP_VERSION}",
        "php-cli",
        "php-mysql",
        "php-gd",
        "php-xml",
        "php-mbstring",
        "php-curl",
        "php-zip",
        "php-intl",
        "wordpress",
        "wordpress-theme-twentytwentyfive",
        "ecspress-mysql-client-stub",
        "netbase",
    ],
)
def test_package_installed(host: Host, name: str) -> None:
    assert host.package(name).is_installed


@pytest.mark.parametrize(
    "name",
    ["mariadb-client", "default-mysql-client", "python3", "python3-apt", "gcc", "cpp", "make", "dpkg-dev"],
)
def test_package_absent(host: Host, name: str) -> None:
    assert not host.package(name).is_installed


@pytest.mark.parametrize("command", ["cc", "gcc", "c++", "make", "python3", "curl", "wget"])
def test_no_build_tool_or_interpreter_left(host: Host, command: str) -> None:
    assert host.run("command -v %s", command).rc != 0


def test_no_package_lists_caches_or_logs(host: Host) -> None:
    leftovers = host.run(
        "find /var/lib/apt/lists /var/cache/apt /var/log/apt -mindepth 1 -type f ! -name lock; "
        "ls /var/log/dpkg.log /var/log/alternatives.log /usr/sbin/policy-rc.d /root/.ansible 2>/dev/null; true"
    )
    assert leftovers.stdout.strip() == ""


def test_no_documentation_but_copyright(host: Host) -> None:
    docs = host.run("find /usr/share/doc /usr/share/man /usr/share/info -type f ! -name copyright")
    assert docs.stdout.strip() == ""
    assert host.file("/usr/share/doc/apache2/copyright").exists


# --- PHP --------------------------------------------------------------------------------------


def test_php_settings_file(host: Host) -> None:
    ini = host.file(f"{PHP_APACHE_DIR}/conf.d/90-ecspress.ini")
    assert ini.user == "root"
    assert ini.mode == 0o644
    for line in (
        "opcache.enable = 1",
        "opcache.validate_timestamps = 0",
        "opcache.max_accelerated_files = 10000",
        "opcache.jit = disable",
        "expose_php = Off",
    ):
        assert line in ini.content_string


def test_opcache_on_for_the_apache_sapi_configuration(host: Host) -> None:
    result = host.run(
        "PHP_INI_SCAN_DIR=%s/conf.d php -c %s/php.ini -r %s",
        PHP_APACHE_DIR,
        PHP_APACHE_DIR,
        'echo ini_get("opcache.enable"), ",", ini_get("opcache.validate_timestamps");',
    )
    assert result.rc == 0, result.stderr
    assert result.stdout == "1,0"


# --- Apache -----------------------------------------------------------------------------------


def test_apache_configuration_is_valid(host: Host) -> None:
    result = host.run("apache2ctl -t")
    assert result.rc == 0, result.stderr
    assert "Syntax OK" in result.stderr


@pytest.mark.parametrize("module", ["mpm_prefork", f"php{PHP_VERSION}", "rewrite", "remoteip", "setenvif", "alias"])
def test_apache_module_enabled(host: Host, module: str) -> None:
    assert host.file(f"/etc/apache2/mods-enabled/{module}.load").exists


@pytest.mark.parametrize("module", ["mpm_event", "mpm_worker", "status", "autoindex"])
def test_apache_module_disabled(host: Host, module: str) -> None:
    assert not host.file(f"/etc/apache2/mods-enabled/{module}.load").exists


def test_wordpress_vhost(host: Host) -> None:
    assert host.file("/etc/apache2/sites-enabled/wordpress.conf").is_symlink
    assert not host.file("/etc/apache2/sites-enabled/000-default.conf").exists
    vhost = host.file("/etc/apache2/sites-available/wordpress.conf").content_string
    assert f"DocumentRoot {DOCROOT}" in vhost
    assert "ServerName localhost" in vhost
    assert f"Alias /wp-content {CONTENT_DIR}" in vhost
    assert "RewriteRule . /index.php [L]" in vhost


def test_server_settings(host: Host) -> None:
    assert host.file("/etc/apache2/conf-enabled/ecspress.conf").is_symlink
    conf = host.file("/etc/apache2/conf-available/ecspress.conf").content_string
    assert "RemoteIPHeader X-Forwarded-For" in conf
    assert "RemoteIPInternalProxy 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8" in conf
    assert "ServerName localhost" in conf
    assert "ServerTokens Prod" in conf
    assert not host.file("/etc/apache2/conf-enabled/security.conf").exists


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/var/log/apache2/access.log", "/dev/stdout"),
        ("/var/log/apache2/other_vhosts_access.log", "/dev/stdout"),
        ("/var/log/apache2/error.log", "/dev/stderr"),
    ],
)
def test_logs_go_to_stdout_and_stderr(host: Host, path: str, target: str) -> None:
    assert host.file(path).is_symlink
    assert host.run("readlink %s", path).stdout.strip() == target


def test_health_endpoint_file(host: Host) -> None:
    healthz = host.file("/usr/local/share/ecspress/healthz")
    assert healthz.is_file
    assert healthz.content_string == "ok\n"


@pytest.mark.parametrize("path", [ENTRYPOINT, HEALTHCHECK])
def test_runtime_commands_installed(host: Host, path: str) -> None:
    command = host.file(path)
    assert command.user == "root"
    assert command.mode == 0o755


# --- WordPress layout -------------------------------------------------------------------------


def test_wordpress_version(host: Host) -> None:
    assert "$wp_version = '6.8." in host.file(f"{DOCROOT}/wp-includes/version.php").content_string


def test_configuration_has_no_secret(host: Host) -> None:
    config = host.file("/etc/wordpress/config-default.php")
    assert config.user == "root"
    assert config.mode == 0o644
    assert "getenv_docker('WORDPRESS_DB_PASSWORD', '')" in config.content_string
    assert "getenv_docker('WORDPRESS_NONCE_SALT', 'put your unique phrase here')" in config.content_string


def test_code_is_not_writable_by_the_web_server(host: Host) -> None:
    writable = host.run(
        "find %s %s /etc/wordpress /etc/apache2 -path %s -prune -o -user www-data -print",
        DOCROOT,
        CONTENT_DIR,
        f"{CONTENT_DIR}/uploads",
    )
    assert writable.stdout.strip() == ""
    assert host.file(CONTENT_DIR).user == "root"
    assert host.file(f"{CONTENT_DIR}/uploads").user == "www-data"


# --- the running server -----------------------------------------------------------------------


def test_health_endpoint_answers(apache: Host) -> None:
    answer = http_get(apache, "/healthz")
    assert answer["status"] == 200
    assert answer["body"] == "ok\n"
    assert header_value(answer, "Content-Type").startswith("text/plain")
    assert header_value(answer, "Server") == "Apache"


def test_healthcheck_command_succeeds(apache: Host) -> None:
    assert apache.run(HEALTHCHECK).rc == 0


def test_php_sees_the_container_environment(apache: Host) -> None:
    answer = http_get(
        apache,
        "/ecspress-verify.php",
        {"X-Forwarded-For": CLIENT_ADDRESS, "X-Forwarded-Proto": "https"},
    )
    assert answer["status"] == 200, answer
    seen = json.loads(answer["body"])
    assert seen["sapi"] == "apache2handler"
    assert seen["db_host"] == "127.0.0.1:1"
    assert seen["db_name"] == "ecspress_verify"
    assert seen["db_user"] == "verify_user"
    assert seen["db_password"] == "from-a-file", "the *_FILE variant wins and loses its trailing newline"
    assert seen["auth_key"] == "verify-auth-key"
    assert seen["nonce_salt"] == "put your unique phrase here", "unset salts fall back to WordPress's own"
    assert seen["table_prefix"] == "ev_"
    assert seen["debug"] is False
    assert seen["disallow_file_mods"] is True
    assert seen["https"] == "on"
    assert seen["remote_addr"] == CLIENT_ADDRESS
    assert seen["opcache_enabled"] is True
    assert seen["jit_on"] is False  # opcache.jit = disable, the role's default
    assert seen["validate_timestamps"] == "0"
    assert seen["expose_php"] == ""
    for extension in ("mysqli", "gd", "xml", "mbstring", "curl", "zip", "intl", "zend opcache"):
        assert extension in seen["extensions"]


def test_wordpress_answers_without_its_database(apache: Host) -> None:
    answer = http_get(apache, "/", {"Host": "localhost"})
    assert answer["status"] == 500
    assert "Error establishing a database connection" in answer["body"]


@pytest.mark.parametrize(
    "path",
    [
        "/wp-content/themes/twentytwentyfive/style.css",
        "/wp-includes/js/underscore.min.js",
    ],
)
def test_static_files_through_aliases_and_symlinks(apache: Host, path: str) -> None:
    assert http_get(apache, path)["status"] == 200


def test_uploads_never_run_php(apache: Host) -> None:
    apache.run_expect([0], "printf '<?php echo 1;' > %s/uploads/evil.php", CONTENT_DIR)
    try:
        assert http_get(apache, "/wp-content/uploads/evil.php")["status"] == 403
    finally:
        apache.run("rm -f %s/uploads/evil.php", CONTENT_DIR)


def test_access_log_shows_the_forwarded_client(apache: Host) -> None:
    http_get(apache, "/healthz")
    http_get(apache, "/readme.html", {"X-Forwarded-For": CLIENT_ADDRESS})
    log = apache.file(APACHE_LOG).content_string
    assert f"{CLIENT_ADDRESS} - - [" in log
    assert "GET /readme.html" in log
    assert "GET /healthz" not in log, "health checks stay out of the access log"
