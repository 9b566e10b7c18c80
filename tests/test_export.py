"""meshsync.export: every format for engines and DCC tools, checked by real consumers: the Khronos glTF
validator, Blender's own glTF importer (bpy), and OpenUSD; on the test avatars of every rig convention."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync
from consumers import glb_animation, glb_parts, validate
from gltf_factory import quad_glb

from meshsync.avatar import load_avatar
from meshsync.channels import channel_names
from meshsync.export.keyframes import reduce_keys
from meshsync.export.livelink import columns, timecode
from meshsync.gltf import FLOAT, UNSIGNED_BYTE
from meshsync.provenance import STATEMENT_KEY
from meshsync.rig import choose_profile, morph_weights, solve

BOUND = 0.005
# VRM 0.x's extension is named "VRM", which breaks glTF's naming rule: the validator warns about every such file.
ALLOWED_WARNINGS = {"vrm0": {"INVALID_EXTENSION_NAME_FORMAT"}}


@pytest.mark.parametrize("name, rig", [("arkit", None), ("readyplayerme", "readyplayerme"), ("oculus", "oculus"),
                                       ("vrm1", None), ("vrm0", None)])
def test_glb_validates_and_reproduces_the_rig_within_the_bound(speech, avatars, curves, tmp_path, name, rig):
    wav, grid, _ = speech
    out = tmp_path / "talk.glb"
    result = meshsync("animate", str(wav), "--alignment", str(grid), "--avatar", str(avatars[name]), "-o", str(out),
                      *(["--rig", rig] if rig else []))
    assert result.returncode == 0, result.stderr
    assert f"rig {rig or name}" in result.stdout
    issues = validate(out)
    assert issues["numErrors"] == 0, issues["messages"][:5]
    assert {m["code"] for m in issues["messages"] if m["severity"] == 1} <= ALLOWED_WARNINGS.get(name, set())
    assert weight_types(out) == {FLOAT}  # what every engine reads (Godot 3.2.3 and Assimp 5.2 misread bytes)
    assert_replays_the_rig(out, avatars[name], rig, curves)


def test_compact_weights_are_bytes_four_times_smaller_within_the_bound(speech, avatars, curves, tmp_path):
    wav, grid, _ = speech
    out = tmp_path / "talk.glb"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "--avatar", str(avatars["arkit"]), "-o", str(out),
                    "--weights", "compact").returncode == 0
    assert validate(out)["numErrors"] == 0 and weight_types(out) == {UNSIGNED_BYTE}
    assert_replays_the_rig(out, avatars["arkit"], None, curves)
    stored = full = 0
    for times, values in glb_animation(out).values():
        stored += times.size * 4 + values.size  # float times, one byte per weight
        full += 4 * (1 + values.shape[1]) * curves.frames
    assert full / stored >= 4.0  # the target: at least 4x smaller than every frame as float


def test_vrm_animation_validates_and_holds_the_expressions(speech, curves, tmp_path):
    wav, grid, _ = speech
    out = tmp_path / "talk.vrma"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "-o", str(out)).returncode == 0
    issues = validate(out)
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, issues["messages"][:5]
    doc, _ = glb_parts(out)
    extension = doc["extensions"]["VRMC_vrm_animation"]
    assert doc["extensionsUsed"] == ["VRMC_vrm_animation", "KHR_xmp_json_ld"] and extension["specVersion"] == "1.0"
    assert set(extension["expressions"]["preset"]) == {"aa", "ih", "ou", "ee", "oh", "blinkLeft", "blinkRight"}
    assert {"hips", "spine", "head", "leftFoot", "rightHand"} <= set(extension["humanoid"]["humanBones"])
    assert {c["target"]["path"] for c in doc["animations"][0]["channels"]} == {"translation", "rotation"}


def weight_types(path) -> set[int]:
    """The component types of the weight samplers' outputs in a GLB."""
    doc, _ = glb_parts(path)
    animation = next(a for a in doc["animations"] if a["name"] == "meshsync")
    outputs = [animation["samplers"][c["sampler"]]["output"] for c in animation["channels"]]
    return {doc["accessors"][index]["componentType"] for index in outputs}


def assert_replays_the_rig(out, avatar_path, rig, curves):
    """The GLB's animation, replayed at every frame, stays within the bound of the rig's weights."""
    avatar = load_avatar(avatar_path)
    expected = morph_weights(solve(curves, choose_profile(avatar, rig)), avatar)
    written = glb_animation(out)
    assert set(written) == set(expected)
    frames = np.arange(curves.frames) / curves.fps
    for node, (times, values) in written.items():
        assert times[0] == 0 and np.all(np.diff(times) > 0)
        replayed = np.column_stack([np.interp(frames, times, values[:, k]) for k in range(values.shape[1])])
        assert np.abs(replayed - expected[node]).max() <= BOUND + 1e-6


def test_exports_are_byte_identical(speech, avatars, tmp_path):
    wav, grid, _ = speech
    avatar = ["--avatar", str(avatars["vrm1"])]
    for suffix, extra in ((".glb", avatar), (".gltf", avatar), (".usda", avatar), (".tsv", []), (".vrma", [])):
        if suffix == ".usda":
            pytest.importorskip("pxr", reason="usd-core is the optional 'usd' extra")
        first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
        for out in (first, second):
            result = meshsync("animate", str(wav), "--alignment", str(grid), *extra, "-o", str(out))
            assert result.returncode == 0, result.stderr
        assert first.read_bytes() == second.read_bytes(), suffix


BLENDER_PROBE = """
import bpy, json, sys
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=sys.argv[1])
fps = bpy.context.scene.render.fps / bpy.context.scene.render.fps_base
out = {}
for key in bpy.data.shape_keys:
    curves = {fc.data_path.split('"')[1]: fc for fc in key.animation_data.action.fcurves}
    out[key.user.name] = {name: [fc.evaluate(t * fps) for t in json.loads(sys.argv[2])] for name, fc in curves.items()}
print("RESULT" + json.dumps(out))
"""


@pytest.mark.parametrize("name", ["arkit", "vrm1"])
def test_blender_imports_the_shape_key_animation(speech, avatars, curves, tmp_path, name):
    wav, grid, _ = speech
    out = tmp_path / "talk.glb"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "--avatar", str(avatars[name]),
                    "-o", str(out)).returncode == 0
    avatar = load_avatar(avatars[name])
    expected = morph_weights(solve(curves, choose_profile(avatar)), avatar)[avatar.meshes[0].node_index]
    frames = np.linspace(0, curves.frames - 1, 25).round().astype(int)
    result = subprocess.run([sys.executable, "-c", BLENDER_PROBE, str(out), json.dumps((frames / curves.fps).tolist())],
                            capture_output=True, text=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line is not None, result.stderr[-2000:]
    (_, imported), = json.loads(line[len("RESULT"):]).items()
    names = avatar.meshes[0].target_names
    assert set(imported) == set(names)
    for index, target in enumerate(names):
        assert np.abs(np.array(imported[target]) - expected[frames, index]).max() <= 0.01, target


def test_rhubarb_cues_close_on_bilabials(speech, curves, tmp_path):
    wav, grid, phones = speech
    tsv, js = tmp_path / "cues.tsv", tmp_path / "cues.rhubarb.json"
    for out in (tsv, js):
        assert meshsync("animate", str(wav), "--alignment", str(grid), "-o", str(out)).returncode == 0
    lines = [line.split("\t") for line in tsv.read_text().splitlines()]
    starts, shapes = np.array([float(t) for t, _ in lines]), [s for _, s in lines]
    assert set(shapes) <= set("ABCDEFGHX") and shapes[0] == "X" and shapes[-1] == "X"
    assert np.all(np.diff(starts) > 0)
    for label, start, end in phones:
        if label in ("M", "B", "P"):
            window = [shapes[i] for i in range(len(shapes) - 1) if starts[i] < end and starts[i + 1] > start]
            assert "A" in window, (label, start)
    data = json.loads(js.read_text())
    cues = data["mouthCues"]
    assert [c["value"] for c in cues] == shapes[:-1] and cues[0]["start"] == 0
    # Rhubarb's own metadata, then meshsync's namespaced statement (meshsync.provenance), which importers skip
    assert list(data["metadata"]) == ["soundFile", "duration", STATEMENT_KEY]
    assert data["metadata"]["soundFile"] == str(wav)


def test_usd_holds_the_blend_shape_weights(speech, curves, tmp_path):
    pytest.importorskip("pxr", reason="usd-core is the optional 'usd' extra")
    from pxr import Usd, UsdSkel

    wav, grid, _ = speech
    out = tmp_path / "talk.usda"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "-o", str(out)).returncode == 0
    stage = Usd.Stage.Open(str(out))
    animation = UsdSkel.Animation(stage.GetPrimAtPath("/Root/Animation"))
    names = list(animation.GetBlendShapesAttr().Get())
    assert names == list(curves.names[:52]) and stage.GetTimeCodesPerSecond() == curves.fps
    for frame in (0, 40, curves.frames - 1):
        weights = np.array(animation.GetBlendShapeWeightsAttr().Get(frame))
        assert np.abs(weights - curves.values[frame, :52]).max() < 1e-6


@pytest.mark.parametrize("suffix", [".usda", ".usdc"])
def test_usd_passes_usd_cores_own_validators(speech, tmp_path, suffix):
    pytest.importorskip("pxr", reason="usd-core is the optional 'usd' extra")
    from pxr import Usd, UsdGeom, UsdValidation

    wav, grid, _ = speech
    out = tmp_path / f"talk{suffix}"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "-o", str(out)).returncode == 0
    stage = Usd.Stage.Open(str(out))
    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    problems = UsdValidation.ValidationContext(validators).Validate(stage)
    assert [f"{e.GetName()}: {e.GetMessage()}" for e in problems] == []
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0 and UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y


def test_reduced_keys_interpolate_within_the_bound():
    t = np.linspace(0, 6, 600)
    signal = np.column_stack([np.sin(t * 3) ** 2, np.clip(np.cos(t * 7), 0, 1), (t > 3).astype(float)])
    kept = reduce_keys(signal, 0.01)
    replayed = np.column_stack([np.interp(np.arange(600), kept, signal[kept, k]) for k in range(3)])
    assert np.abs(replayed - signal).max() <= 0.01 and len(kept) < 150
    assert list(reduce_keys(signal, 0.0)[:3]) == [0, 1, 2]


@pytest.mark.parametrize("args, message", [
    (["--avatar", "{quad}", "-o", "{tmp}/a.glb"], "no usable morph targets (found lift, push"),
    (["--avatar", "{dup}", "-o", "{tmp}/a.glb", "--rig", "{custom}"], "two morph targets named"),
    (["-o", "{tmp}/a.glb", "--rig", "oculus"], "none of its morph targets"),
    (["-o", "{tmp}/a.csv", "--rig", "oculus"], "holds ARKit curves"),
    (["-o", "{tmp}/a.glb", "--rig", "{bad}"], "not ARKit blendshapes: jawWide"),
    (["-o", "{tmp}/a.glb", "--rig", "nonsense"], "no such rig profile"),
    (["-o", "{tmp}/a.glb", "--tolerance", "2"], "--tolerance 2 is out of range"),
    (["-o", "{tmp}/a.glb", "--weights", "half"], "--weights half: give float or compact"),
])
def test_bad_exports_are_one_line_and_write_nothing(speech, tmp_path, args, message):
    wav, grid, _ = speech
    quad = quad_glb(tmp_path / "quad.glb")
    dup = quad_glb(tmp_path / "dup.glb", lambda doc: doc["meshes"][0]["extras"].update(targetNames=["lift", "Lift"]))
    custom, bad = tmp_path / "custom.toml", tmp_path / "bad.toml"
    custom.write_text("[poses]\nlift = { jawOpen = 1.0 }\n")
    bad.write_text("[poses]\nlift = { jawWide = 1.0 }\n")
    inputs = {quad, dup, custom, bad}
    args = [a.format(tmp=tmp_path, quad=quad, dup=dup, custom=custom, bad=bad) for a in args]
    result = meshsync("animate", str(wav), "--alignment", str(grid), *args)
    assert_one_line_error(result, message)
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and p not in inputs]


BLENDER_JAW_PROBE = """
import bpy, json, math, sys
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=sys.argv[1])
fps = bpy.context.scene.render.fps / bpy.context.scene.render.fps_base
armature = next(o for o in bpy.data.objects if o.type == "ARMATURE")
curves = [fc for fc in armature.animation_data.action.fcurves
          if fc.data_path == 'pose.bones["Jaw"].rotation_quaternion']
angles = []
for t in json.loads(sys.argv[2]):
    w = next(fc for fc in curves if fc.array_index == 0).evaluate(t * fps)
    angles.append(2 * math.acos(min(1.0, abs(w))))
print("RESULT" + json.dumps(angles))
"""


def test_jaw_bone_turns_with_jaw_open(speech, avatars, curves, tmp_path):
    wav, grid, _ = speech
    out = tmp_path / "jaw_talk.glb"
    result = meshsync("animate", str(wav), "--alignment", str(grid), "--avatar", str(avatars["jaw"]), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "jaw bone Jaw" in result.stdout
    assert validate(out)["numErrors"] == 0 and validate(out)["numWarnings"] == 0
    doc, _ = glb_parts(out)
    jaw_node = next(i for i, node in enumerate(doc["nodes"]) if node.get("name") == "Jaw")
    animation = next(a for a in doc["animations"] if a["name"] == "meshsync")
    assert {"node": jaw_node, "path": "rotation"} in [c["target"] for c in animation["channels"]]
    opening = curves.channel("jawOpen")
    frames = np.linspace(0, curves.frames - 1, 25).round().astype(int)
    result = subprocess.run([sys.executable, "-c", BLENDER_JAW_PROBE, str(out),
                             json.dumps((frames / curves.fps).tolist())], capture_output=True, text=True)
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line is not None, result.stderr[-2000:]
    angles = np.array(json.loads(line[len("RESULT"):]))
    assert opening[frames].max() > 0.2
    assert np.abs(angles - np.radians(24.0) * opening[frames]).max() < 0.01  # radians, in Blender's pose


def test_timecode_rolls_over_seconds_minutes_and_hours():
    assert timecode(0, 60) == "00:00:00:00.000"
    assert timecode(59, 60) == "00:00:00:59.000"
    assert timecode(60 * 61 + 3, 60) == "00:01:01:03.000"
    assert timecode(30 * 3600, 30) == "01:00:00:00.000"


@pytest.mark.parametrize("fps", [24, 25, 30, 50, 60, 29.97])
def test_timecode_counts_frames_at_60_a_second_as_the_app_does(fps):
    """Unreal's importer reads HH:MM:SS:FF.fff with FF at 60 a second and .fff its fraction: the time it reads
    back is the frame's time, within a thousandth of a 60 fps frame, at any rate."""
    for frame in (0, 1, 7, 59, 1234, 100_000):
        hours, minutes, seconds, frames = timecode(frame, fps).split(":")
        read = int(hours) * 3600 + int(minutes) * 60 + int(seconds) + float(frames) / 60
        assert abs(read - frame / fps) <= 0.0005 / 60 + 1e-9, (fps, frame, timecode(frame, fps))
    assert timecode(1, 24) == "00:00:00:02.500" and timecode(1, 25) == "00:00:00:02.400"


def test_live_link_columns_are_in_the_apps_order():
    names = columns()
    assert names[14:17] == ("JawForward", "JawRight", "JawLeft")
    assert names[19:23] == ("MouthFunnel", "MouthPucker", "MouthRight", "MouthLeft")
    assert sorted(n.lower() for n in names) == sorted(n.lower() for n in channel_names())
