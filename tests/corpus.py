"""Speech for the tests: MBROLA sentences with exact phone timings (tools/make_corpus.py)."""

from __future__ import annotations

import json
from pathlib import Path

import make_corpus

from meshsync.align import Segment

SENTENCES = {
    "baby": "Maybe the baby will sleep better by the window.",
    "map": "Mom bought plums and apples. Please pass me the map, Bob.",
    "five": "Five very fine violins were found in the village.",
    "moon": "Sue knew you would choose the blue moon over the old road.",
}


def make_clip(folder: Path, name: str, text: str, voice: str = "us2", snr: float | None = None) -> Path:
    """A WAV of `text` spoken by an MBROLA voice at 175 words a minute, its true phones beside it (.json)."""
    make_corpus.make_clip(folder, name, text, voice, 175, snr)
    return folder / f"{name}.wav"


def truth(wav: Path) -> list[Segment]:
    """The true phones of a clip made by make_clip."""
    return [Segment(*p) for p in json.loads(wav.with_suffix(".json").read_text())["phones"]]
