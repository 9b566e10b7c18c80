"""`meshsync render` and `concat`: the MP4 decoded by ffmpeg (frames, streams, audio, pixels in the mouth),
frame ranges joined without re-encoding, PNG sequences, and bad input that leaves nothing behind."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync
from gltf_factory import quad_glb
from PIL import Image

from meshsync.audio import load_audio
from meshsync.avatar import load_avatar
from meshsync.eval import mouth_box as eval_mouth_box
from meshsync.eval import open_mouth_pixels
from meshsync.files import default_avatar_path, ffmpeg_exe
from meshsync.render.camera import frame_face

WIDTH, HEIGHT, FPS = 640, 360, 30
SIZE = ["--size", f"{WIDTH}x{HEIGHT}", "--fps", str(FPS)]
BILABIALS = ("M", "B", "P")
OPEN_VOWELS = ("AA", "AE", "AO", "AY", "AW")


def render(speech, out: Path, *extra: str) -> subprocess.CompletedProcess:
    wav, grid, _ = speech
    result = meshsync("render", str(wav), "--alignment", str(grid), *SIZE, "-o", str(out), "--quiet", *extra)
    assert result.returncode == 0, result.stderr
    return result


def video_frames(path: Path, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:v", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def audio_samples(path: Path) -> np.ndarray:
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a", "-f", "f32le", "-ac", "1",
                          "-ar", "48000", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def first_timestamps(path: Path) -> dict[int, float]:
    """Each stream's first presentation time in seconds, from ffmpeg's per-packet listing."""
    lines = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0", "-c", "copy", "-f", "framecrc",
                            "-"], capture_output=True, text=True, check=True).stdout.splitlines()
    bases = {int(line.split()[1][:-1]): line.split()[2] for line in lines if line.startswith("#tb")}
    first: dict[int, float] = {}
    for line in lines:
        if line.startswith("#"):
            continue
        stream, _, pts, *_ = (field.strip() for field in line.split(","))
        num, den = bases[int(stream)].split("/")
        seconds = int(pts) * int(num) / int(den)
        if "Skip Samples" not in line:  # the AAC priming packet is dropped by every decoder
            first[int(stream)] = min(first.get(int(stream), seconds), seconds)
    return first


def test_mp4_has_every_frame_and_the_audio_from_time_zero(speech, tmp_path):
    wav, _, _ = speech
    out = tmp_path / "talk.mp4"
    render(speech, out)
    source = load_audio(wav)
    frames = video_frames(out)
    assert len(frames) == round(source.duration * FPS)
    decoded = audio_samples(out)
    assert abs(len(decoded) / 48000 - source.duration) < 1 / FPS
    assert abs(len(frames) / FPS - len(decoded) / 48000) < 1 / FPS
    assert first_timestamps(out) == {0: 0.0, 1: 0.0}
    # The audio is the speech itself, not shifted: correlation peaks at zero lag (within 1 ms).
    original = load_audio(wav, rate=48000).samples
    n = min(len(original), len(decoded))
    lags = range(-96, 97)
    score = [np.dot(original[max(0, -k):n - max(0, k)], decoded[max(0, k):n - max(0, -k)]) for k in lags]
    assert abs(lags[int(np.argmax(score))]) <= 48


def mouth_box() -> tuple[slice, slice]:
    head = load_avatar(default_avatar_path())
    return eval_mouth_box(head, frame_face(head, WIDTH / HEIGHT), WIDTH, HEIGHT)


def test_frames_show_closed_lips_on_bilabials_and_the_mouth_open_on_vowels(speech, tmp_path):
    _, _, phones = speech
    out = tmp_path / "still.mp4"
    render(speech, out, "--still")
    frames = video_frames(out)
    rows, cols = mouth_box()

    def middle(labels, shortest=0.0):
        return [(open_mouth_pixels(frames[round((start + end) / 2 * FPS)][rows, cols]), end - start)
                for label, start, end in phones if label in labels and end - start >= shortest]

    closed, opened = middle(BILABIALS), middle(OPEN_VOWELS, 0.05)
    assert len(closed) >= 12 and len(opened) >= 5
    assert max(pixels for pixels, _ in closed) <= 2, closed
    # Open vowels show the teeth or the dark inside; a vowel squeezed between two closures ("Mom") may not.
    assert all(pixels >= 15 for pixels, length in opened if length >= 0.08), opened
    assert sum(pixels >= 15 for pixels, _ in opened) >= len(opened) - 1, opened


def test_head_moves_unless_still(speech, tmp_path):
    alive, still = tmp_path / "alive.mp4", tmp_path / "still.mp4"
    render(speech, alive)
    render(speech, still, "--still")
    a, s = video_frames(alive).astype(int), video_frames(still).astype(int)
    above_mouth = slice(0, mouth_box()[0].start)  # eyes, brows, hair: they move only with secondary motion
    moving = np.abs(np.diff(s[:, above_mouth], axis=0)).mean(axis=(1, 2, 3))
    assert moving.max() <= 0.3, moving.max()  # the still head's upper face does not move (codec noise only)
    assert np.abs(a[:, above_mouth] - s[:, above_mouth]).mean(axis=(1, 2, 3)).max() > 1.0


def test_chunks_joined_give_the_frames_and_audio_of_the_full_render(speech, tmp_path):
    wav = speech[0]
    full = tmp_path / "full.mp4"
    render(speech, full)
    total = round(load_audio(wav).duration * FPS)
    chunks = [(0, 29), (30, 89), (90, total - 1)]
    segments = []
    for start, end in chunks[::-1]:  # any order
        segment = tmp_path / f"seg{start}.mp4"
        render(speech, segment, "--frames", f"{start}-{end}")
        assert len(video_frames(segment)) == end - start + 1
        segments.append(segment)
    joined = tmp_path / "joined.mp4"
    result = meshsync("concat", *map(str, segments), "--audio", str(wav), "-o", str(joined))
    assert result.returncode == 0, result.stderr
    assert np.array_equal(video_frames(joined), video_frames(full))
    assert np.array_equal(audio_samples(joined), audio_samples(full))

    result = meshsync("concat", *map(str, segments[:2]), "--audio", str(wav), "-o", str(tmp_path / "gap.mp4"))
    assert_one_line_error(result, "frames 0-29 are missing")
    assert not (tmp_path / "gap.mp4").exists()


def test_png_chunk_matches_the_full_png_sequence(speech, tmp_path):
    (tmp_path / "all").mkdir()
    (tmp_path / "part").mkdir()
    render(speech, tmp_path / "all" / "f_%04d.png")
    render(speech, tmp_path / "part" / "f_%04d.png", "--frames", "40-47")
    part = sorted((tmp_path / "part").iterdir())
    assert [p.name for p in part] == [f"f_{i:04d}.png" for i in range(40, 48)]
    for path in part:
        assert np.array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(tmp_path / "all" / path.name)))
    assert len(list((tmp_path / "all").iterdir())) == round(load_audio(speech[0]).duration * FPS)


def test_background_image_and_camera_preset(speech, tmp_path):
    backdrop = tmp_path / "backdrop.png"
    Image.new("RGB", (64, 36), (200, 30, 30)).save(backdrop)
    out = tmp_path / "closeup.mp4"
    render(speech, out, "--background", str(backdrop), "--camera", "closeup", "--frames", "0-29")
    frame = video_frames(out)[0].astype(int)
    assert abs(frame[5, 5] - [200, 30, 30]).max() <= 6  # the corner shows the image
    face = load_avatar(default_avatar_path())
    eyes = frame_face(face, WIDTH / HEIGHT, "closeup").project(
        np.array([face.landmark_points()["eyeLeft"]]), WIDTH, HEIGHT)[0]
    wide = frame_face(face, WIDTH / HEIGHT).project(np.array([face.landmark_points()["eyeLeft"]]), WIDTH, HEIGHT)[0]
    assert abs(eyes[0] - WIDTH / 2) > 1.5 * abs(wide[0] - WIDTH / 2)  # closer in


def no_files(folder: Path, keep: set[Path]) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and p not in keep]


@pytest.mark.parametrize("audio, output, extra, message", [  # {tmp}: the test's folder; {wav}: the speech
    ("{tmp}/none.wav", "out.mp4", [], "no such audio file"),
    ("{tmp}/junk.wav", "out.mp4", [], "not an audio format"),
    ("{wav}", "out.mp4", ["--avatar", "{tmp}/quad.glb"], "no usable morph targets (found lift, push"),
    ("{wav}", "missing/out.mp4", [], "does not exist"),
    ("{wav}", "out.avi", [], "write the video as .mp4"),
    ("{wav}", "frame.png", [], "frame-number placeholder"),
    ("{wav}", "out.mp4", ["--size", "641x360"], "even width and height"),
    ("{wav}", "out.mp4", ["--frames", "10"], "START-END"),
    ("{wav}", "out.mp4", ["--frames", "10-40"], "must start on a keyframe"),
    ("{wav}", "out.mp4", ["--frames", "0-100000"], "outside the clip's frames"),
])
def test_bad_input_is_one_line_and_leaves_no_file(speech, tmp_path, audio, output, extra, message):
    wav, grid, _ = speech
    quad = quad_glb(tmp_path / "quad.glb")
    junk = tmp_path / "junk.wav"
    junk.write_text("this is not audio")
    audio, *extra = (a.format(tmp=tmp_path, wav=wav) for a in [audio, *extra])
    result = meshsync("render", audio, "--alignment", str(grid), "-o", str(tmp_path / output), *extra)
    assert_one_line_error(result, message)
    if "--avatar" in extra:
        assert "supported: ARKit 52" in result.stderr
    assert not no_files(tmp_path, {quad, junk})


def test_disk_full_mid_render_is_one_line_and_leaves_no_partial_file(speech, small_disk):
    wav, grid, _ = speech
    result = meshsync("render", str(wav), "--alignment", str(grid), "-o", str(small_disk / "talk.mp4"), "--quiet")
    assert_one_line_error(result, "cannot write", "no space left on device")
    assert not list(small_disk.iterdir())


def test_file_size_limit_mid_render_leaves_no_partial_file(speech, tmp_path):
    wav, grid, _ = speech

    def limit_file_size():  # files this process (and ffmpeg) writes may not grow past 200 kB
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    out = tmp_path / "talk.mp4"
    result = subprocess.run([sys.executable, "-m", "meshsync.cli", "render", str(wav), "--alignment", str(grid),
                             "-o", str(out), "--quiet"], capture_output=True, text=True, preexec_fn=limit_file_size)
    assert_one_line_error(result, "cannot write", "file too large")
    assert not no_files(tmp_path, set())


@pytest.mark.parametrize("name", ["vrm1", "jaw"])
def test_render_opens_the_mouth_of_vrm_and_jaw_bone_avatars(speech, avatars, tmp_path, name):
    from PIL import Image

    wav, grid, phones = speech
    vowel = max((p for p in phones if p[0] == "AA"), key=lambda p: p[2] - p[1])
    frame = round((vowel[1] + vowel[2]) / 2 * 30)
    result = meshsync("render", str(wav), "--alignment", str(grid), "--avatar", str(avatars[name]), "--still",
                      "--size", "320x180", "--frames", f"0-{frame}", "-o", str(tmp_path / "f_%03d.png"), "--quiet")
    assert result.returncode == 0, result.stderr
    rest, open_mouth = (np.asarray(Image.open(tmp_path / f"f_{i:03d}.png")).astype(int) for i in (0, frame))
    lower_face = (slice(90, 150), slice(130, 190))
    # The aa expression (VRM), or the jaw joint turned by jawOpen, opened the mouth.
    assert np.abs(open_mouth[lower_face] - rest[lower_face]).max() > 60
