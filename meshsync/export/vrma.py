"""VRM Animation (.vrma, the `VRMC_vrm_animation` extension): expression, head and gaze tracks that any VRM
plays, with no avatar needed, as three-vrm and VRM apps load them.

A VRM's expressions own their morph targets, so three-vrm resets raw morph animation every frame: VRM
animation is expression animation. The file holds a bare humanoid (vrma.toml) and one node per expression;
an expression's weight is its node's translation x. Weights are the VRM 1.0 rig's presets (aa ih ou ee oh,
blinkLeft, blinkRight) solved from the ARKit curves as for a VRM avatar; the head bone turns by the head
rotation, the look-at node by the eyes' mean gaze. Keys are reduced within the export tolerance.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import numpy as np

from .. import __version__
from ..animate import Curves
from ..channels import HEAD_ROTATIONS
from ..files import atomic_output
from ..gltf import FLOAT, Writer
from ..provenance import mark_gltf
from ..rig import find_profile, solve
from .base import Export, Format
from .keyframes import reduce_keys

EXTENSION = "VRMC_vrm_animation"
PROFILE = "vrm1"  # the rig whose presets the expressions are
EYES = (("leftEyeYaw", "rightEyeYaw"), ("leftEyePitch", "rightEyePitch"))


@cache
def humanoid() -> dict:
    """The skeleton of vrma.toml: bones (name -> parent, offset) and the look-at offset."""
    with Path(__file__).with_name("vrma.toml").open("rb") as f:
        return tomllib.load(f)


def skeleton_nodes(first: int, mirror: bool = False) -> tuple[list[dict], dict[str, int]]:
    """glTF nodes of the humanoid, numbered from `first`, and each bone's node index; `mirror` puts the
    avatar's left at -X, as VRM 0.x (facing -Z) has it. The hips come first: the root to add to a scene."""
    bones = humanoid()["bones"]
    index = {name: first + k for k, name in enumerate(bones)}
    nodes = []
    for name, bone in bones.items():
        x, y, z = bone["offset"]
        node = {"name": name, "translation": [-x if mirror else x, y, z]}
        children = [index[child] for child, other in bones.items() if other.get("parent") == name]
        if children:
            node["children"] = children
        nodes.append(node)
    return nodes, index


def world_position(bone: str) -> np.ndarray:
    """A bone's rest position: the sum of the offsets up to the hips."""
    bones, total = humanoid()["bones"], np.zeros(3)
    while bone is not None:
        total += bones[bone]["offset"]
        bone = bones[bone].get("parent")
    return total


def write_vrma(curves: Curves, path: Path, tolerance: float) -> int:
    """Write the curves as a VRM Animation; the number of keys written."""
    writer = Writer({"asset": {"version": "2.0", "generator": f"meshsync {__version__}"}})
    nodes, bones = skeleton_nodes(0)
    look_at = len(nodes)
    nodes[bones["head"]].setdefault("children", []).append(look_at)
    nodes.append({"name": "lookAt", "translation": humanoid()["look_at"]["offset_from_head"]})
    profile = find_profile(PROFILE)
    rig = solve(curves, profile)
    names = profile.outputs
    weights = rig.values[:, [rig.names.index(name) for name in names]]
    expressions = {name: len(nodes) + k for k, name in enumerate(names)}
    nodes += [{"name": name} for name in names]
    animation = {"name": "meshsync", "samplers": [], "channels": []}

    def track(values: np.ndarray, outputs: list[np.ndarray], targets: list[tuple[int, str]], bound: float) -> int:
        kept = reduce_keys(values, bound)
        times = writer.accessor((kept / curves.fps).astype("<f4"), FLOAT, bounds=True)
        for output, (node, target) in zip(outputs, targets):
            animation["samplers"].append({"input": times, "interpolation": "LINEAR",
                                          "output": writer.accessor(output[kept].astype("<f4"), FLOAT)})
            animation["channels"].append({"sampler": len(animation["samplers"]) - 1,
                                          "target": {"node": node, "path": target}})
        return len(kept) * len(outputs)

    zeros = np.zeros((curves.frames, 2), np.float32)
    keys = track(weights, [np.column_stack([weights[:, k], zeros]) for k in range(len(names))],
                 [(expressions[name], "translation") for name in names], tolerance)
    head = np.column_stack([curves.channel(name) for name in HEAD_ROTATIONS])
    keys += track(head, [_quaternions(*head.T)], [(bones["head"], "rotation")], tolerance)
    gaze = np.column_stack([np.mean([curves.channel(eye) for eye in pair], axis=0) for pair in EYES])
    keys += track(gaze, [_quaternions(gaze[:, 0], gaze[:, 1], np.zeros(len(gaze)))], [(look_at, "rotation")],
                  tolerance)
    writer.doc |= {
        "scene": 0, "scenes": [{"nodes": [bones["hips"], *expressions.values()]}], "nodes": nodes,
        "animations": [animation], "extensionsUsed": [EXTENSION],
        "extensions": {EXTENSION: {
            "specVersion": "1.0",
            "humanoid": {"humanBones": {name: {"node": node} for name, node in bones.items()}},
            "expressions": {"preset": {name: {"node": node} for name, node in expressions.items()}},
            "lookAt": {"node": look_at}}}}
    mark_gltf(writer.doc, animation, whole=True)
    data = writer.file_bytes(".glb")
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return keys


def _quaternions(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """Unit quaternions (x, y, z, w) of yaw about +Y (towards the avatar's left, +X), then pitch about +X
    (nodding down), then roll about +Z: the head frame of the curves, in VRM 1.0's axes."""
    cy, sy, cp, sp = np.cos(yaw / 2), np.sin(yaw / 2), np.cos(pitch / 2), np.sin(pitch / 2)
    cr, sr = np.cos(roll / 2), np.sin(roll / 2)
    return np.column_stack([cy * sp * cr + sy * cp * sr, sy * cp * cr - cy * sp * sr,
                            cy * cp * sr - sy * sp * cr, cy * cp * cr + sy * sp * sr])


def _write(export: Export, path: Path) -> str:
    keys = write_vrma(export.curves, path, export.options.tolerance)
    return f", {keys} keys; expressions {', '.join(find_profile(PROFILE).outputs)}, head and gaze"


FORMAT = Format("a VRM Animation: expressions, head and gaze for any VRM", (".vrma",), _write)
