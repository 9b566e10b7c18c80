"""Load a glTF/GLB avatar into a typed `Avatar`: meshes, morph targets, materials, joints, landmarks.

trimesh drops morph targets, so the document is read here (meshsync.gltf), every accessor bounds-checked and
external files confined to the avatar's folder: a broken or hostile file becomes one `GltfError` line, never
a traceback or a read outside that folder. scene.py holds the data model; reader.py walks the document into
it, with skin.py (transforms, joints, skinning) and materials.py.
"""

from __future__ import annotations

from pathlib import Path

from ..gltf import Document, GltfError, reading
from .reader import Reader
from .scene import (
    LANDMARK_NAMES,
    LANDMARKS_KEY,
    Avatar,
    Geometry,
    Joint,
    Material,
    Mesh,
    Primitive,
    Texture,
    vertex_normals,
)

__all__ = [
    "LANDMARKS_KEY",
    "LANDMARK_NAMES",
    "Avatar",
    "Geometry",
    "GltfError",
    "Joint",
    "Material",
    "Mesh",
    "Primitive",
    "Texture",
    "load_avatar",
    "vertex_normals",
]


def load_avatar(path: str | Path) -> Avatar:
    """Read a .glb or .gltf file; raise GltfError with one clear line when it cannot be used."""
    with reading(path):
        return Reader(Document(Path(path))).avatar()
