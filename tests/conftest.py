import json
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))  # the test helpers (gltf_factory, cli_helpers)
sys.path.insert(0, str(TESTS.parent / "tools"))  # tools/ is not a package

MAP_TEXT = "Mom bought plums and apples. Please pass me the map, Bob."


@pytest.fixture(scope="session")
def speech(tmp_path_factory) -> tuple[Path, Path, list]:
    """An MBROLA sentence full of bilabials (exact phone timings), and meshsync's alignment as a TextGrid."""
    import make_corpus
    from cli_helpers import meshsync

    folder = tmp_path_factory.mktemp("speech")
    make_corpus.make_clip(folder, "map", MAP_TEXT, "us2", 175, None)
    wav, grid = folder / "map.wav", folder / "map.TextGrid"
    result = meshsync("align", str(wav), "--text", MAP_TEXT, "-o", str(grid), "--quiet")
    assert result.returncode == 0, result.stderr
    return wav, grid, json.loads(wav.with_suffix(".json").read_text())["phones"]
