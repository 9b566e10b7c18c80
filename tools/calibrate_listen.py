"""Calibrate the audio-only path (meshsync.listen) on licence-clean voices: scores per voice for settings
of its constants, so LAG and PEAKS are chosen on these voices and never on the held-out MBROLA ones.

    python tools/real_corpus.py build/corpus-real                       # the calibration voices, once
    python tools/calibrate_listen.py build/corpus-real                  # the shipped settings, per voice
    python tools/calibrate_listen.py build/corpus-real --try LAG=0.08 closure=0.3

Each --try setting (NAME=VALUE, comma-joined for several) is scored over every voice; hama's probabilities
are computed once per clip. Scores as tools/bench_lipsync.py gives them, on the default head.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench_lipsync import truth

from meshsync import listen as module
from meshsync.animate import AnimationOptions, animate
from meshsync.audio import load_audio
from meshsync.eval import Scores, evaluate
from meshsync.files import default_avatar_path
from meshsync.rig import RigOptions


def apply(setting: str) -> None:
    """Set the module's constants: LAG=0.08 or a lip class's peak, closure=0.2."""
    for item in filter(None, setting.split(",")):
        name, value = item.split("=")
        if name in module.PEAKS:
            module.PEAKS[name] = float(value)
        else:
            setattr(module, name, float(value))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--try", dest="settings", nargs="*", default=[""], help="settings to score")
    parser.add_argument("--step", type=int, default=1, help="every STEP-th clip of each voice")
    args = parser.parse_args()
    rig = RigOptions(default_avatar_path(), "arkit").load()
    voices = {folder.name.split("_")[0]: sorted(folder.glob("*.json"))[:: args.step]
              for folder in sorted(args.corpus.glob("*_*_clean"))}
    heard = {}
    for setting in args.settings:
        apply(setting)
        print(f"-- {setting or 'shipped'}: LAG {module.LAG}, PEAKS {module.PEAKS}")
        total = Scores()
        for voice, paths in voices.items():
            scores = Scores()
            for path in paths:
                audio = load_audio(path.with_suffix(".wav"))
                heard.setdefault(path, module.hear(audio))
                alignment = module.alignment(heard[path], audio.duration)
                curves = animate(audio, alignment, AnimationOptions(still=True))
                scores.add(evaluate(curves, truth(json.loads(path.read_text())), rig.avatar))
            print(f"{voice:12s} {len(paths):3d} clips  {scores.summary().splitlines()[0]}")
            total.add(scores)
        print(f"{'all':12s}            {total.summary().splitlines()[0]}")


if __name__ == "__main__":
    main()
