"""Running the `meshsync` command in a subprocess or in this process, and checking its one-line errors."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

from meshsync.cli import main


def meshsync(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "meshsync.cli", *args], capture_output=True, text=True, cwd=cwd)


def meshsync_here(*args: str) -> subprocess.CompletedProcess:
    """The command run in this process, for the many quick cases: its exit status and stderr. An exception
    other than the command's own handling of errors (a traceback) fails the test that runs it."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's --help, and its one-line usage errors
            code = exc.code
    return subprocess.CompletedProcess(args, code, "", stderr.getvalue())


def assert_one_line_error(result: subprocess.CompletedProcess, *words: str, code: int = 1) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshsync: error:"), result.stderr
    assert all(w in lines[0] for w in words), lines[0]
