"""GLB/glTF: the avatar itself with an animation of its morph target weights, ready for any engine.

The avatar's JSON is copied as it is (extensions such as VRM kept), its buffers merged into one and images
stored by URI embedded, and one animation is added: per morphed mesh node, a LINEAR sampler of its
`weights` over time in seconds, and the jaw joint's rotation when the jaw is a bone. Keyframes are
reduced within the error bound; weights are float32, or on request normalised integers (as glTF allows for
weights, about 4x smaller; the rounding then shares the bound). Identical input gives byte-identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..avatar import Avatar
from ..errors import UserError
from ..files import atomic_output
from ..gltf import FLOAT, UNSIGNED_BYTE, UNSIGNED_SHORT, Document, merged, reading
from ..provenance import mark_gltf
from ..rig import JawTrack, jaw_track, morph_weights, solve
from .base import Export, Format
from .keyframes import DEFAULT_TOLERANCE, check_tolerance, reduce_keys

ANIMATION_NAME = "meshsync"
# Normalised integer formats for weights, coarsest first: (component type, numpy type, largest value).
QUANTISED = ((UNSIGNED_BYTE, "u1", 255), (UNSIGNED_SHORT, "<u2", 65535))
FLOAT_WEIGHTS = (FLOAT, "<f4", 0)


@dataclass(frozen=True)
class ExportReport:
    keys: int  # keyframes written, over all channels
    frames: int  # keyframes there would be, one per frame
    animation_bytes: int  # bytes of animation data written
    full_bytes: int  # bytes with every frame as float32


def write_gltf(avatar: Avatar, morphs: dict[int, np.ndarray], fps: float, path: Path,
               tolerance: float = DEFAULT_TOLERANCE, jaw: JawTrack | None = None,
               compact: bool = False) -> ExportReport:
    """Write `avatar` with its morph weights animated (node index -> (frames, targets)), and its jaw joint
    turned when `jaw` is given, as .glb or .gltf; linear interpolation of what is written stays within
    `tolerance` of every frame's weights (and of jawOpen, for the jaw). `compact` stores weights as
    normalised integers."""
    check_tolerance(tolerance)
    if not morphs and jaw is None:
        raise UserError(f"{avatar.path}: the rig reaches no morph target or jaw bone to animate")
    with reading(avatar.path):
        writer = merged(Document(avatar.path))
    component, dtype, top = _weight_format(tolerance) if compact else FLOAT_WEIGHTS
    quantisation = 0.5 / top if top else 0.0
    animation = {"name": ANIMATION_NAME, "samplers": [], "channels": []}
    keys = frames = written = full = 0
    for node in sorted(morphs):
        weights = morphs[node]
        kept = reduce_keys(weights, tolerance - quantisation)
        times = (kept / fps).astype("<f4")
        values = weights[kept]
        stored = np.round(np.clip(values, 0, 1) * top).astype(dtype) if top else values.astype("<f4")
        animation["samplers"].append({"input": writer.accessor(times, FLOAT, bounds=True),
                                      "output": writer.accessor(stored.ravel(), component, normalized=bool(top)),
                                      "interpolation": "LINEAR"})
        animation["channels"].append({"sampler": len(animation["samplers"]) - 1,
                                      "target": {"node": node, "path": "weights"}})
        keys, frames = keys + len(kept), frames + len(weights)
        written += times.nbytes + stored.nbytes
        full += 4 * len(weights) * (1 + weights.shape[1])
    if jaw is not None:
        kept = reduce_keys(jaw.opening[:, None], tolerance)
        times, rotations = (kept / fps).astype("<f4"), jaw.rotations[kept].astype("<f4")
        animation["samplers"].append({"input": writer.accessor(times, FLOAT, bounds=True),
                                      "output": writer.accessor(rotations, FLOAT), "interpolation": "LINEAR"})
        animation["channels"].append({"sampler": len(animation["samplers"]) - 1,
                                      "target": {"node": jaw.node, "path": "rotation"}})
        keys, frames = keys + len(kept), frames + len(jaw.rotations)
        written += times.nbytes + rotations.nbytes
        full += 4 * len(jaw.rotations) * 5
    doc = writer.doc
    doc["animations"] = [a for a in doc.get("animations", []) if a.get("name") != ANIMATION_NAME] + [animation]
    mark_gltf(doc, animation)
    data = writer.file_bytes(path.suffix)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return ExportReport(keys, frames, written, full)


def _weight_format(tolerance: float) -> tuple[int, str, int]:
    """The coarsest normalised integer type whose rounding leaves at least half the bound to key reduction;
    float32 for bounds too tight for any."""
    for component, dtype, top in QUANTISED:
        if 0.5 / top <= tolerance / 2:
            return component, dtype, top
    return FLOAT_WEIGHTS


def _write(export: Export, path: Path) -> str:
    rig, curves = export.rig, export.curves
    jaw = jaw_track(curves, rig.jaw) if rig.jaw else None
    weights = morph_weights(solve(curves, rig.profile), rig.avatar)
    options = export.options
    report = write_gltf(rig.avatar, weights, curves.fps, path, options.tolerance, jaw, options.compact_weights)
    bone = f", jaw bone {rig.jaw.name}" if rig.jaw else ""
    return (f", rig {rig.profile.name}{bone}, {report.keys} of {report.frames} keys, animation "
            f"{report.animation_bytes / 1000:.0f} kB ({report.full_bytes / report.animation_bytes:.1f}x "
            f"smaller than every frame as float)")


FORMAT = Format("the avatar, animated", (".glb", ".gltf"), _write, avatar=True)
