"""Small helpers every stage shares: where bundled data lives, and atomic writes of user files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from .errors import UserError


def data_dir(name: str) -> Path:
    """Folder of bundled data (`assets`, `rigs`): inside the installed package, or the source checkout."""
    packaged = Path(str(resources.files("meshsync"))) / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


def default_avatar_path() -> Path:
    """The bundled CC0 head."""
    return data_dir("assets") / "head.glb"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_output_folder(path: str | os.PathLike) -> None:
    """Fail before any work when the output's folder is missing or read-only."""
    folder = Path(path).parent
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
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode open() would
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    except OSError as exc:
        raise UserError(f"cannot write {target}: {exc.strerror}") from exc
    finally:
        tmp_path.unlink(missing_ok=True)
