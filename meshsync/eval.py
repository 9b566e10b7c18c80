"""Lip-sync quality measured on a head's geometry, against ground-truth phone timings.

The curves are applied to the avatar's landmarks (by default meshsync's head) and each frame gives:
  lip gap     distance between `upperLipInner` and `lowerLipInner`;
  contact     the lower lip on the upper teeth, as in f and v: `lowerLipInner` at or above the upper incisal
              edge (`upperTeethEdge`), at most CONTACT mm in front of it, with the lips parted;
  protrusion  how far the lips' midpoint moves forward of rest (rounding: uw, ow, w);
  displacement the largest movement of a mouth landmark from rest (eyes and gaze are not the mouth).
From those, per clip: closure, labiodental, rounding and rest rates, sync lag and jitter (see `Scores`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .align import SILENCE, Segment
from .animate import Curves
from .avatar import Avatar
from .phones import base, to_ipa

WINDOW = 0.02  # s: a phone's event may happen this much before its start or after its end
CLOSED = 1.0  # mm: lip gap of sealed lips
CONTACT = 1.0  # mm: the lower lip's inner edge at most this far in front of the upper incisal edge
APART = 1.0  # mm: and the lips parted (sealed lips are a closure, not a labiodental)
ROUNDED = 2.0  # mm of protrusion: clearly rounded
REST = 1.0  # mm: every mouth landmark within this of rest
NOT_MOUTH = ("eyeLeft", "eyeRight")  # landmarks that move with the gaze, not the mouth
PAUSE = 0.25  # s: silences at least this long must reach rest
MAX_LAG = 0.3  # s: sync lag searched in +-MAX_LAG
CHATTER = 0.5  # mm: a reversal of the lip gap smaller than this, on both sides, is chatter ...
STILL = 0.1  # mm: ... unless a side moves less than this (a fifth of a pixel in a 720p portrait: invisible)

# The phonetic classes the scores test, in IPA without marks (ARPAbet is read as IPA; meshsync.phones):
# phones made by closing the lips, by the lower lip on the teeth, and rounded ones.
BILABIALS, LABIODENTALS = {"p", "b", "m", "pf"}, {"f", "v"}
ROUNDED_PHONES = {"u", "oʊ", "w", "y", "o", "ø", "ɥ"}
# Ground-truth openness per phone for the sync lag: vowel height, then consonants nearly closed. A phone not
# listed is looked up by its first symbol (a diphthong by its start), else it is a consonant.
OPENNESS = {**dict.fromkeys(["ɑ", "æ", "ʌ", "ɔ", "aʊ", "aɪ", "a", "ɒ", "ɐ"], 1.0),
            **dict.fromkeys(["ɛ", "eɪ", "oʊ", "ɔɪ", "ɝ", "e", "o", "ø", "œ", "ə", "ɜ"], 0.7),
            **dict.fromkeys(["ɪ", "i", "ʊ", "u", "y", "ʏ", "ɨ", "ɯ"], 0.45),
            **dict.fromkeys(["w", "j", "ɹ", "l", "h", "r", "ɾ", "ʁ", "ʋ", "ɥ"], 0.3),
            **dict.fromkeys(["p", "b", "m", SILENCE], 0.0)}
CONSONANT_OPENNESS = 0.2


@dataclass
class Measures:
    """Per-frame measurements of the mouth in millimetres."""

    gap: np.ndarray
    lip_over_teeth: np.ndarray  # height of the lower lip's inner edge above the upper incisal edge
    lip_before_teeth: np.ndarray  # how far it is in front of that edge
    protrusion: np.ndarray
    displacement: np.ndarray


@dataclass
class Scores:
    """Counts of phones (or pauses) that passed out of those tested; lag in ms; jitter in reversals per second."""

    closure: list[int] = field(default_factory=lambda: [0, 0])
    labiodental: list[int] = field(default_factory=lambda: [0, 0])
    rounding: list[int] = field(default_factory=lambda: [0, 0])
    rest: list[int] = field(default_factory=lambda: [0, 0])
    lags: list[float] = field(default_factory=list)
    jitter: list[float] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)  # "closure P at 1.23 s" for every failure

    def add(self, other: Scores) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in ("lags", "jitter", "misses"):
                mine.extend(theirs)
            else:
                mine[0] += theirs[0]
                mine[1] += theirs[1]

    def rate(self, name: str) -> float:
        passed, total = getattr(self, name)
        return passed / total if total else float("nan")

    def summary(self) -> str:
        rates = "  ".join(f"{name} {self.rate(name):6.1%} ({getattr(self, name)[0]}/{getattr(self, name)[1]})"
                          for name in ("closure", "labiodental", "rounding", "rest"))
        lags = np.array(self.lags)
        return (f"{rates}  lag median {np.median(lags):+.0f} ms (range {lags.min():+.0f}..{lags.max():+.0f})  "
                f"jitter {np.mean(self.jitter):.2f}/s")


def measure(curves: Curves, avatar: Avatar) -> Measures:
    """Landmark measurements for every frame of `curves` on `avatar`."""
    mesh = avatar.landmark_mesh
    if mesh is None:
        raise ValueError(f"{avatar.path} has no meshsync landmarks to measure lips with")
    lookup = {name.lower(): i for i, name in enumerate(curves.names)}
    columns = [lookup.get(name.lower()) for name in mesh.target_names]
    weights = np.zeros((curves.frames, len(columns)), dtype=np.float32)
    for j, column in enumerate(columns):
        if column is not None:
            weights[:, j] = curves.values[:, column]
    shape = mesh.primitives[0].geometry
    names = list(mesh.landmarks)
    index = [mesh.landmarks[n] for n in names]
    base = shape.positions[index]  # (L, 3)
    deltas = shape.target_positions[:, index]  # (T, L, 3)
    local = base + np.einsum("ft,tlc->flc", weights, deltas)
    world = (local @ mesh.matrix[:3, :3].T + mesh.matrix[:3, 3]) * 1000.0  # mm
    rest = base @ mesh.matrix[:3, :3].T * 1000.0 + mesh.matrix[:3, 3] * 1000.0
    point = {name: world[:, i] for i, name in enumerate(names)}
    mouth = [i for i, name in enumerate(names) if name not in NOT_MOUTH]
    lips = (point["upperLipInner"] + point["lowerLipInner"]) / 2
    lips_rest = (rest[names.index("upperLipInner")] + rest[names.index("lowerLipInner")]) / 2
    return Measures(
        gap=np.linalg.norm(point["upperLipInner"] - point["lowerLipInner"], axis=1),
        lip_over_teeth=(point["lowerLipInner"] - point["upperTeethEdge"])[:, 1],
        lip_before_teeth=(point["lowerLipInner"] - point["upperTeethEdge"])[:, 2],
        protrusion=lips[:, 2] - lips_rest[2],
        displacement=np.linalg.norm(world - rest, axis=2)[:, mouth].max(axis=1),
    )


def evaluate(curves: Curves, phones: list[Segment], avatar: Avatar) -> Scores:
    """Scores of `curves` against the true `phones` of the same clip."""
    g = measure(curves, avatar)
    times = curves.times
    scores = Scores()

    def check(name: str, phone: Segment, passed: np.ndarray, start: float, end: float) -> None:
        lo, hi = np.searchsorted(times, [start, end], side="left")
        ok = bool(passed[lo:max(hi, lo + 1)].any())
        counts = getattr(scores, name)
        counts[0] += ok
        counts[1] += 1
        if not ok:
            scores.misses.append(f"{name} {phone.label} at {phone.start:.2f} s")

    closed = g.gap <= CLOSED
    touching = (g.lip_over_teeth >= 0) & (g.lip_before_teeth <= CONTACT) & (g.gap >= APART)
    rounded = g.protrusion >= ROUNDED
    resting = (g.displacement <= REST) & closed
    for phone in phones:
        window = (phone.start - WINDOW, phone.end + WINDOW)
        ipa = base(to_ipa(phone.label))
        if ipa in BILABIALS:
            check("closure", phone, closed, *window)
        elif ipa in LABIODENTALS:
            check("labiodental", phone, touching, *window)
        elif ipa in ROUNDED_PHONES:
            check("rounding", phone, rounded, *window)
        elif phone.label == SILENCE and phone.end - phone.start >= PAUSE:
            check("rest", phone, resting, phone.start, phone.end)
    scores.lags.append(sync_lag(g.gap, phones, curves.fps))
    scores.jitter.append(jitter(g.gap, curves.fps))
    return scores


def openness(phones: list[Segment], times: np.ndarray) -> np.ndarray:
    """The ground-truth openness signal: each phone's openness over its time."""
    starts = np.array([p.start for p in phones])
    values = np.array([_openness(p.label) for p in phones])
    index = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(phones) - 1)
    return values[index]


def _openness(label: str) -> float:
    ipa = base(to_ipa(label))
    return OPENNESS.get(ipa, OPENNESS.get(ipa[:1], CONSONANT_OPENNESS))


def sync_lag(gap: np.ndarray, phones: list[Segment], fps: float) -> float:
    """Milliseconds by which the lip gap trails the true openness (negative: the mouth leads the sound)."""
    truth = openness(phones, np.arange(len(gap)) / fps)
    a, b = gap - gap.mean(), truth - truth.mean()
    shifts = np.arange(-int(MAX_LAG * fps), int(MAX_LAG * fps) + 1)
    corr = np.array([_overlap_corr(a, b, k) for k in shifts])
    best = int(np.argmax(corr))
    offset = 0.0
    if 0 < best < len(corr) - 1:  # parabola through the peak: sub-frame resolution
        left, mid, right = corr[best - 1:best + 2]
        denominator = left - 2 * mid + right
        offset = 0.5 * (left - right) / denominator if denominator else 0.0
    return float((shifts[best] + offset) / fps * 1000.0)


def _overlap_corr(a: np.ndarray, b: np.ndarray, shift: int) -> float:
    """Correlation of a[t] with b[t - shift] over their overlap."""
    if shift >= 0:
        x, y = a[shift:], b[:len(b) - shift]
    else:
        x, y = a[:shift], b[-shift:]
    denominator = np.linalg.norm(x) * np.linalg.norm(y)
    return float(x @ y / denominator) if denominator else 0.0


def jitter(gap: np.ndarray, fps: float) -> float:
    """Chatter per second: turning points of the lip gap whose movement on both sides is visible (at least
    STILL mm) but brief (under CHATTER mm): the flicker viewers call jitter."""
    step = np.diff(gap)
    moving = step[np.abs(step) > 1e-4]
    if len(moving) < 3:
        return 0.0
    direction = np.sign(moving)
    runs = np.split(moving, np.flatnonzero(np.diff(direction)) + 1)
    sizes = np.array([abs(run.sum()) for run in runs])
    flicker = (sizes >= STILL) & (sizes < CHATTER)
    small = flicker[:-1] & flicker[1:]
    return float(small.sum() / (len(gap) / fps))


def mouth_box(avatar: Avatar, camera, width: int, height: int, margin: float = 0.0) -> tuple[slice, slice]:
    """Rows from the nose tip down to the chin and columns between the mouth corners (widened by `margin`
    of that width on each side) of the rest pose, in a width x height image from `camera`."""
    points = avatar.landmark_points()
    (left, _), (right, _), (_, top), (_, bottom) = camera.project(
        np.array([points[n] for n in ("mouthCornerLeft", "mouthCornerRight", "noseTip", "chin")]), width, height)
    left, right = sorted([left, right])
    extra = margin * (right - left)
    return slice(int(top), int(bottom)), slice(int(left - extra), int(right + extra))


def open_mouth_pixels(image: np.ndarray) -> int:
    """Pixels of an open mouth in an RGB image: its dark inside, or the teeth (bright and grey, unlike skin
    and lips). Counted in the mouth box of a rendered frame, it follows the lip gap."""
    rgb = image.astype(int)
    dark = rgb.sum(axis=2) < 3 * 60
    teeth = (rgb.min(axis=2) >= 150) & (rgb.max(axis=2) - rgb.min(axis=2) <= 40)
    return int((dark | teeth).sum())
