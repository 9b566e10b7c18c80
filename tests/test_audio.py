"""meshsync.audio: every common format in, mono float32 out; every bad file a one-line error."""

from __future__ import annotations

import logging
import subprocess

import numpy as np
import pytest
import soundfile
from cli_helpers import assert_one_line_error, meshsync

from meshsync import audio as audio_module
from meshsync.audio import AudioError, frame_energy, load_audio
from meshsync.files import ffmpeg_exe

RATE = 44100


def tone(seconds: float = 1.0, rate: int = RATE, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    return np.stack([mono] * channels, axis=1).astype(np.float32)


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "tone.wav"
    soundfile.write(path, tone(), RATE, subtype="PCM_24")
    return path


@pytest.mark.parametrize("suffix, subtype", [(".wav", "PCM_16"), (".flac", "PCM_24"), (".ogg", "VORBIS"),
                                             (".wav", "FLOAT")])
def test_soundfile_formats_decode_to_mono_float(tmp_path, suffix, subtype):
    path = tmp_path / f"x{suffix}"
    soundfile.write(path, tone(), RATE, subtype=subtype)
    audio = load_audio(path)
    assert audio.rate == RATE and audio.samples.dtype == np.float32 and audio.samples.ndim == 1
    assert abs(audio.duration - 1.0) < 0.01
    assert 0.2 < np.abs(audio.samples).max() < 0.5


@pytest.mark.parametrize("suffix, codec", [(".mp3", "libmp3lame"), (".m4a", "aac"), (".opus", "libopus")])
def test_compressed_formats_decode_through_ffmpeg(tmp_path, wav, suffix, codec):
    path = tmp_path / f"x{suffix}"
    ffmpeg("-i", str(wav), "-c:a", codec, str(path))
    audio = load_audio(path, rate=16000)
    assert audio.rate == 16000 and abs(audio.duration - 1.0) < 0.08
    expected = np.sqrt(np.mean(tone(1.0, RATE, 1) ** 2))
    assert abs(np.sqrt(np.mean(audio.samples**2)) / expected - 1) < 0.1  # the same loudness: mono, not summed


def test_video_container_gives_its_sound(tmp_path, wav):
    path = tmp_path / "clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", "-i", str(wav), "-c:v", "libx264", "-c:a", "aac",
           "-shortest", str(path))
    audio = load_audio(path)
    assert abs(audio.duration - 1.0) < 0.1 and np.abs(audio.samples).max() > 0.2


def test_resampling_keeps_the_duration_and_pitch(wav):
    audio = load_audio(wav, rate=16000)
    assert len(audio.samples) == 16000
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * 16000 / len(audio.samples) - 220) < 2


def test_energy_marks_speech_and_silence():
    samples = np.concatenate([np.zeros(8000), tone(0.5, 16000, 1)[:, 0], np.zeros(8000)]).astype(np.float32)
    energy = frame_energy(audio_module.Audio(samples, 16000))
    assert len(energy) == 151
    assert energy[20] < -100 and energy[75] > -20 and energy[130] < -100


def make(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("name, data, words", [
    ("empty.wav", b"", ["empty"]),
    ("garbage.wav", b"RIFF\x10\x00\x00\x00WAVEfmt garbage" * 10, ["not an audio format"]),
    ("notes.mp3", b"just some text, not audio\n" * 50, ["not an audio format"]),
])
def test_bad_files_are_one_line_errors(tmp_path, name, data, words):
    result = meshsync("align", make(tmp_path, name, data), "--text", "hello", "-o", str(tmp_path / "out.json"))
    assert_one_line_error(result, *words)
    assert not (tmp_path / "out.json").exists()


def test_missing_silent_short_and_nan_audio(tmp_path):
    cases = {
        "missing.wav": (None, "no such audio file"),
        "silent.wav": (np.zeros(16000, np.float32), "silent"),
        "short.wav": (tone(0.1, 16000, 1), "too short"),
        "nan.wav": (np.full(16000, np.nan, np.float32), "NaN"),
    }
    for name, (samples, words) in cases.items():
        path = tmp_path / name
        if samples is not None:
            soundfile.write(path, samples, 16000, subtype="FLOAT")
        result = meshsync("align", str(path), "--text", "hello", "-o", str(tmp_path / "out.json"))
        assert_one_line_error(result, words)
        assert not (tmp_path / "out.json").exists()


def test_video_without_sound_is_a_clear_error(tmp_path):
    path = tmp_path / "mute.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=c=black:s=64x64:d=1", "-c:v", "libx264", str(path))
    with pytest.raises(AudioError, match="no audio stream"):
        load_audio(path)


def test_too_long_audio_is_refused_before_decoding(tmp_path, wav, monkeypatch):
    monkeypatch.setattr(audio_module, "MAX_SECONDS", 0.5)
    with pytest.raises(AudioError, match=r"too long.*split"):
        load_audio(wav)


def test_clipping_is_a_warning_not_an_error(tmp_path, caplog):
    path = tmp_path / "loud.wav"
    soundfile.write(path, np.clip(tone(1.0, 16000, 1) * 10, -1, 1), 16000, subtype="PCM_16")
    with caplog.at_level(logging.WARNING, logger="meshsync"):
        audio = load_audio(path)
    assert audio.duration == 1.0
    assert any("clipped" in r.getMessage() for r in caplog.records)
