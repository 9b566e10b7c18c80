"""Lip-sync quality on the MBROLA corpus (exact phone timings), measured on the default head's geometry.

    python tools/bench_lipsync.py build/corpus                    # every mode on clean us1/us2/en1
    python tools/bench_lipsync.py build/corpus --modes text-rules --speed
    python tools/bench_lipsync.py build/corpus-intl --language de --modes text-rules truth-rules

Modes: text-rules (aligner + rule-based passes, the teacher), text-network (aligner + network),
audio-rules (no transcript: the phones hama hears, meshsync.listen, then the rules; the default),
audio-network (no transcript: the network), and truth-rules (the true phone timings + rules: an upper
bound that shows what the aligner costs). Transcripts' alignments are cached in build/bench_lipsync.
`--speed` times five minutes of
curves (alignment excluded). The MBROLA voices are never used for training, so every clip is held out.
`--articulation` sets the style dial; `--rig oculus` (readyplayerme, vrm0, vrm1) measures the curves retargeted
to that test avatar (tools/build_test_avatars.py), whose landmarks are the default head's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import build_test_avatars

from meshsync.align import Alignment, Segment, from_dict, write_json
from meshsync.align.speech import SpeechOptions, align_speech
from meshsync.animate import AnimationOptions, Curves, animate
from meshsync.audio import load_audio
from meshsync.eval import Scores, evaluate
from meshsync.files import default_avatar_path
from meshsync.listen import listen
from meshsync.rig import Rig, RigOptions, morph_weights, solve

MODES = ("text-rules", "text-network", "audio-rules", "audio-network", "truth-rules")
VOICES = ("us1", "us2", "en1")  # English: us3's labels lead its sound (tools/bench_align.py scores it apart)
CACHE = Path("build/bench_lipsync")


def clips(corpus: Path, noise: str, language: str, voices: tuple[str, ...] = ()) -> list[Path]:
    """The clips of `language` at that noise level from `voices` (none named: English from VOICES, other
    languages from every voice)."""
    folders = sorted(corpus.glob(f"*_*_{noise}"))
    voices = voices or (VOICES if language == "en" else ())
    found = sorted(p for folder in folders for p in folder.glob("*.json")
                   if not voices or folder.name.split("_")[0] in voices)
    return [p for p in found if json.loads(p.read_text()).get("language", "en") == language]


def test_avatar(profile: str) -> Path:
    """The default head in another rig convention, built once into build/test_avatars."""
    folder = Path("build/test_avatars")
    if not (folder / f"{profile}.glb").exists():
        build_test_avatars.build(folder)
    return folder / f"{profile}.glb"


def truth(meta: dict) -> list[Segment]:
    return [Segment(label, start, end) for label, start, end in meta["phones"]]


def alignment_for(meta_path: Path, text: str, audio) -> Alignment:
    """The alignment of the transcript; cached."""
    cached = CACHE / meta_path.parent.name / meta_path.name
    if cached.exists():
        return from_dict(json.loads(cached.read_text()))
    language = json.loads(meta_path.read_text()).get("language", "en")
    result = align_speech(audio, SpeechOptions(text, language), workers=1)
    cached.parent.mkdir(parents=True, exist_ok=True)
    write_json(result, cached)
    return result


def retargeted(curves: Curves, rig: Rig) -> Curves:
    """The weights the rig's landmark mesh gets from the ARKit curves, as curves named by its morph targets."""
    mesh = rig.avatar.landmark_mesh
    weights = morph_weights(solve(curves, rig.profile), rig.avatar)[mesh.node_index]
    return Curves(curves.fps, tuple(mesh.target_names), weights)


def run(mode: str, paths: list[Path], rig: Rig, fps: float, verbose: bool, articulation: float = 1.0) -> Scores:
    scores = Scores()
    for meta_path in paths:
        meta = json.loads(meta_path.read_text())
        audio = load_audio(meta_path.with_suffix(".wav"))
        phones = truth(meta)
        if mode == "truth-rules":
            alignment = Alignment((), tuple(phones), audio.duration, "truth")
        elif mode.startswith("text"):
            alignment = alignment_for(meta_path, meta["text"], audio)
        elif mode == "audio-rules":
            alignment = listen(audio)
        else:
            alignment = None
        curves = animate(audio, alignment, AnimationOptions(fps=fps, method=mode.split("-")[1],
                                                             articulation=articulation))
        clip = evaluate(retargeted(curves, rig), phones, rig.avatar)
        if verbose and clip.misses:
            print(f"  {meta_path.parent.name}/{meta_path.stem}: {', '.join(clip.misses)}")
        scores.add(clip)
    return scores


def speed(corpus: Path, mode: str) -> None:
    """Seconds for five minutes of curves: audio-only modes from the audio alone (recognition included), the
    others from the true phones (alignment excluded: tools/bench_align.py times it)."""
    long = corpus / "long" / "long_us1_300s.json"
    meta = json.loads(long.read_text())
    audio = load_audio(long.with_suffix(".wav"))
    method = mode.split("-")[1]

    def curves() -> Curves:
        if mode.startswith("audio"):
            alignment = listen(audio) if method == "rules" else None
        else:
            alignment = Alignment((), tuple(truth(meta)), audio.duration, "truth")
        return animate(audio, alignment, AnimationOptions(method=method))

    curves()  # warm up: imports, table, weights
    started = time.perf_counter()
    result = curves()
    seconds = time.perf_counter() - started
    included = "recognition included" if mode.startswith("audio") else "alignment excluded"
    print(f"{mode}: {audio.duration:.0f} s of audio -> {result.frames} frames at 60 fps in {seconds:.2f} s "
          f"({included})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--noise", default="clean", help="clean, 20 or 10 (dB SNR)")
    parser.add_argument("--language", default="en", help="the clips' language (default en)")
    parser.add_argument("--fps", type=float, default=60.0)
    parser.add_argument("--voices", default="", help="only these voices, comma-separated (e.g. de2,de4)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many clips (0: all)")
    parser.add_argument("--speed", action="store_true", help="also time five minutes of curves per mode")
    parser.add_argument("--verbose", action="store_true", help="list every miss")
    parser.add_argument("--articulation", type=float, default=1.0, help="the style dial (default 1)")
    parser.add_argument("--rig", default="arkit", help="arkit (the default head), or a test avatar's rig profile: "
                                                     "oculus, readyplayerme, vrm0, vrm1")
    args = parser.parse_args()
    paths = clips(args.corpus, args.noise, args.language, tuple(filter(None, args.voices.split(","))))
    paths = paths[:: max(1, len(paths) // args.limit)] if args.limit else paths
    avatar_path = default_avatar_path() if args.rig == "arkit" else test_avatar(args.rig)
    rig = RigOptions(avatar_path, args.rig).load()
    voices = sorted({p.parent.name.split("_")[0] for p in paths})
    print(f"{len(paths)} clips ({args.language}: {', '.join(voices)}, {args.noise}), {args.fps:g} fps, "
          f"{avatar_path.name} ({args.rig}), articulation {args.articulation:g}")
    for mode in args.modes:
        started = time.perf_counter()
        scores = run(mode, paths, rig, args.fps, args.verbose, args.articulation)
        print(f"{mode:14s} {scores.summary()}  [{time.perf_counter() - started:.0f} s]")
        if args.speed:
            speed(args.corpus, mode)


if __name__ == "__main__":
    main()
