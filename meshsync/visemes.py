"""The viseme table (visemes.toml), the one place a mouth pose is written: phone -> visemes, viseme -> ARKit
pose and dominance, and the timings of the coarticulation passes. Animation, the network, rig profiles and
Rhubarb cues all read their poses here, so tuning a viseme reaches every one of them.

Also the first step every user of the table takes: phones -> viseme spans (each phone's viseme over the
phone's time; diphthongs and affricates split between their visemes). Phones are IPA (any language) or
ARPAbet (English), read through meshsync.phones.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

import numpy as np

from .align import UNKNOWN, Segment
from .channels import arkit_names, channel_names, mouth_mask
from .errors import UserError
from .phones import base, split, to_ipa

TABLE = Path(__file__).with_name("visemes.toml")
SILENCE_VISEME = "sil"
CLOSURE, CONTACT = "PP", "FF"  # the visemes whose shapes are constraints, not just targets of the blend
ROUNDED = ("ou", "w", "oh")  # visemes whose rounding is a constraint
ROUNDING_CHANNELS = ("mouthPucker", "mouthFunnel")
JAW_CHANNELS = ("jawOpen", "mouthClose")  # blended with the jaw dominance; the rest with the lip dominance


@dataclass(frozen=True, eq=False)
class Viseme:
    name: str
    weights: Mapping[str, float]  # the pose as written in the table: ARKit channel -> weight
    pose: np.ndarray  # the same pose over every channel of the curves, float32
    lips: float  # dominance of the lip shape
    jaw: float  # dominance of the jaw
    before: float  # anticipation in seconds
    vowel: bool  # a vowel's target, which the face reaches (most of) however short the vowel


@dataclass(frozen=True, eq=False)
class Table:
    timing: Mapping[str, float]
    jaw: Mapping[str, float]
    phones: Mapping[str, tuple[str, ...]]  # IPA symbol (and sil, spn) -> visemes
    visemes: Mapping[str, Viseme]
    names: tuple[str, ...]  # the curves' channels the poses index

    def visemes_of(self, label: str) -> tuple[str, ...]:
        """The visemes of a phone label: the table's entry for it (marks dropped), else its symbols' entries
        in order; unknown speech's when nothing matches."""
        return _visemes_of(self, label)

    def index(self, name: str) -> int:
        return self.names.index(name)

    @property
    def mouth(self) -> np.ndarray:
        """Boolean mask of the mouth channels."""
        return mouth_mask(self.names)

    @property
    def jaw_mask(self) -> np.ndarray:
        return np.isin(self.names, JAW_CHANNELS)


@cache
def load_table(path: Path = TABLE) -> Table:
    with path.open("rb") as f:
        raw = tomllib.load(f)
    names = channel_names()
    visemes = {}
    for name, entry in raw["visemes"].items():
        pose = np.zeros(len(names), dtype=np.float32)
        for channel, weight in entry["pose"].items():
            pose[names.index(channel)] = weight
        visemes[name] = Viseme(name, MappingProxyType(dict(entry["pose"])), pose, entry["lips"], entry["jaw"],
                               entry.get("before", raw["timing"]["before"]), entry.get("vowel", False))
    phones = {phone: tuple(v) for phone, v in raw["phones"].items()}
    unknown = {v for targets in phones.values() for v in targets} - set(visemes)
    if unknown:
        raise ValueError(f"{path}: phones map to undefined visemes {sorted(unknown)}")
    return Table(MappingProxyType(raw["timing"]), MappingProxyType(raw["jaw"]), MappingProxyType(phones),
                 MappingProxyType(visemes), names)


@cache
def _visemes_of(table: Table, label: str) -> tuple[str, ...]:
    ipa = base(to_ipa(label))
    if ipa in table.phones:
        return table.phones[ipa]
    found = tuple(v for visemes in split(ipa, dict(table.phones)) for v in visemes)
    return found or table.phones[UNKNOWN]


def resolve_pose(entry, table: Table) -> Mapping[str, float]:
    """A pose as a rig profile or a cue shape gives it: the name of a viseme (its pose in the table) or an
    ARKit pose written out, {channel: weight} with weights from 0 to 1. A UserError says what is wrong."""
    if isinstance(entry, str):
        if entry not in table.visemes:
            raise UserError(f"'{entry}' is not a viseme of the table; name one of {', '.join(table.visemes)}, "
                            "or write an ARKit pose such as { jawOpen = 0.3 }")
        return table.visemes[entry].weights
    if not isinstance(entry, dict):
        raise UserError("a pose is a viseme's name or an ARKit pose, e.g. PP = \"PP\" or PP = { mouthClose = 0.6 }")
    unknown = sorted(set(entry) - set(arkit_names()))
    if unknown:
        raise UserError(f"poses name channels that are not ARKit blendshapes: {', '.join(unknown)}")
    if not all(isinstance(w, (int, float)) and 0 <= w <= 1 for w in entry.values()):
        raise UserError("pose weights must be numbers from 0 to 1")
    return MappingProxyType(dict(entry))


def viseme_spans(phones: tuple[Segment, ...], table: Table) -> list[Segment]:
    """One span per viseme of each phone, in acoustic time (the lead is the blend's business)."""
    spans = []
    for phone in phones:
        visemes = table.visemes_of(phone.label)
        step = (phone.end - phone.start) / len(visemes)
        for i, viseme in enumerate(visemes):
            spans.append(Segment(viseme, phone.start + i * step, phone.start + (i + 1) * step, phone.confidence))
    return spans
