"""Audio in: decode any common file to mono float32, resample, and per-frame energy.

wav/flac/ogg/aiff go through soundfile; mp3, m4a/aac, opus and video
containers go through the ffmpeg binary that imageio-ffmpeg ships. Every problem is one `AudioError` line.
"""

from __future__ import annotations

import logging
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import UserError
from .files import check_input_file, ffmpeg_exe

log = logging.getLogger("meshsync")

MIN_SECONDS = 0.2  # shorter than one syllable: nothing to align or animate
MAX_SECONDS = 3600.0  # longer clips should be split (the batch command does that for farms)
SILENT_PEAK = 10 ** (-80 / 20)  # below -80 dBFS everywhere: a silent file
CLIP_LEVEL = 0.999
CLIP_SHARE = 0.01  # warn when over 1 % of samples sit at full scale


class AudioError(UserError):
    """An audio file that cannot be used, with what to do about it."""


@dataclass(frozen=True)
class Audio:
    """Mono speech: float32 samples in [-1, 1] at `rate` Hz."""

    samples: np.ndarray
    rate: int

    @property
    def duration(self) -> float:
        return len(self.samples) / self.rate

    def resampled(self, rate: int) -> Audio:
        """The same sound at another rate (soxr, high quality); itself when the rate already matches."""
        if rate == self.rate:
            return self
        import soxr

        samples = soxr.resample(self.samples, self.rate, rate, quality="HQ").astype(np.float32, copy=False)
        return Audio(samples, rate)

    def pcm16(self) -> np.ndarray:
        """Samples as int16, as speech recognisers want them."""
        return np.round(np.clip(self.samples, -1.0, 1.0) * 32767.0).astype(np.int16)


def load_audio(path: str | Path, rate: int | None = None) -> Audio:
    """Decode `path` to mono float32, at `rate` Hz if given, and check that it holds usable sound."""
    path = check_input_file(path, "audio file", AudioError)
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty")
    _check_wav_format(path)  # by content: a WAV named .mp3 goes to ffmpeg, which is as lenient
    audio = _read_soundfile(path)
    if audio is None:
        audio = _read_ffmpeg(path)
    _check(path, audio)
    return audio.resampled(rate) if rate else audio


SOUNDFILE_SUFFIXES = {".wav", ".wave", ".flac", ".ogg", ".oga", ".aif", ".aiff", ".au", ".caf", ".w64"}


def _read_soundfile(path: Path) -> Audio | None:
    """Decode with libsndfile, or None when it is not one of its formats (ffmpeg is tried next)."""
    import soundfile

    if path.suffix.lower() not in SOUNDFILE_SUFFIXES:
        return None
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, TypeError):
        return None
    _check_length(path, info.frames / info.samplerate if info.samplerate else 0.0)
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: the audio data is corrupt ({_first_line(str(exc))})") from exc
    return Audio(_mono(data), int(rate))


WAV_SAMPLE_BITS = {1: (8, 16, 24, 32), 3: (32, 64)}  # PCM and IEEE float formats of a WAV's fmt chunk
WAV_EXTENSIBLE = 0xFFFE  # its real format is the first two bytes of the SubFormat GUID, 24 bytes into fmt


def _check_wav_format(path: Path) -> None:
    """Refuse a WAV whose fmt chunk contradicts itself (no channels, block align 0; for PCM and float, 7 bits a
    sample or a block align that does not fit): libsndfile decodes some of those as noise instead of failing."""
    fmt = _wav_fmt_chunk(path)
    if fmt is None:
        return  # not a RIFF WAV, or no fmt chunk: libsndfile judges it
    if len(fmt) < 16:
        raise AudioError(f"{path}: the WAV header is truncated; re-export the file")
    tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == WAV_EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]
    pcm = tag in WAV_SAMPLE_BITS
    if channels < 1 or rate < 1 or align < 1 or (pcm and (bits not in WAV_SAMPLE_BITS[tag]
                                                          or align != channels * bits // 8)):
        raise AudioError(f"{path}: the WAV header contradicts itself ({bits} bits a sample, {channels} channels, "
                         f"{rate} Hz, {align} bytes a frame); re-export the file")


def _wav_fmt_chunk(path: Path) -> bytes | None:
    """The first 40 bytes of a RIFF WAV's fmt chunk; None when the file is no RIFF WAV or has none."""
    with path.open("rb") as f:
        head = f.read(12)
        if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
            return None
        while len(chunk := f.read(8)) == 8:
            kind, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if kind == b"fmt ":
                return f.read(min(size, 40))
            f.seek(size + (size & 1), 1)
    return None


# Channel counts of the layouts ffmpeg names in its stream description ("N channels" otherwise).
LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7,
                   "7.1": 8}


def _read_ffmpeg(path: Path) -> Audio:
    """Decode with ffmpeg at the file's own rate and channels; channels are averaged here (ffmpeg's own
    downmix scales identical channels up by 3 dB)."""
    limit = f"{MAX_SECONDS + 1:.0f}"
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-i", str(path),
               "-map", "0:a:0", "-vn", "-t", limit, "-f", "f32le", "-c:a", "pcm_f32le", "-"]
    result = subprocess.run(command, capture_output=True)
    errors = result.stderr.decode("utf-8", "replace")
    if result.returncode != 0:
        raise AudioError(f"{path}: {_ffmpeg_reason(errors)}")
    stream = re.search(r"Output #0.*?Audio: pcm_f32le.*?(\d+) Hz, ([^,]+),", errors, re.S)
    if stream is None:
        raise AudioError(f"{path}: ffmpeg decoded no audio stream; is this an audio or video file with sound?")
    rate, layout = int(stream.group(1)), stream.group(2).strip()
    count = re.match(r"(\d+) channels", layout)
    channels = int(count.group(1)) if count else LAYOUT_CHANNELS.get(layout.split("(")[0])
    if channels is None:
        raise AudioError(f"{path}: unsupported channel layout '{layout}'; convert it to stereo or mono")
    data = np.frombuffer(result.stdout, dtype="<f4")
    data = data[:len(data) - len(data) % channels].reshape(-1, channels)
    _check_length(path, len(data) / rate)
    return Audio(_mono(data), rate)


def _ffmpeg_reason(stderr: str) -> str:
    if "matches no streams" in stderr:
        return "the file has no audio stream"
    if "Invalid data found" in stderr or "could not find codec" in stderr.lower():
        return "not an audio format meshsync can read (wav, flac, ogg, mp3, m4a/aac, opus, or a video with sound)"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return f"cannot decode the audio ({lines[-1] if lines else 'ffmpeg failed'})"


def _mono(data: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32) if data.shape[1] > 1 else data[:, 0])


def _check_length(path: Path, seconds: float) -> None:
    if seconds > MAX_SECONDS:
        raise AudioError(f"{path}: {seconds / 60:.0f} minutes is too long (at most {MAX_SECONDS / 60:.0f}); "
                         "split it into shorter clips")


def _check(path: Path, audio: Audio) -> None:
    """Refuse audio nobody can lip-sync to; warn about clipping, which degrades but does not stop alignment."""
    if len(audio.samples) == 0:
        raise AudioError(f"{path}: the file contains no audio samples")
    if not np.isfinite(audio.samples).all():
        raise AudioError(f"{path}: the audio contains NaN or infinite samples; re-export it")
    if audio.duration < MIN_SECONDS:
        raise AudioError(f"{path}: {audio.duration:.2f} s is too short; give at least {MIN_SECONDS} s of speech")
    peak = float(np.abs(audio.samples).max())
    if peak < SILENT_PEAK:
        raise AudioError(f"{path}: the audio is silent (peak below -80 dBFS); check the recording")
    clipped = float(np.mean(np.abs(audio.samples) >= CLIP_LEVEL * max(peak, 1.0)))
    if peak >= CLIP_LEVEL and clipped > CLIP_SHARE:
        log.warning("%s: %.1f %% of samples are clipped at full scale; timing may suffer", path, 100 * clipped)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "unknown error"


def frame_energy(audio: Audio, hop: float = 0.01, window: float = 0.025) -> np.ndarray:
    """Energy in dBFS of `window`-second frames every `hop` seconds; frame i is centred on i * hop."""
    step, size = round(hop * audio.rate), round(window * audio.rate)
    padded = np.pad(audio.samples, (size // 2, size), mode="constant")
    count = len(audio.samples) // step + 1
    squares = np.concatenate([[0.0], np.cumsum(padded.astype(np.float64) ** 2)])
    starts = np.arange(count) * step
    power = (squares[starts + size] - squares[starts]) / size
    return (10 * np.log10(power + 1e-12)).astype(np.float32)
