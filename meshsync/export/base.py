"""What every format module declares (a `Format`) and what its writer receives (an `Export`), and the export
stage's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..align import Alignment
from ..animate import Curves
from ..errors import UserError
from ..provenance import sidecar_path, write_sidecar
from ..rig import Rig
from .keyframes import DEFAULT_TOLERANCE, check_tolerance

# How .glb/.gltf store animation weights: float32, which every engine reads (the default), or normalised
# integers, about 4x smaller, which Godot 3.2.3 and Assimp 5.2 (Debian 12's) misread (see the README's engines).
WEIGHT_STORAGE = ("float", "compact")


@dataclass(frozen=True)
class ExportOptions:
    """How exports are written."""

    tolerance: float = DEFAULT_TOLERANCE  # .glb/.gltf: the largest weight error of the reduced keyframes
    weights: str = WEIGHT_STORAGE[0]  # .glb/.gltf: how animation weights are stored, one of WEIGHT_STORAGE

    def __post_init__(self):
        check_tolerance(self.tolerance)
        if self.weights not in WEIGHT_STORAGE:
            raise UserError(f"--weights {self.weights}: give {' or '.join(WEIGHT_STORAGE)}")

    @property
    def compact_weights(self) -> bool:
        """Whether .glb/.gltf weights are stored as normalised integers."""
        return self.weights == WEIGHT_STORAGE[1]


@dataclass(frozen=True, eq=False)
class Export:
    """What a format writes: the curves and how they were made; for the avatar formats, the rig."""

    curves: Curves
    rig: Rig | None = None
    options: ExportOptions = ExportOptions()
    alignment: Alignment | None = None
    mode: str = ""  # how the speech was timed
    method: str = ""  # how the curves were made
    sound_file: str | None = None  # the audio's path as the user gave it (Rhubarb's JSON names it)


@dataclass(frozen=True)
class Format:
    """An output format: a module of this package declares one as FORMAT."""

    title: str  # what the files are, for help and errors
    suffixes: tuple[str, ...]  # lower case, with the dot; the longest that ends the output's name wins
    writer: Callable[[Export, Path], str]  # writes the file atomically; a note for the summary line
    avatar: bool = False  # holds an avatar's own shapes (needs a Rig), not ARKit curves
    sidecar: tuple[str, ...] = ()  # suffixes whose files have no room for a statement: an XMP sidecar holds it

    def write(self, export: Export, path: Path) -> str:
        """Write the file, and its sidecar where it has one; a note for the summary line."""
        note = self.writer(export, path)
        if self._has_sidecar(path):
            write_sidecar(path)
            note += f"; the statement that it is synthetic in {sidecar_path(path).name}"
        return note

    def files(self, path: Path) -> list[Path]:
        """The files that writing `path` makes: the file, then its sidecar where it has one."""
        return [path, sidecar_path(path)] if self._has_sidecar(path) else [path]

    def _has_sidecar(self, path: Path) -> bool:
        return bool(self.sidecar) and path.name.lower().endswith(self.sidecar)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The suffixes without their dot: how jobs files name the outputs."""
        return tuple(suffix[1:] for suffix in self.suffixes)
