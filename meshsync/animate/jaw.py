"""JALI-style jaw: the jaw opens further in loud speech and less in quiet speech, but stays moderate."""

from __future__ import annotations

import numpy as np

from ..audio import Audio, frame_energy
from ..features import HOP
from ..visemes import Table
from .smooth import gaussian

SMOOTHING = 0.06  # s: loudness at the scale of syllables, not of pitch periods
SPEECH_RANGE = 35.0  # dB below the loud end of the clip that still counts as speech


def loudness_gain(audio: Audio, times: np.ndarray, table: Table) -> np.ndarray:
    """Per-frame jaw gain: 1 at the clip's median speech loudness, `slope` per dB away from it, clamped. The
    face leads the sound by `lead`, so each frame takes the loudness `lead` later: a vowel's jaw opens as far as
    the vowel will be loud, not as quiet as the consonant before it."""
    energy = gaussian(frame_energy(audio, hop=HOP).astype(np.float64), SMOOTHING / HOP)
    loud = np.percentile(energy, 95)
    speech = energy[energy > loud - SPEECH_RANGE]
    reference = np.median(speech) if speech.size else loud
    gain = 1.0 + table.jaw["slope"] * (energy - reference)
    gain = np.clip(gain, table.jaw["min_gain"], table.jaw["max_gain"])
    return np.interp(times + table.timing["lead"], np.arange(len(gain)) * HOP, gain)


def scale_jaw(values: np.ndarray, gain: np.ndarray, table: Table) -> np.ndarray:
    """jawOpen and mouthClose times the gain (so closed lips stay closed), jawOpen capped at `max_open`."""
    values = values.copy()
    jaw, close = table.index("jawOpen"), table.index("mouthClose")
    values[:, jaw] = np.minimum(values[:, jaw] * gain, table.jaw["max_open"])
    values[:, close] = np.minimum(values[:, close] * gain, values[:, jaw])
    return values

