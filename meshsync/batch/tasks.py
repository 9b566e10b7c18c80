"""What a Dask worker runs for a job: prepare (speech -> curves, the curve exports), render a chunk of the
video as an MP4 segment, join the segments with the audio.

Each task writes into the job's work folder (inside the output folder, so a rename is atomic) and moves a
finished output into place with one rename: a worker that dies mid-task leaves only the work folder to
clear, never a partial output. Tasks are safe to run twice, which is what Dask does after a worker dies.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from time import perf_counter

from ..align.speech import load_speech
from ..animate import Curves, animate, resolve_method
from ..audio import load_audio
from ..avatar import load_avatar
from ..export import AVATAR_FORMATS, export_target, write_curves
from ..files import default_avatar_path
from ..render.video import concat_mp4, render_segment
from ..rig import choose_profile
from .jobs import Job


@dataclass(frozen=True, eq=False)
class Prepared:
    """A prepared job: the curves at the video's frame rate for the render chunks (None without an MP4)."""

    curves: Curves | None
    seconds: float


def prepare(job: Job, work: Path, out: Path) -> Prepared:
    """Align and animate the job's speech, and write its curve exports; every setting is checked first."""
    start = perf_counter()
    exports = {kind: work / Path(job.output_name(kind)).name for kind in job.outputs if kind != "mp4"}
    targets = {kind: _export_target(job, path) for kind, path in exports.items()}
    if "mp4" in job.outputs:
        choose_profile(load_avatar(job.avatar or default_avatar_path()), job.rig)
    speech = load_speech(job.audio, job.text, job.alignment, job.aligner, job.lexicon, workers=1,
                         listen=job.method != "network")
    method = resolve_method(speech.alignment, job.method)
    curves: dict[float, Curves] = {}

    def at(fps: float) -> Curves:
        if fps not in curves:
            curves[fps] = animate(speech.audio, speech.alignment, fps, method, job.still, job.seed)
        return curves[fps]

    for kind, path in exports.items():
        write_curves(path, at(job.curves_fps), targets[kind], speech.alignment, speech.mode, method)
        os.replace(path, out / job.output_name(kind))  # in place, whole
    video = at(job.video_fps) if "mp4" in job.outputs else None
    return Prepared(video, perf_counter() - start)


def render_chunk(job: Job, prepared: Prepared, frames: range, segment: Path) -> float:
    """Frames `frames` of the job's video as an MP4 segment; seconds taken. A segment already there was
    written whole (atomically) from the same inputs by an interrupted run, and is kept."""
    if segment.is_file():
        return 0.0
    start = perf_counter()
    avatar = load_avatar(job.avatar or default_avatar_path())
    render_segment(avatar, prepared.curves, segment, job.video_options(), frames)
    return perf_counter() - start


def join_video(job: Job, segments: list[Path], work: Path, out: Path, *chunk_seconds: float) -> tuple[float, float]:
    """The segments joined with the audio into the job's MP4 (after every chunk, whose times Dask hands in);
    the seconds spent rendering and joining."""
    start = perf_counter()
    path = work / Path(job.output_name("mp4")).name
    concat_mp4(segments, load_audio(job.audio), path)
    os.replace(path, out / job.output_name("mp4"))
    return sum(chunk_seconds), perf_counter() - start


def _export_target(job: Job, path: Path):
    """The avatar export's target, or None; the avatar, rig and jaw options belong to the avatar formats
    (and to the video), not to CSV or JSON curves."""
    if path.suffix.lower() not in AVATAR_FORMATS:
        return None
    return export_target(path, job.avatar, job.rig, job.jaw_bone, job.tolerance)
