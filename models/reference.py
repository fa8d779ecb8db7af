"""The block of Ridouan et al.'s STGCN-LSTM, rebuilt so that its attention works (``stgcn-ref``).

Each block: a temporal convolution concatenated with its input; two graph convolutions, over the 1-hop and
the 2-hop neighbourhood, whose coefficients are computed per frame from a recurrent layer and masked by
the neighbourhood; then temporal convolutions with kernels 9, 15 and 20, concatenated. Three blocks with
residual sums feed a two-layer LSTM (15 then 20 units) with dropout 0.25.

In the published code the attention logits depend on the receiving node only, so they are constant along
the neighbour axis, the softmax cancels them, every coefficient equals 1/degree and the recurrent layers
never receive a gradient. Here a logit scores the pair (receiver i, neighbour j) from both of their
recurrent states (GAT-style: LeakyReLU(a·r_i + b·r_j)), so the coefficients differ between neighbours.

For speed on CPUs, the two hops share one LSTM (16 units) and one projection per block, only pairs inside
a neighbourhood are scored, and the three temporal kernels run as one convolution with masked weights: an
epoch of 272 clips at batch 10 took 3.8 s before these changes and 2.4 s after, on 2 cores
(``experiments/bench/README.md``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import networkx as nx
import numpy as np
import torch
from torch import nn
from torch.nn import functional

import graphs

from .heads import StackedLSTMHead
from .stgcn import check_input, resolve_graph


class NeighbourhoodAttention(nn.Module):
    """Graph convolutions over several neighbourhoods (the reference's 1-hop and 2-hop ones), with per-frame,
    per-pair attention coefficients driven by one recurrent layer.

    An LSTM runs along each landmark's trajectory. At every frame, each pair (receiver i, neighbour j) of
    neighbourhood h is scored from the two landmarks' states, LeakyReLU(a_h·r_i + b_h·r_j); a softmax over i's
    neighbours in h gives the coefficients that mix h's projection of the features. Only the pairs inside a
    neighbourhood are scored and mixed (1,506 for the reference graph's two hops, against 2 x 68 x 68 dense
    pairs), and the hops share the recurrent layer and one projection, so a block runs one of each.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        neighbourhoods: Sequence[np.ndarray | torch.Tensor],
        state_size: int = 16,
    ) -> None:
        super().__init__()
        masks = torch.stack([torch.as_tensor(np.asarray(mask), dtype=torch.bool) for mask in neighbourhoods])
        if not bool(masks.diagonal(dim1=1, dim2=2).all()):
            raise ValueError("every neighbourhood mask needs self-loops so each landmark attends at least to itself")
        self.register_buffer("masks", masks)  # (hops, V, V)
        hop, receiver, neighbour = masks.nonzero(as_tuple=True)
        nodes = masks.shape[-1]
        # Pairs are rows of (pairs, frames) tensors: gathering and summing whole rows is what keeps this fast.
        # (derived from the masks, so not stored with the weights)
        self.register_buffer("receiver_row", hop * nodes + receiver, persistent=False)  # its (hop, receiver)
        self.register_buffer("neighbour_row", hop * nodes + neighbour, persistent=False)
        self.register_buffer("dense_row", (hop * nodes + receiver) * nodes + neighbour, persistent=False)
        self.out_channels = out_channels
        self.recurrent = nn.LSTM(in_channels, state_size, batch_first=True)
        self.receiver_score = nn.Linear(state_size, len(masks), bias=False)
        self.neighbour_score = nn.Linear(state_size, len(masks), bias=False)
        self.project = nn.Conv2d(in_channels, out_channels * len(masks), kernel_size=1)

    def pair_coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """(pairs, N * T) coefficient of each (hop, receiver, neighbour) pair at each frame of each clip; they
        sum to 1 over a receiver's neighbours in each hop."""
        n, c, t, v = x.shape
        states, _ = self.recurrent(x.permute(0, 3, 2, 1).reshape(n * v, t, c))
        states = states.reshape(n, v, t, -1)

        def by_row(score: nn.Linear) -> torch.Tensor:  # (hops * V, N * T)
            return score(states).permute(3, 1, 0, 2).reshape(-1, n * t)

        receiver, neighbour = by_row(self.receiver_score), by_row(self.neighbour_score)
        logits = receiver.index_select(0, self.receiver_row) + neighbour.index_select(0, self.neighbour_row)
        # softmax over each receiver's neighbours in each hop; torch-geometric is imported when first used,
        # as everywhere in the package, so importing the models stays light
        from torch_geometric.utils import softmax as segment_softmax

        return segment_softmax(functional.leaky_relu(logits, 0.2), self.receiver_row, num_nodes=len(receiver), dim=0)

    def coefficients(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, hops, V, V) attention of receiver i over neighbour j at each frame, 0 outside each hop."""
        n, _, t, _ = x.shape
        hops, v, _ = self.masks.shape
        alpha = self.pair_coefficients(x)
        dense = alpha.new_zeros(hops * v * v, n * t).index_copy(0, self.dense_row, alpha)
        return dense.reshape(hops, v, v, n, t).permute(3, 4, 0, 1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        hops, c = len(self.masks), self.out_channels
        alpha = self.pair_coefficients(x)
        projected = self.project(x).reshape(n, hops, c, t, v).permute(1, 4, 2, 0, 3).reshape(hops * v, c, n * t)
        messages = projected.index_select(0, self.neighbour_row) * alpha[:, None, :]
        mixed = projected.new_zeros(projected.shape).index_add(0, self.receiver_row, messages)
        return mixed.reshape(hops, v, c, n, t).permute(3, 0, 2, 4, 1).reshape(n, hops * c, t, v)


class TemporalConv(nn.Module):
    """Convolutions along frames with one or more kernel lengths, their outputs concatenated, each keeping
    the number of frames (an even kernel, such as the reference's 20, reaches one frame further after than
    before).

    Several kernels run as one convolution of the longest, its weights masked outside each kernel's window:
    the same function and initialisation as separate convolutions, in a third of the time on a CPU.
    """

    def __init__(self, in_channels: int, out_channels: int, kernels: Sequence[int]) -> None:
        super().__init__()
        longest = max(kernels)
        self.kernels = tuple(kernels)
        self.conv = nn.Conv2d(in_channels, out_channels * len(kernels), (longest, 1), padding=(longest // 2, 0))
        window = torch.zeros_like(self.conv.weight)
        centre = (longest - 1) // 2
        with torch.no_grad():
            for group, kernel in enumerate(kernels):
                rows = slice(group * out_channels, (group + 1) * out_channels)
                taps = slice(centre - (kernel - 1) // 2, centre + kernel // 2 + 1)
                window[rows, :, taps] = 1.0
                bound = 1.0 / math.sqrt(in_channels * kernel)  # what nn.Conv2d draws for this kernel alone
                self.conv.weight[rows].uniform_(-bound, bound)
                self.conv.bias[rows].uniform_(-bound, bound)
            self.conv.weight.mul_(window)
        self.register_buffer("window", window, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = functional.conv2d(x, self.conv.weight * self.window, self.conv.bias, padding=self.conv.padding)
        return out[:, :, out.shape[2] - x.shape[2] :]  # an even kernel gives one frame more, at the start


class ReferenceBlock(nn.Module):
    """Temporal conv ++ input; 1-hop and 2-hop attention graph convs; temporal convs (9, 15, 20) ++;
    residual sum with the block's input (projected by a 1x1 convolution when the widths differ)."""

    def __init__(
        self,
        in_channels: int,
        channels: int,
        hop_masks: Sequence[np.ndarray],
        temporal_kernels: Sequence[int] = (9, 15, 20),
        state_size: int = 16,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        self.entry = TemporalConv(in_channels, channels, (9,))
        self.attention = NeighbourhoodAttention(in_channels + channels, channels, hop_masks, state_size)
        self.temporal = TemporalConv(channels * len(hop_masks), channels, temporal_kernels)
        self.out_channels = channels * len(temporal_kernels)
        self.residual = (
            nn.Identity() if in_channels == self.out_channels else nn.Conv2d(in_channels, self.out_channels, 1)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        widened = torch.cat([x, functional.relu(self.entry(x))], dim=1)
        out = self.temporal(functional.relu(self.attention(widened)))
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
        state_size: int = 16,
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
