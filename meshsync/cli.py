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

log = logging.getLogger("meshsync")


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
    animate.add_argument("-o", "--output", type=Path, required=True, help="curves.csv (Live Link Face) or .json")
    animate.add_argument("--plot", type=Path, help="also draw a dope sheet of the key channels (PNG)")
    animate.set_defaults(run=run_animate)
    return parser


def _speech_arguments(parser: argparse.ArgumentParser, transcript_required: bool) -> None:
    """The audio and its transcript or alignment, shared by every command that takes speech."""
    parser.add_argument("audio", type=Path, help="speech: wav, flac, ogg, mp3, m4a, opus, or a video with sound")
    source = parser.add_mutually_exclusive_group(required=transcript_required)
    source.add_argument("--text", help="the transcript, or a UTF-8 .txt file holding it")
    source.add_argument("--alignment", type=Path, help="a Montreal Forced Aligner / Praat TextGrid to read instead")
    parser.add_argument("--aligner", choices=ALIGNERS, default="pocketsphinx",
                        help="pocketsphinx (built in, default) or mfa (an installed Montreal Forced Aligner)")
    parser.add_argument("--lexicon", type=Path, help="extra pronunciations, CMU or MFA dictionary format")
    parser.add_argument("--workers", type=int, default=2, help="processes for long audio (default 2)")
    parser.add_argument("--quiet", action="store_true", help="print errors only")


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


def _progress_bar(label: str, quiet: bool):
    """A progress bar on a terminal, nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        filled = round(30 * done / total)
        end = "\n" if done == total else ""
        print(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end=end, file=sys.stderr,
              flush=True)

    return show


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


def _check_outputs(args: argparse.Namespace, what: str, formats: dict[str, str], plot: str) -> str:
    """Refuse an output format or folder that cannot work before any work is done; the output's suffix."""
    suffix = args.output.suffix.lower()
    if suffix not in formats:
        raise UserError(f"{args.output}: write the {what} as {' or '.join(formats.values())}")
    check_output_folder(args.output)
    if args.plot:
        _require_png(args.plot, plot)
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    return suffix


def _speech(args: argparse.Namespace, listen: bool = False):
    """The audio, and the alignment the speech arguments ask for (aligned now, or read). Without a
    transcript: None, or with `listen` the words PocketSphinx recognises, aligned."""
    from .align.speech import align_speech
    from .audio import load_audio

    audio = load_audio(args.audio)
    text = args.text
    if text is None and args.alignment is None:
        if not listen:
            return audio, None
        from .align.recognize import recognize

        log.info("no transcript: recognising English words (--method network listens in any language)")
        text = recognize(audio, _progress_bar("recognise", args.quiet))
    return audio, align_speech(audio, text, args.alignment, args.aligner, args.lexicon, args.workers,
                               _progress_bar("align", args.quiet))


def run_align(args: argparse.Namespace) -> int:
    from .align import write_json

    suffix = _check_outputs(args, "alignment", ALIGNMENT_FORMATS, "the plot")
    audio, alignment = _speech(args)
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


def _mode(alignment, listened: bool) -> str:
    if alignment is None:
        return "audio-only"
    return "audio-only, recognised words" if listened else "text-aligned"


CURVE_FORMATS = {".csv": ".csv (Live Link Face)", ".json": ".json"}


def run_animate(args: argparse.Namespace) -> int:
    from .animate import animate, check_fps, resolve_method

    suffix = _check_outputs(args, "curves", CURVE_FORMATS, "the dope sheet")
    check_fps(args.fps)
    listened = args.text is None and args.alignment is None
    audio, alignment = _speech(args, listen=args.method != "network")
    method = resolve_method(alignment, args.method)
    curves = animate(audio, alignment, fps=args.fps, method=method)
    if suffix == ".csv":
        from .export.livelink import write_livelink_csv

        write_livelink_csv(curves, args.output)
    else:
        from .export.curves_json import write_curves_json

        write_curves_json(curves, args.output, alignment, _mode(alignment, listened), method)
    if args.plot:
        from .animate.plot import plot_curves

        plot_curves(curves, alignment, args.plot)
    if not args.quiet:
        print(f"wrote {args.output}: {curves.frames} frames at {curves.fps:g} fps "
              f"({_mode(alignment, listened)}, {method})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
