"""What the tests check exports with, independently of meshsync's own reader: the Khronos glTF validator, a
small decoder of GLB animations, and the engines users import into: three.js and three-vrm in headless
Chromium, Godot 3 (Debian's godot3-server), Assimp (pyassimp over Debian's libassimp5)."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NORMALISED = {5121: ("u1", 255), 5123: ("<u2", 65535)}  # component type -> stored type, largest value


def validate(path: Path) -> dict:
    """The Khronos validator's issues (numErrors, numWarnings, messages) for a glTF or GLB file."""
    result = subprocess.run(["node", str(REPO / "tools" / "validate_gltf.mjs"), str(path)], capture_output=True,
                            text=True, cwd=REPO)
    return json.loads(result.stdout)["issues"]


def glb_parts(path: Path) -> tuple[dict, bytes]:
    """A GLB file's JSON document and binary chunk, read by hand."""
    data = path.read_bytes()
    json_length = struct.unpack_from("<I", data, 12)[0]
    return json.loads(data[20:20 + json_length]), data[20 + json_length + 8:]


def glb_animation(path: Path) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per animated node, the key times and the weights (keys, targets), decoded from the GLB."""
    doc, blob = glb_parts(path)

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


def three(avatar: Path, times: list[float], animation: Path | None = None, nodes: tuple[str, ...] = ()) -> dict:
    """three.js in Chromium: the avatar (a VRM through three-vrm) playing its `meshsync` clip, or the .vrma
    `animation`, sampled at `times`: {vrm: "1"/"0"/None, morphs: {mesh: {target: [value per time]}},
    turns: {node: [quaternion per time]}, errors: [page errors]}."""
    request = json.dumps({"avatar": str(avatar), "animation": str(animation) if animation else None,
                          "times": times, "nodes": list(nodes)})
    result = subprocess.run(["node", str(REPO / "tests" / "three_probe.mjs")], input=request, capture_output=True,
                            text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


GODOT_PROBE = """extends SceneTree
# Every imported scene's AnimationPlayer tracks as keys: value tracks (blend shapes) [time, weight], transform
# tracks (bones) [time, [x, y, z, w]].
func _init():
	var out = {}
	for file in OS.get_cmdline_args()[-1].split(","):
		var scene = load("res://" + file).instance()
		var player = _player(scene)
		var tracks = {}
		var animation = player.get_animation("meshsync")
		for t in range(animation.get_track_count()):
			var keys = []
			for k in range(animation.track_get_key_count(t)):
				var value = animation.track_get_key_value(t, k)
				if animation.track_get_type(t) == Animation.TYPE_TRANSFORM:
					value = [value["rotation"].x, value["rotation"].y, value["rotation"].z, value["rotation"].w]
				keys.append([animation.track_get_key_time(t, k), value])
			tracks[str(animation.track_get_path(t))] = keys
		out[file] = tracks
	print("RESULT" + to_json(out))
	quit()

func _player(node):
	if node is AnimationPlayer:
		return node
	for child in node.get_children():
		var found = _player(child)
		if found:
			return found
	return null
"""
GODOT = ["godot3-server"]
GODOT_ENV = {"LANG": "C.UTF-8", "HOME": "/tmp"}


def godot(files: list[Path], project: Path) -> dict[str, dict[str, list]]:
    """Godot 3 imports the files as a user's project does (the editor's importer, default settings) and a
    GDScript reads back each one's `meshsync` animation: {file name: {track path: [[time, value], ...]}}."""
    project.mkdir(parents=True)
    (project / "project.godot").write_text('config_version=4\n\n[application]\nconfig/name="probe"\n')
    (project / "probe.gd").write_text(GODOT_PROBE)
    for path in files:
        shutil.copy(path, project / path.name)
    _godot_import(project, len(files))
    result = subprocess.run([*GODOT, "--path", str(project), "-s", "probe.gd", ",".join(p.name for p in files)],
                            capture_output=True, text=True, timeout=300, env=GODOT_ENV)
    line = next((x for x in result.stdout.splitlines() if x.startswith("RESULT")), None)
    assert line is not None, (result.stdout + result.stderr)[-2000:]
    return json.loads(line[len("RESULT"):])


def _godot_import(project: Path, count: int, limit: float = 300) -> None:
    """The editor's import of every file in the project: Godot 3.2.3's editor does not exit after `--quit`
    once it has imported (it spins in its shutdown), so it is stopped when every file's import is written."""
    editor = subprocess.Popen([*GODOT, "--path", str(project), "-e", "--quit"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=GODOT_ENV)
    start = time.monotonic()
    try:
        while len(list(project.glob(".import/*.md5"))) < count:
            assert editor.poll() is None or len(list(project.glob(".import/*.md5"))) >= count, "Godot's import failed"
            assert time.monotonic() - start < limit, "Godot's import took too long"
            time.sleep(0.2)
    finally:
        editor.kill()
        editor.wait()


def assimp_morphs(path: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, tuple]]:
    """Assimp's reading of the file's `meshsync` animation, straight from the C structures (pyassimp's own
    wrapping fails on skinned meshes): per morphed mesh name, key times in seconds and the weights (keys,
    targets); per animated node, key times and rotations (keys, 4) as x, y, z, w."""
    from pyassimp.core import _assimp_lib

    pointer = _assimp_lib.load(str(path).encode(), 0)
    assert pointer, f"Assimp could not import {path}"
    try:
        scene = pointer.contents
        animations = [scene.mAnimations[a].contents for a in range(scene.mNumAnimations)]
        animation = next(a for a in animations if a.mName.data == b"meshsync")
        ticks = animation.mTicksPerSecond
        morphs = {}
        for c in range(animation.mNumMorphMeshChannels):
            channel = animation.mMorphMeshChannels[c].contents
            keys = [channel.mKeys[k] for k in range(channel.mNumKeys)]
            weights = np.zeros((len(keys), max(key.mNumValuesAndWeights for key in keys)))
            for k, key in enumerate(keys):
                for i in range(key.mNumValuesAndWeights):
                    weights[k, key.mValues[i]] = key.mWeights[i]
            morphs[channel.mName.data.decode()] = np.array([key.mTime for key in keys]) / ticks, weights
        turns = {}
        for c in range(animation.mNumChannels):
            channel = animation.mChannels[c].contents
            keys = [channel.mRotationKeys[k] for k in range(channel.mNumRotationKeys)]
            turns[channel.mNodeName.data.decode()] = (
                np.array([key.mTime for key in keys]) / ticks,
                np.array([[key.mValue.x, key.mValue.y, key.mValue.z, key.mValue.w] for key in keys]))
        return morphs, turns
    finally:
        _assimp_lib.release(pointer)
