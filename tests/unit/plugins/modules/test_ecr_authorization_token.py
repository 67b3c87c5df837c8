"""ecr_authorization_token turns GetAuthorizationToken into a docker_login's arguments."""

from __future__ import annotations

import base64
import datetime

import yaml
from ansible_collections.ecspress.wordpress.plugins.modules import ecr_authorization_token as module


def test_login_from_authorization_data() -> None:
    expires = datetime.datetime(2026, 11, 25, 20, 0, tzinfo=datetime.UTC)
    login = module.login_from(
        {
            "authorizationToken": base64.b64encode(b"AWS:s3cr:et").decode(),
            "proxyEndpoint": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
            "expiresAt": expires,
        }
    )
    assert login == {
        "registry": "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
        "username": "AWS",
        "password": "s3cr:et",
        "expires_at": "2026-11-25T20:00:00+00:00",
    }


def test_return_documentation_matches_the_result() -> None:
    login = module.login_from({"authorizationToken": base64.b64encode(b"AWS:x").decode(), "proxyEndpoint": "h"})
    assert set(yaml.safe_load(module.RETURN)) == set(login)


def test_examples_keep_the_password_out_of_the_output() -> None:
    for task in yaml.safe_load(module.EXAMPLES):
        assert task.get("no_log") is True, task["name"]
