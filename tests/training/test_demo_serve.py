"""``make demo`` never reports a server it did not start (issue 13 item 3)."""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from common.ports import owned_by
from training.demo import _wait_ready


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_an_answer_from_another_process_is_not_reported_as_ours() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Ok)  # someone else's server on the port
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        problem = _wait_ready(child, f"http://127.0.0.1:{port}", port)
        assert problem is not None and "another process" in problem
        import os

        assert owned_by(os.getpid(), port) is True
        assert owned_by(child.pid, port) is False
    finally:
        child.kill()
        child.wait()
        server.shutdown()
        server.server_close()


def test_a_child_that_exits_is_reported_as_exited() -> None:
    child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    problem = _wait_ready(child, "http://127.0.0.1:9", 9)
    assert problem is not None and "exited with status 3" in problem
