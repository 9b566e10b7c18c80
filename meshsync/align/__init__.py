"""Alignment: when each word and phone of the transcript is spoken.

Aligners (`pocketsphinx`, `textgrid` for Montreal Forced Aligner and Praat files, `mfa` for an installed MFA)
all hand on an `Alignment`: phones tile the clip from 0 to its end (silence is `sil`), words list the spoken
words, and `unreliable` lists the stretches where the transcript and the audio did not agree, so later stages
can fall back to audio-only there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..files import atomic_output

SILENCE = "sil"
UNKNOWN = "spn"  # speech the aligner could not place (MFA's label for it)
MIN_CONFIDENCE = 0.5  # words below this are unreliable
ALIGNERS = ("pocketsphinx", "mfa")  # the aligners `meshsync.align.speech.align_speech` can run


@dataclass(frozen=True)
class Segment:
    """A labelled stretch of time in seconds; confidence in [0, 1]."""

    label: str
    start: float
    end: float
    confidence: float = 1.0


@dataclass(frozen=True)
class Alignment:
    """Timed words and phones (ARPAbet without stress) for one clip."""

    words: tuple[Segment, ...]
    phones: tuple[Segment, ...]
    duration: float
    source: str
    unreliable: tuple[tuple[float, float], ...] = ()
    guessed: tuple[str, ...] = field(default=())  # words pronounced by grapheme-to-phoneme rules

    @property
    def confidence(self) -> float:
        """Duration-weighted mean word confidence, counting unreliable time outside words (speech the transcript
        does not mention) as confidence 0."""
        spoken = sum(w.end - w.start for w in self.words)
        vouched = sum((w.end - w.start) * w.confidence for w in self.words)
        outside = sum(b - a - sum(max(0.0, min(b, w.end) - max(a, w.start)) for w in self.words)
                      for a, b in self.unreliable)
        total = spoken + max(0.0, outside)
        return vouched / total if total > 0 else 0.0


def unreliable_stretches(segments: list[Segment], min_length: float = 0.0,
                         threshold: float = MIN_CONFIDENCE) -> tuple[tuple[float, float], ...]:
    """(start, end) of runs of segments below `threshold` (gaps under 50 ms bridged), at least `min_length` long."""
    stretches: list[list[float]] = []
    for seg in sorted(segments, key=lambda s: s.start):
        if seg.confidence >= threshold:
            continue
        if stretches and seg.start <= stretches[-1][1] + 0.05:
            stretches[-1][1] = max(stretches[-1][1], seg.end)
        else:
            stretches.append([seg.start, seg.end])
    return tuple((round(a, 3), round(b, 3)) for a, b in stretches if b - a >= min_length)


def tile(phones: list[Segment], duration: float) -> tuple[Segment, ...]:
    """Phones from 0 to `duration`: gaps filled with silence, neighbouring silences merged (lower confidence)."""
    out: list[Segment] = []
    for seg in sorted(phones, key=lambda s: s.start):
        cursor = out[-1].end if out else 0.0
        if seg.start > cursor + 1e-6:
            out.append(Segment(SILENCE, cursor, seg.start))
        if out and seg.label == SILENCE and out[-1].label == SILENCE:
            last = out.pop()
            seg = Segment(SILENCE, last.start, seg.end, min(last.confidence, seg.confidence))
        out.append(seg)
    if not out or out[-1].end < duration - 1e-6:
        start = out[-1].end if out else 0.0
        if out and out[-1].label == SILENCE:
            start = out.pop().start
        out.append(Segment(SILENCE, start, duration))
    return tuple(out)


def to_dict(alignment: Alignment) -> dict:
    """meshsync's JSON form: seconds rounded to the millisecond."""

    def rows(segments: tuple[Segment, ...]) -> list[dict]:
        return [{"label": s.label, "start": round(s.start, 3), "end": round(s.end, 3),
                 "confidence": round(s.confidence, 3)} for s in segments]

    return {
        "source": alignment.source,
        "duration": round(alignment.duration, 3),
        "confidence": round(alignment.confidence, 3),
        "unreliable": [list(s) for s in alignment.unreliable],
        "guessed": list(alignment.guessed),
        "words": rows(alignment.words),
        "phones": rows(alignment.phones),
    }


def write_json(alignment: Alignment, path: Path) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(to_dict(alignment), indent=1) + "\n", encoding="utf-8")


def from_dict(data: dict) -> Alignment:
    """The inverse of `to_dict`."""

    def segments(rows: list[dict]) -> tuple[Segment, ...]:
        return tuple(Segment(r["label"], r["start"], r["end"], r["confidence"]) for r in rows)

    return Alignment(segments(data["words"]), segments(data["phones"]), data["duration"], data["source"],
                     tuple(tuple(s) for s in data["unreliable"]), tuple(data["guessed"]))
