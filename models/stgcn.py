"""ST-GCN (Yan et al., AAAI 2018) on facial landmark sequences, and STGCN-LSTM (Ridouan et al.).

Input layout is (N, C, T, V): clips, coordinate channels, frames, the 68 landmarks. Each block is a spatial
graph convolution over the partitioned facial graph, then a temporal convolution along each landmark's
trajectory, with a residual connection, as in the original; the defaults are sized for PEMF-like data
(68 points, ~20 frames, a few hundred clips), and ``YAN2018`` holds the original's ten-block layout.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import torch
from torch import nn

import graphs

from .graph_conv import SpatialGraphConv
from .heads import create_head, head_widths, width_tuple

# The published 174-edge graph of Ridouan et al. (as written, not shifted by one): on the dynamics suite it
# lifted both graph models on every hard variant against our sparser ``anatomical`` graph (hard mean 0.842
# to 0.880 for STGCN, 0.846 to 0.880 for STGCN-LSTM; evidence in experiments/bench/README.md). Runs saved
# when ``anatomical`` was the default load with it (``experiments.graph_branch``).
DEFAULT_GRAPH = "reference"

YAN2018 = {
    "channels": (64, 64, 64, 64, 128, 128, 128, 256, 256, 256),
    "strides": (1, 1, 1, 1, 2, 1, 1, 2, 1, 1),
    "time_bins": 1,
}


def resolve_graph(graph: str | nx.Graph) -> nx.Graph:
    """A graph given by name (see ``graphs.available_graphs()``) or as a networkx graph over nodes 0..67."""
    return graphs.facial_graph(graph) if isinstance(graph, str) else graph


def check_input(x: torch.Tensor, channels: int, nodes: int) -> None:
    """Reject input that is not (N, channels, T, nodes), saying which layout is expected."""
    if x.ndim != 4 or x.shape[1] != channels or x.shape[3] != nodes:
        raise ValueError(
            f"expected landmark clips as (N, C={channels}, T, V={nodes}), got {tuple(x.shape)}: a data set's "
            f"(N, T, {nodes}, C) array becomes model input with x.permute(0, 3, 1, 2)"
        )


class STGCNBlock(nn.Module):
    """Spatial graph conv + BN + ReLU, temporal conv (kernel 9, optional stride) + BN, dropout, residual."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        partitions: torch.Tensor,
        temporal_kernel: int = 9,
        stride: int = 1,
        dropout: float = 0.0,
        residual: bool = True,
        edge_importance: bool = True,
        implementation: str = "dense",
    ) -> None:
        super().__init__()
        if temporal_kernel % 2 != 1:
            raise ValueError(f"temporal_kernel must be odd to keep frames centred, got {temporal_kernel}")
        self.gcn = SpatialGraphConv(in_channels, out_channels, partitions, edge_importance, implementation)
        self.gcn_norm = nn.Sequential(nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))
        padding = (temporal_kernel - 1) // 2
        self.tcn = nn.Sequential(
            nn.Conv2d(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (padding, 0)),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout),
        )
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, (stride, 1)), nn.BatchNorm2d(out_channels)
            )
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn_norm(self.gcn(x)))
        if self.residual is not None:
            out = out + self.residual(x)
        return self.relu(out)


class STGCNBackbone(nn.Module):
    """Data batch-norm over the input's V x C channels, then a stack of ST-GCN blocks: (N, C, T, V) to
    (N, channels[-1], T', V)."""

    def __init__(
        self,
        in_channels: int = 2,
        graph: str | nx.Graph = DEFAULT_GRAPH,
        channels: Sequence[int] | int = (16, 16, 32),
        strides: Sequence[int] | int | None = None,
        temporal_kernel: int = 9,
        dropout: float = 0.0,
        edge_importance: bool = True,
        center: int = graphs.NOSE_TIP,
        implementation: str = "dense",
    ) -> None:
        super().__init__()
        channels = width_tuple(channels)  # one number is one block
        strides = width_tuple(strides) if strides is not None else (1,) * len(channels)
        if not channels or min(channels) < 1 or min(strides, default=1) < 1:
            raise ValueError(f"channels (one width per block) and strides must be positive, got {channels}, {strides}")
        if len(strides) != len(channels):
            raise ValueError(f"strides {strides} and channels {channels} must have the same length (one each per "
                             f"block)")
        partitions = torch.as_tensor(
            graphs.spatial_partitions(resolve_graph(graph), center=center, normalization="column"), dtype=torch.float32
        )
        self.nodes = partitions.shape[-1]
        self.in_channels = in_channels
        self.data_bn = nn.BatchNorm1d(in_channels * self.nodes)
        widths = [in_channels, *channels]
        self.blocks = nn.ModuleList(
            STGCNBlock(
                widths[i], widths[i + 1], partitions, temporal_kernel, strides[i], dropout,
                residual=i > 0, edge_importance=edge_importance, implementation=implementation,
            )
            for i in range(len(channels))
        )
        self.out_channels = widths[-1]

    def set_implementation(self, implementation: str) -> None:
        """Switch every graph convolution to ``dense`` or ``pyg`` (same weights, same outputs)."""
        for module in self.modules():
            if isinstance(module, SpatialGraphConv):
                module.implementation = implementation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x, self.in_channels, self.nodes)
        n, c, t, v = x.shape
        x = self.data_bn(x.permute(0, 3, 1, 2).reshape(n, v * c, t))
        x = x.view(n, v, c, t).permute(0, 2, 3, 1).contiguous()
        for block in self.blocks:
            x = block(x)
        return x


class STGCN(nn.Module):
    """ST-GCN classifier: backbone, average over landmarks and over frames, linear layer to logits.

    ``time_bins=1`` averages over the whole clip, as the original does (``YAN2018``), which makes the output
    blind to when in the clip a movement happens; ``time_bins=k`` (default 5) averages over k consecutive
    stretches of frames and hands all k to the linear layer, so an early and a late apex differ. The blocks
    keep every frame (no temporal stride, default ``strides=(1, 1, 1)``): on the dynamics suite that took
    hard apex timing from 0.922 to 0.989 and hard speed from 0.506 to 0.595 against strides 1, 2, 2, at about
    twice the training time. Blocks of 16, 16 and 32 channels (default ``channels``) train 2.4 times faster
    than 16, 32 and 64 and scored as well on the suite (hard mean 0.863 either way; hard speed 0.644 against
    0.595, clean variants level; evidence in experiments/bench/README.md). Runs saved with the strided or the
    wider default still load as trained (``experiments.graph_branch``)."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 2,
        graph: str | nx.Graph = DEFAULT_GRAPH,
        channels: Sequence[int] | int = (16, 16, 32),
        strides: Sequence[int] | int | None = (1, 1, 1),
        temporal_kernel: int = 9,
        dropout: float = 0.0,
        edge_importance: bool = True,
        center: int = graphs.NOSE_TIP,
        implementation: str = "dense",
        time_bins: int = 5,
    ) -> None:
        super().__init__()
        if time_bins < 1:
            raise ValueError(f"time_bins must be 1 (one average over the clip) or more, got {time_bins}")
        self.backbone = STGCNBackbone(
            in_channels, graph, channels, strides, temporal_kernel, dropout, edge_importance, center, implementation
        )
        self.time_bins = time_bins
        self.pool = nn.AdaptiveAvgPool2d((time_bins, 1))
        self.classifier = nn.Linear(self.backbone.out_channels * time_bins, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.pool(self.backbone(x)).flatten(1))


LANDMARK_POOLING = ("mean", "flatten")


class STGCNLSTM(nn.Module):
    """ST-GCN blocks that keep every frame (no temporal stride); each frame's landmark features become one
    vector, averaged over landmarks (``pooling="mean"``) or every landmark's kept (``"flatten"``, as in
    Ridouan et al.'s reference block), and the frames (N, T, F) go to a sequence head: ``head`` names it,
    ``head_sizes`` gives its LSTM widths (one per layer of ``stacked``, one otherwise) and ``head_options``
    any other keyword of the head's class.

    The defaults (a Bi-LSTM head, dropout 0.25 in every block) are the measured best of the dynamics suite
    (``experiments/bench/dynamics.py``; evidence in experiments/bench/README.md): against the stacked LSTM
    without dropout that Ridouan et al. used (their preset keeps it) the mean macro-F1 of the hard variants
    rose from 0.845 to 0.870 with the clean ones level. Runs saved with the older defaults still load as
    trained (``experiments.graph_branch``)."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 2,
        graph: str | nx.Graph = DEFAULT_GRAPH,
        channels: Sequence[int] | int = (16, 16, 16),
        temporal_kernel: int = 9,
        dropout: float = 0.25,
        edge_importance: bool = True,
        center: int = graphs.NOSE_TIP,
        implementation: str = "dense",
        head: str = "bilstm",
        head_sizes: Sequence[int] | int | None = None,
        head_options: dict | None = None,
        pooling: str = "mean",
    ) -> None:
        super().__init__()
        if pooling not in LANDMARK_POOLING:
            raise ValueError(f"pooling must be one of {', '.join(LANDMARK_POOLING)}, got {pooling!r}")
        self.backbone = STGCNBackbone(
            in_channels, graph, channels, None, temporal_kernel, dropout, edge_importance, center, implementation
        )
        self.pooling = pooling
        width = self.backbone.out_channels * (graphs.N_POINTS if pooling == "flatten" else 1)
        options = {**head_widths(head, head_sizes), **(head_options or {})}
        self.head = create_head(head, width, num_classes, **options)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.backbone(x)  # (N, C, T, V)
        if self.pooling == "mean":
            return self.head(features.mean(dim=3).transpose(1, 2))
        n, c, t, v = features.shape
        return self.head(features.permute(0, 2, 3, 1).reshape(n, t, v * c))
