"""Rendering benchmarks on the default avatar (assets/avatars.toml).

    python tools/bench_render.py frames [--frames 300] [--runs 3]      # the renderer alone, fps per size
    python tools/bench_render.py video [--seconds 60] [--long 300] [--rss-only]  # `meshsync render` end to end

`frames`: each frame changes the pose (a talking-like sweep of jaw, lips and blinks), so the figure includes
the numpy morph blend, the upload, the draw and the read-back. Each size runs several times; the median is
printed with the range, as a shared 2-core machine varies by 20 % run to run.

`video`: MBROLA speech with exact phone timings (tools/make_corpus.py; needs the MBROLA voices that
`make test` installs), aligned once (timed apart), then `meshsync render --alignment` in a fresh process per
setting: wall time against the clip's length (render + encode; loading and animating included), the peak
RSS of meshsync alone and summed with its ffmpeg processes, and the A/V offset measured from the MP4
itself: the mouth's opening in the decoded pixels and the decoded audio against the true phone timings,
minus the lead the curves intend. Then the peak RSS of a 10 s and a `--long` clip.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from meshsync.align import Segment
from meshsync.align.textgrid import read_textgrid
from meshsync.animate import AnimationOptions, animate
from meshsync.audio import load_audio
from meshsync.avatar import load_avatar
from meshsync.eval import measure, mouth_box, open_mouth_pixels, sync_lag
from meshsync.files import default_avatar_path, ffmpeg_exe
from meshsync.render import Renderer, frame_face

ROOT = Path(__file__).resolve().parent.parent
SIZES = [(640, 480), (1280, 720), (1920, 1080)]
AA_FACTORS = [1.0, 1.5]
VIDEO_SIZES = [(1280, 720), (1920, 1080)]
FPS = 30
POLL = 0.05  # s between samples of the process tree's memory


def talking_poses(frames: int) -> list[dict[str, float]]:
    t = np.arange(frames) / 30.0
    return [{
        "jawOpen": 0.35 + 0.3 * np.sin(2 * np.pi * 3.1 * ti),
        "mouthFunnel": max(0.0, 0.5 * np.sin(2 * np.pi * 1.3 * ti)),
        "mouthSmileLeft": 0.2, "mouthSmileRight": 0.2,
        "eyeBlinkLeft": 1.0 if (ti % 3.0) < 0.15 else 0.0,
        "eyeBlinkRight": 1.0 if (ti % 3.0) < 0.15 else 0.0,
    } for ti in t]


def bench_frames(args: argparse.Namespace) -> None:
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


def speech(folder: Path, seconds: float) -> tuple[Path, Path, list[Segment]]:
    """An MBROLA recording of about `seconds`, its alignment by meshsync (timed), and its true phones."""
    import make_corpus

    make_corpus.make_long(folder, "us2", seconds)
    wav = folder / f"long_us2_{seconds:.0f}s.wav"
    grid = wav.with_suffix(".TextGrid")
    meta = json.loads(wav.with_suffix(".json").read_text())
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "meshsync.cli", "align", str(wav), "--text", meta["text"], "-o",
                    str(grid), "--quiet"], check=True)
    print(f"  {load_audio(wav).duration:.1f} s of speech aligned in {time.perf_counter() - start:.1f} s")
    return wav, grid, [Segment(*p) for p in meta["phones"]]


def render(wav: Path, grid: Path, out: Path, size: tuple[int, int], aa: float,
           avatar: Path) -> tuple[float, int, int]:
    """Seconds, and peak RSS (MB) of meshsync alone and of meshsync with its ffmpeg processes, for one
    `meshsync render` in a fresh process (sampled every POLL seconds from /proc)."""
    command = [sys.executable, "-m", "meshsync.cli", "render", str(wav), "--alignment", str(grid), "-o", str(out),
               "--size", f"{size[0]}x{size[1]}", "--fps", str(FPS), "--aa", str(aa), "--avatar", str(avatar),
               "--quiet"]
    start = time.perf_counter()
    own = total = 0
    with subprocess.Popen(command, cwd=ROOT) as process:
        while process.poll() is None:
            tree = [_rss(pid) for pid in _tree(process.pid)]
            own, total = max(own, tree[0] if tree else 0), max(total, sum(tree))
            time.sleep(POLL)
    if process.returncode != 0:
        raise SystemExit(f"meshsync render failed ({process.returncode})")
    return time.perf_counter() - start, own // 1024, total // 1024


def _tree(pid: int) -> list[int]:
    """The process and its descendants, parent first."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                queue += [int(child) for child in task.read_text().split()]
    return found


def _rss(pid: int) -> int:
    """Resident memory of a process in kB (0 once it has gone)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def mouth_opening(path: Path, size: tuple[int, int], avatar_file: Path) -> np.ndarray:
    """Per decoded frame, the pixels of the open mouth (dark inside or teeth) in a box around the mouth."""
    avatar = load_avatar(avatar_file)
    box = mouth_box(avatar, frame_face(avatar, size[0] / size[1]), *size, margin=0.2)  # room for head motion
    command = [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    frame_bytes = size[0] * size[1] * 3
    opening = []
    with subprocess.Popen(command, stdout=subprocess.PIPE) as decoder:
        while chunk := decoder.stdout.read(frame_bytes):
            opening.append(open_mouth_pixels(np.frombuffer(chunk, np.uint8).reshape(size[1], size[0], 3)[box]))
    return np.array(opening, dtype=float)


def audio_offset_ms(path: Path, wav: Path) -> float:
    """Where the file's audio sits against the source speech (ms; positive: late), by cross-correlation."""
    decoded = np.frombuffer(subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-f", "f32le",
                                            "-ac", "1", "-ar", "16000", "-"], capture_output=True).stdout, np.float32)
    source = load_audio(wav, rate=16000).samples
    n = min(len(source), len(decoded), 16000 * 20)
    shifts = range(-800, 801)  # +-50 ms
    score = [np.dot(source[max(0, -k):n - max(0, k)], decoded[max(0, k):n - max(0, -k)]) for k in shifts]
    return shifts[int(np.argmax(score))] / 16.0


def bench_video(args: argparse.Namespace) -> None:
    print(f"meshsync render end to end, {FPS} fps, avatar {args.avatar.stem}, cpus {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if not args.rss_only:
            speed_and_sync(folder, args.seconds, args.avatar)
        if args.long:
            print("peak RSS, 720p aa 1.5, short against long clip:")
            for seconds in (10, args.long):
                wav, grid, _ = speech(folder, seconds)
                took, own, total = render(wav, grid, folder / f"rss{seconds}.mp4", (1280, 720), 1.5, args.avatar)
                print(f"  {seconds:>4} s clip: meshsync {own} MB, with its ffmpeg {total} MB ({took:.0f} s)")


def speed_and_sync(folder: Path, seconds: float, avatar: Path) -> None:
    """The speed and memory table over sizes and anti-aliasing, then the A/V offset of the 720p file."""
    wav, grid, phones = speech(folder, seconds)
    duration = load_audio(wav).duration
    print(f"{'size':>10} {'aa':>4} {'seconds':>8} {'x real time':>12} {'meshsync MB':>12} {'with ffmpeg MB':>15}")
    for size in VIDEO_SIZES:
        for aa in (1.0, 1.5):
            took, own, total = render(wav, grid, folder / f"{size[0]}x{size[1]}_{aa}.mp4", size, aa, avatar)
            print(f"{size[0]:>5}x{size[1]:<4} {aa:>4.1f} {took:>8.1f} {duration / took:>12.2f} {own:>12} {total:>15}")
    out = folder / "1280x720_1.5.mp4"
    curves = animate(load_audio(wav), read_textgrid(grid, duration), AnimationOptions(fps=FPS))
    intended = sync_lag(measure(curves, load_avatar(avatar)).gap, phones, FPS)
    seen = sync_lag(mouth_opening(out, (1280, 720), avatar), phones, FPS)  # open pixels grow as the lip gap does
    audio = audio_offset_ms(out, wav)
    offset = seen - intended - audio
    print(f"A/V in the 720p file: mouth in the pixels {seen:+.0f} ms against the true phones, curves "
          f"{intended:+.0f} ms, audio track {audio:+.1f} ms against the source: offset {offset:+.0f} ms "
          f"(one frame = {1000 / FPS:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("frames", "video"))
    parser.add_argument("--frames", type=int, default=300, help="frames: frames per run")
    parser.add_argument("--runs", type=int, default=3, help="frames: runs per size")
    parser.add_argument("--avatar", type=Path, default=default_avatar_path(), help="the avatar (default: the default)")
    parser.add_argument("--seconds", type=float, default=60, help="video: length of the timed clip")
    parser.add_argument("--long", type=float, default=300, help="video: long clip for the RSS check (0: skip)")
    parser.add_argument("--rss-only", action="store_true", help="video: only the short/long RSS check")
    args = parser.parse_args()
    bench_frames(args) if args.what == "frames" else bench_video(args)


if __name__ == "__main__":
    main()
