"""The renderer's glTF material model on the test assets of tools/build_material_assets.py: each feature as
glTF defines it (alpha cards never opaque, masks cut, emission glows, unlit colours as authored), the same
bytes each time, and the same picture as three.js r187 renders (SSIM, tools/compare_three.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import build_material_assets
import numpy as np
import pytest
from compare_three import CAMERA, compare, render_meshsync, ssim
from gltf_factory import quad_glb

from meshsync.avatar import GltfError, load_avatar
from meshsync.gltf import parse_glb
from meshsync.render import Renderer

SIZE = 256


@pytest.fixture(scope="module")
def renders(tmp_path_factory) -> dict:
    """Per asset: SSIM against three.js, meshsync's render, three.js's render."""
    return compare(tmp_path_factory.mktemp("materials"), SIZE)


def pixel(image: np.ndarray, point) -> np.ndarray:
    """The image's colour at a world point (int, to subtract)."""
    column, row = CAMERA.project(np.array([point], float), SIZE, SIZE)[0]
    return image[int(row), int(column)].astype(int)


def test_each_asset_looks_as_three_js_renders_it(renders):
    scores = {name: score for name, (score, _, _) in renders.items()}
    assert min(scores.values()) >= 0.9, scores
    # The measure tells pictures apart: another asset, with the same backdrop and card, scores far lower.
    assert ssim(renders["texture_transform"][1], renders["unlit"][2]) < min(scores.values()) - 0.2


def test_blended_cards_are_never_opaque(renders):
    image = renders["alpha_blend"][1]
    backdrop = pixel(image, (0.7, -0.7, 0))
    texel = 0.7 / 64  # the first card spans x -0.6 to 0.1 (alone left of -0.35); strands are texels 0-3
    strand, between = (pixel(image, (-0.6 + texel * k, -0.1, 0.05)) for k in (2, 6))
    assert np.all(np.abs(between - backdrop) > 20)  # the card's tint shows ...
    assert np.all(between > strand + 20)  # ... but the backdrop shows through the gap


def test_a_mask_cuts_the_card_away(renders):
    image = renders["alpha_mask"][1]
    backdrop = pixel(image, (0.7, -0.7, 0))
    stroke = [pixel(image, (x, 0.0, 0.05)) for x in np.linspace(-0.45, 0.45, 60)]
    assert min(s.sum() for s in stroke) < 150  # dark strokes drawn
    assert sum(np.abs(s - backdrop).max() <= 2 for s in stroke) > 30  # and the rest is the backdrop itself


def test_emission_glows_and_unlit_keeps_its_colours(renders):
    glow = renders["emissive"][1]
    assert pixel(glow, (0, 0, 0.05)).sum() > pixel(glow, (0.45, 0.45, 0.05)).sum() + 300
    bars = renders["unlit"][1]
    authored = [(230, 40, 40), (240, 200, 40), (40, 180, 70), (40, 120, 230)]
    for k, colour in enumerate(authored):
        assert np.abs(pixel(bars, (-0.375 + 0.25 * k, 0, 0.05)) - colour).max() <= 2, k


def test_normal_occlusion_and_metal_textures_shape_the_light(renders):
    line = np.linspace(-0.45, 0.45, 40)
    bumps = np.array([pixel(renders["normal_map"][1], (x, x, 0.05)).sum() for x in line])
    assert np.ptp(bumps) > 15  # a flat card (lit evenly: a spread of 2 or so), lit as bumps
    grooves = renders["occlusion"][1]
    texel = 1.0 / 64  # grooves are rows 0-5, 18-23, ... from the top (y 0.5)
    groove, open_ = (pixel(grooves, (0, 0.5 - texel * k, 0.05)).sum() for k in (3, 10))
    assert open_ - groove >= 6  # the ambient light darkened in the grooves, the direct light kept
    metal = renders["metallic_roughness"][1]
    assert pixel(metal, (0.25, 0, 0.05)).sum() - pixel(metal, (-0.25, 0, 0.05)).sum() > 150  # metal: no diffuse


def test_mtoon_ramps_into_its_shade_colour(renders):
    sphere = renders["mtoon"][1]

    def on_sphere(x, y):  # the sphere's visible point in direction (x, y, 1), as tools/build_material_assets.py
        direction = np.array([x, y, 1.0])
        return np.array([0, 0, 0.5]) + 0.45 * direction / np.linalg.norm(direction)

    lit, shaded = pixel(sphere, on_sphere(-0.3, 0.3)), pixel(sphere, on_sphere(1.5, -1.5))
    assert lit[0] - lit[2] > 15 and shaded[2] - shaded[1] > 30  # pink in the light, violet in the shade
    across = np.array([pixel(sphere, on_sphere(t, -t)).sum() for t in np.linspace(0.0, 1.6, 41)])
    steps = np.abs(np.diff(across))
    assert steps.max() > 3 * np.median(steps)  # a toon edge, not a gradient


def test_material_renders_are_deterministic(renders, tmp_path):
    import build_material_assets

    assets = build_material_assets.build(tmp_path)
    for name in ("alpha_blend", "alpha_mask", "texture_transform", "normal_map"):
        assert np.array_equal(render_meshsync(assets[name], SIZE), renders[name][1]), name


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(alphaMode="CLEAR"), "alphaMode must be one of OPAQUE, MASK, BLEND"),
    (lambda m: m.update(emissiveFactor=[1, 2]), "emissiveFactor"),
    (lambda m: m.update(normalTexture={"index": 0, "scale": "big"}), "texture's scale must be a number"),
    (lambda m: m.update(extensions={"VRMC_materials_mtoon": {"shadeColorFactor": [1, 0]}}), "shadeColorFactor of 3"),
])
def test_bad_materials_are_one_line(tmp_path, change, message):
    path = quad_glb(tmp_path / "bad.glb", lambda doc: change(doc.setdefault("materials", [{}])[0]))
    with pytest.raises(GltfError, match=message):
        load_avatar(path)


BLENDER_PROBE = """
import bpy, json, sys
out = {}
for path in sys.argv[1:]:
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=path)
    meshes = [o for o in bpy.data.objects if o.type == "MESH"]
    out[path] = {"meshes": len(meshes), "materials": sorted(m.name for m in bpy.data.materials),
                 "images": len(bpy.data.images)}
print("RESULT" + json.dumps(out))
"""


def test_blender_imports_every_material_asset(tmp_path):
    """Blender's glTF importer takes each test asset, with its materials and textures."""
    assets = build_material_assets.build(tmp_path)
    result = subprocess.run([sys.executable, "-c", BLENDER_PROBE, *map(str, assets.values())], capture_output=True,
                            text=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line is not None, result.stderr[-2000:]
    found = json.loads(line[len("RESULT"):])
    for name, path in assets.items():
        doc, _ = parse_glb(path.read_bytes(), path)
        imported = found[str(path)]
        assert imported["meshes"] == len(doc["nodes"]), name  # each asset: one mesh per node
        assert len(imported["materials"]) == len(doc["materials"]), name
        assert imported["images"] == len(doc.get("images", [])), name


def test_tangents_are_made_when_the_file_has_none(tmp_path):
    """The normal-mapped card authored with TANGENT, and read as if it had none: the tangents the reader makes
    light the bumps as the authored ones do."""
    avatar = load_avatar(build_material_assets.build(tmp_path)["normal_map"])
    (card,) = [mesh for mesh in avatar.meshes if avatar.materials[mesh.primitives[0].material].normal_texture]
    geometry = card.primitives[0].geometry
    assert geometry.tangents is not None
    with Renderer(avatar, SIZE, SIZE, camera=CAMERA) as renderer:
        authored = renderer.render({})
    geometry.tangents = None
    with Renderer(avatar, SIZE, SIZE, camera=CAMERA) as renderer:
        made = renderer.render({})
    assert np.abs(authored.astype(int) - made).max() <= 2


def test_khronos_validator_passes_every_asset(tmp_path):
    for name, path in build_material_assets.build(tmp_path).items():
        result = subprocess.run(["node", "tools/validate_gltf.mjs", str(path)], capture_output=True, text=True,
                                cwd=Path(__file__).resolve().parent.parent)
        issues = json.loads(result.stdout)["issues"]
        assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), (name, issues["messages"][:3])
