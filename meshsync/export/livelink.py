"""Live Link Face CSV: the file Epic's Live Link Face app records and Unreal (and many tools) import.

`Timecode,BlendShapeCount,EyeBlinkLeft,...,RightEyeRoll`, in the app's column order: one row per frame, then
61 values. The timecode is HH:MM:SS:FF.fff as the app writes it: FF counts frames at 60 a second whatever the
take's rate, and .fff is the fraction of such a frame (12:27:47:47.169), which Unreal's importer reads as time.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import numpy as np

from ..animate import Curves
from ..files import atomic_output
from .base import Export, Format


@cache
def columns() -> tuple[str, ...]:
    with Path(__file__).with_name("livelink.toml").open("rb") as f:
        return tuple(tomllib.load(f)["columns"])


APP_RATE = 60  # Live Link Face counts its timecode's frames at 60 a second


def timecode(frame: int, fps: float) -> str:
    """The time of frame `frame` at `fps` as Live Link Face writes it: HH:MM:SS, frames at 60 a second, and
    thousandths of such a frame."""
    ticks = round(frame * APP_RATE * 1000 / fps)  # thousandths of a 60 fps frame: whole numbers, exact
    whole, fraction = divmod(ticks, 1000)
    seconds, frames = divmod(whole, APP_RATE)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}.{fraction:03d}"


def write_livelink_csv(curves: Curves, path: Path) -> None:
    lookup = {name.lower(): i for i, name in enumerate(curves.names)}
    order = [lookup[name.lower()] for name in columns()]
    values = curves.values[:, order].astype(np.float64)
    count = len(columns())
    with atomic_output(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(("Timecode", "BlendShapeCount") + columns()) + "\n")
        for frame, row in enumerate(values):
            f.write(f"{timecode(frame, curves.fps)},{count}," + ",".join(f"{v:.6f}" for v in row) + "\n")


def _write(export: Export, path: Path) -> str:
    write_livelink_csv(export.curves, path)
    return ""


FORMAT = Format("Live Link Face", (".csv",), _write, sidecar=(".csv",))  # Unreal reads the CSV as it is
