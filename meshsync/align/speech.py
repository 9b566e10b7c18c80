"""One entry point for every way of getting an alignment: PocketSphinx, an installed MFA, or a TextGrid file,
and one for speech as every command that animates takes it (a file, with a transcript, an alignment or neither)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..audio import Audio, load_audio
from ..errors import UserError
from ..text import normalize, pronounce, read_text
from . import ALIGNERS, Alignment

log = logging.getLogger("meshsync")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, eq=False)
class Speech:
    """The audio, its alignment (None when only the audio is known) and how it was timed."""

    audio: Audio
    alignment: Alignment | None
    mode: str  # "text-aligned", "audio-only, recognised words" or "audio-only"


def load_speech(path: Path, text: str | None = None, alignment: Path | None = None, aligner: str = "pocketsphinx",
                lexicon: Path | None = None, workers: int = 2, listen: bool = False,
                progress: Callable[[str], Progress | None] = lambda label: None) -> Speech:
    """The speech in the audio file at `path`, aligned to `text` or read from `alignment`. Without either:
    no alignment, or with `listen` the English words PocketSphinx recognises, aligned. `progress(label)`
    gives the callback for the recognition and alignment steps."""
    audio = load_audio(path)
    if text is None and alignment is None:
        if not listen:
            return Speech(audio, None, "audio-only")
        from .recognize import recognize

        log.info("no transcript: recognising English words (--method network listens in any language)")
        text = recognize(audio, progress("recognise"))
        mode = "audio-only, recognised words"
    else:
        mode = "text-aligned"
    return Speech(audio, align_speech(audio, text, alignment, aligner, lexicon, workers, progress("align")), mode)


def align_speech(audio: Audio, text: str | None = None, alignment: Path | None = None,
                 aligner: str = "pocketsphinx", lexicon: Path | None = None, workers: int = 2,
                 progress: Progress | None = None) -> Alignment:
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
