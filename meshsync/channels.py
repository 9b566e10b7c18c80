"""The channels of the curves: the 52 ARKit blendshapes (named once, in the rig profile `rigs/arkit.toml`),
then the head and eye rotations, in the order of Live Link Face's CSV; and which of them make the mouth."""

from __future__ import annotations

import tomllib
from functools import cache

import numpy as np

from .files import data_dir

# Head and eye rotations in radians, after the 52 blendshapes.
ROTATIONS = ("headYaw", "headPitch", "headRoll", "leftEyeYaw", "leftEyePitch", "leftEyeRoll",
             "rightEyeYaw", "rightEyePitch", "rightEyeRoll")
HEAD_ROTATIONS = ROTATIONS[:3]  # yaw (> 0 to the avatar's left), pitch (> 0 down), roll
# Channels that make the mouth (constraints and rest set these; Rhubarb cues compare these); eyes, brows and
# head are not the mouth.
MOUTH_PREFIXES = ("jaw", "mouth", "tongue", "cheekPuff")


@cache
def arkit_names() -> tuple[str, ...]:
    """The 52 ARKit blendshapes in ARKit's order."""
    with (data_dir("rigs") / "arkit.toml").open("rb") as f:
        return tuple(tomllib.load(f)["shapes"])


def channel_names() -> tuple[str, ...]:
    """Every channel of the curves: the blendshapes, then the rotations."""
    return arkit_names() + ROTATIONS


def channel_limits(names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The values each channel can take: blendshape weights 0..1, rotations within half a turn either way."""
    rotation = np.array([name in ROTATIONS for name in names])
    return np.where(rotation, -np.pi, 0.0), np.where(rotation, np.pi, 1.0)


def mouth_mask(names: tuple[str, ...]) -> np.ndarray:
    """Boolean mask of the mouth channels among `names`."""
    return np.array([name.startswith(MOUTH_PREFIXES) for name in names])
