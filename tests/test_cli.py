"""The `meshsync` command: every stage's options reach it as flags, and bad input to any command is one line."""

from __future__ import annotations

import argparse
from dataclasses import fields

import pytest
from cli_helpers import assert_one_line_error, meshsync

from meshsync.align.speech import SpeechOptions
from meshsync.animate import CURVES_FPS, AnimationOptions
from meshsync.batch.jobs import COLUMNS
from meshsync.cli import build_parser
from meshsync.export import ExportOptions
from meshsync.render.video import VIDEO_FPS, VideoOptions
from meshsync.rig import RigOptions


@pytest.mark.parametrize("args,words", [
    (["poses", "--avatar", "no-such.glb", "-o", "{tmp}/x.png"], ["no-such.glb", "no such avatar file"]),
    (["poses", "-o", "{tmp}/x.jpg"], ["PNG"]),
    (["poses", "-o", "{tmp}/missing-folder/x.png"], ["does not exist"]),
    (["poses", "-o", "{tmp}/x.png", "--aa", "7"], ["anti-aliasing"]),
    (["inspect", "{tmp}"], ["is a folder"]),
])
def test_bad_input_gives_one_line_and_no_output(tmp_path, args, words):
    result = meshsync(*[a.format(tmp=tmp_path) for a in args])
    assert_one_line_error(result, *words)
    assert list(tmp_path.iterdir()) == []


STAGES = {  # command -> the options values it builds from its flags
    "align": (SpeechOptions,),
    "animate": (SpeechOptions, AnimationOptions, RigOptions, ExportOptions),
    "render": (SpeechOptions, AnimationOptions, RigOptions, VideoOptions),
}


@pytest.mark.parametrize("command", sorted(STAGES))
def test_every_option_of_a_stage_is_a_flag_of_its_commands(command):
    """A field of an options value is an option of every command that builds the value (and a column of
    jobs files: meshsync.batch.jobs.COLUMNS)."""
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    subparser = commands.choices[command]
    flags = {action.dest for action in subparser._actions}
    for kind in STAGES[command]:
        missing = [f.name for f in fields(kind) if f.name not in flags]
        assert not missing, f"{command} has no flag for {kind.__name__}.{', '.join(missing)}"
    assert set(COLUMNS) >= {f.name for kind in STAGES[command] for f in fields(kind)}


def test_help_states_the_defaults_the_options_hold():
    render = meshsync("render", "--help").stdout
    width, height = VideoOptions.size
    for default in (f"default {width}x{height}", f"default {VIDEO_FPS:g}", f"default {VideoOptions.aa:g}",
                    f"default {VideoOptions.camera}", f"default {SpeechOptions.aligner}"):
        assert default in " ".join(render.split()), default
    animate = " ".join(meshsync("animate", "--help").stdout.split())
    assert f"default {CURVES_FPS:g}" in animate and f"default {ExportOptions.tolerance:g}" in animate
