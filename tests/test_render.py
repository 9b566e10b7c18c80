"""meshsync.render on the default head and on a textured quad: determinism, mouth interior, textures, AA, a
jaw bone, and the pose sheet (`meshsync poses`)."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import meshsync
from gltf_factory import quad_glb
from PIL import Image

from meshsync.avatar import load_avatar
from meshsync.errors import UserError
from meshsync.eval import mouth_box as eval_mouth_box
from meshsync.render import Camera, Renderer
from meshsync.render.sheet import COLUMNS, LABEL_HEIGHT, SHEET_POSES, pose_sheet, viseme_poses
from meshsync.rig import jaw_joint, joint_moves
from meshsync.visemes import load_table

WIDTH, HEIGHT = 640, 480


@pytest.fixture(scope="module")
def renderer(head):
    with Renderer(head, WIDTH, HEIGHT) as r:
        yield r


def mouth_box(renderer: Renderer, head) -> tuple[slice, slice]:
    """Rows and columns between the mouth corners, from the nose tip down to the chin, at rest."""
    return eval_mouth_box(head, renderer.camera, WIDTH, HEIGHT)


def dark_pixels(image: np.ndarray) -> int:
    return int((image.astype(int).sum(axis=2) < 3 * 60).sum())


def test_same_pose_gives_identical_pixels(head, renderer):
    pose = {"jawOpen": 0.6, "mouthFunnel": 0.3, "eyeBlinkLeft": 0.5}
    first = renderer.render(pose).copy()
    renderer.render({"mouthSmileLeft": 1.0})
    assert np.array_equal(renderer.render(pose), first)
    with Renderer(head, WIDTH, HEIGHT) as other:
        assert np.array_equal(other.render(pose), first)


def test_open_jaw_shows_the_mouth_interior(head, renderer):
    rows, cols = mouth_box(renderer, head)
    neutral = dark_pixels(renderer.render({})[rows, cols])
    open_jaw = dark_pixels(renderer.render({"jawOpen": 1.0})[rows, cols])
    assert open_jaw > neutral + 300, (neutral, open_jaw)


def test_different_poses_give_different_mouths(head, renderer):
    rows, cols = mouth_box(renderer, head)
    shapes = [renderer.render(pose)[rows, cols].astype(int) for pose in
              ({}, {"mouthFunnel": 1.0}, {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0})]
    for a in range(3):
        for b in range(a + 1, 3):
            assert np.abs(shapes[a] - shapes[b]).mean() > 2.0


def test_face_is_framed(head, renderer):
    points = head.landmark_points()
    px = renderer.camera.project(np.array(list(points.values())), WIDTH, HEIGHT)
    assert (px[:, 0] > 0).all() and (px[:, 0] < WIDTH).all() and (px[:, 1] > 0).all() and (px[:, 1] < HEIGHT).all()
    eyes_to_chin = px[list(points).index("chin"), 1] - px[list(points).index("eyeLeft"), 1]
    assert 0.25 * HEIGHT < eyes_to_chin < 0.45 * HEIGHT
    image = renderer.render({})
    # the skin is lit: the pixel at the nose tip is warm, and at least as bright as the skin's own colour
    x, y = px[list(points).index("noseTip")].astype(int)
    r, g, b = image[y, x].astype(int)
    skin = next(m for m in head.materials if m.name == "skin").base_color[0] ** (1 / 2.2) * 255  # sRGB red
    assert r > 0.9 * skin and r > g > b


def test_base_colour_texture_is_honoured(tmp_path):
    quad = load_avatar(quad_glb(tmp_path / "quad.glb"))
    camera = Camera(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 0.0]), 40.0)
    with Renderer(quad, 64, 64, camera=camera) as r:
        image = r.render({}).astype(int)
    left, right = image[32, 20], image[32, 44]  # the texture is red on the left, green on the right
    assert left[0] > left[1] + 60 and right[1] > right[0] + 60


def test_supersampling_softens_edges_only(head):
    with Renderer(head, WIDTH, HEIGHT) as plain, Renderer(head, WIDTH, HEIGHT, aa=2.0) as smooth:
        a, b = plain.render({}).astype(int), smooth.render({}).astype(int)
    assert a.shape == b.shape == (HEIGHT, WIDTH, 3)
    difference = np.abs(a - b).sum(axis=2)
    assert difference.mean() < 3  # the same picture
    assert (difference > 30).sum() > 200  # but edges differ


@pytest.mark.parametrize("size,aa", [((8, 8), 1.0), ((10000, 100), 1.0), ((64, 64), 0.5), ((64, 64), 9.0)])
def test_bad_sizes_are_user_errors(head, size, aa):
    with pytest.raises(UserError):
        Renderer(head, *size, aa=aa)


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


def test_poses_visemes_draws_one_close_up_per_viseme(tmp_path):
    out = tmp_path / "visemes.png"
    result = meshsync("poses", "--visemes", "-o", str(out), "--aa", "1")
    assert result.returncode == 0, result.stderr
    labels = [label for label, _ in viseme_poses()]
    assert len(labels) == len(load_table().visemes) and "PP: p b m β" in labels and "TH: θ ð" in labels
    with Image.open(out) as image:
        assert image.size == (COLUMNS * 360, -(-len(labels) // COLUMNS) * (400 + LABEL_HEIGHT))


def test_the_tongue_tip_shows_between_the_teeth_for_th(head):
    th = dict(load_table().visemes["TH"].weights)
    without = {name: weight for name, weight in th.items() if name != "tongueOut"}
    sheet = np.asarray(pose_sheet(head, aa=1, poses=(("th", th), ("no tongue", without)), camera="closeup"))
    shown, hidden = sheet[:400, :360].astype(int), sheet[:400, 360:720].astype(int)
    changed = np.abs(shown - hidden).sum(axis=2) > 60
    assert changed.sum() > 100, changed.sum()  # the tongue shows (the old pose, tongueOut 0.35 at jaw 0.12: none)


def test_poses_on_an_avatar_without_arkit_names_marks_them(tmp_path):
    out = tmp_path / "quad.png"
    result = meshsync("poses", "--avatar", str(quad_glb(tmp_path / "quad.glb")), "-o", str(out), "--aa", "1")
    assert result.returncode == 0, result.stderr
    assert out.exists()


def test_renderer_turns_a_jaw_bone_and_what_it_carries(avatars):
    avatar = load_avatar(avatars["jaw"])
    jaw = jaw_joint(avatar)
    assert jaw is not None and jaw.name == "Jaw"
    with Renderer(avatar, 320, 180) as renderer:
        rest = renderer.render({}).astype(int)
        opened = renderer.render_rgba({}, None, None, joint_moves(avatar, jaw, np.radians(15)))[:, :, :3].astype(int)
    chin, eyes = (slice(138, 165), slice(140, 181)), (slice(60, 90), slice(120, 200))
    assert np.abs(opened[chin] - rest[chin]).mean() > 5  # the chin dropped: skin weighted to the jaw moved
    assert np.abs(opened[eyes] - rest[eyes]).max() <= 4  # the upper face did not
