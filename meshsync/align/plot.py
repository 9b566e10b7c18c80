"""A picture of an alignment: the waveform with the word and phone tiers under it, unreliable stretches in red."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..audio import Audio
from ..files import atomic_output
from . import SILENCE, Alignment, Segment

PIXELS_PER_SECOND = 200
MAX_WIDTH = 16000
WAVE_HEIGHT, TIER_HEIGHT, AXIS_HEIGHT = 160, 28, 18
INK, GRID, WAVE, UNRELIABLE = (30, 30, 30), (200, 200, 200), (60, 110, 170), (255, 215, 215)


def plot_alignment(audio: Audio, alignment: Alignment, path: Path) -> None:
    """Write a PNG: waveform, words tier, phones tier, time axis in seconds."""
    width = int(min(MAX_WIDTH, max(800, alignment.duration * PIXELS_PER_SECOND)))
    height = WAVE_HEIGHT + 2 * TIER_HEIGHT + AXIS_HEIGHT
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    scale = width / max(alignment.duration, 1e-6)
    for start, end in alignment.unreliable:
        draw.rectangle([start * scale, 0, end * scale, height - AXIS_HEIGHT], fill=UNRELIABLE)
    _waveform(draw, audio, width)
    draw_tier(draw, alignment.words, WAVE_HEIGHT, scale)
    draw_tier(draw, [p for p in alignment.phones if p.label != SILENCE], WAVE_HEIGHT + TIER_HEIGHT, scale)
    draw_axis(draw, alignment.duration, WAVE_HEIGHT + 2 * TIER_HEIGHT, scale)
    with atomic_output(path) as tmp:
        image.save(tmp, format="PNG")


def _waveform(draw: ImageDraw.ImageDraw, audio: Audio, width: int) -> None:
    """Min/max envelope per pixel column."""
    columns = np.array_split(audio.samples, width)
    middle, half = WAVE_HEIGHT / 2, WAVE_HEIGHT / 2 - 4
    peak = max(float(np.abs(audio.samples).max()), 1e-6)
    for x, column in enumerate(columns):
        if column.size:
            top, bottom = middle - column.max() / peak * half, middle - column.min() / peak * half
            draw.line([(x, top), (x, bottom)], fill=WAVE)


def draw_tier(draw: ImageDraw.ImageDraw, segments, top: int, scale: float) -> None:
    draw.line([(0, top), (draw.im.size[0], top)], fill=GRID)
    for seg in segments:
        left, right = seg.start * scale, seg.end * scale
        draw.rectangle([left, top + 2, right, top + TIER_HEIGHT - 2], outline=GRID)
        label = _fit(draw, seg, right - left)
        if label:
            draw.text(((left + right) / 2, top + TIER_HEIGHT / 2), label, fill=INK, anchor="mm")


def _fit(draw: ImageDraw.ImageDraw, seg: Segment, room: float) -> str:
    """The label, shortened until it fits its box (or nothing)."""
    label = seg.label
    while label and draw.textlength(label) > room - 4:
        label = label[:-2] + "…" if len(label) > 2 else ""
    return label


def draw_axis(draw: ImageDraw.ImageDraw, duration: float, top: int, scale: float) -> None:
    step = next(s for s in (0.1, 0.5, 1, 5, 10, 30, 60, 300) if s * scale >= 60)
    for i in range(int(duration / step) + 1):
        x = i * step * scale
        draw.line([(x, top), (x, top + 4)], fill=INK)
        draw.text((x + 2, top + 4), f"{i * step:g}", fill=INK)
