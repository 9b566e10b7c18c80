"""Every engine imports meshsync's files unchanged: each export kind loaded by the consumers users have,
three.js (and three-vrm for VRM Animation) in headless Chromium, Godot 3's importer, Assimp, sampled at p/b/m,
vowel and blink frames and compared with the rig's own weights (USD's validator and the Live Link CSV's
timecode are checked in test_export.py)."""

from __future__ import annotations

import numpy as np
import pytest
from cli_helpers import meshsync
from consumers import assimp_morphs, godot, three

from meshsync.avatar import load_avatar
from meshsync.rig import choose_profile, find_profile, jaw_joint, jaw_track, morph_weights, solve

CLOSE = 0.02  # the bound: what an engine plays against meshsync's own weights
TURN = np.radians(0.5)  # the jaw bone's angle (24 degrees at jawOpen 1: 0.005 of weight is 0.12 degrees)
# (test avatar, forced rig, suffix): every kind of avatar export
KINDS = {"arkit": ("arkit", None, ".glb"), "arkit_gltf": ("arkit", None, ".gltf"),
         "readyplayerme": ("readyplayerme", "readyplayerme", ".glb"), "oculus": ("oculus", "oculus", ".glb"),
         "vrm1": ("vrm1", None, ".glb"), "vrm0": ("vrm0", None, ".glb"), "jaw": ("jaw", None, ".glb")}
VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}


@pytest.fixture(scope="module")
def exports(speech, avatars, tmp_path_factory) -> dict:
    """Every kind, written by the CLI as a user would, with its rig's weights ({target: per frame}), its jaw
    track, and the .vrma."""
    wav, grid, _ = speech
    folder = tmp_path_factory.mktemp("engines")
    out = {}
    for kind, (name, rig, suffix) in KINDS.items():
        path = folder / f"{kind}{suffix}"
        result = meshsync("animate", str(wav), "--alignment", str(grid), "--avatar", str(avatars[name]),
                          *(["--rig", rig] if rig else []), "-o", str(path))
        assert result.returncode == 0, result.stderr
        out[kind] = path
    vrma = folder / "talk.vrma"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "-o", str(vrma)).returncode == 0
    out["vrma"] = vrma
    return out


def expected(kind: str, avatars, curves) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
    """The kind's morph weights by target name (frames,), and its jaw rotations (frames, 4) or None."""
    name, rig, _ = KINDS[kind]
    avatar = load_avatar(avatars[name])
    (mesh,) = avatar.meshes  # one morphed mesh: engines name it differently, so targets go by name
    (weights,) = morph_weights(solve(curves, choose_profile(avatar, rig)), avatar).values()
    joint = jaw_joint(avatar)
    jaw = jaw_track(curves, joint).rotations if joint else None
    return {target: weights[:, k] for k, target in enumerate(mesh.target_names)}, jaw


def frames(speech, curves) -> dict[str, np.ndarray]:
    """Frames to sample: the middle of every p/b/m and of every vowel, and the blinks' peaks."""
    _, _, phones = speech
    middle = {label: [] for label in ("closed", "open")}
    for label, start, end in phones:
        group = "closed" if label in ("M", "B", "P") else "open" if label in VOWELS else None
        if group:
            middle[group].append(round((start + end) / 2 * curves.fps))
    blink = curves.channel("eyeBlinkLeft")
    peaks = np.flatnonzero((blink > 0.8) & (blink >= np.roll(blink, 1)) & (blink >= np.roll(blink, -1)))
    return {"closed": np.array(middle["closed"]), "open": np.array(middle["open"]), "blink": peaks}


def assert_close(played: dict[str, np.ndarray], wanted: dict[str, np.ndarray], at: np.ndarray, who: str):
    """Every target the consumer plays, at the frames `at`, within CLOSE of the rig's weights."""
    assert set(played) == set(wanted), (who, set(played) ^ set(wanted))
    worst = max(float(np.abs(np.asarray(played[t]) - wanted[t][at]).max()) for t in wanted)
    assert worst <= CLOSE, (who, worst)


def first_mesh(morphs: dict[str, dict]) -> dict[str, list]:
    """The one morphed mesh's influences: three.js splits a mesh into one object per primitive (material),
    which all play the same weights."""
    meshes = list(morphs.values())
    assert meshes and all(mesh == meshes[0] for mesh in meshes)
    return meshes[0]


def angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles between unit quaternions, row by row."""
    dots = np.abs(np.sum(a / np.linalg.norm(a, axis=1, keepdims=True) * b, axis=1))
    return 2 * np.arccos(np.clip(dots, 0, 1))


def test_sampled_frames_hold_closures_vowels_and_blinks(speech, curves):
    at = frames(speech, curves)
    assert len(at["closed"]) >= 5 and len(at["open"]) >= 10 and len(at["blink"]) >= 1
    mouth = curves.channel("jawOpen")
    assert mouth[at["open"]].max() > 0.3 and curves.channel("mouthClose")[at["closed"]].min() > 0.05


@pytest.mark.parametrize("kind", list(KINDS))
def test_three_js_plays_every_export(exports, avatars, curves, speech, kind):
    at = np.concatenate(list(frames(speech, curves).values()))
    wanted, jaw = expected(kind, avatars, curves)
    result = three(exports[kind], (at / curves.fps).tolist(), nodes=("Jaw",))
    assert result["errors"] == [] and result["vrm"] is None
    played = first_mesh(result["morphs"])
    assert_close(played, wanted, at, f"three.js {kind}")
    if jaw is not None:
        assert angles(np.array(result["turns"]["Jaw"]), jaw[at]).max() <= TURN


@pytest.mark.parametrize("name, version", [("vrm1", "1"), ("vrm0", "0")])
def test_three_vrm_plays_the_vrm_animation(exports, avatars, curves, speech, name, version):
    at = frames(speech, curves)
    times = np.concatenate(list(at.values()))
    result = three(avatars[name], (times / curves.fps).tolist(), animation=exports["vrma"])
    assert result["errors"] == [] and result["vrm"] == version  # a real VRM to three-vrm
    played = {target: np.array(values) for target, values in first_mesh(result["morphs"]).items()}
    rig = solve(curves, find_profile("vrm1"))
    weight = {shape: rig.values[:, rig.names.index(shape)] for shape in ("aa", "oh", "blinkLeft")}
    mouth = played["Fcl_MTH_A"] + played["Fcl_MTH_O"]  # the expressions' own targets, as three-vrm drives them
    assert np.abs(played["Fcl_MTH_A"] - weight["aa"][times]).max() <= CLOSE
    assert np.abs(played["eyeBlinkLeft"] - weight["blinkLeft"][times]).max() <= CLOSE
    closed, vowels, blinks = (np.isin(times, at[group]) for group in ("closed", "open", "blink"))
    assert mouth[closed].max() < 0.1 and np.median(mouth[vowels]) > 0.15
    assert played["eyeBlinkLeft"][blinks].min() > 0.7


def test_godot_imports_every_export(exports, avatars, curves, speech, tmp_path):
    at = np.concatenate(list(frames(speech, curves).values()))
    imported = godot([exports[kind] for kind in KINDS], tmp_path / "project")
    for kind in KINDS:
        wanted, jaw = expected(kind, avatars, curves)
        tracks = imported[exports[kind].name]
        played = {}
        for path, keys in tracks.items():
            if ":blend_shapes/" in path:
                times, values = np.array(keys).T
                played[path.split(":blend_shapes/")[1]] = np.interp(at / curves.fps, times, values)
        assert_close(played, wanted, at, f"Godot {kind}")
        if jaw is not None:  # Godot lower-cases the bone and resamples its track (15 fps): compare at its keys
            (keys,) = [keys for path, keys in tracks.items() if path.lower().endswith(":jaw")]
            times = np.array([time for time, _ in keys])
            wanted_turns = np.array([np.interp(times * curves.fps, np.arange(len(jaw)), jaw[:, k]) for k in range(4)]).T
            assert angles(np.array([value for _, value in keys]), wanted_turns).max() <= TURN


@pytest.mark.parametrize("kind", list(KINDS))
def test_assimp_reads_every_export(exports, avatars, curves, speech, kind):
    at = np.concatenate(list(frames(speech, curves).values()))
    wanted, jaw = expected(kind, avatars, curves)
    morphs, turns = assimp_morphs(exports[kind])
    ((times, weights),) = morphs.values()
    names = list(wanted)
    played = {target: np.interp(at / curves.fps, times, weights[:, k]) for k, target in enumerate(names)}
    assert weights.shape[1] == len(names)
    assert_close(played, wanted, at, f"Assimp {kind}")
    if jaw is not None:
        times, rotations = turns["Jaw"]
        replayed = np.array([np.interp(at / curves.fps, times, rotations[:, k]) for k in range(4)]).T
        assert angles(replayed, jaw[at]).max() <= TURN
