"""Curves -> frames -> MP4 (H.264 + AAC) or a PNG sequence, whole or as a frame range for render farms.

Frames are rendered at `aa` times the output size and streamed to ffmpeg, which scales them down with
area averaging (cheaper than resolving on a software GPU), adds the watermark, and encodes them. The H.264 stream uses a
constant quantiser, a keyframe every `gop` frames and no scene-cut keyframes, and a fixed thread count,
so a segment that starts on a keyframe encodes to the same frames as that stretch of the full video:
`concat` joins segments without re-encoding and gives the same file a single render would.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from ..animate import Curves, check_fps
from ..audio import Audio
from ..channels import HEAD_ROTATIONS
from ..errors import UserError
from ..files import atomic_output, check_input_file, check_output_folder, decode_image
from ..options import option
from ..provenance import Provenance
from ..rig import Rig, jaw_track, joint_moves, morph_weights, solve
from ..watermark import filters, mark_frame
from .camera import DEFAULT_PRESET, check_camera, frame_face
from .ffmpeg import FramePipe, comment, decoded_frames, run_ffmpeg, write_problem
from .renderer import DEFAULT_BACKGROUND, MAX_AA, MAX_SIDE, Renderer, check_size

Progress = Callable[[int, int], None]
VIDEO_FPS = 30.0
MAX_GOP = 100_000  # frames between keyframes: nearly an hour at 30 fps (ffmpeg refuses past 2**31)
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-qp", "20", "-sc_threshold", "0", "-threads", "1",
        "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
SEGMENT_TAG = re.compile(r"meshsync segment (\d+)-(\d+) of (\d+) frames at ([\d.]+) fps, gop (\d+), mark ([0-9a-f]{8})")
PNG_PATTERN = re.compile(r"[^%]*%0?\d*d[^%]*")  # one printf-style frame number, no other %
LABEL_CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")
MAX_LABEL = 80  # characters of a visible label


def parse_size(text: str) -> tuple[int, int]:
    """'WIDTHxHEIGHT' as two integers."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None:
        raise UserError(f"--size '{text}': give WIDTHxHEIGHT, e.g. 1280x720")
    return int(match.group(1)), int(match.group(2))


def parse_background(value: str | None) -> tuple[float, float, float] | np.ndarray:
    """An sRGB colour (0..1) from a colour name or #rrggbb, or the RGB pixels of an image file; None: the
    default."""
    from PIL import ImageColor

    if value is None:
        return DEFAULT_BACKGROUND
    path = Path(value)
    if path.exists():
        check_input_file(path, "background image")
        stat = path.stat()
        return _image_pixels(path.resolve(), stat.st_size, stat.st_mtime_ns)
    try:
        return tuple(c / 255 for c in ImageColor.getrgb(value)[:3])
    except ValueError:
        raise UserError(f"--background '{value}': not a colour (#rrggbb, or a name such as white) "
                        "nor an image file") from None


@lru_cache(maxsize=1)
def _image_pixels(path: Path, size: int, mtime_ns: int) -> np.ndarray:
    """The RGB pixels of an image file, read-only, decoded once per file version: checking VideoOptions and
    rendering both need them."""
    pixels = decode_image(path, "RGB", f"--background {path}")
    pixels.setflags(write=False)
    return pixels


@dataclass(frozen=True)
class VideoOptions:
    """How the video looks and is encoded; settings that cannot work are refused when the value is made."""

    size: tuple[int, int] = option((1280, 720), parse=parse_size)
    fps: float = VIDEO_FPS
    aa: float = 1.5  # supersampling factor: frames render this much larger, ffmpeg scales them down
    camera: str = DEFAULT_PRESET
    background: str | None = option(None, or_file="")  # a colour, or an image file; None: DEFAULT_BACKGROUND
    gop: int | None = None  # frames between keyframes; default one second
    label: str | None = None  # a visible label drawn on every frame, e.g. "AI-generated"; None: none
    label_corner: str = LABEL_CORNERS[0]
    label_size: float = 0.04  # the label's text height, a share of the frame's height

    def __post_init__(self):
        check_size(*self.size)
        check_fps(self.fps)
        if not 1.0 <= self.aa <= MAX_AA:
            raise UserError(f"--aa {self.aa:g} is out of range; use 1 (off) to {MAX_AA:g}")
        width, height = _render_size(self)
        if max(width, height) > MAX_SIDE:
            raise UserError(f"--size {self.width}x{self.height} with --aa {self.aa:g} renders {width}x{height} "
                            f"frames, over {MAX_SIDE} pixels a side; lower --aa")
        if self.gop is not None and not 1 <= self.gop <= MAX_GOP:
            raise UserError(f"--gop {self.gop}: give the frames between keyframes, from 1 to {MAX_GOP}")
        check_camera(self.camera)
        parse_background(self.background)
        if self.label is not None and not 0 < len(self.label.strip()) <= MAX_LABEL:
            raise UserError(f"--label: give a short text (1 to {MAX_LABEL} characters), e.g. AI-generated")
        if self.label_corner not in LABEL_CORNERS:
            raise UserError(f"--label-corner {self.label_corner}: choose one of {', '.join(LABEL_CORNERS)}")
        if not 0.01 <= self.label_size <= 0.2:
            raise UserError(f"--label-size {self.label_size:g}: give the text height as a share of the frame's, "
                            "0.01 to 0.2")

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def keyframes(self) -> int:
        return self.gop or max(1, round(self.fps))

    def check_mp4(self) -> None:
        if self.width % 2 or self.height % 2:
            raise UserError(f"--size {self.width}x{self.height}: H.264 needs an even width and height")


def parse_frames(text: str, total: int) -> range:
    """'START-END' (inclusive, frame i at time i / fps) within a clip of `total` frames."""
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if match is None:
        raise UserError(f"--frames '{text}': give a range START-END, e.g. 0-299 (inclusive, from frame 0)")
    start, end = int(match.group(1)), int(match.group(2))
    if start > end:
        raise UserError(f"--frames {start}-{end}: the range ends before it starts; give START-END with START <= END")
    if end >= total:
        raise UserError(f"--frames {start}-{end} is outside the clip's frames 0-{total - 1}")
    return range(start, end + 1)


def check_segment_start(frames: range, gop: int) -> None:
    """An MP4 segment must start on a keyframe, or its frames would differ from the full render's."""
    if frames.start % gop:
        raise UserError(f"--frames {frames.start}-{frames[-1]}: an MP4 segment must start on a keyframe, a "
                        f"multiple of the GOP length {gop} (use chunk sizes that are multiples of {gop}, or --gop)")


def check_video_output(path: Path) -> bool:
    """Whether the output is an MP4 (else a PNG sequence), refused before any work when it can be neither
    or its folder cannot be written."""
    if path.suffix.lower() == ".mp4":
        check_output_folder(path)
        return True
    if path.suffix.lower() == ".png":
        check_png_pattern(path)
        return False
    raise UserError(f"{path}: write the video as .mp4, or PNG frames as e.g. frames/talk_%05d.png")


def check_png_pattern(path: Path) -> None:
    if not PNG_PATTERN.fullmatch(path.name):
        raise UserError(f"{path}: a PNG sequence needs one frame-number placeholder (and no other %), "
                        "e.g. frames/talk_%05d.png")
    check_output_folder(path)


def _frames(rig: Rig, curves: Curves, frames: range, options: VideoOptions,
            progress: Progress | None) -> Iterator[np.ndarray]:
    """RGBA frames at the render size (output x aa) for the frame numbers in `frames`."""
    avatar, jaw = rig.avatar, rig.jaw  # a jaw that is a bone turns with jawOpen
    morphs = morph_weights(solve(curves, rig.profile), avatar)
    angles = jaw_track(curves, jaw).angles if jaw else None
    head = [curves.names.index(name) for name in HEAD_ROTATIONS]
    camera = frame_face(avatar, options.width / options.height, options.camera)
    background = parse_background(options.background)
    label = _label(options)
    # One BLAS thread: the morph blend's small products gain nothing from more, and OpenBLAS's spinning
    # threads took the cores the rasteriser and encoder need (a minute of video rendered 1.25x slower).
    with threadpool_limits(1, user_api="blas"), \
            Renderer(avatar, *_render_size(options), camera=camera, background=background) as renderer:
        for done, i in enumerate(frames, 1):
            frame_morphs = {node: weights[i] for node, weights in morphs.items()}
            moves = joint_moves(avatar, jaw, angles[i]) if jaw else None
            frame = renderer.render_rgba(None, tuple(curves.values[i, head].tolist()), frame_morphs, moves)
            yield frame if label is None else _with_label(frame, *label)
            if progress:
                progress(done, len(frames))


def _label(options: VideoOptions) -> tuple[tuple[slice, slice], np.ndarray] | None:
    """The visible label at the render size: where it goes, and its premultiplied RGBA (white text on a
    translucent dark box), drawn once."""
    if options.label is None:
        return None
    from PIL import Image, ImageDraw

    from .sheet import label_font

    width, height = _render_size(options)
    size = max(8, round(options.label_size * height))
    font = label_font(size)
    left, top, right, bottom = font.getbbox(options.label)
    pad = round(size * 0.4)
    box = Image.new("RGBA", (min(right - left + 2 * pad, width), min(bottom - top + 2 * pad, height)), (0, 0, 0, 140))
    ImageDraw.Draw(box).text((pad - left, pad - top), options.label, font=font, fill=(255, 255, 255, 255))
    pixels = np.asarray(box, dtype=np.float32) / 255
    pixels[..., :3] *= pixels[..., 3:]
    margin = round(0.03 * height)
    rows = slice(margin, margin + box.height) if options.label_corner.startswith("top") else \
        slice(height - margin - box.height, height - margin)
    cols = slice(margin, margin + box.width) if options.label_corner.endswith("left") else \
        slice(width - margin - box.width, width - margin)
    return (rows, cols), pixels


def _with_label(frame: np.ndarray, where: tuple[slice, slice], pixels: np.ndarray) -> np.ndarray:
    """The frame with the label laid over it ("over" compositing of premultiplied colour)."""
    frame = frame.copy()
    region = frame[where][..., :3].astype(np.float32) / 255
    frame[where][..., :3] = np.round((pixels[..., :3] + region * (1 - pixels[..., 3:])) * 255).astype(np.uint8)
    return frame


def _picture(options: VideoOptions, job: int, pixels: str, scratch: Path, target: Path) -> list[str]:
    """ffmpeg's second input (the watermark for `job`, a file in `scratch`) and the filters that scale the
    frames to the output size (area averaging, when rendered larger) and add it, in pixel format `pixels`."""
    mark = scratch / "mark.raw"
    try:
        mark.write_bytes(mark_frame(options.width, options.height, job, pixels))
    except OSError as exc:
        raise UserError(f"cannot write {target}: {write_problem(str(exc.strerror)) or exc.strerror}") from exc
    scale = f"scale={options.width}:{options.height}:flags=area," if options.aa != 1 else ""
    return ["-f", "rawvideo", "-pix_fmt", pixels, "-s", f"{options.width}x{options.height}", "-i", str(mark),
            "-filter_complex", filters(f"[0:v]{scale}", "[1:v]", pixels)]


def _render_size(options: VideoOptions) -> tuple[int, int]:
    return round(options.width * options.aa), round(options.height * options.aa)


def render_mp4(rig: Rig, curves: Curves, audio: Audio, path: Path, options: VideoOptions,
               frames: range | None = None, progress: Progress | None = None,
               provenance: Provenance | None = None) -> None:
    """The talking head as an MP4, signed with its content credentials. The whole clip carries the audio; a
    frame range is a silent segment for `concat_mp4`, and must start on a keyframe (segments are not signed:
    the joined file is). The whole clip is one segment joined with the audio as `concat_mp4` joins several,
    so both give the same pictures and sound."""
    provenance = provenance or Provenance()
    if frames is not None:
        render_segment(rig, curves, path, options, frames, progress, provenance)
        return
    options.check_mp4()
    with _scratch(path) as scratch, atomic_output(path) as tmp:
        video = scratch / "video.mp4"
        _encode(rig, curves, range(curves.frames), options, video, path, progress, provenance.job, scratch)
        _join([video], audio, tmp, path, scratch)
        provenance.sign(tmp, path)


def render_segment(rig: Rig, curves: Curves, path: Path, options: VideoOptions, frames: range,
                   progress: Progress | None = None, provenance: Provenance | None = None) -> None:
    """Frames `frames` as a silent MP4 segment for `concat_mp4`; it must start on a keyframe. Its watermark
    carries the job id of `provenance`, which every segment of a job shares."""
    options.check_mp4()
    check_segment_start(frames, options.keyframes)
    with _scratch(path) as scratch, atomic_output(path) as tmp:
        _encode(rig, curves, frames, options, tmp, path, progress, (provenance or Provenance()).job, scratch)


def _encode(rig: Rig, curves: Curves, frames: range, options: VideoOptions, out: Path, target: Path,
            progress: Progress | None, job: int, scratch: Path) -> None:
    """Frames `frames` as an H.264 MP4 without audio, watermarked with `job`, tagged with their place in the
    clip and the job."""
    gop = options.keyframes
    tag = (f"meshsync segment {frames.start}-{frames[-1]} of {curves.frames} frames at {curves.fps:g} fps, "
           f"gop {gop}, mark {job:08x}")
    arguments = [*_picture(options, job, "yuv420p", scratch, target), *X264, "-g", str(gop), "-keyint_min", str(gop),
                 "-r", f"{curves.fps:g}", "-metadata", f"comment={tag}", "-movflags", "+faststart", "-f", "mp4",
                 str(out)]
    with FramePipe(_render_size(options), curves.fps, arguments, target) as pipe:
        for frame in _frames(rig, curves, frames, options, progress):
            pipe.write(frame)


def _join(videos: list[Path], audio: Audio, out: Path, target: Path, scratch: Path) -> None:
    """The videos one after the other, copied, with the audio encoded beside them. Both inputs are read as
    the output needs them, so memory stays flat however long the clip."""
    listing = scratch / "segments.txt"
    listing.write_text("".join(f"file '{_quote(p.resolve())}'\n" for p in videos))
    wav = _write_wav(audio, scratch, target)
    run_ffmpeg(["-loglevel", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-i", str(wav),
                "-map", "0:v", "-map", "1:a", "-c:v", "copy", *AAC, "-map_metadata", "-1", "-movflags", "+faststart",
                "-f", "mp4", str(out)], target)


def render_pngs(rig: Rig, curves: Curves, pattern: Path, options: VideoOptions,
                frames: range | None = None, progress: Progress | None = None,
                provenance: Provenance | None = None) -> list[Path]:
    """Frames as PNG files named by `pattern` % frame number, watermarked and each signed with its content
    credentials. They are written to a scratch folder beside them and moved into place only when all are
    done."""
    check_png_pattern(pattern)
    frames = frames if frames is not None else range(curves.frames)
    folder = pattern.parent
    written = [folder / (pattern.name % i) for i in frames]
    for target in written:
        check_output_folder(target)  # before any work: a frame's name may be taken by a folder
    provenance = provenance or Provenance()
    with _scratch(pattern) as scratch:
        arguments = [*_picture(options, provenance.job, "gbrp", scratch, pattern), "-start_number", str(frames.start),
                     "-f", "image2", str(scratch / "%09d.png")]
        with FramePipe(_render_size(options), curves.fps, arguments, pattern) as pipe:
            for frame in _frames(rig, curves, frames, options, progress):
                pipe.write(frame)
        for i, target in zip(frames, written):
            provenance.sign(scratch / f"{i:09d}.png", target)
        for i, target in zip(frames, written):
            (scratch / f"{i:09d}.png").replace(target)
    return written


def concat_mp4(segments: list[Path], audio: Audio, path: Path, provenance: Provenance | None = None) -> None:
    """Join segments from `render_mp4` into the whole video with the audio, without re-encoding, and sign it
    with its content credentials, which name the job id the segments' watermark carries."""
    ordered, frames, fps, job = _check_segments(segments)
    if abs(audio.duration - frames / fps) >= 1 / fps:
        raise UserError(f"the audio lasts {audio.duration:.2f} s but the segments hold {frames / fps:.2f} s of "
                        "frames; give the speech they were rendered from")
    with _scratch(path) as scratch, atomic_output(path) as tmp:
        _join(ordered, audio, tmp, path, scratch)
        replace(provenance or Provenance(), mark=job).sign(tmp, path)


@contextmanager
def _scratch(output: Path) -> Iterator[Path]:
    """A hidden scratch folder beside `output` (same disk, so moves are renames), removed afterwards."""
    check_output_folder(output)
    try:
        folder = Path(tempfile.mkdtemp(prefix=".meshsync-", dir=output.parent))
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}; choose a writable folder") from exc
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _check_segments(segments: list[Path]) -> tuple[list[Path], int, float, int]:
    """Segments in frame order, the clip's frame count and fps, and their watermark's job id; a UserError
    unless they tile the clip's frames exactly, from one render setting and job."""
    found = []
    for path in segments:
        check_input_file(path, "segment")
        match = SEGMENT_TAG.search(comment(path))
        if match is None:
            raise UserError(f"{path}: not a segment from `meshsync render --frames`")
        start, end, total = (int(match.group(k)) for k in (1, 2, 3))
        frames, problem = decoded_frames(path)
        if problem or frames != end - start + 1:
            raise UserError(f"{path}: damaged segment: {frames} of its {end - start + 1} frames decode"
                            f"{f' ({problem})' if problem else ''}; render frames {start}-{end} again")
        found.append((start, end, total, match.group(4), match.group(5), match.group(6), path))
    found.sort()
    settings = {(total, fps, gop, mark) for _, _, total, fps, gop, mark, _ in found}
    if len(settings) > 1:
        raise UserError("the segments come from different renders (frame count, fps, GOP or job differ)")
    total = found[0][2]
    expected = 0
    for start, end, *_, path in found:
        if start != expected:
            what = f"frames {expected}-{start - 1} are missing" if start > expected else f"{path} overlaps"
            raise UserError(f"cannot join the segments: {what}")
        expected = end + 1
    if expected != total:
        raise UserError(f"cannot join the segments: frames {expected}-{total - 1} are missing")
    return [path for *_, path in found], total, float(found[0][3]), int(found[0][5], 16)


def _write_wav(audio: Audio, folder: Path, target: Path) -> Path:
    """The speech as a 16-bit WAV in `folder`, for ffmpeg to encode beside the frames."""
    import soundfile

    path = folder / "speech.wav"
    try:
        soundfile.write(path, audio.samples, audio.rate, subtype="PCM_16")
    except (OSError, soundfile.LibsndfileError) as exc:
        raise UserError(f"cannot write {target}: a temporary copy of the audio in {folder.parent} failed ({exc}); "
                        "check the free space there") from exc
    return path


def _quote(path: Path) -> str:
    """A path for ffmpeg's concat list (single quotes escaped its way)."""
    return str(path).replace("'", "'\\''")
