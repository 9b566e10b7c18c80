"""Materials: base colour factor and texture, metallic-roughness and double-sidedness, read from a glTF
document."""

from __future__ import annotations

import numpy as np

from ..files import decode_image
from ..gltf import Document
from .scene import Material


def read_material(doc: Document, index: int) -> Material:
    mat = doc.items("materials")[index]
    pbr = mat.get("pbrMetallicRoughness") or {}
    color = np.array(pbr.get("baseColorFactor") or [1, 1, 1, 1], dtype=np.float32)
    if color.shape != (4,):
        raise doc.fail(f"material {index}: baseColorFactor must have 4 numbers")
    texture = None
    if pbr.get("baseColorTexture") is not None:
        texture = _texture(doc, pbr["baseColorTexture"].get("index"))
    metallic = 1.0 if pbr.get("metallicFactor") is None else float(pbr["metallicFactor"])
    roughness = 1.0 if pbr.get("roughnessFactor") is None else float(pbr["roughnessFactor"])
    return Material(mat.get("name") or f"material{index}", color, texture, metallic, roughness,
                    bool(mat.get("doubleSided")))


def _texture(doc: Document, index) -> np.ndarray:
    """The RGBA pixels of a texture's image, from its bufferView or its URI."""
    source = doc.item("textures", index, "texture").get("source")
    image = doc.item("images", source, "image")
    if image.get("bufferView") is not None:
        raw = doc.view_bytes(image["bufferView"])
    elif image.get("uri") is not None:
        raw = doc.read_uri(image["uri"], f"image {source}")
    else:
        raise doc.fail(f"image {source} has neither uri nor bufferView")
    return decode_image(raw, "RGBA", f"{doc.path}: image {source}")
