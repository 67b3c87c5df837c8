# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The attributes every ecspress AWS module shares: full check and diff mode, any platform,
    # idempotent. A module adds its own `details` under an attribute; those are merged in.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
  idempotent:
    description: Running the module twice with the same options changes nothing the second time.
    support: full
"""
