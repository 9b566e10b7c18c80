"""Praat TextGrids: read Montreal Forced Aligner (or hand-made Praat) alignments, write ours.

MFA writes interval tiers `words` and `phones` (or `SPEAKER - words` ...), ARPAbet with stress digits,
empty intervals (or `sil`, `sp`) for silence and `spn` for words it could not pronounce.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UserError
from ..files import atomic_output, check_input_file
from . import SILENCE, UNKNOWN, Alignment, Segment, tile, unreliable_stretches

SILENCE_LABELS = {"", "sil", "sp", "<eps>", "silence", "#", "pau", "h#"}


def read_textgrid(path: Path, duration: float | None = None) -> Alignment:
    """An alignment from a TextGrid with a words tier and a phones tier (names matched loosely)."""
    from praatio import textgrid

    path = check_input_file(path, "TextGrid file")
    try:
        grid = textgrid.openTextgrid(str(path), includeEmptyIntervals=True, reportingMode="silence",
                                     duplicateNamesMode="rename")
    except Exception as exc:  # praatio raises bare Exceptions, ValueErrors and IndexErrors on bad files
        raise UserError(f"{path}: not a readable Praat TextGrid ({_reason(exc)})") from exc
    words_tier, phones_tier = _tier(grid, path, "words"), _tier(grid, path, "phones")
    end = max(duration or 0.0, grid.maxTimestamp)
    phones = tile([_phone(label, a, b) for a, b, label in phones_tier.entries], end)
    words = tuple(Segment(label.strip().lower(), a, b, 0.0 if label.strip().lower() in ("<unk>", UNKNOWN) else 1.0)
                  for a, b, label in words_tier.entries if label.strip().lower() not in SILENCE_LABELS)
    unknown = [p for p in phones if p.label == UNKNOWN]
    return Alignment(words, phones, end, "textgrid", unreliable_stretches(list(words) + unknown))


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:120] if text else type(exc).__name__


def _tier(grid, path: Path, kind: str):
    """The interval tier named `kind`, `SPEAKER - kind` or close to it."""
    for name in grid.tierNames:
        bare = name.strip().lower().rsplit(" - ", 1)[-1]
        if bare in (kind, kind[:-1]):
            tier = grid.getTier(name)
            if tier.tierType != "IntervalTier":
                break
            return tier
    found = ", ".join(grid.tierNames) or "none"
    raise UserError(f"{path}: no '{kind}' interval tier (tiers: {found}); MFA writes 'words' and 'phones'")


def _phone(label: str, start: float, end: float) -> Segment:
    name = re.sub(r"[012]$", "", label.strip()).upper()
    if name.lower() in SILENCE_LABELS:
        return Segment(SILENCE, start, end)
    if name.lower() == UNKNOWN:
        return Segment(UNKNOWN, start, end, 0.0)
    return Segment(name, start, end)


def write_textgrid(alignment: Alignment, path: Path) -> None:
    """Tiers `words` and `phones`, silence as empty intervals (as MFA writes them)."""
    from praatio import textgrid

    grid = textgrid.Textgrid()
    for name, segments in (("words", alignment.words), ("phones", alignment.phones)):
        entries = [(s.start, s.end, "" if s.label == SILENCE else s.label) for s in segments if s.end > s.start]
        grid.addTier(textgrid.IntervalTier(name, entries, 0.0, alignment.duration))
    with atomic_output(path) as tmp:
        grid.save(str(tmp), format="long_textgrid", includeBlankSpaces=True)
