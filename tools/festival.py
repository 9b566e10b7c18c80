"""More voices with exact phone timings for training: Festival's Debian voices (recorded speakers).

English: kal_diphone and ked_diphone (US male diphone voices; CSTR/CMU license: "free of charge, to use and
distribute without restriction"), cmu_us_slt_arctic_hts (US female; CMU ARCTIC EST-2003, HTS BSD-3-clause).
Other languages, for more speakers (they read the same English text with their own letter-to-sound rules;
their labels are their own phones): Italian lp/pc (GPL-2+), Czech dita/machac/krb (GPL-3+), Finnish lj/mv
(LGPL-2+), Catalan ona (BSD-3-clause, Festvox, LGPL-2.1+). The synthesised
speech is output of these programs, the same standing as espeak-ng's voices.

Festival writes each utterance's segments (end time, phone label); those are the ground truth, as MBROLA's
durations are for tools/make_corpus.py.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from functools import cache
from pathlib import Path

ENGLISH = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
OTHERS = ("lp_diphone", "pc_diphone", "czech_dita", "czech_machac", "czech_krb", "suo_fi_lj_diphone",
          "hy_fi_mv_diphone", "upc_ca_ona_hts")
PACKAGES = ("festival", "festvox-kallpc16k", "festvox-kdlpc16k", "festvox-us-slt-hts", "festvox-italp16k",
            "festvox-itapc16k", "festvox-czech-dita", "festvox-czech-machac", "festvox-czech-krb",
            "festvox-suopuhe-lj", "festvox-suopuhe-mv", "festvox-ca-ona-hts")


@cache
def labels() -> dict[str, str]:
    with (Path(__file__).parent / "corpus" / "festival.toml").open("rb") as f:
        return tomllib.load(f)["phones"]


def arpabet(label: str) -> str:
    """A Festival phone label as ARPAbet: stress digits and length marks dropped, then looked up."""
    base = re.sub(r"[0-9:]", "", label)
    return labels().get(base) or labels().get(base.lower()) or "spn"


def synthesise(texts: list[str], voice: str, folder: Path) -> list[Path]:
    """Speak every text with `voice` into folder/NNNN.wav + .segs (one Festival process); cached."""
    folder.mkdir(parents=True, exist_ok=True)
    wavs = [folder / f"{i:04d}.wav" for i in range(len(texts))]
    todo = [(i, text) for i, text in enumerate(texts) if not wavs[i].with_suffix(".segs").exists()]
    if todo:
        lines = [f"(voice_{voice})"]
        for i, text in todo:
            quoted = text.replace("\\", " ").replace('"', " ")
            lines += [f'(set! u (utt.synth (Utterance Text "{quoted}")))',
                      f'(utt.save.wave u "{wavs[i]}" \'riff)',
                      f'(utt.save.segs u "{wavs[i].with_suffix(".segs")}")']
        script = folder / "synthesise.scm"
        script.write_text("\n".join(lines) + "\n")
        try:
            subprocess.run(["festival", "-b", str(script)], check=True, capture_output=True)
        except FileNotFoundError:
            raise SystemExit(f"Festival is not installed: apt-get install {' '.join(PACKAGES)}") from None
    return wavs


def phones(segs: Path) -> list[tuple[str, float, float]]:
    """(ARPAbet, start, end) from a Festival .segs file, neighbouring silences merged."""
    out: list[tuple[str, float, float]] = []
    start = 0.0
    for line in segs.read_text().splitlines():
        fields = line.split()
        if len(fields) != 3 or line.startswith("#"):
            continue
        end, label = float(fields[0]), arpabet(fields[2])
        if out and label == "sil" and out[-1][0] == "sil":
            out[-1] = ("sil", out[-1][1], end)
        elif end > start:
            out.append((label, start, end))
        start = end
    return out
