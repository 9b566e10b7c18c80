"""Calibrate the audio-only path (meshsync.listen) on licence-clean voices: scores per voice for settings
of its constants, so LAG and PEAKS are chosen on these voices and never on the held-out MBROLA ones.

    python tools/real_corpus.py build/corpus-real                       # the calibration voices, once
    python tools/calibrate_listen.py build/corpus-real                  # the shipped settings, per voice
    python tools/calibrate_listen.py build/corpus-real --try LAG=0.08 closure=0.3

Each --try setting (NAME=VALUE, comma-joined for several, the rest as shipped) is scored over every voice,
with how many of the phones each class's peak adds lie at a true one; hama's probabilities are computed once
per clip. Scores as tools/bench_lipsync.py gives them, on the default head.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

from bench_lipsync import truth

from meshsync import listen as module
from meshsync.align import SILENCE, Segment
from meshsync.animate import AnimationOptions, animate
from meshsync.audio import load_audio
from meshsync.eval import Scores, evaluate
from meshsync.files import default_avatar_path
from meshsync.rig import RigOptions
from meshsync.visemes import Table, load_table


def constants() -> dict[str, float]:
    """The constants --try can set, as shipped: LAG, MIN_LIP, HELD, FADE, VOICE and each lip class's peak."""
    return {name: getattr(module, name) for name in ("LAG", "MIN_LIP", "HELD", "FADE", "VOICE")} | module.PEAKS


def apply(setting: str, shipped: dict[str, float]) -> None:
    """Set the constants as shipped, then as `setting` says: LAG=0.08, or a lip class's peak, closure=0.2."""
    for name, value in (shipped | dict(item.split("=") for item in filter(None, setting.split(",")))).items():
        if name in module.PEAKS:
            module.PEAKS[name] = float(value)
        else:
            setattr(module, name, float(value))


def peak_hits(heard: module.Heard, phones: list[Segment], table: Table) -> Counter:
    """Per lip class, the phones its peaks add (emissions that win no frame) and how many of them lie within
    LAG of a true phone of that class: how precise each peak threshold is."""
    peaks = dict(module.PEAKS)
    module.PEAKS.update(dict.fromkeys(peaks, math.inf))
    winners = set(module.emissions(heard.probabilities, heard.tokens, table))
    module.PEAKS.update(peaks)
    counts = Counter()
    for frame, phone in set(module.emissions(heard.probabilities, heard.tokens, table)) - winners:
        kind, start = module.lip_class(phone, table), module._start(frame)
        counts[kind, "added"] += 1
        counts[kind, "true"] += any(module.lip_class(p.label, table) == kind and p.start < start + module.LAG
                                    and p.end > start - module.LAG for p in phones if p.label != SILENCE)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--try", dest="settings", nargs="*", default=[""], help="settings to score")
    parser.add_argument("--step", type=int, default=1, help="every STEP-th clip of each voice")
    args = parser.parse_args()
    rig = RigOptions(default_avatar_path(), "arkit").load()
    voices = {folder.name.split("_")[0]: sorted(folder.glob("*.json"))[:: args.step]
              for folder in sorted(args.corpus.glob("*_*_clean"))}
    heard, shipped, table = {}, constants(), load_table()
    for setting in args.settings:
        apply(setting, shipped)
        print(f"-- {setting or 'shipped'}: LAG {module.LAG}, MIN_LIP {module.MIN_LIP}, PEAKS {module.PEAKS}")
        total, hits = Scores(), Counter()
        for voice, paths in voices.items():
            scores = Scores()
            for path in paths:
                audio = load_audio(path.with_suffix(".wav"))
                heard.setdefault(path, module.hear(audio))
                alignment = module.alignment(heard[path], audio.duration)
                curves = animate(audio, alignment, AnimationOptions(still=True))
                phones = truth(json.loads(path.read_text()))
                scores.add(evaluate(curves, phones, rig.avatar))
                hits += peak_hits(heard[path], phones, table)
            print(f"{voice:12s} {len(paths):3d} clips  {scores.summary().splitlines()[0]}")
            total.add(scores)
        print(f"{'all':12s}            {total.summary().splitlines()[0]}")
        print("added by peaks, at a true phone of their class: " + ", ".join(_share(hits, k) for k in module.PEAKS))


def _share(hits: Counter, kind: str) -> str:
    true, added = hits[kind, "true"], hits[kind, "added"]
    return f"{kind} {true}/{added} ({true / max(added, 1):.0%})"


if __name__ == "__main__":
    main()
