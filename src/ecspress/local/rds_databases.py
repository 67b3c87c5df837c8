"""The local stand-in's RDS instances as real MariaDB servers that the local ECS tasks reach by their endpoint.

moto's RDS keeps DB instances as records: their endpoint (``<id>.aaaaaaaaaa.<region>.rds.amazonaws.com``) resolves
nowhere, so a task of the local stack could not reach its database, and nothing that needs one (completing the
WordPress install as a one-off task, a home page served from the database) could be tried. On AWS the endpoint of an
``available`` instance accepts connections from the VPC with the master user's password and holds the initial
database ``DBName`` (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html).

Before a local ECS task starts, every MySQL or MariaDB instance of the task's account and region gets a MariaDB
container on the task network (``ecs_tasks.NETWORK``), reachable there by the instance's endpoint address (a
network alias), with the master user, its password and the initial database as created. A ``stopped`` instance has
its container stopped (connections are refused, as on AWS; StopDBInstance and StartDBInstance apply at once), and a
deleted instance has its container and data removed with it (DeleteDBInstance). The container is started only once
the MariaDB image (``ECSPRESS_LOCAL_MARIADB_IMAGE``, built by the image stage's smoke test) is on the engine;
without it the instance stays a record, as before. A master password changed later (ModifyDBInstance) is not
applied: docs/aws-differences.md says so.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from ecspress.local import ecs_tasks

MARIADB_IMAGE = os.environ.get("ECSPRESS_LOCAL_MARIADB_IMAGE", "ecspress/mariadb:trixie")
DATABASE_LABEL = "io.ecspress.rds-instance"
PLACE_LABEL = "io.ecspress.rds-place"  # <account>/<region>: instance ids are unique only there
ENGINES = ("mysql", "mariadb")
READY_SECONDS = 90.0


def container_name(instance_id: str) -> str:
    return f"ecspress-rds-{instance_id}-{ecs_tasks.server_id()}"


def instances(account_id: str, region: str) -> list[Any]:
    from moto.rds.models import rds_backends

    return [db for db in rds_backends[account_id][region].databases.values() if str(db.engine) in ENGINES]


def master_password(db: Any) -> str:
    """The master password moto keeps (its `master_user_password` property refuses to be read, as the API does)."""
    return str(getattr(db, "_master_user_password", "") or "")


def run_args(db: Any, place: str) -> list[str]:
    """`docker run` words for one DB instance: the master user and initial database as CreateDBInstance made them."""
    password = master_password(db)
    return [
        "run",
        "--detach",
        "--name",
        container_name(db.db_instance_identifier),
        "--network",
        ecs_tasks.NETWORK,
        "--network-alias",
        str(db.address),
        "--label",
        f"{DATABASE_LABEL}={db.db_instance_identifier}",
        "--label",
        f"{PLACE_LABEL}={place}",
        "--label",
        f"{ecs_tasks.SERVER_LABEL}={ecs_tasks.server_id()}",
        "--env",
        f"MARIADB_ROOT_PASSWORD={password}",
        "--env",
        f"MARIADB_USER={db.master_username}",
        "--env",
        f"MARIADB_PASSWORD={password}",
        "--env",
        f"MARIADB_DATABASE={db.db_name or ''}",
        MARIADB_IMAGE,
    ]


def containers(place: str) -> dict[str, dict[str, Any]]:
    """This server's database containers of one account and region: instance id -> Docker state."""
    server = f"label={ecs_tasks.SERVER_LABEL}={ecs_tasks.server_id()}"
    listed = ecs_tasks.docker("ps", "--all", "--quiet", "--filter", server, "--filter", f"label={PLACE_LABEL}={place}")
    found = listed.stdout.split()
    if not found:
        return {}
    described = json.loads(ecs_tasks.docker("container", "inspect", *found).stdout or "[]")
    return {str(item["Config"]["Labels"][DATABASE_LABEL]): item["State"] for item in described}


def wait_ready(name: str) -> None:
    """Until the server answers (the image's health check), as an instance is `available` only once it does."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        state = json.loads(ecs_tasks.docker("container", "inspect", name).stdout or "[{}]")[0].get("State", {})
        if state.get("Health", {}).get("Status") == "healthy" or not state.get("Running", False):
            return
        time.sleep(1)


def reconcile(account_id: str, region: str) -> None:
    """Start, stop or remove containers so that they match the DB instances moto holds now."""
    if ecs_tasks.docker("image", "inspect", MARIADB_IMAGE).returncode != 0:
        return
    ecs_tasks.ensure_network()
    place = f"{account_id}/{region}"
    wanted = {str(db.db_instance_identifier): db for db in instances(account_id, region)}
    present = containers(place)
    for instance_id in present.keys() - wanted.keys():
        ecs_tasks.docker("rm", "--force", "--volumes", container_name(instance_id))
    for instance_id, db in wanted.items():
        name, state = container_name(instance_id), present.get(instance_id)
        if db.status == "stopped":
            if state and state.get("Running"):
                ecs_tasks.docker("stop", name)
            continue
        if state is None:
            ecs_tasks.docker(*run_args(db, place))
        elif not state.get("Running"):
            ecs_tasks.docker("start", name)
        wait_ready(name)


def remove(instance_id: str) -> None:
    """The container of a deleted instance goes with it (its data too), as the instance's storage does on AWS; an
    instance that never had one is no error."""
    ecs_tasks.docker("rm", "--force", "--volumes", container_name(instance_id))


def _wrap_delete(original: Any) -> Any:
    def delete_db_instance(self: Any, db_instance_identifier: str, *args: Any, **kwargs: Any) -> Any:
        deleted = original(self, db_instance_identifier, *args, **kwargs)
        remove(db_instance_identifier)
        return deleted

    return delete_db_instance


def _wrap_stop_start(original: Any) -> Any:
    def stop_or_start(self: Any, db_instance_identifier: str, *args: Any, **kwargs: Any) -> Any:
        changed = original(self, db_instance_identifier, *args, **kwargs)
        # A stopped instance refuses connections, a started one takes them again (docker stop waits up to 10 s:
        # not inside the API call, which returns at once on AWS too).
        threading.Thread(target=reconcile, args=(self.account_id, self.region_name), daemon=True).start()
        return changed

    return stop_or_start


def install() -> str:
    """Hook the model into moto's RDS backend (idempotent); returns its name for the start banner."""
    from moto.rds.models import RDSBackend

    if not getattr(RDSBackend, "_ecspress_databases_model", False):
        RDSBackend.delete_db_instance = _wrap_delete(RDSBackend.delete_db_instance)  # type: ignore[method-assign]
        RDSBackend.stop_db_instance = _wrap_stop_start(RDSBackend.stop_db_instance)  # type: ignore[method-assign]
        RDSBackend.start_db_instance = _wrap_stop_start(RDSBackend.start_db_instance)  # type: ignore[method-assign]
        RDSBackend._ecspress_databases_model = True  # type: ignore[attr-defined]
    return "rds_databases_model"
