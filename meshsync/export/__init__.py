"""Exports: curves to the files game engines and DCC tools read. Each module of this package that declares a
`FORMAT` (its suffixes, whether it holds an avatar, its writer) is a format: adding a format is adding a
module. The output's suffix picks the format; the CLI's help, its errors and the batch's outputs all read
FORMATS.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ..errors import UserError
from ..files import check_output_folder
from .base import WEIGHT_STORAGE, Export, ExportOptions, Format

__all__ = ["FORMATS", "WEIGHT_STORAGE", "Export", "ExportOptions", "Format", "check_format", "find_format",
           "write_export"]


def _discover() -> tuple[Format, ...]:
    """The FORMAT of every module in this package: those holding ARKit curves, then the avatar formats, each
    by module name."""
    found = []
    for module in pkgutil.iter_modules(__path__):
        declared = getattr(importlib.import_module(f"{__name__}.{module.name}"), "FORMAT", None)
        if isinstance(declared, Format):
            found.append(declared)
    return tuple(sorted(found, key=lambda fmt: fmt.avatar))


FORMATS = _discover()


def find_format(path: Path) -> Format | None:
    """The format whose longest suffix ends the file's name (`cues.rhubarb.json` is a cue file, not JSON)."""
    name = path.name.lower()
    matches = [(len(suffix), fmt) for fmt in FORMATS for suffix in fmt.suffixes if name.endswith(suffix)]
    return max(matches, key=lambda match: match[0])[1] if matches else None


def check_format(path: Path) -> Format:
    """The output's format, refused before any work when no format module writes it or its folder cannot be
    written."""
    fmt = find_format(path)
    if fmt is None:
        choices = "; ".join(f"{' or '.join(f.suffixes)} ({f.title})" for f in FORMATS)
        raise UserError(f"{path}: write the curves as {choices}")
    check_output_folder(path)
    return fmt


def write_export(path: Path, export: Export) -> str:
    """Write `export` in the format the path names; a note for the summary line."""
    return check_format(path).write(export, path)
