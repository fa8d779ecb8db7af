"""The non-graph sequence peer: a GRU on each frame's coordinates, flattened (136 numbers for 68 points in
x, y). It knows the frames' order but nothing of which landmarks are neighbours, so a graph model that
cannot beat it gains nothing from the facial graph; it takes the graph models' (N, C, T, V) input and
trains through the same pipeline, under the same folds.
"""

from __future__ import annotations

import torch
from torch import nn

from landmarks.layout import N_POINTS

from .stgcn import check_input


class CoordinateGRU(nn.Module):
    """Data batch-norm over the V x C coordinates, a GRU over frames, its last state to a linear layer."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 2,
        nodes: int = N_POINTS,
        hidden_size: int = 64,
        layers: int = 1,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if hidden_size < 1 or layers < 1:
            raise ValueError(f"hidden_size and layers must be positive, got {hidden_size} and {layers}")
        self.in_channels, self.nodes = in_channels, nodes
        self.data_bn = nn.BatchNorm1d(in_channels * nodes)
        self.gru = nn.GRU(in_channels * nodes, hidden_size, num_layers=layers, batch_first=True,
                          dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, self.nodes)
        n, c, t, v = x.shape
        frames = self.data_bn(x.permute(0, 3, 1, 2).reshape(n, v * c, t)).transpose(1, 2)  # (N, T, V*C)
        _, hidden = self.gru(frames.contiguous())
        return self.classifier(self.dropout(hidden[-1]))
