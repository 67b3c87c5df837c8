# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Subnet planning and validation for the network role (pure, python's ipaddress only)."""

from __future__ import annotations

import ipaddress
from typing import Any

DOCUMENTATION = r"""
name: network_plan
short_description: Plan or check the public and private subnets of the ecspress VPC
version_added: 0.1.0
description:
  - Returns C({public, private, subnets, problems}). Subnets given explicitly are kept; otherwise /24s are carved
    from the VPC CIDR (public from index 0, private from index 10). C(problems) lists every reason the
    layout would be refused, each naming the variable.
options:
  _input:
    description: The VPC CIDR (C(network_vpc_cidr)).
    type: str
    required: true
  azs:
    description: Availability zones (C(network_azs)).
    type: list
    elements: str
    required: true
  public:
    description: Explicit public subnet CIDRs (C(network_public_subnets)), one per AZ.
    type: list
    elements: str
  private:
    description: Explicit private subnet CIDRs (C(network_private_subnets)), one per AZ.
    type: list
    elements: str
author:
  - ecspress maintainers (@ecspress)
"""

EXAMPLES = r"""
- name: Plan the subnets
  ansible.builtin.set_fact:
    plan: "{{ '10.42.0.0/16' | ecspress.wordpress.network_plan(['eu-west-1a', 'eu-west-1b']) }}"
"""

RETURN = r"""
_value:
  description: C({public, private, subnets, problems}).
  type: dict
"""


def _networks(cidrs: list[str], variable: str, problems: list[str]) -> list[ipaddress.IPv4Network]:
    parsed = []
    for cidr in cidrs:
        try:
            parsed.append(ipaddress.IPv4Network(cidr, strict=True))
        except ValueError as error:
            problems.append(f"{variable}: {cidr!r} is not a valid IPv4 CIDR ({error})")
    return parsed


def network_plan(
    vpc_cidr: str, azs: list[str], public: list[str] | None = None, private: list[str] | None = None
) -> dict[str, Any]:
    problems: list[str] = []
    zones = list(azs or [])
    if len(set(zones)) < 2:
        problems.append(f"network_azs: at least 2 distinct availability zones are needed, got {zones}")
    repeated = sorted({az for az in zones if zones.count(az) > 1})
    if repeated:
        problems.append(f"network_azs: each availability zone once (one subnet per tier each); repeated: {repeated}")
    vpc = _networks([str(vpc_cidr)], "network_vpc_cidr", problems)
    if not vpc:
        return {"public": [], "private": [], "subnets": [], "problems": problems}
    if not 16 <= vpc[0].prefixlen <= 24:
        problems.append(f"network_vpc_cidr: {vpc_cidr} must be between /16 and /24 (AWS VPC limits, room for subnets)")
    count = len(zones)
    if not public or not private:
        size = max(vpc[0].prefixlen + 4, 24) if vpc[0].prefixlen > 20 else 24
        carved = list(vpc[0].subnets(new_prefix=size)) if size <= 28 else []
        if len(carved) < 10 + count:
            problems.append(f"network_vpc_cidr: {vpc_cidr} is too small for {count} public and private subnets")
            return {"public": [], "private": [], "subnets": [], "problems": problems}
        public = public or [str(net) for net in carved[:count]]
        private = private or [str(net) for net in carved[10 : 10 + count]]
    for variable, cidrs in (("network_public_subnets", public), ("network_private_subnets", private)):
        if len(cidrs) != count:
            problems.append(f"{variable}: one subnet per AZ is needed ({count}), got {len(cidrs)}")
    subnets = _networks(public, "network_public_subnets", problems) + _networks(
        private, "network_private_subnets", problems
    )
    for net in subnets:
        if not net.subnet_of(vpc[0]):
            problems.append(f"subnet {net} is not inside network_vpc_cidr {vpc[0]}")
    for index, net in enumerate(subnets):
        for other in subnets[index + 1 :]:
            if net.overlaps(other):
                problems.append(f"network_public_subnets/network_private_subnets: {net} overlaps {other}")
    subnets_by_tier = [
        {"az": az, "cidr": cidr, "tier": tier}
        for tier, cidrs in (("public", public), ("private", private))
        for az, cidr in zip(zones, cidrs, strict=False)
    ]
    return {"public": list(public), "private": list(private), "subnets": subnets_by_tier, "problems": problems}


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"network_plan": network_plan}
