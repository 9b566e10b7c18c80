"""A glTF document -> `Avatar`: the scene's node hierarchy walked into placed meshes, each primitive's
triangles, vertex attributes, morph targets and landmarks read and checked."""

from __future__ import annotations

import numpy as np

from ..gltf import TRIANGLE_FAN, TRIANGLE_STRIP, TRIANGLES, Document
from .materials import read_material
from .scene import LANDMARKS_KEY, Avatar, Geometry, Joint, Mesh, Primitive, vertex_normals
from .skin import node_matrix, read_joints, skinned

MIN_SIZE, MAX_SIZE = 1e-4, 1e5  # an avatar's extent in scene units: a tenth of a millimetre to 100 km (in metres)


class Reader:
    """Reads one document into an Avatar; primitives that share accessors share one Geometry."""

    def __init__(self, doc: Document):
        self.doc = doc
        self._geometries: dict[tuple, Geometry] = {}

    def avatar(self) -> Avatar:
        doc = self.doc
        materials = [read_material(doc, i) for i in range(len(doc.items("materials")))]
        meshes, joints = self._walk_nodes()
        if not meshes:
            raise doc.fail("contains no meshes")
        avatar = Avatar(doc.path, meshes, materials, joints, dict(doc.json.get("extensions") or {}))
        self._check_size(avatar)
        return avatar

    def _check_size(self, avatar: Avatar) -> None:
        """The placed avatar has a size a camera can frame: node transforms that scale it to nothing or to
        infinity would render an empty frame."""
        with np.errstate(over="ignore", invalid="ignore"):
            low, high = avatar.bounds()
            size = float(np.max(high - low))
        if not MIN_SIZE <= size <= MAX_SIZE:
            raise self.doc.fail(f"its node transforms make it {size:g} units across (a scale of 0, or an "
                                f"enormous or infinite one); give it a size from {MIN_SIZE:g} to {MAX_SIZE:g}")

    def _walk_nodes(self) -> tuple[list[Mesh], list[Joint]]:
        doc = self.doc
        world: dict[int, np.ndarray] = {}
        parent: dict[int, int | None] = {}
        stack = [(root, None) for root in reversed(self._scene_roots())]
        order = []
        while stack:
            index, up = stack.pop()
            node = doc.item("nodes", index, "node")
            if index in world:
                raise doc.fail(f"node {index} appears twice in the node hierarchy")
            local = node_matrix(node)
            world[index] = local if up is None else world[up] @ local
            parent[index] = up
            order.append(index)
            stack.extend((child, index) for child in reversed(node.get("children") or []))
        meshes = [self._mesh(i, world) for i in order if doc.items("nodes")[i].get("mesh") is not None]
        return meshes, read_joints(doc, world, parent)

    def _scene_roots(self) -> list[int]:
        doc = self.doc
        if doc.items("scenes"):
            scene = doc.item("scenes", doc.json.get("scene") if doc.json.get("scene") is not None else 0, "scene")
            return list(scene.get("nodes") or [])
        children = {c for node in doc.items("nodes") for c in (node.get("children") or [])}
        return [i for i in range(len(doc.items("nodes"))) if i not in children]

    def _mesh(self, node_index: int, world: dict[int, np.ndarray]) -> Mesh:
        """The mesh of a node, placed by the node's world transform (or its skin's joints)."""
        doc = self.doc
        node = doc.items("nodes")[node_index]
        gmesh = doc.item("meshes", node["mesh"], "mesh")
        name = gmesh.get("name") or f"mesh{node['mesh']}"
        built = [(prim, p) for prim in gmesh.get("primitives") or [] if (p := self._primitive(name, prim)) is not None]
        if not built:
            raise doc.fail(f"mesh {name!r} has no triangle primitives")
        primitives = [p for _, p in built]
        counts = {p.geometry.target_positions.shape[0] for p in primitives}
        if len(counts) != 1:
            raise doc.fail(f"mesh {name!r}: primitives have different numbers of morph targets")
        ntargets = counts.pop()
        extras = gmesh.get("extras") if isinstance(gmesh.get("extras"), dict) else {}
        names = extras.get("targetNames")
        if names is None:
            names = [f"target{i}" for i in range(ntargets)]
        if not isinstance(names, list) or len(names) != ntargets or not all(isinstance(n, str) for n in names):
            raise doc.fail(f"mesh {name!r}: extras.targetNames does not list one name per morph target")
        landmarks = self._landmarks(name, extras.get(LANDMARKS_KEY), len(primitives[0].geometry.positions))
        matrix = world[node_index]
        if node.get("skin") is not None:
            primitives, matrix = skinned(doc, node["skin"], built, world), np.eye(4)
        return Mesh(name, node.get("name") or name, matrix, primitives, list(names), landmarks, node_index,
                    node["mesh"])

    def _landmarks(self, mesh_name: str, raw, nverts: int) -> dict[str, int]:
        if raw is None:
            return {}
        if not isinstance(raw, dict) or not all(isinstance(v, int) and 0 <= v < nverts for v in raw.values()):
            raise self.doc.fail(f"mesh {mesh_name!r}: {LANDMARKS_KEY} must map names to vertex indices below {nverts}")
        return dict(raw)

    def _primitive(self, mesh_name: str, prim: dict) -> Primitive | None:
        doc = self.doc
        mode = TRIANGLES if prim.get("mode") is None else prim["mode"]
        if mode not in (TRIANGLES, TRIANGLE_STRIP, TRIANGLE_FAN):
            return None  # points and lines are not part of a face
        attributes = prim.get("attributes") or {}
        if attributes.get("POSITION") is None:
            raise doc.fail(f"mesh {mesh_name!r}: a primitive has no POSITION attribute")
        nverts = len(doc.accessor(attributes["POSITION"]))
        if prim.get("indices") is None:
            flat = np.arange(nverts, dtype=np.uint32)
        else:
            flat = doc.accessor(prim["indices"])
            if flat.shape[1] != 1 or flat.dtype.kind != "u":
                raise doc.fail(f"mesh {mesh_name!r}: indices must be unsigned integer scalars")
            flat = flat[:, 0].astype(np.uint32)
        if flat.size and flat.max() >= nverts:
            raise doc.fail(f"mesh {mesh_name!r}: vertex index {int(flat.max())} out of range ({nverts} vertices)")
        triangles = _triangles(flat, mode)
        if prim.get("material") is not None:
            doc.item("materials", prim["material"], f"mesh {mesh_name!r}: material")
        return Primitive(self._geometry(mesh_name, prim, triangles), triangles, prim.get("material"))

    def _geometry(self, mesh_name: str, prim: dict, triangles: np.ndarray) -> Geometry:
        """Attributes of a primitive; `triangles` only serve to make normals when the file has none."""
        attributes = prim.get("attributes") or {}
        targets = prim.get("targets") or []
        named = [attributes.get(name)
                 for name in ("POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0", "TEXCOORD_1", "TANGENT")]
        key = (*named, tuple((t.get("POSITION"), t.get("NORMAL")) for t in targets))
        if key in self._geometries:
            return self._geometries[key]
        position, normal, texcoord, color, texcoord1, tangent = named
        positions = self._vectors(position, 3, "POSITION", mesh_name)
        n = len(positions)
        normals = None if normal is None else self._vectors(normal, 3, "NORMAL", mesh_name, n)
        texcoords = None if texcoord is None else self._vectors(texcoord, 2, "TEXCOORD_0", mesh_name, n)
        texcoords1 = None if texcoord1 is None else self._vectors(texcoord1, 2, "TEXCOORD_1", mesh_name, n)
        tangents = None if tangent is None else self._vectors(tangent, 4, "TANGENT", mesh_name, n)
        colors = None if color is None else self._colors(color, mesh_name, n)
        tpos = np.zeros((len(targets), n, 3), dtype=np.float32)
        tnrm = np.zeros((len(targets), n, 3), dtype=np.float32)
        for k, target in enumerate(targets):
            if target.get("POSITION") is not None:
                tpos[k] = self._vectors(target["POSITION"], 3, f"target {k} POSITION", mesh_name, n)
            if target.get("NORMAL") is not None:
                tnrm[k] = self._vectors(target["NORMAL"], 3, f"target {k} NORMAL", mesh_name, n)
        if normals is None:
            normals = vertex_normals(positions, triangles)
        geometry = Geometry(positions, normals, texcoords, colors, tpos, tnrm, texcoords1=texcoords1,
                            tangents=tangents)
        self._geometries[key] = geometry
        return geometry

    def _vectors(self, index: int, ncomp: int, what: str, mesh_name: str, count: int | None = None) -> np.ndarray:
        array = self.doc.accessor(index)
        if array.shape[1] != ncomp:
            raise self.doc.fail(f"mesh {mesh_name!r}: {what} accessor has {array.shape[1]} components, "
                                f"expected {ncomp}")
        if count is not None and len(array) != count:
            raise self.doc.fail(f"mesh {mesh_name!r}: {what} has {len(array)} entries for {count} vertices")
        array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise self.doc.fail(f"mesh {mesh_name!r}: {what} contains NaN or infinite values")
        return array

    def _colors(self, index: int, mesh_name: str, count: int) -> np.ndarray:
        array = self.doc.accessor(index).astype(np.float32)
        if array.shape[1] not in (3, 4) or len(array) != count:
            raise self.doc.fail(f"mesh {mesh_name!r}: COLOR_0 must be VEC3 or VEC4, one per vertex")
        if array.shape[1] == 3:
            array = np.concatenate([array, np.ones((count, 1), np.float32)], axis=1)
        return array


def _triangles(flat: np.ndarray, mode: int) -> np.ndarray:
    """(M, 3) triangle indices from a TRIANGLES, TRIANGLE_STRIP or TRIANGLE_FAN index list."""
    if mode == TRIANGLES:
        return flat[: len(flat) // 3 * 3].reshape(-1, 3)
    if len(flat) < 3:
        return np.zeros((0, 3), dtype=np.uint32)
    k = np.arange(len(flat) - 2)
    if mode == TRIANGLE_FAN:
        return np.stack([np.full_like(k, flat[0]), flat[k + 1], flat[k + 2]], axis=1).astype(np.uint32)
    even = (k % 2 == 0)[:, None]  # strips alternate winding
    tri = np.stack([flat[k], flat[k + 1], flat[k + 2]], axis=1)
    return np.where(even, tri, tri[:, [1, 0, 2]]).astype(np.uint32)
