"""Constraints that always win over the blend: lips sealed on p/b/m, lower lip on the upper teeth on f/v,
lips rounded on oo, oh and w, the mouth at rest in pauses. Each holds its pose over a window and eases in
and out of it, so it adds no jump; a window always covers at least one frame, whatever the frame rate.
"""

from __future__ import annotations

import numpy as np

from ..align import Segment
from ..visemes import CLOSURE, CONTACT, ROUNDED, ROUNDING_CHANNELS, SILENCE_VISEME, Table


def apply_constraints(values: np.ndarray, spans: list[Segment], times: np.ndarray, duration: float,
                      table: Table, articulation: float = 1.0) -> np.ndarray:
    """Rest, labiodental contact, rounding (as far as the style dial `articulation` rounds), then bilabial
    closure: later ones win where they overlap."""
    values = values.copy()
    t = table.timing
    mouth = table.mouth
    rest = np.zeros(len(table.names), dtype=np.float32)
    rests = rest_windows(spans, duration, table)
    for start, end, attack, release in rests:
        _hold(values, times, rest, mouth, start, end, attack, release)
    for span in spans:
        if span.label == CONTACT:
            _hold(values, times, table.visemes[CONTACT].pose, mouth, span.start - t["contact_lead"],
                  span.end - t["contact_lead"], t["contact_attack"], t["closure_open"])
    rounding = np.isin(table.names, ROUNDING_CHANNELS)
    for span in spans:
        if span.label in ROUNDED:
            pose = np.minimum(table.visemes[span.label].pose * articulation, 1.0)
            _hold(values, times, pose, rounding, span.start - t["rounding_lead"],
                  span.end - t["rounding_lead"], t["rounding_ramp"], t["rounding_ramp"])
    for span in spans:
        if span.label == CLOSURE:
            start, end = closure_window(span, table)
            _hold(values, times, table.visemes[CLOSURE].pose, mouth, _from_rest(start, rests, t["closure_attack"]),
                  end, t["closure_attack"], t["closure_open"])
    return values


def closure_window(span: Segment, table: Table) -> tuple[float, float]:
    """Lips sealed from just before the p/b/m sound to its release, for 40-120 ms.

    The release is where the sound ends (the burst of p/b, the end of m's murmur), `release_lead` early:
    the lips may open a little before the sound, never after.
    """
    t = table.timing
    release = span.end - t["release_lead"]
    start = max(release - t["closure_max"], min(span.start - t["closure_lead"], release - t["closure_min"]))
    return start, release


def _from_rest(start: float, rests: list[tuple[float, float, float, float]], attack: float) -> float:
    """Where a closure starting at `start` starts: `attack` after a rest ends if it starts as the mouth leaves
    that rest, so that lips sealed at rest close straight into a p/b/m after a pause instead of parting on the
    way (the pause itself stays at rest)."""
    return next((min(start, end + attack) for _, end, _, release in rests if end <= start <= end + release), start)


def rest_windows(spans: list[Segment], duration: float, table: Table) -> list[tuple[float, float, float, float]]:
    """(start, end, attack, release) of rest in every silence of at least `pause` seconds."""
    t = table.timing
    windows = []
    for i, span in enumerate(spans):
        length = span.end - span.start
        if span.label != SILENCE_VISEME or length < t["pause"]:
            continue
        attack = t["rest_release"] if i > 0 else 0.0
        onset = min(t["onset"], length - attack - 0.04) if i < len(spans) - 1 else 0.0
        windows.append((span.start + attack, min(span.end - onset, duration), attack, onset))
    return windows


def _hold(values: np.ndarray, times: np.ndarray, pose: np.ndarray, channels: np.ndarray, start: float,
          end: float, attack: float, release: float) -> None:
    """Blend `channels` of `values` toward `pose`: fully over [start, end], with cosine ramps either side."""
    lo, hi = np.searchsorted(times, [start, end], side="left")
    if hi <= lo:  # no frame inside the window: the nearest frame to its middle holds the pose
        lo = min(round((start + end) / 2 * _rate(times)), len(times) - 1)
        hi = lo + 1
        start, end = times[lo], times[lo]
    a, b = np.searchsorted(times, [start - attack, end + release])
    span = times[a:b]
    weight = np.ones(len(span))
    rising, falling = span < start, span > end
    weight[rising] = _ease((span[rising] - (start - attack)) / max(attack, 1e-9))
    weight[falling] = _ease(((end + release) - span[falling]) / max(release, 1e-9))
    weight[lo - a:hi - a] = 1.0
    block = values[a:b][:, channels]
    values[a:b, channels] = block + weight[:, None] * (pose[channels] - block)


def _ease(x: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def _rate(times: np.ndarray) -> float:
    return 1.0 / (times[1] - times[0]) if len(times) > 1 else 1.0
