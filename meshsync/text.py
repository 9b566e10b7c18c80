"""Transcripts in: read, normalise into dictionary words, and give every word a pronunciation.

Pronunciations come from the CMU dictionary that PocketSphinx ships, then a user lexicon (CMU or Montreal
Forced Aligner format), then espeak-ng's grapheme-to-phoneme rules (IPA mapped to ARPAbet) for the rest.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

ARPABET = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()
)
MAX_TEXT_BYTES = 1_000_000


@dataclass(frozen=True)
class Pronunciation:
    """A normalised word and its ARPAbet pronunciations (no stress); `source` says where they came from."""

    word: str
    variants: tuple[tuple[str, ...], ...]
    source: str  # "dictionary", "lexicon" or "g2p"


@dataclass(frozen=True)
class Transcript:
    """The words to align, in order, each with its pronunciations."""

    words: tuple[Pronunciation, ...]

    @property
    def guessed(self) -> list[str]:
        """Words whose pronunciation espeak-ng guessed: worth a look, and a user lexicon entry if wrong."""
        return sorted({w.word for w in self.words if w.source == "g2p"})


@functools.cache
def _tables() -> dict:
    return tomllib.loads((Path(__file__).with_name("text.toml")).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- reading


def read_text(value: str) -> str:
    """`--text` is either the transcript itself or a path to a UTF-8 text file."""
    path = Path(value)
    if not (path.suffix.lower() == ".txt" or _is_file(path)):
        return _nonempty(value, "the transcript")
    if not path.is_file():
        raise UserError(f"{path}: no such transcript file")
    data = path.read_bytes()
    if len(data) > MAX_TEXT_BYTES:
        raise UserError(f"{path}: the transcript is over {MAX_TEXT_BYTES // 1_000_000} MB; split the job")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from exc
    return _nonempty(text, str(path))


def _is_file(path: Path) -> bool:
    """False for anything that cannot name a file (too long, a newline inside), not an OSError."""
    try:
        return "\n" not in str(path) and path.is_file()
    except (OSError, ValueError):
        return False


def _nonempty(text: str, what: str) -> str:
    if not normalize(text):
        raise UserError(f"{what} has no words to align; give the words spoken in the audio")
    return text


# ---------------------------------------------------------------------------------------------- normalising

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
         "seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                  "nine": "ninth", "twelve": "twelfth"}


def cardinal(n: int) -> list[str]:
    """1234 -> one thousand two hundred thirty four."""
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + (cardinal(n % 10) if n % 10 else [])
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return cardinal(head) + [name] + (cardinal(rest) if rest else [])
    raise AssertionError(n)


def ordinal(n: int) -> list[str]:
    """21 -> twenty first."""
    words = cardinal(n)
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


def year(n: int) -> list[str]:
    """1984 -> nineteen eighty four; 2005 -> two thousand five; 1900 -> nineteen hundred."""
    if 2000 <= n <= 2009 or n % 1000 == 0:
        return cardinal(n)
    head, tail = divmod(n, 100)
    if tail == 0:
        return cardinal(head) + ["hundred"]
    return cardinal(head) + (["oh"] + cardinal(tail) if tail < 10 else cardinal(tail))


def _plural(words: list[str]) -> list[str]:
    """nineteen nineties, the eighties."""
    last = words[-1]
    return words[:-1] + [last[:-1] + "ies" if last.endswith("y") else last + "s"]


def _number(text: str) -> list[str]:
    """Digits with optional thousands commas and decimals: 3.14 -> three point one four."""
    whole, _, fraction = text.replace(",", "").partition(".")
    words = cardinal(int(whole)) if whole else ["zero"]
    if fraction:
        words += ["point"] + [_ONES[int(d)] for d in fraction]
    return words


def _money(sign: str, amount: str) -> list[str]:
    one, many, cent, cents = _tables()["currency"][sign]
    whole, _, fraction = amount.replace(",", "").partition(".")
    units = int(whole or 0)
    words = cardinal(units) + [one if units == 1 else many]
    if fraction and int(fraction.ljust(2, "0")[:2]):
        hundredths = int(fraction.ljust(2, "0")[:2])
        words += ["and"] + cardinal(hundredths) + [cent if hundredths == 1 else cents]
    return words


_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(rf"^([$€£¥])({_NUMBER})$"), lambda m: _money(m[1], m[2])),
    (re.compile(r"^(\d+)(st|nd|rd|th)$", re.I), lambda m: ordinal(int(m[1]))),
    (re.compile(r"^(1[1-9]\d\d|20\d\d)$"), lambda m: year(int(m[1]))),
    (re.compile(r"^(1[1-9]\d0|20\d0)'?s$"), lambda m: _plural(year(int(m[1])))),
    (re.compile(r"^(\d{1,2}):(\d\d)$"), lambda m: cardinal(int(m[1])) + (
        ["o'clock"] if m[2] == "00" else (["oh"] if m[2][0] == "0" else []) + cardinal(int(m[2])))),
    (re.compile(rf"^({_NUMBER})%$"), lambda m: _number(m[1]) + ["percent"]),
    (re.compile(rf"^({_NUMBER})$"), lambda m: _number(m[1])),
]


def normalize(text: str) -> list[str]:
    """Spoken words of a transcript, lower case: numbers, money, years, abbreviations and symbols spelled out."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "–": " ", "—": " ", "…": " "}))
    words: list[str] = []
    for token in text.split():
        words += _token_words(token)
    return words


def _token_words(token: str) -> list[str]:
    tables = _tables()
    token = token.strip("\"“”()[]{}<>«»,;:!?*_~")
    bare = token.rstrip(".")
    lowered = token.lower()
    for key in (lowered, lowered + ".", bare.lower() + "."):
        if key in tables["abbreviations"]:
            return tables["abbreviations"][key].split()
    for pattern, spell in _RULES:
        match = pattern.match(bare)
        if match:
            return spell(match)
    if bare in tables["symbols"]:
        return tables["symbols"][bare].split()
    if re.search(r"[-/]", bare) or (re.search(r"\d", bare) and re.search(r"[^\W\d_]", bare)):
        parts = re.findall(r"\d+|[^\W\d_](?:[^\W\d_]|')*", bare.replace("_", " "))  # well-known, mp3, 24/7
        return [word for part in parts if part != bare for word in _token_words(part)]
    word = re.sub(r"[^\w']", "", bare.lower()).strip("'")
    return [word] if word else []


# ---------------------------------------------------------------------------------------------- pronouncing


def pronounce(words: list[str], lexicon: Path | None = None) -> Transcript:
    """Pronunciations for `words`: the user lexicon wins, then the CMU dictionary, then espeak-ng."""
    user = read_lexicon(lexicon) if lexicon else {}
    cmu = cmu_dictionary()
    found: dict[str, Pronunciation] = {}
    for word in dict.fromkeys(words):
        if word in user:
            found[word] = Pronunciation(word, user[word], "lexicon")
        elif word in cmu:
            found[word] = Pronunciation(word, tuple(tuple(v.split()) for v in cmu[word]), "dictionary")
    unknown = [w for w in dict.fromkeys(words) if w not in found]
    for word, phones in zip(unknown, espeak_g2p(unknown)):
        found[word] = Pronunciation(word, (phones,), "g2p")
    return Transcript(tuple(found[w] for w in words if w in found))


def pocketsphinx_model_dir() -> Path:
    """The en-us model folder inside the pocketsphinx wheel (acoustic model, dictionary)."""
    import pocketsphinx

    return Path(pocketsphinx.get_model_path()) / "en-us"


@functools.cache
def cmu_dictionary() -> dict[str, list[str]]:
    """The CMU dictionary bundled with PocketSphinx (no stress digits): word -> variants as "P H O N E S"."""
    entries: dict[str, list[str]] = {}
    for line in (pocketsphinx_model_dir() / "cmudict-en-us.dict").read_text(encoding="utf-8").splitlines():
        word, _, phones = line.partition(" ")
        entries.setdefault(word.partition("(")[0], []).append(phones)
    return entries


def read_lexicon(path: Path) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A user lexicon in CMU (`WORD  K AH0 ...`, `word(2) ...`) or MFA (`word\\t[probabilities\\t]phones`) format."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such lexicon file")
    entries: dict[str, list[tuple[str, ...]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text; save the lexicon as UTF-8") from exc
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or line.startswith((";;;", "#")):
            continue
        word = re.sub(r"\(\d+\)$", "", fields[0]).lower()
        phones = tuple(re.sub(r"[012]$", "", p.upper()) for p in fields[1:] if not _is_number(p))
        bad = [p for p in phones if p not in ARPABET]
        if bad or not phones:
            what = f"'{bad[0]}' is not an ARPAbet phone" if bad else "no phones"
            raise UserError(f"{path} line {number}: {what}; write `word  PHONE PHONE ...` in ARPAbet")
        if phones not in entries.setdefault(word, []):
            entries[word].append(phones)
    return {word: tuple(variants) for word, variants in entries.items()}


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def espeak_g2p(words: list[str]) -> list[tuple[str, ...]]:
    """ARPAbet guesses from espeak-ng's en-us rules, one process call for all words."""
    if not words:
        return []
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise UserError(f"espeak-ng is needed to pronounce {', '.join(words[:5])}; install it "
                        "(apt-get install espeak-ng) or give their pronunciations with --lexicon")
    result = subprocess.run([espeak, "-v", "en-us", "-q", "--ipa", "--sep= "], input="\n".join(words) + "\n",
                            capture_output=True, text=True, encoding="utf-8")
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or len(lines) != len(words):  # espeak-ng joined or dropped a line: go one by one
        lines = [subprocess.run([espeak, "-v", "en-us", "-q", "--ipa", "--sep= ", w], capture_output=True,
                                text=True, encoding="utf-8").stdout.strip() for w in words]
    return [ipa_to_arpabet(line) or ("AH",) for line in lines]


def ipa_to_arpabet(ipa: str) -> tuple[str, ...]:
    """espeak-ng IPA -> ARPAbet, longest symbol first; stress and length marks dropped."""
    table = _tables()["ipa"]
    longest = max(map(len, table))
    text = re.sub(r"[ˈˌː\s‿.]", "", ipa)
    phones: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            if text[i:i + size] in table:
                phones += table[text[i:i + size]].split()
                i += size
                break
        else:
            i += 1  # a symbol English has no phone for
    return tuple(phones)
