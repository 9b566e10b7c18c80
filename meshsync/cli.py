"""The `meshsync` command: argument parsing only; each command calls one function of the stages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import UserError
from .files import default_avatar_path


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    return parser


def run_poses(args: argparse.Namespace) -> int:
    from .avatar import load_avatar
    from .render.sheet import save_pose_sheet

    if args.output.suffix.lower() != ".png":
        raise UserError(f"{args.output}: the pose sheet is a PNG; give an output path ending in .png")
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


if __name__ == "__main__":
    sys.exit(main())
