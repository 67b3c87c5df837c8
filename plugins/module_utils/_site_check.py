# Copyright: ecspress contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a home page is WordPress served from a working database, and if not, why: a pure decision over one HTTP
answer. Private to the ecspress.wordpress collection; the ``site_problem`` filter is its caller (the deploy stage's
check through the load balancer)."""

from __future__ import annotations

import re

DB_ERROR = "Error establishing a database connection"
# What only a page WordPress rendered holds: its asset folders, or the generator tag of wp_head.
WORDPRESS_MARKERS = ("/wp-content/", "/wp-includes/", 'content="WordPress')


def site_problem(status: int, content: str = "", location: str = "", error: str = "") -> str:
    """'' when the answer is a WordPress page (200); otherwise the reason, in one line, with what usually causes it."""
    if status == 200 and any(marker in content for marker in WORDPRESS_MARKERS):
        return ""
    if DB_ERROR in content:
        return (
            f'WordPress cannot reach its database ("{DB_ERROR}", HTTP {status}): a wrong database password or user, '
            "or the database is stopped or not reachable from the tasks"
        )
    if status in (301, 302, 303, 307, 308):
        if "wp-admin/install.php" in location:
            return f"WordPress is not installed: the home page redirects to {location}"
        return f"the home page redirects (HTTP {status}) to {location or 'nowhere'}: is WordPress's site URL this one?"
    if status in (502, 503, 504):
        return f"the load balancer has no healthy task to answer (HTTP {status})"
    if status <= 0:
        return f"no answer: {error or 'the connection failed'}"
    if status == 200:
        return "HTTP 200, but not a page WordPress rendered (none of its asset paths)"
    text = re.sub(r"<[^>]+>", " ", content)
    text = re.sub(r"\s+", " ", text).strip()[:200]
    return f"HTTP {status}" + (f": {text}" if text else "")
