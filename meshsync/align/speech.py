"""One entry point for every way of getting an alignment: PocketSphinx, an installed MFA, or a TextGrid file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from ..audio import Audio
from ..errors import UserError
from ..text import normalize, pronounce, read_text
from . import ALIGNERS, Alignment

log = logging.getLogger("meshsync")


def align_speech(audio: Audio, text: str | None = None, alignment: Path | None = None,
                 aligner: str = "pocketsphinx", lexicon: Path | None = None, workers: int = 2,
                 progress: Callable[[int, int], None] | None = None) -> Alignment:
    """Align `audio` to `text` (a transcript or a path to one), or read a ready `alignment` TextGrid."""
    if alignment is not None:
        from .textgrid import read_textgrid

        result = read_textgrid(alignment, audio.duration)
        if result.duration > audio.duration + 0.5:
            raise UserError(f"{alignment}: the TextGrid runs to {result.duration:.1f} s but the audio is "
                            f"{audio.duration:.1f} s long; is it the alignment of this recording?")
        return result
    if text is None:
        raise UserError("give the transcript (--text) or an alignment (--alignment FILE.TextGrid)")
    if aligner not in ALIGNERS:
        raise UserError(f"unknown aligner '{aligner}'; choose one of {', '.join(ALIGNERS)}")
    transcript_text = read_text(text)
    if aligner == "mfa":
        from .mfa import align

        return align(audio, transcript_text)
    from .pocketsphinx import align

    transcript = pronounce(normalize(transcript_text), lexicon)
    if transcript.guessed:
        log.info("guessed pronunciations for: %s", ", ".join(transcript.guessed))
    return align(audio, transcript, workers=workers, progress=progress)
