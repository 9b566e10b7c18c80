"""Materials: glTF's base colour, metallic-roughness, normal, occlusion and emissive (factors and textures),
alpha mode and double-sidedness, the unlit extension (KHR_materials_unlit) and texture transforms
(KHR_texture_transform), read from a glTF document."""

from __future__ import annotations

import numpy as np

from ..files import decode_image
from ..gltf import Document
from .scene import ALPHA_MODES, OPAQUE, Material, Texture, Toon

UNLIT, TRANSFORM, MTOON = "KHR_materials_unlit", "KHR_texture_transform", "VRMC_materials_mtoon"


def read_material(doc: Document, index: int) -> Material:
    mat = doc.items("materials")[index]
    pbr = mat.get("pbrMetallicRoughness") or {}
    color = np.array(pbr.get("baseColorFactor") or [1, 1, 1, 1], dtype=np.float32)
    if color.shape != (4,):
        raise doc.fail(f"material {index}: baseColorFactor must have 4 numbers")
    metallic = 1.0 if pbr.get("metallicFactor") is None else float(pbr["metallicFactor"])
    roughness = 1.0 if pbr.get("roughnessFactor") is None else float(pbr["roughnessFactor"])
    alpha_mode = mat.get("alphaMode", OPAQUE)
    if alpha_mode not in ALPHA_MODES:
        raise doc.fail(f"material {index}: alphaMode must be one of {', '.join(ALPHA_MODES)}")
    emissive = np.array(mat.get("emissiveFactor") or [0, 0, 0], dtype=np.float32)
    normal, occlusion = mat.get("normalTexture") or {}, mat.get("occlusionTexture") or {}
    return Material(mat.get("name") or f"material{index}", color, _texture(doc, pbr.get("baseColorTexture"), index),
                    metallic, roughness, bool(mat.get("doubleSided")), emissive,
                    _texture(doc, mat.get("emissiveTexture"), index), alpha_mode,
                    float(mat.get("alphaCutoff", 0.5)), UNLIT in (mat.get("extensions") or {}),
                    _texture(doc, mat.get("normalTexture"), index), _number(doc, normal, "scale", index),
                    _texture(doc, mat.get("occlusionTexture"), index), _number(doc, occlusion, "strength", index),
                    _texture(doc, pbr.get("metallicRoughnessTexture"), index),
                    _toon((mat.get("extensions") or {}).get(MTOON), doc, index))


def _toon(extension, doc: Document, material: int) -> Toon | None:
    """MToon's shading ramp; its textures, rim, matcap and outline are not drawn."""
    if extension is None:
        return None
    try:
        shade = tuple(float(c) for c in extension.get("shadeColorFactor", (0, 0, 0)))
        toon = Toon(shade, float(extension.get("shadingShiftFactor", 0.0)),
                    float(extension.get("shadingToonyFactor", 0.9)))
    except (AttributeError, TypeError, ValueError):
        toon = None
    if toon is None or len(toon.shade_color) != 3 or not np.isfinite([*toon.shade_color, toon.shift, toon.toony]).all():
        raise doc.fail(f"material {material}: {MTOON} needs shadeColorFactor of 3 numbers and numeric shading factors")
    return toon


def _number(doc: Document, info: dict, key: str, material: int) -> float:
    """A texture reference's scale or strength (default 1)."""
    value = info.get(key, 1.0) if isinstance(info, dict) else 1.0
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise doc.fail(f"material {material}: a texture's {key} must be a number")
    return float(value)


def _texture(doc: Document, info: dict | None, material: int) -> Texture | None:
    """A textureInfo's texture: the image's RGBA pixels, its UV set and transform."""
    if info is None:
        return None
    if not isinstance(info, dict):
        raise doc.fail(f"material {material}: a texture reference must be an object")
    source = doc.item("textures", info.get("index"), "texture").get("source")
    image = doc.item("images", source, "image")
    if image.get("bufferView") is not None:
        raw = doc.view_bytes(image["bufferView"])
    elif image.get("uri") is not None:
        raw = doc.read_uri(image["uri"], f"image {source}")
    else:
        raise doc.fail(f"image {source} has neither uri nor bufferView")
    pixels = decode_image(raw, "RGBA", f"{doc.path}: image {source}")
    transform = (info.get("extensions") or {}).get(TRANSFORM) or {}
    texcoord = transform.get("texCoord", info.get("texCoord", 0))
    if texcoord not in (0, 1):
        raise doc.fail(f"material {material}: textures may read TEXCOORD_0 or TEXCOORD_1, not {texcoord!r}")
    return Texture(pixels, texcoord, _uv_matrix(transform, doc, material))


def _uv_matrix(transform: dict, doc: Document, material: int) -> np.ndarray:
    """KHR_texture_transform's matrix on (u, v, 1): translation x rotation x scale."""
    try:
        (ox, oy), rotation, (sx, sy) = (transform.get("offset", (0, 0)), float(transform.get("rotation", 0)),
                                        transform.get("scale", (1, 1)))
        c, s = np.cos(rotation), np.sin(rotation)
        matrix = (np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
                  @ np.array([[sx, 0, 0], [0, sy, 0], [0, 0, 1]]))
    except (TypeError, ValueError):
        raise doc.fail(f"material {material}: {TRANSFORM} needs offset and scale of 2 numbers, rotation a number") \
            from None
    if not np.isfinite(matrix).all():
        raise doc.fail(f"material {material}: {TRANSFORM} holds a value that is not finite")
    return matrix.astype(np.float32)
