"""AWS request rules the local stand-in enforces because moto 5.2 does not.

moto accepts requests AWS refuses, so code that passes locally can stop at its first AWS call.
Each rule here is one check AWS makes, named after it, citing the AWS page it comes from and
answering with AWS's own error code and message. They are installed in-process into moto's
response classes before the server starts (like `moto_compat`), and each has a test in
tests/local/test_aws_rules.py that it fires, that a valid request passes, and that plain moto
accepts the request (so the rule is needed). `MOTO_ALREADY_ENFORCES` lists the AWS rules the
product depends on that moto already enforces: they are tested through our server too.

Unlike `moto_compat`, a rule never makes moto more lenient: it only refuses, or reports what
AWS reports (an engine version resolved to its minor, gp3 baseline IOPS).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ec2.exceptions import InvalidAvailabilityZoneError
from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend
from moto.ec2.responses.subnets import Subnets
from moto.efs.models import EFSBackend
from moto.rds.exceptions import RDSClientError
from moto.rds.responses import RDSResponse
from moto.secretsmanager.exceptions import InvalidRequestException
from moto.secretsmanager.responses import SecretsManagerResponse

_APPLIED: set[str] = set()

# --- the stand-in's RDS catalogue -----------------------------------------------------------
# What RDS offers for the engines ecspress uses (a snapshot, not live data; AWS changes it as
# minors are released and retired). Per major: its minors, oldest first, and the one RDS picks
# when a create names only the major (its "default"). `_DEFAULT_MAJOR` is the engine's default.
ENGINE_VERSIONS: dict[str, dict[str, tuple[list[str], str]]] = {
    "mariadb": {
        "10.6": (["10.6.19", "10.6.20", "10.6.21"], "10.6.21"),
        "10.11": (["10.11.9", "10.11.10", "10.11.11"], "10.11.11"),
        "11.4": (["11.4.3", "11.4.4", "11.4.5"], "11.4.5"),
    },
    "mysql": {
        "8.0": (["8.0.39", "8.0.40", "8.0.41"], "8.0.41"),
        "8.4": (["8.4.3", "8.4.4"], "8.4.4"),
    },
}
_DEFAULT_MAJOR = {"mariadb": "11.4", "mysql": "8.0"}
# Instance classes RDS offers for MySQL/MariaDB (a subset: the ones a WordPress site would pick).
INSTANCE_CLASSES: dict[str, frozenset[str]] = {
    engine: frozenset(
        f"db.{family}.{size}"
        for family in ("t3", "t4g")
        for size in ("micro", "small", "medium", "large", "xlarge", "2xlarge")
    )
    | frozenset(
        f"db.{family}.{size}"
        for family in ("m5", "m6g", "m6i", "m7g", "r5", "r6g", "r6i", "r7g")
        for size in ("large", "xlarge", "2xlarge", "4xlarge")
    )
    for engine in ENGINE_VERSIONS
}
_GP3_BASELINE_BELOW_400 = (3000, 125)  # IOPS, MiB/s included under 400 GiB (MySQL/MariaDB)
_GP3_BASELINE_FROM_400 = (12000, 500)
_STORAGE_GIB = (20, 65536)  # gp2/gp3 for MySQL/MariaDB


def _major(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _offered(engine: str, version: str) -> bool:
    minors, _ = ENGINE_VERSIONS.get(engine, {}).get(_major(version), ([], ""))
    return version in minors


def _resolve(engine: str, version: str | None) -> str | None:
    """The full version RDS creates for `version` (None: unknown engine or version)."""
    majors = ENGINE_VERSIONS.get(engine)
    if majors is None:
        return version  # not an engine the stand-in models: leave it to moto
    if not version:
        return majors[_DEFAULT_MAJOR[engine]][1]
    if version in majors:
        return majors[version][1]
    return version if _offered(engine, version) else None


def _error(code: str, message: str) -> RDSClientError:
    return RDSClientError(code, message)


def _instance(response: RDSResponse) -> Any:
    return response.backend.describe_db_instances(response.params.get("DBInstanceIdentifier"))[0]


# --- RDS rules: each takes the request's parameters and the instance (None on create) -----------


def rds_gp3_iops_throughput_below_400(params: Any, instance: Any) -> None:
    """gp3 for MySQL/MariaDB under 400 GiB has a fixed baseline (3000 IOPS, 125 MiB/s): naming either refused.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/CHAP_Storage.html#gp3-storage
    """
    engine = params.get("Engine") or getattr(instance, "engine", None)
    storage_type = params.get("StorageType") or getattr(instance, "storage_type", None)
    storage = params.get("AllocatedStorage") or getattr(instance, "allocated_storage", None)
    if engine not in ("mysql", "mariadb") or storage_type != "gp3" or storage is None or int(storage) >= 400:
        return
    if params.get("Iops") is not None or params.get("StorageThroughput") is not None:
        raise _error(
            "InvalidParameterCombination",
            f"You can't specify IOPS or storage throughput for engine {engine} and a storage size less than 400.",
        )


def rds_engine_version_offered(params: Any, instance: Any) -> None:
    """CreateDBInstance: EngineVersion must be one RDS offers; a major alone resolves to its default minor.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (EngineVersion)
    https://docs.aws.amazon.com/AmazonRDS/latest/MariaDBReleaseNotes/mariadb-versions.html
    """
    if instance is not None:
        return
    engine, version = params.get("Engine"), params.get("EngineVersion")
    resolved = _resolve(engine, version)
    if resolved is None:
        raise _error("InvalidParameterCombination", f"Cannot find version {version} for {engine}")
    if resolved != version:
        params["EngineVersion"] = resolved  # what RDS then reports for the instance


def rds_engine_version_upgrade_path(params: Any, instance: Any) -> None:
    """ModifyDBInstance: EngineVersion must be an upgrade target of the instance's version (not lower, not a major).

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html
    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_ModifyDBInstance.html (EngineVersion,
    AllowMajorVersionUpgrade)
    """
    target = params.get("EngineVersion")
    if instance is None or not target or target == instance.engine_version:
        return
    engine, current = instance.engine, instance.engine_version
    if engine not in ENGINE_VERSIONS:
        return
    if not _offered(engine, target):
        raise _error("InvalidParameterCombination", f"Cannot find upgrade path from {current} to {target}.")
    if _version_key(target) < _version_key(current):
        raise _error("InvalidParameterCombination", f"Cannot upgrade {engine} from {current} to {target}")
    if _major(target) != _major(current) and not params.get("AllowMajorVersionUpgrade"):
        raise _error(
            "InvalidParameterCombination",
            "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version.",
        )


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def rds_instance_class_for_engine(params: Any, instance: Any) -> None:
    """CreateDBInstance: the DB instance class must exist for the engine (`db.` prefix included).

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Concepts.DBInstanceClass.Support.html
    """
    if instance is not None:
        return
    engine, instance_class = params.get("Engine"), params.get("DBInstanceClass")
    if engine in INSTANCE_CLASSES and instance_class not in INSTANCE_CLASSES[engine]:
        version = _resolve(engine, params.get("EngineVersion")) or params.get("EngineVersion")
        raise _error(
            "InvalidParameterCombination",
            "RDS does not support creating a DB instance with the following combination: "
            f"DBInstanceClass={instance_class}, Engine={engine}, EngineVersion={version}, "
            "LicenseModel=general-public-license. For supported combinations of instance class and database "
            "engine version, see the documentation.",
        )


def rds_allocated_storage_bounds(params: Any, instance: Any) -> None:
    """AllocatedStorage for MySQL/MariaDB on gp2/gp3: 20 to 65536 GiB.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html (AllocatedStorage)
    """
    storage = params.get("AllocatedStorage")
    engine = params.get("Engine") or getattr(instance, "engine", None)
    storage_type = params.get("StorageType") or getattr(instance, "storage_type", None) or "gp2"
    if storage is None or engine not in ("mysql", "mariadb") or storage_type not in ("gp2", "gp3"):
        return
    low, high = _STORAGE_GIB
    if not low <= int(storage) <= high:
        raise _error(
            "InvalidParameterCombination",
            f"Invalid storage size for engine name {engine} and storage type {storage_type}: {storage}",
        )


def rds_backup_retention_bounds(params: Any, instance: Any) -> None:
    """BackupRetentionPeriod: 0 to 35 days.

    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithAutomatedBackups.BackupRetention.html
    """
    days = params.get("BackupRetentionPeriod")
    if days is not None and not 0 <= int(days) <= 35:
        raise _error("InvalidParameterValue", f"Invalid backup retention period: {days}. Must be between 0 and 35.")


_CREATE_CHECKS: list[Callable[[Any, Any], None]] = [
    rds_engine_version_offered,
    rds_instance_class_for_engine,
    rds_allocated_storage_bounds,
    rds_gp3_iops_throughput_below_400,
    rds_backup_retention_bounds,
]
_MODIFY_CHECKS: list[Callable[[Any, Any], None]] = [
    rds_engine_version_upgrade_path,
    rds_allocated_storage_bounds,
    rds_gp3_iops_throughput_below_400,
    rds_backup_retention_bounds,
]


def _report_gp3_baseline(database: Any) -> None:
    """RDS reports the included gp3 baseline when none was named; moto leaves it empty (the module then
    fails on its second run reading `StorageThroughput`)."""
    if database.storage_type != "gp3" or database.engine not in ("mysql", "mariadb"):
        return
    iops, throughput = _GP3_BASELINE_BELOW_400 if int(database.allocated_storage) < 400 else _GP3_BASELINE_FROM_400
    database.iops = database.iops or iops
    database.storage_throughput = database.storage_throughput or throughput


def rds_request_checks() -> None:
    """Run the RDS rules above before moto's CreateDBInstance and ModifyDBInstance."""
    create, modify = RDSResponse.create_db_instance, RDSResponse.modify_db_instance

    def create_db_instance(self: RDSResponse) -> Any:
        for check in _CREATE_CHECKS:
            check(self.params, None)
        result = create(self)
        _report_gp3_baseline(self.backend.databases[self.params["DBInstanceIdentifier"]])
        return result

    def modify_db_instance(self: RDSResponse) -> Any:
        instance = _instance(self)
        for check in _MODIFY_CHECKS:
            check(self.params, instance)
        result = modify(self)
        _report_gp3_baseline(instance)
        return result

    RDSResponse.create_db_instance = create_db_instance  # type: ignore[method-assign]
    RDSResponse.modify_db_instance = modify_db_instance  # type: ignore[method-assign]


def _engine_version_entry(engine: str, version: str) -> dict[str, Any]:
    later = [
        v for minors, _ in ENGINE_VERSIONS[engine].values() for v in minors if _version_key(v) > _version_key(version)
    ]
    family = f"{engine}{_major(version)}"
    return {
        "Engine": engine,
        "EngineVersion": version,
        "DBParameterGroupFamily": family,
        "DBEngineDescription": {"mariadb": "MariaDb Community Edition", "mysql": "MySQL Community Edition"}[engine],
        "DBEngineVersionDescription": f"{'MariaDB' if engine == 'mariadb' else 'MySQL'} {version}",
        "Status": "available",
        "ValidUpgradeTarget": [
            {
                "Engine": engine,
                "EngineVersion": target,
                "Description": f"{engine} {target}",
                "AutoUpgrade": False,
                "IsMajorVersionUpgrade": _major(target) != _major(version),
            }
            for target in later
        ],
    }


def describe_engine_versions(engine: str | None, version: str | None, default_only: bool) -> list[dict[str, Any]]:
    """DescribeDBEngineVersions over the stand-in's catalogue (moto does not implement the call)."""
    found = []
    for name, majors in ENGINE_VERSIONS.items():
        if engine and name != engine:
            continue
        for major, (minors, default) in majors.items():
            found += [
                _engine_version_entry(name, v) for v in _matching(name, major, minors, default, version, default_only)
            ]
    return found


def _matching(
    engine: str, major: str, minors: list[str], default: str, version: str | None, default_only: bool
) -> list[str]:
    if version and version not in (major, *minors):
        return []
    if default_only:
        # Without a version: the engine's default; with a major (or its default minor): that major's default.
        wanted = version in (major, default) if version else major == _DEFAULT_MAJOR[engine]
        return [default] if wanted else []
    return [version] if version in minors else minors


def rds_describe_db_engine_versions() -> None:
    """DescribeDBEngineVersions answered from the catalogue: `DefaultOnly` with a major gives its default minor.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html
    """
    from moto.core.responses import ActionResult

    def describe_db_engine_versions(self: RDSResponse) -> ActionResult:
        versions = describe_engine_versions(
            self.params.get("Engine"), self.params.get("EngineVersion"), bool(self.params.get("DefaultOnly"))
        )
        return ActionResult({"DBEngineVersions": versions})

    RDSResponse.describe_db_engine_versions = describe_db_engine_versions  # type: ignore[attr-defined]


def orderable_db_instance_options(engine: str | None, instance_class: str | None) -> list[dict[str, Any]]:
    """The orderable options of the catalogue: each version of the engine with each class it offers (one storage
    type, gp3, and the region's zones left out: nothing of ours reads them)."""
    return [
        {
            "Engine": name,
            "EngineVersion": version,
            "DBInstanceClass": offered,
            "LicenseModel": "general-public-license",
            "StorageType": "gp3",
            "MultiAZCapable": True,
            "SupportsStorageEncryption": True,
        }
        for name, majors in ENGINE_VERSIONS.items()
        if name == engine
        for minors, _ in majors.values()
        for version in minors
        for offered in sorted(INSTANCE_CLASSES[name])
        if not instance_class or offered == instance_class
    ]


def rds_describe_orderable_db_instance_options() -> None:
    """DescribeOrderableDBInstanceOptions answered from the catalogue for MySQL and MariaDB (moto answers only for
    Aurora PostgreSQL and Neptune, so every class looked unavailable); other engines go to moto.

    https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeOrderableDBInstanceOptions.html
    """
    from moto.core.responses import ActionResult

    moto_answer = RDSResponse.describe_orderable_db_instance_options

    def describe_orderable_db_instance_options(self: RDSResponse) -> Any:
        engine = self.params.get("Engine")
        if engine not in ENGINE_VERSIONS:
            return moto_answer(self)
        options = orderable_db_instance_options(engine, self.params.get("DBInstanceClass"))
        version = self.params.get("EngineVersion")
        if version:
            options = [option for option in options if option["EngineVersion"] == version]
        return ActionResult({"OrderableDBInstanceOptions": options})

    RDSResponse.describe_orderable_db_instance_options = describe_orderable_db_instance_options  # type: ignore[method-assign]


# --- EC2 ------------------------------------------------------------------------------------------


def ec2_subnet_zone_in_region() -> None:
    """CreateSubnet: the availability zone must be one of the client's region (moto takes any region's zone).

    https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSubnet.html (AvailabilityZone)
    https://docs.aws.amazon.com/vpc/latest/userguide/configure-subnets.html
    """
    original = Subnets.create_subnet

    def create_subnet(self: Subnets) -> Any:
        zones = RegionsAndZonesBackend.zones.get(self.region, [])
        zone, zone_id = self._get_param("AvailabilityZone"), self._get_param("AvailabilityZoneId")
        if (zone and zone not in [z.name for z in zones]) or (zone_id and zone_id not in [z.zone_id for z in zones]):
            raise InvalidAvailabilityZoneError(zone or zone_id, ", ".join(z.name for z in zones))
        return original(self)

    Subnets.create_subnet = create_subnet  # type: ignore[method-assign]


# --- Secrets Manager ---------------------------------------------------------------------------


def secretsmanager_create_scheduled_for_deletion() -> None:
    """CreateSecret on a name scheduled for deletion: AWS says InvalidRequestException (moto: ResourceExistsException).

    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html (Errors)
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html (RecoveryWindowInDays)
    """
    original = SecretsManagerResponse.create_secret

    def create_secret(self: SecretsManagerResponse) -> str:
        existing = self.backend.secrets.get(self._get_param("Name"))
        if existing is not None and getattr(existing, "deleted_date", None) is not None:
            raise InvalidRequestException(
                "You can't create this secret because a secret with this name is already scheduled for deletion."
            )
        return original(self)

    SecretsManagerResponse.create_secret = create_secret  # type: ignore[method-assign]


# --- EFS ---------------------------------------------------------------------------------------

# ClientToken -> the access point created with it, per account and region (the backend object).
_EFS_CLIENT_TOKENS: dict[tuple[str, str, str], str] = {}


class AccessPointAlreadyExists(JsonRESTError):
    code = 409

    def __init__(self, access_point_id: str) -> None:
        super().__init__(
            "AccessPointAlreadyExists",
            f"Access point {access_point_id} already exists with the specified client token.",
        )


def efs_access_point_client_token() -> None:
    """CreateAccessPoint with a ClientToken used before answers AccessPointAlreadyExists (moto ignores the token).

    https://docs.aws.amazon.com/efs/latest/ug/API_CreateAccessPoint.html (ClientToken: "ensure idempotent
    creation"; Errors: AccessPointAlreadyExists, HTTP 409, "the access point ... already exists, with the creation
    token you provided"). The stand-in remembers a token for the server's life, also after the access point is
    deleted (how long AWS remembers one is not documented: see docs/aws-differences.md).
    """
    original = EFSBackend.create_access_point

    def create_access_point(self: EFSBackend, client_token: str, *args: Any, **kwargs: Any) -> Any:
        key = (self.account_id, self.region_name, client_token)
        if key in _EFS_CLIENT_TOKENS:
            raise AccessPointAlreadyExists(_EFS_CLIENT_TOKENS[key])
        point = original(self, client_token, *args, **kwargs)
        _EFS_CLIENT_TOKENS[key] = point.access_point_id
        return point

    EFSBackend.create_access_point = create_access_point  # type: ignore[method-assign]


RULES: dict[str, Callable[[], None]] = {
    "rds_request_checks": rds_request_checks,
    "rds_describe_db_engine_versions": rds_describe_db_engine_versions,
    "rds_describe_orderable_db_instance_options": rds_describe_orderable_db_instance_options,
    "ec2_subnet_zone_in_region": ec2_subnet_zone_in_region,
    "secretsmanager_create_scheduled_for_deletion": secretsmanager_create_scheduled_for_deletion,
    "efs_access_point_client_token": efs_access_point_client_token,
}

# AWS rules the product depends on that moto 5.2 already enforces (tested through our server, and
# on plain moto so we notice if moto stops): name -> the AWS page.
MOTO_ALREADY_ENFORCES: dict[str, str] = {
    "rds_final_snapshot_name_unique": (
        "https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DeleteDBInstance.html"
        " (FinalDBSnapshotIdentifier; DBSnapshotAlreadyExists)"
    ),
    "ec2_vpc_cidr_16_to_28": "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html",
}


def apply_all() -> list[str]:
    """Install every rule once; return the names installed (idempotent)."""
    for name, rule in RULES.items():
        if name not in _APPLIED:
            rule()
            _APPLIED.add(name)
    return sorted(_APPLIED)
