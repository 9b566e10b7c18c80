"""Jobs files: a CSV with a header row, or JSON Lines, one job per row -> checked `Job` values.

A problem with the file itself (unknown column, no audio column, a repeated id) stops the batch before any
work; a problem with one row's values or files (a missing avatar, an fps of "fast") fails that job alone.
Relative paths are read from the jobs file's folder.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from ..align.speech import SpeechOptions
from ..animate import AnimationOptions
from ..errors import UserError
from ..export import FORMATS, ExportOptions
from ..files import check_input_file, names_something, parse_json
from ..options import build, file_fields
from ..provenance import SigningOptions
from ..render.video import VideoOptions
from ..rig import RigOptions

VIDEO = "mp4"
OUTPUTS = (VIDEO,) + tuple(kind for fmt in FORMATS for kind in fmt.kinds)
# The Job field holding each stage's options value.
OPTIONS = {"speech": SpeechOptions, "animation": AnimationOptions, "rig": RigOptions, "video": VideoOptions,
           "export": ExportOptions, "signing": SigningOptions}
# A column per options field; `fps` sets the video's and the curves' frame rate alike.
COLUMNS = ("id", "audio", "outputs") + tuple(dict.fromkeys(f.name for kind in OPTIONS.values() for f in fields(kind)))
MAX_ID_BYTES = 200  # file systems allow 255 a name; the work folder adds a hash, temporary files a suffix
ID = re.compile(r"[^\W][\w.-]*(/[^\W][\w.-]*)*")  # names under the output folder; no "..", no leading "/"


@dataclass(frozen=True)
class Job:
    """One clip to make: its audio and outputs, and every stage's options as the CLI builds them, checked;
    paths are absolute."""

    id: str
    line: int  # where the row is in the jobs file, for messages
    audio: Path
    outputs: tuple[str, ...] = (VIDEO,)
    speech: SpeechOptions = SpeechOptions()
    animation: AnimationOptions = AnimationOptions()  # the curve exports'; the video is animated at its own fps
    rig: RigOptions = RigOptions()
    video: VideoOptions = VideoOptions()
    export: ExportOptions = ExportOptions()
    signing: SigningOptions = SigningOptions()  # who signs the MP4's content credentials
    files: dict[str, Path] = field(default_factory=dict, compare=False)  # input name -> file, for hashing

    @property
    def video_animation(self) -> AnimationOptions:
        return replace(self.animation, fps=self.video.fps)

    def output_name(self, kind: str) -> str:
        return f"{self.id}.{kind}"


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
    check_input_file(path, "jobs file")
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
    if "" in header:
        raise UserError(f"{path} line 1: a column without a name; the first line names the columns, e.g. "
                        "audio,text,outputs")
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        raise UserError(f"{path} line 1: unknown column '{unknown[0]}'; the columns are {', '.join(COLUMNS)}")
    try:
        for row in reader:
            if None in row:
                raise UserError(f"{path} line {reader.line_num}: more cells than the header has columns")
            values = {name.strip(): (cell or "").strip() for name, cell in row.items()}
            if any(values.values()):
                yield reader.line_num, {name: cell for name, cell in values.items() if cell}
    except csv.Error as exc:
        advice = "; put a long transcript in a .txt file and name the file in the cell" if "limit" in str(exc) else ""
        raise UserError(f"{path} line {reader.line_num}: not readable as CSV ({exc}){advice}") from None


def _jsonl_rows(f, path: Path):
    for line, text in enumerate(f, 1):
        if not text.strip():
            continue
        try:
            row = parse_json(text)
        except ValueError as exc:
            raise UserError(f"{path} line {line}: not JSON ({getattr(exc, 'msg', exc)}); write one JSON object "
                            "per line") from None
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
    if len(job_id.encode()) > MAX_ID_BYTES:
        return Rejected(job_id, line, f"line {line}: the id is {len(job_id.encode())} bytes long; give one of at "
                                      f"most {MAX_ID_BYTES} (files are named by it)")
    try:
        return _parse(job_id, line, values, base)
    except UserError as exc:
        return Rejected(job_id, line, f"line {line}: {exc}")


def _parse(job_id: str, line: int, values: dict[str, str], base: Path) -> Job:
    """The row's options, built as the CLI builds them from flags, once the files they name are found beside
    the jobs file (the audio first: the file a job cannot do without)."""
    files: dict[str, Path] = {}
    cells = dict(values, audio=_file("audio", values["audio"], base, files))
    for kind in OPTIONS.values():
        for name, suffix in file_fields(kind).items():
            if name in cells:
                cells[name] = _file_or_text(name, cells[name], suffix, base, files)
    job = Job(job_id, line, Path(cells["audio"]), _outputs(values.get("outputs", VIDEO)), files=files,
              **{stage: build(kind, cells) for stage, kind in OPTIONS.items()})
    if VIDEO in job.outputs:
        job.video.check_mp4()
    return job


def _file(name: str, value: str, base: Path, files: dict[str, Path]) -> str:
    """An input file named by a cell: its absolute path, recorded for hashing; it must exist."""
    path = check_input_file((base / value).resolve(), f"{name} file")
    files[name] = path
    return str(path)


def _file_or_text(name: str, value: str, suffix: str | None, base: Path, files: dict[str, Path]) -> str:
    """A cell that names a file (a path field; or text ending in `suffix`, or naming a file that exists), as
    its absolute path; other text as it is (a transcript, a colour, a rig profile's name)."""
    if suffix is None or (suffix and value.lower().endswith(suffix)) or names_something(base / value):
        return _file(name, value, base, files)
    return value


def _outputs(text: str) -> tuple[str, ...]:
    kinds = tuple(dict.fromkeys(k.lower().lstrip(".") for k in re.split(r"[\s,;|+]+", text) if k))
    wrong = [k for k in kinds if k not in OUTPUTS]
    if wrong or not kinds:
        raise UserError(f"outputs '{text}': choose from {', '.join(OUTPUTS)}")
    return kinds

