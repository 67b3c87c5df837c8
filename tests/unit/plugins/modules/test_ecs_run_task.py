"""ecs_run_task asks RunTask for one task with the container's command (never a secret) overridden."""

from __future__ import annotations

from ansible_collections.ecspress.wordpress.plugins.modules import ecs_run_task as module

PARAMS = {
    "cluster": "wp",
    "task_definition": "wp:7",
    "container": "wordpress",
    "command": ["ecspress-wp-install"],
    "environment": {"B": 2, "A": "1"},
    "subnets": ["subnet-1", "subnet-2"],
    "security_groups": ["sg-1"],
    "assign_public_ip": False,
    "launch_type": "FARGATE",
    "started_by": "ecspress-install-of-a-name-longer-than-thirty-six",
}


def test_the_run_request() -> None:
    assert module.run_request(PARAMS) == {
        "cluster": "wp",
        "taskDefinition": "wp:7",
        "count": 1,
        "launchType": "FARGATE",
        "startedBy": "ecspress-install-of-a-name-longer-th",
        "networkConfiguration": {
            "awsvpcConfiguration": {
                "subnets": ["subnet-1", "subnet-2"],
                "securityGroups": ["sg-1"],
                "assignPublicIp": "DISABLED",
            }
        },
        "overrides": {
            "containerOverrides": [
                {
                    "name": "wordpress",
                    "command": ["ecspress-wp-install"],
                    "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                }
            ]
        },
    }


def test_no_environment_no_environment_override() -> None:
    request = module.run_request({**PARAMS, "environment": {}, "assign_public_ip": True})
    assert request["overrides"]["containerOverrides"][0] == {"name": "wordpress", "command": ["ecspress-wp-install"]}
    assert request["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "ENABLED"
