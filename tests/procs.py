"""Running the commands in other processes, for the end-to-end tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def spawn(args: list[str], env: dict | None = None, merge_stderr: bool = False) -> subprocess.Popen:
    """``python ARGS`` in the repository, text pipes (stderr into stdout if asked)."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
    )


def wait_line(proc: subprocess.Popen, prefix: str, timeout_s: float = 20.0) -> str:
    """The first stdout line starting with ``prefix``; fails (with the process's stderr,
    if piped apart) when none comes within ``timeout_s`` or the process ends."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        if line.startswith(prefix):
            return line.strip()
    err = f": {proc.stderr.read()}" if proc.stderr is not None else ""
    raise AssertionError(f"no {prefix!r} line from {proc.args}{err}")
