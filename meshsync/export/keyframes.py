"""Keyframe reduction: the fewest keys whose linear interpolation reproduces the curves within a bound."""

from __future__ import annotations

import numpy as np

from ..errors import UserError

DEFAULT_TOLERANCE = 0.005  # in weight: far below what a viewer sees on a face
WINDOW = 256  # frames: a key is kept at least this often, so splitting stays shallow on hours of curves


def check_tolerance(tolerance: float) -> None:
    if not 0 <= tolerance <= 0.5:
        raise UserError(f"--tolerance {tolerance:g} is out of range; use 0 (keep every frame) to 0.5")


def reduce_keys(values: np.ndarray, tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """Indices of the frames to keep (first and last always) so that, between kept frames, straight lines
    stay within `tolerance` of every frame of every channel of `values` (frames, channels).

    Ramer-Douglas-Peucker on the whole vector, so all channels of a node share one set of key times, as
    glTF samplers need: a stretch is split at its worst frame until none is off by more than the bound.
    All open stretches are split together, one numpy pass per level, and the clip starts as windows of
    WINDOW frames (a key at each border costs under 1 % more keys), so the levels stay few on long clips.
    """
    count = len(values)
    data = values.reshape(count, -1).astype(np.float64)
    data = data[:, np.ptp(data, axis=0) > 0]  # constant channels are reproduced by any keys
    starts = np.arange(0, max(count - 1, 1), WINDOW)
    ends = np.minimum(starts + WINDOW, count - 1)
    keep = np.zeros(count, dtype=bool)
    keep[starts] = keep[-1] = True
    while True:
        inside = ends - starts - 1
        starts, ends, inside = starts[inside > 0], ends[inside > 0], inside[inside > 0]
        if not len(starts) or not data.shape[1]:
            return np.flatnonzero(keep)
        segment = np.repeat(np.arange(len(starts)), inside)
        first = np.cumsum(inside) - inside  # where each segment's frames begin in the flat arrays
        frames = starts[segment] + 1 + np.arange(len(segment)) - first[segment]
        share = (frames - starts[segment]) / (ends - starts)[segment]
        line = data[starts[segment]] + share[:, None] * (data[ends[segment]] - data[starts[segment]])
        error = np.abs(data[frames] - line).max(axis=1)
        worst = np.maximum.reduceat(error, first)
        at_worst = np.flatnonzero(error == worst[segment])
        split_at = at_worst[np.r_[True, segment[at_worst][1:] != segment[at_worst][:-1]]]  # first worst frame
        over = worst > tolerance
        splits = frames[split_at][over]
        keep[splits] = True
        starts, ends = np.r_[starts[over], splits], np.r_[splits, ends[over]]
