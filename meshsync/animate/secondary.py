"""Secondary motion: blinks, head motion that follows the speech, and a steady gaze with small saccades.

The last pass: it writes only the blink, gaze and head/eye rotation channels, so the mouth is untouched.
Each kind of motion draws from its own stream of one seeded generator, so a clip and a seed always give
the same motion. Amounts and timings are data in motion.toml.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from ..audio import Audio
from ..channels import HEAD_ROTATIONS, channel_names
from ..features import HOP, speech_features
from .smooth import gaussian

SPEECH_RANGE = 30.0  # dB: frames within this of the clip's loud end count as speech
PAUSE = 0.25  # s: a silence at least this long is a pause (blinks gather there)
EYE_CHANNELS = {  # (yaw channel, pitch channel, gaze targets for +yaw, -yaw) per eye
    "Left": ("leftEyeYaw", "leftEyePitch", "eyeLookOutLeft", "eyeLookInLeft"),
    "Right": ("rightEyeYaw", "rightEyePitch", "eyeLookInRight", "eyeLookOutRight"),
}


MOTION = Path(__file__).with_name("motion.toml")


@cache
def load_motion(path: Path = MOTION) -> Mapping[str, Mapping]:
    with path.open("rb") as f:
        return MappingProxyType(tomllib.load(f))


@dataclass(frozen=True)
class Prosody:
    """What the head follows, per animation frame."""

    pitch: np.ndarray  # voice pitch in standard deviations from the speaker's median, 0 when unvoiced
    emphasis: np.ndarray  # loudness above the speech median, 0..1
    speaking: np.ndarray  # bool
    pauses: np.ndarray  # start times (s) of pauses of at least PAUSE seconds


def add_secondary_motion(values: np.ndarray, audio: Audio, times: np.ndarray, seed: int = 0) -> np.ndarray:
    """`values` (frames, channels) with blinks, head rotation and gaze written in; a new array."""
    motion = load_motion()
    prosody = speech_prosody(audio, times)
    head_rng, blink_rng, gaze_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(3))
    fps = 1.0 / (times[1] - times[0]) if len(times) > 1 else 1.0
    head = head_motion(prosody, times, fps, head_rng, motion["head"])
    blink = blinks(prosody.pauses, times, blink_rng, motion["blink"])
    gaze = gaze_points(times, gaze_rng, motion["gaze"])
    eyes = gaze - head[:, :2]  # the eyes counter-rotate to hold the gaze while the head moves
    out = values.copy()
    names = channel_names()
    column = {name: i for i, name in enumerate(names)}
    for i, name in enumerate(HEAD_ROTATIONS):
        out[:, column[name]] = np.radians(head[:, i])
    out[:, column["eyeBlinkLeft"]] = out[:, column["eyeBlinkRight"]] = blink
    look = motion["gaze"]["look_range"]
    for side, (yaw, pitch, positive, negative) in EYE_CHANNELS.items():
        out[:, column[yaw]], out[:, column[pitch]] = np.radians(eyes[:, 0]), np.radians(eyes[:, 1])
        toward_left, away = np.maximum(eyes[:, 0], 0), np.maximum(-eyes[:, 0], 0)
        out[:, column[positive]] = toward_left / look["out" if side == "Left" else "in"]
        out[:, column[negative]] = away / look["in" if side == "Left" else "out"]
        out[:, column[f"eyeLookDown{side}"]] = np.maximum(eyes[:, 1], 0) / look["down"]
        out[:, column[f"eyeLookUp{side}"]] = np.maximum(-eyes[:, 1], 0) / look["up"]
    return out


def speech_prosody(audio: Audio, times: np.ndarray) -> Prosody:
    """Pitch, loudness emphasis and speech/pause from the audio, sampled at the frame times."""
    features = speech_features(audio)
    loud_end = np.percentile(features.energy, 95)
    speaking = features.energy > loud_end - SPEECH_RANGE
    voiced = features.pitch > 0
    pitch = np.zeros(features.frames)
    if voiced.sum() > 1:
        log_pitch = np.log2(features.pitch[voiced])
        pitch[voiced] = (log_pitch - np.median(log_pitch)) / (log_pitch.std() + 1e-6)
    median = np.median(features.energy[speaking]) if speaking.any() else loud_end
    emphasis = np.clip((features.energy - median) / 10.0, 0.0, 1.0)
    at = np.clip(np.round(times / HOP).astype(int), 0, features.frames - 1)
    return Prosody(pitch[at], emphasis[at], speaking[at], _pause_starts(speaking))


def _pause_starts(speaking: np.ndarray) -> np.ndarray:
    """Start times of the silent runs at least PAUSE long that follow speech."""
    edges = np.diff(np.r_[0, (~speaking).astype(np.int8), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = (ends - starts) * HOP >= PAUSE
    return starts[keep & (starts > 0)] * HOP


def head_motion(prosody: Prosody, times: np.ndarray, fps: float, rng: np.random.Generator,
                settings: Mapping) -> np.ndarray:
    """(frames, 3) yaw, pitch, roll in degrees: slow wandering, the head rising with the voice's pitch and
    dipping with loudness, all smoothed like a heavy object, within soft limits."""
    low, high = settings["drift_hz"]
    drift = np.zeros((len(times), 3))
    for axis, amount in enumerate(settings["drift"]):
        freqs, phases = rng.uniform(low, high, 3), rng.uniform(0, 2 * np.pi, 3)
        waves = np.sin(2 * np.pi * freqs[None, :] * times[:, None] + phases[None, :]).sum(axis=1)
        drift[:, axis] = amount * waves / np.sqrt(1.5)  # three unit sines have an RMS of sqrt(1.5)
    activity = gaussian(prosody.speaking.astype(float), 0.5 * fps)
    head = drift * (0.5 + 0.5 * activity)[:, None]
    head[:, 1] += settings["nod"] * prosody.emphasis - settings["pitch_follow"] * prosody.pitch
    head = gaussian(head, settings["smoothing"] * fps)
    limit = np.asarray(settings["limit"])
    return limit * np.tanh(head / limit)


def blinks(pauses: np.ndarray, times: np.ndarray, rng: np.random.Generator, settings: Mapping) -> np.ndarray:
    """Eyelid closure 0..1 per frame: blinks at gamma-distributed intervals, drawn to nearby pause starts."""
    duration = times[-1] if len(times) else 0.0
    shape, mean, shortest = settings["regularity"], settings["interval"], settings["min_interval"]
    moments, t = [], rng.uniform(0.3, mean)
    while t < duration:
        near = pauses[np.abs(pauses - t) <= settings["snap"]]
        snapped = near[0] + 0.05 if len(near) else t
        if not moments or snapped - moments[-1] >= shortest:
            moments.append(snapped)
        t = moments[-1] + max(shortest, rng.gamma(shape, mean / shape))
    closure = np.zeros(len(times))
    close, hold, reopen = settings["close"], settings["hold"], settings["open"]
    for start in moments:
        s = times - start
        shut = np.where(s < close, _ease(s / close), np.where(s < close + hold, 1.0,
                                                                _ease(1 - (s - close - hold) / reopen)))
        closure = np.maximum(closure, np.where((s >= 0) & (s <= close + hold + reopen), shut, 0.0))
    return closure


def gaze_points(times: np.ndarray, rng: np.random.Generator, settings: Mapping) -> np.ndarray:
    """(frames, 2) gaze yaw and pitch in degrees: fixations near the viewer joined by quick saccades."""
    duration = times[-1] if len(times) else 0.0
    starts, points = [0.0], [np.zeros(2)]
    while starts[-1] < duration:
        starts.append(starts[-1] + max(settings["min_fixation"], rng.exponential(settings["fixation"])))
        spread = settings["aversion_spread"] if rng.random() < settings["aversion"] else settings["spread"]
        points.append(rng.normal(0.0, spread))
    starts, points = np.asarray(starts), np.asarray(points)
    current = np.searchsorted(starts, times, side="right") - 1
    previous = np.maximum(current - 1, 0)
    progress = _ease((times - starts[current]) / settings["saccade"])[:, None]
    return points[previous] + (points[current] - points[previous]) * progress


def _ease(x: np.ndarray) -> np.ndarray:
    """Cosine ease from 0 (x <= 0) to 1 (x >= 1)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))
