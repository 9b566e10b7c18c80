"""Exports for engines and DCC tools, checked by real consumers: the Khronos glTF validator, Blender's own
glTF importer (bpy), and OpenUSD; rig profiles on avatars built from the default head by
tools/build_test_avatars.py."""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

import build_test_avatars
import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync
from gltf_factory import quad_glb

from meshsync.align.textgrid import read_textgrid
from meshsync.animate import animate
from meshsync.audio import load_audio
from meshsync.avatar import load_avatar
from meshsync.export.keyframes import reduce_keys
from meshsync.files import default_avatar_path
from meshsync.rig import choose_profile, morph_weights, solve

REPO = Path(__file__).resolve().parent.parent
BOUND = 0.005
# VRM 0.x's extension is named "VRM", which breaks glTF's naming rule: the validator warns about every such file.
ALLOWED_WARNINGS = {"vrm0": {"INVALID_EXTENSION_NAME_FORMAT"}}
NORMALISED = {5121: ("u1", 255), 5123: ("<u2", 65535)}


@pytest.fixture(scope="module")
def avatars(tmp_path_factory) -> dict[str, Path]:
    return {"arkit": default_avatar_path(), **build_test_avatars.build(tmp_path_factory.mktemp("avatars"))}


@pytest.fixture(scope="module")
def curves(speech):
    wav, grid, _ = speech
    audio = load_audio(wav)
    return animate(audio, read_textgrid(grid, audio.duration))


def validate(path: Path) -> dict:
    result = subprocess.run(["node", str(REPO / "tools" / "validate_gltf.mjs"), str(path)], capture_output=True,
                            text=True, cwd=REPO)
    return json.loads(result.stdout)["issues"]


def glb_animation(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per animated node, the key times and the weights (keys, targets), decoded from the GLB."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + json_length])
    blob = data[20 + json_length + 8:]

    def read(index: int) -> np.ndarray:
        accessor = doc["accessors"][index]
        view = doc["bufferViews"][accessor["bufferView"]]
        dtype, top = NORMALISED.get(accessor["componentType"], ("<f4", 0))
        raw = np.frombuffer(blob, dtype, accessor["count"], view.get("byteOffset", 0) + accessor.get("byteOffset", 0))
        return raw / top if top else raw.astype(np.float64)

    animation = next(a for a in doc["animations"] if a["name"] == "meshsync")
    out = {}
    for channel in animation["channels"]:
        sampler = animation["samplers"][channel["sampler"]]
        assert channel["target"]["path"] == "weights" and sampler["interpolation"] == "LINEAR"
        times, values = read(sampler["input"]), read(sampler["output"])
        out[channel["target"]["node"]] = times, values.reshape(len(times), -1)
    return out


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
    avatar = load_avatar(avatars[name])
    expected = morph_weights(solve(curves, choose_profile(avatar, rig)), avatar)
    written = glb_animation(out)
    assert set(written) == set(expected)
    frames = np.arange(curves.frames) / curves.fps
    stored = full = 0
    for node, (times, values) in written.items():
        assert times[0] == 0 and np.all(np.diff(times) > 0)
        replayed = np.column_stack([np.interp(frames, times, values[:, k]) for k in range(values.shape[1])])
        assert np.abs(replayed - expected[node]).max() <= BOUND + 1e-6
        stored += times.size * 4 + values.size  # float times, one byte per weight
        full += 4 * (1 + values.shape[1]) * curves.frames
    assert full / stored >= 4.0  # the target: at least 4x smaller than every frame as float


def test_exports_are_byte_identical(speech, avatars, tmp_path):
    wav, grid, _ = speech
    avatar = ["--avatar", str(avatars["vrm1"])]
    for suffix, extra in ((".glb", avatar), (".gltf", avatar), (".usda", avatar), (".tsv", [])):
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
    (times, values), = glb_animation(out).values()
    assert values[:, 0].max() > 0.5 and values[:, 1].max() > 0.2  # both targets move: the jaw, the pressed lips


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
    cues = json.loads(js.read_text())["mouthCues"]
    assert [c["value"] for c in cues] == shapes[:-1] and cues[0]["start"] == 0


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
    data = out.read_bytes()
    doc = json.loads(data[20:20 + struct.unpack_from("<I", data, 12)[0]])
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


@pytest.mark.parametrize("name", ["vrm1", "jaw"])
def test_render_opens_the_mouth_of_vrm_and_jaw_bone_avatars(speech, avatars, tmp_path, name):
    from PIL import Image

    wav, grid, phones = speech
    vowel = max((p for p in phones if p[0] == "AA"), key=lambda p: p[2] - p[1])
    frame = round((vowel[1] + vowel[2]) / 2 * 30)
    result = meshsync("render", str(wav), "--alignment", str(grid), "--avatar", str(avatars[name]), "--still",
                      "--size", "320x180", "--frames", f"0-{frame}", "-o", str(tmp_path / "f_%03d.png"), "--quiet")
    assert result.returncode == 0, result.stderr
    rest, open_mouth = (np.asarray(Image.open(tmp_path / f"f_{i:03d}.png")).astype(int) for i in (0, frame))
    lower_face = (slice(90, 150), slice(130, 190))
    # The aa expression (VRM), or the jaw joint turned by jawOpen, opened the mouth.
    assert np.abs(open_mouth[lower_face] - rest[lower_face]).max() > 60


def test_renderer_turns_a_jaw_bone_and_what_it_carries(avatars):
    from meshsync.render import Renderer
    from meshsync.rig import jaw_joint, joint_moves

    avatar = load_avatar(avatars["jaw"])
    jaw = jaw_joint(avatar)
    assert jaw is not None and jaw.name == "Jaw"
    with Renderer(avatar, 320, 180) as renderer:
        rest = renderer.render({}).astype(int)
        opened = renderer.render_rgba({}, None, None, joint_moves(avatar, jaw, np.radians(15)))[:, :, :3].astype(int)
    chin, eyes = (slice(138, 165), slice(140, 181)), (slice(60, 90), slice(120, 200))
    assert np.abs(opened[chin] - rest[chin]).mean() > 5  # the chin dropped: skin weighted to the jaw moved
    assert np.abs(opened[eyes] - rest[eyes]).max() <= 4  # the upper face did not
