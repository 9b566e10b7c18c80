"""Transforms and skins: nodes' local transforms, the skeleton's joints, and skinned meshes put in their rest
pose (each vertex moved by its weighted joint matrices)."""

from __future__ import annotations

import numpy as np

from ..gltf import Document
from .scene import Geometry, Joint, Primitive


def node_matrix(node: dict) -> np.ndarray:
    """Local transform of a node (matrix, or translation * rotation * scale)."""
    if node.get("matrix") is not None:
        matrix = np.array(node["matrix"], dtype=np.float64).reshape(4, 4).T  # glTF stores column-major
        if not np.isfinite(matrix).all():
            raise ValueError("node matrix is not finite")
        return matrix
    t = np.array(node.get("translation") or [0, 0, 0], dtype=np.float64)
    x, y, z, w = np.array(node.get("rotation") or [0, 0, 0, 1], dtype=np.float64)
    s = np.array(node.get("scale") or [1, 1, 1], dtype=np.float64)
    rotation = np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])
    matrix = np.eye(4)
    matrix[:3, :3] = rotation * s
    matrix[:3, 3] = t
    return matrix


def local_rotation(node: dict) -> np.ndarray:
    """A node's rest rotation as a unit quaternion (x, y, z, w), from `rotation` or its `matrix`."""
    if node.get("rotation") is not None:
        rotation = np.array(node["rotation"], dtype=np.float64)
        return rotation / np.linalg.norm(rotation)
    from scipy.spatial.transform import Rotation  # scipy.spatial takes a while to import; few files need it

    linear = node_matrix(node)[:3, :3]
    return Rotation.from_matrix(linear / np.linalg.norm(linear, axis=0)).as_quat()


def joint_nodes(doc: Document) -> list[int]:
    """The node of each Avatar.joints entry: every skin's joints, in first-seen order."""
    return list(dict.fromkeys(j for skin in doc.items("skins") for j in (skin.get("joints") or [])))


def read_joints(doc: Document, world: dict[int, np.ndarray], parent: dict[int, int | None]) -> list[Joint]:
    nodes = joint_nodes(doc)
    position = {node: k for k, node in enumerate(nodes)}
    joints = []
    for node_index in nodes:
        node = doc.item("nodes", node_index, "joint node")
        matrix = world.get(node_index, node_matrix(node))
        joints.append(Joint(node.get("name") or f"joint{node_index}", position.get(parent.get(node_index)), matrix,
                            node_index, local_rotation(node)))
    return joints


def skinned(doc: Document, skin_index: int, built: list[tuple[dict, Primitive]],
            world: dict[int, np.ndarray]) -> list[Primitive]:
    """Primitives in their rest pose: a skinned node's own transform is ignored, its joints place it.

    Each vertex moves by its weighted joint matrices (joint world transform x inverse bind matrix); for a
    file saved in its bind pose these are all the identity and nothing changes. `built` pairs each glTF
    primitive with the Primitive read from it.
    """
    skin = doc.item("skins", skin_index, "skin")
    joints = skin.get("joints") or []
    if skin.get("inverseBindMatrices") is not None:
        inverse_bind = doc.accessor(skin["inverseBindMatrices"]).astype(np.float64)
        if inverse_bind.shape != (len(joints), 16):
            raise doc.fail(f"skin {skin_index}: inverseBindMatrices must hold one MAT4 per joint")
        inverse_bind = inverse_bind.reshape(-1, 4, 4).transpose(0, 2, 1)  # column-major
    else:
        inverse_bind = np.tile(np.eye(4), (len(joints), 1, 1))
    matrices = np.stack([world.get(j, np.eye(4)) @ ib for j, ib in zip(joints, inverse_bind)] or [np.eye(4)])
    order = joint_nodes(doc)
    to_avatar = np.array([order.index(j) for j in joints] or [0])
    moved: dict[int, Geometry] = {}
    primitives = []
    for source, primitive in built:
        geo = primitive.geometry
        if id(geo) not in moved:
            vertex_joints, weights = _skin_weights(doc, source, len(matrices), len(geo.positions))
            vertex_matrices = np.einsum("nk,nkij->nij", weights, matrices[vertex_joints])
            moved[id(geo)] = _moved(geo, vertex_matrices)
            moved[id(geo)].joints = to_avatar[vertex_joints]
            moved[id(geo)].joint_weights = weights.astype(np.float32)
        primitives.append(Primitive(moved[id(geo)], primitive.indices, primitive.material))
    return primitives


def _skin_weights(doc: Document, prim: dict, njoints: int, nverts: int) -> tuple[np.ndarray, np.ndarray]:
    """(N, 4) skin joints and weights per vertex from JOINTS_0 and WEIGHTS_0, weights normalised (a vertex
    without them follows the skin's first joint)."""
    attributes = prim.get("attributes") or {}
    if attributes.get("JOINTS_0") is None or attributes.get("WEIGHTS_0") is None:
        return np.zeros((nverts, 4), np.int64), np.tile([1.0, 0.0, 0.0, 0.0], (nverts, 1))
    joints = doc.accessor(attributes["JOINTS_0"]).astype(np.int64)
    weights = doc.accessor(attributes["WEIGHTS_0"]).astype(np.float64)
    if joints.shape != (nverts, 4) or weights.shape != (nverts, 4):
        raise doc.fail("JOINTS_0 and WEIGHTS_0 must hold four values per vertex")
    if joints.size and (joints.max() >= njoints or joints.min() < 0):
        raise doc.fail(f"JOINTS_0 names joint {int(joints.max())}; the skin has {njoints}")
    total = weights.sum(axis=1, keepdims=True)
    return joints, np.where(total > 0, weights / np.where(total > 0, total, 1), [[1, 0, 0, 0]])


def _moved(geo: Geometry, vertex_matrices: np.ndarray) -> Geometry:
    """Geometry moved by a 4x4 matrix per vertex; morph deltas and normals turn with it."""
    linear = vertex_matrices[:, :3, :3]
    positions = np.einsum("nij,nj->ni", linear, geo.positions) + vertex_matrices[:, :3, 3]
    normals = np.einsum("nij,nj->ni", linear, geo.normals)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return Geometry(positions.astype(np.float32), normals.astype(np.float32), geo.texcoords, geo.colors,
                    np.einsum("nij,tnj->tni", linear, geo.target_positions).astype(np.float32),
                    np.einsum("nij,tnj->tni", linear, geo.target_normals).astype(np.float32),
                    texcoords1=geo.texcoords1,
                    tangents=None if geo.tangents is None else np.column_stack([
                        np.einsum("nij,nj->ni", linear, geo.tangents[:, :3]), geo.tangents[:, 3]]).astype(np.float32))
