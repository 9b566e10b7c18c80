"""Where an alignment is written: meshsync's JSON or a Praat TextGrid (as MFA writes it), by the suffix."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..files import check_output_folder
from . import Alignment, write_json
from .textgrid import write_textgrid

WRITERS = {".json": write_json, ".textgrid": write_textgrid}
NAMES = {".json": ".json", ".textgrid": ".TextGrid"}  # as users write them


def check_alignment_output(path: Path) -> None:
    """Refuse, before any work, a suffix no writer takes or a folder that cannot be written."""
    if path.suffix.lower() not in WRITERS:
        raise UserError(f"{path}: write the alignment as {' or '.join(NAMES.values())}")
    check_output_folder(path)


def write_alignment(alignment: Alignment, path: Path) -> None:
    check_alignment_output(path)
    WRITERS[path.suffix.lower()](alignment, path)
