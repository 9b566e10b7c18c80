"""Where the transcript and the audio disagree (the alignment's unreliable stretches), listen instead:
the audio-only network's curves and visemes replace the aligned ones there, cross-faded at the edges."""

from __future__ import annotations

import numpy as np

from ..align import Alignment, Segment
from ..audio import Audio
from ..network import predict
from ..visemes import Table

FADE = 0.05  # s


def splice_audio_only(values: np.ndarray, spans: list[Segment], alignment: Alignment, audio: Audio,
                      times: np.ndarray, table: Table) -> tuple[np.ndarray, list[Segment]]:
    heard, heard_spans = predict(audio, None, times, table)
    weight = np.zeros(len(times))
    for start, end in alignment.unreliable:
        inside = np.clip(np.minimum(times - start, end - times) / FADE + 0.5, 0.0, 1.0)
        weight = np.maximum(weight, inside)
    values = values + weight[:, None] * (heard - values)

    def outside(span: Segment) -> bool:
        middle = (span.start + span.end) / 2
        return not any(start <= middle < end for start, end in alignment.unreliable)

    kept = [s for s in spans if outside(s)] + [s for s in heard_spans if not outside(s)]
    return values.astype(np.float32), sorted(kept, key=lambda s: s.start)
