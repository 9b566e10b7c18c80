"""Speech without a transcript: PocketSphinx's US-English recogniser guesses the words, which are then
aligned like a transcript (the way Rhubarb Lip Sync listens). English only: other languages come out as
English words that sound alike, whose phones still roughly follow the mouth.

Chunks are cut at pauses as for alignment, each decoded by a fresh decoder (deterministic), so memory stays
flat however long the recording is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..audio import Audio, frame_energy
from ..errors import UserError
from ..text import pocketsphinx_model_dir
from .pocketsphinx import FRAME, RATE, frames_pcm, speech_threshold, split_at_pauses

NOT_WORDS = re.compile(r"^(<.*>|\[.*\])$")  # <s>, <sil>, [NOISE]


def recognize(audio: Audio, progress: Callable[[int, int], None] | None = None) -> str:
    """The words PocketSphinx hears in `audio`, as a transcript."""
    from pocketsphinx import Decoder

    audio = audio.resampled(RATE)
    pcm = audio.pcm16()
    energy = frame_energy(audio, hop=FRAME)
    chunks = split_at_pauses(energy, speech_threshold(energy))
    model = pocketsphinx_model_dir()
    words: list[str] = []
    for done, (start, end) in enumerate(chunks, 1):
        decoder = Decoder(hmm=str(model / "en-us"), lm=str(model / "en-us.lm.bin"),
                          dict=str(model / "cmudict-en-us.dict"), loglevel="FATAL")
        decoder.start_utt()
        decoder.process_raw(frames_pcm(pcm, start, end), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is not None:
            words += [re.sub(r"\(\d+\)$", "", w) for w in hypothesis.hypstr.split() if not NOT_WORDS.match(w)]
        if progress:
            progress(done, len(chunks))
    if not words:
        raise UserError("no words recognised in the audio; give the transcript with --text, or use --method network")
    return " ".join(words)
