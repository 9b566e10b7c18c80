"""Montreal Forced Aligner, when the user has it: run `mfa align_one` and read its TextGrid.

MFA needs Kaldi, which only conda-forge ships, so meshsync cannot install it; it is optional.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ..audio import Audio
from ..errors import UserError
from .textgrid import read_textgrid


def align(audio: Audio, text: str, model: str):
    """Align with an installed MFA and its pretrained `model` (acoustic model and dictionary of that name, e.g.
    english_us_arpa, german_mfa); one clear line when it is missing or fails."""
    import soundfile

    mfa = shutil.which("mfa")
    if mfa is None:
        raise UserError("the Montreal Forced Aligner (`mfa`) is not on PATH; install it with conda (`conda install "
                        f"-c conda-forge montreal-forced-aligner`, then `mfa model download acoustic {model}` and "
                        f"`mfa model download dictionary {model}`), or use the default aligner "
                        "(--aligner pocketsphinx)")
    with tempfile.TemporaryDirectory(prefix="meshsync-mfa-") as tmp:
        folder = Path(tmp)
        soundfile.write(folder / "speech.wav", audio.resampled(16000).samples, 16000, subtype="PCM_16")
        (folder / "speech.txt").write_text(text, encoding="utf-8")
        result = subprocess.run([mfa, "align_one", "--clean", str(folder / "speech.wav"), str(folder / "speech.txt"),
                                 model, model, str(folder / "speech.TextGrid")], capture_output=True, text=True)
        grid = folder / "speech.TextGrid"
        if result.returncode != 0 or not grid.is_file():
            lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
            raise UserError(f"mfa align_one failed: {lines[-1].strip() if lines else 'no TextGrid written'}")
        alignment = read_textgrid(grid, audio.duration)
    return alignment
