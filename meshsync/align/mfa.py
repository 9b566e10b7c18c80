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

MODEL = "english_us_arpa"  # MFA's pretrained English acoustic model and dictionary (ARPAbet phones)
INSTALL = ("install it with conda (`conda install -c conda-forge montreal-forced-aligner`, then "
           f"`mfa model download acoustic {MODEL}` and `mfa model download dictionary {MODEL}`), "
           "or use the default aligner (--aligner pocketsphinx)")


def align(audio: Audio, text: str, model: str = MODEL):
    """Align with an installed MFA; one clear line when it is missing or fails."""
    import soundfile

    mfa = shutil.which("mfa")
    if mfa is None:
        raise UserError(f"the Montreal Forced Aligner (`mfa`) is not on PATH; {INSTALL}")
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
