"""The viseme table (visemes.toml): phone -> visemes, viseme -> ARKit pose and dominance, pass timings."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import numpy as np

from .curves import channel_names

SILENCE_VISEME = "sil"
CLOSURE, CONTACT = "PP", "FF"  # the visemes whose shapes are constraints, not just targets
ROUNDED = ("ou", "w", "oh")  # visemes whose rounding is a constraint
ROUNDING_CHANNELS = ("mouthPucker", "mouthFunnel")
# Channels that make the mouth: constraints and rest set these; eyes, brows and head are left alone.
MOUTH_PREFIXES = ("jaw", "mouth", "tongue", "cheekPuff")
JAW_CHANNELS = ("jawOpen", "mouthClose")  # blended with the jaw dominance; the rest with the lip dominance


@dataclass(frozen=True, eq=False)
class Viseme:
    name: str
    pose: np.ndarray  # (channels,) float32
    lips: float  # dominance of the lip shape
    jaw: float  # dominance of the jaw
    before: float  # anticipation in seconds


@dataclass(frozen=True, eq=False)
class Table:
    timing: Mapping[str, float]
    jaw: Mapping[str, float]
    phones: Mapping[str, tuple[str, ...]]
    visemes: Mapping[str, Viseme]
    names: tuple[str, ...]  # the Curves channels the poses index

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def mouth(self) -> np.ndarray:
        """Boolean mask of the mouth channels."""
        return np.array([n.startswith(MOUTH_PREFIXES) for n in self.names])

    @property
    def jaw_mask(self) -> np.ndarray:
        return np.isin(self.names, JAW_CHANNELS)


@cache
def load_table(path: Path = Path(__file__).with_name("visemes.toml")) -> Table:
    with path.open("rb") as f:
        raw = tomllib.load(f)
    names = channel_names()
    visemes = {}
    for name, entry in raw["visemes"].items():
        pose = np.zeros(len(names), dtype=np.float32)
        for channel, weight in entry["pose"].items():
            pose[names.index(channel)] = weight
        visemes[name] = Viseme(name, pose, entry["lips"], entry["jaw"],
                               entry.get("before", raw["timing"]["before"]))
    phones = {phone: tuple(v) for phone, v in raw["phones"].items()}
    unknown = {v for targets in phones.values() for v in targets} - set(visemes)
    if unknown:
        raise ValueError(f"{path}: phones map to undefined visemes {sorted(unknown)}")
    return Table(MappingProxyType(raw["timing"]), MappingProxyType(raw["jaw"]), MappingProxyType(phones),
                 MappingProxyType(visemes), names)
