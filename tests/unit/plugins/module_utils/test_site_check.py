"""The deploy's check of the home page: WordPress from a working database, or the reason it is not."""

from __future__ import annotations

import pytest
from ansible_collections.ecspress.wordpress.plugins.filter.site import site_problem as filter_site_problem
from ansible_collections.ecspress.wordpress.plugins.module_utils._site_check import site_problem

HOME = '<html><head><link rel="stylesheet" href="http://x/wp-content/themes/twentytwentyfive/style.css"></head></html>'
# What WordPress answers when wp-config's database does not answer (wp-includes/functions.php, dead_db()).
DEAD_DB = "<!DOCTYPE html><html><body><h1>Error establishing a database connection</h1></body></html>"


def test_a_wordpress_page_is_fine() -> None:
    assert site_problem(200, HOME) == ""
    assert site_problem(200, '<meta name="generator" content="WordPress 6.8.3" />') == ""


@pytest.mark.parametrize(
    ("status", "content", "location", "error", "reason"),
    [
        (
            500,
            DEAD_DB,
            "",
            "",
            'WordPress cannot reach its database ("Error establishing a database connection", HTTP 500): a wrong '
            "database password or user, or the database is stopped or not reachable from the tasks",
        ),
        (
            302,
            "",
            "http://x/wp-admin/install.php",
            "",
            "WordPress is not installed: the home page redirects to http://x/wp-admin/install.php",
        ),
        (
            301,
            "",
            "https://elsewhere/",
            "",
            "the home page redirects (HTTP 301) to https://elsewhere/: is WordPress's site URL this one?",
        ),
        (503, "", "", "", "the load balancer has no healthy task to answer (HTTP 503)"),
        (-1, "", "", "Connection refused", "no answer: Connection refused"),
        (
            200,
            "<html>It works!</html>",
            "",
            "",
            "HTTP 200, but not a page WordPress rendered (none of its asset paths)",
        ),
        (500, "<p>PHP   Fatal error</p>", "", "", "HTTP 500: PHP Fatal error"),
        (404, "", "", "", "HTTP 404"),
    ],
)
def test_each_other_answer_says_why(status: int, content: str, location: str, error: str, reason: str) -> None:
    assert site_problem(status, content, location, error) == reason


def test_the_filter_reads_a_uri_result() -> None:
    assert filter_site_problem({"status": 200, "content": HOME}) == ""
    assert filter_site_problem({"status": -1, "msg": "timed out"}) == "no answer: timed out"
    assert filter_site_problem({}) == "no answer: the connection failed"
