"""Load a glTF/GLB avatar into a typed `Avatar`: meshes, morph targets, materials, joints, landmarks.

trimesh drops morph targets, so the JSON is parsed with pygltflib and every accessor is read here,
with bounds checked and external files confined to the avatar's folder: a broken or hostile file
becomes one `AvatarError` line, never a traceback or a read outside that folder.
"""

from __future__ import annotations

import base64
import io
import json
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Mapping
from urllib.parse import unquote

import numpy as np
import pygltflib
from PIL import Image

from .errors import UserError

MAX_FILE_BYTES = 1 << 31
LANDMARKS_KEY = "meshsync.landmarks"
# Landmarks meshsync uses: framing the camera, and measuring lip gap and lip-to-teeth contact.
LANDMARK_NAMES = ("upperLipInner", "lowerLipInner", "mouthCornerLeft", "mouthCornerRight", "upperTeethEdge",
                  "lowerLipOuter", "chin", "noseTip", "eyeLeft", "eyeRight")

_COMPONENT_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN = 4, 5, 6


class AvatarError(UserError):
    """The avatar file cannot be used; the message names the file and the problem."""


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
class Material:
    name: str
    base_color: np.ndarray  # (4,) linear RGBA factor
    texture: np.ndarray | None  # (H, W, 4) uint8 sRGB base-colour texture
    metallic: float
    roughness: float
    double_sided: bool


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

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """World-space axis-aligned bounding box of the rest pose."""
        points = [
            p.geometry.positions @ m.matrix[:3, :3].T + m.matrix[:3, 3] for m in self.meshes for p in m.primitives
        ]
        allp = np.concatenate(points)
        return allp.min(axis=0), allp.max(axis=0)


def load_avatar(path: str | Path) -> Avatar:
    """Read a .glb or .gltf file; raise AvatarError with one clear line when it cannot be used."""
    path = Path(path)
    try:
        return _Reader(path).avatar()
    except AvatarError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, struct.error, OverflowError) as exc:
        # Malformed structure that slipped past the explicit checks: still the file's fault, not ours.
        raise AvatarError(f"{path}: malformed glTF ({type(exc).__name__}: {exc})") from exc


def read_document(path: str | Path) -> tuple[dict, list[bytes], dict[int, bytes]]:
    """An avatar's glTF JSON as parsed (a plain dict), every buffer's bytes, and the bytes of images stored
    by URI, resolved as `load_avatar` resolves them (nothing outside the avatar's folder is read): what
    exporters copy, untouched but for what they add."""
    path = Path(path)
    try:
        reader = _Reader(path)
        buffers = [reader.buffer(i) for i in range(len(reader.raw.get("buffers") or []))]
        images = {i: reader.read_uri(image["uri"], f"image {i}")
                  for i, image in enumerate(reader.raw.get("images") or []) if image.get("uri") is not None}
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, struct.error) as exc:
        raise AvatarError(f"{path}: malformed glTF ({type(exc).__name__}: {exc})") from exc
    return json.loads(json.dumps(reader.raw)), buffers, images  # a copy: exporters change it


class _Reader:
    """Reads one glTF document; caches accessors so shared accessors give shared arrays."""

    def __init__(self, path: Path):
        self.path = path
        self.raw, self.blob = self._parse(path)
        self.folder = path.resolve().parent
        self._buffers: dict[int, bytes] = {}
        self._accessors: dict[int, np.ndarray] = {}
        self._geometries: dict[tuple, Geometry] = {}

    def fail(self, detail: str) -> AvatarError:
        return AvatarError(f"{self.path}: {detail}")

    # -- document -----------------------------------------------------------------------------

    @cached_property
    def gltf(self) -> pygltflib.GLTF2:
        """pygltflib's typed view of the document (built when first needed: it is slow for big files)."""
        return _document(self.raw)

    def _parse(self, path: Path) -> tuple[dict, bytes | None]:
        if not path.is_file():
            problem = "is a folder" if path.is_dir() else "no such file"
            raise AvatarError(f"{path}: {problem}; give the path of a .glb or .gltf avatar")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise AvatarError(f"{path}: larger than 2 GiB; not a usable avatar")
        data = path.read_bytes()
        if data[:4] == b"glTF":
            return self._parse_glb(path, data)
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise AvatarError(f"{path}: not a glTF or GLB file (neither GLB header nor JSON)") from None
        if not isinstance(doc, dict) or "asset" not in doc:
            raise AvatarError(f"{path}: JSON but not glTF (no 'asset' object)")
        return doc, None

    def _parse_glb(self, path: Path, data: bytes) -> tuple[dict, bytes | None]:
        if len(data) < 20:
            raise AvatarError(f"{path}: truncated GLB header")
        _, version, length = struct.unpack_from("<III", data, 0)
        if version != 2:
            raise AvatarError(f"{path}: GLB version {version}; only glTF 2.0 is supported")
        if length > len(data):
            raise AvatarError(f"{path}: truncated GLB ({len(data)} of {length} bytes)")
        chunks: dict[bytes, bytes] = {}
        offset = 12
        while offset + 8 <= length:
            size, kind = struct.unpack_from("<I4s", data, offset)
            if offset + 8 + size > length:
                raise AvatarError(f"{path}: GLB chunk runs past the end of the file")
            chunks.setdefault(kind, data[offset + 8 : offset + 8 + size])
            offset += 8 + size + (-size % 4)
        if b"JSON" not in chunks:
            raise AvatarError(f"{path}: GLB without a JSON chunk")
        try:
            doc = json.loads(chunks[b"JSON"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise AvatarError(f"{path}: GLB JSON chunk is not valid JSON") from None
        if not isinstance(doc, dict):
            raise AvatarError(f"{path}: GLB JSON chunk is not a glTF object")
        return doc, chunks.get(b"BIN\x00")

    def avatar(self) -> Avatar:
        materials = [self._material(i) for i in range(len(self.gltf.materials))]
        meshes, joints = self._walk_nodes()
        if not meshes:
            raise self.fail("contains no meshes")
        return Avatar(self.path, meshes, materials, joints, dict(self.gltf.extensions or {}))

    # -- bytes --------------------------------------------------------------------------------

    def _item(self, items: list, index, what: str):
        if not isinstance(index, int) or not 0 <= index < len(items):
            raise self.fail(f"{what} index {index!r} out of range (file has {len(items)})")
        return items[index]

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            buf = self._item(self.raw.get("buffers") or [], index, "buffer")
            uri, length = buf.get("uri"), buf.get("byteLength")
            if uri is None:
                if index != 0 or self.blob is None:
                    raise self.fail(f"buffer {index} has no uri and there is no GLB binary chunk")
                data = self.blob
            else:
                data = self.read_uri(uri, f"buffer {index}")
            if not isinstance(length, int) or len(data) < length:
                raise self.fail(f"buffer {index} is shorter ({len(data)} bytes) than its byteLength {length}")
            self._buffers[index] = data
        return self._buffers[index]

    def read_uri(self, uri: str, what: str) -> bytes:
        """Bytes of a data: URI or of a file inside the avatar's folder (nothing outside it is read)."""
        if uri.startswith("data:"):
            header, _, payload = uri.partition(",")
            if not header.endswith(";base64"):
                raise self.fail(f"{what}: only base64 data URIs are supported")
            try:
                return base64.b64decode(payload, validate=True)
            except ValueError:
                raise self.fail(f"{what}: invalid base64 data URI") from None
        relative = unquote(uri)
        if "://" in relative or relative.startswith(("/", "\\")) or (len(relative) > 1 and relative[1] == ":"):
            raise self.fail(f"{what}: uri {uri!r} is not a relative path; external files must sit beside the avatar")
        target = (self.folder / relative).resolve()
        if not target.is_relative_to(self.folder):
            raise self.fail(f"{what}: uri {uri!r} points outside the avatar's folder; refusing to read it")
        if not target.is_file():
            raise self.fail(f"{what}: file {relative!r} is missing next to the avatar")
        return target.read_bytes()

    def _view_bytes(self, view_index: int) -> tuple[bytes, int, int, int | None]:
        """(buffer, start, length, stride) of a bufferView, bounds-checked."""
        view = self._item(self.gltf.bufferViews, view_index, "bufferView")
        data = self.buffer(view.buffer)
        start, length = view.byteOffset or 0, view.byteLength
        if not isinstance(length, int) or start < 0 or length < 0 or start + length > len(data):
            raise self.fail(f"bufferView {view_index} lies outside its buffer")
        return data, start, length, view.byteStride

    def accessor(self, index: int) -> np.ndarray:
        """Accessor as a (count, components) array: float32 when normalized or float, else integers."""
        if index not in self._accessors:
            acc = self._item(self.gltf.accessors, index, "accessor")
            dtype = _COMPONENT_DTYPES.get(acc.componentType)
            ncomp = _TYPE_SIZES.get(acc.type)
            if dtype is None or ncomp is None or not isinstance(acc.count, int) or acc.count < 0:
                raise self.fail(f"accessor {index} has an invalid type, componentType or count")
            array = self._dense(index, acc, np.dtype(dtype), ncomp)
            if acc.sparse is not None:
                array = self._apply_sparse(index, acc, array, np.dtype(dtype), ncomp)
            if acc.normalized and array.dtype != np.float32:
                array = array.astype(np.float32) / np.iinfo(array.dtype).max
                array = np.maximum(array, -1.0)
            array.setflags(write=False)
            self._accessors[index] = array
        return self._accessors[index]

    def _dense(self, index: int, acc, dtype: np.dtype, ncomp: int) -> np.ndarray:
        if acc.bufferView is None:
            return np.zeros((acc.count, ncomp), dtype=dtype)
        data, start, length, stride = self._view_bytes(acc.bufferView)
        element = dtype.itemsize * ncomp
        stride = stride or element
        offset = acc.byteOffset or 0
        if acc.count and (offset < 0 or offset + stride * (acc.count - 1) + element > length):
            raise self.fail(f"accessor {index} reads past the end of bufferView {acc.bufferView}")
        if acc.count == 0:
            return np.zeros((0, ncomp), dtype=dtype)
        view = np.ndarray((acc.count, ncomp), dtype=dtype.newbyteorder("<"), buffer=data, offset=start + offset,
                          strides=(stride, dtype.itemsize))
        return view.astype(dtype)

    def _apply_sparse(self, index: int, acc, array: np.ndarray, dtype: np.dtype, ncomp: int) -> np.ndarray:
        sparse = acc.sparse
        n = sparse.count
        idx_dtype = _COMPONENT_DTYPES.get(sparse.indices.componentType)
        if not isinstance(n, int) or n < 1 or idx_dtype not in (np.uint8, np.uint16, np.uint32):
            raise self.fail(f"accessor {index} has an invalid sparse block")
        rows = self._packed(sparse.indices.bufferView, sparse.indices.byteOffset or 0, np.dtype(idx_dtype), n, 1)[:, 0]
        values = self._packed(sparse.values.bufferView, sparse.values.byteOffset or 0, dtype, n, ncomp)
        if rows.size and rows.max() >= acc.count:
            raise self.fail(f"accessor {index}: sparse index out of range")
        array = array.copy()
        array[rows] = values
        return array

    def _packed(self, view_index: int, offset: int, dtype: np.dtype, count: int, ncomp: int) -> np.ndarray:
        data, start, length, _ = self._view_bytes(view_index)
        nbytes = dtype.itemsize * ncomp * count
        if offset < 0 or offset + nbytes > length:
            raise self.fail(f"sparse data reads past the end of bufferView {view_index}")
        flat = np.frombuffer(data, dtype=dtype.newbyteorder("<"), count=count * ncomp, offset=start + offset)
        return flat.astype(dtype).reshape(count, ncomp)

    # -- meshes -------------------------------------------------------------------------------

    def _walk_nodes(self) -> tuple[list[Mesh], list[Joint]]:
        nodes = self.gltf.nodes
        roots = self._scene_roots()
        world: dict[int, np.ndarray] = {}
        parent: dict[int, int | None] = {}
        stack = [(root, None) for root in reversed(roots)]
        order = []
        while stack:
            index, up = stack.pop()
            node = self._item(nodes, index, "node")
            if index in world:
                raise self.fail(f"node {index} appears twice in the node hierarchy")
            local = _node_matrix(node)
            world[index] = local if up is None else world[up] @ local
            parent[index] = up
            order.append(index)
            stack.extend((child, index) for child in reversed(node.children or []))
        meshes = [self._mesh(i, world) for i in order if nodes[i].mesh is not None]
        return meshes, self._joints(world, parent)

    def _scene_roots(self) -> list[int]:
        scenes = self.gltf.scenes
        if scenes:
            scene = self._item(scenes, self.gltf.scene if self.gltf.scene is not None else 0, "scene")
            return list(scene.nodes or [])
        children = {c for node in self.gltf.nodes for c in (node.children or [])}
        return [i for i in range(len(self.gltf.nodes)) if i not in children]

    @cached_property
    def _joint_nodes(self) -> list[int]:
        """The node of each Avatar.joints entry: every skin's joints, in first-seen order."""
        return list(dict.fromkeys(j for skin in self.gltf.skins for j in (skin.joints or [])))

    def _joints(self, world: dict[int, np.ndarray], parent: dict[int, int | None]) -> list[Joint]:
        position = {node: k for k, node in enumerate(self._joint_nodes)}
        joints = []
        for node_index in self._joint_nodes:
            node = self._item(self.gltf.nodes, node_index, "joint node")
            matrix = world.get(node_index, _node_matrix(node))
            joints.append(Joint(node.name or f"joint{node_index}", position.get(parent.get(node_index)), matrix,
                                node_index, _local_rotation(node)))
        return joints

    def _skin(self, skin_index: int, built: list, world: dict[int, np.ndarray]) -> list[Primitive]:
        """Primitives in their rest pose: a skinned node's own transform is ignored, its joints place it.

        Each vertex moves by its weighted joint matrices (joint world transform x inverse bind
        matrix); for a file saved in its bind pose these are all the identity and nothing changes.
        `built` pairs each glTF primitive with the Primitive read from it.
        """
        skin = self._item(self.gltf.skins, skin_index, "skin")
        joints = skin.joints or []
        if skin.inverseBindMatrices is not None:
            inverse_bind = self.accessor(skin.inverseBindMatrices).astype(np.float64)
            if inverse_bind.shape != (len(joints), 16):
                raise self.fail(f"skin {skin_index}: inverseBindMatrices must hold one MAT4 per joint")
            inverse_bind = inverse_bind.reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major
        else:
            inverse_bind = np.tile(np.eye(4), (len(joints), 1, 1))
        matrices = np.stack([world.get(j, np.eye(4)) @ ib for j, ib in zip(joints, inverse_bind)] or [np.eye(4)])
        to_avatar = np.array([self._joint_nodes.index(j) for j in joints] or [0])
        skinned: dict[int, Geometry] = {}
        primitives = []
        for source, primitive in built:
            geo = primitive.geometry
            if id(geo) not in skinned:
                vertex_joints, weights = self._skin_weights(source, len(matrices), len(geo.positions))
                vertex_matrices = np.einsum("nk,nkij->nij", weights, matrices[vertex_joints])
                skinned[id(geo)] = _skin_geometry(geo, vertex_matrices)
                skinned[id(geo)].joints = to_avatar[vertex_joints]
                skinned[id(geo)].joint_weights = weights.astype(np.float32)
            primitives.append(Primitive(skinned[id(geo)], primitive.indices, primitive.material))
        return primitives

    def _skin_weights(self, prim, njoints: int, nverts: int) -> tuple[np.ndarray, np.ndarray]:
        """(N, 4) skin joints and weights per vertex from JOINTS_0 and WEIGHTS_0, weights normalised (a
        vertex without them follows the skin's first joint)."""
        attrs = prim.attributes
        if attrs.JOINTS_0 is None or attrs.WEIGHTS_0 is None:
            return np.zeros((nverts, 4), np.int64), np.tile([1.0, 0.0, 0.0, 0.0], (nverts, 1))
        joints = self.accessor(attrs.JOINTS_0).astype(np.int64)
        weights = self.accessor(attrs.WEIGHTS_0).astype(np.float64)
        if joints.shape != (nverts, 4) or weights.shape != (nverts, 4):
            raise self.fail("JOINTS_0 and WEIGHTS_0 must hold four values per vertex")
        if joints.size and (joints.max() >= njoints or joints.min() < 0):
            raise self.fail(f"JOINTS_0 names joint {int(joints.max())}; the skin has {njoints}")
        total = weights.sum(axis=1, keepdims=True)
        return joints, np.where(total > 0, weights / np.where(total > 0, total, 1), [[1, 0, 0, 0]])

    def _mesh(self, node_index: int, world: dict[int, np.ndarray]) -> Mesh:
        """The mesh of a node, placed by the node's world transform (or its skin's joints)."""
        node = self.gltf.nodes[node_index]
        gmesh = self._item(self.gltf.meshes, node.mesh, "mesh")
        name = gmesh.name or f"mesh{node.mesh}"
        built = [(prim, p) for prim in gmesh.primitives if (p := self._primitive(name, prim)) is not None]
        if not built:
            raise self.fail(f"mesh {name!r} has no triangle primitives")
        primitives = [p for _, p in built]
        counts = {p.geometry.target_positions.shape[0] for p in primitives}
        if len(counts) != 1:
            raise self.fail(f"mesh {name!r}: primitives have different numbers of morph targets")
        ntargets = counts.pop()
        extras = gmesh.extras if isinstance(gmesh.extras, dict) else {}
        names = extras.get("targetNames")
        if names is None:
            names = [f"target{i}" for i in range(ntargets)]
        if not isinstance(names, list) or len(names) != ntargets or not all(isinstance(n, str) for n in names):
            raise self.fail(f"mesh {name!r}: extras.targetNames does not list one name per morph target")
        landmarks = self._landmarks(name, extras.get(LANDMARKS_KEY), len(primitives[0].geometry.positions))
        matrix = world[node_index]
        if node.skin is not None:
            primitives, matrix = self._skin(node.skin, built, world), np.eye(4)
        return Mesh(name, node.name or name, matrix, primitives, list(names), landmarks, node_index, node.mesh)

    def _landmarks(self, mesh_name: str, raw, nverts: int) -> dict[str, int]:
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(v, int) and 0 <= v < nverts for v in raw.values()):
            raise self.fail(f"mesh {mesh_name!r}: {LANDMARKS_KEY} must map names to vertex indices below {nverts}")
        return dict(raw)

    def _primitive(self, mesh_name: str, prim) -> Primitive | None:
        mode = _TRIANGLES if prim.mode is None else prim.mode
        if mode not in (_TRIANGLES, _TRIANGLE_STRIP, _TRIANGLE_FAN):
            return None  # points and lines are not part of a face
        if prim.attributes.POSITION is None:
            raise self.fail(f"mesh {mesh_name!r}: a primitive has no POSITION attribute")
        nverts = len(self.accessor(prim.attributes.POSITION))
        if prim.indices is None:
            flat = np.arange(nverts, dtype=np.uint32)
        else:
            flat = self.accessor(prim.indices)
            if flat.shape[1] != 1 or flat.dtype.kind != "u":
                raise self.fail(f"mesh {mesh_name!r}: indices must be unsigned integer scalars")
            flat = flat[:, 0].astype(np.uint32)
        if flat.size and flat.max() >= nverts:
            raise self.fail(f"mesh {mesh_name!r}: vertex index {int(flat.max())} out of range ({nverts} vertices)")
        triangles = _triangles(flat, mode)
        return Primitive(self._geometry(mesh_name, prim, triangles), triangles, prim.material)

    def _geometry(self, mesh_name: str, prim, triangles: np.ndarray) -> Geometry:
        """Attributes of a primitive; `triangles` only serve to make normals when the file has none."""
        attrs = prim.attributes
        targets = prim.targets or []
        key = (attrs.POSITION, attrs.NORMAL, attrs.TEXCOORD_0, attrs.COLOR_0,
               tuple((t.get("POSITION"), t.get("NORMAL")) for t in targets))
        if key in self._geometries:
            return self._geometries[key]
        positions = self._vectors(attrs.POSITION, 3, "POSITION", mesh_name)
        n = len(positions)
        normals = None if attrs.NORMAL is None else self._vectors(attrs.NORMAL, 3, "NORMAL", mesh_name, n)
        texcoords = None if attrs.TEXCOORD_0 is None else self._vectors(attrs.TEXCOORD_0, 2, "TEXCOORD_0", mesh_name, n)
        colors = self._colors(attrs.COLOR_0, mesh_name, n) if attrs.COLOR_0 is not None else None
        tpos = np.zeros((len(targets), n, 3), dtype=np.float32)
        tnrm = np.zeros((len(targets), n, 3), dtype=np.float32)
        for k, target in enumerate(targets):
            if target.get("POSITION") is not None:
                tpos[k] = self._vectors(target["POSITION"], 3, f"target {k} POSITION", mesh_name, n)
            if target.get("NORMAL") is not None:
                tnrm[k] = self._vectors(target["NORMAL"], 3, f"target {k} NORMAL", mesh_name, n)
        if normals is None:
            normals = vertex_normals(positions, triangles)
        geometry = Geometry(positions, normals, texcoords, colors, tpos, tnrm)
        self._geometries[key] = geometry
        return geometry

    def _vectors(self, index: int, ncomp: int, what: str, mesh_name: str, count: int | None = None) -> np.ndarray:
        array = self.accessor(index)
        if array.shape[1] != ncomp:
            raise self.fail(f"mesh {mesh_name!r}: {what} accessor has {array.shape[1]} components, expected {ncomp}")
        if count is not None and len(array) != count:
            raise self.fail(f"mesh {mesh_name!r}: {what} has {len(array)} entries for {count} vertices")
        array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise self.fail(f"mesh {mesh_name!r}: {what} contains NaN or infinite values")
        return array

    def _colors(self, index: int, mesh_name: str, count: int) -> np.ndarray:
        array = self.accessor(index).astype(np.float32)
        if array.shape[1] not in (3, 4) or len(array) != count:
            raise self.fail(f"mesh {mesh_name!r}: COLOR_0 must be VEC3 or VEC4, one per vertex")
        if array.shape[1] == 3:
            array = np.concatenate([array, np.ones((count, 1), np.float32)], axis=1)
        return array

    # -- materials ----------------------------------------------------------------------------

    def _material(self, index: int) -> Material:
        mat = self.gltf.materials[index]
        pbr = mat.pbrMetallicRoughness or pygltflib.PbrMetallicRoughness()
        color = np.array(pbr.baseColorFactor or [1, 1, 1, 1], dtype=np.float32)
        if color.shape != (4,):
            raise self.fail(f"material {index}: baseColorFactor must have 4 numbers")
        texture = None
        if pbr.baseColorTexture is not None:
            texture = self._texture(pbr.baseColorTexture.index)
        metallic = 1.0 if pbr.metallicFactor is None else float(pbr.metallicFactor)
        roughness = 1.0 if pbr.roughnessFactor is None else float(pbr.roughnessFactor)
        return Material(mat.name or f"material{index}", color, texture, metallic, roughness, bool(mat.doubleSided))

    def _texture(self, index: int) -> np.ndarray:
        texture = self._item(self.gltf.textures, index, "texture")
        image = self._item(self.gltf.images, texture.source, "image")
        if image.bufferView is not None:
            data, start, length, _ = self._view_bytes(image.bufferView)
            raw = data[start : start + length]
        elif image.uri is not None:
            raw = self.read_uri(image.uri, f"image {texture.source}")
        else:
            raise self.fail(f"image {texture.source} has neither uri nor bufferView")
        try:
            with Image.open(io.BytesIO(raw)) as img:
                return np.asarray(img.convert("RGBA"))
        except (OSError, Image.DecompressionBombError) as exc:
            raise self.fail(f"image {texture.source} cannot be decoded ({exc})") from None


def _skin_geometry(geo: Geometry, vertex_matrices: np.ndarray) -> Geometry:
    """Geometry moved by a 4x4 matrix per vertex; morph deltas and normals turn with it."""
    linear = vertex_matrices[:, :3, :3]
    positions = np.einsum("nij,nj->ni", linear, geo.positions) + vertex_matrices[:, :3, 3]
    normals = np.einsum("nij,nj->ni", linear, geo.normals)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return Geometry(positions.astype(np.float32), normals.astype(np.float32), geo.texcoords, geo.colors,
                    np.einsum("nij,tnj->tni", linear, geo.target_positions).astype(np.float32),
                    np.einsum("nij,tnj->tni", linear, geo.target_normals).astype(np.float32))


def _document(doc: dict) -> pygltflib.GLTF2:
    """pygltflib's typed view of a parsed glTF JSON object."""
    return pygltflib.GLTF2.gltf_from_json(json.dumps(doc))


def _local_rotation(node) -> np.ndarray:
    """A node's rest rotation as a unit quaternion (x, y, z, w), from `rotation` or its `matrix`."""
    if node.rotation is not None:
        rotation = np.array(node.rotation, dtype=np.float64)
        return rotation / np.linalg.norm(rotation)
    from scipy.spatial.transform import Rotation

    linear = _node_matrix(node)[:3, :3]
    return Rotation.from_matrix(linear / np.linalg.norm(linear, axis=0)).as_quat()


def _node_matrix(node) -> np.ndarray:
    """Local transform of a node (matrix, or translation * rotation * scale)."""
    if node.matrix is not None:
        matrix = np.array(node.matrix, dtype=np.float64).reshape(4, 4).T  # glTF stores column-major
        if not np.isfinite(matrix).all():
            raise ValueError("node matrix is not finite")
        return matrix
    t = np.array(node.translation or [0, 0, 0], dtype=np.float64)
    x, y, z, w = np.array(node.rotation or [0, 0, 0, 1], dtype=np.float64)
    s = np.array(node.scale or [1, 1, 1], dtype=np.float64)
    rotation = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    matrix = np.eye(4)
    matrix[:3, :3] = rotation * s
    matrix[:3, 3] = t
    return matrix


def _triangles(flat: np.ndarray, mode: int) -> np.ndarray:
    """(M, 3) triangle indices from a TRIANGLES, TRIANGLE_STRIP or TRIANGLE_FAN index list."""
    if mode == _TRIANGLES:
        return flat[: len(flat) // 3 * 3].reshape(-1, 3)
    if len(flat) < 3:
        return np.zeros((0, 3), dtype=np.uint32)
    k = np.arange(len(flat) - 2)
    if mode == _TRIANGLE_FAN:
        return np.stack([np.full_like(k, flat[0]), flat[k + 1], flat[k + 2]], axis=1).astype(np.uint32)
    even = (k % 2 == 0)[:, None]  # strips alternate winding
    tri = np.stack([flat[k], flat[k + 1], flat[k + 2]], axis=1)
    return np.where(even, tri, tri[:, [1, 0, 2]]).astype(np.uint32)


def vertex_normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted smooth vertex normals (unit length; zero for unused vertices)."""
    p = positions.astype(np.float64)
    face = np.cross(p[triangles[:, 1]] - p[triangles[:, 0]], p[triangles[:, 2]] - p[triangles[:, 0]])
    normals = np.zeros_like(p)
    for corner in range(3):
        np.add.at(normals, triangles[:, corner], face)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.where(length > 0, length, 1.0)).astype(np.float32)
