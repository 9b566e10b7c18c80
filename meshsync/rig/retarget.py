"""From ARKit curves to the avatar at hand: its rig profile's shapes, then its morph target weights.

An ARKit avatar takes the curves as they are. For a viseme or VRM rig, each frame is solved for the
non-negative mix of the profile's poses (each defined in ARKit space) that best reproduces the ARKit pose,
so visemes blend with the same coarticulation instead of switching. The profile's shapes then reach the
meshes' morph targets by name (with the profile's prefixes, any case) or, for VRM, through the expression
binds that the file's extension declares. The ARKit channels no pose touches (blinks, gaze, brows) pass
through to targets of their own name, so an avatar that carries them beside its visemes keeps them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..animate import Curves
from ..avatar import Avatar, Joint, Mesh
from ..channels import arkit_names
from ..errors import UserError
from ..files import data_dir
from .profiles import Profile, detect, find_profile, load_profiles, vrm_presets

SHOWN = 8  # morph target names quoted in an error


@dataclass(frozen=True, eq=False)
class RigCurves:
    """Weights of a rig profile's shapes per frame, at the curves' frame rate."""

    profile: Profile
    fps: float
    names: tuple[str, ...]
    values: np.ndarray  # (frames, shapes) float32 in [0, 1]


def choose_profile(avatar: Avatar, rig: str | None = None) -> Profile:
    """The profile asked for (a name or a TOML file), else the best one the avatar follows."""
    if rig is not None:
        profile = find_profile(rig)
        if not bindings(profile, profile.outputs, avatar):
            found = ", ".join(avatar.target_names[:SHOWN]) or "none"
            raise UserError(f"{avatar.path}: none of its morph targets ({found}...) follow the {profile.title} "
                            f"profile asked for with --rig {rig}; check the names, or map them in a custom .toml")
        return profile
    matches = detect(avatar)
    if matches:
        return matches[0].profile
    found = avatar.target_names
    listed = ", ".join(found[:SHOWN]) + (f", ... ({len(found)} in all)" if len(found) > SHOWN else "")
    supported = "; ".join(p.title for p in load_profiles())
    raise UserError(f"{avatar.path}: no usable morph targets (found {listed or 'none'}); supported: {supported} "
                    "(ARKit in camelCase or PascalCase), or a custom map with --rig my_rig.toml")


def solve(curves: Curves, profile: Profile) -> RigCurves:
    """The profile's shape weights for every frame of the ARKit curves."""
    arkit, names = arkit_names(), profile.outputs
    if profile.poses is None:  # the shapes are ARKit's own
        columns = [curves.names.index(name) for name in names]
        return RigCurves(profile, curves.fps, names, curves.values[:, columns].copy())
    basis = np.zeros((len(arkit), len(names)))  # ARKit channels x the profile's shapes
    for j, name in enumerate(names):
        for channel, weight in profile.poses[name].items():
            basis[arkit.index(channel), j] = weight
    from scipy.optimize import nnls  # 0.2 s to import: only rigs with poses need it

    used = np.flatnonzero(basis.any(axis=1))  # channels no pose touches cannot be reproduced anyway
    wanted = curves.values[:, used].astype(np.float64)
    values = np.array([nnls(basis[used], row)[0] for row in wanted]) if len(wanted) else np.zeros((0, len(names)))
    values = np.clip(values, 0.0, 1.0)
    if profile.rest in names:
        others = [j for j, name in enumerate(names) if name != profile.rest]
        values[:, names.index(profile.rest)] = np.clip(1.0 - values[:, others].sum(axis=1), 0.0, 1.0)
    untouched = tuple(arkit[i] for i in np.flatnonzero(~basis.any(axis=1)))
    passed = curves.values[:, [curves.names.index(name) for name in untouched]]
    return RigCurves(profile, curves.fps, names + untouched, np.hstack([values, passed]).astype(np.float32))


@dataclass(frozen=True, eq=False)
class JawTrack:
    """A jaw joint's rotation per frame, as unit quaternions (x, y, z, w) in the joint's parent space."""

    node: int  # glTF node index of the joint
    rotations: np.ndarray  # (frames, 4) float32
    opening: np.ndarray  # (frames,) jawOpen, 0..1: where the keys matter
    angles: np.ndarray  # (frames,) radians turned from rest about the joint's local X axis


def joint_moves(avatar: Avatar, joint: Joint, angle: float) -> dict[int, np.ndarray]:
    """World-space moves (index into avatar.joints -> 4x4) of `joint` turned by `angle` about its local X
    axis, and of every joint below it, which turn with it."""
    c, s = np.cos(angle), np.sin(angle)
    turn = np.array([[1, 0, 0, 0], [0, c, -s, 0], [0, s, c, 0], [0, 0, 0, 1]])
    move = joint.matrix @ turn @ np.linalg.inv(joint.matrix)
    return dict.fromkeys(avatar.joints_below(avatar.joints.index(joint)), move)


def jaw_joint(avatar: Avatar, bone: str | None = None) -> Joint | None:
    """The joint jawOpen should turn: `bone` when named, else a joint with a usual jaw name when the avatar
    has no jawOpen morph target (its jaw is a bone); None when there is none to turn."""
    if bone is None and "jawopen" in {name.lower() for name in avatar.target_names}:
        return None
    wanted = [bone.lower()] if bone else _jaw_settings()["bones"]
    joint = next((j for j in avatar.joints if j.name.lower() in wanted), None)
    if joint is None and bone:
        names = ", ".join(j.name for j in avatar.joints) or "none"
        raise UserError(f"{avatar.path}: no joint named {bone!r} for --jaw-bone (its joints: {names})")
    return joint


def jaw_track(curves: Curves, joint: Joint) -> JawTrack:
    """The joint turned about its local X axis (chin down) by jawOpen x the open angle, on its rest rotation."""
    opening = curves.channel("jawOpen").astype(np.float64)
    angles = np.radians(_jaw_settings()["open_angle"]) * opening
    half = angles / 2
    turn = np.column_stack([np.sin(half), np.zeros_like(half), np.zeros_like(half), np.cos(half)])
    return JawTrack(joint.node, _multiply(joint.rotation, turn).astype(np.float32), opening.astype(np.float32),
                    angles)


@cache
def _jaw_settings() -> dict:
    with (data_dir("rigs") / "arkit.toml").open("rb") as f:
        return tomllib.load(f)["jaw"]


def _multiply(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Quaternion products q * r (x, y, z, w), q one rotation, r one per row."""
    x1, y1, z1, w1 = q
    x2, y2, z2, w2 = r.T
    return np.column_stack([w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2, w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
                            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2, w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2])


def morph_weights(rig: RigCurves, avatar: Avatar) -> dict[int, np.ndarray]:
    """Per mesh node (glTF node index), its morph target weights per frame: (frames, morph targets) in 0..1."""
    out = {}
    for mesh, matrix in bindings(rig.profile, rig.names, avatar).items():
        out[mesh.node_index] = np.clip(rig.values @ matrix, 0.0, 1.0).astype(np.float32)
    return out


def bindings(profile: Profile, names: tuple[str, ...], avatar: Avatar) -> dict[Mesh, np.ndarray]:
    """Per mesh that any of the shapes `names` reaches, a (shapes x morph targets) matrix of factors: the
    profile's shapes as its convention binds them, other (ARKit) names to targets of that name not already
    bound by the profile."""
    own = [j for j, name in enumerate(names) if name in profile.outputs]
    passed = [j for j, name in enumerate(names) if name not in profile.outputs]
    own_names = tuple(names[j] for j in own)
    if profile.extension is not None:
        by_profile = _vrm_bindings(profile, own_names, avatar)
    else:
        by_profile = _named_bindings(own_names, profile.prefixes, avatar)
    by_name = _named_bindings(tuple(names[j] for j in passed), ("",), avatar)
    out = {}
    for mesh in {**by_profile, **by_name}:
        matrix = np.zeros((len(names), len(mesh.target_names)), np.float32)
        if mesh in by_profile:
            matrix[own] = by_profile[mesh]
        if mesh in by_name:
            matrix[passed] = by_name[mesh] * ~matrix[own].any(axis=0)
        if matrix.any():
            out[mesh] = matrix
    return out


def _named_bindings(names: tuple[str, ...], prefixes: tuple[str, ...], avatar: Avatar) -> dict[Mesh, np.ndarray]:
    """Shapes that reach morph targets by name: a prefix and the shape's name, in any case."""
    out = {}
    for mesh in avatar.meshes:
        lookup: dict[str, int] = {}
        for index, target in enumerate(mesh.target_names):
            if target.lower() in lookup:
                raise UserError(f"{avatar.path}: mesh {mesh.name!r} has two morph targets named "
                                f"{target!r} (names are matched in any case); rename one")
            lookup[target.lower()] = index
        matrix = np.zeros((len(names), len(mesh.target_names)), np.float32)
        for j, name in enumerate(names):
            hits = {lookup[key] for p in prefixes if (key := f"{p}{name}".lower()) in lookup}
            if len(hits) > 1:
                raise UserError(f"{avatar.path}: mesh {mesh.name!r} has several morph targets for {name!r} "
                                f"({', '.join(mesh.target_names[i] for i in sorted(hits))}); keep one")
            for index in hits:
                matrix[j, index] = 1.0
        if matrix.any():
            out[mesh] = matrix
    return out


def _vrm_bindings(profile: Profile, names: tuple[str, ...], avatar: Avatar) -> dict[Mesh, np.ndarray]:
    """VRM expressions reach morph targets through binds: VRM 1.0 by node, VRM 0.x by mesh (weight 0..100)."""
    presets = vrm_presets(avatar.extensions.get(profile.extension), avatar.path)
    scale = 1.0 if profile.extension == "VRMC_vrm" else 0.01
    key = "node" if profile.extension == "VRMC_vrm" else "mesh"
    out: dict[Mesh, np.ndarray] = {}
    for j, name in enumerate(names):
        for bind in presets.get(name, []):
            for mesh in avatar.meshes:
                if (mesh.node_index if key == "node" else mesh.mesh_index) != bind.get(key):
                    continue
                index = bind.get("index")
                if not isinstance(index, int) or not 0 <= index < len(mesh.target_names):
                    raise UserError(f"{avatar.path}: VRM expression {name!r} binds morph target {index!r}, "
                                    f"which mesh {mesh.name!r} does not have")
                matrix = out.setdefault(mesh, np.zeros((len(names), len(mesh.target_names)), np.float32))
                matrix[j, index] += scale * float(bind.get("weight", 1.0 if scale == 1.0 else 100.0))
    return out
