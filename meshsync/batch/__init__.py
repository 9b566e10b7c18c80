"""Batch jobs on Dask: many clips over every core of this machine, or over an existing Dask cluster.

A jobs file (jobs.py) names per job the audio, its transcript or alignment, the avatar, the outputs and
options. Each job becomes Dask tasks (tasks.py):

    prepare: load, align, animate; write the curve exports
      -> render chunks: the video in pieces of whole GOPs, as MP4 segments, spread over the workers
      -> join: the segments and the audio, without re-encoding

The manifest (manifest.py) records every job's status, input hashes, timings and error; a rerun skips the
jobs whose inputs are unchanged. A job that fails is recorded and the others go on; the tasks of a worker
that dies are run again by Dask (up to distributed.scheduler.allowed-failures times, 3 by default).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

from .. import __version__
from ..errors import UserError
from ..files import check_not_inputs, check_output_folder
from ..options import check_workers
from .jobs import OUTPUTS, Job, Rejected, read_jobs
from .manifest import NAME, JobRecord, Manifest, job_hash
from .tasks import join_video, prepare, render_chunk

__all__ = ["OUTPUTS", "Report", "chunk_ranges", "run_batch"]

WORK = ".meshsync-work"  # inside the output folder: segments and files being written
WORKER_WAIT = 60  # seconds to wait for a cluster's first worker
# Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc map and unmap every large block:
# rendering, which allocates frame-sized arrays, took 1.5x as long. Local workers start without it.
FAST_MALLOC = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
Progress = Callable[[int, int], None]
log = logging.getLogger("meshsync")


@dataclass
class Report:
    """What a batch run did: job ids by outcome, the wall time, and the manifest with every record."""

    manifest: Manifest
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # done before with the same inputs
    failed: list[str] = field(default_factory=list)
    unchanged_failures: list[str] = field(default_factory=list)  # failed before with the same inputs; not rerun
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return len(self.done) + len(self.skipped) + len(self.failed)


@dataclass(eq=False)
class _Running:
    """A job in flight: what the client keeps until its last task ends."""

    job: Job
    record: JobRecord
    work: Path
    started: float
    tasks: list = field(default_factory=list)  # the job's futures, cancelled if it fails


def run_batch(jobs_file: Path, out: Path, scheduler: str | None = None, workers: int | None = None,
              chunk_seconds: float = 20.0, retry_failed: bool = False, progress: Progress | None = None) -> Report:
    """Run the jobs of `jobs_file` into folder `out`: on a LocalCluster of `workers` processes (default one
    per core), or on the Dask cluster at `scheduler`. Only jobs whose inputs changed, or that never finished,
    are run; a cluster is started only when there are some."""
    start = perf_counter()
    if not (math.isfinite(chunk_seconds) and chunk_seconds > 0):
        raise UserError(f"--chunk {chunk_seconds:g}: give the seconds of video per render task, e.g. 20")
    if workers is not None:
        check_workers(workers)
    if workers is not None and scheduler is not None:
        raise UserError("--workers sizes the local cluster; with --scheduler the cluster's own workers run the jobs")
    jobs = read_jobs(jobs_file)
    _make_folder(out)
    report = Report(Manifest(out))
    pending = _plan(jobs, report, out, retry_failed)
    _clear_work(out, keep={state.work.name for state in pending})
    tick = _ticker(progress, len(jobs))
    tick(report.total)
    try:
        if pending:
            with _client(scheduler, workers) as client:
                _run(client, pending, out, chunk_seconds, report, tick)
    finally:
        report.manifest.save()
    _clear_work(out, keep=set())
    report.seconds = perf_counter() - start
    return report


def chunk_ranges(frames: int, fps: float, gop: int, seconds: float) -> list[range]:
    """The frames 0..frames-1 in chunks of about `seconds`, each a whole number of GOPs, so every chunk
    starts on a keyframe and the segments join without re-encoding."""
    size = max(1, round(seconds * fps / gop)) * gop
    return [range(first, min(first + size, frames)) for first in range(0, frames, size)]


def _plan(jobs: list[Job | Rejected], report: Report, out: Path, retry_failed: bool) -> list[_Running]:
    """Record the rows that make no job and the jobs with nothing to do; the jobs to run."""
    manifest, pending = report.manifest, []
    for job in jobs:
        if isinstance(job, Rejected):
            _fail(report, job.id, JobRecord("failed", None, error=job.error))
            continue
        try:
            digest, inputs = job_hash(job)
        except OSError as exc:
            _fail(report, job.id, JobRecord("failed", None, error=f"line {job.line}: cannot read {exc.filename}: "
                                                                  f"{exc.strerror}"))
            continue
        old = manifest.records.get(job.id)
        outputs = [job.output_name(kind) for kind in job.outputs]
        if NAME in outputs:
            _fail(report, job.id, JobRecord("failed", None, error=f"line {job.line}: {NAME} is the batch's manifest; "
                                                                  "give this job another id"))
            continue
        try:
            check_not_inputs([out / o for o in outputs], job.files.values())
        except UserError as exc:
            _fail(report, job.id, JobRecord("failed", None, error=f"line {job.line}: {exc}"))
            continue
        if old and old.hash == digest and old.status == "done" and all((out / o).is_file() for o in outputs):
            report.skipped.append(job.id)
        elif old and old.hash == digest and old.status == "failed" and not retry_failed:
            report.failed.append(job.id)
            report.unchanged_failures.append(job.id)
        else:
            record = JobRecord("running", digest, inputs, outputs)
            pending.append(_Running(job, record, _work_folder(out, job, digest), 0.0))
    return pending


def _run(client, pending: list[_Running], out: Path, chunk_seconds: float, report: Report, tick) -> None:
    """Submit every job's prepare task, then as each ends its render chunks and join, recording each job
    as it finishes."""
    from distributed import as_completed

    running: dict = {}
    finished = as_completed()
    for state in pending:
        job = state.job
        state.work.mkdir(parents=True, exist_ok=True)
        (out / job.id).parent.mkdir(parents=True, exist_ok=True)
        state.started = perf_counter()
        future = client.submit(prepare, job, state.work, out, key=f"prepare-{state.work.name}")
        state.tasks.append(future)
        running[future] = state
        finished.add(future)
    for future in finished:
        state = running.pop(future)
        if future.status != "finished":
            error = _reason(future)
            client.cancel(state.tasks)
            _end(report, state, error)
        elif future.key.startswith("prepare-"):
            prepared = future.result()
            state.record.seconds["prepare"] = round(prepared.seconds, 3)
            if prepared.curves is None:
                _end(report, state)
            else:
                joined = _submit_video(client, state, future, prepared, out, chunk_seconds)
                running[joined] = state
                finished.add(joined)
        else:
            render, join = future.result()
            state.record.seconds.update(render=round(render, 3), join=round(join, 3))
            _end(report, state)
        tick(report.total)


def _submit_video(client, state: _Running, prepared_future, prepared, out: Path, chunk_seconds: float):
    """The render chunks of a prepared job's video and the join after them; the join's future."""
    job, work = state.job, state.work
    curves = prepared.curves
    ranges = chunk_ranges(curves.frames, curves.fps, job.video.keyframes, chunk_seconds)
    segments = [work / f"segment-{r.start:07d}-{r[-1]:07d}.mp4" for r in ranges]
    chunks = [client.submit(render_chunk, job, prepared_future, r, segment, key=f"render-{work.name}-{r.start}")
              for r, segment in zip(ranges, segments)]
    joined = client.submit(join_video, job, segments, work, out, *chunks, key=f"join-{work.name}")
    state.tasks += [*chunks, joined]
    state.record.chunks = len(chunks)
    return joined


def _end(report: Report, state: _Running, error: str | None = None) -> None:
    """Record a finished job (done, or failed with `error`) and clear its work folder."""
    state.record.seconds["wall"] = round(perf_counter() - state.started, 3)
    state.record.status, state.record.error = ("failed", error) if error else ("done", None)
    if error:
        _fail(report, state.job.id, state.record)
    else:
        report.done.append(state.job.id)
        report.manifest.record(state.job.id, state.record.finish())
    state.tasks.clear()
    shutil.rmtree(state.work, ignore_errors=True)


def _fail(report: Report, job_id: str, record: JobRecord) -> None:
    report.failed.append(job_id)
    report.manifest.record(job_id, record.finish())


def _reason(future) -> str:
    """Why a job's task failed, as one line: the user error as it is, or what happened to the worker or code."""
    from distributed import KilledWorker

    if future.cancelled():
        return "cancelled: the cluster lost the task (did the scheduler restart?); run the batch again"
    exc = future.exception()
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, KilledWorker):
        return ("a worker died each time it ran this job (Dask gave up after distributed.scheduler.allowed-failures "
                "tries); run the job alone with `meshsync render` or `meshsync animate` to see why")
    return f"meshsync failed: {type(exc).__name__}: {exc} (please report this, with the job)"


@contextmanager
def _client(scheduler: str | None, workers: int | None) -> Iterator:
    """A Dask client: of the cluster at `scheduler`, or of a LocalCluster of single-threaded worker
    processes whose scheduler (and its health-check HTTP server, on a free port) listens on localhost only."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler is None:
        count = workers or len(os.sched_getaffinity(0))
        with dask.config.set(FAST_MALLOC), \
                LocalCluster(n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1", scheduler_port=0,
                             dashboard_address=None, silence_logs=logging.CRITICAL,
                             scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"}) as cluster, \
                Client(cluster) as client:
            yield client
        return
    try:
        if Path(scheduler).is_file():  # a scheduler file, as `dask scheduler --scheduler-file` writes it
            client = Client(scheduler_file=scheduler, timeout="10s")
        else:
            client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise UserError(f"cannot reach the Dask scheduler at {scheduler} ({exc}); start one with "
                        "`dask scheduler`, or check the address") from None
    with client:
        _check_workers(client, scheduler)
        yield client


def _check_workers(client, scheduler: str) -> None:
    """At least one worker, and every worker running this meshsync: tasks and their values go by reference."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT)
    except TimeoutError:
        raise UserError(f"no worker joined the scheduler at {scheduler} in {WORKER_WAIT} s; start some with "
                        f"`dask worker {scheduler}`") from None
    try:
        facts = client.run(_worker_facts)
    except Exception as exc:  # the worker could not import meshsync to run the check
        raise UserError(f"a worker of {scheduler} cannot run meshsync ({type(exc).__name__}: {exc}); install "
                        f"meshsync {__version__} on every worker") from None
    for worker, (version, trim) in facts.items():
        if version != __version__:
            raise UserError(f"worker {worker} runs meshsync {version}, this is {__version__}; install the same "
                            "version on every worker")
        if trim is not None:
            log.warning(f"worker {worker} runs with MALLOC_TRIM_THRESHOLD_={trim}, which makes rendering about "
                        "1.5x slower; unset it in the workers' Dask configuration (see the README, On a cluster)")


def _worker_facts() -> tuple[str, str | None]:
    """On a worker: its meshsync version and its MALLOC_TRIM_THRESHOLD_."""
    from meshsync import __version__ as version

    return version, os.environ.get("MALLOC_TRIM_THRESHOLD_")


def _work_folder(out: Path, job: Job, digest: str) -> Path:
    return out / WORK / f"{job.id.replace('/', '__')}-{digest[:12]}"


def _clear_work(out: Path, keep: set[str]) -> None:
    """Remove the work folders of jobs not in `keep` (finished, or from older inputs), and the work area
    itself once empty. Segments of an interrupted job with unchanged inputs are kept for its rerun."""
    area = out / WORK
    if not area.is_dir():
        return
    for folder in area.iterdir():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)
    if not any(area.iterdir()):
        area.rmdir()


def _make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot make the output folder {out}: {exc.strerror}") from None
    check_output_folder(out / NAME)


def _ticker(progress: Progress | None, total: int) -> Callable[[int], None]:
    """progress(done, total) whenever the count of finished jobs moves."""
    last = -1

    def tick(done: int) -> None:
        nonlocal last
        if progress and done != last and total:
            progress(done, total)
            last = done

    return tick
