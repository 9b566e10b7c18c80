"""Generated hostile input for every reader meshsync has (Hypothesis): audio headers and samples, transcripts,
TextGrids, glTF JSON and binary chunks, curves files, jobs files and command-line values. Each either works
or raises one UserError line, within the profile's deadline, reading nothing outside the avatar's folder.

CI runs the `ci` profile (a fixed set of examples); `python tools/fuzz.py` runs the long `nightly` one."""

from __future__ import annotations

import io
import json
import struct
import tempfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile
from cli_helpers import meshsync_here
from gltf_factory import quad_document, write_glb
from hypothesis import given
from hypothesis import strategies as st

from meshsync.align.textgrid import read_textgrid
from meshsync.animate import Curves
from meshsync.audio import Audio, load_audio
from meshsync.avatar import Avatar, load_avatar
from meshsync.batch.jobs import COLUMNS, read_jobs
from meshsync.channels import channel_limits, channel_names
from meshsync.errors import UserError
from meshsync.export.curves_json import read_curves_json, write_curves_json
from meshsync.languages import languages
from meshsync.text import normalize

JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=12)
NUMBERISH = st.one_of(st.text(max_size=12), st.floats().map(repr), st.integers(-2**66, 2**66).map(str),
                      st.sampled_from(["-inf", "nan", "1e308", "-0", "0x10", "1_000", "٣", "-320x180", "5-2", " "]))


@contextmanager
def folder():
    """A fresh folder for one generated example (function-scoped fixtures are shared across examples)."""
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def refused_in_one_line(call) -> object:
    """`call()`'s result, or None when it raised a UserError of one line; anything else fails the test."""
    try:
        return call()
    except UserError as exc:
        assert len(str(exc).splitlines()) == 1, repr(str(exc))
        return None


# -- audio ----------------------------------------------------------------------------------------


def wav_bytes() -> bytes:
    tone = (0.3 * np.sin(np.arange(8000) * 0.05)).astype(np.float32)
    out = io.BytesIO()
    soundfile.write(out, tone, 16000, format="WAV", subtype="PCM_16")
    return out.getvalue()


@given(edits=st.lists(st.tuples(st.integers(0, 60), st.integers(0, 255)), max_size=8),
       cut=st.none() | st.integers(0, 16044))
def test_audio_headers_and_samples(edits, cut):
    data = bytearray(wav_bytes())
    for offset, value in edits:
        data[offset] = value
    with folder() as tmp:
        path = tmp / "speech.wav"
        path.write_bytes(bytes(data[:cut]))
        audio = refused_in_one_line(lambda: load_audio(path))
    if audio is not None:
        assert isinstance(audio, Audio) and np.isfinite(audio.samples).all() and audio.duration >= 0.2


@given(tag=st.sampled_from([1, 3, 0xFFFE, 2, 0]), channels=st.integers(0, 9), rate=st.integers(0, 2**32 - 1),
       align=st.integers(0, 70), bits=st.integers(0, 70), suffix=st.sampled_from([".wav", ".flac", ".mp3"]))
def test_wav_format_chunks(tag, channels, rate, align, bits, suffix):
    samples = bytes(range(256)) * 64
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * max(align, 1) % 2**32, align, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    with folder() as tmp:
        path = tmp / f"speech{suffix}"
        path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
        audio = refused_in_one_line(lambda: load_audio(path))
    if audio is not None:  # what decodes is what the header says
        assert channels >= 1 and align >= 1 and np.isfinite(audio.samples).all()
        assert tag not in (1, 3, 0xFFFE) or align == channels * bits // 8


# -- transcripts and TextGrids --------------------------------------------------------------------


@given(text=st.text(max_size=60) | st.from_regex(r"[\d.,€$% -]{1,40}", fullmatch=True),
       language=st.sampled_from(sorted(languages())))
def test_transcripts(text, language):
    words = refused_in_one_line(lambda: normalize(text, language))
    if words is not None:
        assert all(isinstance(w, str) and w and not w.isspace() for w in words)


def interval_tier(name: str, intervals: list[tuple[float, float, str]]) -> str:
    rows = "".join(f"        intervals [{i}]:\n            xmin = {a}\n            xmax = {b}\n"
                   f'            text = "{label}"\n' for i, (a, b, label) in enumerate(intervals, 1))
    return (f'    item [{1 if name == "words" else 2}]:\n        class = "IntervalTier"\n        name = "{name}"\n'
            f"        xmin = 0\n        xmax = 0.6\n        intervals: size = {len(intervals)}\n{rows}")


# "hello" as an aligner writes it, in Praat's long TextGrid format.
GRID = ('File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\nxmax = 0.6\ntiers? <exists>\nsize = 2\n'
        'item []:\n' + interval_tier("words", [(0, 0.1, ""), (0.1, 0.5, "hello"), (0.5, 0.6, "")])
        + interval_tier("phones", [(0, 0.1, ""), (0.1, 0.2, "HH"), (0.2, 0.3, "AH0"), (0.3, 0.4, "L"),
                                   (0.4, 0.5, "OW1"), (0.5, 0.6, "")]))


@given(edits=st.lists(st.tuples(st.integers(0, 900), st.text(max_size=6)), max_size=5),
       duration=st.none() | st.floats(allow_nan=True, allow_infinity=True))
def test_textgrids(edits, duration):
    text = GRID
    for offset, insert in edits:
        text = text[:offset] + insert + text[offset + len(insert):]
    with folder() as tmp:
        path = tmp / "a.TextGrid"
        path.write_text(text)
        alignment = refused_in_one_line(lambda: read_textgrid(path, duration))
    if alignment is not None:
        assert all(s.end >= s.start for s in alignment.phones)


# -- avatars --------------------------------------------------------------------------------------

FIELDS = ["nodes.0.translation", "nodes.0.rotation", "nodes.0.scale", "nodes.0.mesh", "nodes.0.children",
          "nodes.0.matrix", "meshes.0.primitives.0.attributes.POSITION", "meshes.0.primitives.0.indices",
          "meshes.0.primitives.0.material", "meshes.0.primitives.0.mode", "meshes.0.primitives.0.targets",
          "meshes.0.extras", "meshes.0.primitives", "accessors.0.count", "accessors.0.componentType",
          "accessors.0.type", "accessors.0.byteOffset", "accessors.5.sparse", "accessors.5.sparse.count",
          "bufferViews.0.byteStride", "bufferViews.0.byteOffset", "bufferViews.0.byteLength", "buffers.0.byteLength",
          "buffers.0.uri", "materials.0.pbrMetallicRoughness", "materials.0.pbrMetallicRoughness.baseColorFactor",
          "textures.0.source", "images.0.bufferView", "images.0.uri", "scenes.0.nodes", "scene", "extensions",
          "nodes", "accessors", "meshes"]


def set_field(doc: dict, path: str, value) -> None:
    """Set the field at a dotted path ("meshes.0.primitives"), where an earlier change left a way to it."""
    keys = path.split(".")
    node = doc
    for depth, key in enumerate(keys):
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return
            key = int(key)
        elif not isinstance(node, dict):
            return
        if depth == len(keys) - 1:
            node[key] = value
            return
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]


def loads_or_refuses(path: Path) -> Avatar | None:
    avatar = refused_in_one_line(lambda: load_avatar(path))
    if avatar is not None:
        assert all(np.isfinite(p.geometry.positions).all() for m in avatar.meshes for p in m.primitives)
    return avatar


@given(changes=st.lists(st.tuples(st.sampled_from(FIELDS), JSON), min_size=1, max_size=3))
def test_gltf_json(changes):
    doc, blob = quad_document()
    for path, value in changes:
        set_field(doc, path, value)
    with folder() as tmp:
        loads_or_refuses(write_glb(tmp / "avatar.glb", doc, blob))


@given(flips=st.lists(st.tuples(st.integers(0, 1900), st.integers(0, 255)), min_size=1, max_size=6))
def test_gltf_binary_chunks(flips):
    with folder() as tmp:
        path = write_glb(tmp / "avatar.glb", *quad_document())
        data = bytearray(path.read_bytes())
        for offset, value in flips:
            data[offset % len(data)] = value
        path.write_bytes(bytes(data))
        loads_or_refuses(path)


@given(uri=st.sampled_from(["../secret.bin", "..%2Fsecret.bin", "/{outside}/secret.bin", "file:///{outside}/secret.bin",
                            "sub/../../secret.bin", "{outside}/secret.bin", "link.bin"]) | st.text(max_size=20))
def test_gltf_uris_never_read_outside_the_avatars_folder(uri):
    doc, blob = quad_document()
    with folder() as outside:
        (outside / "secret.bin").write_bytes(blob)  # a usable buffer: loading it would succeed
        avatar_folder = outside / "avatar"
        avatar_folder.mkdir()
        (avatar_folder / "link.bin").symlink_to(outside / "secret.bin")
        doc["buffers"][0]["uri"] = uri.replace("{outside}", str(outside).lstrip("/"))
        path = avatar_folder / "avatar.gltf"
        path.write_text(json.dumps(doc))
        assert loads_or_refuses(path) is None


# -- curves and jobs files ------------------------------------------------------------------------


@given(field=st.sampled_from(["fps", "frames", "names", "values", "format", "values.3", "values.3.7"]),
       value=JSON | st.sampled_from([float("nan"), 1e308, -1e308, float("inf")]))
def test_curves_files(field, value):
    names = channel_names()
    curves = Curves(30.0, names, np.full((10, len(names)), 0.25, np.float32))
    with folder() as tmp:
        path = tmp / "curves.json"
        write_curves_json(curves, path, None, "test", "rules")
        data = json.loads(path.read_text())
        set_field(data, field, value)
        path.write_text(json.dumps(data))
        read = refused_in_one_line(lambda: read_curves_json(path))
    if read is not None:
        low, high = channel_limits(names)
        assert ((read.values >= low) & (read.values <= high)).all()


CELL = st.text(max_size=12) | st.sampled_from(["a.wav", "../a.wav", "/dev/zero", ".", "mp4 json", "-1", "nan",
                                               "1e999", "x" * 300])


@given(header=st.lists(st.sampled_from(COLUMNS) | st.text(max_size=5), min_size=1, max_size=5),
       rows=st.lists(st.lists(CELL, max_size=6), max_size=4), jsonl=st.lists(JSON, max_size=3))
def test_jobs_files(header, rows, jsonl):
    with folder() as tmp:
        (tmp / "a.wav").write_bytes(wav_bytes())
        csv = tmp / "jobs.csv"
        csv.write_text("\n".join(",".join(cells) for cells in [header, *rows]) + "\n")
        lines = tmp / "jobs.jsonl"
        lines.write_text("".join(json.dumps(row) + "\n" for row in jsonl))
        for path in (csv, lines):
            jobs = refused_in_one_line(lambda p=path: read_jobs(p))
            assert jobs is None or all("\n" not in getattr(job, "error", "") for job in jobs)


# -- the command line -----------------------------------------------------------------------------

RENDER_FLAGS = ["--fps", "--size", "--frames", "--aa", "--gop", "--seed", "--background", "--camera", "--language",
                "--method", "--aligner", "--rig", "--workers", "--jaw-bone"]


@given(flag=st.sampled_from(RENDER_FLAGS), value=NUMBERISH)
def test_command_line_values(flag, value):
    """Every value of every render flag is parsed and checked before any work: the command either fails in
    one line or reaches the point where it would read the audio (absent here, so it stops there)."""
    with folder() as tmp:
        result = meshsync_here("render", tmp / "none.wav", "--text", "hello", "-o", tmp / "talk.mp4", flag, value)
        assert result.returncode in (1, 2)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("meshsync: error:"), result.stderr
        assert list(tmp.iterdir()) == []


@pytest.mark.parametrize("command", ["align", "animate", "render", "concat", "batch", "inspect", "poses"])
def test_no_command_prints_its_usage_for_a_mistake(command):
    result = meshsync_here(command, "--no-such-flag")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
