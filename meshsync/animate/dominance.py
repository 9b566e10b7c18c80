"""Cohen-Massaro dominance blending: every viseme span pulls the face toward its pose with a strength that is
full during the span and falls off before (anticipation) and after (carry-over); the face is the weighted mean.

Lips and jaw blend separately, so a /t/ between two rounded vowels keeps the lips rounded while its jaw rises.
"""

from __future__ import annotations

import numpy as np

from ..align import Segment
from ..visemes import SILENCE_VISEME, Table

FALLOFF = 3.0  # exp(-3) = 5 %: the dominance left at the anticipation or carry-over width
FLOOR = 1e-6  # a faint pull toward rest keeps the mean defined far from every span


def blend(spans: list[Segment], times: np.ndarray, table: Table) -> np.ndarray:
    """(frames, channels) blended poses at `times`; spans are shifted `lead` seconds earlier than the sound."""
    timing = table.timing
    lead, after = timing["lead"], timing["after"]
    jaw = table.jaw_mask
    total = np.zeros((len(times), len(table.names)), dtype=np.float64)
    weight = np.full((len(times), 2), FLOOR)  # columns: lips, jaw
    for span, before in zip(spans, _anticipation(spans, table)):
        viseme = table.visemes[span.label]
        start, end = span.start - lead, span.end - lead
        lo, hi = np.searchsorted(times, [start - before, end + after])
        t = times[lo:hi]
        distance = np.where(t < start, (start - t) / before, np.maximum(t - end, 0.0) / after)
        falloff = np.exp(-FALLOFF * distance**2)[:, None] * np.array([viseme.lips, viseme.jaw])
        weight[lo:hi] += falloff
        total[lo:hi] += np.where(jaw, falloff[:, 1:], falloff[:, :1]) * viseme.pose
    return (total / np.where(jaw, weight[:, 1:], weight[:, :1])).astype(np.float32)


def _anticipation(spans: list[Segment], table: Table) -> list[float]:
    """Each span's anticipation: its viseme's own, or the longer `onset` after a pause."""
    result = []
    for i, span in enumerate(spans):
        before = table.visemes[span.label].before
        previous = spans[i - 1] if i else None
        if previous is None or (previous.label == SILENCE_VISEME and
                                previous.end - previous.start >= table.timing["pause"]):
            before = max(before, table.timing["onset"])
        result.append(before)
    return result
