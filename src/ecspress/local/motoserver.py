"""moto's server mode with ecspress's compatibility fixes, AWS request rules and local rollout model applied.

Run as ``python -m ecspress.local.motoserver --port 5100``. The local stack starts it; tests
start their own on a free port.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

# Read by moto when its IAM backend is created: without it, attaching
# AmazonECSTaskExecutionRolePolicy fails with NoSuchEntity.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

from ecspress.local import (
    alb_front,
    aws_rules,
    ecr_bridge,
    ecs_one_off,
    ecs_rollout,
    ecs_tasks,
    moto_compat,
    rds_databases,
)


def serve(host: str, port: int) -> None:
    applied = moto_compat.apply_all()
    # AWS's own request checks that moto lacks: refuse locally what AWS refuses (see aws_rules).
    applied += aws_rules.apply_all()
    applied.append(ecs_rollout.install())
    applied.append(ecs_one_off.install())
    applied.append(rds_databases.install())
    applied.append(ecr_bridge.install())
    # The ECS tasks this server runs on Docker end with it (moto's state is gone, nothing could stop them later).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The stand-in's own path beside moto's: where a load balancer's DNS name leads locally (alb_front).
    app = alb_front.wsgi(DomainDispatcherApplication(create_backend_app))
    server = make_server(host, port, app, threaded=True)
    print(f"moto listening on http://{host}:{server.server_port} with fixes: {', '.join(applied)}", flush=True)
    try:
        server.serve_forever()
    finally:
        ecs_tasks.remove_containers()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5100)
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
