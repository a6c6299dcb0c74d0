"""``python -m service.replicas PORT [PORT ...]``: one ``python -m service`` process per port, on
one host, all on the same config and Redis; put any HTTP balancer in front (the compose
``replicas`` profile uses nginx with ``docker/nginx.conf``).

Why N processes on N ports rather than ``uvicorn --workers N`` on one: each replica stays
addressable, so ``/metrics`` is scraped per process (prometheus_client counts per process, and
behind one shared port a scrape would see a random worker's counters), ``/readyz`` tells which
one is down, and ``POST /admin/reload`` can be sent to every replica (through one shared port it
reaches one random worker, and the others keep serving the old bundle). One event loop per
core is also what the benchmarks measure.

Every child gets ``PORT`` and ``REPLICAS`` (= number of ports) in its environment; with more than
one, the settings refuse the in-memory exposure store at start-up. SIGINT / SIGTERM are passed on
to every child; when one child exits, the others are stopped and its exit status is returned
(a supervisor such as systemd or Docker then restarts the set).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

USAGE = "usage: python -m service.replicas PORT [PORT ...]"


def parse_ports(argv: list[str]) -> list[int]:
    if not argv or argv[0] in ("-h", "--help"):
        raise ValueError(USAGE)
    ports: list[int] = []
    for arg in argv:
        if not arg.isdigit() or not 1 <= int(arg) <= 65535:
            raise ValueError(f"port {arg!r}: expected an integer in 1..65535 ({USAGE})")
        if int(arg) in ports:
            raise ValueError(f"port {arg} given twice")
        ports.append(int(arg))
    return ports


def main(argv: list[str] | None = None) -> int:
    try:
        ports = parse_ports(sys.argv[1:] if argv is None else argv)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    children: list[subprocess.Popen[bytes]] = []
    for port in ports:
        env = {**os.environ, "PORT": str(port), "REPLICAS": str(len(ports))}
        children.append(subprocess.Popen([sys.executable, "-m", "service"], env=env))

    asked: list[int] = []  # the stop signal received, if any

    def forward(signum: int, _: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    def stop(signum: int, frame: FrameType | None) -> None:
        asked.append(signum)
        forward(signum, frame)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.2)
    first = next(child.returncode for child in children if child.returncode is not None)
    forward(signal.SIGTERM, None)
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    # uvicorn shuts down gracefully on SIGINT / SIGTERM and then re-raises the signal, so a child
    # that ends by the signal it was asked to stop with has stopped cleanly.
    clean = {0, *(-sig for sig in (signal.SIGTERM, signal.SIGINT))}
    if asked and all(child.returncode in clean for child in children):
        return 0
    return 128 - first if first < 0 else first  # killed by a signal: the shell's convention


if __name__ == "__main__":
    sys.exit(main())
