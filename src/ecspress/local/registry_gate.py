"""ECR's tag immutability in front of Debian's docker-registry.

On ECR, a repository whose ``imageTagMutability`` is ``IMMUTABLE`` refuses a push of a tag it
already holds, whatever the new manifest is: ``docker push`` fails with ``tag invalid: The image
tag '<tag>' already exists in the '<repository>' repository and cannot be overwritten because the
repository is immutable.`` (the registry error ``TAG_INVALID``; the API error behind it is
``ImageTagAlreadyExistsException``:
https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html and
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_PutImage.html).

Debian's docker-registry, ECR's data plane on the local stack, keeps every tag mutable. This
gate listens where the product pushes (127.0.0.1:5000), forwards every request to the registry
unchanged, and refuses a manifest PUT by tag when moto's ECR says the repository is immutable and
the registry already holds that tag. Run as ``python -m ecspress.local.registry_gate``; the local
stack starts it. Only the local stack uses this.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import boto3
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

# PUT /v2/<name>/manifests/<reference>; a reference that is a digest is not a tag.
MANIFEST_PATH = re.compile(r"^/v2/(?P<repository>.+)/manifests/(?P<reference>[^/]+)$")
# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the gate recomputes.
NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
CHUNK = 1 << 20

ImmutabilityCheck = Callable[[str], bool]


def immutable_tag_message(repository: str, tag: str) -> str:
    """ECR's wording for a push of an existing tag to an immutable repository."""
    return (
        f"The image tag '{tag}' already exists in the '{repository}' repository "
        "and cannot be overwritten because the repository is immutable."
    )


def ecr_immutability(endpoint: str, region: str) -> ImmutabilityCheck:
    """Ask ECR (moto) whether a repository's tags are immutable; an unknown repository is not."""
    ecr = boto3.client(
        "ecr",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )

    def is_immutable(repository: str) -> bool:
        try:
            found = ecr.describe_repositories(repositoryNames=[repository])["repositories"]
        except Exception:  # RepositoryNotFoundException, or moto down: the registry decides alone
            return False
        return bool(found) and found[0].get("imageTagMutability") == "IMMUTABLE"

    return is_immutable


class Gate:
    """A WSGI app: the registry's API, with ECR's tag immutability enforced on manifest PUTs."""

    def __init__(self, upstream: str, is_immutable: ImmutabilityCheck) -> None:
        self.upstream = upstream.rstrip("/")
        self.is_immutable = is_immutable
        self.session = requests.Session()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        refusal = self.refusal(request)
        response = refusal if refusal is not None else self.forward(request)
        return response(environ, start_response)

    def refusal(self, request: Request) -> Response | None:
        match = MANIFEST_PATH.match(request.path)
        if request.method != "PUT" or match is None or match["reference"].startswith("sha256:"):
            return None
        repository, tag = match["repository"], match["reference"]
        if not self.is_immutable(repository) or not self.tag_exists(request, repository, tag):
            return None
        body = {"errors": [{"code": "TAG_INVALID", "message": immutable_tag_message(repository, tag)}]}
        return Response(json.dumps(body), status=400, content_type="application/json")

    def tag_exists(self, request: Request, repository: str, tag: str) -> bool:
        headers = {key: value for key, value in request.headers.items() if key.lower() in ("authorization", "host")}
        headers["Accept"] = request.headers.get("Content-Type", "*/*") + ", */*"
        found = self.session.head(f"{self.upstream}/v2/{repository}/manifests/{tag}", headers=headers, timeout=10)
        return found.status_code == 200

    def forward(self, request: Request) -> Response:
        headers = {key: value for key, value in request.headers.items() if key.lower() not in NOT_FORWARDED}
        has_body = request.content_length or request.headers.get("Transfer-Encoding", "").lower() == "chunked"
        upstream = self.session.request(
            request.method,
            self.upstream + request.full_path.rstrip("?"),
            headers=headers,
            data=_stream(request) if has_body else None,
            stream=True,
            allow_redirects=False,
            timeout=600,
        )
        kept = [(key, value) for key, value in upstream.raw.headers.items() if key.lower() not in NOT_FORWARDED]
        if "content-length" in upstream.headers and upstream.headers.get("transfer-encoding") is None:
            kept.append(("Content-Length", upstream.headers["content-length"]))
        body = b"" if request.method == "HEAD" else upstream.raw.stream(CHUNK, decode_content=False)
        return Response(body, status=upstream.status_code, headers=kept, direct_passthrough=True)


def _stream(request: Request) -> Iterator[bytes]:
    """The request body in chunks (sent on as chunked: docker pushes layers of hundreds of MB)."""
    stream = request.stream
    while chunk := stream.read(CHUNK):
        yield chunk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the registry, e.g. http://127.0.0.1:5001")
    parser.add_argument("--ecr-endpoint", required=True, help="moto, e.g. http://127.0.0.1:5100")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    gate = Gate(args.upstream, ecr_immutability(args.ecr_endpoint, args.region))
    server = make_server(args.host, args.port, gate, threaded=True)
    print(f"registry gate listening on http://{args.host}:{server.server_port} -> {args.upstream}", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
