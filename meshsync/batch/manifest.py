"""The batch manifest, DIR/meshsync-batch.json: per job its status, input hashes, outputs, timings and error.

A job's hash covers the bytes of every input file, its options and the meshsync version, so a rerun knows
which jobs would make the same files again and skips them.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..errors import UserError
from ..files import atomic_output, default_avatar_path, file_hash
from .jobs import Job

NAME = "meshsync-batch.json"
SAVE_EVERY = 2.0  # seconds between saves while jobs finish: a batch of 16,000 lines must not rewrite it 16,000 times


@dataclass
class JobRecord:
    """What the manifest keeps about one job."""

    status: str  # "done" or "failed"
    hash: str | None  # None when the row could not make a job
    inputs: dict[str, str] = field(default_factory=dict)  # input name -> sha256 of the file
    outputs: list[str] = field(default_factory=list)  # paths under the output folder
    seconds: dict[str, float] = field(default_factory=dict)  # prepare, render (all chunks), join, wall
    chunks: int = 0  # render tasks of the video
    error: str | None = None
    finished: str = ""  # UTC, ISO 8601

    def finish(self) -> JobRecord:
        self.finished = datetime.now(UTC).isoformat(timespec="seconds")
        return self


class Manifest:
    """The records of every job this output folder has seen, saved atomically at most every SAVE_EVERY s."""

    def __init__(self, folder: Path):
        self.path = folder / NAME
        self.records: dict[str, JobRecord] = {}
        self._saved = 0.0
        if self.path.is_file():
            try:
                jobs = json.loads(self.path.read_text(encoding="utf-8"))["jobs"]
                names = {f.name for f in fields(JobRecord)}
                self.records = {key: JobRecord(**{k: v for k, v in value.items() if k in names})
                                for key, value in jobs.items()}
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise UserError(f"{self.path}: not a meshsync batch manifest ({exc}); move it away to start "
                                "afresh") from None

    def record(self, job_id: str, record: JobRecord) -> None:
        self.records[job_id] = record
        if time.monotonic() - self._saved >= SAVE_EVERY:
            self.save()

    def save(self) -> None:
        document = {"meshsync": __version__, "jobs": {k: asdict(v) for k, v in sorted(self.records.items())}}
        with atomic_output(self.path) as tmp:
            tmp.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        self._saved = time.monotonic()


def job_hash(job: Job) -> tuple[str, dict[str, str]]:
    """The job's hash and its input files' sha256 (the default avatar included, so a new bundled head
    counts as a change)."""
    inputs = {name: file_hash(path) for name, path in sorted(job.files.items())}
    if job.rig.avatar is None:
        inputs["avatar"] = file_hash(default_avatar_path())
    options: dict = {"outputs": job.outputs}
    for stage in fields(job):  # every stage's options value; files count by their bytes, not their paths
        value = getattr(job, stage.name)
        if is_dataclass(value):
            options[stage.name] = {f.name: None if f.name in job.files else getattr(value, f.name)
                                   for f in fields(value)}
    document = json.dumps({"meshsync": __version__, "inputs": inputs, "options": options}, sort_keys=True,
                          default=str)
    return hashlib.sha256(document.encode()).hexdigest(), inputs


