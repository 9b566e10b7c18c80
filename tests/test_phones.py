"""meshsync.phones: ARPAbet and IPA, and the conversions alignment and the viseme table need."""

from __future__ import annotations

from meshsync.phones import acoustic, arpabet, base, espeak_phones, ipa_to_arpabet, segment, to_ipa


def test_ipa_mapping_handles_diphthongs_and_syllabic_consonants():
    assert ipa_to_arpabet("f ˈaɪɚ") == ("F", "AY", "ER")
    assert ipa_to_arpabet("b ˈʌ ʔ n̩") == ("B", "AH", "T", "AH", "N")
    assert ipa_to_arpabet("h ə l ˈoʊ") == ("HH", "AH", "L", "OW")


def test_every_arpabet_phone_goes_to_ipa_and_back_to_itself():
    """The two tables in phones.toml agree: drift between them would misalign or mis-shape English."""
    for phone in arpabet():
        assert ipa_to_arpabet(to_ipa(phone)) == (phone,), phone


def test_phones_of_other_languages_are_aligned_as_their_nearest_english_phones():
    assert acoustic("pf") == ("P", "F")
    assert acoustic("ts") == ("T", "S")
    assert acoustic("yː") == acoustic("y") == ("IY",)
    assert acoustic("ɔ̃") == acoustic("ɔ")
    assert acoustic("mʲ") == ("M",)
    assert acoustic("AY") == ("AY",)  # ARPAbet stays as it is
    assert acoustic("ʘ") == ("AH",)  # a click no table knows still takes its time


def test_marks_are_dropped_for_lookup():
    assert base("ˈyː") == "y"
    assert base("ɐ̃ʊ̃") == "ɐʊ"
    assert base("pʲ") == "p"


def test_espeak_output_and_unseparated_ipa_split_into_phones():
    assert espeak_phones("pf_l_ˈaʊ_m_ə_n") == ("pf", "l", "aʊ", "m", "ə", "n")
    assert espeak_phones("(en)w_ˈiː_k_ɛ_n_d(de)") == ("w", "iː", "k", "ɛ", "n", "d")
    assert espeak_phones("_ˈɛ_l__eː_k_ˈoː_l_ə-") == ("ɛ", "l", "eː", "k", "oː", "l", "ə")
    assert segment("ˈpflaʊmən") == ("pf", "l", "aʊ", "m", "ə", "n")
    assert segment("mˈyːʁ") == ("m", "yː", "ʁ")
    assert segment("bɔ̃ʒuʁ") == ("b", "ɔ̃", "ʒ", "u", "ʁ")
