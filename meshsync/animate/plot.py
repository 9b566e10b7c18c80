"""A dope sheet of curves: the lip gap in millimetres and the main mouth channels over time, above the word and
phone tiers (PNG)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..align import SILENCE, Alignment
from ..align.plot import AXIS_HEIGHT, GRID, INK, MAX_WIDTH, PIXELS_PER_SECOND, TIER_HEIGHT, draw_axis, draw_tier
from ..files import atomic_output
from .curves import Curves

CHANNELS = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower", "mouthStretchLeft",
            "mouthSmileLeft", "mouthUpperUpLeft", "tongueOut")
ROW_HEIGHT = 44
GAP_HEIGHT = 2 * ROW_HEIGHT
GAP_SCALE = 20.0  # mm at the top of the lip gap's row (more when the curves open wider)
CURVE = (60, 110, 170)


def plot_curves(curves: Curves, alignment: Alignment | None, path: Path, lip_gap: np.ndarray | None = None) -> None:
    """The lip gap (mm, per frame, when given), one row per channel of CHANNELS (0..1), then words and phones
    when there is an alignment, then seconds."""
    duration = curves.frames / curves.fps
    width = int(min(MAX_WIDTH, max(800, duration * PIXELS_PER_SECOND)))
    tiers = 2 if alignment is not None else 0
    first = GAP_HEIGHT if lip_gap is not None else 0
    height = first + len(CHANNELS) * ROW_HEIGHT + tiers * TIER_HEIGHT + AXIS_HEIGHT
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    scale = width / max(duration, 1e-6)
    x = curves.times * scale
    if lip_gap is not None:
        top_mm = max(GAP_SCALE, float(np.ceil(lip_gap.max() / 5) * 5))
        for mm in np.arange(5, top_mm, 5):  # a faint line every 5 mm
            level = GAP_HEIGHT - 4 - mm / top_mm * (GAP_HEIGHT - 8)
            draw.line([(0, level), (width, level)], fill=GRID)
        y = GAP_HEIGHT - 4 - lip_gap / top_mm * (GAP_HEIGHT - 8)
        draw.line(list(zip(x.tolist(), y.tolist())), fill=CURVE, width=2)
        draw.text((4, 2), f"lip gap on the default avatar, mm (0-{top_mm:g}, a line every 5 mm)", fill=INK)
    for row, name in enumerate(CHANNELS):
        top = first + row * ROW_HEIGHT
        draw.line([(0, top), (width, top)], fill=GRID)
        y = top + ROW_HEIGHT - 4 - curves.channel(name) * (ROW_HEIGHT - 8)
        draw.line(list(zip(x.tolist(), y.tolist())), fill=CURVE, width=2)
        draw.text((4, top + 2), name, fill=INK)
    top = first + len(CHANNELS) * ROW_HEIGHT
    if alignment is not None:
        draw_tier(draw, alignment.words, top, scale)
        draw_tier(draw, [p for p in alignment.phones if p.label != SILENCE], top + TIER_HEIGHT, scale)
    draw_axis(draw, duration, top + tiers * TIER_HEIGHT, scale)
    with atomic_output(path) as tmp:
        image.save(tmp, format="PNG")
