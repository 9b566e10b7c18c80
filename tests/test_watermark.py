"""The watermark (meshsync.watermark): every video and PNG meshsync renders carries it in its pixels, and
`meshsync verify` finds it, with the job id the content credentials name, after what platforms do to video
(H.264 at CRF 28, scaling to 480p, cropping 10 %, all three); it finds none in videos meshsync did not make."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import meshsync, meshsync_here
from PIL import Image
from test_provenance import manifest

from meshsync.files import ffmpeg_exe
from meshsync.provenance import WATERMARK_LABEL
from meshsync.watermark import STRENGTH, THRESHOLD, TILES, _payload, _read_payload, find, pattern

CROP = "crop=iw*0.9:ih*0.9:iw*0.07:ih*0.03"  # 10 % off each side's length, off-centre
TRANSFORMS = {
    "crf28": ["-crf", "28"],
    "480p": ["-vf", "scale=854:480"],
    "crop10": ["-vf", CROP],
    "all three": ["-vf", f"{CROP},scale=854:480", "-crf", "28"],
}


@pytest.fixture(autouse=True)
def machine_config(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))


@pytest.fixture(scope="module")
def marked(speech, tmp_path_factory) -> tuple[Path, str]:
    """A 720p render and the job id its content credentials name."""
    wav, grid, _ = speech
    video = tmp_path_factory.mktemp("marked") / "talk.mp4"
    result = meshsync_here("render", wav, "--alignment", grid, "--size", "1280x720", "--aa", "1", "-o", video,
                           "--quiet")
    assert result.returncode == 0, result.stderr
    job = next(a for a in manifest(video)["assertions"] if a["label"] == WATERMARK_LABEL)["data"]["job"]
    return video, job


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *args], check=True)


def verify_json(path: Path) -> tuple[int, dict]:
    result = meshsync("verify", str(path), "--json")
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_the_watermark_survives_what_platforms_do(marked, tmp_path, name):
    video, job = marked
    out = tmp_path / "platform.mp4"
    ffmpeg("-i", str(video), *TRANSFORMS[name], "-c:v", "libx264", "-c:a", "aac", str(out))
    code, found = verify_json(out)
    assert found["state"] == "missing"  # the re-encode dropped the content credentials ...
    assert found["watermark"]["found"] and found["watermark"]["job"] == job, found  # ... not the mark
    assert code == 0


def test_the_original_carries_both_marks_with_one_job_id(marked):
    video, job = marked
    result = meshsync("verify", str(video))
    assert result.returncode == 0
    assert ": valid: synthetic" in result.stdout and f"watermark: meshsync job {job}" in result.stdout


@pytest.mark.parametrize("source", ["testsrc2", "smptehdbars", "mandelbrot", "color=c=slategray"])
def test_no_watermark_in_videos_meshsync_did_not_make(speech, tmp_path, source):
    wav = speech[0]
    out = tmp_path / "foreign.mp4"
    generator = f"{source}{':' if '=' in source else '='}size=1280x720:rate=30"
    ffmpeg("-f", "lavfi", "-i", generator, "-i", str(wav), "-t", "2", "-vf", "format=yuv420p,noise=alls=8:allf=t",
           "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac", str(out))
    result = meshsync("verify", str(out))
    assert result.returncode == 1
    assert result.stdout.strip().endswith("no watermark"), result.stdout


def test_png_frames_carry_the_watermark(speech, tmp_path):
    wav, grid, _ = speech
    result = meshsync_here("render", wav, "--alignment", grid, "--size", "1280x720", "--aa", "1", "--frames", "3-4",
                           "-o", tmp_path / "f_%03d.png", "--quiet")
    assert result.returncode == 0, result.stderr
    code, found = verify_json(tmp_path / "f_003.png")
    assert code == 0 and found["state"] == "valid" and found["watermark"]["found"]
    job = next(a for a in manifest(tmp_path / "f_003.png")["assertions"] if a["label"] == WATERMARK_LABEL)
    assert found["watermark"]["job"] == job["data"]["job"]


def test_the_mark_is_faint_and_tiled():
    mark = pattern(1280, 720, 0x12345678)
    period = 720 // TILES
    assert abs(mark.std() - STRENGTH) < 0.1 and np.abs(mark).max() <= 5
    assert np.array_equal(mark[:, :period], mark[:, period:2 * period])
    assert np.array_equal(mark, pattern(1280, 720, 0x12345678))
    assert not np.array_equal(mark, pattern(1280, 720, 0x12345679))


def test_a_payload_with_a_wrong_bit_is_not_read():
    bits = _payload(0xDEADBEEF)
    assert _read_payload(bits) == 0xDEADBEEF
    bits[5] = not bits[5]
    assert _read_payload(bits) is None


def test_the_detector_finds_the_job_after_a_crop_and_rescale():
    """Without a codec: a smooth picture with the mark, cropped 15 % off-centre and scaled to 480 lines."""
    rng = np.random.default_rng(3)
    from scipy.ndimage import gaussian_filter

    picture = 120 + 60 * gaussian_filter(rng.normal(size=(720, 1280)), 40) / 0.01
    marked = np.clip(picture + pattern(1280, 720, 0x0BADCAFE), 0, 255).astype(np.uint8)
    for image, job in ((marked, 0x0BADCAFE), (np.clip(picture, 0, 255).astype(np.uint8), None)):
        cropped = Image.fromarray(image).crop((100, 40, 100 + 1088, 40 + 612)).resize((854, 480), Image.BOX)
        found = find(np.asarray(cropped, np.float32)[None])
        assert found.job == job and found.found == (job is not None)
        if job is not None:
            assert found.strength >= THRESHOLD and abs(found.kept - 0.85) < 0.01
