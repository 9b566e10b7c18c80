"""An invisible watermark in the pixels of every video and PNG meshsync renders, and its detector.

The mark is faint noise (a standard deviation of one grey level) repeated in square tiles, two across the
frame's shorter side. A tile is 32 x 32 cells, smoothed to a band that survives H.264 and downscaling,
holding orthogonal +-1 codes: a sync code (meshsync's tag) and one code per payload bit (a 32-bit job id and
a CRC-8), each signed by its bit. ffmpeg adds it to every frame after scaling (`filters`).

Detection undoes what platforms do: it high-passes a few keyframes, folds them by the tile's period for a
range of scales (a crop, then a rescale, changes the period in pixels), finds the sync code by circular
correlation (a crop shifts the tiles: any shift is found), and reads the bits at the peak.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from .files import ffmpeg_exe

PICTURES = (".mp4", ".png", ".mov", ".m4v", ".mkv", ".webm", ".jpg", ".jpeg", ".webp")  # what `detect` reads
CELLS = 32  # code cells along a tile's side
TILES = 2  # tiles across the frame's shorter side
STRENGTH = 1.0  # the mark's standard deviation, in grey levels
SEED = 0x6D657368  # meshsync's tag: the seed its codes are drawn with
JOB_BITS, CHECK_BITS = 32, 8  # the payload: a job id, then its CRC-8
BINS = 4 * CELLS  # the detector's folded tile, in bins a side
KEPT = 0.75  # the detector searches crops that keep down to this share of the shorter side
STEP = 0.003  # ... in relative scale steps this fine, then a quarter of it around the best
WORK_SIDE = 360  # the detector reads frames scaled down to this shorter side
KEYFRAMES = 24  # the detector reads this many keyframes
CLIP = 3.0  # grey levels: a high-passed pixel past this is an edge of the picture, not the mark
THRESHOLD = 8.0  # a sync peak this many standard deviations above its correlation surface is the mark


@dataclass(frozen=True)
class Detection:
    """What the detector found: the job id when the mark and its checksum read back."""

    strength: float  # the sync peak, in standard deviations of the correlation surface
    job: int | None = None  # the payload's job id, when its CRC-8 matched
    kept: float = 1.0  # the share of the shorter side the best fold says was kept (a crop, or 1)

    @property
    def found(self) -> bool:
        return self.strength >= THRESHOLD and self.job is not None

    def describe(self) -> str:
        if self.found:
            return f"watermark: meshsync job {self.job:08x} (strength {self.strength:.1f})"
        if self.strength >= THRESHOLD:
            return f"watermark: a trace, its job id unreadable (strength {self.strength:.1f})"
        return "no watermark"


def job_id(digest: bytes) -> int:
    """The 32-bit job id a mark carries: the first four bytes of a digest of the job's inputs."""
    return int.from_bytes(digest[:4], "big")


def pattern(width: int, height: int, job: int) -> np.ndarray:
    """The mark for one job over a width x height frame: int16 grey-level offsets."""
    period = max(1, round(min(width, height) / TILES))
    tile = _smooth(_cells(job), period)
    tile *= STRENGTH / max(tile.std(), 1e-9)
    reps = (-(-height // period), -(-width // period))
    return np.round(np.tile(tile, reps)[:height, :width]).astype(np.int16)


def filters(source: str, mark: str, pixels: str) -> str:
    """The ffmpeg filter graph that adds a mark (`mark_frame`, a one-frame input that `blend` repeats) to
    the frames of `source`, in the pixel format `pixels`."""
    return f"{source}format={pixels}[frames];{mark}format={pixels}[mark];[frames][mark]blend=all_mode=grainmerge"


def mark_frame(width: int, height: int, job: int, pixels: str) -> bytes:
    """The raw frame `filters` adds, 128 meaning no change: the mark in the luma of "yuv420p" (for H.264:
    video range leaves room above white and below black, so the mark is not clipped there), or equally in
    the three planes of "gbrp" (for PNG: a change of brightness, not of colour)."""
    plane = (128 + pattern(width, height, job)).clip(0, 255).astype(np.uint8).tobytes()
    if pixels == "gbrp":
        return plane * 3
    return plane + bytes([128]) * (2 * (width // 2) * (height // 2))


def detect(path: Path) -> Detection:
    """Look for the mark in an image or video file; one that does not decode holds none."""
    frames = _luma(path)
    return find(frames) if len(frames) else Detection(0.0)


def find(frames: np.ndarray) -> Detection:
    """Look for the mark in grey frames (n, h, w) of one video."""
    residual = np.mean([_high_pass(frame) for frame in frames], axis=0)
    coarse = _best_fold(residual, np.exp(-np.arange(0, -np.log(KEPT), STEP)))
    strength, kept, folded, shift = _best_fold(residual, coarse[1] * np.exp(np.arange(-4, 5) * STEP / 4))
    aligned = np.roll(folded, (-shift[0], -shift[1]), (0, 1))
    codes = np.fft.ifft2(_code_spectra() * _high_pass_response(kept)).real.reshape(1 + JOB_BITS + CHECK_BITS, -1)
    weights = np.linalg.lstsq(codes.T, aligned.ravel(), rcond=None)[0]  # the codes overlap once high-passed
    return Detection(float(strength), _read_payload(weights[1:] > 0), float(kept))


def _best_fold(residual: np.ndarray, kept: np.ndarray) -> tuple[float, float, np.ndarray, tuple[int, int]]:
    """Of folds at the scales `kept`, the one whose sync peak stands highest: its strength, scale, fold and
    the peak's shift."""
    best = (-np.inf, 1.0, None, (0, 0))
    for share in kept:
        folded = _fold(residual, min(residual.shape) / TILES / share)
        sync = np.conj(_code_spectra()[0] * _high_pass_response(share))
        surface = np.fft.ifft2(np.fft.fft2(folded) * sync).real
        strength = (surface.max() - surface.mean()) / max(surface.std(), 1e-12)
        if strength > best[0]:
            best = (strength, share, folded, np.unravel_index(surface.argmax(), surface.shape))
    return best


def _high_pass(frame: np.ndarray) -> np.ndarray:
    """A frame less its smooth picture (a Gaussian of one cell, were nothing cropped), clipped: what is left
    is mostly the mark's band."""
    from scipy.ndimage import gaussian_filter

    return np.clip(frame - gaussian_filter(frame, min(frame.shape) / TILES / CELLS), -CLIP, CLIP)


def _fold(residual: np.ndarray, period: float) -> np.ndarray:
    """The residual averaged over tiles of `period` pixels, in BINS x BINS bins."""
    rows = (np.arange(residual.shape[0]) / period % 1 * BINS).astype(np.intp)
    cols = (np.arange(residual.shape[1]) / period % 1 * BINS).astype(np.intp)
    index = (rows[:, None] * BINS + cols[None, :]).ravel()
    sums = np.bincount(index, residual.ravel(), BINS * BINS)
    counts = np.bincount(index, None, BINS * BINS)
    folded = (sums / np.maximum(counts, 1)).reshape(BINS, BINS)
    return folded - folded.mean()


@cache
def _codes() -> np.ndarray:
    """Orthogonal +-1 codes over a tile's cells, (1 + payload bits, CELLS, CELLS): the sync code first.
    Rows of a Walsh-Hadamard matrix with cells shuffled and signs flipped by the seed: noise-like, and
    still orthogonal."""
    from scipy.linalg import hadamard

    rng = np.random.default_rng(SEED)
    n = CELLS * CELLS
    rows = rng.choice(np.arange(1, n), 1 + JOB_BITS + CHECK_BITS, replace=False)
    order, signs = rng.permutation(n), rng.choice(np.array([-1, 1], np.int8), n)
    return (hadamard(n, dtype=np.int8)[rows][:, order] * signs).reshape(-1, CELLS, CELLS).astype(np.float64)


@cache
def _code_spectra() -> np.ndarray:
    """The spectra of the codes as they are added (smoothed), at the fold's BINS x BINS."""
    return np.fft.fft2(np.stack([_smooth(code, BINS) for code in _codes()]))


def _high_pass_response(kept: float) -> np.ndarray:
    """What `_high_pass` does to a fold at scale `kept`, as a spectrum: its Gaussian spans one cell of the
    uncropped tile, kept x BINS / CELLS bins of the fold."""
    sigma = kept * BINS / CELLS
    frequency = np.fft.fftfreq(BINS)
    return 1 - np.exp(-2 * np.pi ** 2 * sigma ** 2 * (frequency[:, None] ** 2 + frequency[None, :] ** 2))


def _cells(job: int) -> np.ndarray:
    """A tile's cells: the sync code, plus each payload code signed by its bit, half the energy each."""
    codes = _codes()
    signs = np.where(_payload(job), 1.0, -1.0)
    return np.sqrt(0.5) * codes[0] + np.sqrt(0.5 / len(signs)) * np.tensordot(signs, codes[1:], 1)


def _smooth(cells: np.ndarray, size: int) -> np.ndarray:
    """A periodic, band-limited image of `size` x `size` pixels through the cells (their spectrum below
    the cells' Nyquist frequency, zero-padded)."""
    spectrum = np.fft.fft2(cells)
    frequencies = np.rint(np.fft.fftfreq(CELLS) * CELLS).astype(int)
    keep = np.abs(frequencies) < CELLS / 2
    where = frequencies[keep] % size
    padded = np.zeros((size, size), complex)
    padded[np.ix_(where, where)] = spectrum[np.ix_(keep, keep)]
    return np.fft.ifft2(padded).real * (size / CELLS) ** 2


def _payload(job: int) -> np.ndarray:
    """The payload's bits: the job id, then its CRC-8, most significant first."""
    data = job.to_bytes(JOB_BITS // 8, "big")
    return np.unpackbits(np.frombuffer(data + bytes([_crc8(data)]), np.uint8)).astype(bool)


def _read_payload(bits: np.ndarray) -> int | None:
    """The job id in the bits read, or None when its CRC-8 does not match."""
    data = np.packbits(bits).tobytes()
    job, check = data[:JOB_BITS // 8], data[JOB_BITS // 8]
    return int.from_bytes(job, "big") if _crc8(job) == check else None


def _crc8(data: bytes) -> int:
    """CRC-8 (polynomial 0x07)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07 if crc & 0x80 else crc << 1) & 0xFF
    return crc


def _luma(path: Path) -> np.ndarray:
    """The grey levels of up to KEYFRAMES keyframes of an image or video, scaled down to WORK_SIDE; none when
    it does not decode."""
    side = f"min({WORK_SIDE},min(iw,ih))"
    scale = f"scale='if(gte(iw,ih),-1,{side})':'if(gte(iw,ih),{side},-1)':flags=area"
    command = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-skip_frame", "nokey", "-i", str(path),
               "-map", "0:v:0", "-vf", scale, "-frames:v", str(KEYFRAMES), "-f", "image2pipe", "-c:v", "pgm", "-"]
    frames = _pgm_frames(subprocess.run(command, capture_output=True).stdout)
    return np.stack(frames).astype(np.float32) if frames else np.empty((0, 0, 0), np.float32)


def _pgm_frames(data: bytes) -> list[np.ndarray]:
    """The 8-bit images in a stream of binary PGMs."""
    frames, at = [], 0
    header = re.compile(rb"P5\s+(\d+)\s+(\d+)\s+255\s")
    while (match := header.match(data, at)) is not None:
        width, height = int(match.group(1)), int(match.group(2))
        end = match.end() + width * height
        frames.append(np.frombuffer(data[match.end():end], np.uint8).reshape(height, width))
        at = end
    return frames
