"""Pure helpers of the modules the service role needs that amazon.aws / community.aws lack.

Whole-module runs against moto are in tests/integration/test_role_service.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from ansible_collections.ecspress.wordpress.plugins.modules import (
    application_autoscaling_target,
    ecs_cluster_settings,
    ecs_service_settings,
    efs_access_point,
)

PARAMS: dict[str, Any] = {
    "network_configuration": {
        "subnets": ["subnet-a", "subnet-b"],
        "security_groups": ["sg-t"],
        "assign_public_ip": False,
    },
    "deployment_configuration": {
        "maximum_percent": 200,
        "minimum_healthy_percent": 100,
        "deployment_circuit_breaker": {"enable": True, "rollback": True},
    },
    "platform_version": "LATEST",
    "health_check_grace_period_seconds": 120,
}


def described_service(**changes: Any) -> dict[str, Any]:
    service: dict[str, Any] = {
        "networkConfiguration": {
            "awsvpcConfiguration": {"subnets": ["subnet-b", "subnet-a"], "securityGroups": ["sg-t"]},
        },
        "deploymentConfiguration": {
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "alarms": {"enable": False, "rollback": False, "alarmNames": []},
        },
        "platformVersion": "LATEST",
        "healthCheckGracePeriodSeconds": 120,
    }
    service.update(changes)
    return service


def drift(service: dict[str, Any], params: dict[str, Any] = PARAMS) -> list[str]:
    wanted = ecs_service_settings.wanted_settings(params)
    return ecs_service_settings.drifted_settings(ecs_service_settings.current_settings(service), wanted)


def test_service_matching_in_another_order_has_no_drift() -> None:
    assert drift(described_service()) == []


@pytest.mark.parametrize(
    ("changes", "drifted"),
    [
        (
            {"networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-c"], "securityGroups": ["sg-t"]}}},
            "networkConfiguration",
        ),
        ({"platformVersion": "1.4.0"}, "platformVersion"),
        ({"healthCheckGracePeriodSeconds": 0}, "healthCheckGracePeriodSeconds"),
        ({"deploymentConfiguration": {"maximumPercent": 150, "minimumHealthyPercent": 100}}, "deploymentConfiguration"),
    ],
)
def test_each_setting_ecs_service_ignores_is_compared(changes: dict[str, Any], drifted: str) -> None:
    assert drift(described_service(**changes)) == [drifted]


def test_public_ip_counts_as_drift() -> None:
    params = {**PARAMS, "network_configuration": {**PARAMS["network_configuration"], "assign_public_ip": True}}
    assert drift(described_service(), params) == ["networkConfiguration"]


def test_options_left_out_are_not_compared() -> None:
    assert drift(described_service(platformVersion="1.4.0"), {"platform_version": None}) == []


def test_deployment_configuration_is_sent_whole() -> None:
    wanted = ecs_service_settings.wanted_settings({"deployment_configuration": {"maximum_percent": 150}})
    current = ecs_service_settings.current_settings(described_service())
    update = ecs_service_settings.update_parameters(current, wanted, ["deploymentConfiguration"])
    config = update["deploymentConfiguration"]
    assert config["maximumPercent"] == 150
    assert config["minimumHealthyPercent"] == 100
    assert config["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_cluster_settings_to_change() -> None:
    assert (
        ecs_cluster_settings.settings_to_change({"containerInsights": "enabled"}, {"containerInsights": "enabled"})
        == {}
    )
    assert ecs_cluster_settings.settings_to_change({}, {"containerInsights": "enhanced"}) == {
        "containerInsights": "enhanced"
    }


ACCESS_POINT = {
    "PosixUser": {"Uid": 33, "Gid": 33, "SecondaryGids": []},
    "RootDirectory": {"Path": "/wp-content", "CreationInfo": {"OwnerUid": 33, "OwnerGid": 33, "Permissions": "0755"}},
}


def identity(uid: int = 33, path: str = "/wp-content", creation: bool = True) -> dict[str, Any]:
    root: dict[str, Any] = {"path": path}
    if creation:
        root["creation_info"] = {"owner_uid": 33, "owner_gid": 33, "permissions": "0755"}
    return efs_access_point.wanted_identity({"posix_user": {"uid": uid, "gid": 33}, "root_directory": root})


def test_access_point_identity_matches() -> None:
    assert efs_access_point.identity_conflicts(ACCESS_POINT, identity()) == []
    assert efs_access_point.identity_conflicts(ACCESS_POINT, identity(creation=False)) == []


def test_access_point_identity_conflicts_are_named() -> None:
    assert efs_access_point.identity_conflicts(ACCESS_POINT, identity(uid=1000)) == ["PosixUser"]
    assert efs_access_point.identity_conflicts(ACCESS_POINT, identity(path="/other")) == ["RootDirectory"]


def test_access_point_client_token_is_new_for_a_new_file_system() -> None:
    """A recreated environment (same name, new file system) must not reuse the token EFS remembers."""
    assert efs_access_point.client_token("wp-content", "fs-1") == "wp-content-fs-1"
    assert efs_access_point.client_token("wp-content", "fs-2") != efs_access_point.client_token("wp-content", "fs-1")
    long_name = "n" * 60
    token = efs_access_point.client_token(long_name, "fs-12345678")
    assert len(token) == 64 and token != efs_access_point.client_token(long_name, "fs-87654321")
    assert efs_access_point.client_token("n" * 50, "fs-12345678") == "n" * 50 + "-fs-12345678"  # 62: kept as is


class _Exited(Exception):
    pass


class _Module:
    check_mode = False

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params

    def exit_json(self, **result: Any) -> None:
        raise _Exited(result)


class _EFS:
    def __init__(self) -> None:
        self.created: dict[str, Any] = {}

    def create_access_point(self, **request: Any) -> dict[str, Any]:
        self.created = request
        return {"AccessPointId": "fsap-1", "FileSystemId": request["FileSystemId"], "LifeCycleState": "available"}


def test_a_create_sends_the_token_of_the_name_and_the_file_system() -> None:
    params = {
        "name": "wp-content",
        "file_system_id": "fs-2",
        "tags": {},
        "posix_user": {"uid": 33, "gid": 33},
        "root_directory": {"path": "/wp-content"},
        "wait_timeout": 5,
    }
    client = _EFS()
    with pytest.raises(_Exited):
        efs_access_point.ensure_present(_Module(params), client, None)  # type: ignore[arg-type]
    assert client.created["ClientToken"] == "wp-content-fs-2"


def test_access_point_result_is_snake_case_with_tag_dict() -> None:
    result = efs_access_point.result_of({"AccessPointId": "fsap-1", "Tags": [{"Key": "Name", "Value": "wp"}]})
    assert result == {"access_point_id": "fsap-1", "tags": {"Name": "wp"}}
    assert efs_access_point.result_of(None) == {}


def test_scalable_target_capacity() -> None:
    target = {"MinCapacity": 2, "MaxCapacity": 6, "ResourceId": "service/c/s", "CreationTime": "x"}
    assert application_autoscaling_target.capacity_of(target) == {"min_capacity": 2, "max_capacity": 6}
    assert application_autoscaling_target.capacity_of(None) == {}
    assert "creation_time" not in application_autoscaling_target.result_of(target)
