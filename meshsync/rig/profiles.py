"""Rig profiles from `rigs/*.toml` (or a user's TOML): naming conventions of avatars' morph targets, how
each target looks in ARKit space, and detecting which profiles an avatar follows."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from ..avatar import Avatar
from ..errors import UserError
from ..files import data_dir

MIN_COVERAGE = 0.8  # share of a profile's names an avatar must carry to count as following it


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    targets: tuple[str, ...]
    prefixes: tuple[str, ...] = ("",)
    extension: str | None = None  # a glTF extension that declares the convention (VRM)
    poses: Mapping[str, Mapping[str, float]] | None = None  # target -> ARKit pose; None: the targets are ARKit's
    rest: str | None = None  # the target that takes 1 - the sum of the others (Oculus "sil")

    @property
    def outputs(self) -> tuple[str, ...]:
        """The targets retargeting gives weights to: those with a pose, or all of an ARKit-named profile."""
        return tuple(self.poses) if self.poses is not None else self.targets


@dataclass(frozen=True)
class Match:
    profile: Profile
    found: int  # how many of the profile's names the avatar carries
    total: int


@cache
def load_profiles() -> tuple[Profile, ...]:
    """Every profile in the bundled `rigs/` folder, sorted by name."""
    return tuple(_profile(path) for path in sorted(data_dir("rigs").glob("*.toml")))


def find_profile(name_or_path: str) -> Profile:
    """A bundled profile by name, or a user's profile from a TOML file."""
    for profile in load_profiles():
        if profile.name == name_or_path:
            return profile
    path = Path(name_or_path)
    if path.suffix.lower() == ".toml":
        return _profile(path)
    names = ", ".join(p.name for p in load_profiles())
    raise UserError(f"--rig {name_or_path}: no such rig profile; choose one of {names}, or give a .toml file")


def _profile(path: Path) -> Profile:
    """One profile file, checked: a user's file gets one clear line for each kind of mistake."""
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise UserError(f"{path}: no such rig profile file") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable TOML rig profile ({exc})") from exc
    poses = raw.get("poses")
    targets = raw.get("targets", list(poses or []))
    if not isinstance(targets, list) or not targets or not all(isinstance(t, str) for t in targets):
        raise UserError(f"{path}: a rig profile lists its morph target names in `targets` (or `[poses]`)")
    if poses is not None:
        from ..animate.curves import arkit_names

        if not isinstance(poses, dict) or not all(isinstance(p, dict) for p in poses.values()):
            raise UserError(f"{path}: [poses] maps each target to an ARKit pose, e.g. PP = {{ mouthClose = 0.6 }}")
        unknown = sorted({c for p in poses.values() for c in p} - set(arkit_names()))
        if unknown:
            raise UserError(f"{path}: poses name channels that are not ARKit blendshapes: {', '.join(unknown)}")
        if not all(isinstance(w, (int, float)) and 0 <= w <= 1 for p in poses.values() for w in p.values()):
            raise UserError(f"{path}: pose weights must be numbers from 0 to 1")
        poses = MappingProxyType({t: MappingProxyType(dict(p)) for t, p in poses.items()})
    return Profile(raw.get("name", path.stem), raw.get("title", path.stem), tuple(targets),
                   tuple(raw.get("prefixes", [""])), raw.get("extension"), poses, raw.get("rest"))


def detect(avatar: Avatar) -> list[Match]:
    """Profiles the avatar follows, best first: declared by a glTF extension, or by its target names."""
    present = {name.lower() for name in avatar.target_names}
    matches = []
    for profile in load_profiles():
        if profile.extension is not None:
            if profile.extension in avatar.extensions:
                declared = vrm_presets(avatar.extensions[profile.extension])
                matches.append(Match(profile, sum(t in declared for t in profile.targets), len(profile.targets)))
            continue
        found = sum(any(f"{p}{t}".lower() in present for p in profile.prefixes) for t in profile.targets)
        if found >= MIN_COVERAGE * len(profile.targets):
            matches.append(Match(profile, found, len(profile.targets)))
    return sorted(matches, key=lambda m: (m.profile.extension is None, -m.found / m.total, m.profile.name))


def vrm_presets(extension) -> dict[str, list]:
    """Preset expression name -> its morph target binds, as a VRM extension declares them (VRMC_vrm 1.0:
    {node, index, weight 0..1}; VRM 0.x: {mesh, index, weight 0..100})."""
    if not isinstance(extension, dict):
        return {}
    presets = (extension.get("expressions") or {}).get("preset")  # VRM 1.0
    if isinstance(presets, dict):
        return {name: list((e or {}).get("morphTargetBinds") or []) for name, e in presets.items()}
    groups = (extension.get("blendShapeMaster") or {}).get("blendShapeGroups") or []  # VRM 0.x
    return {g.get("presetName"): list(g.get("binds") or []) for g in groups if isinstance(g, dict)}
