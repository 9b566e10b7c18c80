"""Rhubarb Lip Sync mouth cues (shapes A-H and X) for 2D pipelines, as TSV or JSON.

Each frame of the curves takes the Rhubarb shape whose pose (rhubarb.toml: a viseme of the table, or an
ARKit pose) is nearest over the mouth channels; runs of one shape become cues, and cues shorter than
`min_cue` join the one before.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from ..animate import Curves
from ..channels import arkit_names, mouth_mask
from ..files import atomic_output
from ..provenance import STATEMENT_KEY, statement
from ..visemes import Table, load_table, resolve_pose
from .base import Export, Format

SHAPES = Path(__file__).with_name("rhubarb.toml")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    shape: str


@cache
def cue_shapes(table: Table | None = None) -> tuple[float, tuple[str, ...], np.ndarray]:
    """min_cue, the shape names, and their poses over the mouth channels (shapes x channels), resolved
    against the viseme table (default: the bundled one)."""
    with SHAPES.open("rb") as f:
        raw = tomllib.load(f)
    table = table or load_table()
    channels = _mouth_channels()
    poses = [resolve_pose(entry, table) for entry in raw["shapes"].values()]
    return raw["min_cue"], tuple(raw["shapes"]), np.array([[pose.get(c, 0.0) for c in channels] for pose in poses])


def _mouth_channels() -> list[str]:
    return [name for name, mouth in zip(arkit_names(), mouth_mask(arkit_names())) if mouth]


def mouth_cues(curves: Curves) -> list[Cue]:
    min_cue, shapes, poses = cue_shapes()
    channels = [curves.names.index(n) for n in _mouth_channels()]
    frames = curves.values[:, channels].astype(np.float64)
    nearest = ((frames[:, None, :] - poses[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    cues: list[Cue] = []
    starts = np.flatnonzero(np.r_[True, nearest[1:] != nearest[:-1]])
    for first, after in zip(starts, np.r_[starts[1:], len(nearest)]):
        start, end = first / curves.fps, after / curves.fps
        if cues and (end - start < min_cue or cues[-1].shape == shapes[nearest[first]]):
            cues[-1] = Cue(cues[-1].start, end, cues[-1].shape)
        else:
            cues.append(Cue(start, end, shapes[nearest[first]]))
    return cues


def write_cues(curves: Curves, path: Path, sound_file: str | None = None) -> list[Cue]:
    """Rhubarb's TSV (`start<TAB>shape` lines, then the end as an X) or its JSON (`metadata` with the sound
    file and the duration, as Rhubarb writes it, then `mouthCues`)."""
    cues = mouth_cues(curves)
    if path.name.lower().endswith(".json"):
        metadata = {"soundFile": sound_file} if sound_file is not None else {}
        data = {"metadata": {**metadata, "duration": round(curves.frames / curves.fps, 3),
                             STATEMENT_KEY: statement()},
                "mouthCues": [{"start": round(c.start, 3), "end": round(c.end, 3), "value": c.shape} for c in cues]}
        text = json.dumps(data, indent=2) + "\n"
    else:
        text = "".join(f"{c.start:.3f}\t{c.shape}\n" for c in cues) + f"{cues[-1].end:.3f}\tX\n"
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return cues


def _write(export: Export, path: Path) -> str:
    return f", {len(write_cues(export.curves, path, export.sound_file))} mouth cues"


FORMAT = Format("Rhubarb mouth cues", (".tsv", ".rhubarb.json"), _write, sidecar=(".tsv",))
