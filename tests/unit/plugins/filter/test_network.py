"""Subnet planning and the refusals that name the variable."""

from __future__ import annotations

from ansible_collections.ecspress.wordpress.plugins.filter.network import network_plan

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
