"""meshsync.network: the audio-only lip-sync network on voices it was not trained on, with the constraints
holding its decoded visemes."""

from __future__ import annotations

from corpus import truth

from meshsync.animate import animate
from meshsync.audio import load_audio
from meshsync.eval import evaluate


def test_audio_only_network_rests_in_pauses_keeps_sync_and_closes_some_bilabials(clips, head):
    """Without a transcript. Its bilabial closure on unseen voices (48 % on the benchmark) is below the
    issue's 90 % target: this checks what it does today, so a worse model fails."""
    closure, rest = [0, 0], [0, 0]
    for name, wav in clips.items():
        scores = evaluate(animate(load_audio(wav)), truth(wav), head)
        for total, counts in ((closure, scores.closure), (rest, scores.rest)):
            total[0] += counts[0]
            total[1] += counts[1]
        assert -40 <= scores.lags[0] <= 40, (name, scores.lags)
    assert rest[0] == rest[1] >= 6, rest
    assert closure[0] >= 0.45 * closure[1], closure
