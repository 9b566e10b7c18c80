"""How far the mouth moves. Vowels reach their targets: the dominance blend averages each vowel with its
neighbours, so on its own a short vowel never gets near its pose; over each vowel the face is pulled toward the
vowel's own pose, by a share that falls with the vowel's length as real speakers' undershoot does (Lindblom
1963: the shorter the vowel, the faster the speech, the further it falls short). Then the style dial scales
every movement of the mouth from rest (opening, spreading, rounding); the constraints that follow seal p/b/m
and put f/v on the teeth whatever it is."""

from __future__ import annotations

import numpy as np

from ..align import Segment
from ..visemes import Table


def reach_targets(values: np.ndarray, spans: list[Segment], times: np.ndarray, table: Table) -> np.ndarray:
    """`values` pulled toward the poses of the vowel spans: each by `reach` x (1 - exp(-length / reach_time))
    over its span (shifted `reach_lead` earlier), easing in and out over `reach_ramp` either side.
    Where two pulls overlap (the halves of a diphthong) the target is their weighted mean, the pull the
    stronger one."""
    timing = table.timing
    mouth = table.mouth
    weight = np.zeros(len(times))
    target = np.zeros((len(times), int(mouth.sum())))
    pull = np.zeros(len(times))
    for span, length in zip(spans, _nucleus_lengths(spans, table)):
        viseme = table.visemes[span.label]
        if not viseme.vowel:
            continue
        start, end, ramp = span.start - timing["reach_lead"], span.end - timing["reach_lead"], timing["reach_ramp"]
        lo, hi = np.searchsorted(times, [start - ramp, end + ramp])
        outside = np.maximum(start - times[lo:hi], times[lo:hi] - end).clip(0.0, ramp) / ramp
        share = timing["reach"] * (1.0 - np.exp(-length / timing["reach_time"]))
        w = share * (0.5 + 0.5 * np.cos(np.pi * outside))  # the share over the span, 0 a ramp away
        weight[lo:hi] += w
        target[lo:hi] += w[:, None] * viseme.pose[mouth]
        pull[lo:hi] = np.maximum(pull[lo:hi], w)
    reached = weight > 0
    values = values.copy()
    block = values[reached][:, mouth]
    goal = target[reached] / weight[reached, None]
    values[np.ix_(reached, mouth)] = block + pull[reached, None] * (goal - block)
    return values


def _nucleus_lengths(spans: list[Segment], table: Table) -> list[float]:
    """Each span's vowel nucleus: the length of the run of vowel spans it belongs to (a diphthong's two halves
    are one gesture of the speaker's), 0 for other spans."""
    runs: list[list[int]] = []  # indices of touching vowel spans
    for k, span in enumerate(spans):
        if not table.visemes[span.label].vowel:
            continue
        if runs and runs[-1][-1] == k - 1 and span.start <= spans[k - 1].end:
            runs[-1].append(k)
        else:
            runs.append([k])
    lengths = [0.0] * len(spans)
    for run in runs:
        for k in run:
            lengths[k] = spans[run[-1]].end - spans[run[0]].start
    return lengths


def articulate(values: np.ndarray, amount: float, table: Table) -> np.ndarray:
    """The mouth channels scaled by `amount` (0.5 subtle, 1 natural, 1.5 clear): rest stays rest, and jawOpen
    with mouthClose keep their ratio, so lips the blend seals stay sealed."""
    if amount == 1.0:
        return values
    values = values.copy()
    values[:, table.mouth] *= amount
    return values
