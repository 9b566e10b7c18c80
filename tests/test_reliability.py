"""Every case a hostile user, a render farm or a broken file found (issue 16): one line, a non-zero exit,
nothing partial, no hang. Quick cases run the command in this process; signals need a real one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync_here
from gltf_factory import head_glb, head_node
from PIL import Image

from meshsync.animate.curves import frame_count
from meshsync.audio import load_audio
from meshsync.cli import USAGE_ERROR
from meshsync.render.video import VIDEO_FPS
from meshsync.text import normalize


def leftovers(folder: Path, keep: set[Path]) -> list[Path]:
    """Files and folders under `folder` other than `keep`: temporary files, scratch folders, partial output."""
    return sorted(p for p in folder.rglob("*") if p not in keep and not any(p.is_relative_to(k) for k in keep))


@pytest.fixture
def job(speech, tmp_path):
    """The test sentence's audio and alignment copied into a fresh folder, and what is there to begin with."""
    wav, grid, _ = speech
    shutil.copy(wav, tmp_path / "speech.wav")
    shutil.copy(grid, tmp_path / "speech.TextGrid")
    (tmp_path / "speech.txt").write_text("Mom bought plums and apples. Please pass me the map, Bob.\n")
    return tmp_path


def inputs(folder: Path) -> set[Path]:
    return set(folder.iterdir())


# -- wrong output or lost work ----------------------------------------------------------------------


def test_concat_refuses_a_truncated_segment(job):
    grid = job / "speech.TextGrid"
    total = frame_count(load_audio(job / "speech.wav").duration, VIDEO_FPS)  # the frames render draws
    for frames in ("0-29", f"30-{total - 1}"):
        result = meshsync_here("render", job / "speech.wav", "--alignment", grid, "--size", "160x96", "--frames",
                               frames, "-o", job / f"seg{frames.split('-')[0]}.mp4", "--quiet")
        assert result.returncode == 0, result.stderr
    segment = job / "seg30.mp4"
    segment.write_bytes(segment.read_bytes()[: segment.stat().st_size * 2 // 3])
    before = inputs(job)
    result = meshsync_here("concat", job / "seg0.mp4", segment, "--audio", job / "speech.wav", "-o", job / "all.mp4")
    assert_one_line_error(result, "seg30.mp4: damaged segment", "frames decode", "render frames 30-")
    assert leftovers(job, before) == []


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP])
def test_a_render_stopped_by_a_signal_leaves_nothing(job, stop):
    before = inputs(job)
    render = subprocess.Popen([sys.executable, "-m", "meshsync.cli", "render", str(job / "speech.wav"),
                               "--alignment", str(job / "speech.TextGrid"), "--size", "1280x720", "--aa", "2",
                               "-o", str(job / "talk.mp4")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list(job.glob(".talk.mp4.*")) and time.monotonic() < deadline:  # the encoder is writing
        time.sleep(0.02)
    render.send_signal(stop)
    _, stderr = render.communicate(timeout=60)
    assert render.returncode == 128 + stop, stderr
    assert stderr.strip().splitlines()[-1] == f"meshsync: stopped by {signal.Signals(stop).name}"
    assert leftovers(job, before) == []


def test_align_stopped_by_sigterm_writes_nothing(job):
    before = inputs(job)
    long = job / "long.wav"  # a minute of speech, aligned in chunks
    import soundfile

    samples, rate = soundfile.read(str(job / "speech.wav"))
    soundfile.write(str(long), np.tile(samples, 20), rate)
    (job / "long.txt").write_text(" ".join([(job / "speech.txt").read_text().strip()] * 20))
    align = subprocess.Popen([sys.executable, "-m", "meshsync.cli", "align", str(long), "--text", str(job / "long.txt"),
                              "-o", str(job / "long.json"), "--plot", str(job / "long.png"), "--workers", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "align: 1/" in align.stderr.readline()  # the first of its chunks is aligned, the others are to come
    align.send_signal(signal.SIGTERM)
    _, stderr = align.communicate(timeout=60)
    assert align.returncode == 128 + signal.SIGTERM, stderr
    assert leftovers(job, before | {long, job / "long.txt"}) == []


@pytest.mark.parametrize("value", ["NaN", "1e308", "-2", "Infinity"])
def test_curves_outside_what_a_channel_holds_are_refused(job, value):
    curves = job / "curves.json"
    result = meshsync_here("animate", job / "speech.wav", "--alignment", job / "speech.TextGrid", "--fps", "30",
                           "-o", curves, "--quiet")
    assert result.returncode == 0, result.stderr
    data = json.loads(curves.read_text())
    data["values"][5][17] = "__X__"
    curves.write_text(json.dumps(data).replace('"__X__"', value))
    before = inputs(job)
    result = meshsync_here("render", job / "speech.wav", "--curves", curves, "-o", job / "talk.mp4")
    assert_one_line_error(result, "curves.json: frame 5:", "outside", "animate the curves again")
    assert leftovers(job, before) == []


def test_a_plot_that_cannot_be_written_leaves_no_main_output_either(job):
    (job / "plot.png").mkdir()
    before = inputs(job)
    for command, output in (("align", "phones.json"), ("animate", "curves.json")):
        result = meshsync_here(command, job / "speech.wav", "--text", job / "speech.txt", "-o", job / output,
                               "--plot", job / "plot.png")
        assert_one_line_error(result, "plot.png", "is a folder")
        assert leftovers(job, before) == []


def _fill(disk: Path, free: int = 4096) -> None:
    """Leave only about `free` bytes on the small disk."""
    total = shutil.disk_usage(disk).free
    (disk / "filler").write_bytes(b"\0" * max(0, total - free))


@pytest.mark.parametrize("full", ["main", "plot"])
def test_a_full_disk_under_either_output_writes_neither(job, small_disk, full):
    _fill(small_disk)
    main_out = (small_disk if full == "main" else job) / "curves.json"
    plot = (small_disk if full == "plot" else job) / "mouth.png"
    before, disk_before = inputs(job), inputs(small_disk)
    result = meshsync_here("animate", job / "speech.wav", "--alignment", job / "speech.TextGrid", "-o", main_out,
                           "--plot", plot)
    assert_one_line_error(result, "cannot write", "No space left on device")
    assert leftovers(job, before) == [] and leftovers(small_disk, disk_before) == []


@pytest.mark.parametrize("mutate, rig, words", [
    (lambda d: head_node(d).update(translation=[1e400, 0, 0]), "arkit",
     ["translation must be a list of 3 finite numbers"]),
    (lambda d: head_node(d).update(scale=[0, 0, 0]), "arkit", ["node transforms make it 0 units across"]),
    (lambda d: head_node(d).update(scale=[1e30, 1e30, 1e30]), "arkit", ["node transforms make it", "enormous"]),
    (lambda d: head_node(d).update(matrix=[0] * 16), "arkit", ["node transforms make it 0 units across"]),
    (lambda d: d["meshes"][0]["primitives"][0].update(material=99), "arkit", ["material index 99 out of range"]),
    (lambda d: d["nodes"].extend({} for _ in range(1_000_000)), "arkit",
     ["'nodes' must be a list of at most 100000"]),
    (lambda d: (d["accessors"].append({"count": 2**40, "componentType": 5126, "type": "VEC3"}),
                d["meshes"][0]["primitives"][0]["attributes"].update(COLOR_0=len(d["accessors"]) - 1)), "arkit",
     ["elements without a bufferView"]),
    (lambda d: d["accessors"][0].update(count="many"), "arkit", ["accessors[0].count must be a whole number from 0"]),
    (lambda d: d["meshes"][0]["primitives"][0].update(targets={"POSITION": 1}), "arkit",
     ["meshes[0].primitives[0].targets must be a list of objects"]),
    (lambda d: d.update(extensions={"VRMC_vrm": {"expressions": {"preset": ["aa"]}}}), "vrm1",
     ["malformed VRM extension", "expressions.preset must be an object"]),
    (lambda d: d.update(extensions={"VRMC_vrm": {"expressions": {"preset": {"aa": {"morphTargetBinds": [
        {"node": "x", "index": "y", "weight": "z"}]}}}}}), "vrm1", ["malformed VRM extension", "binds must be"]),
    (lambda d: d.update(extensions={"VRM": {"blendShapeMaster": {"blendShapeGroups": {"a": 1}}}}), "vrm0",
     ["malformed VRM extension", "blendShapeGroups must be a list"]),
])
def test_broken_avatars_are_one_line_naming_the_problem(job, mutate, rig, words):
    avatar = head_glb(job / "avatar.glb", mutate)
    before = inputs(job)
    start = time.monotonic()
    result = meshsync_here("render", job / "speech.wav", "--alignment", job / "speech.TextGrid", "--avatar", avatar,
                           "--rig", rig, "-o", job / "talk.mp4")
    assert_one_line_error(result, "avatar.glb", *words)
    assert time.monotonic() - start < 30
    assert leftovers(job, before) == []


def test_deeply_nested_json_is_one_line_everywhere(job):
    deep = "[" * 100_000 + "]" * 100_000
    (job / "deep.gltf").write_text('{"asset": {"version": "2.0"}, "x": ' + deep + "}")
    (job / "deep.json").write_text('{"format": "meshsync.curves/1", "x": ' + deep + "}")
    (job / "deep.jsonl").write_text('{"audio": "speech.wav", "x": ' + deep + "}\n")
    before = inputs(job)
    assert_one_line_error(meshsync_here("inspect", job / "deep.gltf"), "nested too deeply")
    assert_one_line_error(meshsync_here("render", job / "speech.wav", "--curves", job / "deep.json",
                                        "-o", job / "talk.mp4"), "nested too deeply")
    assert_one_line_error(meshsync_here("batch", job / "deep.jsonl", "--out", job / "out"), "nested too deeply")
    assert leftovers(job, before) == []


@pytest.mark.parametrize("name, tag, bits", [
    ("odd.wav", 1, 7),  # PCM, 7 bits a sample, block align 0
    ("odd.mp3", 1, 7),  # the same named .mp3, which goes to ffmpeg (found by the fuzz tests)
    ("adpcm.wav", 2, 4),  # MS ADPCM with block align 0 (found by the fuzz tests)
])
def test_a_wav_header_that_contradicts_itself_is_refused(job, name, tag, bits):
    samples = np.random.default_rng(0).integers(-100, 100, 16000).astype(np.int8).tobytes()
    fmt = struct.pack("<HHIIHH", tag, 1, 16000, 16000, 0, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(samples)) + samples
    (job / name).write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    result = meshsync_here("align", job / name, "--text", job / "speech.txt", "-o", job / "phones.json")
    assert_one_line_error(result, f"{name}: the WAV header contradicts itself", f"{bits} bits")


def test_unprintable_characters_in_a_value_stay_in_one_line(job):
    result = meshsync_here("render", job / "speech.wav", "--text", "x", "-o", job / "talk.mp4", "--fps", "1\x852")
    assert_one_line_error(result, "fps '1\\x852' is not a number")


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(job):
    video = job / "speech.mp4"
    assert meshsync_here("render", job / "speech.wav", "--alignment", job / "speech.TextGrid", "--size", "160x96",
                         "-o", video, "--quiet").returncode == 0
    original = video.read_bytes()
    for args in (["render", video, "--alignment", job / "speech.TextGrid", "-o", video],
                 ["render", job / "speech.wav", "--alignment", job / "speech.TextGrid", "-o", video,
                  "--background", video]):
        assert_one_line_error(meshsync_here(*args), "speech.mp4: this is also an input of the job")
    assert video.read_bytes() == original


# -- hangs and tracebacks -------------------------------------------------------------------------


def test_numbers_beyond_pythons_digit_limit_are_read_digit_by_digit():
    assert normalize("code " + "7" * 5000) == ["code"] + ["seven"] * 5000
    assert normalize("1,000," + ",".join(["000"] * 2000) + " apples")[-1] == "apples"
    assert normalize("Nummer " + "1" * 5000, "de")[:3] == ["nummer", "eins", "eins"]


@pytest.mark.parametrize("args, words, code", [
    (["--seed", "-1"], ["--seed -1", "from 0 to"], 1),
    (["--fps", "-inf"], ["--fps -inf is out of range"], 1),
    (["--fps", "nan"], ["--fps nan is out of range"], 1),
    (["--fps", "abc"], ["fps 'abc' is not a number"], 1),
    (["--size", "-320x180"], ["--size '-320x180'", "WIDTHxHEIGHT"], 1),
    (["--frames", "-1-5"], ["--frames '-1-5'", "START-END"], 1),
    (["--frames", "5-2"], ["--frames 5-2", "ends before it starts"], 1),
    (["--size", "8192x8192", "--aa", "4"], ["--aa 4 renders 32768x32768", "lower --aa"], 1),
    (["--gop", "1000000000000"], ["--gop 1000000000000", "from 1 to"], 1),
    (["--text", "hello"], ["not allowed with"], USAGE_ERROR),
    (["--background", "{tmp}/bomb.png"], ["bomb.png", "too large (at most 67,108,864 pixels)"], 1),
    (["--rig", "{tmp}/rig.toml"], ["rig.toml", "`prefixes` lists"], 1),
    (["--background", "{tmp}"], ["is a folder"], 1),
])
def test_bad_render_values_are_one_line_before_any_work(job, args, words, code):
    Image.new("L", (20000, 20000)).save(job / "bomb.png")
    (job / "rig.toml").write_text('shapes = ["jawOpen"]\nprefixes = 5\n')
    before = inputs(job)
    result = meshsync_here("render", job / "speech.wav", "--alignment", job / "speech.TextGrid", "-o",
                           job / "talk.mp4", *(a.format(tmp=job) for a in args))
    assert_one_line_error(result, *words, code=code)
    assert leftovers(job, before) == []


def test_a_png_frame_name_taken_by_a_folder_is_refused_before_any_frame_is_written(job):
    (job / "frames" / "f_00002.png").mkdir(parents=True)
    before = inputs(job) | {job / "frames" / "f_00002.png"}
    result = meshsync_here("render", job / "speech.wav", "--alignment", job / "speech.TextGrid", "--size", "160x96",
                           "--frames", "0-3", "-o", job / "frames" / "f_%05d.png")
    assert_one_line_error(result, "f_00002.png: it is a folder")
    assert leftovers(job, before) == []


@pytest.mark.parametrize("chunk", ["nan", "inf", "-1"])
def test_batch_chunk_must_be_a_positive_number_of_seconds(job, chunk):
    (job / "jobs.csv").write_text("audio,alignment,outputs\nspeech.wav,speech.TextGrid,json\n")
    before = inputs(job)
    assert_one_line_error(meshsync_here("batch", job / "jobs.csv", "--out", job / "out", "--chunk", chunk),
                          f"--chunk {chunk}")
    assert leftovers(job, before) == []


def test_batch_rows_with_bad_values_fail_alone_with_a_plain_message(job):
    long_id = "a" * 300
    (job / "jobs.csv").write_text("id,audio,alignment,outputs,seed\n"
                                  "neg,speech.wav,speech.TextGrid,json,-1\n"
                                  f"{long_id},speech.wav,speech.TextGrid,json,\n"
                                  "fine,speech.wav,speech.TextGrid,json,\n")
    result = meshsync_here("batch", job / "jobs.csv", "--out", job / "out", "--quiet")
    assert result.returncode == 1
    errors = {k: r["error"] for k, r in json.loads((job / "out" / "meshsync-batch.json").read_text())["jobs"].items()}
    assert errors["neg"] == "line 2: --seed -1: give a whole number from 0 to 4294967295"
    assert errors[long_id] == "line 3: the id is 300 bytes long; give one of at most 200 (files are named by it)"
    assert "please report" not in result.stderr
    assert sorted(p.name for p in (job / "out").iterdir()) == ["fine.json", "meshsync-batch.json"]


def test_batch_refuses_an_output_that_is_one_of_its_inputs(job):
    out = job / "out"
    out.mkdir()
    video = out / "clip.mp4"  # speech in a video, given as the audio of a job whose output is clip.mp4
    assert meshsync_here("render", job / "speech.wav", "--alignment", job / "speech.TextGrid", "--size", "160x96",
                         "-o", video, "--quiet").returncode == 0
    original = video.read_bytes()
    (job / "jobs.csv").write_text("id,audio,alignment,outputs\nclip,out/clip.mp4,speech.TextGrid,mp4\n")
    result = meshsync_here("batch", job / "jobs.csv", "--out", out, "--quiet")
    assert result.returncode == 1
    error = json.loads((out / "meshsync-batch.json").read_text())["jobs"]["clip"]["error"]
    assert error.endswith("clip.mp4: this is also an input of the job; write the output to another file")
    assert video.read_bytes() == original


def test_a_csv_cell_over_the_csv_modules_limit_is_one_line(job):
    (job / "jobs.csv").write_text("audio,text\nspeech.wav," + "word " * 40_000 + "\n")
    assert_one_line_error(meshsync_here("batch", job / "jobs.csv", "--out", job / "out"),
                          "jobs.csv line", "field larger than field limit", "put a long transcript in a .txt file")
    assert not (job / "out").exists()


@pytest.mark.parametrize("text, words", [
    ("\n\n\n", ["no jobs in the file"]),
    (" \n \n", ["a column without a name"]),
    (",\n,,\n", ["a column without a name"]),
])
def test_a_jobs_csv_of_blank_lines_says_so(job, text, words):
    (job / "jobs.csv").write_text(text)
    assert_one_line_error(meshsync_here("batch", job / "jobs.csv", "--out", job / "out"), *words)


# -- messages that mislead ------------------------------------------------------------------------


@pytest.fixture
def odd_paths(tmp_path):
    """A folder and a FIFO where a file belongs, and a device."""
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    return {"folder": (folder, "is a folder"), "fifo": (fifo, "not a regular file"),
            "device": (Path("/dev/zero"), "not a regular file")}


@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
@pytest.mark.parametrize("command", [
    ["align", "{path}", "--text", "{text}", "-o", "{tmp}/o.json"],
    ["align", "{wav}", "--text", "{path}", "-o", "{tmp}/o.json"],
    ["align", "{wav}", "--text", "{text}", "--lexicon", "{path}", "-o", "{tmp}/o.json"],
    ["animate", "{wav}", "--alignment", "{path}", "-o", "{tmp}/o.json"],
    ["inspect", "{path}"],
    ["concat", "{path}", "--audio", "{wav}", "-o", "{tmp}/o.mp4"],
    ["batch", "{path}", "--out", "{tmp}/out"],
    ["render", "{wav}", "--curves", "{path}", "-o", "{tmp}/o.mp4"],
    ["render", "{wav}", "--text", "{text}", "--avatar", "{path}", "-o", "{tmp}/o.mp4"],
])
def test_a_path_that_is_no_regular_file_is_named_as_such(job, odd_paths, kind, command):
    path, words = odd_paths[kind]
    values = {"path": path, "wav": job / "speech.wav", "text": job / "speech.txt", "tmp": job}
    start = time.monotonic()
    result = meshsync_here(*(a.format(**values) for a in command))
    assert_one_line_error(result, str(path), words)
    assert time.monotonic() - start < 10  # a FIFO is not opened: nothing waits for a writer


def test_usage_mistakes_are_one_line():
    for args in (["render", "a.wav", "--text", "x", "--alignment", "y", "-o", "o.mp4"],
                 ["align", "a.wav", "-o", "o.json"],
                 [], ["render", "--bogus"]):
        result = meshsync_here(*args)
        assert_one_line_error(result, "; see `meshsync", code=USAGE_ERROR)
