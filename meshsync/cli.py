"""The `meshsync` command: argument parsing only; each command calls one function of the stages."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .align import ALIGNERS
from .animate import METHODS
from .errors import UserError
from .files import check_output_folder, default_avatar_path
from .render.camera import DEFAULT_PRESET, camera_presets

log = logging.getLogger("meshsync")
RIG_HELP = ("rig profile: arkit, oculus, readyplayerme, vrm1, vrm0, or a custom .toml "
            "(default: detected from the avatar)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _log_to_stderr(quiet=getattr(args, "quiet", False))
    try:
        return args.run(args)
    except UserError as exc:
        print(f"meshsync: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("meshsync: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="meshsync", description="Audio-driven lip sync for 3D avatars.")
    parser.add_argument("--version", action="version", version=f"meshsync {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    poses = commands.add_parser("poses", help="render a labelled contact sheet of mouth and eye poses to a PNG")
    poses.add_argument("--avatar", type=Path, default=None, help="glTF/GLB avatar (default: the bundled head)")
    poses.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    poses.add_argument("--aa", type=float, default=2.0, help="supersampling factor, 1 (off) to 4 (default 2)")
    poses.set_defaults(run=run_poses)

    inspect = commands.add_parser("inspect", help="describe an avatar: meshes, morph targets, convention, landmarks")
    inspect.add_argument("avatar", type=Path, help="glTF/GLB avatar")
    inspect.add_argument("--json", action="store_true", help="print machine-readable JSON")
    inspect.set_defaults(run=run_inspect)

    align = commands.add_parser("align", help="time the words and phones of a transcript in speech audio")
    _speech_arguments(align, transcript_required=True)
    align.add_argument("-o", "--output", type=Path, required=True, help="phones.json or phones.TextGrid")
    align.add_argument("--plot", type=Path, help="also draw the waveform with the word and phone tiers (PNG)")
    align.set_defaults(run=run_align)

    animate = commands.add_parser("animate", help="speech -> ARKit blendshape curves (Live Link CSV or JSON)")
    _speech_arguments(animate, transcript_required=False)
    animate.add_argument("--fps", type=float, default=60.0, help="frames per second (default 60)")
    animate.add_argument("--method", choices=METHODS,
                         help="rules (default; without a transcript it first recognises English words) or "
                              "network (listens to the audio alone, any language)")
    animate.add_argument("-o", "--output", type=Path, required=True,
                         help="curves.csv (Live Link Face), .json, avatar.glb/.gltf (the avatar, animated), "
                              "cues.tsv or cues.rhubarb.json (Rhubarb mouth shapes), or .usda/.usdc/.usd")
    animate.add_argument("--avatar", type=Path, help="for .glb/.gltf/USD: the avatar (default: the bundled head)")
    animate.add_argument("--rig", help=RIG_HELP)
    animate.add_argument("--jaw-bone", help="for .glb/.gltf: the joint jawOpen turns (default: a joint named like "
                                            "jaw, when the avatar has no jawOpen morph target)")
    animate.add_argument("--tolerance", type=float,
                         help="for .glb/.gltf: largest weight error of the reduced keyframes (default 0.005)")
    animate.add_argument("--plot", type=Path, help="also draw a dope sheet of the key channels (PNG)")
    _motion_arguments(animate)
    animate.set_defaults(run=run_animate)

    render = commands.add_parser("render", help="speech -> MP4 of the talking head (or PNG frames), headless")
    source = _speech_arguments(render, transcript_required=False)
    source.add_argument("--curves", type=Path, help="render curves from `meshsync animate -o X.json` instead")
    render.add_argument("--avatar", type=Path,
                        help="glTF/GLB avatar whose morph targets follow a rig profile (default: the bundled head)")
    render.add_argument("-o", "--output", type=Path, required=True,
                        help="talk.mp4, or a PNG sequence such as frames/talk_%%05d.png")
    render.add_argument("--rig", help=RIG_HELP)
    render.add_argument("--size", default="1280x720", help="WIDTHxHEIGHT (default 1280x720)")
    render.add_argument("--fps", type=float, default=30.0, help="frames per second (default 30)")
    render.add_argument("--aa", type=float, default=1.5,
                        help="supersampling: render this much larger and scale down, 1 (off) to 4 (default 1.5)")
    render.add_argument("--background", help="a colour (#4a5866, 'white') or an image file (default: grey-blue)")
    render.add_argument("--camera", default=DEFAULT_PRESET, choices=camera_presets(),
                        help=f"framing (default {DEFAULT_PRESET})")
    render.add_argument("--frames", help="render only frames START-END (inclusive, from 0): an MP4 segment "
                                         "for `meshsync concat`, or those PNGs")
    render.add_argument("--gop", type=int, help="frames between keyframes (default: one second); "
                                                "MP4 segments start on multiples of it")
    render.add_argument("--method", choices=METHODS, help="animation method, as for `animate`")
    _motion_arguments(render)
    render.set_defaults(run=run_render)

    concat = commands.add_parser("concat", help="join MP4 segments from `render --frames` with the audio")
    concat.add_argument("segments", type=Path, nargs="+", help="the segments, in any order")
    concat.add_argument("--audio", type=Path, required=True, help="the speech the segments were rendered from")
    concat.add_argument("-o", "--output", type=Path, required=True, help="talk.mp4")
    concat.add_argument("--quiet", action="store_true", help="print errors only")
    concat.set_defaults(run=run_concat)

    batch = commands.add_parser("batch", help="run many jobs from a CSV or JSON Lines file on Dask: every core "
                                              "here, or a cluster")
    batch.add_argument("jobs", type=Path, help="jobs.csv (header row) or jobs.jsonl: one clip per row; columns "
                                               "audio, text, alignment, avatar, outputs, ... (see the README)")
    batch.add_argument("--out", type=Path, required=True,
                       help="folder for the outputs (ID.mp4, ID.glb, ...) and the manifest meshsync-batch.json")
    batch.add_argument("--scheduler", help="a running Dask scheduler: its address, e.g. tcp://10.0.0.5:8786, or its "
                                           "scheduler file (default: a local cluster on this machine)")
    batch.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core)")
    batch.add_argument("--chunk", type=float, default=20.0,
                       help="seconds of video per render task; longer clips are split across workers (default 20)")
    batch.add_argument("--retry-failed", action="store_true",
                       help="run again the jobs that failed last time although their inputs are unchanged")
    batch.add_argument("--quiet", action="store_true", help="print errors and the failed jobs only")
    batch.set_defaults(run=run_batch)
    return parser


def _motion_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--still", action="store_true", help="no blinks, head motion or gaze: the mouth only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the blinks, head motion and gaze (default 0)")


def _speech_arguments(parser: argparse.ArgumentParser, transcript_required: bool):
    """The audio and its transcript or alignment, shared by every command that takes speech; returns the
    group of mutually exclusive sources."""
    parser.add_argument("audio", type=Path, help="speech: wav, flac, ogg, mp3, m4a, opus, or a video with sound")
    source = parser.add_mutually_exclusive_group(required=transcript_required)
    source.add_argument("--text", help="the transcript, or a UTF-8 .txt file holding it")
    source.add_argument("--alignment", type=Path, help="a Montreal Forced Aligner / Praat TextGrid to read instead")
    parser.add_argument("--aligner", choices=ALIGNERS, default="pocketsphinx",
                        help="pocketsphinx (built in, default) or mfa (an installed Montreal Forced Aligner)")
    parser.add_argument("--lexicon", type=Path, help="extra pronunciations, CMU or MFA dictionary format")
    parser.add_argument("--workers", type=int, default=2, help="processes for long audio (default 2)")
    parser.add_argument("--quiet", action="store_true", help="print errors only")
    return source


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        level = "" if record.levelno <= logging.INFO else f"{record.levelname.lower()}: "
        return f"meshsync: {level}{record.getMessage()}"


def _log_to_stderr(quiet: bool) -> None:
    """Warnings and notes from the stages as one line each on stderr."""
    log = logging.getLogger("meshsync")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_OneLine())
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.ERROR if quiet else logging.INFO)


def _progress(label: str, quiet: bool, unit: str = "chunk"):
    """A progress callback (done, total): a bar on a terminal, a log line per tenth otherwise, none when quiet."""
    if quiet:
        return None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = None

        def show(done: int, total: int) -> None:
            nonlocal bar
            bar = bar or tqdm(total=total, desc=label, unit=unit, leave=False, dynamic_ncols=True)
            bar.update(done - bar.n)
            if done == total:
                bar.close()

        return show

    def log_line(done: int, total: int) -> None:
        if done == total or done * 10 // total > (done - 1) * 10 // total:
            log.info(f"{label}: {done}/{total} {unit}s ({100 * done // total} %)")

    return log_line


def _require_png(path: Path, what: str) -> None:
    if path.suffix.lower() != ".png":
        raise UserError(f"{path}: {what} is a PNG; give an output path ending in .png")
    check_output_folder(path)


def run_poses(args: argparse.Namespace) -> int:
    from .avatar import load_avatar
    from .render.sheet import save_pose_sheet

    _require_png(args.output, "the pose sheet")
    avatar = load_avatar(args.avatar or default_avatar_path())
    save_pose_sheet(avatar, args.output, aa=args.aa)
    print(f"wrote {args.output}")
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from .avatar import load_avatar
    from .rig.describe import describe, format_description

    description = describe(load_avatar(args.avatar))
    print(json.dumps(description, indent=2) if args.json else format_description(description))
    return 0


ALIGNMENT_FORMATS = {".json": ".json", ".textgrid": ".TextGrid"}


def _check_alignment_output(args: argparse.Namespace) -> str:
    """Refuse an output format or folder that cannot work before any work is done; the output's suffix."""
    suffix = args.output.suffix.lower()
    if suffix not in ALIGNMENT_FORMATS:
        raise UserError(f"{args.output}: write the alignment as {' or '.join(ALIGNMENT_FORMATS.values())}")
    check_output_folder(args.output)
    if args.plot:
        _require_png(args.plot, "the plot")
    _check_workers(args)
    return suffix


def _check_workers(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise UserError("--workers must be at least 1")


def _speech(args: argparse.Namespace, listen: bool = False):
    """The speech the arguments name: the audio with its alignment (aligned now, read, or with `listen` from
    recognised words), as meshsync.align.speech.load_speech gives it."""
    from .align.speech import load_speech

    return load_speech(args.audio, args.text, args.alignment, args.aligner, args.lexicon, args.workers, listen,
                       lambda label: _progress(label, args.quiet))


def run_align(args: argparse.Namespace) -> int:
    from .align import write_json

    suffix = _check_alignment_output(args)
    speech = _speech(args)
    audio, alignment = speech.audio, speech.alignment
    if suffix == ".json":
        write_json(alignment, args.output)
    else:
        from .align.textgrid import write_textgrid

        write_textgrid(alignment, args.output)
    if args.plot:
        from .align.plot import plot_alignment

        plot_alignment(audio, alignment, args.plot)
    if not args.quiet:
        print(f"wrote {args.output}: {len(alignment.words)} words, {len(alignment.phones)} phones, "
              f"confidence {alignment.confidence:.2f}")
    return 0


def _animated(args: argparse.Namespace):
    """The speech and the curves animated from it as the arguments ask, and the method used."""
    from .animate import animate, resolve_method

    speech = _speech(args, listen=args.method != "network")
    method = resolve_method(speech.alignment, args.method)
    curves = animate(speech.audio, speech.alignment, fps=args.fps, method=method, still=args.still, seed=args.seed)
    return speech, curves, method


def run_animate(args: argparse.Namespace) -> int:
    from .animate import check_fps
    from .export import check_format, export_target, write_curves

    check_format(args.output)
    if args.plot:
        _require_png(args.plot, "the dope sheet")
    _check_workers(args)
    check_fps(args.fps)
    target = export_target(args.output, args.avatar, args.rig, args.jaw_bone, args.tolerance)
    speech, curves, method = _animated(args)
    detail = write_curves(args.output, curves, target, speech.alignment, speech.mode, method)
    if args.plot:
        from .animate.plot import plot_curves

        plot_curves(curves, speech.alignment, args.plot)
    if not args.quiet:
        print(f"wrote {args.output}: {curves.frames} frames at {curves.fps:g} fps ({speech.mode}, {method}){detail}")
    return 0


def run_render(args: argparse.Namespace) -> int:
    from .render.video import parse_frames, render_mp4, render_pngs

    mp4, options, avatar = _render_setup(args)
    audio, curves, mode = _render_curves(args)
    frames = parse_frames(args.frames, curves.frames) if args.frames else None
    progress = _progress("render", args.quiet, unit="frame")
    if mp4:
        render_mp4(avatar, curves, audio, args.output, options, frames, progress)
    else:
        render_pngs(avatar, curves, args.output, options, frames, progress)
    if not args.quiet:
        what = f"frames {frames.start}-{frames[-1]} of {curves.frames}" if frames else f"{curves.frames} frames"
        print(f"wrote {args.output}: {what}, {options.width}x{options.height} at {options.fps:g} fps ({mode})")
    return 0


def _render_setup(args: argparse.Namespace):
    """Whether the output is an MP4, the video options and the avatar, every setting checked before the
    (slow) alignment starts."""
    from .animate import check_fps
    from .avatar import load_avatar
    from .render.video import (VideoOptions, check_png_pattern, check_segment_start, parse_background,
                               parse_frames, parse_size)
    from .rig import choose_profile

    mp4 = args.output.suffix.lower() == ".mp4"
    if mp4:
        check_output_folder(args.output)
    elif args.output.suffix.lower() == ".png":
        check_png_pattern(args.output)
    else:
        raise UserError(f"{args.output}: write the video as .mp4, or PNG frames as e.g. frames/talk_%05d.png")
    check_fps(args.fps)
    options = VideoOptions(*parse_size(args.size), fps=args.fps, aa=args.aa, camera=args.camera,
                           background=parse_background(args.background), gop=args.gop, rig=args.rig)
    options.check(mp4)
    _check_workers(args)
    avatar = load_avatar(args.avatar or default_avatar_path())
    choose_profile(avatar, args.rig)
    if args.frames:  # the syntax and the keyframe now, the range once the clip's length is known
        wanted = parse_frames(args.frames, total=sys.maxsize)
        if mp4:
            check_segment_start(wanted, options.keyframes)
    return mp4, options, avatar


def _render_curves(args: argparse.Namespace):
    """The audio, the curves to render (animated now, or read from --curves) and how they were made."""
    from .animate.curves import frame_count

    if args.curves is None:
        speech, curves, method = _animated(args)
        return speech.audio, curves, f"{speech.mode}, {method}"
    from .audio import load_audio
    from .export.curves_json import read_curves_json

    audio, curves = load_audio(args.audio), read_curves_json(args.curves)
    if curves.fps != args.fps or curves.frames != frame_count(audio.duration, curves.fps):
        raise UserError(f"{args.curves}: {curves.frames} frames at {curves.fps:g} fps do not fit this audio at "
                        f"--fps {args.fps:g}; animate it again with --fps {args.fps:g}")
    return audio, curves, f"curves from {args.curves}"


def run_concat(args: argparse.Namespace) -> int:
    from .audio import load_audio
    from .render.video import concat_mp4

    if args.output.suffix.lower() != ".mp4":
        raise UserError(f"{args.output}: the joined video is an .mp4")
    check_output_folder(args.output)
    concat_mp4(args.segments, load_audio(args.audio), args.output)
    if not args.quiet:
        print(f"wrote {args.output}: {len(args.segments)} segments joined, with the audio of {args.audio}")
    return 0


def run_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch as run

    report = run(args.jobs, args.out, args.scheduler, args.workers, args.chunk, args.retry_failed,
                 _progress("batch", args.quiet, unit="job"))
    if not args.quiet:
        print(_batch_table(report))
    _print_failures(report)
    return 1 if report.failed else 0


def _batch_table(report) -> str:
    """The summary: jobs by outcome, the working seconds (prepare, render, join) of those done, the wall time."""
    records = report.manifest.records
    work = sum(records[i].seconds.get(step, 0.0) for i in report.done for step in ("prepare", "render", "join"))
    unchanged = len(report.unchanged_failures)
    note = f"{unchanged} unchanged since the last run: fix the input, or --retry-failed" if unchanged else ""
    rows = [("", "jobs", "time", ""), ("done", len(report.done), f"{work:.1f} s", "working time of the jobs done"),
            ("skipped", len(report.skipped), "", "done before, inputs unchanged"),
            ("failed", len(report.failed), "", note),
            ("total", report.total, f"{report.seconds:.1f} s", f"wall; manifest {report.manifest.path}")]
    return "\n".join(f"{a:9}{b:>6}{c:>10}   {d}".rstrip() for a, b, c, d in rows)


def _print_failures(report, shown: int = 20) -> None:
    """The failed jobs' errors on stderr, one line each (the first `shown`)."""
    for job_id in report.failed[:shown]:
        print(f"meshsync: failed: {job_id}: {report.manifest.records[job_id].error}", file=sys.stderr)
    if len(report.failed) > shown:
        print(f"meshsync: ... and {len(report.failed) - shown} more failed jobs; see {report.manifest.path}",
              file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
