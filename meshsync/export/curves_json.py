"""meshsync's own JSON for curves: frame rate, channel names, one row per frame, and how they were made."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..align import Alignment, to_dict
from ..animate import Curves
from ..files import atomic_output

FORMAT = "meshsync.curves/1"


def write_curves_json(curves: Curves, path: Path, alignment: Alignment | None, mode: str, method: str) -> None:
    """Values rounded to 6 decimals; identical curves give byte-identical files."""
    data = {
        "format": FORMAT,
        "fps": curves.fps,
        "frames": curves.frames,
        "mode": mode,
        "method": method,
        "names": list(curves.names),
        "values": np.round(curves.values.astype(np.float64), 6).tolist(),
        "alignment": to_dict(alignment) if alignment is not None else None,
    }
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
