"""Batch benchmark: throughput of `meshsync batch` with 1 and 2 local workers, and a rerun that skips.

    python tools/bench_batch.py [--clips 8] [--long 60] [--workers 1 2]

Many clips: `--clips` copies of the bundled demo speech (12 s, with its transcript), each to an MP4 at the
default 1280x720 with AA 1.5 and an animated GLB. One long clip: the demo speech repeated to `--long`
seconds, one MP4, split into 20 s render chunks. Each run is `meshsync batch` in a fresh process and
output folder (cluster start-up included); the figures are wall times, and "cores busy" is the CPU time of
the batch, its workers and their encoders over the wall time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "assets" / "demo.flac"
TEXT = ROOT / "assets" / "demo.txt"


def batch(jobs: Path, out: Path, *options: str) -> tuple[float, float]:
    """Wall seconds of one `meshsync batch` run, and the CPU seconds of it and its workers and encoders;
    it must succeed."""
    before = _cpu_of_children()
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "meshsync.cli", "batch", str(jobs), "--out", str(out), "--quiet",
                             *options], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"batch failed: {result.stderr}")
    return time.perf_counter() - start, _cpu_of_children() - before


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def many_clips(folder: Path, clips: int) -> tuple[Path, float]:
    """A jobs file of `clips` demo clips (MP4 + GLB each) and the seconds of speech in it."""
    shutil.copy(DEMO, folder / "demo.flac")
    shutil.copy(TEXT, folder / "demo.txt")
    rows = [f"clip{i:03d},demo.flac,demo.txt,mp4 glb,{i}" for i in range(clips)]
    jobs = folder / "clips.csv"
    jobs.write_text("\n".join(["id,audio,text,outputs,seed", *rows]) + "\n")
    return jobs, clips * soundfile.info(DEMO).duration


def long_clip(folder: Path, seconds: float) -> tuple[Path, float]:
    """A jobs file of one clip: the demo speech repeated to about `seconds`."""
    samples, rate = soundfile.read(DEMO, dtype="float32")
    repeats = max(1, round(seconds * rate / len(samples)))
    soundfile.write(folder / "long.flac", np.tile(samples, repeats), rate)
    (folder / "long.txt").write_text(" ".join([TEXT.read_text().strip()] * repeats) + "\n")
    jobs = folder / "long.csv"
    jobs.write_text("id,audio,text,outputs\nlong,long.flac,long.txt,mp4\n")
    return jobs, repeats * len(samples) / rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--long", type=float, default=60.0, help="seconds of the long clip (0: skip it)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        sets = [("clips", *many_clips(folder, args.clips))]
        if args.long > 0:
            sets.append(("long clip", *long_clip(folder, args.long)))
        print(f"{'jobs':>10} {'speech s':>9} {'workers':>8} {'wall s':>7} {'x real time':>12} {'speed-up':>9} "
              f"{'cores busy':>11}")
        for name, jobs, speech in sets:
            first = None
            for workers in args.workers:
                out = folder / f"out-{jobs.stem}-{workers}"
                wall, cpu = batch(jobs, out, "--workers", str(workers))
                first = first or wall
                print(f"{name:>10} {speech:9.1f} {workers:8d} {wall:7.1f} {speech / wall:12.2f} {first / wall:9.2f} "
                      f"{cpu / wall:11.2f}")
            rerun, _ = batch(jobs, out)
            print(f"{name:>10} rerun, every job skipped: {rerun:.2f} s")


if __name__ == "__main__":
    main()
