"""meshsync.avatar: what a glTF file holds comes out intact; broken or hostile files give one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from consumers import glb_parts
from gltf_factory import (
    LIFT,
    POSITIONS,
    PUSH_VALUES,
    TARGET_NAMES,
    TEXCOORDS,
    quad_document,
    quad_glb,
    skinned_quad_glb,
    write_glb,
    write_gltf,
)

from meshsync.avatar import GltfError, load_avatar

REPO = Path(__file__).resolve().parent.parent


def test_quad_round_trip(tmp_path):
    avatar = load_avatar(quad_glb(tmp_path / "quad.glb"))
    (mesh,) = avatar.meshes
    geometry = mesh.primitives[0].geometry
    assert mesh.target_names == TARGET_NAMES
    np.testing.assert_array_equal(geometry.positions, POSITIONS)  # read through an interleaved view
    np.testing.assert_array_equal(geometry.texcoords, TEXCOORDS)
    np.testing.assert_array_equal(geometry.target_positions[0], LIFT)
    expected_push = np.zeros((4, 3), np.float32)
    expected_push[[0, 1]] = PUSH_VALUES
    np.testing.assert_array_equal(geometry.target_positions[1], expected_push)  # sparse accessor
    np.testing.assert_array_equal(mesh.primitives[0].indices, [[0, 1, 2], [0, 2, 3]])
    np.testing.assert_array_equal(mesh.matrix[:3, 3], [0, 1, 0])
    assert mesh.landmarks == {"corner": 2}
    texture = avatar.materials[0].texture.pixels
    assert texture.shape == (1, 2, 4)
    assert tuple(texture[0, 0, :3]) == (255, 0, 0) and tuple(texture[0, 1, :3]) == (0, 255, 0)


def test_blend_and_landmarks_follow_the_pose(tmp_path):
    avatar = load_avatar(quad_glb(tmp_path / "quad.glb"))
    geometry = avatar.meshes[0].primitives[0].geometry
    positions, _ = geometry.blend(np.array([0.5, 1.0], np.float32))
    np.testing.assert_allclose(positions[2], POSITIONS[2] + 0.5 * LIFT[2])
    np.testing.assert_allclose(positions[1], POSITIONS[1] + PUSH_VALUES[1])
    # landmarks are in world space: the node lifts the quad by 1 m
    np.testing.assert_allclose(avatar.landmark_points({"lift": 1.0})["corner"], [0.5, 1.75, 0.0])


def test_gltf_with_buffer_beside_it(tmp_path):
    doc, blob = quad_document()
    avatar = load_avatar(write_gltf(tmp_path / "quad.gltf", doc, blob))
    np.testing.assert_array_equal(avatar.meshes[0].primitives[0].geometry.positions, POSITIONS)


def test_skinned_mesh_is_placed_by_its_joints(tmp_path):
    avatar = load_avatar(skinned_quad_glb(tmp_path / "skinned.glb", bind_pose=False))
    (mesh,) = avatar.meshes
    assert [j.name for j in avatar.joints] == ["root", "jaw"]
    assert [j.parent for j in avatar.joints] == [None, 0]
    np.testing.assert_allclose(avatar.joints[1].matrix[:3, 3], [1, 0, 2])
    np.testing.assert_array_equal(mesh.matrix, np.eye(4))  # the skinned node's own lift is ignored
    geometry = mesh.primitives[0].geometry
    np.testing.assert_allclose(geometry.positions[:2], POSITIONS[:2] + [0, 0, 2])
    np.testing.assert_allclose(geometry.positions[2:], POSITIONS[2:] + [0.5, 0, 2])
    np.testing.assert_allclose(geometry.target_positions[0], LIFT)  # translations leave deltas alone


def test_skinned_mesh_in_its_bind_pose_stays_put(tmp_path):
    avatar = load_avatar(skinned_quad_glb(tmp_path / "bind.glb", bind_pose=True))
    np.testing.assert_allclose(avatar.meshes[0].primitives[0].geometry.positions, POSITIONS, atol=1e-6)


def _outside_secret(tmp_path: Path) -> Path:
    """A folder for the avatar, and a file next to that folder that must never be read."""
    (tmp_path / "avatar").mkdir()
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\0" * 4096)
    return tmp_path / "avatar"


def _set_buffer_uri(uri):
    def mutate(doc):
        doc["buffers"][0]["uri"] = uri
    return mutate


def _set(path, value):
    """A mutation that sets doc[path[0]][path[1]]... = value."""
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


HOSTILE = {
    # name: (mutation of the quad's JSON, words the message must contain)
    "parent-uri": (_set_buffer_uri("../secret.bin"), "outside the avatar's folder"),
    "encoded-parent-uri": (_set_buffer_uri("%2e%2e/secret.bin"), "outside the avatar's folder"),
    "absolute-uri": (_set_buffer_uri("/etc/passwd"), "not a relative path"),
    "file-scheme-uri": (_set_buffer_uri("file:///etc/passwd"), "not a relative path"),
    "missing-buffer": (_set_buffer_uri("gone.bin"), "missing"),
    "image-outside": (_set(["images", 0], {"uri": "../secret.bin"}), "outside the avatar's folder"),
    "accessor-index": (_set(["meshes", 0, "primitives", 0, "attributes", "POSITION"], 99), "accessor index 99"),
    "accessor-past-view": (_set(["accessors", 0, "count"], 1000), "past the end"),
    "view-past-buffer": (_set(["bufferViews", 0, "byteLength"], 10**6), "outside its buffer"),
    "buffer-index": (_set(["bufferViews", 0, "buffer"], 7), "buffer index 7"),
    "sparse-index": (_set(["accessors", 5, "count"], 1), "sparse index out of range"),
    "node-cycle": (_set(["nodes", 0, "children"], [0]), "appears twice"),
    "landmark-index": (_set(["meshes", 0, "extras", "meshsync.landmarks"], {"corner": 40}), "landmarks"),
    "target-names": (_set(["meshes", 0, "extras", "targetNames"], ["only-one"]), "targetNames"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_glb_gives_one_clear_line(tmp_path, case):
    mutate, words = HOSTILE[case]
    folder = _outside_secret(tmp_path)
    path = quad_glb(folder / "bad.glb", mutate)
    with pytest.raises(GltfError) as error:
        load_avatar(path)
    message = str(error.value)
    assert words in message and "\n" not in message and str(path) in message


def test_vertex_index_out_of_range(tmp_path):
    doc, blob = quad_document()
    blob = bytearray(blob)
    start = doc["bufferViews"][2]["byteOffset"]
    blob[start:start + 2] = (40).to_bytes(2, "little")  # first index -> vertex 40 of 4
    with pytest.raises(GltfError, match="vertex index 40 out of range"):
        load_avatar(write_glb(tmp_path / "bad.glb", doc, bytes(blob)))


def test_symlink_out_of_the_folder_is_refused(tmp_path):
    folder = _outside_secret(tmp_path)
    (folder / "link.bin").symlink_to(tmp_path / "secret.bin")
    doc, _ = quad_document()
    doc["buffers"][0]["uri"] = "link.bin"
    (folder / "bad.gltf").write_text(json.dumps(doc))
    with pytest.raises(GltfError, match="outside the avatar's folder"):
        load_avatar(folder / "bad.gltf")


@pytest.mark.parametrize("content", [b"", b"hello, not a model", b"\x89PNG\r\n\x1a\n" + bytes(100),
                                     b'{"meshes": []}', b"glTF\x02\x00\x00\x00\xff\xff\x00\x00JSON"])
def test_not_gltf_at_all(tmp_path, content):
    path = tmp_path / "x.glb"
    path.write_bytes(content)
    with pytest.raises(GltfError) as error:
        load_avatar(path)
    assert "\n" not in str(error.value)


def test_cli_reports_hostile_file_without_traceback(tmp_path):
    folder = _outside_secret(tmp_path)
    path = quad_glb(folder / "bad.glb", _set_buffer_uri("../secret.bin"))
    result = subprocess.run([sys.executable, "-m", "meshsync.cli", "inspect", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("meshsync: error:") and "outside" in lines[0]
    assert "Traceback" not in result.stderr


def test_nothing_outside_the_folder_is_opened(tmp_path):
    """Python's audit hook sees every file the loader opens: none may lie outside the avatar's folder."""
    folder = _outside_secret(tmp_path)
    paths = [quad_glb(folder / f"{case}.glb", HOSTILE[case][0])
             for case in ("parent-uri", "encoded-parent-uri", "absolute-uri", "file-scheme-uri", "image-outside")]
    (folder / "link.bin").symlink_to(tmp_path / "secret.bin")
    doc, _ = quad_document()
    doc["buffers"][0]["uri"] = "link.bin"
    (folder / "link.gltf").write_text(json.dumps(doc))
    paths.append(folder / "link.gltf")
    script = textwrap.dedent("""
        import json, os, sys
        opened = []
        def hook(event, args):
            if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
                opened.append(os.path.realpath(os.fsdecode(args[0])))
        from meshsync.avatar import GltfError, load_avatar
        sys.addaudithook(hook)
        for path in sys.argv[1:]:
            try:
                load_avatar(path)
            except GltfError:
                pass
        print(json.dumps(opened))
    """)
    result = subprocess.run([sys.executable, "-c", script, *map(str, paths)], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    opened = json.loads(result.stdout)
    assert opened, "the audit hook saw no file opened at all"
    folder_real = os.path.realpath(folder)
    assert all(p.startswith(folder_real + os.sep) for p in opened), opened


def test_skin_naming_a_missing_joint(tmp_path):
    path = skinned_quad_glb(tmp_path / "skinned.glb", bind_pose=False)
    doc, blob = glb_parts(path)
    doc["skins"][0]["joints"] = [1]
    with pytest.raises(GltfError, match="names joint 1; the skin has 1"):
        load_avatar(write_glb(tmp_path / "bad.glb", doc, blob))
