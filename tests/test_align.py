"""Alignment: PocketSphinx against MBROLA speech with exact phone timings, mismatches, TextGrids, the CLI."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import make_corpus
import numpy as np
import pytest
import soundfile
from bench_align import boundary_errors
from cli_helpers import assert_one_line_error, meshsync
from corpus import SENTENCES, make_clip, truth

from meshsync.align import SILENCE, UNKNOWN
from meshsync.align.pocketsphinx import align, split_at_pauses
from meshsync.align.textgrid import read_textgrid, write_textgrid
from meshsync.audio import frame_energy, load_audio
from meshsync.text import normalize, pronounce

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SENTENCE = SENTENCES["baby"]


def synthesise(folder: Path, name: str, text: str, snr: float | None = None) -> Path:
    """A clip in MBROLA's us1 voice (the animation tests speak us2)."""
    return make_clip(folder, name, text, "us1", snr)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return synthesise(tmp_path_factory.mktemp("speech"), "baby", SENTENCE)


def true_phones(wav: Path) -> list[tuple[str, float, float]]:
    return [(p.label, p.start, p.end) for p in truth(wav)]


def test_mbrola_sentence_aligns_within_50_ms_at_every_boundary(clip):
    alignment = align(load_audio(clip), pronounce(normalize(SENTENCE)))
    aligned = [(p.label, p.start, p.end) for p in alignment.phones]
    errors = boundary_errors(true_phones(clip), aligned)
    spoken = [p for p in true_phones(clip) if p[0] != SILENCE]
    assert len(errors) >= len(spoken) + 1  # every phone matched: each start, and the end of the last
    assert max(errors) <= 0.050, max(errors)
    assert [w.label for w in alignment.words] == normalize(SENTENCE)
    assert alignment.confidence > 0.9 and alignment.unreliable == ()


def test_phones_tile_the_clip(clip):
    alignment = align(load_audio(clip), pronounce(normalize(SENTENCE)))
    phones = alignment.phones
    assert phones[0].start == 0 and abs(phones[-1].end - alignment.duration) < 1e-6
    assert all(abs(a.end - b.start) < 1e-6 for a, b in pairwise(phones))
    assert not any(a.label == b.label == SILENCE for a, b in pairwise(phones))


def test_unknown_words_align_and_are_reported(tmp_path):
    text = "Kubernetes and PyTorch met Zorblax at the museum."
    wav = synthesise(tmp_path, "oov", text)
    alignment = align(load_audio(wav), pronounce(normalize(text)))
    assert set(alignment.guessed) == {"kubernetes", "pytorch", "zorblax"}
    assert [w.label for w in alignment.words] == normalize(text)
    errors = boundary_errors(true_phones(wav), [(p.label, p.start, p.end) for p in alignment.phones])
    assert np.median(errors) < 0.02 and alignment.unreliable == ()


def test_noisy_speech_still_aligns(tmp_path):
    wav = synthesise(tmp_path, "noisy", SENTENCE, snr=10)
    alignment = align(load_audio(wav), pronounce(normalize(SENTENCE)))
    errors = np.array(boundary_errors(true_phones(wav), [(p.label, p.start, p.end) for p in alignment.phones]))
    assert np.mean(errors <= 0.05) >= 0.9 and alignment.unreliable == ()


def test_a_wrong_transcript_is_flagged_not_trusted(clip):
    alignment = align(load_audio(clip), pronounce(normalize("The captain spoke about the ship and its crew.")))
    assert alignment.confidence < 0.5
    covered = sum(b - a for a, b in alignment.unreliable)
    assert covered > 0.8 * alignment.duration


def test_untranscribed_speech_is_marked_unreliable(clip):
    alignment = align(load_audio(clip), pronounce(normalize("Maybe the baby")))
    assert [w.label for w in alignment.words] == ["maybe", "the", "baby"]
    assert alignment.unreliable and alignment.unreliable[-1][1] - alignment.unreliable[0][0] > 0.8
    start, _ = alignment.unreliable[0]
    assert start >= alignment.words[-1].end - 0.05  # the words that were said stay trusted


def test_mismatch_warns_on_the_command_line(clip, tmp_path):
    out = tmp_path / "wrong.json"
    result = meshsync("align", str(clip), "--text", "The captain spoke about the ship", "-o", str(out))
    assert result.returncode == 0
    assert "unreliable" in result.stderr and "warning" in result.stderr
    assert json.loads(out.read_text())["unreliable"]


def test_long_audio_is_split_at_pauses_and_stays_accurate(tmp_path):
    texts = make_corpus.sentences()[:14]
    folder = tmp_path
    pho = [["_", "250"]]
    for text in texts:
        pho += make_corpus.espeak_pho(text, "us2", 175) + [["_", "500"]]
    samples = make_corpus.add_noise(make_corpus.synthesise(pho, "us2"), 50, 1)
    wav = folder / "long.wav"
    soundfile.write(wav, samples, 16000, subtype="PCM_16")
    audio = load_audio(wav)
    energy = frame_energy(audio.resampled(16000))
    assert audio.duration > 35 and len(split_at_pauses(energy, -50)) >= 2
    alignment = align(audio, pronounce(normalize(" ".join(texts))), workers=2)
    reference = make_corpus.phone_times(pho, "en")
    errors = np.array(boundary_errors(reference, [(p.label, p.start, p.end) for p in alignment.phones]))
    assert [w.label for w in alignment.words] == normalize(" ".join(texts))
    assert np.mean(errors <= 0.05) >= 0.95 and alignment.unreliable == ()
    # Deterministic: the same result whichever worker aligned which chunk.
    assert align(audio, pronounce(normalize(" ".join(texts))), workers=1) == alignment


def test_mfa_textgrid_is_read_with_stress_silence_and_unknown_words():
    alignment = read_textgrid(FIXTURES / "mfa_maybe.TextGrid")
    assert [w.label for w in alignment.words] == ["maybe", "the", "kubernetes", "baby"]
    labels = [p.label for p in alignment.phones]
    assert labels[:7] == [SILENCE, "M", "EY", "B", "IY", "DH", "AH"]
    assert UNKNOWN in labels and labels[-1] == SILENCE
    assert alignment.unreliable == ((0.57, 1.2),)
    assert alignment.duration == pytest.approx(2.62)


def test_textgrid_round_trip(clip, tmp_path):
    alignment = align(load_audio(clip), pronounce(normalize(SENTENCE)))
    path = tmp_path / "out.TextGrid"
    write_textgrid(alignment, path)
    back = read_textgrid(path)
    assert [(p.label, round(p.start, 3), round(p.end, 3)) for p in back.phones] == \
        [(p.label, round(p.start, 3), round(p.end, 3)) for p in alignment.phones]
    assert [w.label for w in back.words] == [w.label for w in alignment.words]


def test_cli_writes_json_textgrid_and_plot_deterministically(clip, tmp_path):
    outputs = []
    for name in ("a", "b"):
        out, plot = tmp_path / f"{name}.json", tmp_path / f"{name}.png"
        result = meshsync("align", str(clip), "--text", SENTENCE, "-o", str(out), "--plot", str(plot))
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_bytes())
        assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])
    assert {"words", "phones", "confidence", "unreliable", "duration"} <= set(data)
    assert all(p["label"] == SILENCE or (p["label"].isalpha() and p["label"].isupper()) for p in data["phones"])
    grid = tmp_path / "c.TextGrid"
    assert meshsync("align", str(clip), "--text", SENTENCE, "-o", str(grid)).returncode == 0
    back = meshsync("align", str(clip), "--alignment", str(grid), "-o", str(tmp_path / "d.json"))
    assert back.returncode == 0, back.stderr


def test_cli_errors_are_one_line_and_leave_nothing(clip, tmp_path):
    out = tmp_path / "out.json"
    assert_one_line_error(meshsync("align", str(clip), "--text", SENTENCE, "-o", str(tmp_path / "x.csv")),
                          ".json or .TextGrid")
    assert_one_line_error(meshsync("align", str(clip), "--text", str(tmp_path / "missing.txt"), "-o", str(out)),
                          "no such transcript")
    bad_grid = tmp_path / "bad.TextGrid"
    bad_grid.write_text("this is not a textgrid")
    assert_one_line_error(meshsync("align", str(clip), "--alignment", str(bad_grid), "-o", str(out)), "TextGrid")
    assert_one_line_error(meshsync("align", str(clip), "--text", SENTENCE, "--aligner", "mfa", "-o", str(out)),
                          "conda")
    assert_one_line_error(meshsync("align", str(clip), "--text", SENTENCE, "-o", str(tmp_path / "no" / "x.json")),
                          "does not exist")
    assert not out.exists()


def test_textgrid_without_a_phones_tier_names_what_it_found(tmp_path):
    path = tmp_path / "words_only.TextGrid"
    text = (FIXTURES / "mfa_maybe.TextGrid").read_text().replace('name = "phones"', 'name = "tones"')
    path.write_text(text)
    from meshsync.errors import UserError

    with pytest.raises(UserError, match=r"no 'phones' interval tier.*words, tones"):
        read_textgrid(path)
