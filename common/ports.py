"""``free_port``: a TCP port on 127.0.0.1 that nothing listens on right now (for tests, the
benchmarks and the dashboard script, which start a server of their own)."""

from __future__ import annotations

import socket


def free_port() -> int:
    # The OS picks the port on bind(("", 0)); it can in principle be taken again between close()
    # and the server's own bind, which is fine for the short-lived local servers this is for.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
