# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that names an environment's resources, from its name (`ecspress_name`).

Private to the ecspress.wordpress collection: no stability promise to other collections. The preflight publishes
these as `ecspress_names` (the `resource_names` filter); every role reads its names from there through its
defaults, and playbooks/status.yml and the tests' leak check read the same, so a name is never rebuilt by hand.
"""

from __future__ import annotations


def resource_names(name: str) -> dict[str, str]:
    """Every resource name of the environment `name` (at most 28 characters: the ALB adds `-alb`, 32 at most)."""
    return {
        # network
        "vpc": name,
        "alb_security_group": f"{name}-alb",
        "task_security_group": f"{name}-task",
        "db_security_group": f"{name}-db",
        "efs_security_group": f"{name}-efs",
        # database
        "db_instance": name,
        "db_subnet_group": name,
        "db_secret": f"{name}/database",
        "final_snapshot_prefix": f"{name}-final-",
        # registry and image
        "repository": f"{name}/wordpress",
        "builder": f"{name}-builder",
        # service
        "cluster": name,
        "service": name,
        "family": f"{name}-wordpress",
        "log_group": f"/ecs/{name}",
        "execution_role": f"{name}-task-execution",
        "task_role": f"{name}-task",
        "execution_policy": f"{name}-task-execution",
        "task_policy": f"{name}-task",
        "keys_secret": f"{name}/wordpress-keys",
        "admin_secret": f"{name}/wordpress-admin",
        "smtp_secret": f"{name}/smtp",
        "efs": f"{name}-wp-content",
        "access_point": f"{name}-wp-content",
        "alb": f"{name}-alb",
        "target_group": f"{name}-tg",
        "scaling_policy": f"{name}-cpu",
        # local run (the local inventory's containers, network and volume on the Docker engine)
        "local_wordpress": f"{name}-wordpress",
        "local_db": f"{name}-db",
        "local_network": f"{name}-net",
        "local_db_volume": f"{name}-db-data",
        "local_uploads_volume": f"{name}-uploads",
    }
