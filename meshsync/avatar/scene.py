"""The avatar as meshsync holds it: meshes placed in the world with their primitives, vertex attributes and
morph targets, materials, skeleton joints and landmarks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

LANDMARKS_KEY = "meshsync.landmarks"  # in a mesh's extras: landmark name -> vertex index
# Landmarks meshsync uses: framing the camera, and measuring lip gap and lip-to-teeth contact.
LANDMARK_NAMES = ("upperLipInner", "lowerLipInner", "mouthCornerLeft", "mouthCornerRight", "upperTeethEdge",
                  "lowerLipOuter", "chin", "noseTip", "eyeLeft", "eyeRight")


@dataclass(eq=False)
class Geometry:
    """Vertex attributes and morph deltas; primitives that share accessors share one Geometry."""

    positions: np.ndarray  # (N, 3) float32
    normals: np.ndarray  # (N, 3) float32
    texcoords: np.ndarray | None  # (N, 2) float32
    colors: np.ndarray | None  # (N, 4) float32, linear RGBA
    target_positions: np.ndarray  # (T, N, 3) float32
    target_normals: np.ndarray  # (T, N, 3) float32
    joints: np.ndarray | None = None  # (N, 4) indices into Avatar.joints, for skinned geometry
    joint_weights: np.ndarray | None = None  # (N, 4) float32, each row summing to 1
    texcoords1: np.ndarray | None = None  # (N, 2) float32: TEXCOORD_1, which a texture may name
    tangents: np.ndarray | None = None  # (N, 4) float32: TANGENT (xyz, w the bitangent's sign), for normal maps

    def joint_weight(self, joint: int) -> np.ndarray | None:
        """(N,) how much each vertex follows `joint` (None when no vertex does), worked out once per joint."""
        cache = self.__dict__.setdefault("_joint_weights", {})
        if joint not in cache:
            weight = (self.joint_weights * (self.joints == joint)).sum(axis=1) if self.joints is not None else None
            cache[joint] = weight if weight is not None and weight.any() else None
        return cache[joint]

    def skinned_by(self, joints: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The vertices that follow any of `joints`, and their (n, J) float32 weights, worked out once."""
        cache = self.__dict__.setdefault("_skinned_by", {})
        if joints not in cache:
            weights = np.column_stack([self.joint_weight(j) for j in joints])
            touched = np.flatnonzero((weights > 0).any(axis=1))
            cache[joints] = touched, np.ascontiguousarray(weights[touched], np.float32)
        return cache[joints]

    def blend(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions and (unnormalised) normals with morph weights (T,) applied."""
        active = np.flatnonzero(weights)
        if active.size == 0:
            return self.positions, self.normals
        w = weights[active].astype(np.float32)
        n = len(self.positions)
        dp = w @ self.target_positions[active].reshape(len(active), n * 3)
        dn = w @ self.target_normals[active].reshape(len(active), n * 3)
        return self.positions + dp.reshape(n, 3), self.normals + dn.reshape(n, 3)


@dataclass(eq=False)
class Primitive:
    """Triangles drawn with one material."""

    geometry: Geometry
    indices: np.ndarray  # (M, 3) uint32
    material: int | None


@dataclass(eq=False)
class Texture:
    """A material's texture: its pixels, the vertex UV set it reads, and KHR_texture_transform's UV matrix."""

    pixels: np.ndarray  # (H, W, 4) uint8, sRGB for colour textures
    texcoord: int = 0  # TEXCOORD_0 or TEXCOORD_1
    transform: np.ndarray = field(default_factory=lambda: np.eye(3, dtype=np.float32))  # (3, 3) on (u, v, 1)


@dataclass(frozen=True)
class Toon:
    """VRM 1.0 MToon's lit-to-shade ramp (VRMC_materials_mtoon): each light's dot(n, l) + shift, through a
    ramp whose width is 2 x (1 - toony), mixes the shade colour into the lit one."""

    shade_color: tuple[float, float, float]  # linear RGB
    shift: float = 0.0
    toony: float = 0.9


OPAQUE, MASK, BLEND = "OPAQUE", "MASK", "BLEND"  # glTF's alpha modes: alpha ignored, cut at alphaCutoff, blended
ALPHA_MODES = (OPAQUE, MASK, BLEND)


@dataclass(eq=False)
class Material:
    name: str
    base_color: np.ndarray  # (4,) linear RGBA factor
    texture: Texture | None  # the base-colour texture
    metallic: float
    roughness: float
    double_sided: bool
    emissive: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))  # (3,) linear RGB factor
    emissive_texture: Texture | None = None
    alpha_mode: str = OPAQUE
    alpha_cutoff: float = 0.5
    unlit: bool = False  # KHR_materials_unlit: the base colour as it is, no lighting
    normal_texture: Texture | None = None  # tangent-space normals (linear RGB)
    normal_scale: float = 1.0
    occlusion_texture: Texture | None = None  # ambient occlusion in R (linear)
    occlusion_strength: float = 1.0
    metallic_roughness_texture: Texture | None = None  # roughness in G, metalness in B (linear)
    toon: Toon | None = None  # VRM MToon's toon shading, approximated


@dataclass(eq=False)
class Mesh:
    """One mesh instance: a node's mesh with its world transform and named morph targets."""

    name: str
    node: str
    matrix: np.ndarray  # (4, 4) world transform
    primitives: list[Primitive]
    target_names: list[str]
    landmarks: dict[str, int] = field(default_factory=dict)  # name -> vertex of primitives[0]
    node_index: int = -1  # the glTF node and mesh it came from (animation channels and VRM binds use them)
    mesh_index: int = -1

    def weights(self, pose: Mapping[str, float]) -> np.ndarray:
        """Morph weight vector for a pose given as target name -> weight (unknown names ignored)."""
        return np.array([pose.get(name, 0.0) for name in self.target_names], dtype=np.float32)


@dataclass(eq=False)
class Joint:
    name: str
    parent: int | None  # index into Avatar.joints
    matrix: np.ndarray  # (4, 4) world transform at rest
    node: int = -1  # glTF node index (animation channels target it)
    rotation: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 0.0, 1.0]))  # local, x y z w


@dataclass(eq=False)
class Avatar:
    path: Path
    meshes: list[Mesh]
    materials: list[Material]
    joints: list[Joint]
    extensions: dict  # top-level glTF extensions (VRM, VRMC_vrm, ...)

    @property
    def target_names(self) -> list[str]:
        """Every morph target name, in first-seen order."""
        return list(dict.fromkeys(name for mesh in self.meshes for name in mesh.target_names))

    @property
    def landmark_mesh(self) -> Mesh | None:
        """The mesh that carries `meshsync.landmarks`, if any."""
        return next((mesh for mesh in self.meshes if mesh.landmarks), None)

    def landmark_points(self, pose: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """World positions of the landmarks, with a pose (target name -> weight) applied."""
        mesh = self.landmark_mesh
        if mesh is None:
            return {}
        positions, _ = mesh.primitives[0].geometry.blend(mesh.weights(pose or {}))
        names = list(mesh.landmarks)
        local = positions[[mesh.landmarks[n] for n in names]]
        world = local @ mesh.matrix[:3, :3].T + mesh.matrix[:3, 3]
        return dict(zip(names, world))

    def joint(self, name: str) -> int | None:
        """Index of the joint with this name (any case), or None."""
        return next((k for k, joint in enumerate(self.joints) if joint.name.lower() == name.lower()), None)

    def joints_below(self, index: int) -> set[int]:
        """A joint and every joint below it, which move with it (parents come before their children)."""
        below = {index}
        for k, joint in enumerate(self.joints):
            if joint.parent in below:
                below.add(k)
        return below

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """World-space axis-aligned bounding box of the rest pose."""
        points = [
            p.geometry.positions @ m.matrix[:3, :3].T + m.matrix[:3, 3] for m in self.meshes for p in m.primitives
        ]
        allp = np.concatenate(points)
        return allp.min(axis=0), allp.max(axis=0)


def vertex_normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted smooth vertex normals (unit length; zero for unused vertices). Components under 1e-9
    are rounding noise (a normal in a mirror plane), set to 0: CPUs with and without fused multiply-add
    leave different noise, and the asset builders must write the same bytes on both."""
    p = positions.astype(np.float64)
    face = np.cross(p[triangles[:, 1]] - p[triangles[:, 0]], p[triangles[:, 2]] - p[triangles[:, 0]])
    normals = np.zeros_like(p)
    for corner in range(3):
        np.add.at(normals, triangles[:, corner], face)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals /= np.where(length > 0, length, 1.0)
    normals[np.abs(normals) < 1e-9] = 0.0
    return normals.astype(np.float32)


def vertex_tangents(positions: np.ndarray, normals: np.ndarray, texcoords: np.ndarray,
                    triangles: np.ndarray) -> np.ndarray:
    """Per-vertex tangents (x, y, z, w) from the UV gradients of the triangles around each vertex, made
    orthogonal to its normal, w the bitangent's sign: what a normal map needs when the file has none."""
    p, uv = positions.astype(np.float64), texcoords.astype(np.float64)
    e1, e2 = p[triangles[:, 1]] - p[triangles[:, 0]], p[triangles[:, 2]] - p[triangles[:, 0]]
    d1, d2 = uv[triangles[:, 1]] - uv[triangles[:, 0]], uv[triangles[:, 2]] - uv[triangles[:, 0]]
    det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
    scale = np.where(np.abs(det) > 1e-12, 1.0 / np.where(det == 0, 1, det), 0.0)[:, None]
    tangent = (e1 * d2[:, 1:] - e2 * d1[:, 1:]) * scale
    bitangent = (e2 * d1[:, :1] - e1 * d2[:, :1]) * scale
    t, b = np.zeros_like(p), np.zeros_like(p)
    for corner in range(3):
        np.add.at(t, triangles[:, corner], tangent)
        np.add.at(b, triangles[:, corner], bitangent)
    n = normals.astype(np.float64)
    t -= n * np.sum(n * t, axis=1, keepdims=True)
    length = np.linalg.norm(t, axis=1, keepdims=True)
    t = np.where(length > 1e-12, t / np.where(length > 0, length, 1), [[1.0, 0.0, 0.0]])
    # glTF's bitangent, cross(normal, tangent) x w, runs up the image (towards smaller v), as its normal maps
    w = np.where(np.sum(np.cross(n, t) * b, axis=1) > 0, -1.0, 1.0)
    return np.column_stack([t, w]).astype(np.float32)
