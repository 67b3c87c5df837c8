"""moto's server mode with ecspress's compatibility fixes, AWS request rules and local rollout model applied.

Run as ``python -m ecspress.local.motoserver --port 5100``. The local stack starts it; tests
start their own on a free port.
"""

from __future__ import annotations

import argparse
import os
import sys

# Read by moto when its IAM backend is created: without it, attaching
# AmazonECSTaskExecutionRolePolicy fails with NoSuchEntity.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from ecspress.local import aws_rules, ecr_bridge, ecs_rollout, moto_compat


def serve(host: str, port: int) -> None:
    applied = moto_compat.apply_all()
    # AWS's own request checks that moto lacks: refuse locally what AWS refuses (see aws_rules).
    applied += aws_rules.apply_all()
    applied.append(ecs_rollout.install())
    applied.append(ecr_bridge.install())
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(host, port, app, threaded=True)
    print(f"moto listening on http://{host}:{server.server_port} with fixes: {', '.join(applied)}", flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5100)
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
