"""One entry point for every way of getting an alignment: PocketSphinx, an installed MFA, or a TextGrid file,
and one for speech as every command that animates takes it (a file, with a transcript, an alignment or neither)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..audio import Audio, load_audio
from ..errors import UserError
from ..languages import ENGLISH, check_script, find_language
from ..options import check_workers, option
from ..text import normalize, pronounce, read_text
from . import ALIGNERS, Alignment
from .mfa import align as mfa_align
from .pocketsphinx import align as pocketsphinx_align
from .textgrid import read_textgrid

log = logging.getLogger("meshsync")
Progress = Callable[[int, int], None]
Listener = Callable[[Audio, Progress | None], Alignment]  # audio -> the phones heard in it
WORKERS = 2  # aligner processes for long audio


@dataclass(frozen=True)
class SpeechOptions:
    """Where the speech's timing comes from: a transcript to align (`text`: the words, or a .txt file holding
    them) in its language, an alignment to read, or neither; and how to align."""

    text: str | None = option(None, or_file=".txt")
    language: str = ENGLISH  # the transcript's language, a code such as de, fr, pt-br (meshsync languages)
    alignment: Path | None = None  # a Montreal Forced Aligner / Praat TextGrid
    aligner: str = ALIGNERS[0]
    lexicon: Path | None = None  # extra pronunciations: CMU, MFA or `word<TAB>ipa`

    def __post_init__(self):
        if self.aligner not in ALIGNERS:
            raise UserError(f"unknown aligner '{self.aligner}'; choose one of {', '.join(ALIGNERS)}")
        if self.text is not None and self.alignment is not None:
            raise UserError("give the transcript (--text) or an alignment (--alignment), not both")
        language = find_language(self.language)
        if self.text is not None:  # before any work: a transcript in another script is a wrong --language
            check_script(read_text(self.text), language)


@dataclass(frozen=True, eq=False)
class Speech:
    """The audio, its alignment (None when only the audio is known) and how it was timed."""

    audio: Audio
    alignment: Alignment | None
    mode: str  # "text-aligned", "audio-only, recognised phones" or "audio-only"


def load_speech(path: Path, options: SpeechOptions = SpeechOptions(), listen: Listener | None = None,
                workers: int = WORKERS, progress: Callable[[str], Progress | None] = lambda label: None) -> Speech:
    """The speech in the audio file at `path`, aligned to the options' text or read from their alignment.
    Without either: no alignment, or `listen`'s (meshsync.listen.listen: the phones heard, any language).
    `progress(label)` gives the callback for the recognition and alignment steps."""
    audio = load_audio(path)
    if options.text is None and options.alignment is None:
        if not listen:
            return Speech(audio, None, "audio-only")
        log.info("no transcript: recognising the phones (give --text for the best timing)")
        return Speech(audio, listen(audio, progress("recognise")), "audio-only, recognised phones")
    return Speech(audio, align_speech(audio, options, workers, progress("align")), "text-aligned")


def align_speech(audio: Audio, options: SpeechOptions, workers: int = WORKERS,
                 progress: Progress | None = None) -> Alignment:
    """Align `audio` to the options' text (a transcript or a path to one), or read their alignment TextGrid."""
    check_workers(workers)
    if options.alignment is not None:
        result = read_textgrid(options.alignment, audio.duration)
        if result.duration > audio.duration + 0.5:
            raise UserError(f"{options.alignment}: the TextGrid runs to {result.duration:.1f} s but the audio is "
                            f"{audio.duration:.1f} s long; is it the alignment of this recording?")
        return result
    if options.text is None:
        raise UserError("give the transcript (--text) or an alignment (--alignment FILE.TextGrid)")
    transcript_text = read_text(options.text)
    language = find_language(options.language)
    if options.aligner == "mfa":
        if not language.mfa:
            raise UserError(f"meshsync knows no Montreal Forced Aligner model for {language.name}; align with "
                            "--aligner pocketsphinx, or give the TextGrid of your own MFA run with --alignment")
        return mfa_align(audio, transcript_text, language.mfa)
    transcript = pronounce(normalize(transcript_text, language.code), language.code, options.lexicon)
    if transcript.guessed:
        log.info("guessed pronunciations for: %s", ", ".join(transcript.guessed))
    return pocketsphinx_align(audio, transcript, workers=workers, progress=progress)
