"""GLB/glTF: the avatar itself with an animation of its morph target weights, ready for any engine.

The avatar's JSON is copied as it is (extensions such as VRM kept), its buffers merged into one and images
stored by URI embedded, and one animation is added: per morphed mesh node, a LINEAR sampler of its
`weights` over time in seconds, and the jaw joint's rotation when the jaw is a bone. Keyframes are
reduced and weights stored as normalised integers (as glTF allows for weights), together within the error
bound. Identical input gives byte-identical files.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..avatar import Avatar, read_document
from ..errors import UserError
from ..files import atomic_output
from ..rig import JawTrack, jaw_track, morph_weights, solve
from .base import Export, Format
from .keyframes import DEFAULT_TOLERANCE, check_tolerance, reduce_keys

ANIMATION_NAME = "meshsync"
FLOAT, UNSIGNED_BYTE, UNSIGNED_SHORT = 5126, 5121, 5123
# Normalised integer formats for weights, coarsest first: (component type, numpy type, largest value).
QUANTISED = ((UNSIGNED_BYTE, "u1", 255), (UNSIGNED_SHORT, "<u2", 65535))
MIME = {b"\x89PNG": "image/png", b"\xff\xd8\xff": "image/jpeg", b"RIFF": "image/webp"}


@dataclass(frozen=True)
class ExportReport:
    keys: int  # keyframes written, over all channels
    frames: int  # keyframes there would be, one per frame
    animation_bytes: int  # bytes of animation data written
    full_bytes: int  # bytes with every frame as float32


def write_gltf(avatar: Avatar, morphs: dict[int, np.ndarray], fps: float, path: Path,
               tolerance: float = DEFAULT_TOLERANCE, jaw: JawTrack | None = None) -> ExportReport:
    """Write `avatar` with its morph weights animated (node index -> (frames, targets)), and its jaw joint
    turned when `jaw` is given, as .glb or .gltf; linear interpolation of what is written stays within
    `tolerance` of every frame's weights (and of jawOpen, for the jaw)."""
    check_tolerance(tolerance)
    if not morphs and jaw is None:
        raise UserError(f"{avatar.path}: the rig reaches no morph target or jaw bone to animate")
    doc, buffers, images = read_document(avatar.path)
    blob = bytearray()
    _merge_buffers(doc, buffers, blob)
    _embed_images(doc, images, blob)
    component, dtype, top = _weight_format(tolerance)
    quantisation = 0.5 / top if top else 0.0
    animation = {"name": ANIMATION_NAME, "samplers": [], "channels": []}
    keys = frames = written = full = 0
    for node in sorted(morphs):
        weights = morphs[node]
        kept = reduce_keys(weights, tolerance - quantisation)
        times = (kept / fps).astype("<f4")
        values = weights[kept]
        stored = np.round(np.clip(values, 0, 1) * top).astype(dtype) if top else values.astype("<f4")
        animation["samplers"].append({"input": _accessor(doc, blob, times, FLOAT, bounds=True),
                                      "output": _accessor(doc, blob, stored.ravel(), component, normalised=bool(top)),
                                      "interpolation": "LINEAR"})
        animation["channels"].append({"sampler": len(animation["samplers"]) - 1,
                                      "target": {"node": node, "path": "weights"}})
        keys, frames = keys + len(kept), frames + len(weights)
        written += times.nbytes + stored.nbytes
        full += 4 * len(weights) * (1 + weights.shape[1])
    if jaw is not None:
        kept = reduce_keys(jaw.opening[:, None], tolerance)
        times, rotations = (kept / fps).astype("<f4"), jaw.rotations[kept].astype("<f4")
        animation["samplers"].append({"input": _accessor(doc, blob, times, FLOAT, bounds=True),
                                      "output": _accessor(doc, blob, rotations, FLOAT, kind="VEC4"),
                                      "interpolation": "LINEAR"})
        animation["channels"].append({"sampler": len(animation["samplers"]) - 1,
                                      "target": {"node": jaw.node, "path": "rotation"}})
        keys, frames = keys + len(kept), frames + len(jaw.rotations)
        written += times.nbytes + rotations.nbytes
        full += 4 * len(jaw.rotations) * 5
    doc["animations"] = [a for a in doc.get("animations", []) if a.get("name") != ANIMATION_NAME] + [animation]
    write_document(doc, bytes(blob), path)
    return ExportReport(keys, frames, written, full)


def _weight_format(tolerance: float) -> tuple[int, str, int]:
    """The coarsest normalised integer type whose rounding leaves at least half the bound to key reduction;
    float32 for bounds too tight for any."""
    for component, dtype, top in QUANTISED:
        if 0.5 / top <= tolerance / 2:
            return component, dtype, top
    return FLOAT, "<f4", 0


def _merge_buffers(doc: dict, buffers: list[bytes], blob: bytearray) -> None:
    """All buffers into one, the GLB binary chunk; bufferViews point into it."""
    offsets = []
    for data in buffers:
        _align(blob)
        offsets.append(len(blob))
        blob += data
    for view in doc.get("bufferViews", []):
        view["byteOffset"] = view.get("byteOffset", 0) + offsets[view["buffer"]]
        view["buffer"] = 0


def _embed_images(doc: dict, images: dict[int, bytes], blob: bytearray) -> None:
    """Images stored by URI become bufferViews, so the file stands alone."""
    for index, data in sorted(images.items()):
        image = doc["images"][index]
        image["bufferView"] = add_view(doc, blob, data)
        image.setdefault("mimeType", next((m for magic, m in MIME.items() if data.startswith(magic)), "image/png"))
        del image["uri"]


def add_view(doc: dict, blob: bytearray, data: bytes) -> int:
    """Append `data` to the binary (4-byte aligned) and a bufferView over it; the view's index."""
    _align(blob)
    doc.setdefault("bufferViews", []).append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(data)})
    blob += data
    return len(doc["bufferViews"]) - 1


def _accessor(doc: dict, blob: bytearray, values: np.ndarray, component: int, bounds: bool = False,
              normalised: bool = False, kind: str = "SCALAR") -> int:
    data = np.ascontiguousarray(values).tobytes()
    accessor = {"bufferView": add_view(doc, blob, data), "componentType": component, "count": len(values),
                "type": kind}
    if normalised:
        accessor["normalized"] = True
    if bounds:  # required on animation inputs
        accessor["min"], accessor["max"] = [float(values.min())], [float(values.max())]
    doc.setdefault("accessors", []).append(accessor)
    return len(doc["accessors"]) - 1


def _align(blob: bytearray) -> None:
    blob += b"\0" * (-len(blob) % 4)


def write_document(doc: dict, blob: bytes, path: Path) -> None:
    """GLB (JSON and binary chunks) or .gltf (JSON with the buffer as a data URI), atomically."""
    if path.suffix.lower() == ".gltf":
        uri = "data:application/octet-stream;base64," + base64.b64encode(blob).decode("ascii")
        doc["buffers"] = [{"byteLength": len(blob), "uri": uri}]
        data = _json(doc)
    else:
        doc["buffers"] = [{"byteLength": len(blob)}]
        text = _json(doc)
        text += b" " * (-len(text) % 4)
        binary = blob + b"\0" * (-len(blob) % 4)
        data = (struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(text) + 8 + len(binary))
                + struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(binary), b"BIN\0") + binary)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def _json(doc: dict) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _write(export: Export, path: Path) -> str:
    rig, curves = export.rig, export.curves
    jaw = jaw_track(curves, rig.jaw) if rig.jaw else None
    weights = morph_weights(solve(curves, rig.profile), rig.avatar)
    report = write_gltf(rig.avatar, weights, curves.fps, path, export.options.tolerance, jaw)
    bone = f", jaw bone {rig.jaw.name}" if rig.jaw else ""
    return (f", rig {rig.profile.name}{bone}, {report.keys} of {report.frames} keys, animation "
            f"{report.animation_bytes / 1000:.0f} kB ({report.full_bytes / report.animation_bytes:.1f}x "
            f"smaller than every frame as float)")


FORMAT = Format("the avatar, animated", (".glb", ".gltf"), _write, avatar=True)
