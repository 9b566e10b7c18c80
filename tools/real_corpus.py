"""Licence-clean speech for calibrating the audio-only path (meshsync.listen), in make_corpus.py's format,
and real English speech held out from that calibration.

    python tools/real_corpus.py build/corpus-real              # flite awb/rms/slt + asterisk en/es/fr/it/ru
    python tools/real_corpus.py build/corpus-real --prompts 40
    python tools/real_corpus.py build/corpus-heldout --held-out  # pocketsphinx-testdata: LibriVox + cards

Two sources, neither of them MBROLA (the held-out test voices):
- Debian `flite` voices awb (Scottish male), rms (US male) and slt (US female), statistical voices trained on the
  CMU ARCTIC speakers' recordings (CMU's free licence), reading the asterisk English transcripts; `flite -psdur`
  prints every phone's exact end, so the truth is exact;
- the asterisk prompts (tools/asterisk.py: one real speaker per language, CC-BY-SA-3.0 / CC-BY-3.0), their phones
  timed by meshsync's own aligner (about 12 ms from exact on real speech); prompts it aligns with low
  confidence are left out.
Held out (`--held-out`, never calibrated on): Debian `pocketsphinx-testdata` (BSD-2), two more real English
speakers: five LibriVox sentences read by one (25 s) and five card names said by another (10 s), timed the
same way.
Folders are VOICE_SOURCE_clean (awb_flite_clean, asterisk-es_real_clean); clips NNN.wav + NNN.json.
Install: apt-get install flite asterisk-core-sounds-XX-g722 asterisk-core-sounds-XX (XX: en es fr it ru)
pocketsphinx-testdata.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import asterisk
import festival
import soundfile

from meshsync.align import MIN_CONFIDENCE
from meshsync.align.speech import SpeechOptions, align_speech
from meshsync.audio import load_audio

FLITE_VOICES = ("awb", "rms", "slt")
TESTDATA = Path("/usr/share/pocketsphinx/test/data")
RATE = 16000


def flite_clip(text: str, voice: str, wav: Path) -> list[tuple[str, float, float]]:
    """Speak `text` into `wav` (16 kHz) and return its phones (ARPAbet, seconds) from `-psdur`."""
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "x.wav"
        out = subprocess.run(["flite", "-voice", voice, "-psdur", "-t", text, "-o", str(raw)],
                             capture_output=True, text=True, check=True).stdout
        audio = load_audio(raw).resampled(RATE)
    soundfile.write(wav, audio.samples, RATE, subtype="PCM_16")
    phones, start = [], 0.0
    for item in out.split():
        label, _, end = item.rpartition(":")
        end = float(end)
        name = "sil" if label == "pau" else festival.arpabet(label)
        if phones and name == "sil" and phones[-1][0] == "sil":
            phones[-1] = ("sil", phones[-1][1], end)
        elif end > start:
            phones.append((name, round(start, 4), round(end, 4)))
        start = end
    return phones


def write(folder: Path, name: str, meta: dict) -> None:
    (folder / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False) + "\n")


def make_flite(out: Path, texts: list[str]) -> int:
    made = 0
    for voice in FLITE_VOICES:
        folder = out / f"{voice}_flite_clean"
        folder.mkdir(parents=True, exist_ok=True)
        for i, text in enumerate(texts):
            phones = flite_clip(text, voice, folder / f"{i:03d}.wav")
            write(folder, f"{i:03d}", {"text": text, "language": "en", "voice": voice, "rate": 0, "snr": None,
                                       "phones": phones})
            made += 1
    return made


def make_asterisk(out: Path, language: str, count: int, work: Path) -> int:
    folder = out / f"asterisk-{language}_real_clean"
    made = 0
    for name, text in spread(asterisk.prompts(language), count * 2):
        made += aligned(folder, f"{made:03d}", asterisk.wav(name, work, language), text, language)
        if made == count:
            break
    return made


def make_testdata(out: Path) -> int:
    """pocketsphinx-testdata's LibriVox and cards clips (lines `<s> words </s> (name)`), aligned."""
    made = 0
    for voice, listing in (("librivox", "transcription"), ("cards", "cards.transcription")):
        folder = TESTDATA / voice
        if not folder.exists():
            raise SystemExit("pocketsphinx-testdata is not installed: apt-get install pocketsphinx-testdata")
        for i, line in enumerate((folder / listing).read_text().splitlines()):
            words, _, name = line.replace("<s>", "").replace("</s>", "").rpartition("(")
            made += aligned(out / f"{voice}_real_clean", f"{i:03d}", folder / f"{name.strip(') ')}.wav",
                            words.strip(), "en")
    return made


def aligned(folder: Path, clip: str, wav: Path, text: str, language: str) -> int:
    """Write the clip with its phones as meshsync's aligner times them: 1, or 0 when the aligner cannot take
    it or is not confident of it (left out, and said so)."""
    folder.mkdir(parents=True, exist_ok=True)
    audio = load_audio(wav)
    try:
        alignment = align_speech(audio, SpeechOptions(text, language), workers=1)
    except Exception as exc:
        print(f"skipped {wav}: {exc}")
        return 0
    if alignment.confidence < MIN_CONFIDENCE or alignment.unreliable:
        print(f"skipped {wav}: aligned with low confidence")
        return 0
    soundfile.write(folder / f"{clip}.wav", audio.resampled(RATE).samples, RATE, subtype="PCM_16")
    write(folder, clip, {"text": text, "language": language, "voice": folder.name.split("_")[0], "rate": 0,
                         "snr": None, "phones": [(p.label, p.start, p.end) for p in alignment.phones]})
    return 1


def spread(items: list, count: int) -> list:
    """`count` items taken evenly through `items` (prompts are sorted by name, which groups their topics)."""
    return items[:: max(1, len(items) // count)][:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--prompts", type=int, default=60, help="clips per voice (default 60)")
    parser.add_argument("--languages", default=",".join(asterisk.LANGUAGES))
    parser.add_argument("--held-out", action="store_true", help="only the held-out real English speech")
    args = parser.parse_args()
    if args.held_out:
        print(f"wrote {make_testdata(args.out)} clips to {args.out}")
        return
    texts = [text for _, text in spread(asterisk.prompts("en"), args.prompts)]
    made = make_flite(args.out, texts)
    for language in args.languages.split(","):
        made += make_asterisk(args.out, language, args.prompts, args.out / "work" / language)
    print(f"wrote {made} clips to {args.out}")


if __name__ == "__main__":
    main()
