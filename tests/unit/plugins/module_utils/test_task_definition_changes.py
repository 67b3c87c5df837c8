"""The one comparison of task definitions (module_utils/_task_definition.py): what differs, AWS-filled values aside."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.ecspress.wordpress.plugins.module_utils._task_definition import (
    task_definition_changes as ecs_task_definition_changes,
)

DIGEST = "sha256:" + "ab" * 32


def wanted_definition() -> dict[str, Any]:
    return {
        "family": "wp",
        "networkMode": "awsvpc",
        "cpu": "512",
        "memory": "1024",
        "requiresCompatibilities": ["FARGATE"],
        "containerDefinitions": [
            {
                "name": "wordpress",
                "image": f"repo@{DIGEST}",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                "secrets": [{"name": "PW", "valueFrom": "arn:secret:password::"}],
                "healthCheck": {"command": ["CMD-SHELL", "true"], "interval": 30},
                "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "g"}},
                "mountPoints": [{"sourceVolume": "wp", "containerPath": "/c"}],
            }
        ],
        "volumes": [{"name": "wp", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "rootDirectory": "/"}}],
    }


def described(wanted: dict[str, Any]) -> dict[str, Any]:
    """The definition as ECS answers it: filled-in values, reordered lists, ARN and status."""
    actual = copy.deepcopy(wanted)
    actual.update(taskDefinitionArn="arn:td/wp:3", revision=3, status="ACTIVE", compatibilities=["EC2", "FARGATE"])
    container = actual["containerDefinitions"][0]
    container.update(cpu=0, volumesFrom=[], systemControls=[])
    container["environment"].reverse()
    container["mountPoints"][0]["readOnly"] = False
    actual["placementConstraints"] = []
    return actual


def test_filled_in_values_are_not_changes() -> None:
    assert ecs_task_definition_changes(wanted_definition(), described(wanted_definition())) == []


def test_snake_case_answer_of_the_info_module_is_understood() -> None:
    actual = camel_dict_to_snake_dict(described(wanted_definition()))
    assert ecs_task_definition_changes(wanted_definition(), actual) == []


def test_numbers_as_strings_are_equal() -> None:
    actual = described(wanted_definition())
    actual["cpu"] = 512
    assert ecs_task_definition_changes(wanted_definition(), actual) == []


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.update(cpu="1024"), "cpu"),
        (lambda d: d["containerDefinitions"][0].update(image="repo@sha256:" + "cd" * 32), "image"),
        (lambda d: d["containerDefinitions"][0]["environment"][0].update(value="9"), "environment[A].value"),
        (lambda d: d["containerDefinitions"][0]["environment"].append({"name": "C", "value": "3"}), "environment"),
        (lambda d: d["containerDefinitions"][0]["healthCheck"]["command"].__setitem__(1, "false"), "command[1]"),
        (lambda d: d["volumes"][0]["efsVolumeConfiguration"].update(fileSystemId="fs-2"), "fileSystemId"),
        (lambda d: d.update(executionRoleArn="arn:role/x"), "executionRoleArn (missing)"),
    ],
)
def test_real_changes_are_found(change: Any, path: str) -> None:
    wanted = wanted_definition()
    actual = described(wanted_definition())
    change(wanted)
    changes = ecs_task_definition_changes(wanted, actual)
    assert changes and any(path in item for item in changes), changes


def test_changes_never_carry_values() -> None:
    wanted = wanted_definition()
    wanted["containerDefinitions"][0]["environment"][0]["value"] = "s3cr3t-value"
    changes = ecs_task_definition_changes(wanted, described(wanted_definition()))
    assert changes and not any("s3cr3t" in item for item in changes)


def test_missing_or_inactive_revision_differs() -> None:
    assert ecs_task_definition_changes(wanted_definition(), {}) == ["(no active revision)"]
    inactive = described(wanted_definition())
    inactive["status"] = "INACTIVE"
    assert ecs_task_definition_changes(wanted_definition(), inactive) == ["status (INACTIVE)"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        ecs_task_definition_changes("nope", {})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ecs_task_definition_changes({}, ["nope"])  # type: ignore[arg-type]


# --- exact change lists (mutation testing: make mutation) -----------------------------------------------------------

WP = "containerDefinitions[wordpress]"


@pytest.mark.parametrize(
    ("key", "index", "change"),
    [
        ("environment", 1, f"{WP}.environment (length 2 -> 1)"),
        ("secrets", 0, f"{WP}.secrets (length 1 -> 0)"),
        ("portMappings", 0, f"{WP}.portMappings (length 1 -> 0)"),
        ("mountPoints", 0, f"{WP}.mountPoints (length 1 -> 0)"),
    ],
)
def test_a_removed_list_item_is_a_change(key: str, index: int, change: str) -> None:
    """An env var, secret, port or mount point taken out of the wanted definition is still in the running one."""
    wanted = wanted_definition()
    del wanted["containerDefinitions"][0][key][index]
    assert ecs_task_definition_changes(wanted, described(wanted_definition())) == [change]


def test_a_removed_item_is_a_change_in_the_snake_case_answer_too() -> None:
    wanted = wanted_definition()
    del wanted["containerDefinitions"][0]["secrets"][0]
    actual = camel_dict_to_snake_dict(described(wanted_definition()))
    assert ecs_task_definition_changes(wanted, actual) == ["container_definitions[wordpress].secrets (length 1 -> 0)"]


def test_a_replaced_item_names_the_missing_one() -> None:
    wanted = wanted_definition()
    wanted["containerDefinitions"][0]["environment"][1] = {"name": "C", "value": "2"}
    wanted["containerDefinitions"][0]["portMappings"][0]["containerPort"] = 8080
    assert ecs_task_definition_changes(wanted, described(wanted_definition())) == [
        f"{WP}.portMappings[8080] (missing)",
        f"{WP}.environment[C] (missing)",
    ]


def test_every_difference_is_listed_with_its_full_path() -> None:
    wanted = wanted_definition()
    wanted.update(cpu="1024", executionRoleArn="arn:role/x", taskRoleArn="arn:role/y")
    wanted["containerDefinitions"][0]["healthCheck"]["command"][1] = "false"
    wanted["volumes"][0]["efsVolumeConfiguration"]["fileSystemId"] = "fs-2"
    assert ecs_task_definition_changes(wanted, described(wanted_definition())) == [
        "cpu",
        f"{WP}.healthCheck.command[1]",
        "volumes[wp].efsVolumeConfiguration.fileSystemId",
        "executionRoleArn (missing)",
        "taskRoleArn (missing)",
    ]


def test_empty_wanted_values_match_absent_ones_and_do_not_stop_the_comparison() -> None:
    wanted = {"hostname": None, "user": "", "command": [], "dockerLabels": {}, "cpu": "1024", "memory": "2048"}
    assert ecs_task_definition_changes(wanted, {"cpu": "512"}) == ["cpu", "memory (missing)"]
    assert ecs_task_definition_changes({"user": "", "cpu": "512"}, {"user": "XXXX", "cpu": "512"}) == ["user"]


def test_an_emptied_list_differs_from_a_full_one() -> None:
    wanted = {"containerDefinitions": [{"name": "wordpress", "secrets": []}]}
    actual = {"containerDefinitions": [{"name": "wordpress", "secrets": [{"name": "PW", "valueFrom": "arn"}]}]}
    assert ecs_task_definition_changes(wanted, actual) == [f"{WP}.secrets (length 1 -> 0)"]


def test_booleans_are_compared_as_booleans() -> None:
    assert ecs_task_definition_changes({"essential": True}, {"essential": 1}) == ["essential"]
    assert ecs_task_definition_changes({"essential": 1}, {"essential": True}) == ["essential"]
    assert ecs_task_definition_changes({"essential": False}, {"essential": False}) == []


def test_lists_of_scalars_are_compared_by_position() -> None:
    assert ecs_task_definition_changes({"ports": [1, 2]}, {"ports": [2, 1]}) == ["ports[0]", "ports[1]"]
    assert ecs_task_definition_changes({"ports": []}, {"ports": []}) == []
    assert ecs_task_definition_changes({"ports": [1]}, {"ports": "1"}) == ["ports"]


def test_a_dict_where_the_answer_has_something_else() -> None:
    wanted = {"healthCheck": {"interval": 30, "retries": 3}}
    assert ecs_task_definition_changes(wanted, {"healthCheck": "none"}) == [
        "healthCheck.interval (missing)",
        "healthCheck.retries (missing)",
    ]
    assert ecs_task_definition_changes({"healthCheck": {"command": []}}, {"healthCheck": "none"}) == []


def test_an_answer_without_status_is_active() -> None:
    assert ecs_task_definition_changes({"cpu": "512"}, {"cpu": "512"}) == []


@pytest.mark.parametrize("marker", ["task_definition_arn", "container_definitions"])
def test_either_snake_case_key_marks_a_snake_case_answer(marker: str) -> None:
    actual = {marker: "x", "network_mode": "awsvpc"}
    assert ecs_task_definition_changes({"networkMode": "awsvpc"}, actual) == []


def test_bad_arguments_are_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"^ecs_task_definition_changes: the wanted task definition must be"):
        ecs_task_definition_changes("nope", {})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^ecs_task_definition_changes: the actual task definition must be"):
        ecs_task_definition_changes({}, ["nope"])  # type: ignore[arg-type]
