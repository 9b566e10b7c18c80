"""The lip-sync network: audio features (+ the aligned visemes, when there is a transcript) -> mouth curves
and the viseme being spoken, every 10 ms. Weights: assets/lipsync.pt, trained by tools/train.py on
license-clean speech (see assets/lipsync.md). It reads the viseme table, as the animation passes do, and
sits below them: animate calls it for audio-only curves.

Without a transcript, the visemes it hears become the spans the constraints hold (closure on p/b/m and so on).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ..align import Alignment, Segment
from ..audio import Audio
from ..errors import UserError
from ..features import HOP, speech_features
from ..files import data_dir
from ..visemes import CLOSURE, CONTACT, Table, viseme_spans

WEIGHTS = "lipsync.pt"
MIN_SPAN = 0.03  # s: decoded visemes shorter than this merge into their neighbours (except lip constraints)
VOTE = 5  # frames: the viseme probabilities are averaged over this window before the argmax


def viseme_names(table: Table) -> tuple[str, ...]:
    return tuple(table.visemes)


def curve_channels(table: Table) -> np.ndarray:
    """Indices of the channels the network predicts: every channel some viseme pose moves."""
    moved = np.any(np.stack([v.pose for v in table.visemes.values()]) != 0, axis=0)
    return np.flatnonzero(moved)


def viseme_frames(alignment: Alignment, table: Table, frames: int) -> np.ndarray:
    """(frames,) index into viseme_names of the viseme spoken in each 10 ms frame; -1 where no span covers it."""
    names = viseme_names(table)
    times = np.arange(frames) * HOP
    index = np.full(frames, -1, dtype=np.int64)
    for span in viseme_spans(alignment.phones, table):
        lo, hi = np.searchsorted(times, [span.start, span.end])
        index[lo:hi] = names.index(span.label)
    return index


def inputs(audio: Audio, alignment: Alignment | None, table: Table) -> np.ndarray:
    """(frames, features) network input: audio features, the aligned viseme one-hot, and a has-text flag."""
    rows = speech_features(audio).rows()
    phones = np.zeros((len(rows), len(viseme_names(table)) + 1), dtype=np.float32)
    if alignment is not None:
        index = viseme_frames(alignment, table, len(rows))
        covered = np.flatnonzero(index >= 0)
        phones[covered, index[covered]] = 1.0
        phones[:, -1] = 1.0
    return np.concatenate([rows, phones], axis=1)


@cache
def load_network():
    """The trained network and its metadata, loaded once. torch (a second to import) loads only here, when
    the network first runs."""
    import torch

    from .architecture import LipSyncNet

    path = data_dir("assets") / WEIGHTS
    if not path.exists():
        raise UserError(f"the network weights {path} are missing; reinstall meshsync or run tools/train.py")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    net = LipSyncNet(saved["inputs"], len(saved["channels"]), len(saved["visemes"]))
    net.load_state_dict(saved["state"])
    net.eval()
    return net, tuple(saved["channels"]), tuple(saved["visemes"])


def run_network(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames, features) -> curves (frames, channels), viseme probabilities (frames, visemes)."""
    import torch

    net, _, _ = load_network()
    with torch.inference_mode():
        curves, logits = net(torch.from_numpy(x.T[None].copy()))
    return curves[0].T.numpy(), torch.softmax(logits[0], dim=0).T.numpy()


def predict(audio: Audio, alignment: Alignment | None, times: np.ndarray,
            table: Table) -> tuple[np.ndarray, list[Segment]]:
    """Curves at `times` (frames, channels of the table) and the viseme spans the constraints should hold."""
    _, channels, visemes = load_network()
    if visemes != viseme_names(table):
        raise UserError("the network weights were trained with another viseme table; run tools/train.py")
    curves, probabilities = run_network(inputs(audio, alignment, table))
    frame_times = np.arange(len(curves)) * HOP
    values = np.zeros((len(times), len(table.names)), dtype=np.float32)
    for j, name in enumerate(channels):
        values[:, table.index(name)] = np.interp(times, frame_times, curves[:, j])
    if alignment is not None:
        return values, viseme_spans(alignment.phones, table)
    return values, decode(probabilities, visemes, audio.duration)


def decode(probabilities: np.ndarray, visemes: tuple[str, ...], duration: float) -> list[Segment]:
    """Per-frame viseme probabilities -> spans: smoothed over VOTE frames, argmax, runs under MIN_SPAN merged."""
    kernel = np.ones(VOTE) / VOTE
    smoothed = np.stack([np.convolve(p, kernel, mode="same") for p in probabilities.T], axis=1)
    best = smoothed.argmax(axis=1)
    edges = np.flatnonzero(np.diff(best)) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(best)]])
    spans: list[Segment] = []
    for start, end in zip(starts, ends):
        label, t0, t1 = visemes[best[start]], start * HOP, min(end * HOP, duration)
        brief = t1 - t0 < MIN_SPAN and label not in (CLOSURE, CONTACT)
        if spans and (brief or spans[-1].label == label):
            spans[-1] = Segment(spans[-1].label, spans[-1].start, t1)
        else:
            spans.append(Segment(label, t0, t1))
    return spans
