"""meshsync.features: log-mel, energy, pitch and voicing every 10 ms."""

from __future__ import annotations

import numpy as np

from meshsync.audio import Audio
from meshsync.features import speech_features


def test_features_find_the_pitch_of_a_tone():
    rate = 16000
    t = np.arange(rate) / rate
    tone = Audio((0.3 * np.sin(2 * np.pi * 150 * t)).astype(np.float32), rate)
    features = speech_features(tone)
    middle = features.pitch[10:-10]
    assert features.frames == 101 and features.mel.shape == (101, 40)
    assert np.all(np.abs(middle - 150) < 3), middle[:5]
    assert features.rows().shape == (101, 43)
