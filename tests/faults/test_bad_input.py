"""The README's bad-input table through the whole site, on a fresh environment name: every stage's input is
checked before the first stage changes anything, so the run ends with changed=0 and nothing of the
environment exists in moto or Docker. (Before, a bad service value was refused only when the service
stage started: the network, registry, database and image were built by then.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import MotoServer, PlaybookResult
from tests.resources import resources_of

pytestmark = [pytest.mark.stack]
Runner = Callable[..., PlaybookResult]
ARGUMENT_SPEC = "Every stage's variables match its role's argument spec"
PREFLIGHT_SPEC = (
    "Validating arguments against arg spec 'main' - Checks name, region and AWS credentials before any change"
)
NOT_AN_INT = "argument '{}' is of type str and we were unable to convert to int: \"'{}'\" cannot be converted to an int"

# README "Bad input" rows 6-16 (8a and 10a: what AWS offers, asked read-only), 19 and 19b (17 and 18 are values
# earlier stages publish, tested on the role: tests/integration/test_role_service.py), and prod without a
# certificate: (input, failed task, message).
ROWS: dict[str, tuple[dict[str, Any], str, str]] = {
    "6 vpc-cidr": (
        {"network_vpc_cidr": "10.0.0.0/33"},
        "Refuse a layout AWS would refuse, before any AWS call",
        "network_vpc_cidr: '10.0.0.0/33' is not a valid IPv4 CIDR ('33' is not a valid netmask)",
    ),
    "7 overlap": (
        {"network_public_subnets": ["10.42.0.0/24", "10.42.0.0/25"]},
        "Refuse a layout AWS would refuse, before any AWS call",
        "network_public_subnets/network_private_subnets: 10.42.0.0/24 overlaps 10.42.0.0/25",
    ),
    "8 one-az": (
        {"network_azs": ["us-east-1a"]},
        "Refuse a layout AWS would refuse, before any AWS call",
        "network_azs: at least 2 distinct availability zones are needed, got ['us-east-1a']",
    ),
    "8a zone-of-another-region": (
        {"network_azs": ["us-east-1a", "eu-west-1a"]},
        "Refuse an availability zone the region does not have",
        "network_azs names eu-west-1a, not an available zone of us-east-1 (it has us-east-1a, us-east-1b, us-east-1c, "
        "us-east-1d, us-east-1e, us-east-1f). Nothing was changed.",
    ),
    "9 network-port": (
        {"network_container_port": "http"},
        ARGUMENT_SPEC,
        NOT_AN_INT.format("network_container_port", "http"),
    ),
    "10 engine": (
        {"database_engine": "oracle"},
        ARGUMENT_SPEC,
        "value of database_engine must be one of: mariadb, mysql, got: oracle",
    ),
    "10a engine-version": (
        {"database_engine_version": "9.9"},
        "Refuse an engine version RDS does not offer",
        "RDS offers no mariadb 9.9 in us-east-1 (database_engine_version). Nothing was changed.",
    ),
    "10b instance-class": (
        {"database_instance_class": "db.t4g.mirco"},
        "Refuse a DB instance class RDS does not offer for the engine version",
        "RDS offers no db.t4g.mirco for mariadb 11.4 in us-east-1 (database_instance_class). Nothing was changed.",
    ),
    "11 repository": (
        {"registry_repository_name": "Bad_Name"},
        "Validate the registry settings",
        "registry_repository_name 'Bad_Name' is not a name ECR accepts (lowercase, digits, . _ - / separators, "
        "2-256 characters), or registry_keep_images (10) is below 1",
    ),
    "12 keep-many": (
        {"registry_keep_images": "many"},
        ARGUMENT_SPEC,
        NOT_AN_INT.format("registry_keep_images", "many"),
    ),
    "13 state": (
        {"registry_state": "gone"},
        ARGUMENT_SPEC,
        "value of registry_state must be one of: present, absent, got: gone",
    ),
    "14 task-size": (
        {"service_cpu": 256, "service_memory": 4096},
        "Check service_cpu and service_memory are a task size Fargate offers",
        "service_cpu=256 with service_memory=4096 is not a Fargate task size. With service_cpu=256, service_memory "
        "must be one of 512, 1024, 2048.",
    ),
    "15 capacity": (
        {"service_min_capacity": 5, "service_max_capacity": 3},
        "Check service_min_capacity, service_max_capacity and service_desired_count",
        "service_min_capacity=5 and service_max_capacity=3 must satisfy 0 <= service_min_capacity <= "
        "service_max_capacity, with service_desired_count=2 between them.",
    ),
    "16 service-port": (
        {"service_container_port": "http"},
        ARGUMENT_SPEC,
        NOT_AN_INT.format("service_container_port", "http"),
    ),
    "18a upstream-checksum": (
        {"wordpress_image_source": "upstream", "wordpress_image_upstream_checksum": "md5:abc"},
        "Check the upstream source settings",
        "wordpress_image_source=upstream needs an https:// (or file://) wordpress_image_upstream_url and a "
        "wordpress_image_upstream_checksum such as 'sha1:<40 hex digits>' (wordpress.org publishes it as <url>.sha1); "
        "got url=https://wordpress.org/wordpress-6.8.2.tar.gz checksum=md5:abc.",
    ),
    "18b theme-checksum": (
        {"wordpress_image_themes": [{"src": "https://downloads.example.test/theme/shop.zip", "checksum": "md5:abc"}]},
        "Check the pinned downloads (themes, plugins, WP-CLI)",
        "wordpress_image_themes: src must be a URL (https://, http://, file://) or an absolute path on the controller, "
        "and checksum 'sha256:<64 hex digits>' (or sha384, sha512) of that file, so that what goes into the image is "
        "what was pinned; got src='https://downloads.example.test/theme/shop.zip' checksum='md5:abc'.",
    ),
    "18c wp-cli-unpinned": (
        {"wordpress_image_wp_cli_src": "https://downloads.example.test/wp-cli.phar"},
        "Check the pinned downloads (themes, plugins, WP-CLI)",
        "wordpress_image_wp_cli_src: src must be a URL (https://, http://, file://) or an absolute path on the "
        "controller, and checksum 'sha256:<64 hex digits>' (or sha384, sha512) of that file, so that what goes into "
        "the image is what was pinned; got src='https://downloads.example.test/wp-cli.phar' checksum=''.",
    ),
    "19 log-retention": (
        {"service_log_retention_days": 10},
        ARGUMENT_SPEC,
        "value of service_log_retention_days must be one of: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
        "545, 731, 1827, 3653, got: 10",
    ),
    "19b deploy-wait": (
        {"ecs_deploy_poll_interval": 10, "ecs_deploy_max_poll_interval": 5},
        "Check the rollout wait settings",
        "ecs_deploy_timeout (900) and ecs_deploy_poll_interval (10) must be greater than 0, "
        "ecs_deploy_max_poll_interval (5) at least ecs_deploy_poll_interval, and ecs_deploy_fail_on_stalled_after (3) "
        "at least 1.",
    ),
    "19d install-email": (
        {"ecspress_admin_email": "webmaster"},
        "Check the install settings",
        "The install needs a site title (ecspress_site_title / ecs_deploy_site_title: 'ecspress-bad-NAME'), an "
        "administrator login of 1-60 letters, digits and . _ @ - (ecspress_admin_user / ecs_deploy_admin_user: "
        "'admin'), an e-mail address (ecspress_admin_email / ecs_deploy_admin_email: 'webmaster') and "
        "ecs_deploy_install_timeout > 0 (600).",
    ),
    "19e site-url": (
        {"service_site_url": "www.example.com"},
        "Check service_site_url",
        "service_site_url 'www.example.com' is not an http:// or https:// URL with a host name (e.g. "
        "https://www.example.com/); leave it empty for the load balancer's address.",
    ),
    "19f smtp": (
        {"service_smtp_host": "email-smtp.eu-west-1.amazonaws.com", "service_smtp_user": "AKIAEXAMPLE"},
        "Check the mail settings",
        "service_smtp_host ('email-smtp.eu-west-1.amazonaws.com') must be empty or a host name, service_smtp_port "
        "(587) a port number, service_smtp_from ('') empty or an e-mail address, and service_smtp_user ('AKIAEXAMPLE') "
        "and service_smtp_password (not shown) set both or neither.",
    ),
    "19c env-spelling": (
        {"ecspress_env": "production"},
        PREFLIGHT_SPEC,
        "value of ecspress_env must be one of: local, dev, staging, prod, got: production",
    ),
    "prod over http": (
        {"ecspress_env": "prod"},
        "Check prod is served over HTTPS",
        "ecspress_env is prod and service_certificate_arn is empty: the site would be served over plain HTTP (its "
        "install page and logins included). Set service_certificate_arn to an ACM certificate for the site's domain, "
        "or service_allow_http_in_prod=true to accept HTTP.",
    ),
}


@pytest.mark.parametrize("row", sorted(ROWS))
def test_bad_input_is_refused_before_the_first_stage(
    row: str, moto_server: MotoServer, playbook_runner: Runner
) -> None:
    extra, task, message = ROWS[row]
    name = f"ecspress-bad-{uuid.uuid4().hex[:6]}"
    result = playbook_runner(
        "playbooks/site.yml", extravars={"ecspress_name": name, "ecspress_aws_endpoint_url": moto_server.url, **extra}
    )
    assert result.rc != 0 and result.changed == 0, result.changed_tasks
    assert len(result.failed_tasks) == 1, result.failed_tasks
    failed_task, _, shown = result.failed_tasks[0].partition(": ")
    if task in (
        ARGUMENT_SPEC,
        PREFLIGHT_SPEC,
    ):  # the module's message: "Validation of arguments failed:" and one line per error
        assert (failed_task, shown.splitlines()[1:]) == (task, [message]), result.failed_tasks
    else:
        assert (failed_task, shown) == (task, message.replace("ecspress-bad-NAME", name)), result.failed_tasks
    assert resources_of(moto_server, name) == {}
