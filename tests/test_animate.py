"""Animation: curves from MBROLA sentences (exact phone timings) measured on the default head's geometry."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync
from corpus import SENTENCES, truth
from PIL import Image

from meshsync.align import SILENCE, Alignment, Segment
from meshsync.align.plot import AXIS_HEIGHT, TIER_HEIGHT
from meshsync.align.speech import SpeechOptions, align_speech
from meshsync.animate import AnimationOptions, Curves, animate
from meshsync.animate.plot import CHANNELS, GAP_HEIGHT, ROW_HEIGHT
from meshsync.audio import Audio, load_audio
from meshsync.channels import ROTATIONS, arkit_names
from meshsync.eval import CLOSED, STILL, Scores, evaluate, measure
from meshsync.export.livelink import columns
from meshsync.visemes import load_table


def test_text_aligned_closes_on_every_bilabial_rests_in_silence_and_leads_the_sound(clips, aligned, head):
    tested = {"closure": 0, "labiodental": 0, "rest": 0}
    for name, (audio, alignment) in aligned.items():
        scores = evaluate(animate(audio, alignment), truth(clips[name]), head)
        for metric in tested:
            passed, total = getattr(scores, metric)
            assert passed == total, (name, scores.misses)
            tested[metric] += total
        assert -80 <= scores.lags[0] <= 10, (name, scores.lags)
        assert scores.jitter[0] < 0.5
    assert tested["closure"] >= 12 and tested["labiodental"] >= 6 and tested["rest"] >= 6, tested


def test_vowels_open_spread_and_round_as_a_speakers_do(clips, aligned, head):
    """The articulation targets (docs/articulation.md) on the test sentences: open vowels part the lips by 9 mm
    or more, open > mid > close, spread vowels widen the mouth, rounded ones narrow it by 15 % or more, and the
    lip gap does not chatter."""
    scores = Scores()
    for name, (audio, alignment) in aligned.items():
        scores.add(evaluate(animate(audio, alignment), truth(clips[name]), head))
    assert scores.median("open_gap") >= 9.0, scores.articulation()
    assert scores.median("open_gap") > scores.median("mid_gap") > scores.median("close_gap"), scores.articulation()
    assert scores.median("spread_width") >= 0.05 and scores.median("rounded_width") <= -0.15, scores.articulation()
    assert len(scores.rounded_width) >= 4 and len(scores.open_gap) >= 10
    assert max(scores.jitter) <= 0.5


def test_lips_at_rest_stay_sealed_into_a_bilabial_after_a_pause(head):
    # "Po..." after a pause: the lips go from rest straight into the p's closure, never parting on the way
    # (before, the blend showed between the rest's release and the closure's attack: a flicker at each onset)
    phones = (Segment(SILENCE, 0.0, 0.28), Segment("p", 0.28, 0.36), Segment("oʊ", 0.36, 0.5),
              Segment(SILENCE, 0.5, 0.8))
    audio = Audio(np.random.default_rng(0).normal(0, 0.01, 12800).astype(np.float32), 16000)
    curves = animate(audio, Alignment((), phones, 0.8, "test"))
    gap = measure(curves, head).gap
    inside_p = round(0.32 * curves.fps)
    assert gap[inside_p] <= CLOSED
    assert gap[:inside_p].max() <= gap[inside_p] + STILL, gap[:inside_p]


def test_the_articulation_dial_scales_the_mouth_but_never_opens_a_closure(clips, aligned, head):
    gaps = []
    for amount in (0.5, 1.0, 1.5):
        scores = Scores()
        for name in ("map", "baby"):
            audio, alignment = aligned[name]
            scores.add(evaluate(animate(audio, alignment, AnimationOptions(articulation=amount)),
                                truth(clips[name]), head))
        assert scores.closure[0] == scores.closure[1] >= 12, (amount, scores.misses)
        assert scores.labiodental[0] == scores.labiodental[1], (amount, scores.misses)
        gaps.append(scores.median("open_gap"))
    assert gaps[0] < 0.7 * gaps[1] and gaps[2] > 1.3 * gaps[1], gaps


def test_curves_shape_and_channels(aligned):
    audio, alignment = aligned["baby"]
    curves = animate(audio, alignment, AnimationOptions(fps=30))
    assert curves.names == arkit_names() + ROTATIONS and len(curves.names) == 61
    assert curves.values.dtype == np.float32 and curves.frames == round(audio.duration * 30)
    shapes = curves.values[:, :len(arkit_names())]
    assert shapes.min() >= 0 and shapes.max() <= 1
    assert curves.channel("jawOpen").max() <= load_table().jaw["max_open"]  # the cap holds
    still = animate(audio, alignment, AnimationOptions(fps=30, still=True))
    assert not still.values[:, still.names.index("headYaw"):].any()  # no secondary motion: no rotations
    mouth = [i for i, name in enumerate(curves.names) if name.startswith(("jaw", "mouth", "tongue"))]
    assert np.array_equal(still.values[:, mouth], curves.values[:, mouth])  # secondary motion leaves the mouth


@pytest.mark.parametrize("fps", [24, 25, 100])
def test_closure_holds_at_any_frame_rate(clips, aligned, head, fps):
    audio, alignment = aligned["map"]
    scores = evaluate(animate(audio, alignment, AnimationOptions(fps=fps)), truth(clips["map"]), head)
    assert scores.closure[0] == scores.closure[1], scores.misses


def test_same_input_gives_identical_curves(aligned):
    audio, alignment = aligned["five"]
    for method in ("rules", "network"):
        options = AnimationOptions(method=method)
        first, second = animate(audio, alignment, options), animate(audio, alignment, options)
        assert first.values.tobytes() == second.values.tobytes()
    first, second = animate(audio, None), animate(audio, None)
    assert first.values.tobytes() == second.values.tobytes()


def test_unreliable_stretches_fall_back_to_listening(clips, aligned, head):
    audio, _ = aligned["map"]
    partial = align_speech(audio, SpeechOptions("Mom bought plums and apples."))  # the second sentence is missing
    assert partial.unreliable
    start, end = partial.unreliable[-1]
    rules_only = animate(audio, replace(partial, unreliable=()))
    spliced = animate(audio, partial)
    inside = (spliced.times > start + 0.1) & (spliced.times < end - 0.1)
    assert not np.array_equal(spliced.values[inside], rules_only.values[inside])
    gap = measure(spliced, head).gap[inside]
    assert gap.max() > 5 and gap.min() <= CLOSED  # the mouth talks there, and closes on "please", "map", "Bob"


def test_louder_speech_opens_the_jaw_further(aligned):
    audio, alignment = aligned["baby"]
    quiet = Audio(audio.samples * 0.1, audio.rate)
    jaw = animate(audio, alignment).channel("jawOpen")
    # the same clip at -20 dB: same loudness relative to itself, same jaw
    assert np.allclose(animate(quiet, alignment).channel("jawOpen"), jaw, atol=1e-3)
    loud_end = audio.samples.copy()
    half = len(loud_end) // 2
    loud_end[half:] *= 3.0
    louder = animate(Audio(np.clip(loud_end, -1, 1), audio.rate), alignment).channel("jawOpen")
    second = slice(round(len(jaw) * 0.55), None)
    assert louder[second].sum() > jaw[second].sum() * 1.05


def test_cli_writes_live_link_csv_json_and_dope_sheet(clips, tmp_path):
    wav = clips["baby"]
    csv, js, png = tmp_path / "c.csv", tmp_path / "c.json", tmp_path / "c.png"
    result = meshsync("animate", str(wav), "--text", SENTENCES["baby"], "-o", str(csv), "--plot", str(png))
    assert result.returncode == 0, result.stderr
    lines = csv.read_text().splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["Timecode", "BlendShapeCount", "EyeBlinkLeft"] and header[-1] == "RightEyeRoll"
    assert len(header) == 63 and tuple(header[2:]) == columns()
    first, one_second = lines[1].split(","), lines[61].split(",")
    assert first[:2] == ["00:00:00:00.000", "61"] and one_second[0] == "00:00:01:00.000"
    assert len(first) == 63 and all(0 <= float(v) <= 1 for v in first[2:54])
    with Image.open(png) as sheet:  # the lip gap's row (mm) above the nine channels and the two tiers
        assert sheet.height == GAP_HEIGHT + len(CHANNELS) * ROW_HEIGHT + 2 * TIER_HEIGHT + AXIS_HEIGHT

    result = meshsync("animate", str(wav), "-o", str(js), "--fps", "30", "--method", "network")
    assert result.returncode == 0, result.stderr
    data = json.loads(js.read_text())
    assert data["fps"] == 30 and data["mode"] == "audio-only" and data["method"] == "network"
    assert len(data["values"]) == data["frames"] == round(load_audio(wav).duration * 30)
    assert data["names"][:1] == ["browDownLeft"] and data["alignment"] is None


def test_cli_without_transcript_recognises_the_phones_and_closes_the_lips(clips, head, tmp_path):
    closure = [0, 0]
    for name, wav in clips.items():
        out = tmp_path / f"{name}.json"
        result = meshsync("animate", str(wav), "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert "recognising the phones" in result.stderr
        data = json.loads(out.read_text())
        assert data["mode"] == "audio-only, recognised phones" and data["method"] == "rules"
        assert len(data["alignment"]["phones"]) >= 20
        curves = Curves(data["fps"], tuple(data["names"]), np.array(data["values"], dtype=np.float32))
        scores = evaluate(curves, truth(wav), head)
        closure[0] += scores.closure[0]
        closure[1] += scores.closure[1]
        assert -125 <= scores.lags[0] <= 45, (name, scores.lags)  # within what viewers notice (ITU-R BT.1359)
    assert closure[0] >= 0.9 * closure[1], closure


def test_cli_files_are_byte_identical_across_runs(clips, tmp_path):
    wav = clips["five"]
    for suffix in (".csv", ".json"):
        outputs = [tmp_path / f"{i}{suffix}" for i in range(2)]
        for out in outputs:
            assert meshsync("animate", str(wav), "--text", SENTENCES["five"], "-o", str(out)).returncode == 0
        assert outputs[0].read_bytes() == outputs[1].read_bytes()


@pytest.mark.parametrize("args, message", [
    (["-o", "{tmp}/c.txt"], ".csv (Live Link Face)"),
    (["-o", "{tmp}/c.csv", "--fps", "0"], "out of range"),
    (["-o", "{tmp}/c.csv", "--plot", "{tmp}/p.jpg"], "PNG"),
    (["-o", "{tmp}/c.csv", "--workers", "0"], "--workers"),
    (["-o", "{tmp}/missing/c.csv"], "does not exist"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(clips, tmp_path, args, message):
    args = [a.format(tmp=tmp_path) for a in args]
    result = meshsync("animate", str(clips["baby"]), *args)
    assert_one_line_error(result, message)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
