"""Jobs files: a CSV with a header row, or JSON Lines, one job per row -> checked `Job` values.

A problem with the file itself (unknown column, no audio column, a repeated id) stops the batch before any
work; a problem with one row's values or files (a missing avatar, an fps of "fast") fails that job alone.
Relative paths are read from the jobs file's folder.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..align import ALIGNERS
from ..animate import DEFAULT_FPS, METHODS, check_fps
from ..errors import UserError
from ..export.keys import check_tolerance
from ..render.camera import DEFAULT_PRESET
from ..render.video import VideoOptions, parse_background, parse_size

OUTPUTS = ("mp4", "glb", "gltf", "csv", "json", "usda", "usdc", "tsv", "rhubarb.json")
COLUMNS = ("id", "audio", "text", "alignment", "avatar", "rig", "jaw_bone", "outputs", "fps", "size", "aa", "camera",
           "background", "method", "still", "seed", "aligner", "lexicon", "tolerance")
VIDEO_FPS = 30.0  # the video's frame rate when the job names none; curve exports default to DEFAULT_FPS
ID = re.compile(r"[^\W][\w.-]*(/[^\W][\w.-]*)*")  # names under the output folder; no "..", no leading "/"
TRUE, FALSE = ("1", "true", "yes", "y"), ("", "0", "false", "no", "n")


@dataclass(frozen=True)
class Job:
    """One clip to make: its inputs (absolute paths), the outputs wanted and the options, all checked."""

    id: str
    line: int  # where the row is in the jobs file, for messages
    audio: Path
    outputs: tuple[str, ...] = ("mp4",)
    text: str | None = None  # the transcript, or the path of a .txt holding it
    alignment: Path | None = None
    avatar: Path | None = None
    rig: str | None = None
    jaw_bone: str | None = None
    fps: float | None = None  # None: 30 for the video, 60 for the curve exports
    size: str = "1280x720"
    aa: float = 1.5
    camera: str = DEFAULT_PRESET
    background: str | None = None  # a colour, or the absolute path of an image
    method: str | None = None
    still: bool = False
    seed: int = 0
    aligner: str = "pocketsphinx"
    lexicon: Path | None = None
    tolerance: float | None = None
    files: dict[str, Path] = field(default_factory=dict, compare=False)  # input name -> file, for hashing

    @property
    def video_fps(self) -> float:
        return self.fps or VIDEO_FPS

    @property
    def curves_fps(self) -> float:
        return self.fps or DEFAULT_FPS

    def output_name(self, kind: str) -> str:
        return f"{self.id}.{kind}"

    def video_options(self) -> VideoOptions:
        return VideoOptions(*parse_size(self.size), fps=self.video_fps, aa=self.aa, camera=self.camera,
                            background=parse_background(self.background), rig=self.rig)


@dataclass(frozen=True)
class Rejected:
    """A row whose values or files cannot make a job; the batch records its error and goes on."""

    id: str
    line: int
    error: str


def read_jobs(path: Path) -> list[Job | Rejected]:
    """The jobs of a .csv or .jsonl file, in file order; a UserError when the file itself is unusable."""
    rows = list(_rows(path))
    if not rows:
        raise UserError(f"{path}: no jobs in the file; give one row per clip with at least an audio column")
    jobs = [_job(values, line, path.parent.resolve()) for line, values in rows]
    ids: dict[str, int] = {}
    outputs: dict[str, int] = {}
    for job in jobs:
        if job.id in ids:
            raise UserError(f"{path} line {job.line}: job id '{job.id}' is already used on line {ids[job.id]}; "
                            "give each job its own id (an id column)")
        ids[job.id] = job.line
        for name in [job.output_name(kind) for kind in job.outputs] if isinstance(job, Job) else []:
            if name in outputs:
                raise UserError(f"{path} line {job.line}: {name} is also written by line {outputs[name]}; "
                                "give the jobs ids that name different files")
            outputs[name] = job.line
    return jobs


def _rows(path: Path):
    """(line number, {column: text}) per row, with empty cells left out."""
    if not path.is_file():
        raise UserError(f"{path}: no such jobs file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl"):
        raise UserError(f"{path}: a jobs file is a .csv (with a header row) or .jsonl (one JSON object a line)")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(_csv_rows(f, path) if suffix == ".csv" else _jsonl_rows(f, path))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from exc
    for line, values in rows:
        unknown = sorted(set(values) - set(COLUMNS))
        if unknown:
            raise UserError(f"{path} line {line}: unknown column '{unknown[0]}'; the columns are {', '.join(COLUMNS)}")
        if "audio" not in values:
            raise UserError(f"{path} line {line}: the job names no audio; every row needs an audio file")
    return rows


def _csv_rows(f, path: Path):
    reader = csv.DictReader(f)
    if reader.fieldnames is None:
        return
    header = [name.strip() for name in reader.fieldnames]
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise UserError(f"{path} line 1: unknown column '{unknown[0]}'; the columns are {', '.join(COLUMNS)}")
    for row in reader:
        if None in row:
            raise UserError(f"{path} line {reader.line_num}: more cells than the header has columns")
        values = {name.strip(): (cell or "").strip() for name, cell in row.items()}
        if any(values.values()):
            yield reader.line_num, {name: cell for name, cell in values.items() if cell}


def _jsonl_rows(f, path: Path):
    for line, text in enumerate(f, 1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} line {line}: not JSON ({exc.msg}); write one JSON object per line") from None
        if not isinstance(row, dict):
            raise UserError(f"{path} line {line}: not a JSON object; write one object per line, e.g. "
                            '{"audio": "a.wav", "outputs": ["mp4"]}')
        yield line, {name: _cell(value) for name, value in row.items() if value not in (None, "", [])}


def _cell(value) -> str:
    """A JSON value as the text a CSV cell would hold."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value).strip()


def _job(values: dict[str, str], line: int, base: Path) -> Job | Rejected:
    """A checked job from one row, or the reason it cannot be one."""
    job_id = values.get("id") or Path(values["audio"]).stem
    if not ID.fullmatch(job_id):
        return Rejected(job_id, line, f"line {line}: '{job_id}' cannot name output files; give an id of letters, "
                                      "digits, '.', '-', '_' (and '/' for subfolders)")
    try:
        return _checked(_parse(job_id, line, values, base))
    except UserError as exc:
        return Rejected(job_id, line, f"line {line}: {exc}")


def _parse(job_id: str, line: int, values: dict[str, str], base: Path) -> Job:
    files: dict[str, Path] = {}

    def file(name: str) -> Path | None:
        if name not in values:
            return None
        files[name] = (base / values[name]).resolve()
        return files[name]

    audio = file("audio")  # checked first: the file a job cannot do without
    options = dict(
        text=_text(values.get("text"), base, files), alignment=file("alignment"), avatar=file("avatar"),
        lexicon=file("lexicon"), rig=values.get("rig"), jaw_bone=values.get("jaw_bone"),
        outputs=_outputs(values.get("outputs", "mp4")), method=values.get("method"),
        aligner=values.get("aligner", "pocketsphinx"), camera=values.get("camera", DEFAULT_PRESET),
        size=values.get("size", "1280x720"), still=_flag(values.get("still", ""), "still"),
        background=_background(values.get("background"), base, files),
        fps=_number(values, "fps", float), aa=_number(values, "aa", float, 1.5),
        seed=_number(values, "seed", int, 0), tolerance=_number(values, "tolerance", float))
    if values.get("rig", "").lower().endswith(".toml"):
        options["rig"] = str(file("rig"))
    return Job(job_id, line, audio=audio, files=files, **options)


def _checked(job: Job) -> Job:
    """The job, once every value and input file is known to be usable (the rig is checked against the avatar
    on the worker)."""
    for name, path in job.files.items():
        if not path.is_file():
            raise UserError(f"{name} {path}: no such file")
    if job.fps is not None:
        check_fps(job.fps)
    if job.method is not None and job.method not in METHODS:
        raise UserError(f"unknown method '{job.method}'; choose one of {', '.join(METHODS)}")
    if job.aligner not in ALIGNERS:
        raise UserError(f"unknown aligner '{job.aligner}'; choose one of {', '.join(ALIGNERS)}")
    if job.tolerance is not None:
        check_tolerance(job.tolerance)
    if "mp4" in job.outputs:
        job.video_options().check(mp4=True)
    return job


def _outputs(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.lower().lstrip(".") for k in re.split(r"[\s,;|+]+", text) if k))
    wrong = [k for k in kinds if k not in OUTPUTS]
    if wrong or not kinds:
        raise UserError(f"outputs '{text}': choose from {', '.join(OUTPUTS)}")
    return kinds


def _text(value: str | None, base: Path, files: dict[str, Path]) -> str | None:
    """A transcript cell: a .txt file (its absolute path) or the words themselves."""
    if value is None:
        return None
    path = base / value
    if value.lower().endswith(".txt") or _is_file(path):
        files["text"] = path.resolve()
        return str(files["text"])
    return value


def _background(value: str | None, base: Path, files: dict[str, Path]) -> str | None:
    """A background cell: an image file (its absolute path) or a colour."""
    if value is not None and _is_file(base / value):
        files["background"] = (base / value).resolve()
        return str(files["background"])
    return value


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a long transcript is no file name
        return False


def _flag(text: str, name: str) -> bool:
    if text.lower() not in TRUE + FALSE:
        raise UserError(f"{name} '{text}': give true or false")
    return text.lower() in TRUE


def _number(values: dict[str, str], name: str, kind: type, default=None):
    if name not in values:
        return default
    try:
        return kind(values[name])
    except ValueError:
        raise UserError(f"{name} '{values[name]}' is not a{'n integer' if kind is int else ' number'}") from None
