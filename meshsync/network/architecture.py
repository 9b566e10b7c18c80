"""The network: dilated 1-D convolutions over 10 ms frames, two heads (mouth curves and visemes).

The receptive field reaches LOOKAHEAD frames into the future and as many into the past, so the same
network can later run live with 200 ms of latency.
"""

from __future__ import annotations

import torch
from torch import nn

KERNEL = 5
DILATIONS = (1, 2, 4, 2, 1)
LOOKAHEAD = sum((KERNEL - 1) // 2 * d for d in DILATIONS)  # frames: 20 = 200 ms
WIDTH = 128


class LipSyncNet(nn.Module):
    def __init__(self, inputs: int, curves: int, visemes: int, width: int = WIDTH):
        super().__init__()
        self.inputs = nn.Conv1d(inputs, width, 1)
        self.layers = nn.ModuleList(
            nn.Conv1d(width, width, KERNEL, dilation=d, padding=(KERNEL - 1) // 2 * d) for d in DILATIONS)
        self.norms = nn.ModuleList(nn.GroupNorm(1, width) for _ in DILATIONS)
        self.curves = nn.Conv1d(width, curves, 1)
        self.visemes = nn.Conv1d(width, visemes, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (batch, inputs, frames) -> curves in [0, 1] (batch, curves, frames), viseme logits."""
        h = self.inputs(x)
        for layer, norm in zip(self.layers, self.norms):
            h = h + layer(torch.nn.functional.gelu(norm(h)))
        h = torch.nn.functional.gelu(h)
        return torch.sigmoid(self.curves(h)), self.visemes(h)
