"""Build the README demo's speech sample: assets/demo.flac and its transcript assets/demo.txt.

Two prompts of the Debian asterisk-core-sounds-en package (Allison Smith, CC-BY-SA-3.0), joined with a
short pause: real recorded speech with p/b/m, f/v and rounded vowels in nine seconds.

    apt-get install asterisk-core-sounds-en-g722 asterisk-core-sounds-en
    .venv/bin/python tools/make_demo.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import soundfile
from asterisk import prompts, wav

PROMPTS = ("vm-newuser", "demo-thanks")
PAUSE = 0.4  # s of silence between the prompts
ASSETS = Path(__file__).resolve().parent.parent / "assets"


def main() -> None:
    texts = dict(prompts())
    with tempfile.TemporaryDirectory() as scratch:
        pieces = []
        for name in PROMPTS:
            samples, rate = soundfile.read(wav(name, Path(scratch)), dtype="int16")
            pieces += [samples, np.zeros(round(PAUSE * rate), np.int16)]
    speech = np.concatenate(pieces[:-1])
    soundfile.write(ASSETS / "demo.flac", speech, rate, subtype="PCM_16")
    (ASSETS / "demo.txt").write_text(" ".join(texts[name] for name in PROMPTS) + "\n", encoding="utf-8")
    print(f"wrote assets/demo.flac ({len(speech) / rate:.1f} s) and assets/demo.txt")


if __name__ == "__main__":
    main()
