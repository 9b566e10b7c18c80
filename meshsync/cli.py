"""The `meshsync` command: argument parsing only; each command calls one function of the stages."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

import numpy as np

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


def _check_outputs(args: argparse.Namespace, what: str, formats: dict[str, str], plot: str) -> str:
    """Refuse an output format or folder that cannot work before any work is done; the output's suffix."""
    suffix = args.output.suffix.lower()
    if suffix not in formats:
        raise UserError(f"{args.output}: write the {what} as {' or '.join(formats.values())}")
    check_output_folder(args.output)
    if args.plot:
        _require_png(args.plot, plot)
    _check_workers(args)
    return suffix


def _check_workers(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise UserError("--workers must be at least 1")


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
        text = recognize(audio, _progress("recognise", args.quiet))
    return audio, align_speech(audio, text, args.alignment, args.aligner, args.lexicon, args.workers,
                               _progress("align", args.quiet))


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


CURVE_FORMATS = {".csv": ".csv (Live Link Face)", ".json": ".json", ".glb": ".glb", ".gltf": ".gltf",
                 ".tsv": ".tsv or .rhubarb.json (Rhubarb mouth cues)", ".usda": ".usda", ".usdc": ".usdc",
                 ".usd": ".usd"}
AVATAR_FORMATS = (".glb", ".gltf", ".usda", ".usdc", ".usd")  # the formats that hold an avatar's own targets


def _animated(args: argparse.Namespace):
    """The audio, its alignment (or None), the curves animated as the arguments ask, the mode and method."""
    from .animate import animate, resolve_method

    listened = args.text is None and args.alignment is None
    audio, alignment = _speech(args, listen=args.method != "network")
    method = resolve_method(alignment, args.method)
    curves = animate(audio, alignment, fps=args.fps, method=method, still=args.still, seed=args.seed)
    return audio, alignment, curves, _mode(alignment, listened), method


def run_animate(args: argparse.Namespace) -> int:
    from .animate import check_fps

    suffix = _check_outputs(args, "curves", CURVE_FORMATS, "the dope sheet")
    check_fps(args.fps)
    target = _export_target(args, suffix)
    audio, alignment, curves, mode, method = _animated(args)
    detail = _export(args, suffix, curves, target, alignment, mode, method)
    if args.plot:
        from .animate.plot import plot_curves

        plot_curves(curves, alignment, args.plot)
    if not args.quiet:
        print(f"wrote {args.output}: {curves.frames} frames at {curves.fps:g} fps ({mode}, {method}){detail}")
    return 0


def _export_target(args: argparse.Namespace, suffix: str):
    """For an avatar format, the avatar, its rig profile and its jaw joint (or None), all checked before any
    work; None for the other formats."""
    if suffix not in AVATAR_FORMATS:
        if args.avatar or args.rig or args.jaw_bone:
            raise UserError(f"{args.output}: this format holds ARKit curves, not an avatar's targets; "
                            "--avatar, --rig and --jaw-bone apply to .glb, .gltf and USD")
        return None
    from .avatar import load_avatar
    from .export.keys import check_tolerance
    from .rig import choose_profile, jaw_joint

    if args.tolerance is not None:
        check_tolerance(args.tolerance)
    avatar = load_avatar(args.avatar or default_avatar_path())
    return avatar, choose_profile(avatar, args.rig), jaw_joint(avatar, args.jaw_bone)


def _export(args: argparse.Namespace, suffix: str, curves, target, alignment, mode: str, method: str) -> str:
    """Write the curves in the output's format; a note for the summary line."""
    if suffix == ".csv":
        from .export.livelink import write_livelink_csv

        write_livelink_csv(curves, args.output)
    elif suffix == ".tsv" or args.output.name.lower().endswith(".rhubarb.json"):
        from .export.cues import write_cues

        return f", {len(write_cues(curves, args.output))} mouth cues"
    elif suffix == ".json":
        from .export.curves_json import write_curves_json

        write_curves_json(curves, args.output, alignment, mode, method)
    else:
        from .rig import jaw_track, morph_weights, solve

        avatar, profile, joint = target
        rig = solve(curves, profile)
        if suffix in (".glb", ".gltf"):
            from .export.gltf import write_gltf
            from .export.keys import DEFAULT_TOLERANCE

            tolerance = DEFAULT_TOLERANCE if args.tolerance is None else args.tolerance
            jaw = jaw_track(curves, joint) if joint else None
            report = write_gltf(avatar, morph_weights(rig, avatar), curves.fps, args.output, tolerance, jaw)
            bone = f", jaw bone {joint.name}" if joint else ""
            return (f", rig {profile.name}{bone}, {report.keys} of {report.frames} keys, animation "
                    f"{report.animation_bytes / 1000:.0f} kB ({report.full_bytes / report.animation_bytes:.1f}x "
                    f"smaller than every frame as float)")
        from .export.usd import write_usd

        write_usd(rig, args.output)
        return f", rig {profile.name}"
    return ""


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
    from .render.video import VideoOptions, check_png_pattern, check_segment_start, parse_frames
    from .rig import choose_profile

    mp4 = args.output.suffix.lower() == ".mp4"
    if mp4:
        check_output_folder(args.output)
    elif args.output.suffix.lower() == ".png":
        check_png_pattern(args.output)
    else:
        raise UserError(f"{args.output}: write the video as .mp4, or PNG frames as e.g. frames/talk_%05d.png")
    check_fps(args.fps)
    options = VideoOptions(*_size(args.size), fps=args.fps, aa=args.aa, camera=args.camera,
                           background=_background(args.background), gop=args.gop, rig=args.rig)
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
        audio, _, curves, mode, method = _animated(args)
        return audio, curves, f"{mode}, {method}"
    from .audio import load_audio
    from .export.curves_json import read_curves_json

    audio, curves = load_audio(args.audio), read_curves_json(args.curves)
    if curves.fps != args.fps or curves.frames != frame_count(audio.duration, curves.fps):
        raise UserError(f"{args.curves}: {curves.frames} frames at {curves.fps:g} fps do not fit this audio at "
                        f"--fps {args.fps:g}; animate it again with --fps {args.fps:g}")
    return audio, curves, f"curves from {args.curves}"


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None:
        raise UserError(f"--size '{text}': give WIDTHxHEIGHT, e.g. 1280x720")
    return int(match.group(1)), int(match.group(2))


def _background(value: str | None):
    """An sRGB colour (0..1) or an RGB image array from --background."""
    from PIL import Image, ImageColor, UnidentifiedImageError

    from .render.renderer import DEFAULT_BACKGROUND

    if value is None:
        return DEFAULT_BACKGROUND
    path = Path(value)
    if path.is_file():
        try:
            with Image.open(path) as image:
                return np.asarray(image.convert("RGB"))
        except (UnidentifiedImageError, OSError) as exc:
            raise UserError(f"--background {value}: not an image PIL can read ({exc})") from exc
    try:
        return tuple(c / 255 for c in ImageColor.getrgb(value)[:3])
    except ValueError:
        raise UserError(f"--background '{value}': not a colour (#rrggbb, or a name such as white) "
                        "nor an image file") from None


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


if __name__ == "__main__":
    sys.exit(main())
