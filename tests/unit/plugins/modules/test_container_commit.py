"""Whole-module runs of container_commit against a fake Docker Engine API (no engine needed).

The fake replaces the API client's call methods (get_json, post_json_to_json); the rest of community.docker's
client (find_image, find_image_by_id, error handling) runs for real on top of it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import pytest
import requests
import yaml
from ansible.module_utils.testing import patch_module_args
from ansible_collections.community.docker.plugins.module_utils._api.api.client import APIClient
from ansible_collections.community.docker.plugins.module_utils._api.errors import APIError, NotFound
from ansible_collections.ecspress.wordpress.plugins.modules import container_commit

FAKE_HOST = "unix:///nonexistent/ecspress-test/docker.sock"
CONTAINER_ID = "c0ffee" + "0" * 58
BASE_ID = "sha256:" + "b" * 64
OLD_ID = "sha256:" + "1" * 64
NEW_ID = "sha256:" + "2" * 64


class FakeEngine:
    """The few Engine API endpoints the module uses, with every request recorded."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.containers: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.next_image_id = NEW_ID
        self.commit_error: APIError | None = None

    def add_container(
        self, name: str, container_id: str = CONTAINER_ID, mounts: list[dict[str, Any]] | None = None
    ) -> None:
        self.containers[name] = {"Id": container_id, "Name": f"/{name}", "Image": BASE_ID, "Mounts": mounts or []}

    def add_image(self, image_id: str, tags: list[str]) -> None:
        self.images[image_id] = _image(image_id, tags)

    def get_json(self, pathfmt: str, *args: str, **kwargs: Any) -> Any:
        path = pathfmt.format(*args)
        self.requests.append(("GET", path, kwargs.get("params") or {}))
        if pathfmt == "/containers/{0}/json":
            return self._container(args[0])
        if pathfmt == "/images/json":
            wanted = json.loads(kwargs["params"]["filters"])["reference"][0]
            return [
                {"Id": image_id, "RepoTags": image["RepoTags"]}
                for image_id, image in self.images.items()
                if any(tag.rsplit(":", 1)[0] == wanted for tag in image["RepoTags"])
            ]
        if pathfmt == "/images/{0}/json":
            if args[0] not in self.images:
                raise NotFound("404 Client Error", explanation=f"No such image: {args[0]}")
            return self.images[args[0]]
        raise AssertionError(f"unexpected GET {path}")

    def post_json_to_json(self, pathfmt: str, *args: str, **kwargs: Any) -> Any:
        path = pathfmt.format(*args)
        params = kwargs.get("params") or {}
        self.requests.append(("POST", path, params))
        if path != "/commit":
            raise AssertionError(f"unexpected POST {path}")
        if self.commit_error is not None:
            raise self.commit_error
        reference = f"{params['repo']}:{params['tag']}"
        for image in self.images.values():
            image["RepoTags"] = [tag for tag in image["RepoTags"] if tag != reference]
        tags = self.images.get(self.next_image_id, {}).get("RepoTags", [])
        self.images[self.next_image_id] = _image(self.next_image_id, [*tags, reference], comment=params.get("comment"))
        return {"Id": self.next_image_id}

    def _container(self, name_or_id: str) -> dict[str, Any]:
        for name, container in self.containers.items():
            if name_or_id in (name, container["Id"]) or container["Id"].startswith(name_or_id):
                return container
        raise NotFound("404 Client Error", explanation=f"No such container: {unquote(name_or_id)}")

    @property
    def commits(self) -> list[dict[str, Any]]:
        return [params for method, path, params in self.requests if (method, path) == ("POST", "/commit")]


def _image(image_id: str, tags: list[str], comment: str | None = None) -> dict[str, Any]:
    return {
        "Id": image_id,
        "RepoTags": tags,
        "RepoDigests": [],
        "Parent": BASE_ID,
        "Comment": comment or "",
        "Created": "2026-01-01T00:00:00Z",
        "Author": "",
        "Architecture": "amd64",
        "Os": "linux",
        "Size": 123456,
        "Config": {"Cmd": ["true"], "ExposedPorts": {"80/tcp": {}}},
        "GraphDriver": {"Name": "overlay2", "Data": {}},
        "RootFS": {"Type": "layers", "Layers": []},
        "Metadata": {},
    }


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine()
    fake.add_container("builder")
    monkeypatch.setattr(container_commit.CommitClient, "get_json", lambda self, *a, **kw: fake.get_json(*a, **kw))
    monkeypatch.setattr(
        container_commit.CommitClient, "post_json_to_json", lambda self, *a, **kw: fake.post_json_to_json(*a, **kw)
    )

    def no_http(self: APIClient, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"real HTTP request attempted: {args}")

    for method in ("_get", "_post", "_put", "_delete", "_head"):
        monkeypatch.setattr(APIClient, method, no_http)
    return fake


RunModule = Any


@pytest.fixture
def run_module(capsys: pytest.CaptureFixture[str]) -> RunModule:
    def run(args: dict[str, Any], check_mode: bool = False, diff: bool = False) -> tuple[int, dict[str, Any]]:
        module_args = {
            "docker_host": FAKE_HOST,
            "api_version": "1.41",
            "_ansible_check_mode": check_mode,
            "_ansible_diff": diff,
            **args,
        }
        with patch_module_args(module_args), pytest.raises(SystemExit) as exit_info:
            container_commit.main()
        return int(exit_info.value.code or 0), json.loads(capsys.readouterr().out)

    return run


def test_commit_returns_id_tags_size_and_trimmed_image(engine: FakeEngine, run_module: RunModule) -> None:
    rc, result = run_module({"container": "builder", "repository": "ecspress/wordpress", "tag": "v1"})

    assert rc == 0, result
    assert result["changed"] is True
    assert result["image_id"] == NEW_ID
    assert result["previous_image_id"] is None
    assert result["tags"] == ["ecspress/wordpress:v1"]
    assert result["size"] == 123456
    assert result["image"]["Id"] == NEW_ID
    assert result["image"]["RepoTags"] == ["ecspress/wordpress:v1"]
    assert set(result["image"]) == set(container_commit.IMAGE_KEYS)


def test_commit_request_carries_every_option(engine: FakeEngine, run_module: RunModule) -> None:
    rc, result = run_module(
        {
            "container": "builder",
            "repository": "127.0.0.1:5000/ecspress/wordpress",
            "changes": ["expose 80", 'cmd ["apache2ctl","-D","FOREGROUND"]', "ENV A=1"],
            "author": "ecspress",
            "comment": "built by ansible",
            "pause": False,
        }
    )

    assert rc == 0, result
    assert engine.commits == [
        {
            "container": CONTAINER_ID,
            "repo": "127.0.0.1:5000/ecspress/wordpress",
            "tag": "latest",
            "pause": "0",
            "changes": ["EXPOSE 80", 'CMD ["apache2ctl", "-D", "FOREGROUND"]', "ENV A=1"],
            "author": "ecspress",
            "comment": "built by ansible",
        }
    ]
    assert result["changes"] == engine.commits[0]["changes"]


def test_pause_defaults_to_true_and_unset_author_and_comment_are_not_sent(
    engine: FakeEngine, run_module: RunModule
) -> None:
    run_module({"container": "builder", "repository": "ecspress/wordpress"})

    (commit,) = engine.commits
    assert commit["pause"] == "1"
    assert "author" not in commit
    assert "comment" not in commit


def test_container_found_by_id_prefix(engine: FakeEngine, run_module: RunModule) -> None:
    rc, result = run_module({"container": CONTAINER_ID[:12], "repository": "ecspress/wordpress"})

    assert rc == 0, result
    assert engine.commits[0]["container"] == CONTAINER_ID


def test_missing_container_fails_without_commit(engine: FakeEngine, run_module: RunModule) -> None:
    rc, result = run_module({"container": "ghost", "repository": "ecspress/wordpress"})

    assert rc == 1
    assert result["failed"] is True
    assert result["msg"] == "container ghost not found"
    assert engine.commits == []


def test_bad_change_line_fails_before_any_api_call(engine: FakeEngine, run_module: RunModule) -> None:
    rc, result = run_module(
        {"container": "builder", "repository": "ecspress/wordpress", "changes": ["EXPOSE 80", "VOLUME /data"]}
    )

    assert rc == 1
    assert result["msg"].startswith('invalid change line "VOLUME /data": VOLUME is refused')
    assert engine.requests == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"repository": "ecspress/wordpress:v1"}, "repository 'ecspress/wordpress:v1' is not a valid image repository"),
        ({"repository": "Ecspress/WordPress"}, "is not a valid image repository"),
        ({"repository": "ecspress/wordpress", "tag": "v1/x"}, "tag 'v1/x' is not a valid Docker tag"),
        ({"repository": "ecspress/wordpress", "tag": ""}, "tag '' is not a valid Docker tag"),
    ],
)
def test_invalid_reference_fails_before_any_api_call(
    engine: FakeEngine, run_module: RunModule, args: dict[str, str], message: str
) -> None:
    rc, result = run_module({"container": "builder", **args})

    assert rc == 1
    assert message in result["msg"]
    assert engine.requests == []


def test_check_mode_inspects_but_does_not_commit(engine: FakeEngine, run_module: RunModule) -> None:
    engine.add_image(OLD_ID, ["ecspress/wordpress:latest"])

    rc, result = run_module(
        {"container": "builder", "repository": "ecspress/wordpress", "changes": ["EXPOSE 80"]}, check_mode=True
    )

    assert rc == 0, result
    assert result["changed"] is True
    assert result["previous_image_id"] == OLD_ID
    assert result["tags"] == ["ecspress/wordpress:latest"]
    assert result["changes"] == ["EXPOSE 80"]
    assert "image_id" not in result
    assert engine.commits == []
    assert ("GET", "/containers/builder/json", {}) in engine.requests


def test_check_mode_fails_for_missing_container(engine: FakeEngine, run_module: RunModule) -> None:
    rc, result = run_module({"container": "ghost", "repository": "ecspress/wordpress"}, check_mode=True)

    assert rc == 1
    assert result["msg"] == "container ghost not found"


def test_changed_when_tag_moves_to_new_image(engine: FakeEngine, run_module: RunModule) -> None:
    engine.add_image(OLD_ID, ["ecspress/wordpress:latest"])

    rc, result = run_module({"container": "builder", "repository": "ecspress/wordpress"}, diff=True)

    assert rc == 0, result
    assert result["changed"] is True
    assert result["previous_image_id"] == OLD_ID
    assert result["image_id"] == NEW_ID
    assert result["diff"] == {
        "before": {"ecspress/wordpress:latest": OLD_ID},
        "after": {"ecspress/wordpress:latest": NEW_ID},
    }


def test_not_changed_when_tag_already_points_at_the_committed_id(engine: FakeEngine, run_module: RunModule) -> None:
    # A real engine never answers this (the image config records its creation time), but the contract is
    # "changed = the tag moved", so an engine that reproduces an identical image must give changed=false.
    engine.add_image(OLD_ID, ["ecspress/wordpress:latest"])
    engine.next_image_id = OLD_ID

    rc, result = run_module({"container": "builder", "repository": "ecspress/wordpress"})

    assert rc == 0, result
    assert result["changed"] is False
    assert result["image_id"] == result["previous_image_id"] == OLD_ID
    assert len(engine.commits) == 1


def test_mounts_are_warned_about(engine: FakeEngine, run_module: RunModule) -> None:
    engine.add_container(
        "with-volume",
        container_id="d" * 64,
        mounts=[{"Type": "volume", "Destination": "/var/www/html"}, {"Type": "bind", "Destination": "/data"}],
    )

    from unittest import mock

    from ansible.module_utils.basic import AnsibleModule

    # Spy on warn(): once controller-side code is imported in the same process (other unit tests
    # load filter plugins), ansible-core 2.19 routes module warnings to the display, not the result.
    with mock.patch.object(AnsibleModule, "warn", autospec=True, side_effect=AnsibleModule.warn) as warn:
        rc, result = run_module({"container": "with-volume", "repository": "ecspress/wordpress"})

    assert rc == 0, result
    warnings = json.dumps([call.args[1] for call in warn.call_args_list])
    assert "/data, /var/www/html" in warnings
    assert "with-volume" in warnings


def test_engine_error_on_commit_names_the_engine(engine: FakeEngine, run_module: RunModule) -> None:
    response = requests.Response()
    response.status_code = 400
    engine.commit_error = APIError("400 Client Error", response=response, explanation="STOPSIGNAL is not allowed")

    rc, result = run_module({"container": "builder", "repository": "ecspress/wordpress"})

    assert rc == 1
    assert FAKE_HOST in result["msg"]
    assert "STOPSIGNAL is not allowed" in result["msg"]


def test_unreachable_engine_message_names_the_docker_host(
    monkeypatch: pytest.MonkeyPatch, run_module: RunModule
) -> None:
    def refused(self: APIClient, *args: Any, **kwargs: Any) -> None:
        raise requests.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(APIClient, "_get", refused)

    rc, result = run_module({"container": "builder", "repository": "ecspress/wordpress", "api_version": "auto"})

    assert rc == 1
    assert f"cannot reach the Docker engine at {FAKE_HOST}" in result["msg"]
    assert "Connection refused" in result["msg"]


def test_engine_lost_after_connecting_names_the_docker_host(
    monkeypatch: pytest.MonkeyPatch, run_module: RunModule
) -> None:
    def refused(self: APIClient, *args: Any, **kwargs: Any) -> None:
        raise requests.exceptions.ConnectionError("Connection refused")

    monkeypatch.setattr(APIClient, "_get", refused)

    rc, result = run_module({"container": "builder", "repository": "ecspress/wordpress"})

    assert rc == 1
    assert result["msg"].startswith(f"cannot talk to the Docker engine at {FAKE_HOST}: ")


def _documented_returns() -> dict[str, dict[str, Any]]:
    documented: dict[str, dict[str, Any]] = yaml.safe_load(container_commit.RETURN)
    return documented


ANSIBLE_RESULT_KEYS = {"changed", "diff", "warnings", "deprecations", "invocation"}


def test_return_doc_matches_returned_keys(engine: FakeEngine, run_module: RunModule) -> None:
    _, result = run_module({"container": "builder", "repository": "ecspress/wordpress"})

    assert set(result) - ANSIBLE_RESULT_KEYS == set(_documented_returns())


def test_return_doc_matches_check_mode_keys(engine: FakeEngine, run_module: RunModule) -> None:
    _, result = run_module({"container": "builder", "repository": "ecspress/wordpress"}, check_mode=True)

    in_check_mode = {key for key, doc in _documented_returns().items() if "not in check mode" not in doc["returned"]}
    assert set(result) - ANSIBLE_RESULT_KEYS == in_check_mode


def test_documentation_and_examples_parse() -> None:
    documentation = yaml.safe_load(container_commit.DOCUMENTATION)
    examples = yaml.safe_load(container_commit.EXAMPLES)

    assert documentation["module"] == "container_commit"
    assert set(documentation["options"]) == {"container", "repository", "tag", "changes", "author", "comment", "pause"}
    commit_tasks = [task for task in examples if "ansible.builtin.debug" not in task]
    assert commit_tasks
    assert all("ecspress.wordpress.container_commit" in task for task in commit_tasks)


@pytest.mark.parametrize(
    "name",
    ["ecspress/wordpress", "wordpress", "127.0.0.1:5000/ecspress/wordpress", "localhost/a/b", "a.b-c_d__e/f"],
)
def test_valid_repositories(name: str) -> None:
    assert container_commit.is_valid_repository(name)


@pytest.mark.parametrize(
    "name",
    ["ecspress/wordpress:latest", "ecspress/WordPress", "repo@sha256:" + "a" * 64, "-a/b", "a//b", "a/b/", ""],
)
def test_invalid_repositories(name: str) -> None:
    assert not container_commit.is_valid_repository(name)
