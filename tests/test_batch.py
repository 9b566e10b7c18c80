"""`meshsync batch`: jobs files, real Dask clusters (a LocalCluster of worker processes, and a scheduler and
worker started with the `dask` command), a worker killed mid-batch, reruns that skip finished work."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import psutil
import pytest
from cli_helpers import assert_one_line_error, meshsync
from test_video import audio_samples, video_frames

from meshsync.align.speech import SpeechOptions
from meshsync.animate import AnimationOptions
from meshsync.audio import load_audio
from meshsync.batch import chunk_ranges
from meshsync.batch.jobs import Job, Rejected, read_jobs
from meshsync.provenance import verify

SMALL = "320x180"


def jobs_folder(speech, tmp_path: Path) -> Path:
    """A folder with the test sentence as two audio files, its alignment, its transcript and a corrupt file."""
    folder = tmp_path / "jobs"
    (folder / "audio").mkdir(parents=True)
    wav, grid, _ = speech
    shutil.copy(wav, folder / "audio" / "map.wav")
    shutil.copy(wav, folder / "audio" / "map2.wav")
    shutil.copy(grid, folder / "audio" / "map.TextGrid")
    (folder / "audio" / "map.txt").write_text("Mom bought plums and apples. Please pass me the map, Bob.\n")
    (folder / "audio" / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 40)
    return folder


def write_csv(path: Path, header: str, *rows: str) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def manifest(out: Path) -> dict:
    return json.loads((out / "meshsync-batch.json").read_text())["jobs"]


def summary(stdout: str) -> dict[str, int]:
    """The job counts of the summary table."""
    rows = [line.split() for line in stdout.splitlines()]
    return {row[0]: int(row[1]) for row in rows if row and row[0] in ("done", "skipped", "failed", "total")}


def stray_files(out: Path, expected: set[str]) -> list[str]:
    """Everything under `out` that is neither an expected output nor the manifest (temporary files, segments)."""
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")
                  if not p.is_dir() and str(p.relative_to(out)) not in expected | {"meshsync-batch.json"})


SIX_JOBS = [  # id, audio, text, alignment, outputs, size, aa, still, seed
    "long,audio/map.wav,,audio/map.TextGrid,mp4 glb,320x180,1,,",
    "curves,audio/map.wav,audio/map.txt,,csv json,,,,",
    "fr/cues,audio/map2.wav,,audio/map.TextGrid,tsv,,,,",
    "still,audio/map2.wav,,audio/map.TextGrid,mp4,320x180,1,true,",
    "seeded,audio/map.wav,,audio/map.TextGrid,glb,,,,7",
    "broken,audio/corrupt.wav,,audio/map.TextGrid,mp4 csv,320x180,1,,",
]
GOOD_OUTPUTS = {"long.mp4", "long.glb", "curves.csv", "curves.csv.xmp", "curves.json", "fr/cues.tsv",
                "fr/cues.tsv.xmp", "still.mp4", "seeded.glb"}  # CSV and TSV with their XMP statements


def test_six_jobs_on_two_workers_with_one_corrupt_audio_then_a_rerun(speech, tmp_path):
    folder = jobs_folder(speech, tmp_path)
    jobs = write_csv(folder / "jobs.csv", "id,audio,text,alignment,outputs,size,aa,still,seed", *SIX_JOBS)
    out = tmp_path / "out"
    result = meshsync("batch", str(jobs), "--out", str(out), "--workers", "2", "--chunk", "1")
    assert result.returncode == 1, result.stderr
    assert summary(result.stdout) == {"done": 5, "skipped": 0, "failed": 1, "total": 6}, result.stdout
    failures = [line for line in result.stderr.splitlines() if line.startswith("meshsync: failed:")]
    assert failures == [f"meshsync: failed: broken: {folder}/audio/corrupt.wav: not an audio format meshsync can "
                        "read (wav, flac, ogg, mp3, m4a/aac, opus, or a video with sound)"]
    records = manifest(out)
    assert {k: r["status"] for k, r in records.items()} == {"long": "done", "curves": "done", "fr/cues": "done",
                                                           "still": "done", "seeded": "done", "broken": "failed"}
    assert "corrupt.wav: not an audio format" in records["broken"]["error"]
    assert all(len(r["inputs"]["audio"]) == 64 and len(r["hash"]) == 64 for r in records.values())
    assert stray_files(out, GOOD_OUTPUTS) == []  # every output, no partial file, no work folder

    # The long clip was rendered in one-second chunks by both workers and joined without re-encoding:
    # the frames and audio are those of a single `meshsync render`.
    wav, grid, _ = speech
    frames = round(load_audio(wav).duration * 30)
    assert records["long"]["chunks"] == len(chunk_ranges(frames, 30, 30, 1)) >= 3
    direct = tmp_path / "direct.mp4"
    assert meshsync("render", str(wav), "--alignment", str(grid), "--size", SMALL, "--aa", "1", "-o",
                    str(direct), "--quiet").returncode == 0
    assert np.array_equal(video_frames(out / "long.mp4", 320, 180), video_frames(direct, 320, 180))
    assert np.array_equal(audio_samples(out / "long.mp4"), audio_samples(direct))
    assert len(video_frames(out / "still.mp4", 320, 180)) == frames
    # Joined from chunks, the batch's video carries its content credentials as a direct render does.
    assert verify(out / "long.mp4").state == verify(direct).state == "valid"
    # A curve export is byte for byte what `meshsync animate` writes.
    direct_glb = tmp_path / "direct.glb"
    assert meshsync("animate", str(wav), "--alignment", str(grid), "--seed", "7", "-o", str(direct_glb),
                    "--quiet").returncode == 0
    assert (out / "seeded.glb").read_bytes() == direct_glb.read_bytes()

    # Second run, same jobs: nothing is redone; the failure is reported again, unchanged.
    stamps = {name: (out / name).stat().st_mtime_ns for name in GOOD_OUTPUTS}
    again = meshsync("batch", str(jobs), "--out", str(out), "--workers", "2")
    assert again.returncode == 1
    assert summary(again.stdout) == {"done": 0, "skipped": 5, "failed": 1, "total": 6}, again.stdout
    assert "1 unchanged since the last run" in again.stdout
    assert {name: (out / name).stat().st_mtime_ns for name in GOOD_OUTPUTS} == stamps
    assert manifest(out) == records

    # The audio is fixed: only that job runs, and the batch succeeds.
    shutil.copy(wav, folder / "audio" / "corrupt.wav")
    fixed = meshsync("batch", str(jobs), "--out", str(out), "--workers", "2")
    assert fixed.returncode == 0, fixed.stderr
    assert summary(fixed.stdout) == {"done": 1, "skipped": 5, "failed": 0, "total": 6}, fixed.stdout
    assert {name: (out / name).stat().st_mtime_ns for name in GOOD_OUTPUTS} == stamps
    assert stray_files(out, GOOD_OUTPUTS | {"broken.mp4", "broken.csv", "broken.csv.xmp"}) == []


def test_a_worker_killed_mid_batch_loses_no_job_and_leaves_no_partial_file(speech, tmp_path):
    folder = jobs_folder(speech, tmp_path)
    rows = [f"clip{i},audio/map.wav,audio/map.TextGrid,mp4,640x360,{i}" for i in range(6)]
    jobs = write_csv(folder / "jobs.csv", "id,audio,alignment,outputs,size,seed", *rows)
    out = tmp_path / "out"
    batch = subprocess.Popen([sys.executable, "-m", "meshsync.cli", "batch", str(jobs), "--out", str(out),
                              "--workers", "2", "--chunk", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    killed = _kill_a_rendering_worker(batch.pid, out, deadline=time.monotonic() + 120)
    stdout, stderr = batch.communicate(timeout=300)
    assert killed, "no worker was caught rendering"
    assert not psutil.pid_exists(killed) or psutil.Process(killed).status() == psutil.STATUS_ZOMBIE
    assert batch.returncode == 0, stderr
    assert summary(stdout) == {"done": 6, "skipped": 0, "failed": 0, "total": 6}, stdout
    expected = {f"clip{i}.mp4" for i in range(6)}
    assert stray_files(out, expected) == []
    frames = round(load_audio(speech[0]).duration * 30)
    for name in expected:
        assert len(video_frames(out / name)) == frames


def _kill_a_rendering_worker(batch_pid: int, out: Path, deadline: float) -> int | None:
    """SIGKILL a worker process of the batch while it renders (its ffmpeg is running and segments are being
    written); its pid, or None if none was caught before the deadline."""
    parent = psutil.Process(batch_pid)
    while time.monotonic() < deadline:
        segments = list((out / ".meshsync-work").glob("*/segment-*.mp4")) if out.is_dir() else []
        for worker in parent.children():
            try:
                rendering = any("ffmpeg" in child.name() for child in worker.children())
            except psutil.NoSuchProcess:
                continue
            if rendering and segments:
                os.kill(worker.pid, signal.SIGKILL)
                return worker.pid
        time.sleep(0.02)
    return None


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])  # Ctrl-C, and how render farms stop a task
def test_an_interrupted_batch_keeps_its_segments_and_resumes(speech, tmp_path, stop):
    count = 6
    folder = jobs_folder(speech, tmp_path)
    # Six jobs, so the batch is still at work when the signal comes after the second segment (with three, a
    # loaded machine could finish them all first).
    jobs = write_csv(folder / "jobs.csv", "id,audio,alignment,outputs,size",
                     *(f"clip{i},audio/map.wav,audio/map.TextGrid,mp4,640x360" for i in range(count)))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "meshsync.cli", "batch", str(jobs), "--out", str(out), "--workers", "2",
               "--chunk", "1"]
    batch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while len(list(out.glob(".meshsync-work/*/segment-*.mp4"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    batch.send_signal(stop)
    _, stderr = batch.communicate(timeout=120)
    assert batch.returncode == 128 + stop, stderr
    assert stderr.strip().endswith("meshsync: interrupted" if stop == signal.SIGINT else "meshsync: stopped by SIGTERM")
    kept = list(out.glob(".meshsync-work/*/segment-*.mp4"))
    assert len(kept) >= 2 and not list(out.glob("*.mp4"))  # whole segments kept, no partial output

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert summary(resumed.stdout)["done"] == count
    direct = tmp_path / "direct.mp4"
    wav, grid, _ = speech
    assert meshsync("render", str(wav), "--alignment", str(grid), "--size", "640x360", "-o", str(direct),
                    "--quiet").returncode == 0
    for i in range(count):
        assert np.array_equal(video_frames(out / f"clip{i}.mp4"), video_frames(direct))
    assert stray_files(out, {f"clip{i}.mp4" for i in range(count)}) == []


def test_jobs_run_on_a_cluster_started_with_the_dask_command(speech, tmp_path):
    folder = jobs_folder(speech, tmp_path)
    jobs = folder / "jobs.jsonl"
    jobs.write_text('{"id": "a", "audio": "audio/map.wav", "alignment": "audio/map.TextGrid", "outputs": ["csv"]}\n'
                    '{"id": "b", "audio": "audio/map2.wav", "text": "audio/map.txt", "outputs": "json glb"}\n')
    dask = [sys.executable, "-m", "dask"]
    scheduler_file = tmp_path / "scheduler.json"
    scheduler = subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = None
    try:
        for _ in range(600):
            if scheduler_file.is_file() and scheduler_file.stat().st_size:
                break
            time.sleep(0.05)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen([*dask, "worker", address, "--nthreads", "1", "--no-dashboard"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = tmp_path / "out"
        result = meshsync("batch", str(jobs), "--out", str(out), "--scheduler", address)
        assert result.returncode == 0, result.stderr
        assert "runs with MALLOC_TRIM_THRESHOLD_=65536, which makes rendering about 1.5x slower" in result.stderr
        assert {k: r["status"] for k, r in manifest(out).items()} == {"a": "done", "b": "done"}
        assert stray_files(out, {"a.csv", "a.csv.xmp", "b.json", "b.glb"}) == []
        by_file = meshsync("batch", str(jobs), "--out", str(out), "--scheduler", str(scheduler_file))
        assert summary(by_file.stdout)["skipped"] == 2, by_file.stdout
        refused = meshsync("batch", str(jobs), "--out", str(out), "--scheduler", address, "--workers", "2")
        assert_one_line_error(refused, "--workers sizes the local cluster")
    finally:
        for process in (worker, scheduler):
            if process:
                process.terminate()
                process.wait(timeout=30)


@pytest.mark.parametrize("name, text, message", [
    ("jobs.csv", "id,audio,fsp\na,x.wav,30\n", "jobs.csv line 1: unknown column 'fsp'; the columns are id, audio"),
    ("jobs.csv", "id,text\na,hello\n", "jobs.csv line 2: the job names no audio"),
    ("jobs.csv", "audio\nx/a.wav\ny/a.wav\n", "jobs.csv line 3: job id 'a' is already used on line 2"),
    ("jobs.csv", "audio,outputs\na.wav,mp4,glb\n", "jobs.csv line 2: more cells than the header"),
    ("jobs.csv", "id,audio,outputs\na,a.wav,rhubarb.json\na.rhubarb,b.wav,json\n",
     "jobs.csv line 3: a.rhubarb.json is also written by line 2"),
    ("jobs.jsonl", '{"audio": "a.wav"}\n{"audio": "b.wav",\n', "jobs.jsonl line 2: not JSON"),
    ("jobs.jsonl", '["a.wav"]\n', "jobs.jsonl line 1: not a JSON object"),
    ("jobs.csv", "id,audio\n", "no jobs in the file"),
    ("jobs.txt", "a.wav\n", "a jobs file is a .csv"),
    ("none.csv", None, "none.csv: no such jobs file"),
])
def test_an_unusable_jobs_file_is_one_line_and_writes_nothing(tmp_path, name, text, message):
    jobs = tmp_path / name
    if text is not None:
        jobs.write_text(text)
    for audio in ("a.wav", "b.wav"):  # the rows' files exist: only the file itself is wrong
        (tmp_path / audio).touch()
    result = meshsync("batch", str(jobs), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, message)
    assert not (tmp_path / "out").exists()


def test_bad_rows_fail_alone_with_their_line(speech, tmp_path):
    folder = jobs_folder(speech, tmp_path)
    jobs = folder / "jobs.jsonl"
    rows = [{"id": "fast", "audio": "audio/map.wav", "fps": "fast"},
            {"id": "mp3", "audio": "audio/map.wav", "outputs": ["mp4", "mp3"]},
            {"id": "avatar", "audio": "audio/map.wav", "avatar": "heads/missing.glb"},
            {"id": "../up", "audio": "audio/map.wav"},
            {"id": "odd", "audio": "audio/map.wav", "size": "641x360"},
            {"id": "camera", "audio": "audio/map.wav", "camera": "drone"},
            {"id": "still", "audio": "audio/map.wav", "still": "maybe"},
            {"id": "meshsync-batch", "audio": "audio/map.wav", "outputs": "json"}]
    jobs.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out"
    result = meshsync("batch", str(jobs), "--out", str(out))
    assert result.returncode == 1
    assert summary(result.stdout) == {"done": 0, "skipped": 0, "failed": 8, "total": 8}
    errors = {k: r["error"] for k, r in manifest(out).items()}
    assert errors == {
        "fast": "line 1: fps 'fast' is not a number",
        "mp3": "line 2: outputs 'mp4 mp3': choose from mp4, tsv, rhubarb.json, json, csv, vrma, glb, gltf, usda, "
               "usdc, usd",
        "avatar": f"line 3: {folder}/heads/missing.glb: no such avatar file",
        "../up": "line 4: '../up' cannot name output files; give an id of letters, digits, '.', '-', '_' "
                 "(and '/' for subfolders)",
        "odd": "line 5: --size 641x360: H.264 needs an even width and height",
        "camera": "line 6: unknown camera preset 'drone'; choose one of face, closeup, bust, three-quarter",
        "still": "line 7: still 'maybe': give true or false",
        "meshsync-batch": "line 8: meshsync-batch.json is the batch's manifest; give this job another id",
    }
    assert stray_files(out, set()) == []


def test_csv_and_json_lines_read_to_the_same_jobs(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "script.txt").write_text("hello")
    write_csv(tmp_path / "jobs.csv", "id,audio,text,outputs,fps,still,seed",
              "one,a.wav,script.txt,mp4;glb,25,yes,3", "two,a.wav,Hello there,csv,,,")
    (tmp_path / "jobs.jsonl").write_text(
        '{"id": "one", "audio": "a.wav", "text": "script.txt", "outputs": ["mp4", "glb"], "fps": 25, "still": true, '
        '"seed": 3}\n\n{"id": "two", "audio": "a.wav", "text": "Hello there", "outputs": "csv"}\n')
    from_csv, from_jsonl = read_jobs(tmp_path / "jobs.csv"), read_jobs(tmp_path / "jobs.jsonl")
    assert all(isinstance(j, Job) and not isinstance(j, Rejected) for j in from_csv)
    assert [replace(j, line=0) for j in from_csv] == [replace(j, line=0) for j in from_jsonl]
    one, two = from_csv
    assert (one.id, one.audio, one.outputs, one.speech, one.animation) == (
        "one", tmp_path / "a.wav", ("mp4", "glb"), SpeechOptions(str(tmp_path / "script.txt")),
        AnimationOptions(fps=25.0, still=True, seed=3))
    assert (two.id, two.outputs, two.speech, two.animation) == (
        "two", ("csv",), SpeechOptions("Hello there"), AnimationOptions())
    assert one.files == {"audio": tmp_path / "a.wav", "text": tmp_path / "script.txt"}
    # One fps column: the video's and the curves' frame rate alike; without it, each its own default.
    assert (one.video.fps, one.animation.fps, two.video.fps, two.animation.fps) == (25.0, 25.0, 30.0, 60.0)


@pytest.mark.parametrize("frames, fps, gop, seconds", [(300, 30, 30, 1), (301, 30, 30, 20), (9000, 25, 25, 7.3),
                                                       (95, 30, 12, 1)])
def test_chunks_tile_the_clip_and_start_on_keyframes(frames, fps, gop, seconds):
    chunks = chunk_ranges(frames, fps, gop, seconds)
    assert [i for chunk in chunks for i in chunk] == list(range(frames))
    assert all(chunk.start % gop == 0 for chunk in chunks)
    assert all(abs(len(chunk) - seconds * fps) <= gop for chunk in chunks[:-1])
