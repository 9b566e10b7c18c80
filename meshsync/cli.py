"""The `meshsync` command: argument parsing only. Flags that are a stage's options are named like the fields
of its options value (meshsync.options), which holds their defaults and checks; each command builds those
values and calls the stages."""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import __version__
from .align import ALIGNERS
from .align.speech import WORKERS, SpeechOptions
from .animate import CURVES_FPS, METHODS, AnimationOptions
from .errors import UserError, one_line
from .export import FORMATS, WEIGHT_STORAGE, ExportOptions
from .files import (
    atomic_output,
    avatar_path,
    bundled_avatars,
    check_not_inputs,
    check_output_folder,
    default_avatar_path,
)
from .languages import languages
from .options import build, check_workers
from .provenance import Provenance, SigningOptions
from .provenance import inputs as provenance_inputs
from .render.camera import camera_presets
from .render.sheet import SHEET_AA
from .render.video import LABEL_CORNERS, VIDEO_FPS, VideoOptions
from .rig import RigOptions, load_profiles

log = logging.getLogger("meshsync")
# The flags and arguments that name input files, of any command (an output must not overwrite one).
INPUT_ARGUMENTS = ("audio", "text", "alignment", "lexicon", "curves", "avatar", "rig", "background", "sign_key",
                   "sign_cert")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)  # handled as Ctrl-C (SIGINT) is
AVATAR_HELP = "a glTF/GLB avatar, or a bundled one's name (`meshsync avatars`; default: the first listed)"
USAGE_ERROR = 2  # exit status of a command line argparse cannot parse (1: any other error)


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP (how render farms and terminals stop a task), unwound like Ctrl-C: temporary files
    and work folders are removed, and a batch keeps its finished jobs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame) -> None:
    raise Stopped(signum)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _log_to_stderr(quiet=getattr(args, "quiet", False))
    handlers = {signum: signal.signal(signum, _stop) for signum in STOP_SIGNALS}
    try:
        return args.run(args)
    except UserError as exc:
        print(f"meshsync: error: {exc}", file=sys.stderr)
        return 1
    except Stopped as exc:
        print(f"meshsync: stopped by {exc}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("meshsync: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line like every other error, and a value that starts with a minus
    sign (--fps -inf, --size -320x180, --frames -1-5) is a value for its option's check, not an unknown flag."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    def error(self, message: str):
        self.exit(USAGE_ERROR, f"meshsync: error: {one_line(message)}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="meshsync", description="Audio-driven lip sync for 3D avatars.")
    parser.add_argument("--version", action="version", version=f"meshsync {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    poses = commands.add_parser("poses", help="render a labelled contact sheet of mouth and eye poses to a PNG")
    poses.add_argument("--avatar", type=Path, default=None, help=AVATAR_HELP)
    poses.add_argument("-o", "--output", type=Path, required=True, help="PNG file to write")
    poses.add_argument("--aa", type=float, default=SHEET_AA,
                       help=f"supersampling factor, 1 (off) to 4 (default {SHEET_AA:g})")
    poses.add_argument("--visemes", action="store_true",
                       help="one frame per viseme of the table (every phone class) instead of single shapes")
    poses.set_defaults(run=run_poses)

    avatars = commands.add_parser("avatars", help="list the bundled avatars, one a line: name, file, about")
    avatars.set_defaults(run=run_avatars)

    languages = commands.add_parser("languages", help="list the languages meshsync aligns, with what was measured")
    languages.set_defaults(run=run_languages)

    inspect = commands.add_parser("inspect", help="describe an avatar: meshes, morph targets, convention, landmarks")
    inspect.add_argument("avatar", type=Path, help=AVATAR_HELP)
    inspect.add_argument("--json", action="store_true", help="print machine-readable JSON")
    inspect.set_defaults(run=run_inspect)

    align = commands.add_parser("align", help="time the words and phones of a transcript in speech audio")
    _speech_arguments(align, transcript_required=True)
    align.add_argument("-o", "--output", type=Path, required=True, help="phones.json or phones.TextGrid")
    align.add_argument("--plot", type=Path, help="also draw the waveform with the word and phone tiers (PNG)")
    align.set_defaults(run=run_align)

    animate = commands.add_parser("animate", help="speech -> ARKit blendshape curves, cues, or your avatar animated")
    _speech_arguments(animate, transcript_required=False)
    animate.add_argument("--fps", help=f"frames per second (default {CURVES_FPS:g})")
    _animation_arguments(animate)
    formats = "; ".join(f"{' or '.join(f.suffixes)} ({f.title})" for f in FORMATS)
    animate.add_argument("-o", "--output", type=Path, required=True, help=f"the file to write: {formats}")
    _rig_arguments(animate, "for the avatar formats: ")
    animate.add_argument("--tolerance", help="for .glb/.gltf: largest weight error of the reduced keyframes "
                                             f"(default {ExportOptions.tolerance:g})")
    animate.add_argument("--weights", help=f"for .glb/.gltf: how weights are stored, {' or '.join(WEIGHT_STORAGE)} "
                                           "(normalised integers, about 4x smaller; Godot 3.2.3 and Assimp 5.2 "
                                           f"misread them) (default {ExportOptions.weights})")
    animate.add_argument("--plot", type=Path, help="also draw a dope sheet of the main mouth channels (PNG)")
    animate.set_defaults(run=run_animate)

    render = commands.add_parser("render", help="speech -> MP4 of the talking head (or PNG frames), headless")
    source = _speech_arguments(render, transcript_required=False)
    source.add_argument("--curves", type=Path, help="render curves from `meshsync animate -o X.json` instead")
    render.add_argument("-o", "--output", type=Path, required=True,
                        help="talk.mp4, or a PNG sequence such as frames/talk_%%05d.png")
    _rig_arguments(render, "")
    width, height = VideoOptions.size
    render.add_argument("--size", help=f"WIDTHxHEIGHT (default {width}x{height})")
    render.add_argument("--fps", help=f"frames per second (default {VIDEO_FPS:g})")
    render.add_argument("--aa", help="supersampling: render this much larger and scale down, 1 (off) to 4 "
                                     f"(default {VideoOptions.aa:g})")
    render.add_argument("--background", help="a colour (#4a5866, 'white') or an image file (default: grey-blue)")
    render.add_argument("--camera", help=f"framing: {', '.join(camera_presets())} (default {VideoOptions.camera})")
    render.add_argument("--frames", help="render only frames START-END (inclusive, from 0): an MP4 segment "
                                         "for `meshsync concat`, or those PNGs")
    render.add_argument("--gop", help="frames between keyframes (default: one second); "
                                      "MP4 segments start on multiples of it")
    render.add_argument("--label", help='a visible label on every frame, e.g. "AI-generated" (default: none)')
    render.add_argument("--label-corner", help=f"where the label goes: {', '.join(LABEL_CORNERS)} "
                                               f"(default {VideoOptions.label_corner})")
    render.add_argument("--label-size", help="the label's text height, a share of the frame's height "
                                             f"(default {VideoOptions.label_size:g})")
    _animation_arguments(render)
    _signing_arguments(render)
    render.set_defaults(run=run_render)

    concat = commands.add_parser("concat", help="join MP4 segments from `render --frames` with the audio")
    concat.add_argument("segments", type=Path, nargs="+", help="the segments, in any order")
    concat.add_argument("--audio", type=Path, required=True, help="the speech the segments were rendered from")
    concat.add_argument("-o", "--output", type=Path, required=True, help="talk.mp4")
    concat.add_argument("--quiet", action="store_true", help="print errors only")
    _signing_arguments(concat)
    concat.set_defaults(run=run_concat)

    verify = commands.add_parser("verify", help="read the content credentials of MP4 and PNG files (valid, "
                                                "tampered or missing), look for the watermark in videos and "
                                                "images, and read glTF exports' statements")
    verify.add_argument("files", type=Path, nargs="+", help="MP4, PNG (or re-encoded: MOV, MKV, WebM, JPEG, "
                                                            "WebP), GLB, glTF or VRMA files")
    verify.add_argument("--json", action="store_true", help="one JSON object a line, for tools")
    verify.set_defaults(run=run_verify)

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


def _speech_arguments(parser: argparse.ArgumentParser, transcript_required: bool):
    """The audio and SpeechOptions' flags, shared by every command that takes speech; returns the group of
    mutually exclusive sources."""
    parser.add_argument("audio", type=Path, help="speech: wav, flac, ogg, mp3, m4a, opus, or a video with sound")
    source = parser.add_mutually_exclusive_group(required=transcript_required)
    source.add_argument("--text", help="the transcript, or a UTF-8 .txt file holding it")
    source.add_argument("--alignment", help="a Montreal Forced Aligner / Praat TextGrid to read instead")
    parser.add_argument("--language", help="the transcript's language: en, de, fr, es, it, pt-br, nl, pl, ... "
                                           f"(`meshsync languages` lists them; default {SpeechOptions.language})")
    parser.add_argument("--aligner", help=f"{' or '.join(ALIGNERS)}: pocketsphinx is built in, mfa runs an installed "
                                          f"Montreal Forced Aligner (default {SpeechOptions.aligner})")
    parser.add_argument("--lexicon", help="extra pronunciations: CMU or MFA dictionary format, or `word<TAB>ipa`")
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"processes for long audio (default {WORKERS})")
    parser.add_argument("--quiet", action="store_true", help="print errors only")
    return source


def _animation_arguments(parser: argparse.ArgumentParser) -> None:
    """AnimationOptions' flags but the frame rate (whose default is the command's)."""
    parser.add_argument("--method", help=f"{' or '.join(METHODS)}: the rules (default; without a transcript they "
                                         "first recognise the phones, any language) or the network (listens "
                                         "to the audio alone)")
    parser.add_argument("--still", action="store_true", help="no blinks, head motion or gaze: the mouth only")
    parser.add_argument("--seed", help=f"seed of the blinks, head motion and gaze (default {AnimationOptions.seed})")
    parser.add_argument("--articulation", help="how far the mouth moves: 0.5 subtle, 1 natural, 1.5 clear, for "
                                               "e-learning (default "
                                               f"{AnimationOptions.articulation:g}); p/b/m always seal")


def _signing_arguments(parser: argparse.ArgumentParser) -> None:
    """SigningOptions' flags."""
    parser.add_argument("--sign-key", type=Path, help="sign the content credentials with this PEM private key "
                                                      "(with --sign-cert; default: this machine's own key)")
    parser.add_argument("--sign-cert", type=Path, help="the PEM certificate chain of --sign-key, yours first")


def _rig_arguments(parser: argparse.ArgumentParser, scope: str) -> None:
    """RigOptions' flags."""
    profiles = ", ".join(p.name for p in load_profiles())
    parser.add_argument("--avatar", help=scope + AVATAR_HELP)
    parser.add_argument("--rig", help=f"{scope}rig profile: {profiles}, or a custom .toml (default: detected from "
                                      "the avatar)")
    parser.add_argument("--jaw-bone", help=f"{scope}the joint jawOpen turns (default: a joint named like jaw, when "
                                           "the avatar has no jawOpen morph target)")


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
    avatar = load_avatar(avatar_path(args.avatar))
    if args.visemes:
        from .render.sheet import viseme_poses

        save_pose_sheet(avatar, args.output, aa=args.aa, poses=viseme_poses(), camera="closeup")
    else:
        save_pose_sheet(avatar, args.output, aa=args.aa)
    print(f"wrote {args.output}")
    return 0


def run_avatars(args: argparse.Namespace) -> int:
    """One bundled avatar a line: name, file size, what it is; the default first."""
    for avatar in bundled_avatars().values():
        print(f"{avatar.name:8s} {avatar.path.name:10s} {avatar.path.stat().st_size / 1e6:4.1f} MB  {avatar.about}")
    return 0


def run_languages(args: argparse.Namespace) -> int:
    """One language a line: code, name, status, and the figures measured for it."""
    for language in languages().values():
        figures = f"  {language.figures}" if language.figures else ""
        print(f"{language.code:6s} {language.name:22s} {language.status}{figures}")
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from .avatar import load_avatar
    from .rig.describe import describe, format_description

    description = describe(load_avatar(avatar_path(args.avatar)))
    print(json.dumps(description, indent=2) if args.json else format_description(description))
    return 0


def _speech(args: argparse.Namespace, listen: bool = False):
    """The speech the arguments name: the audio with its alignment (aligned now, read, or with `listen` from
    recognised phones), as meshsync.align.speech.load_speech gives it."""
    from .align.speech import load_speech
    from .listen import listen as heard_phones

    return load_speech(args.audio, build(SpeechOptions, vars(args)), heard_phones if listen else None,
                       args.workers, lambda label: _progress(label, args.quiet))


def _check_outputs(args: argparse.Namespace, *outputs: Path | None) -> None:
    """No output may be one of the command's input files: writing it would destroy what it is made from."""
    inputs = [getattr(args, name, None) for name in INPUT_ARGUMENTS]
    check_not_inputs(outputs, [*inputs, *getattr(args, "segments", [])])


@contextmanager
def _plot_beside(args: argparse.Namespace):
    """With --plot, a temporary path to draw the plot to before the main output is written, moved into place
    after it: a job writes both or neither."""
    if not args.plot:
        yield None
        return
    with atomic_output(args.plot) as tmp:
        yield tmp


def run_align(args: argparse.Namespace) -> int:
    from .align.output import check_alignment_output, write_alignment

    check_alignment_output(args.output)
    if args.plot:
        _require_png(args.plot, "the plot")
    _check_outputs(args, args.output, args.plot)
    check_workers(args.workers)
    speech = _speech(args)
    audio, alignment = speech.audio, speech.alignment
    with _plot_beside(args) as plot:
        if plot:
            from .align.plot import plot_alignment

            plot_alignment(audio, alignment, plot)
        write_alignment(alignment, args.output)
    if not args.quiet:
        print(f"wrote {args.output}: {len(alignment.words)} words, {len(alignment.phones)} phones, "
              f"confidence {alignment.confidence:.2f}")
    return 0


def _animated(args: argparse.Namespace, options: AnimationOptions):
    """The speech and the curves animated from it as the options ask, and the method used."""
    from .animate import animate, resolve_method

    speech = _speech(args, listen=options.listens)
    method = resolve_method(speech.alignment, options.method)
    return speech, animate(speech.audio, speech.alignment, options), method


def run_animate(args: argparse.Namespace) -> int:
    from .export import Export, check_format

    fmt = check_format(args.output)
    if args.plot:
        _require_png(args.plot, "the dope sheet")
    check_workers(args.workers)
    options, export_options = build(AnimationOptions, vars(args)), build(ExportOptions, vars(args))
    rig_options = build(RigOptions, vars(args))
    if not fmt.avatar and rig_options != RigOptions():
        avatar_suffixes = ", ".join(s for f in FORMATS if f.avatar for s in f.suffixes)
        raise UserError(f"{args.output}: this format holds ARKit curves, not an avatar's shapes; --avatar, --rig "
                        f"and --jaw-bone apply to {avatar_suffixes}")
    _check_outputs(args, args.output, args.plot)
    rig = rig_options.load() if fmt.avatar else None
    speech, curves, method = _animated(args, options)
    with _plot_beside(args) as plot:
        if plot:
            from .animate.plot import plot_curves

            plot_curves(curves, speech.alignment, plot, _lip_gap(curves))
        detail = fmt.write(Export(curves, rig, export_options, speech.alignment, speech.mode, method,
                                  str(args.audio)), args.output)
    if not args.quiet:
        print(f"wrote {args.output}: {curves.frames} frames at {curves.fps:g} fps ({speech.mode}, {method}){detail}")
    return 0


def _lip_gap(curves):
    """The lip gap in mm that the curves give the default avatar, whose landmarks meshsync measures."""
    from .avatar import load_avatar
    from .eval import measure

    return measure(curves, load_avatar(default_avatar_path())).gap


def run_render(args: argparse.Namespace) -> int:
    from .render.video import parse_frames, render_mp4, render_pngs

    mp4, video, rig = _render_setup(args)
    signing = build(SigningOptions, vars(args))
    audio, curves, mode = _render_curves(args, replace(build(AnimationOptions, vars(args)), fps=video.fps))
    frames = parse_frames(args.frames, curves.frames) if args.frames else None
    progress = _progress("render", args.quiet, unit="frame")
    speech = build(SpeechOptions, vars(args))
    credentials = Provenance(provenance_inputs(args.audio, speech.text, speech.alignment, rig.avatar.path), signing)
    if mp4:
        render_mp4(rig, curves, audio, args.output, video, frames, progress, credentials)
    else:
        render_pngs(rig, curves, args.output, video, frames, progress, credentials)
    if not args.quiet:
        what = f"frames {frames.start}-{frames[-1]} of {curves.frames}" if frames else f"{curves.frames} frames"
        print(f"wrote {args.output}: {what}, {video.width}x{video.height} at {video.fps:g} fps ({mode})")
    return 0


def _render_setup(args: argparse.Namespace):
    """Whether the output is an MP4, the video options and the rig, every setting checked before the (slow)
    alignment starts."""
    from .render.video import check_segment_start, check_video_output, parse_frames

    mp4 = check_video_output(args.output)
    _check_outputs(args, args.output)
    video = build(VideoOptions, vars(args))
    if mp4:
        video.check_mp4()
    check_workers(args.workers)
    rig = build(RigOptions, vars(args)).load()
    if args.frames:  # the syntax and the keyframe now, the range once the clip's length is known
        wanted = parse_frames(args.frames, total=sys.maxsize)
        if mp4:
            check_segment_start(wanted, video.keyframes)
    return mp4, video, rig


def _render_curves(args: argparse.Namespace, options: AnimationOptions):
    """The audio, the curves to render (animated now, or read from --curves) and how they were made."""
    from .animate.curves import frame_count

    if args.curves is None:
        speech, curves, method = _animated(args, options)
        return speech.audio, curves, f"{speech.mode}, {method}"
    from .audio import load_audio
    from .export.curves_json import read_curves_json

    audio, curves = load_audio(args.audio), read_curves_json(args.curves)
    if curves.fps != options.fps or curves.frames != frame_count(audio.duration, curves.fps):
        raise UserError(f"{args.curves}: {curves.frames} frames at {curves.fps:g} fps do not fit this audio at "
                        f"--fps {options.fps:g}; animate it again with --fps {options.fps:g}")
    return audio, curves, f"curves from {args.curves}"


def run_concat(args: argparse.Namespace) -> int:
    from .audio import load_audio
    from .render.video import concat_mp4

    if args.output.suffix.lower() != ".mp4":
        raise UserError(f"{args.output}: the joined video is an .mp4")
    check_output_folder(args.output)
    _check_outputs(args, args.output)
    signing = build(SigningOptions, vars(args))
    concat_mp4(args.segments, load_audio(args.audio), args.output,
               Provenance(provenance_inputs(args.audio), signing))
    if not args.quiet:
        print(f"wrote {args.output}: {len(args.segments)} segments joined, with the audio of {args.audio}")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """One line per file (or a JSON object with --json); exit status 1 unless every file carries a mark
    (valid credentials, a glTF statement, or the watermark) and none was changed since it was signed."""
    from .provenance import verify

    verdicts = [verify(path) for path in args.files]
    for verdict in verdicts:
        print(json.dumps(verdict.as_json()) if args.json else verdict.line())
    return 0 if all(v.found for v in verdicts) else 1


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
