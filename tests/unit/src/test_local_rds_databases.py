"""The local RDS model's MariaDB server is the instance as CreateDBInstance made it, at the instance's endpoint;
RunTask's overrides change the containers as ECS documents."""

from __future__ import annotations

from types import SimpleNamespace

from ecspress.local import ecs_tasks, rds_databases


def test_the_server_answers_at_the_endpoint_with_the_master_user_and_the_initial_database() -> None:
    db = SimpleNamespace(
        db_instance_identifier="wp-dev",
        address="wp-dev.aaaaaaaaaa.us-east-1.rds.amazonaws.com",
        master_username="wordpress",
        _master_user_password="pw-1",
        db_name="wordpress",
    )
    args = rds_databases.run_args(db, "123456789012/us-east-1")
    assert args[args.index("--network") + 1] == ecs_tasks.NETWORK
    assert args[args.index("--network-alias") + 1] == "wp-dev.aaaaaaaaaa.us-east-1.rds.amazonaws.com"
    environment = {args[i + 1] for i, word in enumerate(args) if word == "--env"}
    assert environment == {
        "MARIADB_ROOT_PASSWORD=pw-1",
        "MARIADB_USER=wordpress",
        "MARIADB_PASSWORD=pw-1",
        "MARIADB_DATABASE=wordpress",
    }
    assert f"{rds_databases.PLACE_LABEL}=123456789012/us-east-1" in args
    assert args[-1] == rds_databases.MARIADB_IMAGE
    assert "--publish" not in args  # reachable from the tasks' network only


def test_overrides_replace_the_command_and_add_environment_by_name_and_drop_health_checks() -> None:
    definitions = [
        {
            "name": "web",
            "command": ["apache2-foreground"],
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "healthCheck": {"command": ["CMD", "true"]},
        },
        {"name": "sidecar", "command": ["sleep", "1"]},
    ]
    overrides = {
        "containerOverrides": [
            {"name": "web", "command": ["ecspress-wp-install"], "environment": [{"name": "B", "value": "3"}]}
        ]
    }
    assert ecs_tasks.with_overrides(definitions, overrides) == [
        {
            "name": "web",
            "command": ["ecspress-wp-install"],
            "environment": [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}],
        },
        {"name": "sidecar", "command": ["sleep", "1"]},
    ]
    assert ecs_tasks.with_overrides(definitions, None)[0]["command"] == ["apache2-foreground"]
