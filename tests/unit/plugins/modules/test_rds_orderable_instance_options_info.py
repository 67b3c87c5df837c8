"""rds_orderable_instance_options_info keeps the options of the version an inventory names (a major or a minor)."""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.modules import rds_orderable_instance_options_info as module


def options(*versions: str) -> list[dict[str, Any]]:
    return [{"Engine": "mariadb", "EngineVersion": v, "DBInstanceClass": "db.t4g.micro"} for v in versions]


@pytest.mark.parametrize(
    ("version", "kept"),
    [
        ("11.4", ["11.4.3", "11.4.5"]),  # a major keeps its minors
        ("11.4.5", ["11.4.5"]),
        ("11.40", ["11.40.1"]),  # not 11.4.x: the prefix ends at a dot
        ("10.6", []),
        (None, ["11.4.3", "11.4.5", "11.40.1"]),
        ("", ["11.4.3", "11.4.5", "11.40.1"]),
    ],
)
def test_of_version(version: str | None, kept: list[str]) -> None:
    found = module.of_version(options("11.4.3", "11.4.5", "11.40.1"), version)
    assert [option["EngineVersion"] for option in found] == kept
