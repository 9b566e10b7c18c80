"""Running the `meshsync` command in a subprocess, and checking its one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def meshsync(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meshsync.cli", *args], capture_output=True, text=True, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshsync: error:"), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
