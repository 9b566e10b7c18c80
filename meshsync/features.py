"""Audio features every 10 ms for the animation network: log-mel bands, energy, pitch and voicing.

Frame i is centred on time i * HOP. Everything is computed at 16 kHz in blocks of frames, so memory stays
flat however long the clip is.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from .audio import Audio, frame_energy

RATE = 16000
HOP = 0.01
N_FFT = 512  # 32 ms
WINDOW = 400  # 25 ms Hann window inside the FFT frame
N_MELS = 40
F_MIN, F_MAX = 60.0, 7600.0
PITCH_RATE = 8000  # pitch needs no more bandwidth, and half the rate is half the work
PITCH_WINDOW = 320  # 40 ms: two periods of a 60 Hz voice
PITCH_RANGE = (60.0, 400.0)  # Hz
OCTAVE_TOLERANCE = 0.9  # a shorter period wins when its correlation is at least this share of the best
BLOCK = 2048  # frames per FFT block


@dataclass(frozen=True)
class Features:
    """Per-frame features; `rows` stacks them for the network (mel, energy, log-pitch, voicing)."""

    mel: np.ndarray  # (T, N_MELS) log power
    energy: np.ndarray  # (T,) dBFS
    pitch: np.ndarray  # (T,) Hz, 0 where unvoiced
    voicing: np.ndarray  # (T,) peak normalised autocorrelation in [0, 1]

    @property
    def frames(self) -> int:
        return len(self.energy)

    def rows(self) -> np.ndarray:
        """(T, N_MELS + 3) float32, each column normalised over the clip (robust to gain and voice)."""
        log_pitch = np.where(self.pitch > 0, np.log2(np.maximum(self.pitch, 1.0)), 0.0)
        voiced = self.pitch > 0
        if voiced.any():  # centre the voiced pitch on the speaker's median: the network sees intonation
            log_pitch = np.where(voiced, log_pitch - np.median(log_pitch[voiced]), 0.0)
        columns = np.column_stack([_standardise(self.mel), _standardise(self.energy[:, None]), log_pitch,
                                   self.voicing])
        return columns.astype(np.float32)


def speech_features(audio: Audio) -> Features:
    """Log-mel, energy, pitch and voicing every HOP seconds."""
    audio = audio.resampled(RATE)
    count = len(audio.samples) // round(HOP * RATE) + 1
    mel = np.concatenate([_log_mel(audio.samples, start, min(start + BLOCK, count))
                          for start in range(0, count, BLOCK)])
    narrow = audio.resampled(PITCH_RATE).samples
    pitch, voicing = zip(*(_pitch(narrow, start, min(start + BLOCK, count))
                           for start in range(0, count, BLOCK)))
    energy = frame_energy(audio, hop=HOP)[:count]
    return Features(mel, energy, np.concatenate(pitch), np.concatenate(voicing))


def _frames(samples: np.ndarray, start: int, stop: int, size: int, rate: int = RATE) -> np.ndarray:
    """Frames `start..stop` of `size` samples centred on i * hop (zero-padded at the edges)."""
    step = round(HOP * rate)
    first = start * step - size // 2
    span = samples[max(first, 0): max((stop - 1) * step + size - size // 2, 0)]
    padded = np.pad(span, (max(-first, 0), 0))
    needed = (stop - start - 1) * step + size
    padded = np.pad(padded, (0, max(needed - len(padded), 0)))
    view = np.lib.stride_tricks.sliding_window_view(padded, size)[::step]
    return view[: stop - start].astype(np.float32)


def _log_mel(samples: np.ndarray, start: int, stop: int) -> np.ndarray:
    frames = _frames(samples, start, stop, WINDOW) * np.hanning(WINDOW).astype(np.float32)
    power = np.abs(np.fft.rfft(frames, n=N_FFT)) ** 2
    return np.log(power @ _mel_filters() + 1e-8).astype(np.float32)


def _pitch(samples: np.ndarray, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation pitch: the best lag in PITCH_RANGE, normalised by the window's own correlation."""
    frames = _frames(samples, start, stop, PITCH_WINDOW, PITCH_RATE)
    frames = frames - frames.mean(axis=1, keepdims=True)
    window = np.hanning(PITCH_WINDOW).astype(np.float32)
    n = 2 * PITCH_WINDOW
    corr = np.fft.irfft(np.abs(np.fft.rfft(frames * window, n=n)) ** 2, n=n)
    norm = np.fft.irfft(np.abs(np.fft.rfft(window, n=n)) ** 2, n=n)  # the window's bias at each lag
    low, high = int(PITCH_RATE / PITCH_RANGE[1]), int(PITCH_RATE / PITCH_RANGE[0])
    lags = corr[:, low:high] / norm[low:high]
    best = _first_period(lags)
    voicing = np.clip(lags[np.arange(len(best)), best] / np.maximum(corr[:, 0] / norm[0], 1e-10), 0.0, 1.0)
    pitch = np.where(voicing > 0.5, PITCH_RATE / (best + low), 0.0)
    return pitch.astype(np.float32), voicing.astype(np.float32)


def _first_period(lags: np.ndarray) -> np.ndarray:
    """Per frame, the shortest lag at a correlation peak nearly as high as the best: a periodic signal also
    correlates at two and three periods, and taking the overall best there halves the pitch."""
    peaks = np.zeros_like(lags, dtype=bool)
    peaks[:, 1:-1] = (lags[:, 1:-1] >= lags[:, :-2]) & (lags[:, 1:-1] >= lags[:, 2:])
    strong = peaks & (lags >= OCTAVE_TOLERANCE * lags.max(axis=1, keepdims=True))
    return np.where(strong.any(axis=1), strong.argmax(axis=1), lags.argmax(axis=1))


@cache
def _mel_filters() -> np.ndarray:
    """(N_FFT // 2 + 1, N_MELS) triangular filters, equally spaced on the mel scale."""
    def mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    edges = hz(np.linspace(mel(F_MIN), mel(F_MAX), N_MELS + 2))
    bins = np.fft.rfftfreq(N_FFT, 1.0 / RATE)
    rising = (bins[:, None] - edges[None, :-2]) / (edges[1:-1] - edges[:-2])
    falling = (edges[None, 2:] - bins[:, None]) / (edges[2:] - edges[1:-1])
    return np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean(axis=0)) / (values.std(axis=0) + 1e-5)
