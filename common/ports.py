"""Local TCP ports: a free one for a server of our own (``free_port``: tests, the benchmarks,
the dashboard script), whether a given one is free (``check_free``) and which process listens on
it (``owned_by``).

``make demo`` checks its port before training (so that a busy port fails in a second, not after
the training) and, once the service answers, that the listening socket belongs to the child it
started (so that it never reports another program's server as its own).
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path


def free_port() -> int:
    # The OS picks the port on bind(("", 0)); it can in principle be taken again between close()
    # and the server's own bind, which is fine for the short-lived local servers this is for.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PortInUse(OSError):
    """The port cannot be bound on that host."""


def check_free(host: str, port: int) -> None:
    """Raise :class:`PortInUse` when ``host:port`` cannot be bound now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        # The same option uvicorn sets: a port left in TIME_WAIT by a previous run is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno in (errno.EADDRINUSE, errno.EACCES):
                raise PortInUse(e.errno, f"port {port} is in use") from None
            raise


def _listening_inodes(port: int) -> set[str]:
    """Socket inodes in LISTEN state on ``port`` (any address), from /proc/net/tcp{,6}."""
    inodes: set[str] = set()
    for name in ("tcp", "tcp6"):
        table = Path("/proc/net") / name
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            # f[1] = "ADDR:PORT" in hex, f[3] = state (0A = LISTEN), f[9] = inode
            if len(f) > 9 and f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f[9])
    return inodes


def owned_by(pid: int, port: int) -> bool | None:
    """True when process ``pid`` holds a socket listening on ``port``, False when it does not,
    None where this cannot be told (no /proc: not Linux)."""
    fd_dir = Path(f"/proc/{pid}/fd")
    if not Path("/proc/net/tcp").exists() or not fd_dir.exists():
        return None
    inodes = _listening_inodes(port)
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return None
    for fd in fds:
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False
