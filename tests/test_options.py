"""meshsync.options: options values built by field name from flags or cells, text parsed by each field's type,
checks in the values themselves; the files a jobs file may name."""

from __future__ import annotations

from pathlib import Path

import pytest

from meshsync.align.speech import SpeechOptions
from meshsync.animate import CURVES_FPS, AnimationOptions
from meshsync.errors import UserError
from meshsync.options import build, file_fields
from meshsync.render.video import VIDEO_FPS, VideoOptions
from meshsync.rig import RigOptions


def test_text_becomes_each_fields_type():
    assert build(AnimationOptions, {"fps": "25", "still": "yes", "seed": "3", "method": "network"}) == \
        AnimationOptions(fps=25.0, method="network", still=True, seed=3)
    assert build(VideoOptions, {"size": "640x360", "gop": "12"}) == VideoOptions(size=(640, 360), gop=12)
    assert build(SpeechOptions, {"alignment": "a.TextGrid"}).alignment == Path("a.TextGrid")


def test_missing_and_none_values_keep_the_defaults():
    assert build(AnimationOptions, {"fps": None, "audio": "x.wav"}) == AnimationOptions()
    assert AnimationOptions().fps == CURVES_FPS and VideoOptions().fps == VIDEO_FPS
    assert build(VideoOptions, {}) == VideoOptions()


@pytest.mark.parametrize("kind, values, message", [
    (AnimationOptions, {"fps": "fast"}, "fps 'fast' is not a number"),
    (AnimationOptions, {"seed": "1.5"}, "seed '1.5' is not an integer"),
    (AnimationOptions, {"still": "maybe"}, "still 'maybe': give true or false"),
    (AnimationOptions, {"fps": "0"}, "--fps 0 is out of range"),
    (AnimationOptions, {"method": "magic"}, "unknown method 'magic'; choose one of rules, network"),
    (SpeechOptions, {"aligner": "kaldi"}, "unknown aligner 'kaldi'; choose one of pocketsphinx, mfa"),
    (SpeechOptions, {"text": "hello", "alignment": "a.TextGrid"}, "not both"),
    (VideoOptions, {"size": "big"}, "--size 'big': give WIDTHxHEIGHT"),
    (VideoOptions, {"aa": "9"}, "--aa 9 is out of range"),
    (VideoOptions, {"camera": "drone"}, "unknown camera preset 'drone'"),
    (VideoOptions, {"background": "not-a-colour"}, "not a colour"),
])
def test_values_are_checked_when_made(kind, values, message):
    with pytest.raises(UserError, match=message):
        build(kind, values)


def test_the_fields_that_name_files():
    assert file_fields(SpeechOptions) == {"text": ".txt", "alignment": None, "lexicon": None}
    assert file_fields(RigOptions) == {"avatar": None, "rig": ".toml"}
    assert file_fields(VideoOptions) == {"background": ""}


def test_a_background_image_is_decoded_once_for_the_check_and_the_render(tmp_path):
    from PIL import Image

    from meshsync.render.video import _image_pixels, parse_background

    image, broken = tmp_path / "studio.png", tmp_path / "broken.png"
    Image.new("RGB", (8, 4), (10, 20, 30)).save(image)
    broken.write_bytes(image.read_bytes()[:40])  # a PNG header with no pixels: refused when the value is made
    with pytest.raises(UserError, match="not an image PIL can read"):
        VideoOptions(background=str(broken))
    _image_pixels.cache_clear()
    options = VideoOptions(background=str(image))
    pixels = parse_background(options.background)
    assert pixels.shape == (4, 8, 3) and tuple(pixels[0, 0]) == (10, 20, 30)
    assert (_image_pixels.cache_info().misses, _image_pixels.cache_info().hits) == (1, 1)
