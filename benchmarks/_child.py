"""Shared by the benchmarks that measure memory: each measurement runs in a fresh process.

Linux carries a parent's peak RSS across fork+exec into ``ru_maxrss``, so a run's own
growth is only visible in a child started from a small parent.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def run_child(module: str, kind: str, path: Path) -> dict:
    """Run ``python -m module --child kind path``; its last stdout line is a JSON result."""
    out = subprocess.run(
        [sys.executable, "-m", module, "--child", kind, str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def celery_worker_command(
    queues: str, *, hostname: str | None = None, loglevel: str = "WARNING"
) -> list[str]:
    """The command line of a one-process prefork Celery worker on ``queues`` (comma-separated)."""
    cmd = [sys.executable, "-m", "celery", "-A", "omm", "worker", "-Q", queues, "--concurrency", "1"]
    if hostname:
        cmd += ["--hostname", hostname]
    return [*cmd, "--pool", "prefork", "--loglevel", loglevel, "--without-gossip", "--without-mingle"]
