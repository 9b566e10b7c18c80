"""Avatars in other rig conventions, built from the bundled head (`--avatar head`), for the export tests.

    python tools/build_test_avatars.py OUT_DIR

- readyplayerme.glb: the head plus ReadyPlayerMe-style `viseme_*` targets (ARKit 52 kept, as RPM avatars have);
- oculus.glb: the head plus the 15 Oculus/Meta visemes under their plain names (sil, PP, FF, ...);
- vrm1.glb: the head plus VRoid-style mouth targets (Fcl_MTH_A ...) that a `VRMC_vrm` extension binds to the
  VRM 1.0 expressions aa ih ou ee oh, and blinkLeft/blinkRight bound to the ARKit blinks; a real VRM 1.0 (the
  VRM licence URL, a humanoid with the required bones, the head on its head bone), as three-vrm demands;
- vrm0.glb: the same targets bound by a VRM 0.x `VRM` extension's blendShapeMaster (a i u e o, blink_l/_r),
  with a VRM 0.x humanoid (left at -X, as VRM 0.x avatars face -Z);
- jaw.glb: the head skinned to a `Head` and a `Jaw` joint, without its jawOpen target: the jaw is a bone.
Each new target is real geometry: the ARKit deltas mixed by the profile's pose (rigs/*.toml); the jaw's
skin weights follow how far jawOpen moved each vertex.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from meshsync.avatar import load_avatar
from meshsync.export.vrma import skeleton_nodes, world_position
from meshsync.files import atomic_output, avatar_path
from meshsync.gltf import ARRAY_BUFFER, FLOAT, UNSIGNED_BYTE, Document, merged
from meshsync.rig import find_profile

VROID = {"aa": "Fcl_MTH_A", "ih": "Fcl_MTH_I", "ou": "Fcl_MTH_U", "ee": "Fcl_MTH_E", "oh": "Fcl_MTH_O"}
VRM0_PRESETS = {"aa": "a", "ih": "i", "ou": "u", "ee": "e", "oh": "o"}


class Head:
    """The default head's document and binary, to which targets are added."""

    def __init__(self):
        self.writer = merged(Document(avatar_path("head")))
        self.doc = self.writer.doc
        self.avatar = load_avatar(avatar_path("head"))
        self.mesh = self.avatar.meshes[0]
        self.geometry = self.mesh.primitives[0].geometry

    def index(self, name: str) -> int:
        return self.mesh.target_names.index(name)

    def add_target(self, name: str, pose: dict[str, float]) -> int:
        """A morph target mixing the ARKit targets by `pose`, stored sparse; its index."""
        positions = sum((w * self.geometry.target_positions[self.index(c)] for c, w in pose.items()),
                        np.zeros_like(self.geometry.positions))
        normals = sum((w * self.geometry.target_normals[self.index(c)] for c, w in pose.items()),
                      np.zeros_like(self.geometry.normals))
        rows = np.flatnonzero(np.abs(positions).max(axis=1) + np.abs(normals).max(axis=1) > 0)
        target = {"POSITION": self.writer.sparse_accessor(positions, rows, bounds=True),
                  "NORMAL": self.writer.sparse_accessor(normals, rows)}
        mesh = self.doc["meshes"][0]
        for primitive in mesh["primitives"]:
            primitive["targets"].append(target)
        mesh["extras"]["targetNames"].append(name)
        if "weights" in mesh:  # default weights: one per target
            mesh["weights"].append(0.0)
        return len(mesh["extras"]["targetNames"]) - 1

    def vertex_attribute(self, values: np.ndarray, component: int) -> int:
        return self.writer.accessor(values, component, target=ARRAY_BUFFER)

    def write(self, path: Path) -> Path:
        data = self.writer.file_bytes(path.suffix)
        with atomic_output(path) as tmp:
            tmp.write_bytes(data)
        return path


def visemes(out: Path, profile: str) -> Path:
    """The head plus one target per viseme of a viseme profile, under the profile's own names."""
    head = Head()
    for name, pose in find_profile(profile).poses.items():
        head.add_target(name, dict(pose))
    return head.write(out / f"{profile}.glb")


def vrm_targets(head: Head) -> dict[str, int]:
    """The VRoid-style mouth targets, by VRM 1.0 expression name."""
    poses = find_profile("vrm1").poses
    return {expression: head.add_target(name, dict(poses[expression])) for expression, name in VROID.items()}


VRM1_LICENCE = "https://vrm.dev/licenses/1.0/"  # the only licenseUrl VRM 1.0 (and three-vrm) accept


def add_humanoid(head: Head, mirror: bool = False) -> dict[str, int]:
    """The humanoid skeleton as the scene's root, the head mesh (node 0) on its head bone where it was;
    each bone's node index."""
    nodes = head.doc["nodes"]
    bones, index = skeleton_nodes(len(nodes), mirror)
    nodes += bones
    chin = head.avatar.landmark_points()["chin"]
    neck = np.array([0.0, chin[1], 0.0])  # the skeleton stands so its head bone is under the chin
    hips = nodes[index["hips"]]
    hips["translation"] = (np.array(hips["translation"]) + neck - world_position("head")).tolist()
    nodes[index["head"]].setdefault("children", []).append(0)
    nodes[0]["translation"] = (-neck).tolist()
    head.doc["scenes"][0]["nodes"] = [index["hips"]]
    return index


def vrm1(out: Path) -> Path:
    head = Head()
    binds = {expression: [(index, 1.0)] for expression, index in vrm_targets(head).items()}
    binds |= {"blinkLeft": [(head.index("eyeBlinkLeft"), 1.0)], "blinkRight": [(head.index("eyeBlinkRight"), 1.0)]}
    bones = add_humanoid(head)
    head.doc["extensionsUsed"] = ["VRMC_vrm"]
    head.doc["extensions"] = {"VRMC_vrm": {
        "specVersion": "1.0",
        "meta": {"name": "meshsync test head", "version": "1", "authors": ["meshsync"], "licenseUrl": VRM1_LICENCE,
                 "otherLicenseUrl": "https://creativecommons.org/publicdomain/zero/1.0/"},
        "humanoid": {"humanBones": {name: {"node": node} for name, node in bones.items()}},
        "expressions": {"preset": {name: {"morphTargetBinds": [{"node": 0, "index": i, "weight": w} for i, w in b],
                                          "isBinary": False} for name, b in binds.items()}},
    }}
    return head.write(out / "vrm1.glb")


def vrm0(out: Path) -> Path:
    head = Head()
    groups = [{"name": VRM0_PRESETS[e].upper(), "presetName": VRM0_PRESETS[e],
               "binds": [{"mesh": 0, "index": i, "weight": 100}]} for e, i in vrm_targets(head).items()]
    groups += [{"name": "Blink_L", "presetName": "blink_l", "binds": [{"mesh": 0, "index": head.index("eyeBlinkLeft"),
                                                                         "weight": 100}]},
               {"name": "Blink_R", "presetName": "blink_r", "binds": [{"mesh": 0, "index": head.index("eyeBlinkRight"),
                                                                         "weight": 100}]}]
    bones = add_humanoid(head, mirror=True)
    head.doc["extensionsUsed"] = ["VRM"]
    head.doc["extensions"] = {"VRM": {
        "specVersion": "0.0", "meta": {"title": "meshsync test head", "licenseName": "CC0"},
        "humanoid": {"humanBones": [{"bone": name, "node": node, "useDefaultValues": True}
                                    for name, node in bones.items()]},
        "blendShapeMaster": {"blendShapeGroups": groups}}}
    return head.write(out / "vrm0.glb")


def jaw(out: Path) -> Path:
    head = Head()
    opening = head.index("jawOpen")
    moved = np.linalg.norm(head.geometry.target_positions[opening], axis=1)
    weight = np.clip(moved / (0.6 * moved.max()), 0.0, 1.0).astype("<f4")
    mesh = head.doc["meshes"][0]
    for primitive in mesh["primitives"]:
        del primitive["targets"][opening]
    del mesh["extras"]["targetNames"][opening]
    if "weights" in mesh:
        del mesh["weights"][opening]
    count = len(weight)
    # Joint 0 (Head) then 1 (Jaw); a vertex all on one joint lists only that one, as glTF asks.
    joints = np.zeros((count, 4), "u1")
    joints[:, 0] = np.where(weight >= 1, 1, 0)
    joints[:, 1] = np.where((weight > 0) & (weight < 1), 1, 0)
    weights = np.zeros((count, 4), "<f4")
    weights[:, 0] = np.where(weight >= 1, 1, 1 - weight)
    weights[:, 1] = np.where((weight > 0) & (weight < 1), weight, 0)
    joints, weights = head.vertex_attribute(joints, UNSIGNED_BYTE), head.vertex_attribute(weights, FLOAT)
    for primitive in mesh["primitives"]:
        primitive["attributes"] |= {"JOINTS_0": joints, "WEIGHTS_0": weights}
    points = head.avatar.landmark_points()
    eyes, chin = (points["eyeLeft"] + points["eyeRight"]) / 2, points["chin"]
    size = float(np.linalg.norm(eyes - chin))
    neck = np.array([0.0, chin[1] - 0.4 * size, eyes[2] - 0.6 * size])
    pivot = np.array([0.0, eyes[1] - 0.35 * size, eyes[2] - 0.75 * size])  # near the jaw's hinge, before the ears
    nodes = head.doc["nodes"]
    nodes += [{"name": "Head", "translation": neck.tolist(), "children": [len(nodes) + 1]},
              {"name": "Jaw", "translation": (pivot - neck).tolist()}]
    inverse_bind = np.stack([np.eye(4), np.eye(4)])
    inverse_bind[0, :3, 3], inverse_bind[1, :3, 3] = -neck, -pivot
    head.doc["skins"] = [{"joints": [len(nodes) - 2, len(nodes) - 1], "skeleton": len(nodes) - 2,
                          "inverseBindMatrices": head.writer.accessor(inverse_bind.transpose(0, 2, 1)
                                                                      .reshape(2, 16).astype("<f4"))}]
    nodes[0]["skin"] = 0
    head.doc["scenes"][0]["nodes"].append(len(nodes) - 2)
    return head.write(out / "jaw.glb")


def build(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    return {"readyplayerme": visemes(out, "readyplayerme"), "oculus": visemes(out, "oculus"), "vrm1": vrm1(out),
            "vrm0": vrm0(out), "jaw": jaw(out)}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for name, path in build(Path(sys.argv[1])).items():
        print(f"{name}: {path}")
