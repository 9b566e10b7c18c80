"""Languages: a transcript in German, French, Spanish, Italian, Portuguese, Dutch or Polish is read out,
pronounced by espeak-ng, aligned with the English acoustic model and lip-synced like English. MBROLA voices of
each language give exact phone timings (tools/make_corpus.py)."""

from __future__ import annotations

import json

import pytest
from bench_align import boundary_errors
from cli_helpers import assert_one_line_error, meshsync
from corpus import make_clip, truth
from test_batch import summary, write_csv

from meshsync.align.speech import SpeechOptions, align_speech
from meshsync.animate import animate
from meshsync.audio import load_audio
from meshsync.errors import UserError
from meshsync.eval import evaluate
from meshsync.languages import find_language, languages
from meshsync.phones import acoustic
from meshsync.text import normalize, pronounce
from meshsync.visemes import load_table

# One sentence per language, spoken by one MBROLA voice of it.
SPOKEN = {
    "de": ("de2", "Das Projekt beginnt pünktlich um neun Uhr."),
    "fr": ("fr1", "Le bébé mange une pomme bien mûre."),
    "es": ("es1", "Vamos a ver una película muy bonita."),
    "it": ("it3", "Abbiamo bisogno di più tempo per finire."),
    "pt-br": ("br1", "Minha mãe compra pão e manteiga na padaria."),
    "nl": ("nl2", "Het project begint volgende week maandag."),
    "pl": ("pl1", "Musimy porozmawiać o bezpieczeństwie w pracy."),
}


@pytest.mark.parametrize("language", SPOKEN)
def test_each_language_aligns_within_50_ms_and_closes_on_every_bilabial(language, head, tmp_path):
    voice, text = SPOKEN[language]
    wav = make_clip(tmp_path, language, text, voice)
    audio = load_audio(wav)
    alignment = align_speech(audio, SpeechOptions(text, language), workers=1)
    assert not alignment.unreliable and alignment.confidence > 0.8
    assert [w.label for w in alignment.words] == normalize(text, language)
    reference = [(p.label, p.start, p.end) for p in truth(wav)]
    errors = boundary_errors(reference, [(p.label, p.start, p.end) for p in alignment.phones])
    assert len(errors) >= 0.8 * len(reference) and max(errors) <= 0.050, max(errors)
    scores = evaluate(animate(audio, alignment), truth(wav), head)
    assert scores.closure[1] >= 2 and scores.closure[0] == scores.closure[1], scores.misses


def test_a_transcript_that_does_not_match_is_marked_unreliable_in_any_language(tmp_path):
    voice, said = SPOKEN["fr"]
    audio = load_audio(make_clip(tmp_path, "fr", said, voice))
    wrong = align_speech(audio, SpeechOptions("Vous trouverez le bureau au premier étage.", "fr"), workers=1)
    assert wrong.confidence < 0.5
    assert sum(b - a for a, b in wrong.unreliable) > 0.5 * audio.duration


@pytest.mark.parametrize("language, text, words", [
    ("de", "Am 3. Mai 2024 kostet es 12,50 € oder 1.250 Euro.",
     "am dritte mai zweitausendvierundzwanzig kostet es zwölf euro und fünfzig cent oder eintausendzweihundertfünfzig "
     "euro"),
    ("fr", "Le 1er mai, 21 élèves ont payé 3,5 %.",
     "le premier mai vingt et un élèves ont payé trois virgule cinq %"),
    ("es", "El 2º piso tiene 1.500 libros y cuesta 7,25 €.",
     "el segundo piso tiene mil quinientos libros y cuesta siete euros con veinticinco céntimos"),
    ("it", "Il 3º giorno bevo 2,5 litri.", "il terzo giorno bevo due virgola cinque litri"),
    ("pt-br", "São 45 alunos no 1º dia.", "são quarenta e cinco alunos no primeiro dia"),
    ("nl", "Op 2 januari 1998 kwamen 17 mensen.",
     "op twee januari negentien honderd achtennegentig kwamen zeventien mensen"),
    ("pl", "Mam 21 lat i 3,5 kg.", "mam dwadzieścia jeden lat i trzy przecinek pięć kg"),
])
def test_numbers_are_read_out_in_the_transcripts_language(language, text, words):
    assert normalize(text, language) == words.split()


def test_language_codes_are_bcp47_style_and_case_insensitive():
    assert find_language("pt-BR").code == "pt-br"
    assert find_language("PT_br").code == "pt-br"
    assert find_language("fr-CA").code == "fr"
    assert find_language("no").code == "nb"
    assert find_language("EN-us").code == "en"
    with pytest.raises(UserError, match="unknown language 'klingon'; meshsync speaks en, de, fr"):
        find_language("klingon")


def test_every_language_has_a_voice_numbers_and_a_status():
    for language in languages().values():
        assert language.status in ("measured", "best effort")
        words = normalize("12", language.code)
        transcript = pronounce(words, language.code)  # espeak-ng has the voice: every word gets phones
        assert words and [w.word for w in transcript.words] == words, language.code
        assert all(acoustic(p) for w in transcript.words for p in w.variants[0])


def test_phones_of_every_language_have_visemes_that_look_right():
    table = load_table()
    assert table.visemes_of("pf") == ("PP", "FF")  # German Pflaumen: lips close, then touch the teeth
    assert table.visemes_of("yː") == table.visemes_of("y") == ("ou",)  # French mûre, German müde: rounded
    assert table.visemes_of("ø") == table.visemes_of("œ") == ("oh",)
    assert table.visemes_of("ɔ̃") == ("oh",) and table.visemes_of("ɑ̃") == ("aa",)  # nasal vowels
    assert table.visemes_of("mʲ") == ("PP",)  # Russian palatalised m still closes
    assert table.visemes_of("β") == ("PP",)  # Spanish b between vowels
    assert table.visemes_of("ʋ") == ("FF",)  # Dutch w: lower lip to the teeth
    assert table.visemes_of("r") == table.visemes_of("ɾ") == ("DD",)  # trills and taps: tongue tip, lips free
    assert table.visemes_of("ʁ") == ("kk",)  # uvular r
    assert table.visemes_of("tʃ") == ("CH",) and table.visemes_of("ts") == ("DD", "SS")


def test_unknown_language_and_wrong_script_are_one_line_before_any_work(tmp_path):
    missing = str(tmp_path / "never-read.wav")  # the error comes before the audio is opened
    result = meshsync("align", missing, "--language", "xx", "--text", "hallo", "-o", str(tmp_path / "a.json"))
    assert_one_line_error(result, "unknown language 'xx'", "de, fr, es")
    result = meshsync("animate", missing, "--language", "de", "--text", "Привет, как дела?",
                      "-o", str(tmp_path / "a.json"))
    assert_one_line_error(result, "Cyrillic script", "German")
    assert not list(tmp_path.iterdir())


def test_languages_command_lists_every_language_with_its_status():
    result = meshsync("languages")
    assert result.returncode == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert set(rows) == set(languages())
    assert "German" in rows["de"] and "measured" in rows["de"]


def test_a_batch_file_with_two_languages(tmp_path):
    folder = tmp_path / "jobs"
    folder.mkdir()
    for language in ("fr", "de"):
        make_clip(folder, language, SPOKEN[language][1], SPOKEN[language][0])
    jobs = write_csv(folder / "jobs.csv", "id,audio,text,language,outputs",
                     f"fr,fr.wav,\"{SPOKEN['fr'][1]}\",fr,json",
                     f"de,de.wav,\"{SPOKEN['de'][1]}\",de,json")
    out = tmp_path / "out"
    result = meshsync("batch", str(jobs), "--out", str(out), "--workers", "1")
    assert result.returncode == 0, result.stderr
    assert summary(result.stdout)["done"] == 2
    for language in ("fr", "de"):
        direct, english = tmp_path / f"{language}.json", tmp_path / f"{language}-en.json"
        args = [str(folder / f"{language}.wav"), "--text", SPOKEN[language][1], "--quiet"]
        assert meshsync("animate", *args, "--language", language, "-o", str(direct)).returncode == 0
        assert meshsync("animate", *args, "-o", str(english)).returncode == 0
        assert (out / f"{language}.json").read_bytes() == direct.read_bytes()
        assert json.loads(english.read_text()) != json.loads(direct.read_text())  # the column reached the aligner
