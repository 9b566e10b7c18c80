"""Animation: speech (and its alignment, when there is one) -> ARKit blendshape curves.

A row of small passes, as in Rhubarb Lip Sync, over the viseme table (meshsync.visemes):
  phones -> viseme spans -> dominance blend (dominance.py) -> jaw x loudness (jaw.py)
  -> smoothing (smooth.py) -> constraints: rest, f/v contact, rounding, p/b/m closure (constraints.py)
  -> secondary motion: blinks, head motion, gaze (secondary.py; off with `still`)
The network (meshsync.network) replaces the first three passes when asked to, and is what `animate` uses
without an alignment: it predicts the curves and the visemes from the audio, and the constraints run on its
visemes. (The CLI, without a transcript, first recognises the phones: meshsync.listen.)
Where the alignment is unreliable (the transcript does not fit the audio), the audio-only network takes over.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..align import Alignment
from ..audio import Audio
from ..channels import arkit_names, channel_names
from ..errors import UserError
from ..network import predict
from ..visemes import load_table, viseme_spans
from .articulation import articulate, reach_targets
from .constraints import apply_constraints
from .curves import Curves, frame_count
from .dominance import blend
from .fallback import splice_audio_only
from .jaw import loudness_gain, scale_jaw
from .secondary import add_secondary_motion
from .smooth import gaussian

METHODS = ("rules", "network")
CURVES_FPS = 60.0  # the frame rate of curve exports (Live Link Face records at 60)
FPS_RANGE = (1.0, 1000.0)  # frame rates meshsync animates at
ARTICULATION_RANGE = (0.0, 2.0)  # the style dial's scale of the mouth's movements
MAX_SEED = 2**32 - 1  # numpy's seed sequences take any whole number from 0; 32 bits are plenty and portable

__all__ = ["CURVES_FPS", "FPS_RANGE", "METHODS", "AnimationOptions", "Curves", "animate", "check_fps", "resolve_method"]


def check_fps(fps: float) -> None:
    low, high = FPS_RANGE
    if not low <= fps <= high:
        raise UserError(f"--fps {fps:g} is out of range; give a frame rate between {low:g} and {high:g}")


@dataclass(frozen=True)
class AnimationOptions:
    """How speech becomes curves: the frame rate, the method, and the secondary motion."""

    fps: float = CURVES_FPS
    method: str | None = None  # None: the rules with an alignment, the network without one
    still: bool = False  # no blinks, head motion or gaze: the mouth only
    seed: int = 0  # of the blinks, head motion and gaze
    articulation: float = 1.0  # how far the mouth moves: 0.5 subtle, 1 natural, 1.5 clear; never the closures

    def __post_init__(self):
        check_fps(self.fps)
        if self.method is not None and self.method not in METHODS:
            raise UserError(f"unknown method '{self.method}'; choose one of {', '.join(METHODS)}")
        if not ARTICULATION_RANGE[0] <= self.articulation <= ARTICULATION_RANGE[1]:
            raise UserError(f"--articulation {self.articulation:g} is out of range; give {ARTICULATION_RANGE[0]:g} "
                            f"(still) to {ARTICULATION_RANGE[1]:g} (1 is natural)")
        if not 0 <= self.seed <= MAX_SEED:
            raise UserError(f"--seed {self.seed}: give a whole number from 0 to {MAX_SEED}")

    @property
    def listens(self) -> bool:
        """Whether speech without a transcript has its phones recognised first (for the rules; the network
        listens by itself)."""
        return self.method != "network"


def resolve_method(alignment: Alignment | None, method: str | None = None) -> str:
    """The method to use: the one asked for, else the rules with an alignment and the network without."""
    method = method or ("rules" if alignment is not None else "network")
    if method == "rules" and alignment is None:
        raise UserError("the rule-based method needs a transcript; give --text or --alignment, or use the network")
    return method


def animate(audio: Audio, alignment: Alignment | None = None, options: AnimationOptions = AnimationOptions()) -> Curves:
    """Curves for `audio` at the options' frame rate. With an alignment the default method is the rule-based
    passes; without one, the network listens to the audio alone. Blinks, head motion and gaze (drawn from the
    seed) are added unless `still`."""
    fps = options.fps
    method = resolve_method(alignment, options.method)
    table = load_table()
    times = np.arange(frame_count(audio.duration, fps)) / fps
    if method == "rules":
        spans = viseme_spans(alignment.phones, table)
        values = reach_targets(blend(spans, times, table), spans, times, table)
        values = scale_jaw(articulate(values, options.articulation, table), loudness_gain(audio, times, table),
                           table)
    else:
        values, spans = predict(audio, alignment, times, table)
        values = articulate(values, options.articulation, table)
    if alignment is not None and alignment.unreliable:
        values, spans = splice_audio_only(values, spans, alignment, audio, times, table)
    values = gaussian(values, table.timing["smoothing"] * fps)
    values = apply_constraints(values, spans, times, audio.duration, table, options.articulation)
    if not options.still:
        values = add_secondary_motion(values, audio, times, options.seed)
    shapes = len(arkit_names())  # blendshapes lie in [0, 1]; the rotations after them are angles
    values[:, :shapes] = np.clip(values[:, :shapes], 0.0, 1.0)
    return Curves(float(fps), channel_names(), values.astype(np.float32))
