# Copyright: ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure filter: why a home page is not WordPress from a working database."""

from __future__ import annotations

from typing import Any

from ansible_collections.ecspress.wordpress.plugins.module_utils._site_check import site_problem as _site_problem

DOCUMENTATION = r"""
name: site
short_description: Why a home page is not WordPress from a working database
description:
  - C(site_problem) - takes the result of M(ansible.builtin.uri) (C(status), C(content), C(location), C(msg)) and
    returns an empty string when it is a page WordPress rendered (HTTP 200 with its asset paths), else the reason in
    one line (the database unreachable, not installed, a redirect elsewhere, no healthy task, no answer).
author: ecspress maintainers
"""


def site_problem(result: Any) -> str:
    """The reason the uri result is not a working WordPress home page; '' when it is one."""
    answer = dict(result or {})
    return _site_problem(
        int(answer.get("status") or -1),
        str(answer.get("content") or ""),
        str(answer.get("location") or ""),
        str(answer.get("msg") or ""),
    )


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"site_problem": site_problem}
