"""Load rig profiles from `rigs/*.toml` and detect which ones an avatar follows."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from ..avatar import Avatar
from ..files import data_dir

MIN_COVERAGE = 0.8  # share of a profile's names an avatar must carry to count as following it


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    targets: tuple[str, ...]
    prefixes: tuple[str, ...] = ("",)
    extension: str | None = None  # a glTF extension that declares the convention (VRM)


@dataclass(frozen=True)
class Match:
    profile: Profile
    found: int  # how many of the profile's names the avatar carries
    total: int


@cache
def load_profiles() -> tuple[Profile, ...]:
    """Every profile in the bundled `rigs/` folder, sorted by name."""
    profiles = []
    for path in sorted(data_dir("rigs").glob("*.toml")):
        with path.open("rb") as f:
            raw = tomllib.load(f)
        profiles.append(Profile(raw["name"], raw["title"], tuple(raw["targets"]),
                                tuple(raw.get("prefixes", [""])), raw.get("extension")))
    return tuple(profiles)


def detect(avatar: Avatar) -> list[Match]:
    """Profiles the avatar follows, best first: declared by a glTF extension, or by its target names."""
    present = {name.lower() for name in avatar.target_names}
    matches = []
    for profile in load_profiles():
        if profile.extension is not None:
            if profile.extension in avatar.extensions:
                declared = _vrm_presets(avatar.extensions[profile.extension])
                matches.append(Match(profile, sum(t in declared for t in profile.targets), len(profile.targets)))
            continue
        found = sum(any(f"{p}{t}".lower() in present for p in profile.prefixes) for t in profile.targets)
        if found >= MIN_COVERAGE * len(profile.targets):
            matches.append(Match(profile, found, len(profile.targets)))
    return sorted(matches, key=lambda m: (m.profile.extension is None, -m.found / m.total, m.profile.name))


def _vrm_presets(extension) -> set[str]:
    """Preset expression names a VRM extension declares (VRMC_vrm 1.0 or VRM 0.x)."""
    if not isinstance(extension, dict):
        return set()
    presets = (extension.get("expressions") or {}).get("preset")  # VRM 1.0
    if isinstance(presets, dict):
        return set(presets)
    groups = (extension.get("blendShapeMaster") or {}).get("blendShapeGroups") or []  # VRM 0.x
    return {g.get("presetName") for g in groups if isinstance(g, dict)}
