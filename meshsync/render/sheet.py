"""A labelled contact sheet of poses: the quickest way to see what an avatar's mouth can do."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..avatar import Avatar
from ..files import atomic_output
from ..visemes import SILENCE_VISEME, load_table
from .camera import frame_face
from .renderer import Renderer

# (label, pose) pairs; tongueOut needs an open jaw, as on any rig, or the tongue goes through the lips.
SHEET_POSES: tuple[tuple[str, dict[str, float]], ...] = (
    ("neutral", {}),
    ("jawOpen", {"jawOpen": 1.0}),
    ("jawOpen + mouthClose", {"jawOpen": 0.5, "mouthClose": 0.5}),
    ("mouthFunnel", {"mouthFunnel": 1.0}),
    ("mouthPucker", {"mouthPucker": 1.0}),
    ("mouthRollLower", {"mouthRollLower": 1.0}),
    ("mouthSmile L+R", {"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0}),
    ("tongueOut (jaw 0.4)", {"tongueOut": 1.0, "jawOpen": 0.4}),
    ("eyeBlink L+R", {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}),
)
PHONES_SHOWN = 6  # a viseme's label lists at most this many of its phones


def viseme_poses() -> tuple[tuple[str, dict[str, float]], ...]:
    """Every viseme of the table as (label, pose): its name and the phones (IPA) that show it."""
    table = load_table()
    poses = []
    for name, viseme in table.visemes.items():
        phones = [p for p, visemes in table.phones.items() if visemes == (name,)]
        shown = " ".join(phones[:PHONES_SHOWN]) + (" ..." if len(phones) > PHONES_SHOWN else "")
        label = "rest" if name == SILENCE_VISEME else f"{name}: {shown}" if shown else name
        poses.append((label, dict(viseme.weights)))
    return tuple(poses)


LABEL_HEIGHT = 30
COLUMNS = 3
SHEET_AA = 2.0  # supersampling of the sheet: stills can afford more than video
LABEL_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"  # Debian fonts-dejavu-core: IPA symbols included


def label_font(size: int) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at `size` pixels, or Pillow's own font where the Debian package is missing."""
    return ImageFont.truetype(LABEL_FONT, size) if Path(LABEL_FONT).is_file() else ImageFont.load_default(size=size)


def pose_sheet(avatar: Avatar, *, cell: tuple[int, int] = (360, 400), aa: float = SHEET_AA,
               poses: tuple[tuple[str, dict[str, float]], ...] = SHEET_POSES, camera: str | None = None) -> Image.Image:
    """Render each pose in a grid cell with its label (framed by a camera preset, or the whole head); poses
    naming targets the avatar lacks are marked."""
    width, height = cell
    rows = -(-len(poses) // COLUMNS)
    sheet = Image.new("RGB", (COLUMNS * width, rows * (height + LABEL_HEIGHT)), (24, 26, 30))
    draw = ImageDraw.Draw(sheet)
    font = label_font(18)
    names = set(avatar.target_names)
    framing = frame_face(avatar, width / height, camera) if camera else None
    with Renderer(avatar, width, height, aa=aa, camera=framing) as renderer:
        for k, (label, pose) in enumerate(poses):
            x, y = (k % COLUMNS) * width, (k // COLUMNS) * (height + LABEL_HEIGHT)
            sheet.paste(Image.fromarray(renderer.render(pose)), (x, y))
            missing = [name for name in pose if name not in names]
            text = f"{label} (missing: {', '.join(missing)})" if missing else label
            draw.text((x + width / 2, y + height + LABEL_HEIGHT / 2), text, fill=(235, 235, 235), font=font,
                      anchor="mm")
    return sheet


def save_pose_sheet(avatar: Avatar, path: str | Path, **options) -> Path:
    """Write the contact sheet as a PNG, atomically."""
    path = Path(path)
    image = pose_sheet(avatar, **options)
    with atomic_output(path) as tmp:
        image.save(tmp, format="PNG")
    return path
