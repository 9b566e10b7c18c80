"""Real recorded speech with transcripts: the Debian asterisk-core-sounds-en prompts.

One US-English voice (Allison Smith), CC-BY-SA-3.0 (see /usr/share/doc/asterisk-core-sounds-en/copyright):
usable for training shipped weights with attribution, and the weights share that license.
Install: apt-get install asterisk-core-sounds-en-g722 asterisk-core-sounds-en

Beeps, tones and silences (transcripts in [], <> or () only) are skipped, and the notes in brackets and
parentheses that some transcripts carry ("IAX (note: does not say 2)") are removed.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from pathlib import Path

SOUNDS = Path("/usr/share/asterisk/sounds/en")
TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
PACKAGES = ("asterisk-core-sounds-en-g722", "asterisk-core-sounds-en")


def prompts() -> list[tuple[str, str]]:
    """(name, transcript) of every spoken prompt that has a recording."""
    if not TEXT.exists():
        raise SystemExit(f"the asterisk prompts are not installed: apt-get install {' '.join(PACKAGES)}")
    lines = gzip.decompress(TEXT.read_bytes()).decode("utf-8", "replace").splitlines()
    pairs = [line.split(":", 1) for line in lines if ":" in line and not line.startswith(";")]
    pairs = [(name.strip(), re.sub(r"\([^)]*\)|\[[^]]*\]|<[^>]*>", " ", text).strip()) for name, text in pairs]
    return [(name, text) for name, text in pairs if text and (SOUNDS / f"{name}.g722").exists()]


def wav(name: str, folder: Path) -> Path:
    """The prompt decoded to 16 kHz mono WAV in `folder` (decoded once)."""
    import imageio_ffmpeg

    path = folder / f"{name.replace('/', '_')}.wav"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "g722", "-i",
                        str(SOUNDS / f"{name}.g722"), "-ar", "16000", "-ac", "1", str(path)], check=True)
    return path
