"""Frames per second of the renderer on the default head, with and without supersampling anti-aliasing.

    python tools/bench_render.py [--frames 300] [--runs 3] [--avatar X.glb]

Each frame changes the pose (a talking-like sweep of jaw, lips and blinks), so the figure includes the
numpy morph blend, the upload, the draw and the read-back of the RGB image. Each size is run several
times; the median is printed with the range, as a shared 2-core machine varies by 20 % run to run.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from meshsync.avatar import load_avatar  # noqa: E402
from meshsync.files import default_avatar_path  # noqa: E402
from meshsync.render import Renderer  # noqa: E402

SIZES = [(640, 480), (1280, 720), (1920, 1080)]
AA_FACTORS = [1.0, 1.5]


def talking_poses(frames: int) -> list[dict[str, float]]:
    t = np.arange(frames) / 30.0
    return [{
        "jawOpen": 0.35 + 0.3 * np.sin(2 * np.pi * 3.1 * ti),
        "mouthFunnel": max(0.0, 0.5 * np.sin(2 * np.pi * 1.3 * ti)),
        "mouthSmileLeft": 0.2, "mouthSmileRight": 0.2,
        "eyeBlinkLeft": 1.0 if (ti % 3.0) < 0.15 else 0.0,
        "eyeBlinkRight": 1.0 if (ti % 3.0) < 0.15 else 0.0,
    } for ti in t]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--avatar", type=Path, default=default_avatar_path())
    args = parser.parse_args()
    avatar = load_avatar(args.avatar)
    poses = talking_poses(args.frames)
    print(f"avatar {args.avatar.name}, {args.frames} frames per run, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, cpus {os.cpu_count()}")
    print(f"{'size':>10} {'aa':>4} {'fps':>8} {'ms/frame':>9}  range of {args.runs} runs (fps)")
    for width, height in SIZES:
        for aa in AA_FACTORS:
            with Renderer(avatar, width, height, aa=aa) as renderer:
                for pose in poses[:10]:  # warm up: shader compilation, first uploads
                    renderer.render(pose)
                rates = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    for pose in poses:
                        renderer.render(pose)
                    rates.append(args.frames / (time.perf_counter() - start))
            fps = float(np.median(rates))
            spread = f"{min(rates):.0f}-{max(rates):.0f}"
            print(f"{width:>5}x{height:<4} {aa:>4.1f} {fps:>8.1f} {1000 / fps:>9.2f}  {spread}")


if __name__ == "__main__":
    main()
