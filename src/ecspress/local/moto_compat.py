"""Small, named corrections to moto 5.2 behaviours that differ from AWS.

Each fix corrects exactly one moto behaviour that makes an `amazon.aws` / `community.aws`
module see a different world than it would on AWS (see FIELD-NOTES "AWS modules against
moto"). None of them changes how *our* code is judged: they make moto answer the way AWS
answers, nothing more. Each is applied once, in-process, before the server starts, and each
has a test in tests/local/test_moto_compat.py that fails without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.ec2 import utils as ec2_utils
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.efs import urls as efs_urls
from moto.efs.responses import EFSResponse

_APPLIED: set[str] = set()


def nat_gateway_tag_resource_type() -> None:
    """DescribeTags reports NAT gateways as `nat-gateway`; AWS (and the module's filter) say `natgateway`.

    Without it `amazon.aws.ec2_vpc_nat_gateway` finds no tags on its own gateway and reports
    changed=1 on every run.
    """
    ec2_utils.EC2_PREFIX_TO_RESOURCE[ec2_utils.EC2_RESOURCE_TO_PREFIX["nat-gateway"]] = "natgateway"


def _json(body: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return json.dumps(body), {"Content-Type": "application/json"}


def efs_legacy_tag_api() -> None:
    """moto serves only EFS's `resource-tags` API; `community.aws.efs` uses the legacy one.

    Adds DescribeTags (GET /2015-02-01/tags/{id}/), CreateTags and DeleteTags
    (POST /2015-02-01/create-tags/{id}, /delete-tags/{id}) on top of moto's tagging service.
    """

    def describe_tags(self: EFSResponse) -> tuple[str, dict[str, str]]:
        file_system_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.efs_backend.describe_file_systems(file_system_id=file_system_id)  # raises FileSystemNotFound
        return _json({"Tags": self.efs_backend.list_tags_for_resource(file_system_id)})

    def create_tags(self: EFSResponse) -> tuple[str, dict[str, str]]:
        file_system_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        tags = {tag["Key"]: tag.get("Value", "") for tag in self._get_param("Tags") or []}
        self.efs_backend.tag_resource(file_system_id, tags)
        return "", {"Content-Type": "application/json", "status": "204"}

    def delete_tags(self: EFSResponse) -> tuple[str, dict[str, str]]:
        file_system_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        self.efs_backend.untag_resource(file_system_id, self._get_param("TagKeys") or [])
        return "", {"Content-Type": "application/json", "status": "204"}

    EFSResponse.describe_tags = describe_tags  # type: ignore[attr-defined]
    EFSResponse.create_tags = create_tags  # type: ignore[attr-defined]
    EFSResponse.delete_tags = delete_tags  # type: ignore[attr-defined]
    dispatch = efs_urls.response.dispatch
    for path in (
        "/2015-02-01/tags/<file_system_id>/",
        "/2015-02-01/create-tags/<file_system_id>",
        "/2015-02-01/delete-tags/<file_system_id>",
    ):
        efs_urls.url_paths.setdefault(path, dispatch)


# CreateService parameters moto's backend drops although UpdateService keeps them.
def efs_put_backup_policy() -> None:
    """moto answers DescribeBackupPolicy but has no PutBackupPolicy (NotImplemented): the file system's automatic
    backups could be read but never switched on. Sets the policy moto's DescribeBackupPolicy reports.

    https://docs.aws.amazon.com/efs/latest/ug/API_PutBackupPolicy.html
    """

    def put_backup_policy(self: EFSResponse) -> tuple[str, dict[str, str]]:
        file_system_id = self.path.rstrip("/").split("/")[-2]
        self.efs_backend.describe_file_systems(file_system_id=file_system_id)  # raises FileSystemNotFound
        file_system = self.efs_backend.file_systems_by_id[file_system_id]
        status = str((self._get_param("BackupPolicy") or {}).get("Status") or "")
        file_system._backup = status in ("ENABLED", "ENABLING")
        return _json({"BackupPolicy": {"Status": "ENABLED" if file_system._backup else "DISABLED"}})

    EFSResponse.put_backup_policy = put_backup_policy  # type: ignore[attr-defined]


_CREATE_SERVICE_KEPT = {
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "deploymentConfiguration": "deployment_configuration",
    "enableExecuteCommand": "enable_execute_command",
    "enableECSManagedTags": "enable_ecs_managed_tags",
}


def ecs_create_service_keeps_settings() -> None:
    """CreateService drops healthCheckGracePeriodSeconds, deploymentConfiguration, enableExecuteCommand.

    UpdateService stores them, so `community.aws.ecs_service` sees a difference after
    every create and updates on the second run. Store them at creation, as ECS does.
    """
    original: Callable[[EC2ContainerServiceResponse], Any] = EC2ContainerServiceResponse.create_service

    def create_service(self: EC2ContainerServiceResponse) -> Any:
        result = original(self)
        service = self.ecs_backend.describe_services(
            self._get_param("cluster", "default"), [self._get_param("serviceName")]
        )[0][0]
        for param, attribute in _CREATE_SERVICE_KEPT.items():
            value = self._get_param(param)
            if value is not None:
                setattr(service, attribute, value)
        return result

    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]


def nat_gateway_network_interface() -> None:
    """A NAT gateway's network interface: typed `nat_gateway` while it lives, deleted with it, as on AWS.

    moto gives it the type `interface` and no description, and keeps it (with the gateway's Elastic IP
    associated) after DeleteNatGateway. AWS deletes it and releases the association
    (https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-working-with.html#nat-gateway-deleting,
    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html: InterfaceType
    `nat_gateway`). Without it, a teardown that waits for the VPC's interfaces to be gone would wait for ever.
    """
    create, delete = NatGatewayBackend.create_nat_gateway, NatGatewayBackend.delete_nat_gateway

    def create_nat_gateway(self: NatGatewayBackend, *args: Any, **kwargs: Any) -> Any:
        gateway = create(self, *args, **kwargs)
        gateway._eni.interface_type = "nat_gateway"
        gateway._eni.description = f"Interface for NAT Gateway {gateway.id}"
        return gateway

    def delete_nat_gateway(self: NatGatewayBackend, nat_gateway_id: str) -> Any:
        gateway = delete(self, nat_gateway_id)
        interface = getattr(gateway, "_eni", None)
        if interface is not None and interface.id in self.enis:  # type: ignore[attr-defined]
            for address in self.addresses:  # type: ignore[attr-defined]
                if address.eni is interface:
                    address.eni, address.association_id = None, None
            self.enis.pop(interface.id)  # type: ignore[attr-defined]
        return gateway

    NatGatewayBackend.create_nat_gateway = create_nat_gateway  # type: ignore[method-assign]
    NatGatewayBackend.delete_nat_gateway = delete_nat_gateway  # type: ignore[method-assign]


def ecs_list_tasks_service_name() -> None:
    """ListTasks ignores ``serviceName`` (moto: "TODO"); AWS limits the answer to the tasks that belong to the service
    (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html). Without it the rollout wait counts
    the stopped one-off tasks of the same revision (an install, an admin command: RunTask) as the deployment's
    failures. A service's tasks carry the group ``service:<name>``, as on ECS.
    """
    from moto.ecs.models import EC2ContainerServiceBackend

    original = EC2ContainerServiceBackend.list_tasks

    def list_tasks(self: EC2ContainerServiceBackend, *args: Any, **kwargs: Any) -> Any:
        names = ["cluster_str", "container_instance", "family", "started_by", "service_name", "desiredStatus"]
        given = dict(zip(names, args, strict=False)) | kwargs
        found = original(self, **given)
        service = str(given.get("service_name") or "").rsplit("/", 1)[-1]
        return [task for task in found if getattr(task, "group", "") == f"service:{service}"] if service else found

    EC2ContainerServiceBackend.list_tasks = list_tasks  # type: ignore[method-assign]


FIXES: dict[str, Callable[[], None]] = {
    "nat_gateway_tag_resource_type": nat_gateway_tag_resource_type,
    "efs_legacy_tag_api": efs_legacy_tag_api,
    "efs_put_backup_policy": efs_put_backup_policy,
    "ecs_create_service_keeps_settings": ecs_create_service_keeps_settings,
    "nat_gateway_network_interface": nat_gateway_network_interface,
    "ecs_list_tasks_service_name": ecs_list_tasks_service_name,
}


def apply_all() -> list[str]:
    """Apply every fix once; return the names applied (idempotent)."""
    for name, fix in FIXES.items():
        if name not in _APPLIED:
            fix()
            _APPLIED.add(name)
    return sorted(_APPLIED)
