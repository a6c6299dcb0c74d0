"""What every benchmark document records about its own run: the command, when, the commit and
the machine (the figures mean nothing without them)."""

from __future__ import annotations

import os
import platform
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import torch

ROOT = Path(__file__).resolve().parents[1]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def provenance() -> dict[str, Any]:
    """``command``, ``created_at``, ``git_commit`` and ``machine`` of the running script."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "command": f"python bench/{Path(sys.argv[0]).name} " + shlex.join(sys.argv[1:]),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit or "unknown",
        "machine": {
            "cpus": os.cpu_count(),
            # /proc/cpuinfo first: on Linux platform.processor() is "" or just "x86_64".
            "cpu_model": _cpu_model(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "faiss": faiss.__version__,
        },
    }
