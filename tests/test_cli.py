"""The `meshsync` command: poses and inspect, their outputs, and their one-line errors."""

from __future__ import annotations

import json

import pytest
from cli_helpers import assert_one_line_error, meshsync
from gltf_factory import quad_glb
from PIL import Image

from meshsync.render.sheet import COLUMNS, LABEL_HEIGHT, SHEET_POSES


def test_poses_writes_a_labelled_sheet(tmp_path):
    out = tmp_path / "poses.png"
    result = meshsync("poses", "-o", str(out), "--aa", "1")
    assert result.returncode == 0, result.stderr
    with Image.open(out) as image:
        rows = -(-len(SHEET_POSES) // COLUMNS)
        assert image.size == (COLUMNS * 360, rows * (400 + LABEL_HEIGHT))
        # every cell shows a head: skin-coloured pixels in the middle of each cell
        pixels = image.convert("RGB")
        for k in range(len(SHEET_POSES)):
            x, y = (k % COLUMNS) * 360 + 180, (k // COLUMNS) * (400 + LABEL_HEIGHT) + 200
            r, g, b = pixels.getpixel((x, y))
            assert r > g > b and r > 120, (k, (r, g, b))
    assert [p.name for p in tmp_path.iterdir()] == ["poses.png"]  # no temporary file left behind


def test_poses_on_an_avatar_without_arkit_names_marks_them(tmp_path):
    out = tmp_path / "quad.png"
    result = meshsync("poses", "--avatar", str(quad_glb(tmp_path / "quad.glb")), "-o", str(out), "--aa", "1")
    assert result.returncode == 0, result.stderr
    assert out.exists()


@pytest.mark.parametrize("args,words", [
    (["poses", "--avatar", "no-such.glb", "-o", "{tmp}/x.png"], ["no-such.glb", "no such file"]),
    (["poses", "-o", "{tmp}/x.jpg"], ["PNG"]),
    (["poses", "-o", "{tmp}/missing-folder/x.png"], ["does not exist"]),
    (["poses", "-o", "{tmp}/x.png", "--aa", "7"], ["anti-aliasing"]),
    (["inspect", "{tmp}"], ["is a folder"]),
])
def test_bad_input_gives_one_line_and_no_output(tmp_path, args, words):
    result = meshsync(*[a.format(tmp=tmp_path) for a in args])
    assert_one_line_error(result, *words)
    assert list(tmp_path.iterdir()) == []


def _with_names(names):
    def mutate(doc):
        primitive = doc["meshes"][0]["primitives"][0]
        primitive["targets"] = [{"POSITION": 4}] * len(names)
        doc["meshes"][0]["extras"]["targetNames"] = names
    return mutate


@pytest.mark.parametrize("names,extensions,expected", [
    (["viseme_sil", "viseme_PP", "viseme_FF", "viseme_TH", "viseme_DD", "viseme_kk", "viseme_CH", "viseme_SS",
      "viseme_nn", "viseme_RR", "viseme_aa", "viseme_E", "viseme_I", "viseme_O", "viseme_U"], {}, "readyplayerme"),
    (["sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou"], {}, "oculus"),
    (["Fcl_MTH_A", "Fcl_MTH_I"], {"VRMC_vrm": {"specVersion": "1.0", "expressions": {"preset": {
        "aa": {}, "ih": {}, "ou": {}, "ee": {}, "oh": {}, "blink": {}}}}}, "vrm1"),
    (["Fcl_MTH_A"], {"VRM": {"blendShapeMaster": {"blendShapeGroups": [{"presetName": "a"}, {"presetName": "i"}]}}},
     "vrm0"),
])
def test_inspect_detects_conventions(tmp_path, names, extensions, expected):
    def mutate(doc):
        _with_names(names)(doc)
        if extensions:
            doc["extensions"] = extensions
            doc["extensionsUsed"] = list(extensions)
    path = quad_glb(tmp_path / "avatar.glb", mutate)
    described = json.loads(meshsync("inspect", "--json", str(path)).stdout)
    assert described["conventions"][0]["name"] == expected


def test_inspect_unknown_names_and_missing_landmarks(tmp_path):
    result = meshsync("inspect", str(quad_glb(tmp_path / "quad.glb")))
    assert result.returncode == 0
    assert "convention: unknown" in result.stdout
    assert "landmarks missing (10)" in result.stdout
    assert "corner" in result.stdout  # the quad's own landmark is listed too
