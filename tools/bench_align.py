"""Alignment accuracy and speed against the exact phone timings of tools/make_corpus.py.

    python tools/bench_align.py build/corpus                 # every clip folder, grouped by voice and noise
    python tools/bench_align.py build/corpus --long          # also the long recordings: wall time, peak RSS
    python tools/bench_align.py build/corpus-intl --language de,fr   # only clips in these languages

Boundary error: the reference and aligned phone sequences are matched (difflib on labels without length or
nasality marks, equal-length substitutions paired too); every boundary of a matched reference phone is
compared with the aligned one. Reports mean and
median error, share within 20 and 50 ms, share over 100 ms, and the real-time factor (align time / duration).
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from meshsync.align.pocketsphinx import align
from meshsync.audio import load_audio
from meshsync.phones import base
from meshsync.text import normalize, pronounce


def boundary_errors(reference: list, aligned: list) -> list[float]:
    """|aligned - reference| in seconds for each boundary of the matched, non-silent phones."""
    ref = [p for p in reference if p[0] != "sil"]
    hyp = [p for p in aligned if p[0] != "sil"]
    matcher = difflib.SequenceMatcher(a=[base(p[0]) for p in ref], b=[base(p[0]) for p in hyp], autojunk=False)
    pairs: dict[float, float] = {}
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for r, h in zip(ref[i1:i2], hyp[j1:j2]):
                pairs.setdefault(r[1], h[1])
                pairs.setdefault(r[2], h[2])
    return [abs(h - r) for r, h in pairs.items()]


def summary(errors: list[float], seconds: float, audio_seconds: float) -> str:
    e = np.array(errors) * 1000
    return (f"mean {e.mean():5.1f} ms  median {np.median(e):5.1f} ms  <=20 ms {np.mean(e <= 20):6.1%}  "
            f"<=50 ms {np.mean(e <= 50):6.1%}  >100 ms {np.mean(e > 100):5.1%}  RTF {seconds / audio_seconds:.3f}  "
            f"({len(e)} boundaries)")


def bench_clips(corpus: Path, limit: int, languages: set[str] | None) -> None:
    groups: dict[str, list] = defaultdict(lambda: [[], 0.0, 0.0])
    flagged: dict[str, int] = {}
    clips: dict[str, int] = {}
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir() and p.name not in ("long", "asterisk")):
        voice, _, noise = folder.name.split("_")
        for meta_path in sorted(folder.glob("*.json"))[:limit]:
            meta = json.loads(meta_path.read_text())
            language = meta.get("language", "en")
            if languages and language not in languages:
                continue
            audio = load_audio(meta_path.with_suffix(".wav"))
            started = time.perf_counter()
            alignment = align(audio, pronounce(normalize(meta["text"], language), language), workers=1)
            seconds = time.perf_counter() - started
            aligned = [(p.label, p.start, p.end) for p in alignment.phones]
            key = f"{language} {noise}"
            flagged[key] = flagged.get(key, 0) + bool(alignment.unreliable)
            clips[key] = clips.get(key, 0) + 1
            errors = boundary_errors(meta["phones"], aligned)
            overall = f"{'us3' if voice == 'us3' else 'us1/us2/en1'} {noise}" if language == "en" else key
            for key in {f"{voice} {noise}", overall}:
                groups[key][0] += errors
                groups[key][1] += seconds
                groups[key][2] += audio.duration
    for key in sorted(groups):
        errors, seconds, duration = groups[key]
        print(f"{key:18s} {summary(errors, seconds, duration)}")
    for key in sorted(clips):
        print(f"correct transcripts flagged unreliable, {key}: {flagged[key]}/{clips[key]}")


def peak_rss_of_tree(pid: int) -> int:
    """Sum of VmRSS (kB) over a process and its descendants right now."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):
            continue
    return total


def bench_long(corpus: Path) -> None:
    """Each long recording through the CLI: wall time and peak RSS of the whole process tree."""
    for wav in sorted((corpus / "long").glob("*.wav")):
        meta = json.loads(wav.with_suffix(".json").read_text())
        text = wav.with_suffix(".txt")
        text.write_text(meta["text"])
        out = wav.with_suffix(".aligned.json")
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "meshsync.cli", "align", str(wav), "--text", str(text),
                                  "-o", str(out), "--quiet"])
        peak = 0

        def sample(child: subprocess.Popen) -> None:
            nonlocal peak
            while child.poll() is None:
                peak = max(peak, peak_rss_of_tree(child.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, args=(child,))
        sampler.start()
        child.wait()
        sampler.join()
        seconds = time.perf_counter() - started
        duration = load_audio(wav).duration
        aligned = json.loads(out.read_text())
        errors = boundary_errors(meta["phones"], [(p["label"], p["start"], p["end"]) for p in aligned["phones"]])
        print(f"{wav.name}: {duration:.0f} s audio aligned in {seconds:.1f} s wall, peak RSS {peak / 1024:.0f} MB "
              f"(all processes); {summary(errors, seconds, duration)}; unreliable {len(aligned['unreliable'])}")


def bench_asterisk(work: Path, language: str) -> None:
    """Real speech (tools/asterisk.py): a prompt passes when its alignment confidence is at least
    meshsync.align.MIN_CONFIDENCE."""
    from asterisk import prompts, wav

    from meshsync.align import MIN_CONFIDENCE
    from meshsync.errors import UserError

    passed, failures, seconds, duration = 0, [], 0.0, 0.0
    spoken = prompts(language)
    for name, text in spoken:
        try:
            audio = load_audio(wav(name, work / language, language))
            started = time.perf_counter()
            alignment = align(audio, pronounce(normalize(text, language), language), workers=1)
            seconds += time.perf_counter() - started
            duration += audio.duration
            ok = alignment.confidence >= MIN_CONFIDENCE
        except UserError as exc:
            ok, alignment = False, None
            print(f"  {name}: {exc}")
        passed += ok
        if not ok:
            failures.append(f"{name} ({alignment.confidence:.2f}): {text}" if alignment else name)
    print(f"asterisk prompts ({language}): {passed}/{len(spoken)} = {passed / len(spoken):.1%} aligned with "
          f"confidence >= {MIN_CONFIDENCE}; {duration / 60:.1f} min of speech, RTF {seconds / max(duration, 1e-9):.3f}")
    for failure in failures:
        print(f"  low: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--limit", type=int, default=20, help="clips per folder")
    parser.add_argument("--long", action="store_true", help="also the long recordings")
    parser.add_argument("--only-long", action="store_true")
    parser.add_argument("--asterisk", action="store_true", help="also the real asterisk prompts (Debian packages)")
    parser.add_argument("--language", help="only clips in these languages, comma-separated (default: all)")
    args = parser.parse_args()
    languages = set(args.language.split(",")) if args.language else None
    if args.asterisk:
        for language in sorted(languages or {"en"}):
            bench_asterisk(args.corpus / "asterisk", language)
    if not args.only_long:
        bench_clips(args.corpus, args.limit, languages)
    if args.long or args.only_long:
        bench_long(args.corpus)


if __name__ == "__main__":
    main()
