"""meshsync's own JSON for curves: frame rate, channel names, one row per frame, and how they were made."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..align import Alignment, to_dict
from ..animate import FPS_RANGE, Curves
from ..channels import channel_limits, channel_names
from ..errors import UserError
from ..files import atomic_output, check_input_file, parse_json
from ..provenance import STATEMENT_KEY, statement
from .base import Export, Format

SCHEMA = "meshsync.curves/1"


def write_curves_json(curves: Curves, path: Path, alignment: Alignment | None, mode: str, method: str) -> None:
    """Values rounded to 6 decimals; identical curves give byte-identical files."""
    data = {
        "format": SCHEMA,
        "fps": curves.fps,
        "frames": curves.frames,
        "mode": mode,
        "method": method,
        "names": list(curves.names),
        "values": np.round(curves.values.astype(np.float64), 6).tolist(),
        "alignment": to_dict(alignment) if alignment is not None else None,
        STATEMENT_KEY: statement(),
    }
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")


def read_curves_json(path: Path) -> Curves:
    """Curves from a file `write_curves_json` wrote; a UserError naming the problem otherwise."""
    try:
        data = parse_json(check_input_file(path, "curves file").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserError(f"{path}: not a meshsync curves JSON file ({exc})") from exc
    if not isinstance(data, dict) or data.get("format") != SCHEMA:
        raise UserError(f"{path}: not a meshsync curves JSON file (format '{SCHEMA}' expected); "
                        "write one with `meshsync animate ... -o curves.json`")
    try:
        names, fps = tuple(data["names"]), float(data["fps"])
        values = np.asarray(data["values"], dtype=np.float64).reshape(-1, len(names))
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{path}: damaged curves file ({exc})") from exc
    if names != channel_names() or len(values) != data.get("frames") or not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise UserError(f"{path}: damaged curves file (channels, frame count or fps do not match)")
    low, high = channel_limits(names)
    wrong = ~((values >= low) & (values <= high))  # NaN is outside too
    if wrong.any():
        frame, channel = (int(i) for i in np.argwhere(wrong)[0])
        raise UserError(f"{path}: frame {frame}: {names[channel]} is {values[frame, channel]:g}, outside "
                        f"{low[channel]:g}..{high[channel]:g}; animate the curves again")
    return Curves(fps, names, values.astype(np.float32))


def _write(export: Export, path: Path) -> str:
    write_curves_json(export.curves, path, export.alignment, export.mode, export.method)
    return ""


FORMAT = Format("meshsync curves", (".json",), _write)
