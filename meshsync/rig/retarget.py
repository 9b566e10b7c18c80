"""From ARKit curves to an avatar's own morph targets.

Today an avatar must carry ARKit blendshapes (camelCase or PascalCase, as the profile matches names);
the curves' channels are mapped to its target names once, then every frame is a lookup.
"""

from __future__ import annotations

import numpy as np

from ..avatar import Avatar
from ..errors import UserError
from .profiles import detect, load_profiles

SUPPORTED = ("arkit",)  # profiles whose avatars the curves drive directly
SHOWN = 8  # target names quoted in the error


class Retarget:
    """Maps a row of curves (channel names `names`) to the avatar's {target name: weight}."""

    def __init__(self, avatar: Avatar, names: tuple[str, ...]):
        check_supported(avatar)
        targets = {name.lower(): name for name in avatar.target_names}
        pairs = [(i, targets[name.lower()]) for i, name in enumerate(names) if name.lower() in targets]
        self.columns = np.array([i for i, _ in pairs], dtype=int)
        self.targets = tuple(target for _, target in pairs)

    def pose(self, row: np.ndarray) -> dict[str, float]:
        return dict(zip(self.targets, row[self.columns].tolist()))


def check_supported(avatar: Avatar) -> None:
    """Refuse, in one line, an avatar whose morph targets follow no convention the curves can drive."""
    if any(match.profile.name in SUPPORTED for match in detect(avatar)):
        return
    found = avatar.target_names
    listed = ", ".join(found[:SHOWN]) + (f", ... ({len(found)} in all)" if len(found) > SHOWN else "")
    others = [m.profile.title for m in detect(avatar)]
    seen = f"; it looks like {', '.join(others)}, which meshsync cannot drive yet" if others else ""
    supported = ", ".join(p.title for p in load_profiles() if p.name in SUPPORTED)
    raise UserError(f"{avatar.path}: no usable morph targets (found {listed or 'none'}{seen}); "
                    f"supported: {supported} (camelCase or PascalCase names)")
