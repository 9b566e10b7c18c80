"""The bundled presenters (assets/avatars.toml, tools/build_presenters.py): dressed busts whose head turns on
neck and head joints while the shoulders stay put, with hair, brows and lashes as alpha-masked geometry,
the face's 52 ARKit targets and landmarks, listed by `meshsync avatars` and picked by `--avatar NAME`."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync, meshsync_here

from meshsync.avatar import load_avatar
from meshsync.avatar.scene import MASK, OPAQUE
from meshsync.channels import arkit_names
from meshsync.files import avatar_path, bundled_avatars, default_avatar_path
from meshsync.render import Renderer, frame_face

PRESENTERS = [a for a in bundled_avatars().values() if a.about.startswith("presenter")]
SIZE = (320, 360)
OUTER_HAIR = "hair1"


@pytest.fixture(scope="module", params=[a.name for a in PRESENTERS])
def presenter(request):
    return load_avatar(bundled_avatars()[request.param].path)


def test_there_are_two_presenters_and_the_default_is_one():
    assert len(PRESENTERS) >= 2
    assert default_avatar_path() == PRESENTERS[0].path == next(iter(bundled_avatars().values())).path
    assert all(a.path.stat().st_size < 4e6 for a in PRESENTERS)  # light enough to bundle


def test_a_presenter_drives_like_the_head(presenter):
    assert set(arkit_names()) <= set(presenter.target_names)
    points = presenter.landmark_points()
    assert {"upperLipInner", "lowerLipInner", "eyeLeft", "eyeRight", "chin"} <= points.keys()
    opened = presenter.landmark_points({"jawOpen": 1.0})
    assert np.linalg.norm(opened["upperLipInner"] - opened["lowerLipInner"]) > 0.008


def test_hair_brows_and_lashes_are_masked_geometry(presenter):
    materials = {m.name: m for m in presenter.materials}
    for name in ("hair1", "brows", "lashes"):
        assert materials[name].alpha_mode == MASK and materials[name].texture is not None, name
    outer = materials[OUTER_HAIR]  # the outermost layer: strands with gaps between them
    assert 0.1 < (outer.texture.pixels[..., 3] > 255 * outer.alpha_cutoff).mean() < 0.9


def test_the_head_turns_on_the_neck_and_the_shoulders_stay(presenter):
    camera = frame_face(presenter, SIZE[0] / SIZE[1], "bust")
    with Renderer(presenter, *SIZE, camera=camera) as renderer:
        still = renderer.render({}).astype(int)
        turned = renderer.render({}, (0.5, 0.0, 0.0)).astype(int)
    changed = np.abs(turned - still).sum(axis=2) > 30
    rows = changed.any(axis=1)
    head_rows = slice(0, SIZE[1] // 2)
    shoulder_rows = slice(int(SIZE[1] * 0.85), SIZE[1])
    assert rows[head_rows].mean() > 0.3  # the head turned
    assert changed[shoulder_rows].mean() < 0.002  # the shoulders and chest did not move


def test_renders_are_deterministic(presenter):
    with Renderer(presenter, 160, 120) as renderer:
        first = renderer.render({"jawOpen": 0.4}, (0.2, 0.1, 0.0))
    with Renderer(presenter, 160, 120) as renderer:
        assert np.array_equal(first, renderer.render({"jawOpen": 0.4}, (0.2, 0.1, 0.0)))


def test_avatars_lists_them_and_names_pick_them(tmp_path):
    result = meshsync("avatars")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(bundled_avatars())
    assert avatar_path(PRESENTERS[1].name) == PRESENTERS[1].path
    local = tmp_path / PRESENTERS[1].name  # a file of that name wins over the bundled one
    local.write_bytes(b"x")
    assert avatar_path(local) == local
    out = tmp_path / "poses.png"
    assert meshsync_here("poses", "--avatar", PRESENTERS[1].name, "-o", out, "--aa", "1").returncode == 0
    assert out.stat().st_size > 10_000


def test_an_unknown_name_is_one_clear_line(tmp_path):
    assert_one_line_error(meshsync_here("poses", "--avatar", "nobody", "-o", tmp_path / "p.png"), "nobody")


def test_the_outer_hair_layer_renders_as_strands_not_a_shell(presenter):
    """Alone, the outermost hair layer covers a fraction of its own silhouette: the mask cuts between strands."""
    outer = next(k for k, m in enumerate(presenter.materials) if m.name == OUTER_HAIR)

    def coverage(material) -> int:
        materials = list(presenter.materials)
        materials[outer] = material
        meshes = [dataclasses.replace(mesh, primitives=[p for p in mesh.primitives if p.material == outer])
                  for mesh in presenter.meshes]
        alone = dataclasses.replace(presenter, meshes=meshes, materials=materials)
        with Renderer(alone, 256, 256, camera=frame_face(presenter, 1.0, "face"), background=(0, 0, 0)) as renderer:
            return int((renderer.render({}).sum(axis=2) > 0).sum())

    strands = coverage(presenter.materials[outer])
    shell = coverage(dataclasses.replace(presenter.materials[outer], alpha_mode=OPAQUE))
    assert shell > 2000
    assert 0.1 * shell < strands < 0.85 * shell


BLENDER_PROBE = """
import bpy, json, sys
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=sys.argv[1])
meshes = [o.name for o in bpy.data.objects if o.type == "MESH" and o.data.shape_keys]
bones = [b.name for o in bpy.data.objects if o.type == "ARMATURE" for b in o.data.bones]
keys = [k.name for o in bpy.data.objects if o.name in meshes for k in o.data.shape_keys.key_blocks]
print("RESULT" + json.dumps({"meshes": meshes, "bones": bones, "keys": keys,
                             "materials": sorted(m.name for m in bpy.data.materials)}))
"""


def test_blender_imports_the_presenters(tmp_path):
    for avatar in PRESENTERS:
        result = subprocess.run([sys.executable, "-c", BLENDER_PROBE, str(avatar.path)], capture_output=True,
                                text=True)
        line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT")), None)
        assert line is not None, result.stderr[-2000:]
        found = json.loads(line[len("RESULT"):])
        assert found["meshes"] == [avatar.name] and set(found["bones"]) == {"chest", "neck", "head"}, found
        assert set(arkit_names()) <= set(found["keys"])
        assert {"hair0", "brows", "lashes", "top", "skin"} <= set(found["materials"])


def test_frames_stay_opaque_where_masks_keep_strands(presenter):
    """glTF's MASK keeps a fragment fully opaque: PNG frames must not turn the hair's strands see-through."""
    with Renderer(presenter, 160, 160, camera=frame_face(presenter, 1.0, "face")) as renderer:
        assert renderer.render_rgba({})[..., 3].min() == 255
