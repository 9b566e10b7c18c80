"""The languages meshsync aligns (languages.toml): codes, espeak-ng voices, number reading, scripts, and what
was measured for each. `find_language` turns what a user typed into one of them."""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

from .errors import UserError

TABLE = Path(__file__).with_name("languages.toml")
ENGLISH = "en"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    espeak: str  # espeak-ng voice
    mfa: str  # the Montreal Forced Aligner's pretrained model (acoustic and dictionary), "" if none is known
    numbers: str  # num2words language
    script: tuple[str, ...]  # Unicode script names its letters belong to (LATIN, CYRILLIC, ...)
    decimal: str  # decimal separator
    ordinals: tuple[str, ...]  # suffixes that make a number an ordinal
    status: str  # "measured" or "best effort"
    figures: str
    abbreviations: Mapping[str, str]
    decimal_word: str  # the word for the decimal separator, where num2words lacks it ("" elsewhere)
    respell: Mapping[str, str]  # espeak-ng phones written as another IPA symbol
    lexicon: Mapping[str, str]  # words espeak-ng mispronounces -> IPA phones, space-separated
    aliases: tuple[str, ...]  # other codes that name it
    score_offset: float  # the English model's typical score per frame for this language, relative to English

    @property
    def group(self) -> str:
        """The thousands separator: whichever of . and , is not the decimal separator."""
        return "." if self.decimal == "," else ","


@cache
def languages() -> Mapping[str, Language]:
    with TABLE.open("rb") as f:
        raw = tomllib.load(f)
    return MappingProxyType({code: Language(
        code=code, name=e["name"], espeak=e["espeak"], mfa=e["mfa"], numbers=e["numbers"], script=tuple(e["script"]),
        decimal=e["decimal"], ordinals=tuple(e["ordinals"]), status=e["status"], figures=e["figures"],
        abbreviations=MappingProxyType(e.get("abbreviations", {})), decimal_word=e.get("decimal_word", ""),
        respell=MappingProxyType(e.get("respell", {})), lexicon=MappingProxyType(e.get("lexicon", {})),
        aliases=tuple(e.get("aliases", ())), score_offset=e["score_offset"])
        for code, e in raw.items()})


def find_language(code: str) -> Language:
    """The language a BCP-47 style code names, case-insensitive: `de`, `pt-BR`, `fr_CA` (French), `no` (nb)."""
    wanted = code.strip().lower().replace("_", "-")
    known = languages()
    for candidate in (wanted, wanted.split("-")[0]):
        for language in known.values():
            if candidate == language.code or candidate in language.aliases:
                return language
    raise UserError(f"unknown language '{code}'; meshsync speaks {', '.join(known)} "
                    "(meshsync languages lists them)")


def check_script(text: str, language: Language) -> None:
    """A UserError when most letters of `text` are not in the language's script (Cyrillic text for German)."""
    letters = [c for c in text if c.isalpha()]
    scripts = [unicodedata.name(c, "UNKNOWN").split()[0] for c in letters]
    foreign = [s for s in scripts if s not in language.script]
    if letters and len(foreign) * 2 > len(letters):
        most = max(set(foreign), key=foreign.count).title()
        raise UserError(f"the transcript is written in {most} script, not the {language.name} that "
                        f"--language {language.code} says; give the language it is written in")
