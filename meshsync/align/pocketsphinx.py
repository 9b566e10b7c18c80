"""Forced alignment with PocketSphinx, the default aligner (installs from PyPI with its en-us model).

A row of small passes:
1. split the audio at pauses into chunks of 10-30 s (bounded memory; PocketSphinx's phone pass is quadratic-ish
   in utterance length);
2. find which words each chunk holds: a grammar that accepts any prefix of the remaining words, decoded chunk by
   chunk;
3. align each chunk in a worker process: a word pass, then a phone pass on it (`set_alignment`), retried with
   wide beams when the first try fails; a phone of another language is aligned as its nearest English
   phones and gets their time back under its own label;
4. turn pauses swallowed by a phone back into silence (energy);
5. score each word from its acoustic score per frame and mark the stretches that do not match the transcript.
"""

from __future__ import annotations

import logging
import math
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import Audio, frame_energy
from ..languages import find_language
from ..phones import acoustic
from ..text import Transcript, pocketsphinx_model_dir
from . import MIN_CONFIDENCE, SILENCE, UNKNOWN, Alignment, Segment, tile, unreliable_stretches

log = logging.getLogger("meshsync")

RATE = 16000
FRAME = 0.01  # s: PocketSphinx's frame step
FRAME_SAMPLES = round(RATE * FRAME)
CHUNK_MIN, CHUNK_MAX = 10.0, 30.0  # seconds of audio per aligned chunk
PAUSE_MIN = 0.25  # a gap at least this long is a pause (chunks are cut there; absorbed ones become silence)
ONSET_PAUSE_MIN = 0.15  # s: a quiet start this long in a word's first phone is a pause: no stop closure is as long
WIDE_BEAMS = {"beam": 1e-100, "wbeam": 1e-80, "pbeam": 1e-100, "maxhmmpf": -1}
# Word confidence = logistic of the acoustic score per frame (PocketSphinx scores each frame against its best
# senone, so this is a goodness-of-pronunciation measure); calibrated on tools/bench_align.py's English corpus.
# Other languages score lower against the English model: their centre moves by the language's score_offset.
SCORE_CENTRE, SCORE_SCALE = -55.0, 6.0
MISMATCH_MIN = 0.4  # seconds: shorter low-confidence runs are single odd words, not a transcript mismatch


@dataclass(frozen=True)
class _Word:
    """A word (or an inter-word silence, label `sil`) with its phones."""

    word: Segment
    phones: tuple[Segment, ...]


def align(audio: Audio, transcript: Transcript, workers: int = 2,
          progress: Callable[[int, int], None] | None = None) -> Alignment:
    """Timed words and phones of `transcript` in `audio`."""
    audio = audio.resampled(RATE)
    pcm = audio.pcm16()
    energy = frame_energy(audio, hop=FRAME)
    threshold = speech_threshold(energy)
    words = [w.word for w in transcript.words]
    entries = _entries(transcript)
    centre = SCORE_CENTRE + find_language(transcript.language).score_offset
    with tempfile.TemporaryDirectory(prefix="meshsync-align-") as tmp:
        dictionary = Path(tmp) / "words.dict"
        dictionary.write_text("".join(f"{name} {' '.join(p for label in labels for p in acoustic(label))}\n"
                                      for name, labels in entries.items()), encoding="utf-8")
        chunks = split_at_pauses(energy, threshold)
        jobs = _assign_words(chunks, words, pcm, energy >= threshold, str(dictionary))
        tasks = ((job, frames_pcm(pcm, job[0], job[1]), str(dictionary), entries, centre) for job in jobs)
        aligned = _run(tasks, workers if len(chunks) > 1 else 1, len(chunks), progress)
    timed = [_fallback(job, audio.duration) if result is None else _restore_pauses(result, energy, threshold)
             for job, result in aligned]
    mismatched = [_chunk_span(chunk) for chunk in timed if _chunk_confidence(chunk) < MIN_CONFIDENCE]
    return _assemble([w for chunk in timed for w in chunk], mismatched, audio.duration, transcript)


# ---------------------------------------------------------------------------------------------- chunks


def speech_threshold(energy: np.ndarray) -> float:
    """Energy (dB) that separates speech from the noise floor: a fifth of the way from floor to speech level."""
    floor, speech = np.percentile(energy, [10, 95])
    return float(floor + 0.2 * (speech - floor))


def split_at_pauses(energy: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(start, end) frames of chunks CHUNK_MIN..CHUNK_MAX long, cut in the middle of pauses where possible."""
    total = len(energy)
    lo, hi, pause = round(CHUNK_MIN / FRAME), round(CHUNK_MAX / FRAME), round(PAUSE_MIN / FRAME)
    quiet = energy < threshold
    chunks, start = [], 0
    while total - start > hi:
        window = quiet[start + lo:start + hi]
        cut = _pause_middle(window, pause)
        if cut is None:  # no pause in reach: cut at the quietest frame
            cut = int(np.argmin(energy[start + lo:start + hi]))
        chunks.append((start, start + lo + cut))
        start += lo + cut
    chunks.append((start, total))
    return chunks


def frames_pcm(pcm: np.ndarray, start: int, end: int) -> bytes:
    """The 16-bit samples of frames start..end, as the decoder takes them."""
    return pcm[start * FRAME_SAMPLES:end * FRAME_SAMPLES].tobytes()


def _pause_middle(quiet: np.ndarray, min_length: int) -> int | None:
    """Middle frame of the first run of at least `min_length` quiet frames."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    for begin, end in zip(edges[::2], edges[1::2]):
        if end - begin >= min_length:
            return int((begin + end) // 2)
    return None


def _assign_words(chunks: list[tuple[int, int]], words: list[str], pcm: np.ndarray, speaking: np.ndarray,
                  dictionary: str):
    """Yield (start frame, end frame, words) per chunk; a prefix grammar finds where each chunk's words end.

    A generator, so the first chunks are aligned in the workers while later ones are still being assigned.
    """
    if len(chunks) == 1:
        yield chunks[0][0], chunks[0][1], words
        return
    per_frame = len(words) / max(1, int(speaking.sum()))
    decoder = _decoder(dictionary)
    position = 0
    for index, (start, end) in enumerate(chunks):
        if index == len(chunks) - 1:
            yield start, end, words[position:]
            break
        expected = per_frame * int(speaking[start:end].sum())
        count = _prefix_length(decoder, frames_pcm(pcm, start, end), words[position:], expected)
        yield start, end, words[position:position + count]
        position += count


def _prefix_length(decoder, pcm: bytes, words: list[str], expected: float) -> int:
    """How many of `words` the audio holds, from a grammar that may stop after any word."""
    window = words[:int(expected * 1.5) + 15]
    if not window:
        return 0
    final = len(window) + 1
    transitions = [(i, i + 1, 1.0, w) for i, w in enumerate(window)]
    transitions += [(i, final, 1.0) for i in range(1, len(window) + 1)]
    decoder.add_fsg("prefix", decoder.create_fsg("prefix", 0, final, transitions))
    decoder.activate_search("prefix")
    _decode(decoder, pcm)
    hyp = decoder.hyp()
    if hyp is None or not hyp.hypstr:
        return min(len(words), max(0, round(expected)))
    return len(hyp.hypstr.split())


# ---------------------------------------------------------------------------------------------- aligning

def _decoder(dictionary: str, wide: bool = False):
    """A fresh decoder (loading the model takes about 0.1 s). Never reused across chunks: PocketSphinx carries
    state from one utterance to the next, which made a chunk's alignment depend on the worker's earlier chunks."""
    from pocketsphinx import Decoder

    options = WIDE_BEAMS if wide else {}
    return Decoder(hmm=str(pocketsphinx_model_dir() / "en-us"), dict=dictionary, lm=None, bestpath=False,
                   loglevel="FATAL", **options)


def _entries(transcript: Transcript) -> dict[str, tuple[str, ...]]:
    """Dictionary entry name (`word`, `word(2)`, ...) -> the phone labels of that pronunciation."""
    entries = {}
    for pron in {p.word: p for p in transcript.words}.values():
        for i, phones in enumerate(pron.variants):
            entries[f"{pron.word}{'' if i == 0 else f'({i + 1})'}"] = phones
    return entries


def _run(tasks, workers: int, total: int, progress) -> list:
    """(job, result) for every task in order: in this process for one worker (no pool to start; a Dask
    worker may not start processes), else in worker processes."""
    results = []

    def done(job_and_result) -> None:
        results.append(job_and_result)
        if progress:
            progress(len(results), total)

    if workers <= 1:
        for task in tasks:
            done((task[0], _align_chunk(task)))
        return results
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [(task[0], pool.submit(_align_chunk, task)) for task in tasks]
        for job, future in futures:
            done((job, future.result()))
    return results


def _align_chunk(task: tuple[tuple[int, int, list[str]], bytes, str, dict, float]) -> list[_Word] | None:
    """Two-pass alignment of one chunk; None when even wide beams cannot fit the words to the audio."""
    (start, _, words), pcm, dictionary, entries, centre = task
    if not words:
        return []
    for wide in (False, True):
        decoder = _decoder(dictionary, wide)
        try:
            decoder.set_align_text(" ".join(words))
            _decode(decoder, pcm)  # pass 1 places the words
            decoder.set_alignment()
            _decode(decoder, pcm)  # pass 2 places their phones
            return _parse(decoder.get_alignment(), start * FRAME, entries, centre)
        except RuntimeError:
            continue
    return None


def _decode(decoder, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def _parse(alignment, offset: float, entries: dict[str, tuple[str, ...]], centre: float) -> list[_Word]:
    """Words and phones of a decoded chunk starting at `offset` seconds; confidences around `centre`."""
    out = []
    for entry in alignment:
        name = re.sub(r"\(\d+\)$", "", entry.name)
        start, end = offset + entry.start * FRAME, offset + (entry.start + entry.duration) * FRAME
        label = SILENCE if name[0] in "<[+" else name  # <sil>, [NOISE], +BREATH+: fillers
        confidence = _confidence(entry.score / max(1, entry.duration), centre)
        phones = [Segment(SILENCE if p.name in ("SIL", "+SPN+", "+NSN+") else p.name,
                          offset + p.start * FRAME, offset + (p.start + p.duration) * FRAME, confidence)
                  for p in entry]
        if entry.name in entries:
            phones = _own_labels(phones, entries[entry.name])
        out.append(_Word(Segment(label, start, end, confidence), tuple(phones)))
    return out


def _own_labels(aligned: list[Segment], labels: tuple[str, ...]) -> list[Segment]:
    """The English-model phones of a word regrouped under the word's own phone labels (`pf` over P and F)."""
    if all(acoustic(label) == (label,) for label in labels):
        return aligned
    out, i = [], 0
    for label in labels:
        group = aligned[i:i + len(acoustic(label))]
        out.append(Segment(label, group[0].start, group[-1].end, group[0].confidence))
        i += len(group)
    return out


def _confidence(score_per_frame: float, centre: float) -> float:
    return 1.0 / (1.0 + math.exp(-(score_per_frame - centre) / SCORE_SCALE))


# ---------------------------------------------------------------------------------------------- after alignment


def _fallback(job: tuple[int, int, list[str]], duration: float) -> list[_Word]:
    """A chunk the words could not be fitted to: one unknown-speech stretch with confidence 0."""
    start, end, words = job
    seg = Segment(" ".join(words) or UNKNOWN, start * FRAME, min(duration, end * FRAME), 0.0)
    log.warning("could not align %.1f-%.1f s to \"%s\"; marked unreliable", seg.start, seg.end,
                _shorten(seg.label))
    return [_Word(seg, (Segment(UNKNOWN, seg.start, seg.end, 0.0),))]


def _shorten(text: str, size: int = 60) -> str:
    return text if len(text) <= size else text[:size - 3] + "..."


def _restore_pauses(words: list[_Word], energy: np.ndarray, threshold: float) -> list[_Word]:
    """Give back to silence the quiet edge of a phone that swallowed a pause (PocketSphinx's known weakness)."""
    out = []
    for item in words:
        if item.word.label == SILENCE:
            out.append(item)
            continue
        first, last = item.phones[0], item.phones[-1]
        lead = _quiet_run(energy, threshold, first.start, first.end, from_start=True)
        tail = _quiet_run(energy, threshold, last.start, last.end, from_start=False)
        phones = list(item.phones)
        before, after = [], []
        if lead >= ONSET_PAUSE_MIN:
            phones[0] = Segment(first.label, first.start + lead, first.end, first.confidence)
            before = [_silence(first.start, first.start + lead)]
        if tail >= PAUSE_MIN and phones[-1].end - tail > phones[-1].start:
            phones[-1] = Segment(last.label, phones[-1].start, last.end - tail, last.confidence)
            after = [_silence(last.end - tail, last.end)]
        word = Segment(item.word.label, phones[0].start, phones[-1].end, item.word.confidence)
        out += before + [_Word(word, tuple(phones))] + after
    return out


def _silence(start: float, end: float) -> _Word:
    seg = Segment(SILENCE, start, end, 1.0)
    return _Word(seg, (seg,))


def _quiet_run(energy: np.ndarray, threshold: float, start: float, end: float, from_start: bool) -> float:
    """Seconds of quiet frames from one edge of [start, end), keeping at least 50 ms of the phone."""
    frames = energy[round(start / FRAME):round(end / FRAME) - 5]
    if not from_start:
        frames = energy[round(start / FRAME) + 5:round(end / FRAME)][::-1]
    loud = np.flatnonzero(frames >= threshold)
    return (loud[0] if loud.size else len(frames)) * FRAME


def _chunk_confidence(chunk: list[_Word]) -> float:
    """Duration-weighted confidence of a chunk's words and of its long silences (which may hide speech)."""
    scored = [w.word for w in chunk if w.word.label != SILENCE or w.word.end - w.word.start >= PAUSE_MIN]
    total = sum(s.end - s.start for s in scored)
    return sum((s.end - s.start) * s.confidence for s in scored) / total if total > 0 else 1.0


def _chunk_span(chunk: list[_Word]) -> Segment:
    """A whole chunk as one unreliable segment: when most of an utterance does not match, none of it is trusted."""
    return Segment(UNKNOWN, chunk[0].word.start, chunk[-1].word.end, 0.0)


def _assemble(words: list[_Word], mismatched: list[Segment], duration: float, transcript: Transcript) -> Alignment:
    """Phones tiling [0, duration] (neighbouring silences merged), spoken words, unreliable stretches."""
    phones = tile([p for w in words for p in w.phones], duration)
    spoken = [w.word for w in words if w.word.label != SILENCE]
    # Silence that scores badly is speech the transcript does not mention.
    untranscribed = [w.word for w in words if w.word.label == SILENCE and w.word.end - w.word.start >= PAUSE_MIN]
    unreliable = unreliable_stretches(spoken + untranscribed + mismatched, MISMATCH_MIN)
    if unreliable:
        seconds = sum(b - a for a, b in unreliable)
        log.warning("the transcript does not match %.1f s of the audio (%d stretches); those stretches are "
                    "marked unreliable", seconds, len(unreliable))
    return Alignment(tuple(spoken), phones, duration, "pocketsphinx", unreliable, tuple(transcript.guessed))
