"""What the tests check exports with, independently of meshsync's own reader: the Khronos glTF validator,
and a small decoder of GLB animations."""

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NORMALISED = {5121: ("u1", 255), 5123: ("<u2", 65535)}  # component type -> stored type, largest value


def validate(path: Path) -> dict:
    """The Khronos validator's issues (numErrors, numWarnings, messages) for a glTF or GLB file."""
    result = subprocess.run(["node", str(REPO / "tools" / "validate_gltf.mjs"), str(path)], capture_output=True,
                            text=True, cwd=REPO)
    return json.loads(result.stdout)["issues"]


def glb_parts(path: Path) -> tuple[dict, bytes]:
    """A GLB file's JSON document and binary chunk, read by hand."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + json_length]), data[20 + json_length + 8:]


def glb_animation(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per animated node, the key times and the weights (keys, targets), decoded from the GLB."""
    doc, blob = glb_parts(path)

    def read(index: int) -> np.ndarray:
        accessor = doc["accessors"][index]
        view = doc["bufferViews"][accessor["bufferView"]]
        dtype, top = NORMALISED.get(accessor["componentType"], ("<f4", 0))
        raw = np.frombuffer(blob, dtype, accessor["count"], view.get("byteOffset", 0) + accessor.get("byteOffset", 0))
        return raw / top if top else raw.astype(np.float64)

    animation = next(a for a in doc["animations"] if a["name"] == "meshsync")
    out = {}
    for channel in animation["channels"]:
        sampler = animation["samplers"][channel["sampler"]]
        assert channel["target"]["path"] == "weights" and sampler["interpolation"] == "LINEAR"
        times, values = read(sampler["input"]), read(sampler["output"])
        out[channel["target"]["node"]] = times, values.reshape(len(times), -1)
    return out
