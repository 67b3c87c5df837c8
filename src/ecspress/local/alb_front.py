"""The local stand-in's application load balancers, answering on 127.0.0.1.

On AWS an ALB's HTTP listener answers at the load balancer's DNS name and forwards each request to a healthy target
of its target group: the tasks ECS registered once their deployment completed
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/introduction.html). moto keeps the load
balancer as a record whose DNS name resolves nowhere, so nothing could fetch a page "through the load balancer"
locally. This model gives each load balancer whose service completed a local deployment a forwarder: a container of
the local base image (perl) on the task network, published on 127.0.0.1 only, forwarding every connection to the
container of the service's healthy task. The forwarder keeps its port for the load balancer's life (a later
deployment points it at its own task), and goes with the service or the server.

The stand-in's name resolution for it: ``GET /ecspress-local/resolve/<DNS name>`` on the moto server answers
``127.0.0.1:<port>`` (404 while nothing serves), so the product connects where the DNS name would lead and sends the
DNS name (or the site's own host) in ``Host``, as a browser does on AWS. Only HTTP on the listener's traffic port:
HTTPS listeners are not modelled.
"""

from __future__ import annotations

import threading
from typing import Any

from ecspress.local import ecs_tasks
from ecspress.local.stack import free_local_port

FRONT_LABEL = "io.ecspress.alb-front"
# A forwarder in the base image's perl (IO::Socket, IO::Select and fork are in perl-base): one process per connection.
FORWARD = (
    "use IO::Socket::INET; use IO::Select; my ($host, $port) = @ARGV; $SIG{CHLD} = 'IGNORE';"
    " my $s = IO::Socket::INET->new(LocalPort => 80, Listen => 50, ReuseAddr => 1) or die $!;"
    " while (my $c = $s->accept) { if (fork) { close $c; next }"
    " my $u = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 5)"
    ' or do { print $c "HTTP/1.1 502 Bad Gateway\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"; exit };'
    " my $sel = IO::Select->new($c, $u); while (my @ready = $sel->can_read(60)) { for my $h (@ready) {"
    " my $n = sysread($h, my $buf, 65536); exit unless $n; syswrite($h == $c ? $u : $c, $buf) } } exit }"
)

_LOCK = threading.Lock()
# DNS name of a load balancer -> the 127.0.0.1 port its forwarder publishes.
_FRONTS: dict[str, int] = {}


def container_name(balancer_name: str) -> str:
    return f"ecspress-alb-{balancer_name}-{ecs_tasks.server_id()}"


def forwarder_args(balancer_name: str, port: int, target: str, target_port: int) -> list[str]:
    """`docker run` words of the forwarder: published on 127.0.0.1 only, on the tasks' network."""
    return [
        "run",
        "--detach",
        "--name",
        container_name(balancer_name),
        "--network",
        ecs_tasks.NETWORK,
        "--publish",
        f"127.0.0.1:{port}:80",
        "--label",
        f"{FRONT_LABEL}={balancer_name}",
        "--label",
        f"{ecs_tasks.SERVER_LABEL}={ecs_tasks.server_id()}",
        "--entrypoint",
        "perl",
        ecs_tasks.PROBE_IMAGE,
        "-e",
        FORWARD,
        target,
        str(target_port),
    ]


def balancers_of(backend: Any, service: Any) -> list[tuple[Any, int]]:
    """The load balancers in front of the service's target groups, each with the container port it forwards to."""
    from moto.elbv2.models import elbv2_backends

    elbv2 = elbv2_backends[backend.account_id][backend.region_name]
    found = []
    for entry in service.load_balancers or []:
        group = elbv2.target_groups.get(str(entry.get("targetGroupArn") or ""))
        if group is None:
            continue
        for arn in group.load_balancer_arns:
            if arn in elbv2.load_balancers:
                found.append((elbv2.load_balancers[arn], int(entry.get("containerPort") or group.port or 80)))
    return found


def forward(backend: Any, service: Any, task_container: str) -> None:
    """Point the service's load balancers at the task container that just became the healthy target."""
    for balancer, target_port in balancers_of(backend, service):
        with _LOCK:
            port = _FRONTS.setdefault(balancer.dns_name, free_local_port())
        ecs_tasks.docker("rm", "--force", container_name(balancer.name))
        ecs_tasks.ensure_network()
        ecs_tasks.docker(*forwarder_args(balancer.name, port, task_container, target_port))


def forget(backend: Any, service: Any) -> None:
    """The service is gone: its load balancers serve nothing any more."""
    for balancer, _ in balancers_of(backend, service):
        with _LOCK:
            _FRONTS.pop(balancer.dns_name, None)
        ecs_tasks.docker("rm", "--force", container_name(balancer.name))


def resolve(dns_name: str) -> str | None:
    """`127.0.0.1:<port>` where the load balancer of that DNS name answers locally; None while nothing serves."""
    with _LOCK:
        port = _FRONTS.get(dns_name)
    return f"127.0.0.1:{port}" if port else None


def wsgi(app: Any) -> Any:
    """moto's WSGI app, with the stand-in's resolution of load balancer names at /ecspress-local/resolve/<name>."""
    prefix = "/ecspress-local/resolve/"

    def application(environ: dict[str, Any], start_response: Any) -> Any:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(prefix):
            return app(environ, start_response)
        address = resolve(path[len(prefix) :])
        status = "200 OK" if address else "404 Not Found"
        body = (address or f"no local load balancer answers for {path[len(prefix) :]}").encode()
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]

    return application
