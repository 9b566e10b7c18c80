"""Rig profiles from `rigs/*.toml` (or a user's TOML): the shapes an avatar's convention names (morph targets,
or VRM expressions), the pose each shape shows (a viseme of the table, or an ARKit pose), and detecting which
profiles an avatar follows."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from ..avatar import Avatar
from ..errors import UserError
from ..files import check_input_file, data_dir
from ..gltf import is_kind
from ..visemes import Table, load_table, resolve_pose

MIN_COVERAGE = 0.8  # share of a profile's names an avatar must carry to count as following it


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    shapes: tuple[str, ...]  # the names the convention gives: morph targets, or a VRM extension's presets
    prefixes: tuple[str, ...] = ("",)
    extension: str | None = None  # a glTF extension that declares the convention (VRM)
    poses: Mapping[str, Mapping[str, float]] | None = None  # shape -> ARKit pose; None: the shapes are ARKit's
    rest: str | None = None  # the shape that takes 1 - the sum of the others (Oculus "sil")

    @property
    def outputs(self) -> tuple[str, ...]:
        """The shapes retargeting gives weights to: those with a pose, or all of an ARKit-named profile."""
        return tuple(self.poses) if self.poses is not None else self.shapes


@dataclass(frozen=True)
class Match:
    profile: Profile
    found: int  # how many of the profile's names the avatar carries
    total: int


@cache
def load_profiles() -> tuple[Profile, ...]:
    """Every profile in the bundled `rigs/` folder, sorted by name."""
    return tuple(read_profile(path) for path in sorted(data_dir("rigs").glob("*.toml")))


def find_profile(name_or_path: str) -> Profile:
    """A bundled profile by name, or a user's profile from a TOML file."""
    for profile in load_profiles():
        if profile.name == name_or_path:
            return profile
    path = Path(name_or_path)
    if path.suffix.lower() == ".toml":
        return read_profile(path)
    names = ", ".join(p.name for p in load_profiles())
    raise UserError(f"--rig {name_or_path}: no such rig profile; choose one of {names}, or give a .toml file")


def read_profile(path: Path, table: Table | None = None) -> Profile:
    """One profile file, checked, its poses resolved against the viseme table (default: the bundled one);
    a user's file gets one clear line for each kind of mistake."""
    try:
        with check_input_file(path, "rig profile file").open("rb") as f:
            raw = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: not a readable TOML rig profile ({exc})") from exc
    poses = raw.get("poses")
    shapes = raw.get("shapes", list(poses or []))
    if not isinstance(shapes, list) or not shapes or not all(isinstance(t, str) for t in shapes):
        raise UserError(f"{path}: a rig profile lists its shapes' names in `shapes` (or `[poses]`)")
    if poses is not None:
        if not isinstance(poses, dict):
            raise UserError(f'{path}: [poses] gives each shape a viseme or an ARKit pose, e.g. PP = "PP" or '
                            "PP = { mouthClose = 0.6 }")
        table = table or load_table()
        try:
            poses = MappingProxyType({shape: resolve_pose(pose, table) for shape, pose in poses.items()})
        except UserError as exc:
            raise UserError(f"{path}: {exc}") from None
    prefixes = raw.get("prefixes", [""])
    if not isinstance(prefixes, list) or not prefixes or not all(isinstance(p, str) for p in prefixes):
        raise UserError(f'{path}: `prefixes` lists the texts before the shapes\' names, e.g. ["", "viseme_"]')
    for key in ("name", "title", "extension", "rest"):
        if not isinstance(raw.get(key, ""), str):
            raise UserError(f"{path}: `{key}` must be text")
    if raw.get("rest") is not None and raw["rest"] not in shapes:
        raise UserError(f"{path}: the rest shape '{raw['rest']}' is not one of the profile's shapes")
    return Profile(raw.get("name", path.stem), raw.get("title", path.stem), tuple(shapes), tuple(prefixes),
                   raw.get("extension"), poses, raw.get("rest"))


def detect(avatar: Avatar) -> list[Match]:
    """Profiles the avatar follows, best first: declared by a glTF extension, or by its target names."""
    present = {name.lower() for name in avatar.target_names}
    matches = []
    for profile in load_profiles():
        if profile.extension is not None:
            if profile.extension in avatar.extensions:
                declared = vrm_presets(avatar.extensions[profile.extension], avatar.path)
                matches.append(Match(profile, sum(s in declared for s in profile.shapes), len(profile.shapes)))
            continue
        found = sum(any(f"{p}{s}".lower() in present for p in profile.prefixes) for s in profile.shapes)
        if found >= MIN_COVERAGE * len(profile.shapes):
            matches.append(Match(profile, found, len(profile.shapes)))
    return sorted(matches, key=lambda m: (m.profile.extension is None, -m.found / m.total, m.profile.name))


def vrm_presets(extension, path: Path) -> dict[str, list[dict]]:
    """Preset expression name -> its morph target binds, as a VRM extension declares them (VRMC_vrm 1.0:
    {node, index, weight 0..1}; VRM 0.x: {mesh, index, weight 0..100}), checked: a malformed extension of
    `path` is one line naming the part."""
    if extension is None:
        return {}
    if "expressions" in _object(extension, "the extension", path):  # VRM 1.0
        presets = _object(_object(extension["expressions"], "expressions", path).get("preset") or {},
                          "expressions.preset", path)
        return {name: _binds(_object(e or {}, f"expression {name}", path).get("morphTargetBinds"), "node",
                             f"expression {name}", path) for name, e in presets.items()}
    groups = _object(extension.get("blendShapeMaster") or {}, "blendShapeMaster", path).get("blendShapeGroups")
    if not isinstance(groups or [], list):  # VRM 0.x
        raise UserError(f"{path}: malformed VRM extension: blendShapeGroups must be a list")
    presets = {}
    for i, group in enumerate(groups or []):
        name = _object(group, f"blend shape group {i}", path).get("presetName")
        if isinstance(name, str):
            presets[name] = _binds(group.get("binds"), "mesh", f"blend shape group {i}", path)
    return presets


def _object(value, what: str, path: Path) -> dict:
    if not isinstance(value, dict):
        raise UserError(f"{path}: malformed VRM extension: {what} must be an object")
    return value


def _binds(binds, key: str, what: str, path: Path) -> list[dict]:
    """A list of morph target binds, each with a whole-number `key` and index, and a numeric weight."""
    binds = binds or []
    if not isinstance(binds, list) or not all(
            isinstance(b, dict) and is_kind(b.get(key), "index") and is_kind(b.get("index"), "index")
            and is_kind(b.get("weight", 0), "number") for b in binds):
        raise UserError(f"{path}: malformed VRM extension: {what}'s binds must be objects with a whole-number "
                        f"{key} and index and a numeric weight")
    return binds
