"""Small glTF/GLB files for tests, written from a plain JSON dict so hostile variants are easy to make."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from meshsync.files import avatar_path
from meshsync.gltf import FLOAT, UNSIGNED_BYTE, UNSIGNED_SHORT, Document, Writer, glb_bytes, merged

# A unit quad facing +Z, two morph targets: "lift" moves vertex 2 up (dense), "push" moves 0 and 1
# forward (sparse), and a 2x1 texture: left half red, right half green.
POSITIONS = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], np.float32)
NORMALS = np.tile(np.array([0, 0, 1], np.float32), (4, 1))
TEXCOORDS = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
INDICES = np.array([0, 1, 2, 0, 2, 3], np.uint16)
LIFT = np.zeros((4, 3), np.float32)
LIFT[2] = [0, 0.25, 0]
PUSH_ROWS = np.array([0, 1], np.uint16)
PUSH_VALUES = np.array([[0, 0, 0.1], [0, 0, 0.2]], np.float32)
TARGET_NAMES = ["lift", "push"]


def texture_png() -> bytes:
    image = Image.new("RGB", (2, 1))
    image.putpixel((0, 0), (255, 0, 0))
    image.putpixel((1, 0), (0, 255, 0))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def quad_document() -> tuple[dict, bytes]:
    """The JSON document and binary buffer of the test quad (positions and normals interleaved)."""
    interleaved = np.concatenate([POSITIONS, NORMALS], axis=1).tobytes()
    chunks = [interleaved, TEXCOORDS.tobytes(), INDICES.tobytes(), LIFT.tobytes(), PUSH_ROWS.tobytes(),
              PUSH_VALUES.tobytes(), texture_png()]
    writer = Writer()
    for chunk in chunks:
        writer.view(chunk)
    views, blob = writer.doc["bufferViews"], bytes(writer.blob)
    views[0]["byteStride"] = 24
    vec3 = {"componentType": FLOAT, "type": "VEC3"}
    doc = {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"name": "quad", "mesh": 0, "translation": [0.0, 1.0, 0.0]}],
        "meshes": [{
            "name": "quad",
            "primitives": [{
                "attributes": {"POSITION": 0, "NORMAL": 1, "TEXCOORD_0": 2},
                "indices": 3,
                "material": 0,
                "targets": [{"POSITION": 4}, {"POSITION": 5}],
            }],
            "extras": {"targetNames": TARGET_NAMES, "meshsync.landmarks": {"corner": 2}},
        }],
        "accessors": [
            {"bufferView": 0, "byteOffset": 0, "count": 4, "min": [-0.5, -0.5, 0], "max": [0.5, 0.5, 0], **vec3},
            {"bufferView": 0, "byteOffset": 12, "count": 4, **vec3},
            {"bufferView": 1, "count": 4, "componentType": FLOAT, "type": "VEC2"},
            {"bufferView": 2, "count": 6, "componentType": UNSIGNED_SHORT, "type": "SCALAR"},
            {"bufferView": 3, "count": 4, "min": [0, 0, 0], "max": [0, 0.25, 0], **vec3},
            {"count": 4, "min": [0, 0, 0], "max": [0, 0, 0.2], **vec3,
             "sparse": {"count": 2, "indices": {"bufferView": 4, "componentType": UNSIGNED_SHORT},
                        "values": {"bufferView": 5}}},
        ],
        "bufferViews": views,
        "buffers": [{"byteLength": len(blob)}],
        "materials": [{"name": "checker", "pbrMetallicRoughness": {
            "baseColorTexture": {"index": 0}, "metallicFactor": 0.0, "roughnessFactor": 0.9}}],
        "textures": [{"source": 0}],
        "images": [{"bufferView": 6, "mimeType": "image/png"}],
    }
    return doc, blob


def write_glb(path: Path, doc: dict, blob: bytes) -> Path:
    path.write_bytes(glb_bytes(doc, blob))
    return path


def write_gltf(path: Path, doc: dict, blob: bytes, bin_name: str = "quad.bin") -> Path:
    """A .gltf with its buffer in a separate file beside it."""
    doc = json.loads(json.dumps(doc))
    doc["buffers"][0]["uri"] = bin_name
    (path.parent / bin_name).write_bytes(blob)
    path.write_text(json.dumps(doc))
    return path


def quad_glb(path: Path, mutate: Callable[[dict], None] | None = None) -> Path:
    """The test quad as a GLB, after `mutate` has edited its JSON document."""
    doc, blob = quad_document()
    if mutate:
        mutate(doc)
    return write_glb(path, doc, blob)


def add_view(doc: dict, blob: bytes, data: bytes) -> tuple[int, bytes]:
    """Append `data` to the buffer as a new bufferView; return its index and the new buffer."""
    writer = Writer(doc, blob)
    view = writer.view(data)
    doc["buffers"][0]["byteLength"] = len(writer.blob)
    return view, bytes(writer.blob)


def skinned_quad_glb(path: Path, bind_pose: bool) -> Path:
    """The quad skinned to two joints: `root` at z = 2 and its child `jaw` 1 m to the side. Vertices 0 and 1
    follow the root; 2 and 3 follow root and jaw half and half. With `bind_pose` the inverse bind matrices
    undo the joints, so the quad stays where its vertices say."""
    doc, blob = quad_document()
    joints = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]], np.uint8)
    weights = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0]], np.float32)
    jv, blob = add_view(doc, blob, joints.tobytes())
    wv, blob = add_view(doc, blob, weights.tobytes())
    doc["accessors"] += [{"bufferView": jv, "componentType": UNSIGNED_BYTE, "count": 4, "type": "VEC4"},
                         {"bufferView": wv, "componentType": FLOAT, "count": 4, "type": "VEC4"}]
    attributes = doc["meshes"][0]["primitives"][0]["attributes"]
    attributes["JOINTS_0"], attributes["WEIGHTS_0"] = len(doc["accessors"]) - 2, len(doc["accessors"]) - 1
    skin = {"joints": [1, 2]}
    if bind_pose:
        inverse = [np.eye(4), np.eye(4)]
        inverse[0][2, 3], inverse[1][:3, 3] = -2.0, [-1.0, 0.0, -2.0]
        iv, blob = add_view(doc, blob, np.stack([m.T for m in inverse]).astype(np.float32).tobytes())
        doc["accessors"].append({"bufferView": iv, "componentType": FLOAT, "count": 2, "type": "MAT4"})
        skin["inverseBindMatrices"] = len(doc["accessors"]) - 1
    doc["skins"] = [skin]
    doc["nodes"][0]["skin"] = 0
    doc["nodes"] += [{"name": "root", "translation": [0.0, 0.0, 2.0], "children": [2]},
                     {"name": "jaw", "translation": [1.0, 0.0, 0.0]}]
    doc["scenes"][0]["nodes"] = [0, 1]
    return write_glb(path, doc, blob)


def head_glb(path: Path, mutate: Callable[[dict], None]) -> Path:
    """The bundled head as a GLB, after `mutate` has edited its JSON document."""
    writer = merged(Document(avatar_path("head")))
    mutate(writer.doc)
    path.write_bytes(writer.file_bytes(".glb"))
    return path


def head_node(doc: dict) -> dict:
    """The node that places the head's mesh."""
    return next(node for node in doc["nodes"] if node.get("mesh") is not None)
