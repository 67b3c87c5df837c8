"""The one place that names an environment's resources (module_utils/_names.py) and its filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ecspress.wordpress.plugins.filter.names import FilterModule
from ansible_collections.ecspress.wordpress.plugins.module_utils._names import resource_names


def test_the_names_aws_and_the_tests_know() -> None:
    names = resource_names("ecspress-prod")
    assert (names["cluster"], names["service"], names["family"]) == (
        "ecspress-prod",
        "ecspress-prod",
        "ecspress-prod-wordpress",
    )
    assert (names["alb"], names["target_group"], names["log_group"]) == (
        "ecspress-prod-alb",
        "ecspress-prod-tg",
        "/ecs/ecspress-prod",
    )
    assert (names["keys_secret"], names["db_secret"], names["repository"]) == (
        "ecspress-prod/wordpress-keys",
        "ecspress-prod/database",
        "ecspress-prod/wordpress",
    )
    assert (names["admin_secret"], names["smtp_secret"]) == ("ecspress-prod/wordpress-admin", "ecspress-prod/smtp")


def test_the_longest_name_fits_the_alb_limit() -> None:
    """ALB and target group names are at most 32 characters; an environment name is at most 28."""
    names = resource_names("a" * 28)
    assert max(len(names["alb"]), len(names["target_group"])) == 32


def test_the_filter_refuses_no_name() -> None:
    names_of = FilterModule().filters()["resource_names"]
    assert names_of("x") == resource_names("x")
    with pytest.raises(AnsibleFilterError, match=r"^resource_names: an environment name is a non-empty string, got ''"):
        names_of("")
