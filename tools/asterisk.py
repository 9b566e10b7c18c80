"""Real recorded speech with transcripts: the Debian asterisk-core-sounds-XX prompts, one real speaker per
language: en and es Allison Smith, fr June Wallack (Canadian French), it Carlo Flora, ru a Russian IVR voice.
CC-BY-SA-3.0 (en, es, fr, it) and CC-BY-3.0 (ru); see /usr/share/doc/asterisk-core-sounds-XX/copyright:
usable for training shipped weights with attribution, and the weights share that license.
Install: apt-get install asterisk-core-sounds-XX-g722 asterisk-core-sounds-XX  (XX: en, es, fr, it, ru)

Beeps, tones and silences (transcripts in [], <> or () only) are skipped, and the notes in brackets and
parentheses that some transcripts carry ("IAX (note: does not say 2)") are removed.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from pathlib import Path

LANGUAGES = ("en", "es", "fr", "it", "ru")


def sounds(language: str = "en") -> Path:
    return Path(f"/usr/share/asterisk/sounds/{language}")


def prompts(language: str = "en") -> list[tuple[str, str]]:
    """(name, transcript) of every spoken prompt of `language` that has a recording."""
    text = Path(f"/usr/share/doc/asterisk-core-sounds-{language}/core-sounds-{language}.txt.gz")
    if not text.exists():
        raise SystemExit(f"the {language} asterisk prompts are not installed: apt-get install "
                         f"asterisk-core-sounds-{language}-g722 asterisk-core-sounds-{language}")
    lines = gzip.decompress(text.read_bytes()).decode("utf-8", "replace").splitlines()
    pairs = [line.split(":", 1) for line in lines if ":" in line and not line.startswith(";")]
    pairs = [(name.strip(), re.sub(r"\([^)]*\)|\[[^]]*\]|<[^>]*>", " ", text).strip()) for name, text in pairs]
    return [(name, text) for name, text in pairs if text and (sounds(language) / f"{name}.g722").exists()]


def wav(name: str, folder: Path, language: str = "en") -> Path:
    """The prompt decoded to 16 kHz mono WAV in `folder` (decoded once)."""
    from meshsync.files import ffmpeg_exe

    path = folder / f"{name.replace('/', '_')}.wav"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-f", "g722", "-i",
                        str(sounds(language) / f"{name}.g722"), "-ar", "16000", "-ac", "1", str(path)], check=True)
    return path
