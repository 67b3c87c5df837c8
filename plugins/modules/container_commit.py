#!/usr/bin/python
# Copyright (c) ecspress maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: container_commit
short_description: Commit a Docker container to a tagged image
version_added: 0.1.0
description:
  - Creates an image from a container's filesystem and configuration, like C(docker commit), through the Docker Engine
    API (C(POST /commit)), and tags it O(repository):O(tag).
  - Talks to the engine with community.docker's own API client; needs neither the C(docker) CLI nor the Docker SDK
    for Python.
  - The image configuration can be adjusted with Dockerfile instructions in O(changes); they are validated before the
    module inspects or commits anything.
  - B(changed) means the tag O(repository):O(tag) ends up on another image ID than before. A real commit always
    creates a new image ID (the image records its creation time), so every real run reports a change. Skip the task
    yourself when the image you want already exists, for example with a content-addressed O(tag).
extends_documentation_fragment:
  - community.docker.docker.api_documentation
  - community.docker.attributes
attributes:
  check_mode:
    support: full
    details:
      - Inspects the container and validates every option, then reports C(changed=true) without committing.
  diff_mode:
    support: full
    details:
      - Shows the image ID the tag pointed at before and after.
  idempotent:
    support: none
    details:
      - Every real commit creates a new image ID, so a second identical run reports a change again.
  action_group:
    description: Use C(group/ecspress.wordpress.ecspress) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - ecspress.wordpress.ecspress
options:
  container:
    description:
      - Name or ID (full or a unique prefix) of the container to commit. It may be running or stopped.
    type: str
    required: true
  repository:
    description:
      - Repository of the new image, without a tag, for example V(ecspress/wordpress) or
        V(127.0.0.1:5000/ecspress/wordpress).
    type: str
    required: true
  tag:
    description:
      - Tag of the new image.
    type: str
    default: latest
  changes:
    description:
      - Dockerfile instructions applied to the image configuration, one instruction per item.
      - Allowed are C(CMD), C(ENTRYPOINT), C(EXPOSE), C(ENV), C(LABEL), C(USER), C(WORKDIR) and C(HEALTHCHECK).
      - C(ENV) and C(LABEL) take C(KEY=value) pairs (quote values with spaces); C(WORKDIR) takes an absolute path;
        a C(CMD), C(ENTRYPOINT) or C(HEALTHCHECK ... CMD) starting with C([) must be a JSON array of strings.
      - Refused, with an error naming the line, are C(VOLUME) (see the notes), C(STOPSIGNAL) (Docker Engine 20.10
        rejects it in a commit), C(ONBUILD), build-only instructions such as C(RUN), C(COPY), C(FROM), comments,
        line breaks and a trailing backslash (the engine would join the line with the next one).
    type: list
    elements: str
    default: []
  author:
    description:
      - Author recorded in the image, for example V(ecspress <ops@example.com>).
    type: str
  comment:
    description:
      - Commit message, recorded as the image's C(Comment) (what C(docker commit --message) sets).
      - Called O(comment) like the Engine API parameter, because Ansible reserves the option name C(message).
    type: str
  pause:
    description:
      - Pause the container while it is committed, so that its filesystem does not change half-way.
    type: bool
    default: true
notes:
  - Only the container's own filesystem layer is committed. Data under a mount point is left out, and that includes
    every path the container's image declares as C(VOLUME) (the official C(wordpress) image declares
    C(/var/www/html)); the engine mounts an anonymous volume there. Write such files elsewhere, or use a base image
    without the declaration. The module warns when the container has mounts.
  - The returned RV(size) is the total size of the image including its parent layers.
requirements:
  - Docker API >= 1.25
author:
  - ecspress maintainers (@ecspress)
seealso:
  - module: community.docker.docker_container
  - module: community.docker.docker_image_push
  - module: community.docker.docker_image_tag
"""

EXAMPLES = r"""
---
- name: Commit the configured builder container as the WordPress image
  ecspress.wordpress.container_commit:
    container: ecspress-builder
    repository: ecspress/wordpress
    tag: "{{ ecspress_image_tag }}"
    author: ecspress
    comment: WordPress configured by the wordpress_image role
    changes:
      - 'CMD ["apache2ctl", "-D", "FOREGROUND"]'
      - EXPOSE 80
      - WORKDIR /var/www/html
      - HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["curl", "-fsS", "http://127.0.0.1/healthz"]
      - LABEL org.opencontainers.image.source="https://github.com/ecspress/wordpress"
  register: ecspress_commit

- name: Show the new image
  ansible.builtin.debug:
    msg: "{{ ecspress_commit.tags[0] }} is {{ ecspress_commit.image_id }} ({{ ecspress_commit.size }} bytes)"

- name: Commit a stopped container on a remote engine without pausing it
  ecspress.wordpress.container_commit:
    docker_host: tcp://build.example.com:2376
    tls: true
    container: 4f1c2a9e
    repository: registry.example.com:5000/team/app
    tag: "1.2.3"
    pause: false
"""

RETURN = r"""
image_id:
  description: ID of the committed image.
  returned: success and not in check mode
  type: str
  sample: sha256:4a1c3b8d0f2e6a7b9c5d1e3f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b
previous_image_id:
  description: ID of the image the tag pointed at before the commit, or V(null) when the tag did not exist.
  returned: success
  type: str
  sample: sha256:0d3b1f5e7a9c2e4f6a8b0c2d4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f
tags:
  description: The tag given to the image, as C(repository:tag) (in check mode, the tag it would get).
  returned: success
  type: list
  elements: str
  sample:
    - ecspress/wordpress:latest
size:
  description: Size of the committed image in bytes, including its parent layers.
  returned: success and not in check mode
  type: int
  sample: 331457024
changes:
  description: The normalised O(changes) lines sent to the engine.
  returned: success
  type: list
  elements: str
  sample:
    - EXPOSE 80
    - CMD ["apache2ctl", "-D", "FOREGROUND"]
image:
  description:
    - Inspection result of the committed image, trimmed to C(Id), C(RepoTags), C(RepoDigests), C(Parent),
      C(Comment), C(Created), C(Author), C(Architecture), C(Os), C(Size) and C(Config).
  returned: success and not in check mode
  type: dict
  sample:
    Id: sha256:4a1c3b8d0f2e6a7b9c5d1e3f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d1e3f5a7b
    RepoTags:
      - ecspress/wordpress:latest
    Comment: WordPress configured by the wordpress_image role
    Config:
      Cmd:
        - apache2ctl
        - -D
        - FOREGROUND
      ExposedPorts:
        80/tcp: {}
"""

import re
import traceback
from typing import Any, cast

from ansible.module_utils.common.text.converters import to_native
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    APIError,
    DockerException,
    NotFound,
)
from ansible_collections.community.docker.plugins.module_utils.common_api import (
    AnsibleDockerClient,
    RequestException,
)
from ansible_collections.community.docker.plugins.module_utils.util import is_valid_tag
from ansible_collections.ecspress.wordpress.plugins.module_utils._commit_changes import (
    ChangeLineError,
    normalize_change_lines,
)

# The inspect keys worth returning; GraphDriver, RootFS, ContainerConfig and Metadata are noise for a playbook.
IMAGE_KEYS = (
    "Id",
    "RepoTags",
    "RepoDigests",
    "Parent",
    "Comment",
    "Created",
    "Author",
    "Architecture",
    "Os",
    "Size",
    "Config",
)

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPOSITORY = re.compile(
    rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*$"
)


class InvalidRequest(ValueError):
    """A task the module refuses to run: an option value the engine would reject, or a missing container."""


class CommitClient(AnsibleDockerClient):  # type: ignore[misc]  # community.docker is untyped
    """community.docker's API client, with an engine-connection error that names the engine it tried."""

    def _retrieve_server_version(self) -> str:
        try:
            return str(super()._retrieve_server_version())
        except DockerException as exc:
            engine = self.module.params["docker_host"]
            raise DockerException(f"cannot reach the Docker engine at {engine}: {exc}") from exc


def is_valid_repository(name: str) -> bool:
    """Whether ``name`` is a Docker repository reference without tag or digest (docker/distribution grammar)."""
    return len(name) <= 255 and bool(_REPOSITORY.match(name))


def validate_request(params: dict[str, Any]) -> list[str]:
    """Check repository and tag, and return the normalised change lines; raises InvalidRequest or ChangeLineError."""
    if not is_valid_repository(params["repository"]):
        raise InvalidRequest(
            f"repository {params['repository']!r} is not a valid image repository name without tag "
            "(lower-case path components, optionally behind a registry host[:port]/; put the tag into the tag option)"
        )
    if not is_valid_tag(params["tag"]):
        raise InvalidRequest(f"tag {params['tag']!r} is not a valid Docker tag ([A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})")
    return normalize_change_lines(params["changes"])


def inspect_container(client: AnsibleDockerClient, container: str) -> dict[str, Any] | None:
    """Inspection result of a container given by name or (prefix of an) ID, or None when there is none."""
    try:
        return cast("dict[str, Any]", client.get_json("/containers/{0}/json", container.lstrip("/")))
    except NotFound:
        return None


def mount_destinations(container: dict[str, Any]) -> list[str]:
    """Paths inside the container whose contents a commit leaves out (volumes, bind mounts, tmpfs)."""
    return sorted(mount["Destination"] for mount in container.get("Mounts") or [] if mount.get("Destination"))


def commit_container(client: AnsibleDockerClient, container_id: str, params: dict[str, Any], changes: list[str]) -> str:
    """POST /commit and return the new image ID."""
    query: dict[str, Any] = {
        "container": container_id,
        "repo": params["repository"],
        "tag": params["tag"],
        "pause": "1" if params["pause"] else "0",
        "changes": changes,
    }
    if params["author"]:
        query["author"] = params["author"]
    if params["comment"]:
        query["comment"] = params["comment"]
    return str(client.post_json_to_json("/commit", params=query)["Id"])


def trim_image(image: dict[str, Any]) -> dict[str, Any]:
    return {key: image[key] for key in IMAGE_KEYS if key in image}


def run(client: AnsibleDockerClient) -> dict[str, Any]:
    params = client.module.params
    changes = validate_request(params)
    reference = f"{params['repository']}:{params['tag']}"
    container = inspect_container(client, params["container"])
    if container is None:
        raise InvalidRequest(f"container {params['container']} not found")
    left_out = mount_destinations(container)
    if left_out:
        client.module.warn(
            f"Not committed: the contents of {', '.join(left_out)} in container {params['container']}; "
            "a commit leaves out data under volumes (including paths the image declares as VOLUME) and other mounts."
        )
    previous = client.find_image(params["repository"], params["tag"])
    previous_id = previous["Id"] if previous else None
    result: dict[str, Any] = {
        "changed": True,
        "tags": [reference],
        "previous_image_id": previous_id,
        "changes": changes,
    }
    new_id = None
    if not client.check_mode:
        new_id = commit_container(client, container["Id"], params, changes)
        image = client.find_image_by_id(new_id, accept_missing_image=False)
        result.update(changed=new_id != previous_id, image_id=new_id, size=image.get("Size"), image=trim_image(image))
    if client.module._diff:
        result["diff"] = {
            "before": {reference: previous_id},
            "after": {reference: new_id or "(new image ID, known after the commit)"},
        }
    return result


def main() -> None:
    client = CommitClient(
        argument_spec={
            "container": {"type": "str", "required": True},
            "repository": {"type": "str", "required": True},
            "tag": {"type": "str", "default": "latest"},
            "changes": {"type": "list", "elements": "str", "default": []},
            "author": {"type": "str"},
            "comment": {"type": "str"},
            "pause": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
        min_docker_api_version="1.25",
    )
    engine = client.module.params["docker_host"]
    try:
        client.module.exit_json(**run(client))
    except (InvalidRequest, ChangeLineError) as exc:
        client.fail(to_native(exc))
    except APIError as exc:
        client.fail(
            f"the Docker engine at {engine} answered an error while committing {client.module.params['container']}: "
            f"{to_native(exc)}",
            exception=traceback.format_exc(),
        )
    except (DockerException, RequestException) as exc:
        client.fail(f"cannot talk to the Docker engine at {engine}: {to_native(exc)}", exception=traceback.format_exc())


if __name__ == "__main__":
    main()
