"""Secondary motion: blinks at a natural rate and shape, a head that follows the voice, a steady gaze."""

from __future__ import annotations

import numpy as np

from meshsync.animate.secondary import add_secondary_motion, blinks, gaze_points, load_motion
from meshsync.audio import Audio
from meshsync.channels import channel_names

FPS = 60.0
RATE = 16000


def voice(seconds: float, pitch: np.ndarray | None = None) -> Audio:
    """A buzzy voice-like tone at 150 Hz (or the per-sample `pitch`), in 2 s phrases with 0.6 s pauses."""
    t = np.arange(round(seconds * RATE)) / RATE
    frequency = np.full_like(t, 150.0) if pitch is None else pitch
    phase = 2 * np.pi * np.cumsum(frequency) / RATE
    buzz = sum(np.sin(k * phase) / k for k in range(1, 6))
    speaking = (t % 2.6) < 2.0
    return Audio((0.2 * buzz * speaking).astype(np.float32), RATE)


def motion(audio: Audio, seed: int = 0) -> dict[str, np.ndarray]:
    times = np.arange(round(audio.duration * FPS)) / FPS
    values = add_secondary_motion(np.zeros((len(times), len(channel_names())), np.float32), audio, times, seed)
    return dict(zip(channel_names(), values.T))


def blink_starts(closure: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.diff((closure > 0.5).astype(int)) == 1) / FPS


def test_blinks_have_a_natural_rate_spacing_and_shape():
    times = np.arange(round(600 * FPS)) / FPS
    closure = blinks(np.array([]), times, np.random.default_rng(1), load_motion()["blink"])
    starts = blink_starts(closure)
    assert 12 <= len(starts) / 10 <= 26  # per minute: people blink 15-26 times a minute when talking
    assert np.diff(starts).min() >= load_motion()["blink"]["min_interval"] - 1 / FPS
    assert np.isclose(closure.max(), 1.0) and closure.min() == 0.0
    first = np.flatnonzero(closure > 0)[0]
    shut = first + np.argmax(closure[first:] >= 0.999)
    reopened = shut + np.argmax(closure[shut:] <= 0.001)
    closing, opening = (shut - first) / FPS, (reopened - shut) / FPS
    assert 0.05 <= closing < opening - 0.04 <= 0.3  # lids close fast and open more slowly
    assert 0.2 <= (reopened - first) / FPS <= 0.4


def test_blinks_gather_at_the_starts_of_pauses():
    times = np.arange(round(300 * FPS)) / FPS
    pauses = np.arange(2.0, 300, 2.6)  # a pause every 2.6 s, as in `voice`
    starts = blink_starts(blinks(pauses, times, np.random.default_rng(2), load_motion()["blink"]))
    after = starts[:, None] - pauses[None, :]
    at_pause = ((after >= 0) & (after <= 0.1)).any(axis=1).mean()
    # Blinks due within `snap` (0.6 s) of a pause start move there: about 1.2 / 2.6 = 46 % of them here,
    # against 0.1 / 2.6 = 4 % by chance.
    assert at_pause >= 0.35, at_pause


def test_head_rises_with_the_voice_and_stays_within_limits():
    t = np.arange(round(60 * RATE)) / RATE
    pitch = np.where((t // 1.3) % 2 == 0, 120.0, 220.0)  # 1.3 s low, 1.3 s high: faster than the drift
    m = motion(voice(60, pitch))
    frames = np.arange(len(m["headPitch"])) / FPS
    settled = frames % 1.3 > 0.4  # the head has had time to follow
    high, low = settled & ((frames // 1.3) % 2 == 1), settled & ((frames // 1.3) % 2 == 0)
    rise = np.degrees(m["headPitch"][low].mean() - m["headPitch"][high].mean())  # pitch > 0 nods down
    assert rise > 0.5, rise
    limits = load_motion()["head"]["limit"]
    for name, limit in zip(("headYaw", "headPitch", "headRoll"), limits):
        assert np.degrees(np.abs(m[name])).max() <= limit
        assert np.degrees(m[name]).std() > 0.1  # it does move
    assert np.degrees(np.abs(np.diff(m["headYaw"]))).max() * FPS < 20  # deg/s: slow, never a jerk


def test_gaze_holds_on_the_viewer_while_the_head_moves():
    m = motion(voice(30))
    gaze = np.degrees(m["leftEyeYaw"] + m["headYaw"])  # the eyes counter-rotate the head's turn
    assert np.array_equal(m["leftEyeYaw"], m["rightEyeYaw"])
    moving = np.abs(np.diff(gaze)) > 1e-3
    assert moving.mean() < 0.15  # fixations most of the time, saccades between them
    assert np.abs(gaze).max() < 15
    settings = load_motion()["gaze"]
    times = np.arange(round(120 * FPS)) / FPS
    points = gaze_points(times, np.random.default_rng(3), settings)
    jumps = np.flatnonzero(np.abs(np.diff(points[:, 0])) > 1e-9)
    runs = np.split(jumps, np.flatnonzero(np.diff(jumps) > 1) + 1)
    assert max(len(run) for run in runs) / FPS <= settings["saccade"] + 2 / FPS  # each saccade is quick
    assert 0.5 <= 120 / len(runs) <= 2.5  # a new fixation every second or so


def test_gaze_targets_follow_the_eye_angles():
    m = motion(voice(20))
    look = load_motion()["gaze"]["look_range"]
    yaw = np.degrees(m["leftEyeYaw"])
    assert np.allclose(m["eyeLookOutLeft"] - m["eyeLookInLeft"],
                       np.where(yaw > 0, yaw / look["out"], yaw / look["in"]), atol=1e-5)
    assert np.allclose(m["eyeLookInRight"] - m["eyeLookOutRight"],
                       np.where(yaw > 0, yaw / look["in"], yaw / look["out"]), atol=1e-5)  # both look left
    down = np.degrees(m["leftEyePitch"])
    assert np.allclose(m["eyeLookDownLeft"] - m["eyeLookUpLeft"],
                       np.where(down > 0, down / look["down"], down / look["up"]), atol=1e-5)


def test_same_seed_same_motion_other_seed_other_motion():
    audio = voice(15)
    first, again, other = motion(audio, 7), motion(audio, 7), motion(audio, 8)
    assert all(np.array_equal(first[n], again[n]) for n in first)
    assert not np.array_equal(first["eyeBlinkLeft"], other["eyeBlinkLeft"])
    assert not np.array_equal(first["headYaw"], other["headYaw"])
