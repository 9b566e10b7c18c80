"""Lip-sync quality measured on a head's geometry, against ground-truth phone timings.

The curves are applied to the avatar's landmarks (by default meshsync's head) and each frame gives:
  lip gap     distance between `upperLipInner` and `lowerLipInner`;
  contact     the lower lip on the upper teeth, as in f and v: `lowerLipInner` at or above the upper incisal
              edge (`upperTeethEdge`), at most CONTACT mm in front of it, with the lips parted;
  protrusion  how far the lips' midpoint moves forward of rest (rounding: uw, ow, w);
  width       distance between the mouth corners, against rest (spread vowels widen it, rounded ones narrow it);
  jaw drop    how far the chin moves down from rest;
  displacement the largest movement of a mouth landmark from rest (eyes and gaze are not the mouth).
From those, per clip: closure, labiodental, rounding and rest rates, open vowels sealed by mistake (lips
closed at the middle of an open vowel of SEALED_MIN or longer), sync lag and chatter, and the articulation
of each vowel (its peak lip gap by vowel class, its width, protrusion and jaw drop; see `Scores`), to compare
with real speakers' figures (docs/articulation.md).
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
SEALED_MIN = 0.08  # s: open vowels this long are seen open; shorter ones may vanish into a neighbouring p/b/m
MAX_LAG = 0.3  # s: sync lag searched in +-MAX_LAG
CHATTER = 1.0  # mm: a swing of the lip gap smaller than this, between turning points on both sides, is chatter ...
STILL = 0.05  # mm: ... unless a side moves less than this (a tenth of a pixel in a 720p portrait: invisible)

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
# Vowel classes of the articulation figures, by the openness above; spread and rounded vowels for the width.
VOWEL_CLASSES = {"open": 1.0, "mid": 0.7, "close": 0.45}
SPREAD_VOWELS = {"i", "ɪ", "e", "eɪ", "ɛ"}
ROUNDED_VOWELS = {"u", "ʊ", "oʊ", "o", "y", "ø", "ʏ"}


@dataclass
class Measures:
    """Per-frame measurements of the mouth in millimetres."""

    gap: np.ndarray
    lip_over_teeth: np.ndarray  # height of the lower lip's inner edge above the upper incisal edge
    lip_before_teeth: np.ndarray  # how far it is in front of that edge
    protrusion: np.ndarray
    width: np.ndarray  # mouth corner to corner, as a share of rest (1: rest)
    jaw_drop: np.ndarray
    displacement: np.ndarray


RATES = ("closure", "labiodental", "rounding", "rest")
COUNTS = RATES + ("sealed",)  # the [count, out of] pairs of Scores, summed when clips are added


@dataclass
class Scores:
    """Counts of phones (or pauses) that passed out of those tested; lag in ms; chatter in swings per second;
    per vowel (in mm, or for widths a share of rest) its peak lip gap by class, width, protrusion, jaw drop."""

    closure: list[int] = field(default_factory=lambda: [0, 0])
    labiodental: list[int] = field(default_factory=lambda: [0, 0])
    rounding: list[int] = field(default_factory=lambda: [0, 0])
    rest: list[int] = field(default_factory=lambda: [0, 0])
    sealed: list[int] = field(default_factory=lambda: [0, 0])  # open vowels (SEALED_MIN+) closed at their middle
    lags: list[float] = field(default_factory=list)
    jitter: list[float] = field(default_factory=list)
    open_gap: list[float] = field(default_factory=list)
    mid_gap: list[float] = field(default_factory=list)
    close_gap: list[float] = field(default_factory=list)
    spread_width: list[float] = field(default_factory=list)  # widest, against rest: +0.05 is 5 % wider
    rounded_width: list[float] = field(default_factory=list)  # narrowest, against rest: -0.2 is 20 % narrower
    protrusion: list[float] = field(default_factory=list)  # rounded vowels' most forward lips
    jaw_drop: list[float] = field(default_factory=list)  # open vowels' lowest chin
    misses: list[str] = field(default_factory=list)  # "closure P at 1.23 s" for every failure

    def add(self, other: Scores) -> None:
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name in COUNTS:
                mine[0] += theirs[0]
                mine[1] += theirs[1]
            else:
                mine.extend(theirs)

    def rate(self, name: str) -> float:
        passed, total = getattr(self, name)
        return passed / total if total else float("nan")

    def median(self, name: str) -> float:
        values = getattr(self, name)
        return float(np.median(values)) if values else float("nan")

    def summary(self) -> str:
        rates = "  ".join(f"{name} {self.rate(name):6.1%} ({getattr(self, name)[0]}/{getattr(self, name)[1]})"
                          for name in RATES)
        lags = np.array(self.lags)
        sealed = f"sealed open vowels {self.rate('sealed'):.1%} ({self.sealed[0]}/{self.sealed[1]})"
        return (f"{rates}  {sealed}  lag median {np.median(lags):+.0f} ms "
                f"(range {lags.min():+.0f}..{lags.max():+.0f})  "
                f"chatter {np.mean(self.jitter):.2f}/s\n{'':15s}{self.articulation()}")

    def articulation(self) -> str:
        """The articulation figures: medians over the vowels."""
        return (f"lip gap open {self.median('open_gap'):.1f} mm, mid {self.median('mid_gap'):.1f}, close "
                f"{self.median('close_gap'):.1f}  width spread {self.median('spread_width'):+.0%}, rounded "
                f"{self.median('rounded_width'):+.0%}  protrusion {self.median('protrusion'):.1f} mm  "
                f"jaw drop (open) {self.median('jaw_drop'):.1f} mm")


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
    at_rest = {name: rest[i] for i, name in enumerate(names)}
    lips = (point["upperLipInner"] + point["lowerLipInner"]) / 2
    lips_rest = (at_rest["upperLipInner"] + at_rest["lowerLipInner"]) / 2
    width = np.linalg.norm(point["mouthCornerLeft"] - point["mouthCornerRight"], axis=1)
    return Measures(
        gap=np.linalg.norm(point["upperLipInner"] - point["lowerLipInner"], axis=1),
        lip_over_teeth=(point["lowerLipInner"] - point["upperTeethEdge"])[:, 1],
        lip_before_teeth=(point["lowerLipInner"] - point["upperTeethEdge"])[:, 2],
        protrusion=lips[:, 2] - lips_rest[2],
        width=width / np.linalg.norm(at_rest["mouthCornerLeft"] - at_rest["mouthCornerRight"]),
        jaw_drop=at_rest["chin"][1] - point["chin"][:, 1],
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
        _articulation(scores, g, ipa, np.searchsorted(times, window))
        if _vowel_class(ipa) == "open" and phone.end - phone.start >= SEALED_MIN:
            middle = min(int(np.searchsorted(times, (phone.start + phone.end) / 2)), len(times) - 1)
            scores.sealed[0] += bool(closed[middle])
            scores.sealed[1] += 1
    scores.lags.append(sync_lag(g.gap, phones, curves.fps))
    scores.jitter.append(jitter(g.gap, curves.fps))
    return scores


def _articulation(scores: Scores, g: Measures, ipa: str, frames) -> None:
    """A vowel's peaks over its frames: lip gap by class, width, protrusion and jaw drop."""
    lo, hi = frames[0], max(frames[1], frames[0] + 1)
    kind = _vowel_class(ipa)
    if kind is None or lo >= len(g.gap):
        return
    getattr(scores, f"{kind}_gap").append(float(g.gap[lo:hi].max()))
    if kind == "open":
        scores.jaw_drop.append(float(g.jaw_drop[lo:hi].max()))
    if ipa in SPREAD_VOWELS:
        scores.spread_width.append(float(g.width[lo:hi].max() - 1))
    if ipa in ROUNDED_VOWELS:
        scores.rounded_width.append(float(g.width[lo:hi].min() - 1))
        scores.protrusion.append(float(g.protrusion[lo:hi].max()))


def _vowel_class(ipa: str) -> str | None:
    """open, mid or close for a vowel (by OPENNESS); None for anything else."""
    return next((name for name, value in VOWEL_CLASSES.items() if value == OPENNESS.get(ipa)), None)


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
    """Pixels of an open mouth in an RGB image: its dark inside (a quarter as bright as the box's skin and lips,
    whatever the skin tone), or the teeth (bright and grey, unlike skin and lips). Counted in the mouth box
    of a rendered frame, it follows the lip gap."""
    rgb = image.astype(int)
    brightness = rgb.sum(axis=2)
    dark = brightness < min(3 * 60, np.percentile(brightness, 80) / 4)
    teeth = (rgb.min(axis=2) >= 150) & (rgb.max(axis=2) - rgb.min(axis=2) <= 40)
    return int((dark | teeth).sum())
