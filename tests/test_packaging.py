"""A non-editable install carries the bundled head, rig profiles and shaders, and works from anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_installed_package_works_from_another_folder(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    str(REPO)], check=True, capture_output=True)
    for name in ("assets/head.glb", "assets/amara.glb", "assets/jonas.glb", "assets/avatars.toml",
                 "assets/README.md", "assets/lipsync.pt", "assets/lipsync.md", "rigs/arkit.toml",
                 "render/shaders/mesh.frag", "render/shaders/background.frag", "render/cameras.toml",
                 "visemes.toml", "export/rhubarb.toml", "animate/motion.toml", "export/livelink.toml",
                 "export/vrma.toml", "assets/demo.flac", "assets/demo.txt"):
        assert (target / "meshsync" / name).is_file(), name
    script = (
        "import meshsync, sys\n"
        "from meshsync.files import default_avatar_path\n"
        "from meshsync.avatar import load_avatar\n"
        "from meshsync.rig import detect\n"
        "from meshsync.render import Renderer\n"
        "assert meshsync.__file__.startswith(sys.argv[1]), meshsync.__file__\n"
        "avatar = load_avatar(default_avatar_path())\n"
        "assert detect(avatar)[0].profile.name == 'arkit'\n"
        "with Renderer(avatar, 64, 64) as r:\n"
        "    assert r.render({'jawOpen': 1.0}).shape == (64, 64, 3)\n"
        "from meshsync.animate import animate\n"
        "from meshsync.audio import Audio\n"
        "import numpy as np\n"
        "noise = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)\n"
        "from meshsync.animate import AnimationOptions\n"
        "assert animate(Audio(noise, 16000), None, AnimationOptions(fps=30)).frames == 30\n"
        "from meshsync.export import FORMATS\n"
        "assert sorted(s for f in FORMATS for s in f.suffixes) == ['.csv', '.glb', '.gltf', '.json', "
        "'.rhubarb.json', '.tsv', '.usd', '.usda', '.usdc', '.vrma'], FORMATS\n"
        "print('ok')\n"
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run([sys.executable, "-c", script, str(target)], cwd=elsewhere, capture_output=True,
                            text=True, env={**os.environ, "PYTHONPATH": str(target)})
    assert result.stdout.strip() == "ok", result.stderr
