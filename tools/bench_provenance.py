"""Content credentials on a long video: the time to sign a five-minute 720p MP4 and to verify it.

    python tools/bench_provenance.py [--seconds 300]

The MP4 is made by ffmpeg from its test pattern and a tone (x264 ultrafast, AAC), about the size meshsync's
own five-minute render has; signing hashes the whole file, so its size, not its pictures, sets the time.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from meshsync.files import ffmpeg_exe
from meshsync.provenance import Provenance, verify


def make_video(path: Path, seconds: float) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:d={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}", "-c:v", "libx264", "-preset",
                    "ultrafast", "-qp", "30", "-c:a", "aac", "-movflags", "+faststart", "-y", str(path)], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        video = Path(scratch) / "long.mp4"
        make_video(video, args.seconds)
        size = video.stat().st_size
        start = time.perf_counter()
        Provenance().sign(video, video)
        signed = time.perf_counter() - start
        start = time.perf_counter()
        verdict = verify(video)
        checked = time.perf_counter() - start
        print(f"{args.seconds:g} s of 720p30 video, {size / 1e6:.1f} MB: signed in {signed:.2f} s (target <= 2 s), "
              f"verified in {checked:.2f} s ({verdict.state}); the manifest adds "
              f"{video.stat().st_size - size:,} bytes")


if __name__ == "__main__":
    main()
