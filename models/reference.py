"""The block of Ridouan et al.'s STGCN-LSTM, rebuilt so that its attention works (``stgcn-ref``).

Each block: a temporal convolution concatenated with its input; two graph convolutions, over the 1-hop and
the 2-hop neighbourhood, whose coefficients are computed per frame from a recurrent layer and masked by
the neighbourhood; then temporal convolutions with kernels 9, 15 and 20, concatenated. Three blocks with
residual sums feed a two-layer LSTM (15 then 20 units) with dropout 0.25.

In the published code the attention logits depend on the receiving node only, so they are constant along
the neighbour axis, the softmax cancels them, every coefficient equals 1/degree and the recurrent layers
never receive a gradient. Here a logit scores the pair (receiver i, neighbour j) from both of their
recurrent states (GAT-style: LeakyReLU(a·r_i + b·r_j)), so the coefficients differ between neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import torch
from torch import nn
from torch.nn import functional

import graphs

from .heads import StackedLSTMHead
from .stgcn import check_input, resolve_graph


class RecurrentAttentionConv(nn.Module):
    """Graph convolution over one neighbourhood with per-frame, per-neighbour attention coefficients.

    A GRU runs along each landmark's trajectory; at every frame the pair (i, j) is scored from the GRU
    states of i and j, logits outside ``neighbourhood`` (a (V, V) boolean mask with self-loops) are
    excluded, and a softmax over neighbours j gives the coefficients that mix the projected features.
    """

    def __init__(
        self, in_channels: int, out_channels: int, neighbourhood: np.ndarray | torch.Tensor, state_size: int = 8
    ) -> None:
        super().__init__()
        mask = torch.as_tensor(np.asarray(neighbourhood), dtype=torch.bool)
        if not bool(mask.diagonal().all()):
            raise ValueError("the neighbourhood mask needs self-loops so every landmark attends at least to itself")
        self.register_buffer("mask", mask)
        self.recurrent = nn.GRU(in_channels, state_size, batch_first=True)
        self.receiver_score = nn.Linear(state_size, 1, bias=False)
        self.neighbour_score = nn.Linear(state_size, 1, bias=False)
        self.project = nn.Conv2d(in_channels, out_channels, kernel_size=1)

    def coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, V, V) attention of receiver i over neighbour j at each frame; rows sum to 1 over the
        neighbourhood and are 0 outside it."""
        n, c, t, v = x.shape
        states, _ = self.recurrent(x.permute(0, 3, 2, 1).reshape(n * v, t, c))
        states = states.reshape(n, v, t, -1).transpose(1, 2)
        logits = self.receiver_score(states) + self.neighbour_score(states).transpose(2, 3)
        logits = functional.leaky_relu(logits, 0.2).masked_fill(~self.mask, float("-inf"))
        return torch.softmax(logits, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("ntij,nctj->ncti", self.coefficients(x), self.project(x))


class TemporalConv(nn.Module):
    """Convolution along frames that keeps the number of frames for any kernel length, odd or even (an even
    kernel, such as the reference's 20, is padded one frame more after than before)."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int) -> None:
        super().__init__()
        self.padding = (0, 0, (kernel - 1) // 2, kernel // 2)
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(functional.pad(x, self.padding))


class ReferenceBlock(nn.Module):
    """Temporal conv ++ input; 1-hop and 2-hop attention graph convs; temporal convs (9, 15, 20) ++;
    residual sum with the block's input (projected by a 1x1 convolution when the widths differ)."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        hop_masks: Sequence[np.ndarray],
        temporal_kernels: Sequence[int] = (9, 15, 20),
        state_size: int = 8,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.entry = TemporalConv(in_channels, channels, 9)
        widened = in_channels + channels
        self.hops = nn.ModuleList(RecurrentAttentionConv(widened, channels, mask, state_size) for mask in hop_masks)
        mixed = channels * len(hop_masks)
        self.temporal = nn.ModuleList(TemporalConv(mixed, channels, k) for k in temporal_kernels)
        self.out_channels = channels * len(temporal_kernels)
        self.residual = (
            nn.Identity() if in_channels == self.out_channels else nn.Conv2d(in_channels, self.out_channels, 1)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        widened = torch.cat([x, functional.relu(self.entry(x))], dim=1)
        mixed = functional.relu(torch.cat([hop(widened) for hop in self.hops], dim=1))
        out = torch.cat([conv(mixed) for conv in self.temporal], dim=1)
        return self.dropout(functional.relu(out + self.residual(x)))


class ReferenceSTGCN(nn.Module):
    """Ridouan et al.'s STGCN-LSTM with working attention: three reference blocks, every frame's landmark
    features flattened, a two-layer LSTM (15, 20 units), dropout 0.25, linear classifier.

    It runs on the paper's published 174-edge graph (``reference``, shipped in ``graphs``) unless ``graph``
    names another one or gives a networkx graph over 0..67.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 2,
        graph: str | nx.Graph = "reference",
        channels: int = 8,
        blocks: int = 3,
        temporal_kernels: Sequence[int] = (9, 15, 20),
        head_sizes: Sequence[int] = (15, 20),
        state_size: int = 8,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        graph = resolve_graph(graph)
        hop_masks = [graphs.adjacency(graph, hops=h, self_loops=True) > 0 for h in (1, 2)]
        layers, width = [], in_channels
        for _ in range(blocks):
            layers.append(ReferenceBlock(width, channels, hop_masks, temporal_kernels, state_size, dropout))
            width = layers[-1].out_channels
        self.blocks = nn.Sequential(*layers)
        self.nodes = graphs.N_POINTS
        self.in_channels = in_channels
        self.head = StackedLSTMHead(width * self.nodes, num_classes, hidden_sizes=head_sizes, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, self.nodes)
        features = self.blocks(x)
        n, c, t, v = features.shape
        return self.head(features.permute(0, 2, 3, 1).reshape(n, t, v * c))
