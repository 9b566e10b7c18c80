"""Rig profiles (the naming conventions of avatars' shapes, as data in `rigs/*.toml`), their detection, and
retargeting ARKit curves to the avatar at hand: a `Rig` is the avatar with its profile and jaw joint, made
from `RigOptions` and checked before any work."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..avatar import Avatar, Joint, load_avatar
from ..files import avatar_path
from ..options import option
from .profiles import Match, Profile, detect, find_profile, load_profiles
from .retarget import JawTrack, RigCurves, choose_profile, jaw_joint, jaw_track, joint_moves, morph_weights, solve

__all__ = ["JawTrack", "Match", "Profile", "Rig", "RigCurves", "RigOptions", "choose_profile", "detect",
           "find_profile", "jaw_joint", "jaw_track", "joint_moves", "load_profiles", "morph_weights", "solve"]


@dataclass(frozen=True, eq=False)
class Rig:
    """An avatar ready to be driven: its rig profile, and the joint jawOpen turns (None when the jaw is a
    morph target)."""

    avatar: Avatar
    profile: Profile
    jaw: Joint | None


@dataclass(frozen=True)
class RigOptions:
    """Which avatar, and how its shapes are named: a rig profile's name or TOML file (default: detected), and
    the joint jawOpen turns (default: a joint with a usual jaw name, when there is no jawOpen morph target)."""

    avatar: Path | None = None  # a file, or a bundled avatar's name; default: the bundled default presenter
    rig: str | None = option(None, or_file=".toml")
    jaw_bone: str | None = None

    @property
    def avatar_path(self) -> Path:
        return avatar_path(self.avatar)

    def load(self) -> Rig:
        """The avatar with its profile and jaw joint; a UserError when it cannot be driven as asked."""
        avatar = load_avatar(self.avatar_path)
        return Rig(avatar, choose_profile(avatar, self.rig), jaw_joint(avatar, self.jaw_bone))
