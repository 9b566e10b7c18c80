"""Speech without a transcript, in any language: the phones hama's recogniser hears, timed on the signal.

hama (PyPI, numpy only, weights inside its wheel, nothing downloaded) is a CTC phoneme recogniser trained on
many speakers: it decides *which* phones were spoken, in IPA, every 20 ms. Its emissions come a near-constant
LAG after the phone starts, so they are moved back by it. A closure, contact or rounding of the lips must
not be missed, so a phone of those classes also counts where its class's probability peaks at PEAKS without
winning the frame (the classes are the viseme table's, so this room sits after it). The signal decides
*when*: a bilabial's span ends at the sharpest rise of loudness near it (the release), and pauses are where
the loudness says so. The result is an `Alignment` without words that the rule-based passes animate like a
transcript's.

Calibrated on licence-clean voices (tools/real_corpus.py: flite awb/rms/slt, the asterisk prompts in five
languages) with tools/calibrate_listen.py; evaluated on the held-out MBROLA voices (tools/bench_lipsync.py;
docs/listen.md). Audio is decoded in chunks cut at pauses, as the aligner cuts them (at most 30 s): memory
stays flat however long the recording, since hama's attention grows with the square of the chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np

from .align import Alignment, Segment, tile
from .align.pocketsphinx import FRAME, RATE, speech_threshold, split_at_pauses
from .audio import Audio, frame_energy
from .visemes import CLOSURE, CONTACT, ROUNDED, Table, load_table

STEP = 0.02  # s: hama's output frame (160-sample hop, subsampled by 2)
LAG = 0.06  # s: from a phone's start to hama's emission of it (median over the calibration voices)
# A lip class's probability peak this high counts as that class spoken even when another phone wins the
# frame: a missed closure, contact or rounding shows more than a brief extra one.
PEAKS = {"closure": 0.15, "contact": 0.3, "rounding": 0.3}
MAX_PHONE = 0.15  # s: a phone lasts at most this long (then silence, unless the next phone starts earlier)
RELEASE_SEARCH = (-0.06, 0.04)  # s around a bilabial's emission where its release (the loudness rise) is sought
NOT_PHONES = frozenset({"<pad>", "<sos>", "<eos>", "<unk>", "<wb>", "<blank>", " ", "%", ",", "~"})
TIES = str.maketrans("", "", "\u0361\u035c")  # tie bars: d͡ʒ is written dʒ, as espeak-ng does


@dataclass(frozen=True)
class Heard:
    """hama's phone probabilities over a clip, (frames, tokens) a frame every STEP seconds, and the loudness
    (dB every FRAME seconds) that cut the chunks and times the releases."""

    probabilities: np.ndarray
    tokens: tuple[str, ...]
    loudness: np.ndarray
    duration: float  # s, of the audio as heard (at RATE)


@cache
def _model():
    from hama.asr import ASRModel

    return ASRModel()


def hear(audio: Audio, progress: Callable[[int, int], None] | None = None) -> Heard:
    """hama's per-frame phone probabilities for `audio`, decoded chunk by chunk (cut at pauses)."""
    model = _model()
    audio = audio.resampled(RATE)
    energy = frame_energy(audio, hop=FRAME)
    chunks = split_at_pauses(energy, speech_threshold(energy))
    per_step = round(STEP / FRAME)
    frames = -(-len(energy) // per_step)
    out = np.zeros((frames, len(model.decoder_tokens)), dtype=np.float32)
    out[:, model.blank_id] = 1.0
    for done, (start, end) in enumerate(chunks, 1):
        first = start // per_step  # chunk cuts fall on 10 ms frames; start on a whole output frame
        samples = audio.samples[round(first * STEP * RATE):round(end * FRAME * RATE)]
        probabilities = _probabilities(model, samples)
        out[first:first + len(probabilities)] = probabilities[:frames - first]
        if progress:
            progress(done, len(chunks))
    return Heard(out, tuple(t.translate(TIES) for t in model.decoder_tokens), energy, audio.duration)


def _probabilities(model, samples: np.ndarray) -> np.ndarray:
    """Softmax over tokens of the model's outputs for one chunk, with hama's own decoding temperature and
    blank bias (so the frame winners are the emissions hama itself would decode)."""
    if len(samples) < RATE * STEP * 2:
        return np.zeros((0, len(model.decoder_tokens)), dtype=np.float32)
    wave = np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1)
    log_probs, lengths = model.session.run(
        [model._log_probs_output_name, model._out_lengths_output_name],
        {model._waveform_input_name: wave, model._waveform_lengths_input_name: np.array([wave.shape[1]])})
    logits = np.asarray(log_probs[0][:int(np.asarray(lengths).reshape(-1)[0])], dtype=np.float64)
    logits /= model.decode_cfg.temperature
    logits[:, model.blank_id] += model.decode_cfg.blank_bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)


def lip_class(phone: str, table: Table) -> str | None:
    """Which of PEAKS' classes a phone belongs to, by its first viseme in the table (None: none)."""
    if phone in NOT_PHONES:
        return None
    first = table.visemes_of(phone)[0]
    return {CLOSURE: "closure", CONTACT: "contact"}.get(first, "rounding" if first in ROUNDED else None)


def emissions(heard: Heard, table: Table) -> list[tuple[int, str]]:
    """(frame, phone) where each phone starts winning (greedy CTC), plus, for each lip class, the phone of that
    class where the class's probability peaks at PEAKS[class] or more with none of it emitted within three
    frames."""
    best = heard.probabilities.argmax(axis=1)
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], best])))
    found = [(int(f), heard.tokens[best[f]]) for f in starts if heard.tokens[best[f]] not in NOT_PHONES]
    classes = np.array([lip_class(token, table) for token in heard.tokens], dtype=object)
    for name, threshold in PEAKS.items():
        members = np.flatnonzero(classes == name)
        emitted = [f for f, phone in found if lip_class(phone, table) == name]
        for f in _peaks(heard.probabilities[:, members].sum(axis=1), threshold):
            if not any(abs(f - e) <= 3 for e in emitted):
                found.append((f, heard.tokens[members[heard.probabilities[f, members].argmax()]]))
    return sorted(found)


def _peaks(score: np.ndarray, threshold: float) -> list[int]:
    """Frames where `score` is at least `threshold` and the largest within three frames either side."""
    padded = np.pad(score, 3, constant_values=-1.0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 7)
    top = (score >= threshold) & (score >= windows.max(axis=1))
    frames = np.flatnonzero(top)
    return [int(f) for i, f in enumerate(frames) if i == 0 or f - frames[i - 1] > 3]


def phones(found: list[tuple[int, str]], heard: Heard, table: Table) -> list[Segment]:
    """Phone spans: each from its emission less LAG to the next phone's start (at most MAX_PHONE); bilabials
    end at their release, found in the loudness."""
    energy, duration = heard.loudness, heard.duration
    rise = np.diff(np.convolve(energy, np.ones(3) / 3, mode="same"), prepend=energy[0])
    starts = [max(0.0, f * STEP - LAG) for f, _ in found]
    spans = []
    for i, (_, phone) in enumerate(found):
        start = max(starts[i], spans[-1].end if spans else 0.0)
        end = min(starts[i + 1] if i + 1 < len(found) else duration, start + MAX_PHONE, duration)
        if lip_class(phone, table) == "closure":
            end = max(end, _release(rise, found[i][0] * STEP, start))
        if end > start:
            spans.append(Segment(phone, start, end))
    return spans


def _release(rise: np.ndarray, emitted: float, start: float) -> float:
    """The time of the sharpest loudness rise within RELEASE_SEARCH of a bilabial's emission (after its start)."""
    lo = max(round((emitted + RELEASE_SEARCH[0]) / FRAME), round(start / FRAME) + 1)
    hi = min(round((emitted + RELEASE_SEARCH[1]) / FRAME), len(rise))
    if hi <= lo:
        return start
    return (lo + int(np.argmax(rise[lo:hi]))) * FRAME


def listen(audio: Audio, progress: Callable[[int, int], None] | None = None) -> Alignment:
    """The phones spoken in `audio` (any language), as an alignment without words."""
    return alignment(hear(audio, progress), audio.duration)


def alignment(heard: Heard, duration: float) -> Alignment:
    """What was heard as an alignment without words, tiling `duration` seconds (the clip's own length)."""
    table = load_table()
    return Alignment((), tile(phones(emissions(heard, table), heard, table), duration), duration, "hama")
