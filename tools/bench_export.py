"""Export benchmark: a five-minute recording's curves to GLB (and USD, cues) for each rig convention.

    python tools/bench_export.py [--seconds 300] [--fps 60]

MBROLA speech (tools/make_corpus.py; the voices `make test` installs), aligned and animated once; then, per
test avatar (tools/build_test_avatars.py), the time to retarget (the per-frame viseme solve included), reduce
the keyframes and write the GLB, and the animation's size against every frame as float32, with weights
stored as float32 (the default) and as normalised integers (`--weights compact`); then USD, cues and
the VRM Animation.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import build_test_avatars
import make_corpus

from meshsync.align.speech import SpeechOptions, align_speech
from meshsync.animate import AnimationOptions, animate
from meshsync.audio import load_audio
from meshsync.avatar import load_avatar
from meshsync.export.cues import write_cues
from meshsync.export.gltf import write_gltf
from meshsync.export.usd import write_usd
from meshsync.export.vrma import write_vrma
from meshsync.files import default_avatar_path
from meshsync.rig import choose_profile, morph_weights, solve

RIGS = (("arkit", None), ("readyplayerme", "readyplayerme"), ("vrm1", None), ("vrm0", None))


def retarget(curves, profile, avatar) -> dict:
    return morph_weights(solve(curves, profile), avatar)


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--fps", type=float, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        make_corpus.make_long(folder, "us2", args.seconds)
        wav = folder / f"long_us2_{args.seconds:.0f}s.wav"
        audio = load_audio(wav)
        alignment = align_speech(audio, SpeechOptions(json.loads(wav.with_suffix(".json").read_text())["text"]))
        curves, took = timed(animate, audio, alignment, AnimationOptions(fps=args.fps))
        print(f"{audio.duration:.0f} s of speech -> {curves.frames} frames at {args.fps:g} fps, animated in "
              f"{took:.2f} s (alignment excluded)")
        avatars = {"arkit": default_avatar_path(), **build_test_avatars.build(folder / "avatars")}
        print(f"{'rig':>14} {'solve s':>8} {'GLB s':>7} {'keys kept':>10} {'float kB':>9} {'x smaller':>10} "
              f"{'compact kB':>11} {'x smaller':>10}")
        for name, rig in RIGS:
            avatar = load_avatar(avatars[name])
            profile = choose_profile(avatar, rig)
            weights, solving = timed(retarget, curves, profile, avatar)
            report, writing = timed(write_gltf, avatar, weights, curves.fps, folder / f"{name}.glb")
            compact = write_gltf(avatar, weights, curves.fps, folder / f"{name}_compact.glb", compact=True)
            sizes = "".join(f" {r.animation_bytes / 1000:>{w}.0f} {r.full_bytes / r.animation_bytes:>10.1f}"
                            for r, w in ((report, 9), (compact, 11)))
            print(f"{profile.name:>14} {solving:>8.2f} {writing:>7.2f} {report.keys / report.frames:>10.0%}{sizes}")
        _, took = timed(write_usd, solve(curves, choose_profile(load_avatar(default_avatar_path()))),
                        folder / "talk.usdc")
        cues, cue_time = timed(write_cues, curves, folder / "talk.tsv")
        keys, vrma_time = timed(write_vrma, curves, folder / "talk.vrma", 0.005)
        print(f"USD (.usdc, ARKit) {took:.2f} s; Rhubarb cues {cue_time:.2f} s ({len(cues)} cues); VRM Animation "
              f"{vrma_time:.2f} s ({keys} keys, {(folder / 'talk.vrma').stat().st_size / 1000:.0f} kB)")


if __name__ == "__main__":
    main()
