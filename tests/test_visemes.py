"""The viseme table (meshsync/visemes.toml) is the one place a mouth pose is written: rig profiles and Rhubarb
cue shapes name its visemes, so a change to a viseme reaches all of them."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from meshsync.align import Segment
from meshsync.errors import UserError
from meshsync.export.cues import SHAPES, cue_shapes
from meshsync.files import data_dir
from meshsync.rig.profiles import read_profile
from meshsync.visemes import TABLE, load_table, resolve_pose, viseme_spans

PROFILES = sorted(data_dir("rigs").glob("*.toml"))


def retuned_table(tmp_path: Path, viseme: str, pose: str) -> Path:
    """A copy of the bundled table with one viseme's pose replaced."""
    lines = TABLE.read_text().splitlines()
    at = lines.index(f"[visemes.{viseme}]") + 1
    assert lines[at].startswith("pose = ")
    lines[at] = f"pose = {pose}"
    path = tmp_path / "visemes.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("viseme", ["aa", "PP", "ou", "iy", "E"])
def test_a_viseme_tuned_in_the_table_reaches_every_rig_profile_and_the_cues(tmp_path, viseme):
    pose = {"jawOpen": 0.5, "mouthFunnel": 0.25}
    table = load_table(retuned_table(tmp_path, viseme, "{ jawOpen = 0.5, mouthFunnel = 0.25 }"))
    reached = []
    for path in PROFILES:
        written = tomllib.loads(path.read_text()).get("poses", {})
        profile = read_profile(path, table)
        for shape, entry in written.items():
            if entry == viseme:
                assert dict(profile.poses[shape]) == pose, (path.name, shape)
                reached.append(path.stem)
    _, names, poses = cue_shapes(table)
    mouth = [name for name in table.names if table.mouth[table.index(name)]]
    for shape, entry in tomllib.loads(SHAPES.read_text())["shapes"].items():
        if entry == viseme:
            assert dict(zip(mouth, poses[names.index(shape)])) == {c: pose.get(c, 0.0) for c in mouth}
            reached.append("rhubarb")
    assert reached  # every tested viseme is used by some rig or cue


def test_no_rig_profile_or_cue_shape_copies_a_viseme_pose():
    """A pose written out where a viseme fits would be a copy that drifts: name the viseme instead."""
    table = load_table()
    written = {name: dict(v.weights) for name, v in table.visemes.items()}
    sources = [(path.name, tomllib.loads(path.read_text()).get("poses", {})) for path in PROFILES]
    sources.append(("rhubarb.toml", tomllib.loads(SHAPES.read_text())["shapes"]))
    for source, poses in sources:
        for shape, entry in poses.items():
            if isinstance(entry, dict):
                copied = [name for name, pose in written.items() if pose == entry]
                assert not copied, f"{source}: {shape} copies viseme {copied[0]}; write \"{copied[0]}\" instead"


def test_a_pose_is_a_viseme_name_or_an_arkit_pose():
    table = load_table()
    assert resolve_pose("aa", table) == table.visemes["aa"].weights
    assert dict(resolve_pose({"jawOpen": 0.3}, table)) == {"jawOpen": 0.3}
    for entry, message in (("ahh", "not a viseme"), ({"jawWide": 1.0}, "not ARKit blendshapes: jawWide"),
                           ({"jawOpen": 2}, "from 0 to 1"), (3, "a viseme's name or an ARKit pose")):
        with pytest.raises(UserError, match=message):
            resolve_pose(entry, table)


def test_a_custom_rig_naming_an_unknown_viseme_is_one_clear_line(tmp_path):
    path = tmp_path / "odd.toml"
    path.write_text('[poses]\nOpen = "aah"\n')
    with pytest.raises(UserError, match=r"odd.toml: 'aah' is not a viseme of the table; name one of sil, "):
        read_profile(path)


def test_phones_become_viseme_spans_and_diphthongs_split():
    table = load_table()
    spans = viseme_spans((Segment("sil", 0.0, 0.1), Segment("AY", 0.1, 0.3), Segment("XX", 0.3, 0.4)), table)
    assert [(s.label, s.start, s.end) for s in spans] == [
        ("sil", 0.0, 0.1), ("aa", 0.1, 0.2), ("ih", 0.2, 0.3), ("speech", 0.3, 0.4)]
    np.testing.assert_array_equal(table.visemes["sil"].pose, 0)
