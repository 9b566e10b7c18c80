"""Speech without a transcript, in any language: the phones hama's recogniser hears, timed on the signal.

hama (PyPI, numpy only, weights inside its wheel, nothing downloaded) is a CTC phoneme recogniser trained on
many speakers: it decides *which* phones were spoken, in IPA, every 20 ms. Its emissions come a near-constant
LAG after the phone starts, so they are moved back by it. A closure, contact or rounding of the lips must
not be missed, so a phone of those classes also counts where its class's probability peaks at PEAKS without
winning the frame (the classes are the viseme table's, so this room sits after it), and a contact or rounding
keeps at least MIN_LIP even where hama hears another phone at once. The signal decides *when*: a bilabial's
span ends at the sharpest rise of loudness near it (the release), and pauses are where the loudness says so.
The result is an `Alignment` without words that the rule-based passes animate like a transcript's.

Calibrated on licence-clean voices (tools/real_corpus.py: flite awb/rms/slt, the asterisk prompts in five
languages) with tools/calibrate_listen.py; evaluated on the held-out MBROLA voices (tools/bench_lipsync.py;
docs/listen.md). hama hears the audio in windows on a fixed grid: each keeps HOP seconds of output and also
hears CONTEXT seconds either side. Memory stays flat however long the recording (hama's attention grows with
the square of its input), and a live stream (`Stream`) gets exactly the phones a whole file gets, at most
LOOK_AHEAD seconds after each starts.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .align import Alignment, Segment, tile
from .align.pocketsphinx import FRAME, FRAME_SAMPLES, RATE
from .align.speech import WORKERS
from .audio import Audio, frame_energy
from .visemes import CLOSURE, CONTACT, ROUNDED, Table, load_table

STEP = 0.02  # s: hama's output frame (160-sample hop, subsampled by 2)
HAMA_HOP = round(STEP * RATE)  # samples per output frame
HOP = 2.0  # s of hama's output each window keeps
CONTEXT = 1.0  # s of audio a window also hears either side (less context cost labiodentals; docs/listen.md)
HOP_SAMPLES, CONTEXT_SAMPLES = round(HOP * RATE), round(CONTEXT * RATE)
LAG = 0.06  # s: from a phone's start to hama's emission of it (median over the calibration voices)
# A lip class's probability peak this high counts as that class spoken even when another phone wins the
# frame: a missed closure, contact or rounding shows more than a brief extra one. Chosen on the calibration
# voices: a lower peak adds gestures that are true less often than those the closure peak adds (docs/listen.md).
PEAKS = {"closure": 0.15, "contact": 0.15, "rounding": 0.15}
NEAR = 3  # frames: a lip-class peak is the largest this far either side, and yields to an emission this close
# Frames that frame f's emissions depend on, before and after it (a stream settles them once it has these).
SEEN_BEFORE, SEEN_AFTER = 2 * NEAR + 1, NEAR
MAX_PHONE = 0.15  # s: a phone lasts at most this long (then silence, unless the next phone starts earlier) ...
# ... or, where no phone follows, as long as the loudness stays within FADE dB of the voice's (the loudest of the
# VOICE s before), up to HELD s: a vowel held at the end of a phrase stays open while it sounds, and a phone
# heard in a pause does not last into it
HELD, FADE, VOICE = 0.5, 12.0, 2.0
# s: a contact or rounding lasts at least this long, pushing the next phones back (never past the next
# bilabial's start), so that one heard at the same frame as another phone or inside a bilabial's release
# still shows (chosen on the calibration voices).
MIN_LIP = 0.08
RELEASE_SEARCH = (-0.06, 0.04)  # s around a bilabial's emission where its release (the loudness rise) is sought
# s of audio a stream needs past a phone's start before the phone settles: the rest of its window and the
# context after it, then the phone's longest span, the lag and the three frames an emission looks ahead.
LOOK_AHEAD = HOP + CONTEXT + HELD + LAG + 4 * STEP
NOT_PHONES = frozenset({"<pad>", "<sos>", "<eos>", "<unk>", "<wb>", "<blank>", " ", "%", ",", "~"})
TIES = str.maketrans("", "", "\u0361\u035c")  # tie bars: d͡ʒ is written dʒ, as espeak-ng does


class Signal(NamedTuple):
    """The loudness (dB every FRAME) and its rise, from frame `first` on: where phones release and fade."""

    loudness: np.ndarray
    rise: np.ndarray
    first: int


@dataclass(frozen=True)
class Heard:
    """hama's phone probabilities over a clip, (frames, tokens) a frame every STEP seconds, and the loudness
    (dB every FRAME seconds) that times the releases."""

    probabilities: np.ndarray
    tokens: tuple[str, ...]
    loudness: np.ndarray
    duration: float  # s, of the audio as heard (at RATE)


_THREAD = threading.local()


def _model():
    """This thread's hama model (windows are heard on several threads; each gets its own model)."""
    if not hasattr(_THREAD, "model"):
        from hama.asr import ASRModel

        _THREAD.model = ASRModel()
    return _THREAD.model


def hear(audio: Audio, progress: Callable[[int, int], None] | None = None, workers: int = WORKERS) -> Heard:
    """hama's per-frame phone probabilities for `audio`, heard window by window (see `_window`) on `workers`
    threads (hama's engine is native code that runs outside Python's lock; each window stands alone, so the
    result is the same for any number)."""
    samples = audio.resampled(RATE).samples
    count = _windows(len(samples))
    probabilities, loudness = [], []
    with ThreadPoolExecutor(workers) as pool:
        heard = pool.map(lambda k: _window(_model(), samples, 0, k, len(samples)), range(count))
        for k, (p, loud) in enumerate(heard, 1):
            probabilities.append(p)
            loudness.append(loud)
            if progress:
                progress(k, count)
    return Heard(np.concatenate(probabilities), _tokens(_model()), np.concatenate(loudness), len(samples) / RATE)


def _tokens(model) -> tuple[str, ...]:
    """hama's output tokens, IPA written as espeak-ng writes it (no tie bars)."""
    return tuple(t.translate(TIES) for t in model.decoder_tokens)


def _windows(samples: int) -> int:
    """How many windows hear a clip of `samples` samples (at RATE)."""
    return -(-(samples // HAMA_HOP + 1) // round(HOP / STEP))


def _window(model, samples: np.ndarray, offset: int, k: int, total: int) -> tuple[np.ndarray, np.ndarray]:
    """hama's probabilities (every STEP) and the loudness (dB every FRAME) over window k's HOP seconds, heard
    with CONTEXT seconds of audio either side. `samples` holds the stream from sample `offset` on; `total` is
    the samples so far (all of them once the stream has ended). Windows lie on a fixed grid, so the result
    never depends on how the audio arrived."""
    a = max(0, k * HOP_SAMPLES - CONTEXT_SAMPLES)
    b = min(total, (k + 1) * HOP_SAMPLES + CONTEXT_SAMPLES)
    heard = samples[a - offset:b - offset]
    probabilities = _kept(_probabilities(model, heard), a, k * HOP_SAMPLES, HAMA_HOP, total)
    loudness = _kept(frame_energy(Audio(heard, RATE), hop=FRAME), a, k * HOP_SAMPLES, FRAME_SAMPLES, total)
    return probabilities, loudness


def _kept(frames: np.ndarray, a: int, start: int, step: int, total: int) -> np.ndarray:
    """The HOP seconds of `frames` (one every `step` samples, the first at sample `a`) from sample `start` on,
    fewer where the stream of `total` samples ends (its last frame is at sample total // step * step)."""
    first = (start - a) // step
    return frames[first:first + min(HOP_SAMPLES // step, total // step + 1 - start // step)]


def _probabilities(model, samples: np.ndarray) -> np.ndarray:
    """Softmax over tokens of the model's outputs for one window, with hama's own decoding temperature and
    blank bias (so the frame winners are the emissions hama itself would decode). Too short to hear: blank."""
    if len(samples) < 2 * HAMA_HOP:
        blank = np.zeros((len(samples) // HAMA_HOP + 1, len(model.decoder_tokens)), dtype=np.float32)
        blank[:, model.blank_id] = 1.0
        return blank
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


def emissions(probabilities: np.ndarray, tokens: tuple[str, ...], table: Table) -> list[tuple[int, str]]:
    """(frame, phone) where each phone starts winning (greedy CTC), plus, for each lip class, the phone of that
    class where the class's probability peaks at PEAKS[class] or more with none of it emitted within NEAR
    frames. Frame f's emissions depend on frames f - SEEN_BEFORE .. f + SEEN_AFTER only (so a stream can settle
    them early)."""
    best = probabilities.argmax(axis=1)
    starts = np.flatnonzero(np.diff(np.concatenate([[-1], best])))
    found = [(int(f), tokens[best[f]]) for f in starts if tokens[best[f]] not in NOT_PHONES]
    classes = np.array([lip_class(token, table) for token in tokens], dtype=object)
    for name, threshold in PEAKS.items():
        members = np.flatnonzero(classes == name)
        emitted = [f for f, phone in found if lip_class(phone, table) == name]
        for f in _peaks(probabilities[:, members].sum(axis=1), threshold):
            if not any(abs(f - e) <= NEAR for e in emitted):
                found.append((f, tokens[members[probabilities[f, members].argmax()]]))
    return sorted(found)


def _peaks(score: np.ndarray, threshold: float) -> list[int]:
    """Frames where `score` is at least `threshold` and the largest within NEAR frames either side."""
    padded = np.pad(score, NEAR, constant_values=-1.0)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * NEAR + 1)
    top = (score >= threshold) & (score >= windows.max(axis=1))
    frames = np.flatnonzero(top)
    return [int(f) for i, f in enumerate(frames) if i == 0 or f - frames[i - 1] > NEAR]


def phones(found: list[tuple[int, str]], heard: Heard, table: Table) -> list[Segment]:
    """Phone spans: each from its emission less LAG to the next phone's start (at most MAX_PHONE, or while it
    sounds, up to HELD, where none follows); bilabials end at their release, found in the loudness, and
    contacts and roundings last at least MIN_LIP."""
    signal = _signal(heard.loudness)
    following = [_start(f) for f, _ in found[1:]] + [heard.duration]
    spans: list[Segment] = []
    for (frame, phone), next_start, closure in zip(found, following, _next_closures(found, table)):
        span = _span(frame, phone, next_start, spans[-1].end if spans else 0.0, signal, heard.duration, table,
                     closure)
        if span:
            spans.append(span)
    return spans


def _start(frame: int) -> float:
    """When the phone emitted at `frame` started."""
    return max(0.0, frame * STEP - LAG)


def _span(frame: int, phone: str, next_start: float, after: float, signal: Signal, duration: float,
          table: Table, closure: float) -> Segment | None:
    """The span of the phone emitted at `frame`, after the previous span ends (`after`); None if empty.
    `closure` is the next bilabial's start."""
    start = max(_start(frame), after)
    end = min(next_start, start + MAX_PHONE, duration)
    kind = lip_class(phone, table)
    if kind == "closure":
        end = max(end, _release(signal, frame * STEP, start))
    else:
        if kind:  # a closure that follows keeps its start: it wins, as in the constraints
            end = max(end, min(start + MIN_LIP, duration, closure))
        if next_start > end:
            end = _fade(signal, end, min(next_start, start + HELD, duration))
    return Segment(phone, start, end) if end > start else None


def _signal(loudness: np.ndarray, first: int = 0) -> Signal:
    """The loudness with its frame-to-frame rise, smoothed over three frames (a release is the sharpest rise)."""
    return Signal(loudness, np.diff(np.convolve(loudness, np.ones(3) / 3, mode="same"), prepend=loudness[0]), first)


def _fade(signal: Signal, end: float, limit: float) -> float:
    """Where a phone that no other follows until `limit` stops sounding: the first frame from `end`
    on whose loudness is FADE dB under the loudest of the VOICE seconds before `end` (`limit` if none)."""
    lo, mid, hi = (min(max(round(t / FRAME) - signal.first, 0), len(signal.loudness))
                   for t in (end - VOICE, end, limit))
    if mid <= lo or hi <= mid:
        return end
    quiet = np.flatnonzero(signal.loudness[mid:hi] < signal.loudness[lo:mid].max() - FADE)
    return (signal.first + mid + quiet[0]) * FRAME if len(quiet) else limit


def _next_closures(found: list[tuple[int, str]], table: Table) -> list[float]:
    """For each emission, the start of the next bilabial emitted after it (inf: none yet)."""
    closures, closure = [], math.inf
    for frame, phone in reversed(found):
        closures.append(closure)
        if lip_class(phone, table) == "closure":
            closure = _start(frame)
    return closures[::-1]


def _release(signal: Signal, emitted: float, start: float) -> float:
    """The time of the sharpest loudness rise within RELEASE_SEARCH of a bilabial's emission (after its start)."""
    first = signal.first
    lo = max(round((emitted + RELEASE_SEARCH[0]) / FRAME), round(start / FRAME) + 1)
    hi = min(round((emitted + RELEASE_SEARCH[1]) / FRAME), first + len(signal.rise))
    if hi <= lo:
        return start
    return (lo + int(np.argmax(signal.rise[lo - first:hi - first]))) * FRAME


def listen(audio: Audio, progress: Callable[[int, int], None] | None = None) -> Alignment:
    """The phones spoken in `audio` (any language), as an alignment without words."""
    return alignment(hear(audio, progress), audio.duration)


def alignment(heard: Heard, duration: float) -> Alignment:
    """What was heard as an alignment without words, tiling `duration` seconds (the clip's own length)."""
    table = load_table()
    found = emissions(heard.probabilities, heard.tokens, table)
    return Alignment((), tile(phones(found, heard, table), duration), duration, "hama")


class Stream:
    """The same phones as `listen`, from audio that arrives in blocks (live input): feed 16 kHz samples as
    they come; each phone span comes back once settled, at most LOOK_AHEAD seconds of audio after it starts.
    Memory stays bounded: only the audio, probabilities and loudness still needed are kept."""

    def __init__(self) -> None:
        self.table, self.model = load_table(), _model()
        self.tokens = _tokens(self.model)
        self.audio, self.offset, self.total = np.zeros(0, np.float32), 0, 0  # audio[0] is sample `offset`
        self.window = 0  # the next window to hear
        self.probabilities = np.zeros((0, len(self.tokens)), np.float32)
        self.loudness = np.zeros(0, np.float32)
        self.first = [0, 0]  # stream frame of probabilities[0] and of loudness[0]
        self.pending: list[tuple[int, str]] = []  # emissions not yet spans
        self.settled = 0  # emissions before this frame are final
        self.after = 0.0  # end of the last span returned

    def feed(self, samples: np.ndarray) -> list[Segment]:
        """Take the next samples (16 kHz mono float); the phone spans that settled."""
        self.audio = np.concatenate([self.audio, np.asarray(samples, np.float32)])
        self.total += len(samples)
        while self.total >= (self.window + 1) * HOP_SAMPLES + CONTEXT_SAMPLES:
            self._hear_window()
        return self._settle(final=False)

    def close(self) -> list[Segment]:
        """The stream has ended: the remaining spans."""
        while self.window < _windows(self.total):
            self._hear_window()
        return self._settle(final=True)

    def _hear_window(self) -> None:
        probabilities, loudness = _window(self.model, self.audio, self.offset, self.window, self.total)
        self.probabilities = np.concatenate([self.probabilities, probabilities])
        self.loudness = np.concatenate([self.loudness, loudness])
        self.window += 1
        keep = max(0, self.window * HOP_SAMPLES - CONTEXT_SAMPLES)  # the next window's first sample
        self.audio, self.offset = self.audio[keep - self.offset:], keep

    def _settle(self, final: bool) -> list[Segment]:
        known = self.first[0] + len(self.probabilities)
        until = known if final else known - SEEN_AFTER
        if until <= self.settled and not final:
            return []
        begin = max(self.first[0], self.settled - SEEN_BEFORE)
        found = emissions(self.probabilities[begin - self.first[0]:], self.tokens, self.table)
        self.pending += [(begin + f, phone) for f, phone in found if self.settled <= begin + f < until]
        self.settled = until
        duration = self.total / RATE
        signal = _signal(self.loudness, self.first[1])
        closures = _next_closures(self.pending, self.table)  # kept beside pending: each pops with its emission
        spans = []
        while self.pending:
            frame, phone = self.pending[0]
            if len(self.pending) > 1:
                next_start = _start(self.pending[1][0])
            elif final:
                next_start = duration
            else:  # no later emission yet: final only if none could start before this phone's longest end
                next_start = _start(self.settled)
                if max(_start(frame), self.after) + HELD > next_start:
                    break
            closure = closures[0]
            if not final and math.isinf(closure) and max(_start(frame), self.after) + MIN_LIP > _start(self.settled):
                break  # a bilabial still to come could cut this phone's least span short
            span = _span(frame, phone, next_start, self.after, signal, duration, self.table, closure)
            self.pending.pop(0)
            closures.pop(0)
            if span:
                spans.append(span)
                self.after = span.end
        self._forget()
        return spans

    def _forget(self) -> None:
        """Drop the probabilities and loudness no later emission or release can need."""
        drop = max(0, self.settled - SEEN_BEFORE - self.first[0])
        self.probabilities, self.first[0] = self.probabilities[drop:], self.first[0] + drop
        oldest = self.pending[0][0] if self.pending else self.settled
        drop = max(0, round((_start(oldest) - VOICE) / FRAME) - 3 - self.first[1])
        self.loudness, self.first[1] = self.loudness[drop:], self.first[1] + drop
