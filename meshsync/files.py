"""Small helpers every stage shares: where bundled data lives, the checks on every input file (a regular
file, JSON of sane depth, an image of sane size) and output file (a writable folder, not an input), and
atomic writes of user files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from .errors import UserError


def data_dir(name: str) -> Path:
    """Folder of bundled data (`assets`, `rigs`): inside the installed package, or the source checkout."""
    packaged = Path(str(resources.files("meshsync"))) / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def ffmpeg_exe() -> str:
    """The ffmpeg binary every stage runs: imageio-ffmpeg's static build, the same on every machine."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


@dataclass(frozen=True)
class BundledAvatar:
    name: str
    path: Path
    about: str


@cache
def avatars_table() -> dict:
    """assets/avatars.toml as it is: the default's name, and per avatar its file, about and build settings."""
    with (data_dir("assets") / "avatars.toml").open("rb") as f:
        return tomllib.load(f)


@cache
def bundled_avatars() -> dict[str, BundledAvatar]:
    """The avatars that ship with meshsync (assets/avatars.toml), by name, the default first."""
    table = avatars_table()
    avatars = {name: BundledAvatar(name, data_dir("assets") / entry["file"], entry["about"])
               for name, entry in table.items() if isinstance(entry, dict)}
    return {table["default"]: avatars[table["default"]]} | avatars


def default_avatar_path() -> Path:
    """The bundled default presenter."""
    return next(iter(bundled_avatars().values())).path


def avatar_path(value: str | os.PathLike | None) -> Path:
    """The avatar file a --avatar value names: a bundled avatar's name (unless a file of that name exists), or
    a path; None: the default."""
    if value is None:
        return default_avatar_path()
    path = Path(value)
    bundled = bundled_avatars().get(str(value))
    return bundled.path if bundled is not None and not path.exists() else path


def file_hash(path: Path) -> str:
    """sha256 of a file (hex), read in 1 MB blocks; worked out once per file version, since many jobs and
    outputs share an avatar and an audio file."""
    stat = path.stat()
    return _file_hash(path, stat.st_size, stat.st_mtime_ns)


@cache
def _file_hash(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


MAX_IMAGE_PIXELS = 8192 * 8192  # larger images are refused before they are decoded (decompression bombs)


def check_input_file(path: str | os.PathLike, what: str, error: type[UserError] = UserError) -> Path:
    """`path` as a Path, when it names a regular file to read; one line naming the problem otherwise, as
    `error` (a folder, a FIFO or a device is no input file: reading one would hang or read forever)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{path}: no such {what}") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path}: is a folder; give the {what} itself")
    if not stat.S_ISREG(mode):
        raise error(f"{path}: not a regular file (a pipe or a device); give the {what} as a file")
    return path


def names_something(value: str | os.PathLike) -> bool:
    """Whether text given where a file or text may stand (a transcript, a jobs file's cell) names something on
    disk, a folder too (refused then as no file); False for text that cannot be a name (a newline inside, too
    long)."""
    try:
        return "\n" not in str(value) and Path(value).exists()
    except (OSError, ValueError):
        return False


def parse_json(text: str | bytes):
    """json.loads, with nesting too deep for Python's parser a ValueError like any other malformed JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def decode_image(source, mode: str, what: str):
    """The pixels of an image file or bytes as a uint8 array in PIL `mode` (RGB, RGBA); images over
    MAX_IMAGE_PIXELS are refused before they are decoded."""
    import io

    import numpy as np
    from PIL import Image, UnidentifiedImageError

    too_large = f"{what}: too large (at most {MAX_IMAGE_PIXELS:,} pixels); scale it down"
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            if image.size[0] * image.size[1] > MAX_IMAGE_PIXELS:
                raise UserError(too_large)
            return np.asarray(image.convert(mode))
    except Image.DecompressionBombError:  # PIL's own limit, larger than ours, met while opening
        raise UserError(too_large) from None
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UserError(f"{what}: not an image PIL can read ({exc})") from exc


def check_not_inputs(outputs, inputs) -> None:
    """Refuse an output that is one of the job's input files: writing it would destroy what it is made from."""
    for output in outputs:
        for source in inputs:
            if output is not None and source is not None and _same_file(output, source):
                raise UserError(f"{output}: this is also an input of the job; write the output to another file")


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_folder(path: str | os.PathLike) -> None:
    """Fail before any work when the output is a folder, or its folder is missing or read-only."""
    folder = Path(path).parent
    if Path(path).is_dir():
        raise UserError(f"cannot write {path}: it is a folder; give a file name")
    if not folder.is_dir():
        raise UserError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UserError(f"cannot write {path}: folder {folder} is not writable; choose another folder")


@contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    A failure (bad input, full disk, Ctrl-C) leaves no partial file behind.
    """
    target = Path(path)
    folder = target.parent
    check_output_folder(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=folder)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror}; choose a writable folder") from exc
    tmp_path = Path(tmp)
    try:  # from here on a signal (Ctrl-C, SIGTERM) removes the temporary file too
        os.close(fd)
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        tmp_path.unlink(missing_ok=True)
