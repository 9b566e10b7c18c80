"""Fixtures shared by the test files: speech with exact phone timings, the default head, the test avatars
in other rig conventions, and curves animated once. tests/ and tools/ are on the path (pyproject.toml)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import build_test_avatars
import pytest
from cli_helpers import meshsync
from corpus import SENTENCES, make_clip
from hypothesis import HealthCheck, settings

from meshsync.align.speech import SpeechOptions, align_speech
from meshsync.align.textgrid import read_textgrid
from meshsync.animate import animate
from meshsync.audio import load_audio
from meshsync.avatar import load_avatar
from meshsync.files import default_avatar_path


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> tuple[Path, Path, list]:
    """An MBROLA sentence full of bilabials (exact phone timings), and meshsync's alignment as a TextGrid."""
    folder = tmp_path_factory.mktemp("speech")
    wav, grid = make_clip(folder, "map", SENTENCES["map"]), folder / "map.TextGrid"
    result = meshsync("align", str(wav), "--text", SENTENCES["map"], "-o", str(grid), "--quiet")
    assert result.returncode == 0, result.stderr
    return wav, grid, json.loads(wav.with_suffix(".json").read_text())["phones"]


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    """Every sentence of corpus.SENTENCES, spoken by one voice."""
    folder = tmp_path_factory.mktemp("clips")
    return {name: make_clip(folder, name, text) for name, text in SENTENCES.items()}


@pytest.fixture(scope="session")
def aligned(clips):
    """Each clip's audio and its alignment to the sentence."""
    out = {}
    for name, wav in clips.items():
        audio = load_audio(wav)
        out[name] = audio, align_speech(audio, SpeechOptions(SENTENCES[name]))
    return out


@pytest.fixture(scope="session")
def head():
    """The bundled default head."""
    return load_avatar(default_avatar_path())


@pytest.fixture(scope="session")
def avatars(tmp_path_factory) -> dict[str, Path]:
    """The default head (ARKit) and its variants in every other rig convention, by profile name (and jaw)."""
    return {"arkit": default_avatar_path(), **build_test_avatars.build(tmp_path_factory.mktemp("avatars"))}


@pytest.fixture(scope="session")
def curves(speech):
    """The speech fixture animated at the default frame rate."""
    wav, grid, _ = speech
    audio = load_audio(wav)
    return animate(audio, read_textgrid(grid, audio.duration))


@pytest.fixture
def small_disk(tmp_path):
    """A 200 kB file system (tmpfs), where a render runs out of space; skipped where mounting is not allowed."""
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


# The fuzz tests' profiles: `ci` runs a fixed set of examples in every test run; `nightly` (tools/fuzz.py) many
# more, new ones each time. A deadline per example keeps "bounded time" a checked property.
settings.register_profile("ci", max_examples=40, derandomize=True, database=None, deadline=10_000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("nightly", max_examples=int(os.environ.get("MESHSYNC_FUZZ_EXAMPLES", 2000)),
                          database=None, deadline=10_000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("MESHSYNC_FUZZ", "ci"))
