"""Every output meshsync writes, for one fixed set of inputs, with its SHA-256: a check that a change which
should not change behaviour does not (run it before and after, then compare).

    python tools/output_hashes.py OUT_DIR [--avatars DIR] [--compare OTHER_OUT_DIR]

Inputs: the bundled demo speech and transcript, and the test avatars of tools/build_test_avatars.py
(built into --avatars once; pass the same folder to both runs so the two runs read the same avatars).
Covers align (JSON, TextGrid, plot), animate with a transcript (every curve format, VRM Animation, and the
default head as GLB, glTF, compact GLB and USD), without one (recognised phones, the network), every rig
profile and the jaw bone, render (MP4, PNGs, segments joined by concat, a VRM avatar), poses, inspect and a
small batch. Writes
OUT_DIR/hashes.json; with --compare, lists the files whose bytes differ from OTHER_OUT_DIR's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO, SCRIPT = ROOT / "assets" / "demo.flac", ROOT / "assets" / "demo.txt"


def meshsync(*args: str, quiet: bool = True) -> None:
    result = subprocess.run([sys.executable, "-m", "meshsync.cli", *map(str, args), *(["--quiet"] if quiet else [])],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode != 0:
        raise SystemExit(f"meshsync {' '.join(map(str, args))} failed:\n{result.stderr}")


def inspect(avatar: Path, out: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "meshsync.cli", "inspect", str(avatar), "--json"],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    out.write_text(result.stdout)


def build_avatars(folder: Path) -> dict[str, Path]:
    names = ("readyplayerme", "oculus", "vrm1", "vrm0", "jaw")
    if not all((folder / f"{n}.glb").is_file() for n in names):
        subprocess.run([sys.executable, str(ROOT / "tools" / "build_test_avatars.py"), str(folder)], check=True,
                       cwd=ROOT)
    return {n: folder / f"{n}.glb" for n in names}


def run(out: Path, avatars: dict[str, Path]) -> None:
    text = ["--text", str(SCRIPT)]
    meshsync("align", DEMO, *text, "-o", out / "align.json", "--plot", out / "align.png")
    meshsync("align", DEMO, *text, "-o", out / "align.TextGrid")
    grid = ["--alignment", str(out / "align.TextGrid")]
    meshsync("animate", DEMO, *text, "-o", out / "text.json", "--plot", out / "text_dope.png")
    for name in ("curves.csv", "cues.tsv", "cues.rhubarb.json", "head.glb", "head.gltf", "head.usda", "head.usdc",
                 "head.usd", "talk.vrma"):
        meshsync("animate", DEMO, *grid, "-o", out / name)
    meshsync("animate", DEMO, "-o", out / "recognised.json")
    meshsync("animate", DEMO, "--method", "network", "-o", out / "network.json")
    meshsync("animate", DEMO, *grid, "--method", "network", "-o", out / "text_network.json")
    meshsync("animate", DEMO, *grid, "--still", "--seed", "3", "--fps", "30", "-o", out / "still30.json")
    for name, rig in (("readyplayerme", "readyplayerme"), ("oculus", "oculus"), ("vrm1", None), ("vrm0", None),
                      ("jaw", None)):
        rigged = ["--avatar", avatars[name], *(["--rig", rig] if rig else [])]
        meshsync("animate", DEMO, *grid, *rigged, "-o", out / f"rig_{name}.glb")
    meshsync("animate", DEMO, *grid, "--avatar", avatars["oculus"], "--rig", "oculus", "-o", out / "rig_oculus.usda")
    meshsync("animate", DEMO, *grid, "--avatar", avatars["vrm0"], "-o", out / "rig_vrm0.usda")
    meshsync("animate", DEMO, *grid, "--avatar", avatars["jaw"], "--tolerance", "0", "-o", out / "rig_jaw_t0.gltf")
    meshsync("animate", DEMO, *grid, "--weights", "compact", "-o", out / "head_compact.glb")
    small = ["--size", "320x180"]
    meshsync("render", DEMO, *grid, *small, "-o", out / "video.mp4")
    meshsync("render", DEMO, *grid, *small, "--aa", "1", "--camera", "closeup", "--background", "white",
             "-o", out / "video_closeup.mp4")
    (out / "png").mkdir(exist_ok=True)
    meshsync("render", DEMO, *grid, *small, "--frames", "40-44", "-o", out / "png" / "f_%03d.png")
    meshsync("render", DEMO, *grid, *small, "--avatar", avatars["vrm1"], "--frames", "60-62",
             "-o", out / "png" / "vrm1_%03d.png")
    meshsync("render", DEMO, *grid, *small, "--avatar", avatars["jaw"], "--frames", "60-62",
             "-o", out / "png" / "jaw_%03d.png")
    meshsync("animate", DEMO, *grid, "--fps", "30", "-o", out / "render_curves.json")
    segments = out / "segments"
    segments.mkdir(exist_ok=True)
    meshsync("render", DEMO, "--curves", out / "render_curves.json", *small, "--frames", "0-179",
             "-o", segments / "a.mp4")
    frames = json.loads((out / "render_curves.json").read_text())["frames"]
    meshsync("render", DEMO, "--curves", out / "render_curves.json", *small, "--frames", f"180-{frames - 1}",
             "-o", segments / "b.mp4")
    meshsync("concat", segments / "a.mp4", segments / "b.mp4", "--audio", DEMO, "-o", out / "joined.mp4")
    meshsync("poses", "-o", out / "poses.png", quiet=False)
    inspect(ROOT / "assets" / "head.glb", out / "inspect_head.json")
    inspect(avatars["vrm1"], out / "inspect_vrm1.json")
    jobs = out / "jobs.csv"
    jobs.write_text("id,audio,text,outputs,size,seed\n"
                    f"one,{DEMO},{SCRIPT},mp4 glb csv json tsv,320x180,\n"
                    f"two,{DEMO},,json rhubarb.json gltf,,5\n")
    meshsync("batch", jobs, "--out", out / "batch", "--workers", "1")
    (out / "batch" / "meshsync-batch.json").unlink()  # timings and dates: not an output of the clip


def digest(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != "hashes.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--avatars", type=Path, default=ROOT / "build" / "test-avatars")
    parser.add_argument("--compare", type=Path, help="a folder of an earlier run to compare with")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    run(args.out.resolve(), build_avatars(args.avatars.resolve()))
    hashes = digest(args.out)
    (args.out / "hashes.json").write_text(json.dumps(hashes, indent=1) + "\n")
    print(f"{len(hashes)} files in {args.out}")
    if args.compare:
        before = json.loads((args.compare / "hashes.json").read_text())
        changed = sorted(k for k in before.keys() | hashes.keys() if before.get(k) != hashes.get(k))
        print("\n".join(f"differs: {name}" for name in changed) or "every file is byte-identical")


if __name__ == "__main__":
    main()
