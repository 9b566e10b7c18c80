"""The `meshsync` command: argument parsing only; each command calls one function of the stages."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from . import __version__
from .align import ALIGNERS
from .errors import UserError
from .files import default_avatar_path


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
    align.add_argument("audio", type=Path, help="speech: wav, flac, ogg, mp3, m4a, opus, or a video with sound")
    source = align.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", help="the transcript, or a UTF-8 .txt file holding it")
    source.add_argument("--alignment", type=Path, help="a Montreal Forced Aligner / Praat TextGrid to read instead")
    align.add_argument("--aligner", choices=ALIGNERS, default="pocketsphinx",
                       help="pocketsphinx (built in, default) or mfa (an installed Montreal Forced Aligner)")
    align.add_argument("--lexicon", type=Path, help="extra pronunciations, CMU or MFA dictionary format")
    align.add_argument("-o", "--output", type=Path, required=True, help="phones.json or phones.TextGrid")
    align.add_argument("--plot", type=Path, help="also draw the waveform with the word and phone tiers (PNG)")
    align.add_argument("--workers", type=int, default=2, help="processes for long audio (default 2)")
    align.add_argument("--quiet", action="store_true", help="print errors only")
    align.set_defaults(run=run_align)
    return parser


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


ALIGNMENT_FORMATS = (".json", ".textgrid")


def run_align(args: argparse.Namespace) -> int:
    from .align import write_json
    from .align.speech import align_speech
    from .audio import load_audio

    suffix = args.output.suffix.lower()
    if suffix not in ALIGNMENT_FORMATS:
        raise UserError(f"{args.output}: write the alignment as .json or .TextGrid")
    if args.plot:
        _require_png(args.plot, "the plot")
    if args.workers < 1:
        raise UserError("--workers must be at least 1")
    audio = load_audio(args.audio)
    alignment = align_speech(audio, args.text, args.alignment, args.aligner, args.lexicon, args.workers,
                             _progress_bar("align", args.quiet))
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


if __name__ == "__main__":
    sys.exit(main())
