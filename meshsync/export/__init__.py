"""Exports: curves to the files game engines and DCC tools read, one module per format; the format is the
output's suffix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UserError
from ..files import check_output_folder, default_avatar_path

if TYPE_CHECKING:  # the exporters import these when they write
    from ..align import Alignment
    from ..animate import Curves
    from ..avatar import Avatar, Joint
    from ..rig import Profile

FORMATS = {".csv": ".csv (Live Link Face)", ".json": ".json", ".glb": ".glb", ".gltf": ".gltf",
           ".tsv": ".tsv or .rhubarb.json (Rhubarb mouth cues)", ".usda": ".usda", ".usdc": ".usdc", ".usd": ".usd"}
AVATAR_FORMATS = (".glb", ".gltf", ".usda", ".usdc", ".usd")  # the formats that hold an avatar's own targets


@dataclass(frozen=True, eq=False)
class Target:
    """What an avatar format is written for: the avatar, its rig profile, its jaw joint (or None), and the
    keyframe tolerance (None: the default)."""

    avatar: Avatar
    profile: Profile
    joint: Joint | None
    tolerance: float | None


def check_format(path: Path) -> str:
    """The output's suffix, refused before any work when no exporter writes it or its folder cannot be written."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UserError(f"{path}: write the curves as {' or '.join(FORMATS.values())}")
    check_output_folder(path)
    return suffix


def export_target(path: Path, avatar: Path | None = None, rig: str | None = None, jaw_bone: str | None = None,
                  tolerance: float | None = None) -> Target | None:
    """For an avatar format, the avatar (default: the bundled head) with its rig profile and jaw joint, all
    checked before any work; None for the formats that hold ARKit curves only."""
    if path.suffix.lower() not in AVATAR_FORMATS:
        if avatar or rig or jaw_bone:
            raise UserError(f"{path}: this format holds ARKit curves, not an avatar's targets; "
                            "--avatar, --rig and --jaw-bone apply to .glb, .gltf and USD")
        return None
    from ..avatar import load_avatar
    from ..rig import choose_profile, jaw_joint
    from .keys import check_tolerance

    if tolerance is not None:
        check_tolerance(tolerance)
    loaded = load_avatar(avatar or default_avatar_path())
    return Target(loaded, choose_profile(loaded, rig), jaw_joint(loaded, jaw_bone), tolerance)


def write_curves(path: Path, curves: Curves, target: Target | None, alignment: Alignment | None = None,
                 mode: str = "", method: str = "") -> str:
    """Write the curves in the format `path` names (retargeted to `target`'s avatar for the avatar formats);
    a note for the summary line."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from .livelink import write_livelink_csv

        write_livelink_csv(curves, path)
    elif suffix == ".tsv" or path.name.lower().endswith(".rhubarb.json"):
        from .cues import write_cues

        return f", {len(write_cues(curves, path))} mouth cues"
    elif suffix == ".json":
        from .curves_json import write_curves_json

        write_curves_json(curves, path, alignment, mode, method)
    elif suffix in (".glb", ".gltf"):
        return _write_gltf(path, curves, target)
    else:
        from ..rig import solve
        from .usd import write_usd

        write_usd(solve(curves, target.profile), path)
        return f", rig {target.profile.name}"
    return ""


def _write_gltf(path: Path, curves: Curves, target: Target) -> str:
    from ..rig import jaw_track, morph_weights, solve
    from .gltf import write_gltf
    from .keys import DEFAULT_TOLERANCE

    tolerance = DEFAULT_TOLERANCE if target.tolerance is None else target.tolerance
    jaw = jaw_track(curves, target.joint) if target.joint else None
    weights = morph_weights(solve(curves, target.profile), target.avatar)
    report = write_gltf(target.avatar, weights, curves.fps, path, tolerance, jaw)
    bone = f", jaw bone {target.joint.name}" if target.joint else ""
    return (f", rig {target.profile.name}{bone}, {report.keys} of {report.frames} keys, animation "
            f"{report.animation_bytes / 1000:.0f} kB ({report.full_bytes / report.animation_bytes:.1f}x "
            f"smaller than every frame as float)")
