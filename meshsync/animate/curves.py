"""`Curves`: what the animation stage hands on: named channels sampled at a fixed frame rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..channels import arkit_names


@dataclass(frozen=True, eq=False)
class Curves:
    """Frame i is the face at time i / fps; blendshape values lie in [0, 1]."""

    fps: float
    names: tuple[str, ...]
    values: np.ndarray  # (frames, channels) float32

    @property
    def frames(self) -> int:
        return len(self.values)

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.frames) / self.fps

    def channel(self, name: str) -> np.ndarray:
        return self.values[:, self.names.index(name)]

    def pose(self, frame: int) -> dict[str, float]:
        """Non-zero blendshape weights at one frame, as morph target name -> weight."""
        row = self.values[frame]
        return {name: float(row[i]) for i, name in enumerate(self.names[:len(arkit_names())]) if row[i] != 0}


def frame_count(duration: float, fps: float) -> int:
    """round(duration x fps) frames, and at least one."""
    return max(1, round(duration * fps))
