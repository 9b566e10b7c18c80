"""Live Link Face CSV: the file Epic's Live Link Face app records and Unreal (and many tools) import.

`Timecode,BlendShapeCount,EyeBlinkLeft,...,RightEyeRoll`: one row per frame, timecode HH:MM:SS:FF.mmm from
00:00:00:00.000 at the curves' frame rate, then 61 values.
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


def timecode(frame: int, fps: float) -> str:
    """SMPTE-style HH:MM:SS:FF at the nominal (rounded) rate, as Live Link Face writes it."""
    nominal = max(1, round(fps))
    seconds, frames = divmod(frame, nominal)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}.000"


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


FORMAT = Format("Live Link Face", (".csv",), _write)
