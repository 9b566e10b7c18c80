"""Synthesise speech with exact phone timings, for testing and benchmarking the aligner.

espeak-ng turns each sentence into MBROLA phones with durations; an MBROLA voice speaks them; the cumulative
durations are the ground truth. English voices (us1, us2, us3 American, en1 British) read
tools/corpus/sentences.txt, labelled in ARPAbet; voices of other languages (de2, fr1, es1, it3, br1, nl2, pl1,
...; tools/corpus/mbrola.toml) read tools/corpus/sentences/LANG.txt, labelled in IPA.
Noise is added at the requested SNRs (MBROLA's pauses are exact zeros, so "clean" gets faint noise too).

The MBROLA voices are non-free (non-commercial): use this corpus for tests and evaluation only, never to
train shipped weights. Install them with tools/install_mbrola.sh.

    python tools/make_corpus.py build/corpus                     # 4 voices x 3 rates x 3 noise levels
    python tools/make_corpus.py build/corpus --long 300          # plus one five-minute recording per voice
    python tools/make_corpus.py build/corpus-de --voices de2,de4,de6
Each clip is NAME.wav (16 kHz mono 16-bit) and NAME.json: text, language, voice, rate, snr, phones
[[label, start, end]].
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import tempfile
import tomllib
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import soundfile

from meshsync.audio import Audio

HERE = Path(__file__).resolve().parent / "corpus"
RATE = 16000
LEAD_MS = 250  # silence before and after each clip, as in a real recording
CLEAN_SNR = 50.0  # dB: "clean" still has a noise floor


def sentences(language: str = "en") -> list[str]:
    path = HERE / "sentences.txt" if language == "en" else HERE / "sentences" / f"{language}.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@functools.cache
def _tables() -> dict:
    return tomllib.loads((HERE / "mbrola.toml").read_text(encoding="utf-8"))


def language_of(voice: str) -> str:
    return _tables()["voices"].get(voice, "en")


def truth_label(symbol: str, language: str) -> str:
    """A voice's phone symbol as the clip's truth labels it: ARPAbet for English, IPA otherwise."""
    tables = _tables()
    if language == "en":
        return tables["phones"][symbol]
    if symbol in tables.get(f"sampa-{language}", {}):
        return tables[f"sampa-{language}"][symbol]
    if symbol in tables["sampa"]:
        return tables["sampa"][symbol]
    return symbol.replace(":", "ː").replace("~", "\u0303")


def espeak_pho(text: str, voice: str, wpm: int) -> list[list[str]]:
    """espeak-ng's MBROLA phone lines for `text`: [symbol, duration ms, pitch points...]. Symbols espeak-ng
    writes that the voice lacks (MBROLA would speak them as silence) are replaced by the voice's own."""
    out = subprocess.run(["espeak-ng", "-v", f"mb-{voice}", "-s", str(wpm), "-q", "--pho", text],
                         capture_output=True, text=True, check=True).stdout
    lines = [line.split() for line in out.splitlines() if line.strip() and not line.startswith(";")]
    missing = _tables()["missing"] if voice in _tables()["voices"] else {}
    return [[missing.get(line[0], line[0]), *line[1:]] for line in lines]


def synthesise(pho: list[list[str]], voice: str) -> np.ndarray:
    """MBROLA's speech of `pho`; a diphone the voice lacks (spoken as silence, so the truth would be wrong)
    raises."""
    with tempfile.TemporaryDirectory() as tmp:
        pho_path, wav_path = Path(tmp) / "x.pho", Path(tmp) / "x.wav"
        pho_path.write_text("\n".join(" ".join(line) for line in pho) + "\n")
        done = subprocess.run(["mbrola", "-e", f"/usr/share/mbrola/{voice}/{voice}", str(pho_path),
                               str(wav_path)], check=True, capture_output=True, text=True)
        if "unknown" in done.stderr:
            raise ValueError(f"{voice} lacks diphones: {done.stderr.strip().splitlines()[0]}")
        samples, rate = soundfile.read(wav_path, dtype="float32")
    return Audio(samples, rate).resampled(RATE).samples  # some voices speak at 22.05 kHz


def phone_times(pho: list[list[str]], language: str) -> list[tuple[str, float, float]]:
    """Cumulative durations -> (label, start, end) with neighbouring silences merged."""
    phones: list[tuple[str, float, float]] = []
    t = 0.0
    for symbol, duration, *_ in pho:
        end = t + int(duration) / 1000
        label = truth_label(symbol, language)
        if phones and label == "sil" and phones[-1][0] == "sil":
            phones[-1] = ("sil", phones[-1][1], end)
        elif end > t:
            phones.append((label, t, end))
        t = end
    return [(label, round(start, 4), round(end, 4)) for label, start, end in phones]


def add_noise(samples: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    speech = samples[np.abs(samples) > 1e-4]
    rms = float(np.sqrt(np.mean(speech**2))) if speech.size else 0.1
    noise = np.random.default_rng(seed).normal(0.0, rms / 10 ** (snr_db / 20), samples.shape)
    return np.clip(samples + noise, -1, 1).astype(np.float32)


def make_clip(out: Path, name: str, text: str, voice: str, wpm: int, snr: float | None) -> None:
    pause = [["_", str(LEAD_MS)]]
    pho = pause + espeak_pho(text, voice, wpm) + pause
    samples = synthesise(pho, voice)
    level = CLEAN_SNR if snr is None else snr
    samples = add_noise(samples, level, zlib.crc32(f"{name}/{voice}/{wpm}/{level}".encode()))
    soundfile.write(out / f"{name}.wav", samples, RATE, subtype="PCM_16")
    language = language_of(voice)
    meta = {"text": text, "language": language, "voice": voice, "rate": wpm, "snr": snr,
            "phones": phone_times(pho, language)}
    (out / f"{name}.json").write_text(json.dumps(meta) + "\n")


def make_long(out: Path, voice: str, seconds: float) -> None:
    """One recording of about `seconds`: sentences in a row with half-second pauses."""
    texts, pho, total = [], [["_", str(LEAD_MS)]], 0.0
    language = language_of(voice)
    pool = sentences(language)
    while total < seconds * 1000:
        text = pool[len(texts) % len(pool)]
        lines = espeak_pho(text, voice, 175) + [["_", "500"]]
        total += sum(int(line[1]) for line in lines)
        texts.append(text)
        pho += lines
    samples = add_noise(synthesise(pho, voice), CLEAN_SNR, zlib.crc32(f"long/{voice}".encode()))
    name = f"long_{voice}_{seconds:.0f}s"
    soundfile.write(out / f"{name}.wav", samples, RATE, subtype="PCM_16")
    meta = {"text": " ".join(texts), "language": language, "voice": voice, "rate": 175, "snr": None,
            "phones": phone_times(pho, language)}
    (out / f"{name}.json").write_text(json.dumps(meta) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--voices", default="us1,us2,us3,en1")
    parser.add_argument("--rates", default="140,175,210", help="speaking rates, words per minute")
    parser.add_argument("--snr", default="clean,20,10", help="noise levels in dB SNR, or 'clean'")
    parser.add_argument("--sentences", type=int, default=20, help="sentences per voice, rate and noise level")
    parser.add_argument("--long", type=float, default=0, help="also a recording this many seconds long per voice")
    args = parser.parse_args()

    jobs = []
    for voice in args.voices.split(","):
        for wpm in map(int, args.rates.split(",")):
            for level in args.snr.split(","):
                snr = None if level == "clean" else float(level)
                folder = args.out / f"{voice}_{wpm}_{level}"
                folder.mkdir(parents=True, exist_ok=True)
                for i, text in enumerate(sentences(language_of(voice))[: args.sentences]):
                    jobs.append((folder, f"{i:03d}", text, voice, wpm, snr))

    def make(job) -> bool:
        try:
            make_clip(*job)
        except ValueError as exc:  # the voice cannot say it: leave the clip out, say so
            print(f"skipped {job[0].name}/{job[1]}: {exc}")
            return False
        return True

    with ThreadPoolExecutor(max_workers=2) as pool:
        made = sum(pool.map(make, jobs))
        if args.long:
            (args.out / "long").mkdir(parents=True, exist_ok=True)
            list(pool.map(lambda v: make_long(args.out / "long", v, args.long), args.voices.split(",")))
    print(f"wrote {made} clips to {args.out}")


if __name__ == "__main__":
    main()
