"""Subnet planning and the refusals that name the variable."""

from __future__ import annotations

from ansible_collections.ecspress.wordpress.plugins.filter.network import FilterModule, network_plan

AZS = ["eu-west-1a", "eu-west-1b"]


def test_carves_public_and_private_24s() -> None:
    plan = network_plan("10.42.0.0/16", AZS)
    assert plan["public"] == ["10.42.0.0/24", "10.42.1.0/24"] and plan["problems"] == []
    assert plan["private"] == ["10.42.10.0/24", "10.42.11.0/24"]
    assert plan["subnets"][2] == {"az": "eu-west-1a", "cidr": "10.42.10.0/24", "tier": "private"}


def test_three_azs() -> None:
    assert len(network_plan("10.70.0.0/16", [*AZS, "eu-west-1c"])["private"]) == 3


def test_wrong_cidr_is_named() -> None:
    assert any("network_vpc_cidr" in p for p in network_plan("10.42.0.0/33", AZS)["problems"])
    assert any("network_vpc_cidr" in p for p in network_plan("10.42.0.1/16", AZS)["problems"])


def test_one_az_is_refused() -> None:
    assert any(p.startswith("network_azs") for p in network_plan("10.42.0.0/16", ["eu-west-1a"])["problems"])


def test_overlapping_subnets_are_refused() -> None:
    plan = network_plan("10.42.0.0/16", AZS, ["10.42.0.0/24", "10.42.0.128/25"], ["10.42.10.0/24", "10.42.11.0/24"])
    assert any("overlaps" in p for p in plan["problems"])


def test_subnets_outside_the_vpc_are_refused() -> None:
    plan = network_plan("10.42.0.0/16", AZS, ["10.43.0.0/24", "10.42.1.0/24"], ["10.42.10.0/24", "10.42.11.0/24"])
    assert any("not inside network_vpc_cidr" in p for p in plan["problems"])


# --- edges pinned exactly (mutation testing: make mutation) ---------------------------------------------------------

RANGE = "must be between /16 and /24 (AWS VPC limits, room for subnets)"


def test_repeated_az_is_refused_naming_the_variable() -> None:
    """Two subnets of a tier in one AZ are no high availability; the repeated zone is named."""
    plan = network_plan("10.42.0.0/16", ["eu-west-1a", "eu-west-1b", "eu-west-1a"])
    assert plan["problems"] == [
        "network_azs: each availability zone once (one subnet per tier each); repeated: ['eu-west-1a']"
    ]


def test_one_az_twice_is_refused_twice_over() -> None:
    assert network_plan("10.42.0.0/16", ["eu-west-1a", "eu-west-1a"])["problems"] == [
        "network_azs: at least 2 distinct availability zones are needed, got ['eu-west-1a', 'eu-west-1a']",
        "network_azs: each availability zone once (one subnet per tier each); repeated: ['eu-west-1a']",
    ]


def test_no_azs_is_refused() -> None:
    assert network_plan("10.42.0.0/16", None)["problems"][0] == (  # type: ignore[arg-type]
        "network_azs: at least 2 distinct availability zones are needed, got []"
    )


def test_vpc_prefix_range_is_16_to_24() -> None:
    """AWS allows /16 to /28 for a VPC; ecspress takes /16 to /24 so the subnets it carves fit."""
    assert network_plan("10.0.0.0/15", AZS)["problems"] == [f"network_vpc_cidr: 10.0.0.0/15 {RANGE}"]
    assert network_plan("10.42.0.0/16", AZS)["problems"] == []
    assert network_plan("10.42.0.0/24", AZS)["problems"] == []
    assert network_plan("10.42.0.0/25", AZS) == {
        "public": [],
        "private": [],
        "subnets": [],
        "problems": [
            f"network_vpc_cidr: 10.42.0.0/25 {RANGE}",
            "network_vpc_cidr: 10.42.0.0/25 is too small for 2 public and private subnets",
        ],
    }


def test_a_24_vpc_is_carved_into_28s() -> None:
    assert network_plan("10.42.0.0/24", AZS) == {
        "public": ["10.42.0.0/28", "10.42.0.16/28"],
        "private": ["10.42.0.160/28", "10.42.0.176/28"],
        "subnets": [
            {"az": "eu-west-1a", "cidr": "10.42.0.0/28", "tier": "public"},
            {"az": "eu-west-1b", "cidr": "10.42.0.16/28", "tier": "public"},
            {"az": "eu-west-1a", "cidr": "10.42.0.160/28", "tier": "private"},
            {"az": "eu-west-1b", "cidr": "10.42.0.176/28", "tier": "private"},
        ],
        "problems": [],
    }


def test_subnet_size_is_24_up_to_a_20_vpc_then_four_bits_smaller() -> None:
    assert network_plan("10.42.0.0/20", AZS)["public"] == ["10.42.0.0/24", "10.42.1.0/24"]
    plan = network_plan("10.42.0.0/21", AZS)
    assert plan["public"] == ["10.42.0.0/25", "10.42.0.128/25"]
    assert plan["private"] == ["10.42.5.0/25", "10.42.5.128/25"]


def test_a_24_vpc_holds_six_azs_not_seven() -> None:
    """16 /28s: public from index 0, private from index 10, so at most 6 AZs."""
    six = [f"eu-west-1{zone}" for zone in "abcdef"]
    assert network_plan("10.42.0.0/24", six)["private"][-1] == "10.42.0.240/28"
    assert network_plan("10.42.0.0/24", [*six, "eu-west-1g"]) == {
        "public": [],
        "private": [],
        "subnets": [],
        "problems": ["network_vpc_cidr: 10.42.0.0/24 is too small for 7 public and private subnets"],
    }


def test_explicit_subnets_are_kept_without_carving() -> None:
    """Seven AZs of explicit /28s fit a /24 even though carving (from index 10) would not."""
    zones = [f"eu-west-1{zone}" for zone in "abcdefg"]
    public = [f"10.42.0.{16 * index}/28" for index in range(7)]
    private = [f"10.42.0.{16 * index}/28" for index in range(7, 14)]
    plan = network_plan("10.42.0.0/24", zones, public, private)
    assert plan["problems"] == [] and plan["public"] == public and plan["private"] == private


def test_one_tier_given_the_other_is_carved() -> None:
    plan = network_plan("10.42.0.0/16", AZS, ["10.42.100.0/24", "10.42.101.0/24"])
    assert plan["public"] == ["10.42.100.0/24", "10.42.101.0/24"]
    assert plan["private"] == ["10.42.10.0/24", "10.42.11.0/24"] and plan["problems"] == []
    plan = network_plan("10.42.0.0/16", AZS, None, ["10.42.200.0/24", "10.42.201.0/24"])
    assert plan["public"] == ["10.42.0.0/24", "10.42.1.0/24"]
    assert plan["private"] == ["10.42.200.0/24", "10.42.201.0/24"] and plan["problems"] == []


def test_subnet_count_and_syntax_problems_name_the_variable() -> None:
    plan = network_plan("10.42.0.0/16", AZS, ["10.42.0.0/24"], ["nope", "10.42.11.0/24"])
    assert plan["problems"] == [
        "network_public_subnets: one subnet per AZ is needed (2), got 1",
        "network_private_subnets: 'nope' is not a valid IPv4 CIDR (Expected 4 octets in 'nope')",
    ]
    assert plan["subnets"][0] == {"az": "eu-west-1a", "cidr": "10.42.0.0/24", "tier": "public"}
    plan = network_plan("10.42.0.0/16", AZS, ["10.42.0.0/24", "bad"], ["10.42.10.0/24"])
    assert plan["problems"] == [
        "network_private_subnets: one subnet per AZ is needed (2), got 1",
        "network_public_subnets: 'bad' is not a valid IPv4 CIDR (Expected 4 octets in 'bad')",
    ]


def test_invalid_vpc_cidr_plans_nothing() -> None:
    assert network_plan("10.42.0.1/16", AZS) == {
        "public": [],
        "private": [],
        "subnets": [],
        "problems": ["network_vpc_cidr: '10.42.0.1/16' is not a valid IPv4 CIDR (10.42.0.1/16 has host bits set)"],
    }


def test_overlap_and_outside_messages() -> None:
    plan = network_plan("10.42.0.0/16", AZS, ["10.43.0.0/24", "10.42.1.0/24"], ["10.42.1.0/24", "10.42.11.0/24"])
    assert plan["problems"] == [
        "subnet 10.43.0.0/24 is not inside network_vpc_cidr 10.42.0.0/16",
        "network_public_subnets/network_private_subnets: 10.42.1.0/24 overlaps 10.42.1.0/24",
    ]


def test_filter_is_registered() -> None:
    assert FilterModule().filters() == {"network_plan": network_plan}
