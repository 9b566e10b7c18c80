"""meshsync.rig: detecting an avatar's rig convention (`meshsync inspect`), solving viseme rigs from ARKit
curves, custom profiles; on the test avatars built from the default head (tools/build_test_avatars.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_helpers import meshsync
from consumers import glb_animation, validate
from gltf_factory import quad_glb

from meshsync.avatar import load_avatar
from meshsync.rig import choose_profile, morph_weights, solve


def test_inspect_detects_each_test_avatars_convention(avatars):
    expected = {"arkit": "arkit", "readyplayerme": "readyplayerme", "oculus": "oculus", "vrm1": "vrm1", "vrm0": "vrm0",
                "jaw": "arkit"}
    for name, path in avatars.items():
        result = meshsync("inspect", str(path), "--json")
        found = [c["name"] for c in json.loads(result.stdout)["conventions"]]
        assert expected[name] in found, (name, found)
    assert choose_profile(load_avatar(avatars["vrm1"])).name == "vrm1"  # a declared extension wins


def test_viseme_rig_closes_on_bilabials_and_blends_smoothly(speech, avatars, curves):
    _, _, phones = speech
    rig = solve(curves, choose_profile(load_avatar(avatars["readyplayerme"]), "readyplayerme"))
    column = {name: i for i, name in enumerate(rig.names)}
    for label, start, end in phones:
        frame = round((start + end) / 2 * curves.fps)
        if label in ("M", "B", "P"):
            assert rig.values[frame].argmax() == column["viseme_PP"], (label, start)
    silent = [round((s + e) / 2 * curves.fps) for label, s, e in phones if label == "sil" and e - s > 0.3]
    assert all(rig.values[f, column["viseme_sil"]] > 0.9 for f in silent)
    # A blend, not a switch between visemes: no weight jumps from off to on in one frame (60 fps), and the
    # typical frame changes little (lips pop open from p/b/m over 35 ms: the fastest moves).
    change = np.abs(np.diff(rig.values, axis=0)).max(axis=1)
    assert change.max() < 0.75 and np.median(change) < 0.1


@pytest.mark.parametrize("name", ["readyplayerme", "oculus"])
def test_a_forced_viseme_rig_keeps_the_avatars_blinks_and_gaze(avatars, curves, name):
    avatar = load_avatar(avatars[name])  # visemes beside the ARKit 52, as ReadyPlayerMe avatars have
    rig = solve(curves, choose_profile(avatar, name))
    (weights,) = morph_weights(rig, avatar).values()
    targets = avatar.meshes[0].target_names
    for channel in ("eyeBlinkLeft", "eyeLookOutLeft", "browInnerUp"):
        assert channel not in choose_profile(avatar, name).outputs
        assert np.array_equal(weights[:, targets.index(channel)], curves.channel(channel)), channel
    assert curves.channel("eyeBlinkLeft").max() > 0.5  # the clip blinks, so the check can fail
    for channel in ("jawOpen", "mouthClose", "mouthFunnel"):  # the mouth is the visemes' alone, never doubled
        assert not weights[:, targets.index(channel)].any(), channel


def test_custom_rig_maps_names_and_poses(speech, tmp_path):
    wav, grid, _ = speech
    quad = quad_glb(tmp_path / "quad.glb")  # morph targets "lift" and "push"
    custom = tmp_path / "my_rig.toml"
    custom.write_text('name = "quad"\n[poses]\nlift = { jawOpen = 0.4 }\n'
                      'push = { mouthPressLeft = 0.3, mouthPressRight = 0.3 }\n')
    out = tmp_path / "quad_talk.glb"
    result = meshsync("animate", str(wav), "--alignment", str(grid), "--avatar", str(quad), "--rig", str(custom),
                      "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert validate(out)["numErrors"] == 0
    (_, values), = glb_animation(out).values()
    assert values[:, 0].max() > 0.5 and values[:, 1].max() > 0.2  # both targets move: the jaw, the pressed lips


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
