"""Train the lip-sync network (meshsync.network) to reproduce the rule-based teacher from the audio.

    python tools/train.py                     # about 15 minutes on 2 cores; writes assets/lipsync.pt

Data: the asterisk prompts (tools/asterisk.py: real speech, one voice, CC-BY-SA-3.0), aligned by meshsync's
own aligner, and the same transcripts spoken by Festival's voices with exact timings (tools/festival.py:
three US English voices, and eight voices of other languages for more speakers). Each clip is used in two variants
drawn from speed/vocal-tract changes (resampling by 0.85-1.15) and added noise. Targets per 10 ms frame:
the teacher's curves (meshsync.animate with the rules) and the viseme being spoken. Half the training
windows hide the visemes, so one network serves both modes: with a transcript (text-aligned) and without
(audio-only). Everything is seeded: the same command gives
the same weights on the same machine. The MBROLA voices are never used here (non-free); they are the
held-out test set of tools/bench_lipsync.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from dataclasses import replace
from pathlib import Path

import asterisk
import festival
import numpy as np
import torch

from meshsync.align import MIN_CONFIDENCE, Alignment, Segment, from_dict, tile, write_json
from meshsync.align.pocketsphinx import align
from meshsync.animate import AnimationOptions, animate
from meshsync.audio import Audio, load_audio
from meshsync.features import HOP
from meshsync.files import data_dir
from meshsync.network import WEIGHTS, curve_channels, inputs, viseme_frames, viseme_names
from meshsync.network.architecture import LipSyncNet
from meshsync.text import normalize, pronounce
from meshsync.visemes import load_table

SEED = 1234
SPEEDS = (0.85, 0.93, 1.0, 1.08, 1.15)  # resampling factors: > 1 is faster and higher (a smaller voice)
NOISE_DB = (50.0, 15.0)  # nearly clean (Festival's pauses are exact zeros), and noise at 15 dB SNR
VARIANTS = 2  # variants per clip, drawn from SPEEDS x NOISE_DB
OTHER_TEXTS = 200  # texts per voice of another language
WINDOW = 300  # frames per training window (3 s)
HELD_OUT = 0.1  # share of prompts kept for validation


def aligned_prompts(work: Path) -> list[tuple[Audio, object]]:
    """(audio, alignment) of every prompt that aligns with confidence; alignments cached in `work`."""
    result = []
    for name, text in asterisk.prompts():
        audio = load_audio(asterisk.wav(name, work / "wav"))
        cache = work / "align" / f"{name.replace('/', '_')}.json"
        if cache.exists():
            alignment = from_dict(json.loads(cache.read_text()))
        else:
            alignment = align(audio, pronounce(normalize(text)), workers=1)
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_json(alignment, cache)
        if alignment.confidence >= MIN_CONFIDENCE and not alignment.unreliable:
            result.append((audio, alignment))
    return result


def festival_clips(work: Path) -> list[tuple[Audio, Alignment]]:
    """The asterisk transcripts spoken by the Festival voices (other languages: the first OTHER_TEXTS),
    with Festival's own phone timings."""
    texts = [text for _, text in asterisk.prompts()]
    result = []
    for voice in festival.ENGLISH + festival.OTHERS:
        chosen = texts if voice in festival.ENGLISH else texts[:OTHER_TEXTS]
        for wav in festival.synthesise(chosen, voice, work / "festival" / voice):
            audio = load_audio(wav).resampled(16000)
            segments = [Segment(label, start, end) for label, start, end in festival.phones(wav.with_suffix(".segs"))]
            result.append((audio, Alignment((), tile(segments, audio.duration), audio.duration, voice)))
    return result


def variant(audio: Audio, alignment, speed: float, noise_db: float, seed: int):
    """The clip played `speed` times faster (pitch and formants too), with noise; alignment rescaled."""
    samples = Audio(audio.samples, round(audio.rate * speed)).resampled(audio.rate).samples
    rms = float(np.sqrt(np.mean(samples[np.abs(samples) > 1e-3] ** 2)))
    samples = samples + np.random.default_rng(seed).normal(0, rms / 10 ** (noise_db / 20), samples.shape)
    scaled = tuple(replace(p, start=p.start / speed, end=p.end / speed) for p in alignment.phones)
    new = replace(alignment, phones=scaled, words=(), duration=alignment.duration / speed)
    return Audio(samples.astype(np.float32), audio.rate), new


def examples(pairs, table) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """(inputs with text, inputs without, teacher curves, viseme labels) per clip variant, 10 ms frames."""
    rng = np.random.default_rng(SEED)
    out = []
    for i, (audio, alignment) in enumerate(pairs):
        for _ in range(VARIANTS):
            speed, noise_db = SPEEDS[rng.integers(len(SPEEDS))], NOISE_DB[rng.integers(len(NOISE_DB))]
            out.append(example(*variant(audio, alignment, speed, noise_db, SEED + i), table))
    return out


def example(audio: Audio, alignment: Alignment, table) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with_text = inputs(audio, alignment, table)
    frames = len(with_text)
    curves = animate(audio, alignment, AnimationOptions(fps=1 / HOP, method="rules")).values[:, curve_channels(table)]
    curves = np.pad(curves, ((0, max(0, frames - len(curves))), (0, 0)), mode="edge")[:frames]
    labels = np.maximum(viseme_frames(alignment, table, frames), 0)  # uncovered frames count as silence
    without = with_text.copy()
    without[:, -len(viseme_names(table)) - 1:] = 0.0
    return with_text, without, curves, labels


def batches(data, rng: np.random.Generator, size: int):
    """Random 3 s windows; half of them without the transcript's visemes."""
    order = rng.permutation(len(data))
    for start in range(0, len(order), size):
        xs, ys, ls, masks = [], [], [], []
        for index in order[start:start + size]:
            with_text, without, curves, labels = data[index]
            frames = len(labels)
            offset = int(rng.integers(0, max(1, frames - WINDOW)))
            piece = slice(offset, offset + WINDOW)
            x = (with_text if rng.random() < 0.5 else without)[piece]
            pad = WINDOW - len(x)
            xs.append(np.pad(x, ((0, pad), (0, 0))))
            ys.append(np.pad(curves[piece], ((0, pad), (0, 0))))
            ls.append(np.pad(labels[piece], (0, pad)))
            masks.append(np.pad(np.ones(len(x), dtype=np.float32), (0, pad)))
        yield (torch.from_numpy(np.stack(xs)).transpose(1, 2), torch.from_numpy(np.stack(ys)).transpose(1, 2),
               torch.from_numpy(np.stack(ls)), torch.from_numpy(np.stack(masks)))


def loss_of(net, batch) -> torch.Tensor:
    x, y, labels, mask = batch
    curves, logits = net(x)
    curve_loss = ((curves - y).abs().mean(dim=1) * mask).sum() / mask.sum()
    viseme_loss = (torch.nn.functional.cross_entropy(logits, labels, reduction="none") * mask).sum() / mask.sum()
    return curve_loss * 10 + viseme_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("build/train"))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", type=Path, default=data_dir("assets") / WEIGHTS)
    args = parser.parse_args()
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)
    rng = np.random.default_rng(SEED)
    table = load_table()
    started = time.perf_counter()
    pairs = aligned_prompts(args.work) + festival_clips(args.work)
    held = set(rng.choice(len(pairs), int(len(pairs) * HELD_OUT), replace=False).tolist())
    train = examples([p for i, p in enumerate(pairs) if i not in held], table)
    valid = examples([p for i, p in enumerate(pairs) if i in held], table)
    seconds = sum(len(d[3]) for d in train) * HOP
    print(f"{len(pairs)} clips, {seconds / 60:.0f} min of training audio with variants, "
          f"{len(valid)} validation clips; data ready in {time.perf_counter() - started:.0f} s")
    net = LipSyncNet(train[0][0].shape[1], len(curve_channels(table)), len(viseme_names(table)))
    optimiser = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=args.epochs *
                                                   -(-len(train) // 32))
    for epoch in range(args.epochs):
        net.train()
        total = 0.0
        for batch in batches(train, rng, 32):
            optimiser.zero_grad()
            loss = loss_of(net, batch)
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach())
        net.eval()
        with torch.no_grad():
            check = np.mean([float(loss_of(net, b)) for b in batches(valid, np.random.default_rng(0), 64)])
        print(f"epoch {epoch + 1:3d}  train {total / -(-len(train) // 32):.4f}  valid {check:.4f}  "
              f"[{time.perf_counter() - started:.0f} s]", flush=True)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    saved = {"state": state, "inputs": train[0][0].shape[1],
             "channels": [table.names[i] for i in curve_channels(table)], "visemes": list(viseme_names(table))}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(saved, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()[:16]
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB, sha256 {digest}…) "
          f"in {(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
