"""meshsync.eval: the lip-sync metrics notice what they measure (a late mouth, chatter)."""

from __future__ import annotations

import numpy as np
import pytest
from corpus import truth

from meshsync.animate import animate
from meshsync.eval import CLOSED, jitter, measure, sync_lag


def test_metrics_detect_late_mouth_and_chatter(clips, aligned, head):
    audio, alignment = aligned["baby"]
    curves = animate(audio, alignment)
    gap = measure(curves, head).gap
    phones = truth(clips["baby"])
    on_time = sync_lag(gap, phones, curves.fps)
    late = sync_lag(np.concatenate([np.full(6, gap[0]), gap[:-6]]), phones, curves.fps)
    assert late - on_time == pytest.approx(100.0, abs=5.0)  # six frames at 60 fps
    noisy = gap + np.random.default_rng(0).uniform(-0.3, 0.3, len(gap))
    assert jitter(gap, curves.fps) < 0.5 < jitter(noisy, curves.fps)
    assert (gap <= CLOSED).any() and (gap > 5).any()
