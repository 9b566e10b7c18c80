"""Phone sets: ARPAbet (English alignments) and IPA (every language, as espeak-ng writes it), and the
conversions between them that alignment and the viseme table need (phones.toml).

A phone label in an `Alignment` is either an ARPAbet phone (upper case, e.g. `AY`) or an IPA phone as
espeak-ng segments it (e.g. `pf`, `yː`, `ɔ̃`); `sil` and `spn` are silence and unknown speech in both.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("phones.toml")


@cache
def _table() -> dict:
    with TABLE.open("rb") as f:
        return tomllib.load(f)


@cache
def arpabet() -> frozenset[str]:
    """The ARPAbet phones (without stress digits)."""
    return frozenset(_table()["arpabet"])


@cache
def _modifiers() -> re.Pattern:
    return re.compile("|".join(map(re.escape, _table()["modifiers"])))


def base(ipa: str) -> str:
    """An IPA phone without stress, length, nasality or palatalisation marks: `ˈyː` -> `y`, `ɔ̃` -> `ɔ`."""
    return _modifiers().sub("", ipa)


def to_ipa(label: str) -> str:
    """A phone label as IPA: ARPAbet is converted, IPA is returned as it is."""
    return _table()["arpabet"].get(label, label)


def split(ipa: str, table: dict[str, object]) -> list[object]:
    """`table`'s values for the symbols of `ipa`, longest key first; symbols the table lacks are skipped."""
    longest = max(map(len, table))
    found, i = [], 0
    while i < len(ipa):
        for size in range(min(longest, len(ipa) - i), 0, -1):
            if ipa[i:i + size] in table:
                found.append(table[ipa[i:i + size]])
                i += size
                break
        else:
            i += 1
    return found


def ipa_to_arpabet(ipa: str) -> tuple[str, ...]:
    """IPA text (one word or one phone) -> the nearest ARPAbet phones of the English acoustic model."""
    text = re.sub(r"\s", "", base(ipa))
    return tuple(p for value in split(text, _table()["acoustic"]) for p in value.split())


@cache
def acoustic(label: str) -> tuple[str, ...]:
    """The English-model phones a phone label is aligned as: ARPAbet as it is, IPA by its nearest phones
    (schwa when espeak-ng wrote a symbol no table knows, so every phone keeps a place in time)."""
    if label in arpabet():
        return (label,)
    return ipa_to_arpabet(label) or ("AH",)


def segment(ipa: str) -> tuple[str, ...]:
    """IPA written without separators -> phones, each a symbol with its marks; affricates and diphthongs that
    the acoustic table knows stay one phone: `ˈpflaʊmən` -> (`pf`, `l`, `aʊ`, `m`, `ə`, `n`)."""
    symbols = re.findall(r".[ːˑ̃ʲʷ̩̯\u0300-\u036f]*", re.sub(r"[ˈˌ.\s]", "", ipa))
    known = _table()["acoustic"]
    joined, i = [], 0
    while i < len(symbols):
        size = next((n for n in (3, 2) if i + n <= len(symbols) and base("".join(symbols[i:i + n])) in known), 1)
        joined.append("".join(symbols[i:i + size]))
        i += size
    return tuple(joined)


def espeak_phones(line: str) -> tuple[str, ...]:
    """One word of `espeak-ng --ipa --sep=_` output -> its IPA phones, stress marks and language switches
    (`(en)`) removed: `pf_l_ˈaʊ_m_ə_n` -> (`pf`, `l`, `aʊ`, `m`, `ə`, `n`)."""
    line = re.sub(r"[ˈˌ-]", "", re.sub(r"\([a-z-]+\)", "", line))
    return tuple(p for p in re.split(r"[_\s‿]+", line) if p.strip("-"))
