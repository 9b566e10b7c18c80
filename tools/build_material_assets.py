"""Test assets for the renderer's glTF material model, one small GLB per feature, each a textured card in
front of an opaque grey backdrop (made here, CC0):

    python tools/build_material_assets.py OUT_DIR

- alpha_blend.glb: three overlapping hair-like cards, alphaMode BLEND (stripes of alpha 0.85 and 0.25);
- alpha_mask.glb: lash-like dark strokes, alphaMode MASK (cutoff 0.5), the rest of the card cut away;
- emissive.glb: a dark card with emissiveFactor and an emissive texture (a glowing disc);
- unlit.glb: colour bars with KHR_materials_unlit;
- texture_transform.glb: a checker read through KHR_texture_transform (offset, rotation, scale) on TEXCOORD_1;
- vertex_colors.glb: a card coloured by COLOR_0 alone;
- normal_map.glb: a flat card with a normal map of raised bumps and its authored TANGENT (+X; the reader makes
  tangents for files without, and the tests check it makes these);
- occlusion.glb: a card whose occlusion texture darkens grooves in the ambient light (strength 1);
- metallic_roughness.glb: a gold card, metallic and smooth on the left, rough dielectric on the right, from
  its metallic-roughness texture;
- mtoon.glb: a sphere with a VRM MToon material (VRMC_materials_mtoon 1.0): a pink lit colour ramping sharply
  into a violet shade.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from meshsync.files import atomic_output
from meshsync.gltf import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, UNSIGNED_SHORT, Writer

SIZE = 64  # texture pixels a side
ROUGH = {"metallicFactor": 0.0, "roughnessFactor": 0.8}


def stripes(alpha_on: float, alpha_off: float) -> np.ndarray:
    """Brown hair-like vertical stripes: alpha_on on the strands, alpha_off between them."""
    image = np.zeros((SIZE, SIZE, 4), np.uint8)
    image[..., :3] = (92, 60, 38)
    strand = (np.arange(SIZE) // 4) % 2 == 0
    image[..., 3] = np.where(strand[None, :], round(alpha_on * 255), round(alpha_off * 255))
    return image


def lashes() -> np.ndarray:
    """Dark diagonal strokes, opaque, on a fully transparent card."""
    y, x = np.mgrid[:SIZE, :SIZE]
    image = np.zeros((SIZE, SIZE, 4), np.uint8)
    image[..., :3] = 25
    image[..., 3] = np.where(((x + y // 2) % 12) < 3, 255, 0)
    return image


def disc() -> np.ndarray:
    y, x = np.mgrid[:SIZE, :SIZE] - (SIZE - 1) / 2
    inside = np.hypot(x, y) < SIZE * 0.35
    image = np.zeros((SIZE, SIZE, 4), np.uint8)
    image[..., :3] = np.where(inside[..., None], 255, 20)
    image[..., 3] = 255
    return image


def bars() -> np.ndarray:
    colours = np.array([(230, 40, 40), (240, 200, 40), (40, 180, 70), (40, 120, 230)], np.uint8)
    image = np.zeros((SIZE, SIZE, 4), np.uint8)
    image[..., :3] = colours[np.arange(SIZE) * 4 // SIZE][None, :, :]
    image[..., 3] = 255
    return image


def checker() -> np.ndarray:
    y, x = np.mgrid[:SIZE, :SIZE]
    image = np.zeros((SIZE, SIZE, 4), np.uint8)
    image[..., :3] = np.where((((x // 8) + (y // 8)) % 2 == 0)[..., None], (235, 235, 235), (40, 60, 150))
    image[..., 3] = 255
    return image


def bumps() -> np.ndarray:
    """A tangent-space normal map (+X right, +Y up in the image, as glTF's) of a grid of round bumps."""
    y, x = (np.mgrid[:SIZE, :SIZE] + 0.5) / SIZE * 4 * np.pi  # height sin(x) sin(y)
    dx, dy = np.cos(x) * np.sin(y), -np.sin(x) * np.cos(y)  # dy: the image's rows run down, its +Y up
    normal = np.stack([-dx, -dy, np.full_like(dx, 2.0)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    image = np.full((SIZE, SIZE, 4), 255, np.uint8)
    image[..., :3] = np.round((normal * 0.5 + 0.5) * 255)
    return image


def grooves() -> np.ndarray:
    """Occlusion in R: dark horizontal grooves."""
    image = np.full((SIZE, SIZE, 4), 255, np.uint8)
    image[..., 0] = np.where(((np.arange(SIZE) // 6) % 3 == 0)[:, None], 40, 255)
    return image


def metal_left() -> np.ndarray:
    """G roughness, B metalness: metal and smooth (0.25) on the left half, dielectric and rough on the right."""
    image = np.full((SIZE, SIZE, 4), 255, np.uint8)
    left = (np.arange(SIZE) < SIZE // 2)[None, :]
    image[..., 1] = np.where(left, 64, 255)
    image[..., 2] = np.where(left, 255, 0)
    return image


class Scene:
    """A glTF scene being built: quads with materials, in the XY plane facing +Z."""

    def __init__(self):
        self.writer = Writer({"asset": {"version": "2.0", "generator": "meshsync tools/build_material_assets.py",
                                        "copyright": "CC0 1.0"},
                              "scene": 0, "scenes": [{"nodes": []}], "nodes": [], "meshes": [], "materials": []})
        self.doc = self.writer.doc

    def texture(self, pixels: np.ndarray) -> int:
        buffer = io.BytesIO()
        Image.fromarray(pixels, "RGBA").save(buffer, "PNG")
        self.doc.setdefault("images", []).append({"bufferView": self.writer.view(buffer.getvalue()),
                                                  "mimeType": "image/png"})
        self.doc.setdefault("textures", []).append({"source": len(self.doc["images"]) - 1})
        return len(self.doc["textures"]) - 1

    def material(self, **fields) -> int:
        self.doc["materials"].append(fields)
        return len(self.doc["materials"]) - 1

    def quad(self, centre, size, material: int, colours: np.ndarray | None = None, tangents: bool = False) -> None:
        """A size[0] x size[1] card centred at `centre`, UVs (0, 0) top left, and the same UVs as TEXCOORD_1;
        with `tangents`, its TANGENT: +X, the bitangent (normal x tangent) up the image, +Y."""
        cx, cy, cz = centre
        w, h = size[0] / 2, size[1] / 2
        positions = np.array([[cx - w, cy - h, cz], [cx + w, cy - h, cz], [cx + w, cy + h, cz], [cx - w, cy + h, cz]],
                             np.float32)
        uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], np.float32)
        attributes = {"POSITION": self.writer.accessor(positions, target=ARRAY_BUFFER, bounds=True),
                      "NORMAL": self.writer.accessor(np.tile(np.float32([0, 0, 1]), (4, 1)), target=ARRAY_BUFFER),
                      "TEXCOORD_0": self.writer.accessor(uv, target=ARRAY_BUFFER),
                      "TEXCOORD_1": self.writer.accessor(uv.copy(), target=ARRAY_BUFFER)}
        if tangents:
            attributes["TANGENT"] = self.writer.accessor(np.tile(np.float32([1, 0, 0, 1]), (4, 1)), target=ARRAY_BUFFER)
        if colours is not None:
            attributes["COLOR_0"] = self.writer.accessor(colours.astype(np.float32), target=ARRAY_BUFFER)
        indices = self.writer.accessor(np.array([0, 1, 2, 0, 2, 3], "<u2"), UNSIGNED_SHORT,
                                       target=ELEMENT_ARRAY_BUFFER)
        self.doc["meshes"].append({"primitives": [{"attributes": attributes, "indices": indices,
                                                   "material": material}]})
        self.doc["nodes"].append({"mesh": len(self.doc["meshes"]) - 1})
        self.doc["scenes"][0]["nodes"].append(len(self.doc["nodes"]) - 1)

    def sphere(self, centre, radius: float, material: int, rings: int = 24, segments: int = 48) -> None:
        """A UV sphere."""
        theta, phi = np.meshgrid(np.linspace(0, np.pi, rings + 1), np.linspace(0, 2 * np.pi, segments + 1),
                                 indexing="ij")
        normals = np.stack([np.sin(theta) * np.sin(phi), np.cos(theta), np.sin(theta) * np.cos(phi)], axis=-1)
        positions = (np.asarray(centre) + radius * normals).reshape(-1, 3).astype(np.float32)
        uv = np.stack([phi / (2 * np.pi), theta / np.pi], axis=-1).reshape(-1, 2).astype(np.float32)
        k = np.arange(rings)[:, None] * (segments + 1) + np.arange(segments)[None, :]
        quads = np.stack([k, k + segments + 1, k + segments + 2, k + 1], axis=-1).reshape(-1, 4)
        indices = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]]).astype("<u2").ravel()
        attributes = {"POSITION": self.writer.accessor(positions, target=ARRAY_BUFFER, bounds=True),
                      "NORMAL": self.writer.accessor(normals.reshape(-1, 3).astype(np.float32), target=ARRAY_BUFFER),
                      "TEXCOORD_0": self.writer.accessor(uv, target=ARRAY_BUFFER)}
        self.doc["meshes"].append({"primitives": [{
            "attributes": attributes, "material": material,
            "indices": self.writer.accessor(indices, UNSIGNED_SHORT, target=ELEMENT_ARRAY_BUFFER)}]})
        self.doc["nodes"].append({"mesh": len(self.doc["meshes"]) - 1})
        self.doc["scenes"][0]["nodes"].append(len(self.doc["nodes"]) - 1)

    def backdrop(self) -> None:
        self.quad((0, 0, 0), (1.6, 1.6), self.material(pbrMetallicRoughness={"baseColorFactor": [0.5, 0.5, 0.5, 1],
                                                                             **ROUGH}))

    def write(self, path: Path) -> Path:
        used = sorted({key for m in self.doc["materials"] for key in _keys(m) if key.startswith(("KHR_", "VRMC_"))})
        if used:
            self.doc["extensionsUsed"] = used
        data = self.writer.file_bytes(".glb")
        with atomic_output(path) as tmp:
            tmp.write_bytes(data)
        return path


def _keys(value) -> set[str]:
    """Every key in a nested JSON value."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def alpha_blend(scene: Scene) -> None:
    texture = scene.texture(stripes(0.85, 0.25))
    for k, (colour, x) in enumerate(((1.0, -0.25), (0.8, 0.0), (0.6, 0.25))):
        material = scene.material(pbrMetallicRoughness={"baseColorFactor": [colour, colour, colour, 1],
                                                        "baseColorTexture": {"index": texture}, **ROUGH},
                                  alphaMode="BLEND", doubleSided=True)
        scene.quad((x, 0.1 * (k - 1), 0.05 + 0.05 * k), (0.7, 0.9), material)


def alpha_mask(scene: Scene) -> None:
    material = scene.material(pbrMetallicRoughness={"baseColorTexture": {"index": scene.texture(lashes())}, **ROUGH},
                              alphaMode="MASK", alphaCutoff=0.5, doubleSided=True)
    scene.quad((0, 0, 0.05), (1.0, 1.0), material)


def emissive(scene: Scene) -> None:
    material = scene.material(pbrMetallicRoughness={"baseColorFactor": [0.05, 0.05, 0.05, 1], **ROUGH},
                              emissiveFactor=[1.0, 0.6, 0.2], emissiveTexture={"index": scene.texture(disc())})
    scene.quad((0, 0, 0.05), (1.0, 1.0), material)


def unlit(scene: Scene) -> None:
    material = scene.material(pbrMetallicRoughness={"baseColorTexture": {"index": scene.texture(bars())}, **ROUGH},
                              extensions={"KHR_materials_unlit": {}})
    scene.quad((0, 0, 0.05), (1.0, 1.0), material)


def texture_transform(scene: Scene) -> None:
    transform = {"offset": [0.25, 0.1], "rotation": 0.5, "scale": [2.0, 1.5], "texCoord": 1}
    material = scene.material(pbrMetallicRoughness={"baseColorTexture": {
        "index": scene.texture(checker()), "extensions": {"KHR_texture_transform": transform}}, **ROUGH})
    scene.quad((0, 0, 0.05), (1.0, 1.0), material)


def vertex_colors(scene: Scene) -> None:
    colours = np.array([[0.9, 0.1, 0.1, 1], [0.1, 0.9, 0.1, 1], [0.1, 0.1, 0.9, 1], [0.9, 0.9, 0.1, 1]])
    scene.quad((0, 0, 0.05), (1.0, 1.0), scene.material(pbrMetallicRoughness=ROUGH), colours)


def normal_map(scene: Scene) -> None:
    material = scene.material(pbrMetallicRoughness={"baseColorFactor": [0.8, 0.6, 0.5, 1], **ROUGH},
                              normalTexture={"index": scene.texture(bumps()), "scale": 1.0})
    scene.quad((0, 0, 0.05), (1.0, 1.0), material, tangents=True)  # authored, as the validator asks


def occlusion(scene: Scene) -> None:
    material = scene.material(pbrMetallicRoughness={"baseColorFactor": [0.8, 0.8, 0.8, 1], **ROUGH},
                              occlusionTexture={"index": scene.texture(grooves()), "strength": 1.0})
    scene.quad((0, 0, 0.05), (1.0, 1.0), material)


def metallic_roughness(scene: Scene) -> None:
    material = scene.material(pbrMetallicRoughness={
        "baseColorFactor": [1.0, 0.77, 0.34, 1], "metallicFactor": 1.0, "roughnessFactor": 1.0,
        "metallicRoughnessTexture": {"index": scene.texture(metal_left())}})
    scene.quad((0, 0, 0.05), (1.0, 1.0), material)


def mtoon(scene: Scene) -> None:
    toon = {"specVersion": "1.0", "shadeColorFactor": [0.1, 0.03, 0.15], "shadingShiftFactor": -0.1,
            "shadingToonyFactor": 0.9}
    material = scene.material(pbrMetallicRoughness={"baseColorFactor": [0.4, 0.18, 0.2, 1], **ROUGH},
                              extensions={"VRMC_materials_mtoon": toon})
    scene.sphere((0, 0, 0.5), 0.45, material)


ASSETS = {"alpha_blend": alpha_blend, "alpha_mask": alpha_mask, "emissive": emissive, "unlit": unlit,
          "texture_transform": texture_transform, "vertex_colors": vertex_colors, "normal_map": normal_map,
          "occlusion": occlusion, "metallic_roughness": metallic_roughness, "mtoon": mtoon}


def build(out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, make in ASSETS.items():
        scene = Scene()
        scene.backdrop()
        make(scene)
        paths[name] = scene.write(out / f"{name}.glb")
    return paths


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for name, path in build(Path(sys.argv[1])).items():
        print(f"{name}: {path}")
