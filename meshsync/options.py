"""Options values: each stage keeps its settings in one frozen dataclass (SpeechOptions, AnimationOptions,
RigOptions, VideoOptions, ExportOptions) whose fields hold the defaults and whose `__post_init__` holds the
checks. The CLI and the batch build them alike, by field name, from flags or from a jobs file's cells: a new
field is a new option of both, and a new column of jobs files.

Text becomes a field's value by the field's type (int, float, bool, Path, str); `parse` in the field's
metadata overrides that (a size "1280x720"), and `or_file` marks text that may name a file instead (a
transcript, "script.txt"): jobs files read such files beside themselves and hash them as inputs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import Field, field, fields
from pathlib import Path
from types import NoneType
from typing import TypeVar, get_args, get_type_hints

from .errors import UserError

T = TypeVar("T")
TRUE, FALSE = ("1", "true", "yes", "y"), ("", "0", "false", "no", "n")


def option(default, *, parse: Callable[[str], object] | None = None, or_file: str | None = None):
    """A field with a default; `parse` turns its text into a value, `or_file` is the suffix of a file that may
    stand for the text ("" for any existing file)."""
    metadata = {key: value for key, value in (("parse", parse), ("or_file", or_file)) if value is not None}
    return field(default=default, metadata=metadata)


def build(kind: type[T], values: Mapping[str, object]) -> T:
    """An options value of `kind` from `values` by field name: a missing or None value keeps the field's
    default, text is parsed to the field's type, and the value's own checks run."""
    hints = get_type_hints(kind)
    given = {}
    for f in fields(kind):
        value = values.get(f.name)
        if value is not None:
            given[f.name] = parse(f, hints[f.name], value) if isinstance(value, str) else value
    return kind(**given)


def parse(f: Field, hint, text: str):
    """The value of field `f` (annotated `hint`) written as `text`."""
    if "parse" in f.metadata:
        return f.metadata["parse"](text)
    kind = next((t for t in get_args(hint) if t is not NoneType), hint)
    if kind is bool:
        if text.lower() not in TRUE + FALSE:
            raise UserError(f"{f.name} '{text}': give true or false")
        return text.lower() in TRUE
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise UserError(f"{f.name} '{text}' is not a{'n integer' if kind is int else ' number'}") from None
    return Path(text) if kind is Path else text


def file_fields(kind: type) -> dict[str, str | None]:
    """The fields of `kind` that name files: field name -> None for a path, or the `or_file` suffix for text
    that may name a file."""
    hints = get_type_hints(kind)
    out = {}
    for f in fields(kind):
        if "or_file" in f.metadata:
            out[f.name] = f.metadata["or_file"]
        elif Path in (hints[f.name], *get_args(hints[f.name])):
            out[f.name] = None
    return out


def check_workers(workers: int) -> None:
    """A count of worker processes (the aligner's, or a local Dask cluster's)."""
    if workers < 1:
        raise UserError("--workers must be at least 1")
