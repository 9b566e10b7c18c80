"""meshsync.text: transcripts into dictionary words, and a pronunciation for every word."""

from __future__ import annotations

import pytest

from meshsync.errors import UserError
from meshsync.phones import arpabet
from meshsync.text import normalize, pronounce, read_lexicon, read_text


@pytest.mark.parametrize("text, words", [
    ("Hello, World!", "hello world"),
    ("I have 3 cats and 1,200 dogs.", "i have three cats and one thousand two hundred dogs"),
    ("the 21st and 2nd of May", "the twenty first and second of may"),
    ("In 1999 and 2005 and 1900", "in nineteen ninety nine and two thousand five and nineteen hundred"),
    ("the 1980s", "the nineteen eighties"),
    ("$5.50 or £1 or €20", "five dollars and fifty cents or one pound or twenty euros"),
    ("25% off, 3.14 exactly", "twenty five percent off three point one four exactly"),
    ("Dr. Smith vs. Mr. Jones", "doctor smith versus mister jones"),
    ("a well-known mp3", "a well known mp three"),
    ("it’s O'Brien's “quote”", "it's o'brien's quote"),
    ("at 10:30 or 5:00", "at ten thirty or five o'clock"),
    ("rock & roll — live…", "rock and roll live"),
])
def test_normalize(text, words):
    assert normalize(text) == words.split()


def test_read_text_from_a_string_and_a_file(tmp_path):
    assert read_text("hello there") == "hello there"
    path = tmp_path / "script.txt"
    path.write_text("\ufeffHello from a file.\n", encoding="utf-8")
    assert read_text(str(path)).strip() == "Hello from a file."


@pytest.mark.parametrize("content, message", [(b"caf\xe9 latin-1", "not UTF-8"), (b"  ... !!\n", "no words")])
def test_read_text_refuses_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message):
        read_text(str(path))
    with pytest.raises(UserError, match="no such transcript"):
        read_text(str(tmp_path / "missing.txt"))


def test_dictionary_words_come_from_the_cmu_dictionary():
    transcript = pronounce(["maybe", "the", "baby"])
    assert [w.source for w in transcript.words] == ["dictionary"] * 3
    assert ("M", "EY", "B", "IY") in transcript.words[0].variants
    assert len(transcript.words[1].variants) >= 2  # "the": DH AH and DH IY
    assert transcript.guessed == []


def test_unknown_words_are_guessed_with_espeak_and_reported():
    transcript = pronounce(normalize("Kubernetes and PyTorch met Zorblaxian"))
    assert transcript.guessed == ["kubernetes", "pytorch", "zorblaxian"]
    by_word = {w.word: w for w in transcript.words}
    assert by_word["kubernetes"].variants[0][:4] == ("K", "Y", "UW", "B")
    assert by_word["pytorch"].variants[0][:2] == ("P", "AY")
    for word in transcript.words:
        assert word.variants and all(set(v) <= arpabet() for v in word.variants)


def test_user_lexicon_in_cmu_and_mfa_format_wins(tmp_path):
    cmu = tmp_path / "cmu.dict"
    cmu.write_text(";;; comment\nKUBERNETES  K UW1 B ER0 N EH1 T IY0 Z\nKUBERNETES(2)  K UW1 B ER0 N EY1 T IY0 Z\n")
    mfa = tmp_path / "mfa.dict"
    mfa.write_text("maybe\t0.99\t0.1\t1.0\t1.0\tM EY1 B IY0\nzorblax\tZ AO1 R B L AE0 K S\n")
    assert read_lexicon(cmu)["kubernetes"] == (("K", "UW", "B", "ER", "N", "EH", "T", "IY", "Z"),
                                               ("K", "UW", "B", "ER", "N", "EY", "T", "IY", "Z"))
    assert read_lexicon(mfa)["zorblax"] == (("Z", "AO", "R", "B", "L", "AE", "K", "S"),)
    transcript = pronounce(["kubernetes", "maybe"], lexicon=cmu)
    assert [w.source for w in transcript.words] == ["lexicon", "dictionary"]
    assert transcript.guessed == []


def test_bad_lexicon_lines_are_reported_with_their_number(tmp_path):
    path = tmp_path / "bad.dict"
    path.write_text("hello  HH AH L OW\nworld  W ER1 L DX\n")
    with pytest.raises(UserError, match="line 2: 'DX' is neither an ARPAbet nor an IPA phone"):
        read_lexicon(path)


def test_a_lexicon_in_ipa_serves_every_language(tmp_path):
    path = tmp_path / "ipa.dict"
    path.write_text("kubernetes\tkuːbɐˈneːtəs\nmeshsync\tm ɛ ʃ s ɪ ŋ k\n", encoding="utf-8")
    german = pronounce(["kubernetes", "meshsync", "und"], "de", lexicon=path)
    assert [w.source for w in german.words] == ["lexicon", "lexicon", "espeak-ng"]
    assert german.words[0].variants == (("k", "uː", "b", "ɐ", "n", "eː", "t", "ə", "s"),)
    assert german.words[1].variants == (("m", "ɛ", "ʃ", "s", "ɪ", "ŋ", "k"),)
    english = pronounce(["meshsync"], lexicon=path)  # English keeps ARPAbet: IPA is converted
    assert english.words[0].variants == (("M", "EH", "SH", "S", "IH", "NG", "K"),)
    bad = tmp_path / "bad.dict"
    bad.write_text("wort\tv ɔ ʘ t\n", encoding="utf-8")
    with pytest.raises(UserError, match="line 1: 'ʘ' is neither an ARPAbet nor an IPA phone"):
        read_lexicon(bad, english=False)
