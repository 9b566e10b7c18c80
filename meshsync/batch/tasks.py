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
from ..animate import AnimationOptions, Curves, animate, resolve_method
from ..audio import load_audio
from ..export import Export, find_format
from ..listen import listen
from ..provenance import Provenance, inputs
from ..render.video import concat_mp4, render_segment
from .jobs import VIDEO, Job


@dataclass(frozen=True, eq=False)
class Prepared:
    """A prepared job: the curves at the video's frame rate for the render chunks (None without an MP4)."""

    curves: Curves | None
    seconds: float


def prepare(job: Job, work: Path, out: Path) -> Prepared:
    """Align and animate the job's speech, and write its curve exports; every setting is checked first."""
    start = perf_counter()
    exports = {kind: work / Path(job.output_name(kind)).name for kind in job.outputs if kind != VIDEO}
    formats = {kind: find_format(path) for kind, path in exports.items()}
    rig = job.rig.load() if VIDEO in job.outputs or any(f.avatar for f in formats.values()) else None
    speech = load_speech(job.audio, job.speech, listen if job.animation.listens else None, workers=1)
    method = resolve_method(speech.alignment, job.animation.method)
    curves: dict[float, Curves] = {}

    def at(options: AnimationOptions) -> Curves:
        if options.fps not in curves:
            curves[options.fps] = animate(speech.audio, speech.alignment, options)
        return curves[options.fps]

    for kind, path in exports.items():
        fmt = formats[kind]
        fmt.write(Export(at(job.animation), rig if fmt.avatar else None, job.export, speech.alignment, speech.mode,
                         method, str(job.audio)), path)
        for made, target in zip(fmt.files(path), fmt.files(out / job.output_name(kind))):
            os.replace(made, target)  # in place, whole
    video = at(job.video_animation) if VIDEO in job.outputs else None
    return Prepared(video, perf_counter() - start)


def render_chunk(job: Job, prepared: Prepared, frames: range, segment: Path) -> float:
    """Frames `frames` of the job's video as an MP4 segment; seconds taken. A segment already there was
    written whole (atomically) from the same inputs by an interrupted run, and is kept."""
    if segment.is_file():
        return 0.0
    start = perf_counter()
    render_segment(job.rig.load(), prepared.curves, segment, job.video, frames, provenance=_credentials(job))
    return perf_counter() - start


def join_video(job: Job, segments: list[Path], work: Path, out: Path, *chunk_seconds: float) -> tuple[float, float]:
    """The segments joined with the audio into the job's MP4 (after every chunk, whose times Dask hands in);
    the seconds spent rendering and joining."""
    start = perf_counter()
    path = work / Path(job.output_name(VIDEO)).name
    concat_mp4(segments, load_audio(job.audio), path, _credentials(job))
    os.replace(path, out / job.output_name(VIDEO))
    return sum(chunk_seconds), perf_counter() - start


def _credentials(job: Job) -> Provenance:
    """What the job's video declares (its inputs, its signer), and the job id its segments' watermark carries."""
    return Provenance(inputs(job.audio, job.speech.text, job.speech.alignment, job.rig.avatar_path), job.signing)
