"""The ffmpeg binary from imageio-ffmpeg: raw frames in through a pipe, H.264/AAC MP4 or PNGs out; tags.

Frames are handed to a writer thread through a short queue, so the next frame renders while the last
one is copied into the pipe, and memory holds at most a few frames whatever the clip's length.
"""

from __future__ import annotations

import contextlib
import fcntl
import queue
import re
import signal
import subprocess
import threading
from pathlib import Path

from ..errors import UserError
from ..files import ffmpeg_exe

QUEUED_FRAMES = 3
F_SETPIPE_SZ, PIPE_BYTES = 1031, 1 << 20  # Linux's fcntl to resize a pipe; its default limit for users
WRITE_ERRORS = {  # what ffmpeg says when it cannot write, and what the user can do
    "No space left on device": "free some space or choose another folder",
    "Disk quota exceeded": "free some space or choose another folder",
    "File too large": "the file system or a file size limit refuses files this big; choose another folder",
    "Permission denied": "choose a writable folder",
}


class FramePipe:
    """An ffmpeg process reading raw RGBA frames of `size` at `fps` from stdin, then `arguments`.

    Use as a context manager: `write` each frame, and leaving the block waits for ffmpeg; any failure
    (ffmpeg's or the caller's) stops it, and ffmpeg's reason becomes a UserError about `target`.
    """

    def __init__(self, size: tuple[int, int], fps: float, arguments: list[str], target: Path):
        self.target = target
        command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
                   "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{size[0]}x{size[1]}", "-r", f"{fps:g}",
                   "-i", "-", *arguments]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:  # a signal (Ctrl-C, SIGTERM) may arrive here, before the with block owns the process
            with contextlib.suppress(OSError):  # a bigger pipe: fewer wake-ups per frame (Linux only)
                fcntl.fcntl(self._process.stdin.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
            self._stderr: list[bytes] = []
            # Daemon threads: whatever happens, they never keep the interpreter from exiting.
            self._reader = threading.Thread(target=lambda: self._stderr.append(self._process.stderr.read()),
                                            daemon=True)
            self._reader.start()
            self._queue: queue.Queue = queue.Queue(QUEUED_FRAMES)
            self._broken = False
            self._writer = threading.Thread(target=self._write_frames, daemon=True)
            self._writer.start()
        except BaseException:
            self._process.kill()
            self._process.wait()
            raise

    def _write_frames(self) -> None:
        while (frame := self._queue.get()) is not None:
            if self._broken:
                continue
            try:
                self._process.stdin.write(frame)
            except (BrokenPipeError, OSError):
                self._broken = True  # ffmpeg stopped; its stderr says why
        self._process.stdin.close()

    def write(self, frame) -> None:
        """Queue one frame (bytes-like, RGBA rows top-down); fails as soon as ffmpeg has stopped."""
        if self._broken:
            self._finish()
        self._queue.put(frame)

    def _finish(self) -> None:
        self._queue.put(None)
        self._writer.join()
        code = self._process.wait()
        self._reader.join()
        if code != 0 or self._broken:
            stderr = b"".join(self._stderr).decode("utf-8", "replace")
            raise UserError(f"cannot write {self.target}: {ffmpeg_reason(stderr, code)}")

    def __enter__(self) -> FramePipe:
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self._finish()
            return
        self._process.kill()
        self._broken = True
        self._queue.put(None)
        self._writer.join()
        self._process.wait()
        self._reader.join()


def write_problem(text: str) -> str | None:
    """A failed write's problem (found in `text`) and what the user can do; None when it is none of them."""
    for problem, advice in WRITE_ERRORS.items():
        if problem in text:
            return f"{problem.lower()}; {advice}"
    return None


def ffmpeg_reason(stderr: str, code: int = 1) -> str:
    """The line of ffmpeg's complaint a user can act on."""
    if code == -signal.SIGXFSZ:
        return "file too large for this process's file size limit (ulimit -f)"
    if (problem := write_problem(stderr)) is not None:
        return problem
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    if code < 0:
        return f"ffmpeg was stopped by {signal.Signals(-code).name}"
    return f"ffmpeg failed ({lines[-1] if lines else 'no message'})"


def run_ffmpeg(arguments: list[str], target: Path) -> None:
    """Run ffmpeg to completion; a UserError about `target`, with ffmpeg's reason, when it fails."""
    result = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-y", *arguments], capture_output=True)
    stderr = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise UserError(f"cannot write {target}: {ffmpeg_reason(stderr, result.returncode)}")


def decoded_frames(path: Path) -> tuple[int, str]:
    """How many frames of a video's first stream decode, and ffmpeg's first complaint ("" when none)."""
    result = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-stats", "-i", str(path),
                             "-map", "0:v:0", "-f", "null", "-"], capture_output=True)
    lines = result.stderr.decode("utf-8", "replace").replace("\r", "\n").splitlines()
    counts = [int(m.group(1)) for line in lines if (m := re.match(r"frame=\s*(\d+)", line))]
    errors = [re.sub(r"^(\[[^]]*\]\s*)+", "", line).strip() for line in lines
              if line.strip() and not line.startswith("frame=")]
    if result.returncode and not errors:
        errors = [ffmpeg_reason("", result.returncode)]
    return (counts[-1] if counts else 0), (errors[0] if errors else "")


def comment(path: Path) -> str:
    """The `comment` tag of a media file ("" when it has none); a UserError when ffmpeg cannot read it."""
    result = subprocess.run([ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path)], capture_output=True)
    text = result.stderr.decode("utf-8", "replace")
    if "Duration:" not in text:
        raise UserError(f"{path}: not a video ffmpeg can read")
    tag = re.search(r"^\s*comment\s*:\s*(.*)$", text, re.M)
    return tag.group(1).strip() if tag else ""
