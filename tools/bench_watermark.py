"""Does the watermark survive what platforms do to video, and does the detector stay silent on videos
meshsync did not make?

    python tools/bench_watermark.py OUT_DIR [--foreign 50]

Renders the demo with `meshsync render` in several looks (avatars, cameras, backgrounds, sizes), applies
each transformation below with ffmpeg, and runs the detector on the result: found, with the job id the
video's content credentials name. Then it makes `--foreign` videos from ffmpeg's test sources with the demo
audio (some with noise, some at other sizes, some re-encoded as above) and counts how many the detector
calls marked. Prints a table and writes OUT_DIR/watermark.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from meshsync.files import ffmpeg_exe
from meshsync.provenance import WATERMARK_LABEL
from meshsync.watermark import THRESHOLD, detect

ROOT = Path(__file__).resolve().parent.parent
LOOKS = {  # name: `meshsync render` options
    "amara-bust": ["--camera", "bust"],
    "amara-face": ["--camera", "face"],
    "jonas-bust-white": ["--avatar", "jonas", "--camera", "bust", "--background", "white"],
    "head-dark": ["--avatar", "head", "--background", "#202020"],
    "amara-1080p": ["--camera", "bust", "--size", "1920x1080"],
    "jonas-portrait": ["--avatar", "jonas", "--size", "720x1280"],
}
CROP = "crop=iw*0.9:ih*0.9:iw*0.07:ih*0.03"  # 10 % off each side's length, off-centre
TRANSFORMS = {  # name: ffmpeg output options (H.264 at the CRF given, default 23)
    "copy": None,
    "crf28": ["-crf", "28"],
    "480p": ["-vf", "scale=-2:480"],
    "crop10": ["-vf", CROP],
    "all three": ["-vf", f"{CROP},scale=-2:480", "-crf", "28"],
    "crf32 360p": ["-vf", "scale=-2:360", "-crf", "32"],
    "crop20 480p crf30": ["-vf", "crop=iw*0.8:ih*0.8:iw*0.1:ih*0.1,scale=-2:480", "-crf", "30"],
}
REQUIRED = ("crf28", "480p", "crop10", "all three")  # the targets
SOURCES = ["testsrc", "testsrc2", "smptebars", "smptehdbars", "rgbtestsrc", "yuvtestsrc", "mandelbrot", "life",
           "cellauto", "gradients", "colorspectrum", "zoneplate", "pal75bars", "sierpinski", "color=c=slategray",
           "color=c=0x303848", "color=c=beige", "testsrc=decimals=2", "color=c=navy", "pal100bars"]
VARIANTS = [  # (size, extra filter): a source at several sizes, with grain, re-encoded as a platform would
    ("1280x720", ""), ("854x480", ",noise=alls=14:allf=t"), ("1920x1080", ",gblur=sigma=2,noise=alls=6:allf=t"),
    ("1280x720", f",{CROP},scale=-2:480"),
]


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


def manifest_job(video: Path) -> str:
    """The job id a video's content credentials name."""
    import c2pa

    with video.open("rb") as f, c2pa.Reader("video/mp4", f) as reader:
        store = json.loads(reader.json())
    assertions = store["manifests"][store["active_manifest"]]["assertions"]
    return next(a for a in assertions if a["label"] == WATERMARK_LABEL)["data"]["job"]


def render_looks(out: Path) -> dict[str, Path]:
    videos = {}
    for name, options in LOOKS.items():
        video = out / f"look-{name}.mp4"
        if not video.exists():
            subprocess.run([sys.executable, "-m", "meshsync.cli", "render", str(ROOT / "assets/demo.flac"), "--text",
                            str(ROOT / "assets/demo.txt"), *options, "-o", str(video), "--quiet"], check=True)
        videos[name] = video
    return videos


def transformed(video: Path, name: str, out: Path) -> Path:
    if TRANSFORMS[name] is None:
        return video
    path = out / f"{video.stem}-{name.replace(' ', '_')}.mp4"
    ffmpeg("-i", str(video), *TRANSFORMS[name], "-c:v", "libx264", "-c:a", "copy", str(path))
    return path


def foreign_videos(out: Path, count: int) -> list[Path]:
    made = []
    for i in range(count):
        source, (size, extra) = SOURCES[i % len(SOURCES)], VARIANTS[i // len(SOURCES) % len(VARIANTS)]
        path = out / f"foreign-{i:02d}.mp4"
        if not path.exists():
            generator = f"{source}{':' if '=' in source else '='}size={size}:rate=30"
            ffmpeg("-f", "lavfi", "-i", generator, "-i", str(ROOT / "assets/demo.flac"), "-t", "6",
                   "-vf", f"format=yuv420p{extra}", "-c:v", "libx264", "-c:a", "aac", "-shortest", str(path))
        made.append(path)
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--foreign", type=int, default=50)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {"threshold": THRESHOLD, "transforms": {}, "foreign": []}
    looks = render_looks(args.out)
    print(f"{'transformation':<20} found  right job  strength (min-max)  seconds per detection")
    for name in TRANSFORMS:
        rows = []
        for look, video in looks.items():
            path = transformed(video, name, args.out)
            start = time.perf_counter()
            found = detect(path)
            rows.append({"look": look, "found": found.found, "right": found.found and f"{found.job:08x}" ==
                         manifest_job(video), "strength": round(found.strength, 2), "kept": round(found.kept, 3),
                         "seconds": round(time.perf_counter() - start, 2)})
        results["transforms"][name] = rows
        strengths = [r["strength"] for r in rows]
        print(f"{name:<20} {sum(r['found'] for r in rows)}/{len(rows)}    {sum(r['right'] for r in rows)}/{len(rows)}"
              f"       {min(strengths):5.1f}-{max(strengths):5.1f}        "
              f"{sum(r['seconds'] for r in rows) / len(rows):.2f}")
    for path in foreign_videos(args.out, args.foreign):
        found = detect(path)
        results["foreign"].append({"file": path.name, "found": found.found, "strength": round(found.strength, 2)})
    strengths = [r["strength"] for r in results["foreign"]]
    print(f"foreign videos: {sum(r['found'] for r in results['foreign'])} of {len(strengths)} called marked; "
          f"strength max {max(strengths):.1f}, median {sorted(strengths)[len(strengths) // 2]:.1f} "
          f"(threshold {THRESHOLD:g})")
    (args.out / "watermark.json").write_text(json.dumps(results, indent=1))
    failed = [name for name in REQUIRED if not all(r["right"] for r in results["transforms"][name])]
    if failed or any(r["found"] for r in results["foreign"]):
        sys.exit(f"targets missed: {', '.join(failed) or 'false positives'}")


if __name__ == "__main__":
    main()
