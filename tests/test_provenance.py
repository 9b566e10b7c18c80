"""Content credentials (meshsync.provenance): every MP4 and PNG meshsync renders carries a signed C2PA
manifest that declares it synthetic and hashes its inputs; `meshsync verify` finds it, and finds a changed
frame, a changed audio sample or a changed pixel; a file meshsync did not sign has none."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import assert_one_line_error, meshsync, meshsync_here
from PIL import Image

from meshsync.animate.curves import frame_count
from meshsync.audio import load_audio
from meshsync.export.livelink import columns
from meshsync.files import bundled_avatars, default_avatar_path, ffmpeg_exe, file_hash
from meshsync.gltf import parse_glb
from meshsync.provenance import (
    INPUTS_LABEL,
    SOURCE_TYPE,
    STATEMENT_KEY,
    new_identity,
    split_identity,
    statement,
    verify,
)

SIZE = ["--size", "160x96", "--aa", "1"]


@pytest.fixture(autouse=True)
def machine_config(tmp_path_factory, monkeypatch):
    """This machine's signing identity lives in a config folder of the test's own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config"))


@pytest.fixture(scope="module")
def clip(speech):
    wav, grid, _ = speech
    return wav, grid


def render(clip, out: Path, *extra: str) -> Path:
    wav, grid = clip
    result = meshsync_here("render", wav, "--alignment", grid, *SIZE, "-o", out, "--quiet", *extra)
    assert result.returncode == 0, result.stderr
    return out


def manifest(path: Path) -> dict:
    import c2pa

    with path.open("rb") as f, c2pa.Reader("video/mp4" if path.suffix == ".mp4" else "image/png", f) as reader:
        store = json.loads(reader.json())
    return store["manifests"][store["active_manifest"]]


def test_a_rendered_mp4_says_it_is_synthetic_and_what_made_it(clip, tmp_path):
    video = render(clip, tmp_path / "talk.mp4")
    verdict = verify(video)
    assert verdict.state == "valid" and verdict.synthetic and verdict.generator.startswith("meshsync ")
    found = manifest(video)
    actions = next(a for a in found["assertions"] if a["label"] == "c2pa.actions.v2")["data"]["actions"]
    assert actions[0]["action"] == "c2pa.created" and actions[0]["digitalSourceType"] == SOURCE_TYPE
    hashes = next(a for a in found["assertions"] if a["label"] == INPUTS_LABEL)["data"]
    wav, grid = clip
    assert hashes == {"audio": {"sha256": file_hash(wav)}, "alignment": {"sha256": file_hash(grid)},
                      "avatar": {"sha256": file_hash(default_avatar_path())}}
    assert str(tmp_path) not in json.dumps(found)  # no paths or names of the user's files


def test_verify_prints_a_line_per_file_and_fails_when_one_has_none(clip, tmp_path):
    video = render(clip, tmp_path / "talk.mp4")
    plain = tmp_path / "plain.png"
    Image.new("RGB", (32, 32), "white").save(plain)
    result = meshsync("verify", str(video), str(plain))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{video}: valid: synthetic")
    assert lines[1] == f"{plain}: missing: no content credentials; no watermark"
    good = meshsync("verify", "--json", str(video))
    assert good.returncode == 0 and json.loads(good.stdout)["state"] == "valid"
    assert_one_line_error(meshsync_here("verify", tmp_path / "nothing.mp4"), "nothing.mp4")


def _first_payload(video: Path, stream: str, fmt: str, skip: int) -> bytes:
    """64 bytes of the first sizeable packet of a stream, as the MP4 stores them."""
    raw = subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(video), "-map", f"0:{stream}", "-c", "copy",
                          "-f", fmt, "-"], capture_output=True, check=True).stdout
    return raw[skip:skip + 64]


@pytest.mark.parametrize("stream, fmt, skip", [("v", "h264", 400), ("a", "adts", 7 + 40)])
def test_a_changed_frame_or_audio_sample_reads_as_tampered(clip, tmp_path, stream, fmt, skip):
    video = render(clip, tmp_path / "talk.mp4")
    data = bytearray(video.read_bytes())
    payload = _first_payload(video, stream, fmt, skip)
    at = data.find(payload)
    assert at > 0 and data.find(payload, at + 1) < 0  # found once: the stream's own bytes in the file
    data[at + 10] ^= 0x01
    video.write_bytes(bytes(data))
    verdict = verify(video)
    assert verdict.state == "tampered" and verdict.issues, verdict


def _flip_idat_byte(png: Path) -> None:
    """Change one byte of a PNG's image data, keeping the chunk's CRC right (a changed pixel)."""
    data = bytearray(png.read_bytes())
    at = data.find(b"IDAT")
    length = struct.unpack(">I", data[at - 4:at])[0]
    data[at + 4 + length // 2] ^= 0x01
    data[at + 4 + length:at + 8 + length] = struct.pack(">I", zlib.crc32(data[at:at + 4 + length]))
    png.write_bytes(bytes(data))


def test_png_frames_are_signed_and_a_changed_pixel_reads_as_tampered(clip, tmp_path):
    render(clip, tmp_path / "f_%03d.png", "--frames", "10-11")
    frames = sorted(tmp_path.glob("f_*.png"))
    assert [verify(f).state for f in frames] == ["valid", "valid"]
    assert np.asarray(Image.open(frames[0])).shape[:2] == (96, 160)  # still an ordinary PNG
    _flip_idat_byte(frames[0])
    assert verify(frames[0]).state == "tampered"


def test_segments_are_unsigned_and_the_joined_video_is_signed(clip, tmp_path):
    wav = clip[0]
    frames = frame_count(load_audio(wav).duration, 30.0)
    first = render(clip, tmp_path / "a.mp4", "--frames", "0-29")
    second = render(clip, tmp_path / "b.mp4", "--frames", f"30-{frames - 1}")
    assert verify(first).state == verify(second).state == "missing"
    joined = tmp_path / "joined.mp4"
    result = meshsync_here("concat", first, second, "--audio", wav, "-o", joined, "--quiet")
    assert result.returncode == 0, result.stderr
    assert verify(joined).state == "valid"


def _identity(folder: Path, name: str) -> tuple[Path, Path]:
    """A user's key and certificate chain files, in their own name."""
    key, chain = split_identity(new_identity(name))
    (folder / "key.pem").write_bytes(key)
    (folder / "chain.pem").write_bytes(chain)
    return folder / "key.pem", folder / "chain.pem"


def test_the_users_key_signs_when_given(clip, tmp_path):
    key, chain = _identity(tmp_path, "Example Studio")
    video = render(clip, tmp_path / "talk.mp4", "--sign-key", str(key), "--sign-cert", str(chain))
    verdict = verify(video)
    assert verdict.state == "valid" and "signed by Example Studio" in verdict.detail
    assert_one_line_error(meshsync_here("render", clip[0], "--alignment", clip[1], "-o", tmp_path / "x.mp4",
                                        "--sign-key", key), "--sign-cert")
    assert not (tmp_path / "x.mp4").exists()
    (tmp_path / "not-a-key.pem").write_text("hello")
    assert_one_line_error(meshsync_here("render", clip[0], "--alignment", clip[1], "-o", tmp_path / "x.mp4",
                                        "--sign-key", tmp_path / "not-a-key.pem", "--sign-cert", chain),
                          "--sign-key: not an unencrypted PEM private key")
    assert not (tmp_path / "x.mp4").exists()


def test_renders_differ_only_in_their_credentials(clip, tmp_path):
    """The pictures and sound are the same bytes each time; the signed manifest (its time and id) is not."""
    first, second = render(clip, tmp_path / "a.mp4"), render(clip, tmp_path / "b.mp4")

    def streams(path: Path) -> bytes:
        return subprocess.run([ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0", "-c", "copy", "-f",
                               "nut", "-fflags", "+bitexact", "-"], capture_output=True, check=True).stdout

    assert streams(first) == streams(second)
    assert first.read_bytes() != second.read_bytes()


def test_every_export_states_it_is_synthetic_where_its_format_has_metadata(clip, tmp_path):
    wav, grid = clip
    written = {}
    for name in ("talk.glb", "talk.gltf", "talk.vrma", "curves.json", "cues.rhubarb.json", "talk.usda", "talk.csv",
                 "cues.tsv"):
        written[name] = tmp_path / name
        result = meshsync_here("animate", wav, "--alignment", grid, "-o", written[name], "--quiet")
        assert result.returncode == 0, result.stderr
    expected = statement()
    assert expected["synthetic"] and expected["digitalSourceType"] == SOURCE_TYPE
    for name in ("talk.glb", "talk.gltf", "talk.vrma"):
        path = written[name]
        doc, _ = parse_glb(path.read_bytes(), path) if name != "talk.gltf" else (json.loads(path.read_text()), None)
        assert doc["asset"]["extras"][STATEMENT_KEY] == expected, name
        packets = doc["extensions"]["KHR_xmp_json_ld"]["packets"]
        animation = next(a for a in doc["animations"] if "extensions" in a)
        packet = packets[animation["extensions"]["KHR_xmp_json_ld"]["packet"]]
        assert packet["Iptc4xmpExt:DigitalSourceType"] == SOURCE_TYPE and "KHR_xmp_json_ld" in doc["extensionsUsed"]
    assert "KHR_xmp_json_ld" not in json.loads(written["talk.gltf"].read_text())["asset"].get("extensions", {})
    assert [verify(written[name]).state for name in ("talk.glb", "talk.gltf", "talk.vrma")] == ["declared"] * 3
    assert verify(written["talk.glb"]).synthetic
    assert verify(bundled_avatars()["head"].path).state == "missing"  # an avatar meshsync did not animate
    assert json.loads(written["curves.json"].read_text())[STATEMENT_KEY] == expected
    assert json.loads(written["cues.rhubarb.json"].read_text())["metadata"][STATEMENT_KEY] == expected
    from pxr import Sdf

    assert dict(Sdf.Layer.FindOrOpen(str(written["talk.usda"])).customLayerData[STATEMENT_KEY]) == expected
    # Live Link Face's CSV, as Unreal imports it, has no place for a statement: it stays the app's layout, and
    # an XMP sidecar beside it states what it is; so for Rhubarb's TSV.
    header, *rows = written["talk.csv"].read_text().splitlines()
    assert header == ",".join(("Timecode", "BlendShapeCount", *columns()))
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d:\d\d\.\d{3},61(,-?\d+\.\d{6}){61}", row) for row in rows)
    assert all(re.fullmatch(r"\d+\.\d{3}\t[A-HX]", row) for row in written["cues.tsv"].read_text().splitlines())
    for name in ("talk.csv", "cues.tsv"):
        verdict = verify(written[name])
        assert verdict.state == "declared" and verdict.synthetic and f"{name}.xmp" in verdict.detail, verdict
        assert verdict.generator.startswith("meshsync ")


def test_a_changed_csv_or_a_missing_sidecar_is_told(clip, tmp_path):
    wav, grid = clip
    csv = tmp_path / "talk.csv"
    result = meshsync("animate", str(wav), "--alignment", str(grid), "-o", str(csv))
    assert result.returncode == 0 and "talk.csv.xmp" in result.stdout, result.stderr
    assert meshsync("verify", str(csv)).returncode == 0
    csv.write_text(csv.read_text().replace(",61,", ",61,1", 1))
    result = meshsync("verify", str(csv))
    assert result.returncode == 1 and ": tampered: changed since talk.csv.xmp was written" in result.stdout
    (tmp_path / "talk.csv.xmp").unlink()
    assert verify(csv).state == "missing"


def test_a_visible_label_sits_in_its_corner_and_nowhere_else(clip, tmp_path):
    plain = np.asarray(Image.open(render(clip, tmp_path / "p_%03d.png", "--frames", "5-5").parent / "p_005.png"))
    render(clip, tmp_path / "l_%03d.png", "--frames", "5-5", "--label", "AI-generated", "--label-corner", "top-left")
    labelled = np.asarray(Image.open(tmp_path / "l_005.png"))
    changed = np.abs(labelled.astype(int) - plain).sum(axis=2) > 0
    rows, cols = np.nonzero(changed)
    assert changed.sum() > 100  # the text and its box
    assert rows.max() < 96 // 3 and cols.max() < 160 * 2 // 3  # in the top-left corner, nowhere else
    assert_one_line_error(meshsync_here("render", clip[0], "--alignment", clip[1], "-o", tmp_path / "x.mp4",
                                        "--label-corner", "middle"), "--label-corner middle")
