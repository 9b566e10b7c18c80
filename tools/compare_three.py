"""meshsync's renderer against three.js r187 (in headless Chromium) on the material test assets: the same
file, camera, lights and background, compared by SSIM; a side-by-side sheet to look at.

    python tools/compare_three.py OUT_DIR [--size 256]

Builds the assets (tools/build_material_assets.py) into OUT_DIR, renders each both ways, prints the SSIM per
asset and writes OUT_DIR/compare_three.png (meshsync above, three.js below).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import build_material_assets
import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from meshsync.avatar import load_avatar
from meshsync.render.camera import Camera
from meshsync.render.renderer import DEFAULT_BACKGROUND, GROUND, LIGHT_COLOURS, LIGHT_DIRECTIONS, SKY, Renderer

REPO = Path(__file__).resolve().parent.parent
CAMERA = Camera(np.array([0.0, 0.0, 3.0]), np.zeros(3), np.array([0.0, 1.0, 0.0]), 35.0, 0.5, 10.0)
AA = 2.0


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity of two RGB images' luma (Wang et al. 2004: Gaussian window, sigma 1.5)."""
    x, y = (image.astype(np.float64) @ [0.299, 0.587, 0.114] for image in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = gaussian_filter(x, 1.5), gaussian_filter(y, 1.5)
    vx, vy = gaussian_filter(x * x, 1.5) - mx * mx, gaussian_filter(y * y, 1.5) - my * my
    cov = gaussian_filter(x * y, 1.5) - mx * my
    return float(np.mean((2 * mx * my + c1) * (2 * cov + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2))))


def render_meshsync(asset: Path, size: int) -> np.ndarray:
    with Renderer(load_avatar(asset), size, size, aa=AA, camera=CAMERA) as renderer:
        return renderer.render({})


def render_three(asset: Path, size: int, out: Path) -> np.ndarray:
    """three.js's render of the asset with meshsync's camera and lights (fixed to the camera, so turned into
    world space here)."""
    to_world = CAMERA.view()[:3, :3].T
    directions = LIGHT_DIRECTIONS / np.linalg.norm(LIGHT_DIRECTIONS, axis=1, keepdims=True)
    request = {"asset": str(asset), "out": str(out), "width": size, "height": size,
               "camera": {"eye": CAMERA.eye.tolist(), "target": CAMERA.target.tolist(), "up": CAMERA.up.tolist(),
                          "fov": CAMERA.fov_y, "near": CAMERA.near, "far": CAMERA.far},
               "background": list(DEFAULT_BACKGROUND), "sky": list(SKY), "ground": list(GROUND),
               "lights": [{"direction": (to_world @ d * 10).tolist(), "colour": c.tolist()}
                          for d, c in zip(directions, LIGHT_COLOURS)]}
    result = subprocess.run(["node", str(REPO / "tools" / "three_render.mjs")], input=json.dumps(request),
                            capture_output=True, text=True, cwd=REPO, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"three.js render of {asset.name} failed: {result.stderr[-1000:]}")
    return np.asarray(Image.open(out).convert("RGB"))


def compare(folder: Path, size: int = 256) -> dict[str, tuple[float, np.ndarray, np.ndarray]]:
    """Per material test asset: SSIM, meshsync's render, three.js's render."""
    out = {}
    for name, asset in build_material_assets.build(folder).items():
        ours = render_meshsync(asset, size)
        theirs = render_three(asset, size, folder / f"{name}_three.png")
        out[name] = ssim(ours, theirs), ours, theirs
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    results = compare(args.out, args.size)
    for name, (score, _, _) in results.items():
        print(f"{name:>18}  SSIM {score:.3f}")
    sheet = np.vstack([np.hstack([r[1] for r in results.values()]), np.hstack([r[2] for r in results.values()])])
    Image.fromarray(sheet).save(args.out / "compare_three.png")
    print(f"sheet: {args.out / 'compare_three.png'} (meshsync above, three.js below)")


if __name__ == "__main__":
    main()
