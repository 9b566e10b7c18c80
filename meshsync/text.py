"""Transcripts in: read, normalise into spoken words in the transcript's language, and give every word a
pronunciation.

English: the CMU dictionary that PocketSphinx ships, a user lexicon, then espeak-ng's rules (IPA mapped to
ARPAbet) for the rest. Every other language: a user lexicon, then espeak-ng in that language (IPA phones);
numbers, ordinals, years and money are read out by num2words.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tomllib
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from num2words import num2words

from .errors import UserError
from .files import check_input_file, names_something
from .languages import ENGLISH, Language, find_language
from .phones import arpabet, espeak_phones, ipa_to_arpabet, segment

MAX_TEXT_BYTES = 1_000_000


@dataclass(frozen=True)
class Pronunciation:
    """A normalised word and its pronunciations: ARPAbet phones (no stress) for English, IPA phones for other
    languages; `source` says where they came from."""

    word: str
    variants: tuple[tuple[str, ...], ...]
    source: str  # "dictionary", "lexicon" or "g2p"


@dataclass(frozen=True)
class Transcript:
    """The words to align, in order, each with its pronunciations, and their language's code."""

    words: tuple[Pronunciation, ...]
    language: str = ENGLISH

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
    if not (path.suffix.lower() == ".txt" or names_something(value)):
        return _nonempty(value, "the transcript")
    check_input_file(path, "transcript file")
    data = path.read_bytes()
    if len(data) > MAX_TEXT_BYTES:
        raise UserError(f"{path}: the transcript is over {MAX_TEXT_BYTES // 1_000_000} MB; split the job")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from exc
    return _nonempty(text, str(path))


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


_MAX_DIGITS = 15  # longer numbers are read digit by digit (phone numbers, codes), grouped ones too
_LONG_NUMBER = re.compile(rf"\d{{{_MAX_DIGITS + 1},}}|\d{{1,3}}(?:[,.\u202f]\d{{3}}){{{_MAX_DIGITS // 3},}}")


def normalize(text: str, language: str = ENGLISH) -> list[str]:
    """Spoken words of a transcript, lower case: numbers, money, years, abbreviations and symbols spelled out
    in the transcript's language (a language code; a UserError names the supported ones)."""
    found = find_language(language)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "–": " ", "—": " ", "…": " "}))
    spell = _token_words if found.code == ENGLISH else functools.partial(_spoken, language=found)
    text = _LONG_NUMBER.sub(lambda m: " ".join(re.findall(r"\d", m[0])), text)
    if found.code != ENGLISH:
        text = re.sub(rf"(\d)\s+([%{_SIGNS}])", r"\1\2", text)  # 12,50 € and 3,5 % are one amount
    words: list[str] = []
    for token in text.split():
        words += spell(token)
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


# ---------------------------------------------------------------------------------------------- other languages

_CURRENCIES = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY"}
_SIGNS = re.escape("".join(_CURRENCIES))  # for regular expressions' character classes
_SYMBOLS = re.escape("%&+=@#") + _SIGNS  # read aloud by espeak-ng in the transcript's language
# What num2words raises where a language lacks a kind of number (or its code trips on one): read it plainer.
_NUM2WORDS_GAPS = (NotImplementedError, TypeError, KeyError, IndexError, ValueError, OverflowError)


def _spoken(token: str, language: Language) -> list[str]:
    """One token of a transcript in `language` -> its spoken words, lower case."""
    token = token.strip("\"“”„‚()[]{}<>«»,;:!?*_~¡¿")
    if token.lower() in language.abbreviations:
        return language.abbreviations[token.lower()].lower().split()
    number = _number_words(token, language)
    if number is not None:
        return number
    bare = token.rstrip(".")
    if re.fullmatch(f"[{_SYMBOLS}]", bare):
        return [bare]
    if re.search(rf"[\d/{_SYMBOLS}]", bare):  # 14:30, 50%, A4, 24/7
        parts = re.findall(rf"\d+(?:[.,]\d+)*|[^\W\d_](?:[\w'-]*[^\W\d_])?|[{_SYMBOLS}]", bare)
        return [word for part in parts if part != bare for word in _spoken(part, language)]
    return _letters(bare)


def _letters(text: str) -> list[str]:
    """The words of `text`, lower case; apostrophes and hyphens inside a word stay (l'école, quatre-vingt)."""
    return re.findall(r"[^\W\d_](?:[\w'-]*[^\W\d_])?", text.lower())


def _number_words(token: str, language: Language) -> list[str] | None:
    """Numbers, ordinals, years, decimals and money in `language`, or None when `token` is none of them."""
    group, decimal = re.escape(language.group), re.escape(language.decimal)
    number = rf"\d{{1,3}}(?:[{group}\u202f]\d{{3}})+(?:{decimal}\d+)?|\d+(?:{decimal}\d+)?"
    money = re.fullmatch(rf"([{_SIGNS}]?)({number})([{_SIGNS}]?)\.?", token)
    if money and (money[1] or money[3]):
        return _amount(money[2], money[1] or money[3], language)
    for suffix in sorted(language.ordinals, key=len, reverse=True):
        digits = token[:-len(suffix)]
        if token.endswith(suffix) and digits.isdigit() and len(digits) <= 3 \
                and (suffix != "." or int(digits) < 100):  # "im Jahr 2024." ends a sentence
            return _say(int(digits), language, "ordinal")
    plain = re.fullmatch(rf"({number})\.?", token)
    if not plain:
        return None
    digits = plain[1]
    if re.fullmatch(r"1\d{3}|20\d\d", digits):
        return _say(int(digits), language, "year")
    whole, _, fraction = _plain(digits, language).partition(".")
    if not fraction:
        return _say(int(whole), language)
    if language.decimal_word:
        return _say(int(whole), language) + [language.decimal_word] + _say(int(fraction), language)
    return _say(Decimal(f"{whole}.{fraction}"), language)


def _plain(digits: str, language: Language) -> str:
    """A number as the language writes it -> as Python reads it: 1.250,50 -> 1250.50 in German."""
    return digits.replace(language.group, "").replace("\u202f", "").replace(language.decimal, ".")


def _amount(amount: str, sign: str, language: Language) -> list[str]:
    value = Decimal(_plain(amount, language))
    try:
        return _letters(num2words(value, lang=language.numbers, to="currency", currency=_CURRENCIES[sign]))
    except _NUM2WORDS_GAPS:  # no money in this language: the number, then the sign as espeak-ng reads it
        return _number_words(amount, language) + [sign]


def _say(number: int | Decimal, language: Language, kind: str = "cardinal") -> list[str]:
    """num2words in `language`; digit by digit for very long numbers or where num2words fails."""
    digits = str(number)
    if len(digits) <= _MAX_DIGITS:
        try:
            return _letters(num2words(number, lang=language.numbers, to=kind))
        except _NUM2WORDS_GAPS:
            if kind != "cardinal":
                return _say(number, language)
    return [w for d in digits if d.isdigit() for w in _letters(num2words(int(d), lang=language.numbers))]


# ---------------------------------------------------------------------------------------------- pronouncing


def pronounce(words: list[str], language: str = ENGLISH, lexicon: Path | None = None) -> Transcript:
    """Pronunciations for `words` in `language`: the user lexicon wins, then (English) the CMU dictionary, then
    espeak-ng. Words espeak-ng cannot pronounce (a symbol it does not read) are left out."""
    found_language = find_language(language)
    english = found_language.code == ENGLISH
    user = read_lexicon(lexicon, english) if lexicon else {}
    cmu = cmu_dictionary() if english else {}
    found: dict[str, Pronunciation] = {}
    for word in dict.fromkeys(words):
        if word in user:
            found[word] = Pronunciation(word, user[word], "lexicon")
        elif word in found_language.lexicon:
            found[word] = Pronunciation(word, (tuple(found_language.lexicon[word].split()),), "meshsync")
        elif word in cmu:
            found[word] = Pronunciation(word, tuple(tuple(v.split()) for v in cmu[word]), "dictionary")
    unknown = [w for w in dict.fromkeys(words) if w not in found]
    if english:
        for word, phones in zip(unknown, espeak_ipa(unknown, found_language.espeak)):
            found[word] = Pronunciation(word, (ipa_to_arpabet("".join(phones)) or ("AH",),), "g2p")
    else:
        unknown_set = set(unknown)
        for word, phones in zip(words, espeak_in_context(words, found_language.espeak)):
            if word in unknown_set and word not in found and phones:
                respelled = tuple(found_language.respell.get(p, p) for p in phones)
                found[word] = Pronunciation(word, (respelled,), "espeak-ng")
    return Transcript(tuple(found[w] for w in words if w in found), found_language.code)


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


def read_lexicon(path: Path, english: bool = True) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A user lexicon: CMU (`WORD  K AH0 ...`, `word(2) ...`), MFA (`word\\t[probabilities\\t]phones`) or IPA
    (`word\\tipa`, phones joined or space-separated). English keeps ARPAbet (IPA is converted); other
    languages keep what the entry gives."""
    path = check_input_file(path, "lexicon file")
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
        phones, bad = _lexicon_phones([p for p in fields[1:] if not _is_number(p)], english)
        if bad is not None:
            what = f"'{bad}' is neither an ARPAbet nor an IPA phone" if bad else "no phones"
            raise UserError(f"{path} line {number}: {what}; write `word  PHONE PHONE ...` in ARPAbet or "
                            "`word<TAB>ipa` in IPA")
        if phones not in entries.setdefault(word, []):
            entries[word].append(phones)
    return {word: tuple(variants) for word, variants in entries.items()}


def _lexicon_phones(fields: list[str], english: bool) -> tuple[tuple[str, ...], str | None]:
    """(phones, None): ARPAbet (stress digits dropped) when the fields are ARPAbet, else IPA phones; or
    ((), the first field that is neither, "" when there are no phones)."""
    if not fields:
        return (), ""
    upper = [re.sub(r"[012]$", "", p.upper()) for p in fields]
    bad = [f for f, p in zip(fields, upper) if p not in arpabet()]
    if not bad:
        return tuple(upper), None
    if all(p.isascii() for p in fields) and any(p.isupper() for p in fields):  # meant as ARPAbet
        return (), bad[0]
    ipa = fields if len(fields) > 1 else segment(fields[0])
    bad = [p for p in ipa if not ipa_to_arpabet(p)]
    if bad:
        return (), bad[0]
    return (ipa_to_arpabet("".join(ipa)) if english else tuple(ipa)), None


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


CONTEXT_WORDS = 30  # words espeak-ng reads at once: enough context for function words, few process calls


def espeak_in_context(words: list[str], voice: str) -> list[tuple[str, ...]]:
    """espeak-ng's IPA phones for each of `words`, read as running text a few dozen words at a time, so that a
    one-letter word is a word (French à, Portuguese é, Polish w), not a letter's name. A stretch whose words
    espeak-ng joins or splits is read word by word instead."""
    found: list[tuple[str, ...]] = []
    for start in range(0, len(words), CONTEXT_WORDS):
        chunk = words[start:start + CONTEXT_WORDS]
        spoken = _espeak(chunk and [" ".join(chunk)], voice)
        read = spoken[0].split() if len(spoken) == 1 else []
        found += [espeak_phones(w) for w in read] if len(read) == len(chunk) else espeak_ipa(chunk, voice)
    return found


def _espeak(lines: list[str], voice: str) -> list[str]:
    """espeak-ng's IPA output for `lines`, its non-empty lines, phones separated by `_`."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise UserError(f"espeak-ng is needed to pronounce {' '.join(lines)[:60]}; install it "
                        "(apt-get install espeak-ng) or give their pronunciations with --lexicon")
    result = subprocess.run([espeak, "-v", voice, "-q", "--ipa", "--sep=_"], input="\n".join(lines) + "\n",
                            capture_output=True, text=True, encoding="utf-8")
    return [line for line in result.stdout.splitlines() if line.strip()] if result.returncode == 0 else []


def espeak_ipa(words: list[str], voice: str) -> list[tuple[str, ...]]:
    """espeak-ng's IPA phones for each of `words` with `voice`, one word a line in one process call."""
    if not words:
        return []
    lines = _espeak(words, voice)
    if len(lines) != len(words):  # espeak-ng joined or dropped a line: go one by one
        lines = [" ".join(_espeak([w], voice)) for w in words]
    return [espeak_phones(line) for line in lines]
