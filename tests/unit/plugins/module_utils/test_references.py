"""The one parser of image references, ECR hosts and ARNs (module_utils/_references.py) and its YAML face."""

from __future__ import annotations

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.ecspress.wordpress.plugins.filter.references import FilterModule, image_reference
from ansible_collections.ecspress.wordpress.plugins.module_utils._references import (
    EcrRegistry,
    ImageReferenceError,
    arn_resource,
    ecr_registry,
    ecr_repository_arn,
    family_revision,
    is_arn,
    is_digest_reference,
    parse_image_reference,
    partition_of,
    rollback_target,
    split_image_reference,
)
from ansible_collections.ecspress.wordpress.plugins.test.references import TestModule as JinjaTests

DIGEST = "sha256:" + "a" * 64
ECR = f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecspress-prod/wordpress@{DIGEST}"


def test_parse_ecr_reference() -> None:
    parsed = parse_image_reference(ECR)
    assert parsed.registry == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert parsed.repository == "ecspress-prod/wordpress"
    assert parsed.digest == DIGEST and parsed.registry_id == "123456789012"
    assert parsed.reference == ECR


def test_parse_local_registry_reference() -> None:
    parsed = parse_image_reference(f"127.0.0.1:5000/ecspress-local/wordpress@{DIGEST}")
    assert (parsed.registry, parsed.repository, parsed.registry_id) == (
        "127.0.0.1:5000",
        "ecspress-local/wordpress",
        None,
    )


@pytest.mark.parametrize(
    "reference",
    [
        "127.0.0.1:5000/wp:latest",
        "127.0.0.1:5000/wp@sha256:abc",
        f"wordpress@{DIGEST}",
        "",
        f"127.0.0.1:5000/wp@{DIGEST.upper()}",
    ],
)
def test_tags_and_malformed_digests_are_refused(reference: str) -> None:
    with pytest.raises(ImageReferenceError, match=r"digest|registry"):
        parse_image_reference(reference)


@pytest.mark.parametrize(
    ("reference", "registry"),
    [
        (f"localhost/wp@{DIGEST}", "localhost"),
        (f"localhost:5000/wp@{DIGEST}", "localhost:5000"),
        (f"registry.example.com/team/wp@{DIGEST}", "registry.example.com"),
    ],
)
def test_registry_hosts(reference: str, registry: str) -> None:
    parsed = parse_image_reference(reference)
    assert parsed.registry == registry and parsed.registry_id is None and parsed.reference == reference


@pytest.mark.parametrize(
    "reference", [f"registry.example.com@{DIGEST}", f"docker/wp@{DIGEST}", f"Localhost/wp@{DIGEST}"]
)
def test_no_registry_host_is_refused(reference: str) -> None:
    with pytest.raises(ImageReferenceError) as error:
        parse_image_reference(reference)
    assert str(error.value) == f"image {reference!r} names no registry host (registry/repository@sha256:…)"


def test_fips_ecr_hosts_name_the_account() -> None:
    parsed = parse_image_reference(f"123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/wp@{DIGEST}")
    assert parsed.registry_id == "123456789012"


def test_family_revision() -> None:
    assert family_revision("arn:aws:ecs:eu-west-1:1:task-definition/wp:3") == "wp:3"
    assert family_revision("wp:3") == "wp:3"


def test_a_tag_is_refused_with_what_to_do() -> None:
    with pytest.raises(ImageReferenceError) as tag:
        parse_image_reference("127.0.0.1:5000/wp:latest")
    assert str(tag.value) == (
        "image '127.0.0.1:5000/wp:latest' is not a reference by digest (registry/repository@sha256:<64 hex>); "
        "deploy the digest the image pipeline returned, never a tag"
    )


def test_a_tag_beside_the_digest_is_refused() -> None:
    with pytest.raises(ImageReferenceError, match="names a tag and a digest"):
        parse_image_reference(f"127.0.0.1:5000/wp:6.8@{DIGEST}")


@pytest.mark.parametrize(
    ("host", "registry"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", EcrRegistry("123456789012", "eu-west-1", "aws", False)),
        ("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", EcrRegistry("123456789012", "us-east-1", "aws", True)),
        (
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            EcrRegistry("123456789012", "cn-north-1", "aws-cn", False),
        ),
        (
            "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
            EcrRegistry("123456789012", "us-gov-west-1", "aws-us-gov", False),
        ),
        ("123456789012.dkr-ecr.ap-south-2.on.aws", EcrRegistry("123456789012", "ap-south-2", "aws", False)),
        (
            "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
            EcrRegistry("123456789012", "us-iso-east-1", "aws-iso", False),
        ),
        (
            "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
            EcrRegistry("123456789012", "us-isob-east-1", "aws-iso-b", False),
        ),
    ],
)
def test_ecr_hosts_of_every_partition(host: str, registry: EcrRegistry) -> None:
    assert ecr_registry(host) == registry
    assert parse_image_reference(f"{host}/wp@{DIGEST}").registry_id == "123456789012"


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:5000",
        "12345678901.dkr.ecr.eu-west-1.amazonaws.com",  # 11 digits
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example",
        "123456789012.dkr.ecr.eu-west-1.example.com",
        "",
    ],
)
def test_other_hosts_are_not_ecr(host: str) -> None:
    assert ecr_registry(host) is None


@pytest.mark.parametrize(
    ("image", "arn"),
    [
        (
            f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecspress/wp@{DIGEST}",
            "arn:aws:ecr:eu-west-1:123456789012:repository/ecspress/wp",
        ),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/wp:1.0", "arn:aws:ecr:us-east-1:123456789012:repository/wp"),
        (
            f"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/wp@{DIGEST}",
            "arn:aws-cn:ecr:cn-north-1:123456789012:repository/wp",
        ),
        (
            f"123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com/wp@{DIGEST}",
            "arn:aws-us-gov:ecr:us-gov-east-1:123456789012:repository/wp",
        ),
        (f"127.0.0.1:5000/ecspress-local/wordpress@{DIGEST}", ""),
        ("wordpress:latest", ""),
        (None, ""),
    ],
)
def test_ecr_repository_arn(image: Any, arn: str) -> None:
    assert ecr_repository_arn(image) == arn


def test_split_keeps_a_tag_and_a_port() -> None:
    parsed = split_image_reference("127.0.0.1:5000/team/wp:6.8-php8.4")
    assert parsed == ("127.0.0.1:5000", "team/wp", "6.8-php8.4", "", None)
    assert parsed.reference == "127.0.0.1:5000/team/wp:6.8-php8.4"


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("127.0.0.1:5000/wp", "names neither a tag nor a digest"),
        ("127.0.0.1:5000/wp:-bad", "malformed tag"),
        ("127.0.0.1:5000/wp@sha256:abc", "malformed digest"),
    ],
)
def test_split_refuses_what_no_registry_accepts(reference: str, message: str) -> None:
    with pytest.raises(ImageReferenceError, match=message):
        split_image_reference(reference)


def test_partitions_and_arns() -> None:
    assert [partition_of(r) for r in ("eu-west-1", "cn-northwest-1", "us-gov-east-1", "us-iso-west-1")] == [
        "aws",
        "aws-cn",
        "aws-us-gov",
        "aws-iso",
    ]
    acm = "arn:aws-us-gov:acm:us-gov-west-1:123456789012:certificate/abc"
    assert is_arn(acm, "acm") and is_arn(acm) and not is_arn(acm, "secretsmanager")
    assert not is_arn("arn:aws:acm:eu-west-1:1234:certificate/abc") and not is_arn(None)
    assert arn_resource("arn:aws:ecs:eu-west-1:123456789012:service/c/s") == "service/c/s"
    assert arn_resource("c/s") == ""
    assert family_revision(None) == ""


def test_yaml_filters_and_tests_are_the_parser() -> None:
    assert image_reference(ECR) == {
        "registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "repository": "ecspress-prod/wordpress",
        "tag": "",
        "digest": DIGEST,
        "registry_id": "123456789012",
    }
    with pytest.raises(AnsibleFilterError, match="names no registry host"):
        image_reference("wordpress")
    filters = FilterModule().filters()
    assert filters["ecr_repository_arn"] is ecr_repository_arn and filters["family_revision"] is family_revision
    assert filters["ecr_registry"]("127.0.0.1:5000") == {}
    tests = JinjaTests().tests()
    assert tests["digest_reference"] is is_digest_reference and tests["arn"] is is_arn
    assert tests["digest_reference"](ECR) and not tests["digest_reference"]("127.0.0.1:5000/wp:latest")
    assert tests["ecr_host"]("123456789012.dkr.ecr.eu-west-1.amazonaws.com") and not tests["ecr_host"](None)


# --- where `ecspress rollback` goes ----------------------------------------------------------------------------------

RUNNING_TD = "arn:aws:ecs:eu-west-1:123456789012:task-definition/site-wordpress:7"
RUNNING_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/site/wordpress@sha256:" + "a" * 64
OLD_DIGEST = "sha256:" + "b" * 64


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        (None, ("site-wordpress:6", "")),  # the revision before the running one
        ("", ("site-wordpress:6", "")),
        ("4", ("site-wordpress:4", "")),
        ("site-wordpress:3", ("site-wordpress:3", "")),
        ("arn:aws:ecs:eu-west-1:123456789012:task-definition/site-wordpress:2", ("site-wordpress:2", "")),
        (OLD_DIGEST, ("", RUNNING_IMAGE.split("@")[0] + "@" + OLD_DIGEST)),  # the running repository
        ("127.0.0.1:5000/other@" + OLD_DIGEST, ("", "127.0.0.1:5000/other@" + OLD_DIGEST)),
    ],
)
def test_rollback_target(to: str | None, expected: tuple[str, str]) -> None:
    assert tuple(rollback_target(to, RUNNING_TD, RUNNING_IMAGE)) == expected


@pytest.mark.parametrize(
    ("to", "running", "message"),
    [
        (
            None,
            "site-wordpress:1",
            "the service runs site-wordpress:1, the family's first revision: nothing precedes it",
        ),
        ("0", RUNNING_TD, "rollback target '0' is neither a revision"),
        ("other:3", RUNNING_TD, "rollback target 'other:3' is not a revision of the service's family site-wordpress"),
        (
            "site-wordpress:x",
            RUNNING_TD,
            "rollback target 'site-wordpress:x' is not a revision of the service's family",
        ),
        ("site/wordpress:v2", RUNNING_TD, "rollback target 'site/wordpress:v2' is neither a revision"),
        ("latest", RUNNING_TD, "rollback target 'latest' is neither a revision"),
        (None, "", "the service runs '', not a task definition revision"),
    ],
)
def test_rollback_target_refused(to: str | None, running: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        rollback_target(to, running, RUNNING_IMAGE)
    assert str(refused.value).startswith(message)
