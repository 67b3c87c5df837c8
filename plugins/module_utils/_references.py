# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one parser of image references, ECR registry hosts and ECS ARNs in the collection.

Private to the ecspress.wordpress collection: no stability promise to other collections.
Strings in, values out: no AWS client in here. The filters and tests in plugins/filter/references.py and
plugins/test/references.py expose it to YAML, so roles never carry a regex of their own.
"""

from __future__ import annotations

import re
from typing import NamedTuple

# https://github.com/distribution/reference/blob/main/reference.go: a digest is algorithm:hex; ECS and ECR
# use sha256 only.
_DIGEST = r"sha256:[0-9a-f]{64}"
_DIGEST_REFERENCE = re.compile(rf"^(?P<name>[^@\s]+)@(?P<digest>{_DIGEST})$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")

# ECR's registry endpoints (https://docs.aws.amazon.com/general/latest/gr/ecr.html):
#   <account>.dkr.ecr.<region>.amazonaws.com          commercial and GovCloud regions
#   <account>.dkr.ecr-fips.<region>.amazonaws.com     FIPS endpoints (us-*, ca-*, GovCloud)
#   <account>.dkr.ecr.<region>.amazonaws.com.cn       China regions
#   <account>.dkr-ecr[-fips].<region>.on.aws          dual-stack (IPv4 and IPv6) endpoints
#   <account>.dkr.ecr.<region>.c2s.ic.gov / .sc2s.sgov.gov   the ISO partitions
_ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.(?:dkr\.ecr|dkr-ecr)(?P<fips>-fips)?\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d+)"
    r"\.(?P<domain>amazonaws\.com|amazonaws\.com\.cn|on\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov)$"
)
# Region prefix -> partition (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html).
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"))
_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):(?P<account>\d{12}|):(?P<resource>.+)$"
)


class ImageReferenceError(ValueError):
    """The image reference is not `registry/repository@sha256:<64 hex>`."""


class EcrRegistry(NamedTuple):
    """An ECR registry host, split."""

    account: str
    region: str
    partition: str
    fips: bool


class ImageReference(NamedTuple):
    """`registry/repository[:tag][@digest]`, split. `registry_id` is the account of an ECR registry, else None."""

    registry: str
    repository: str
    tag: str
    digest: str
    registry_id: str | None

    @property
    def reference(self) -> str:
        """The reference by digest (`registry/repository@sha256:...`), or by tag when it has no digest."""
        suffix = f"@{self.digest}" if self.digest else f":{self.tag}"
        return f"{self.registry}/{self.repository}{suffix}"


def partition_of(region: str) -> str:
    """The AWS partition a region is in (`eu-west-1` -> `aws`, `cn-north-1` -> `aws-cn`)."""
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def ecr_registry(host: str) -> EcrRegistry | None:
    """The account, region and partition of an ECR registry host; None for any other registry."""
    match = _ECR_HOST.match(host or "")
    if match is None:
        return None
    region = match.group("region")
    return EcrRegistry(match.group("account"), region, partition_of(region), bool(match.group("fips")))


def _has_registry_host(component: str) -> bool:
    # Docker's rule: the first component is a registry host when it has a dot or a port, or is localhost.
    return "." in component or ":" in component or component == "localhost"


def split_image_reference(reference: str) -> ImageReference:
    """Split `host/repo[:tag][@sha256:...]`. Refuses a reference without a registry host or without a tag or digest."""
    text = reference if isinstance(reference, str) else ""
    name, _, digest = text.partition("@")
    if digest and not re.fullmatch(_DIGEST, digest):
        raise ImageReferenceError(f"image {reference!r} has a malformed digest (sha256:<64 lowercase hex>)")
    registry, _, path = name.partition("/")
    if not path or not _has_registry_host(registry) or re.search(r"\s", name):
        raise ImageReferenceError(f"image {reference!r} names no registry host (registry/repository@sha256:…)")
    repository, tag = path, ""
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        repository, _, tag = path.rpartition(":")
        if not _TAG.match(tag):
            raise ImageReferenceError(f"image {reference!r} has a malformed tag {tag!r}")
    if not tag and not digest:
        raise ImageReferenceError(f"image {reference!r} names neither a tag nor a digest")
    ecr = ecr_registry(registry)
    return ImageReference(registry, repository, tag, digest, ecr.account if ecr else None)


def parse_image_reference(reference: str) -> ImageReference:
    """Split `host/repo@sha256:…`; refuse tags, because a tag can move or never have been pushed."""
    if _DIGEST_REFERENCE.match(reference if isinstance(reference, str) else "") is None:
        raise ImageReferenceError(
            f"image {reference!r} is not a reference by digest (registry/repository@sha256:<64 hex>); "
            "deploy the digest the image pipeline returned, never a tag"
        )
    parsed = split_image_reference(reference)
    # A digest pins the content; a tag beside it (`repo:tag@sha256:…`) would only mislead.
    if parsed.tag:
        raise ImageReferenceError(f"image {reference!r} names a tag and a digest: name the digest only")
    return parsed


def is_digest_reference(reference: object) -> bool:
    """Whether `reference` is `registry/repository@sha256:<64 hex>` (what ECS may be given)."""
    try:
        parse_image_reference(reference)  # type: ignore[arg-type]
    except ImageReferenceError:
        return False
    return True


def ecr_repository_arn(image: str) -> str:
    """ARN of the ECR repository an image reference (by tag or digest) is in; empty for any other registry."""
    try:
        parsed = split_image_reference(image)
    except ImageReferenceError:
        return ""
    ecr = ecr_registry(parsed.registry)
    if ecr is None:
        return ""
    return f"arn:{ecr.partition}:ecr:{ecr.region}:{ecr.account}:repository/{parsed.repository}"


def family_revision(task_definition: str | None) -> str:
    """`arn:aws:ecs:…:task-definition/wp:3` or `wp:3` -> `wp:3` ("" for nothing)."""
    return str(task_definition or "").rsplit("/", 1)[-1]


class RollbackTarget(NamedTuple):
    """Where `ecspress rollback` goes: a task definition revision (`family:revision`), or an image by digest."""

    task_definition: str  # "" when an image is named
    image: str  # "" when a revision is named


def rollback_target(to: str | None, running_task_definition: str, running_image: str) -> RollbackTarget:
    """What `ecspress rollback [--to X]` names, from the revision and image the service runs.

    Nothing: the revision before the running one. A number: that revision of the running family. `family:N` or a
    task definition ARN: that revision. `sha256:…`: the running image's repository at that digest. A reference by
    digest: that image. Anything else (a tag, a revision that does not precede, nonsense) is refused by name.
    """
    family, _, revision = family_revision(running_task_definition).rpartition(":")
    if not family or not revision.isdigit():
        raise ValueError(f"the service runs {running_task_definition!r}, not a task definition revision")
    wanted = (to or "").strip()
    if not wanted:
        if int(revision) <= 1:
            raise ValueError(f"the service runs {family}:{revision}, the family's first revision: nothing precedes it")
        return RollbackTarget(f"{family}:{int(revision) - 1}", "")
    if wanted.isdigit() and int(wanted) > 0:
        return RollbackTarget(f"{family}:{int(wanted)}", "")
    if re.fullmatch(_DIGEST, wanted):
        running = split_image_reference(running_image)
        return RollbackTarget("", f"{running.registry}/{running.repository}@{wanted}")
    if is_arn(wanted, "ecs") or ("@" not in wanted and "/" not in wanted and ":" in wanted):
        named_family, _, named_revision = family_revision(wanted).rpartition(":")
        if named_family != family or not named_revision.isdigit() or int(named_revision) < 1:
            raise ValueError(f"rollback target {wanted!r} is not a revision of the service's family {family}")
        return RollbackTarget(f"{family}:{int(named_revision)}", "")
    if is_digest_reference(wanted):
        return RollbackTarget("", wanted)
    raise ValueError(
        f"rollback target {wanted!r} is neither a revision (a number, family:revision or a task definition ARN) nor "
        "an image by digest (sha256:<64 hex> or registry/repository@sha256:<64 hex>)"
    )


def arn_resource(arn: str) -> str:
    """The resource part of an ARN (`arn:aws:ecs:eu-west-1:1…:service/c/s` -> `service/c/s`); "" when not an ARN."""
    match = _ARN.match(arn or "")
    return match.group("resource") if match else ""


def is_arn(value: object, service: str = "") -> bool:
    """Whether `value` is an ARN (of `service`, when given), in any partition."""
    match = _ARN.match(value if isinstance(value, str) else "")
    return match is not None and (not service or match.group("service") == service)
