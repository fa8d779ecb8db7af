"""The spatial graph convolution of ST-GCN (Yan et al., AAAI 2018), in two interchangeable implementations.

Each node gathers its neighbours' features separately for every partition of the adjacency (root,
centripetal, centrifugal), weighted by the partitioned adjacency times a learnable edge-importance mask;
a 1x1 convolution then mixes the K gathered copies into the output channels. That is Yan et al.'s
"one weight matrix per partition" (their layer transforms first and gathers second; gathering first gives
the same function up to how the bias is shared, and is cheaper whenever C_in <= C_out, notably for the
first layer on 2-D coordinates). ``implementation="dense"`` gathers with one matrix product against the
(V, K*V) adjacency; ``implementation="pyg"`` sends the same messages along an edge list with
torch-geometric's ``MessagePassing``. Both read the same parameters, so a trained layer can switch freely.
torch-geometric is imported only when a layer first uses ``pyg``: importing it costs seconds per process
(it loads torch's compiler stack), which every command and every fold worker would otherwise pay.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch
from torch import nn

IMPLEMENTATIONS = ("dense", "pyg")


@cache
def _partition_messages_class() -> type[nn.Module]:
    """torch-geometric's message passing, set up to sum weighted messages from source nodes into
    (partition, target) slots with nodes along dimension 0; defined on first use (see the module notes)."""
    from torch_geometric.nn import MessagePassing

    class _PartitionMessages(MessagePassing):
        def __init__(self) -> None:
            super().__init__(aggr="add", flow="source_to_target", node_dim=0)

        def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_weight: torch.Tensor, targets: int):
            return self.propagate(edge_index, x=(x, None), edge_weight=edge_weight, size=(x.shape[0], targets))

        def message(self, x_j: torch.Tensor, edge_weight: torch.Tensor) -> torch.Tensor:
            return edge_weight.unsqueeze(-1) * x_j

    _PartitionMessages.__qualname__ = "_PartitionMessages"  # found by name, through __getattr__, when unpickled
    return _PartitionMessages


def __getattr__(name: str):
    """``_PartitionMessages`` is made on first access, so pickled models that hold one load in a fresh process."""
    if name == "_PartitionMessages":
        return _partition_messages_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class SpatialGraphConv(nn.Module):
    """Graph convolution over a partitioned adjacency: (N, C_in, T, V) -> (N, C_out, T, V).

    ``partitions`` is the (K, V, V) stack from ``graphs.spatial_partitions`` (entry [k, i, j]: message from
    node j to node i in partition k). With ``edge_importance`` every entry gets a learnable weight
    (initialised to 1, as in ST-GCN), so the model can learn which connections matter.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        partitions: np.ndarray | torch.Tensor,
        edge_importance: bool = True,
        implementation: str = "dense",
    ) -> None:
        super().__init__()
        adjacency = torch.as_tensor(np.asarray(partitions), dtype=torch.float32)
        if adjacency.ndim != 3 or adjacency.shape[1] != adjacency.shape[2]:
            raise ValueError(f"partitions must have shape (K, V, V), got {tuple(adjacency.shape)}")
        self.partitions, self.nodes = adjacency.shape[0], adjacency.shape[1]
        self.out_channels = out_channels
        self.register_buffer("adjacency", adjacency)
        self.importance = nn.Parameter(torch.ones_like(adjacency)) if edge_importance else None
        self.conv = nn.Conv2d(in_channels * self.partitions, out_channels, kernel_size=1)
        partition, target, source = adjacency.nonzero(as_tuple=True)
        self.register_buffer("edge_partition", partition)
        self.register_buffer("edge_target", target)
        self.register_buffer("edge_source", source)
        self.register_buffer("edge_index", torch.stack([source, partition * self.nodes + target]))
        self._messages: nn.Module | None = None
        self.implementation = implementation

    @property
    def implementation(self) -> str:
        return self._implementation

    @implementation.setter
    def implementation(self, value: str) -> None:
        if value not in IMPLEMENTATIONS:
            choices = " or ".join(IMPLEMENTATIONS)
            raise ValueError(f"unknown graph-convolution implementation {value!r}; choose {choices}")
        if value == "pyg" and self._messages is None:
            self._messages = _partition_messages_class()()
        self._implementation = value

    def weighted_adjacency(self) -> torch.Tensor:
        """The (K, V, V) adjacency the layer applies: partitions times the learned edge importance."""
        return self.adjacency if self.importance is None else self.adjacency * self.importance

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        if v != self.nodes:
            raise ValueError(f"input has {v} nodes but the graph has {self.nodes}; expected (N, C, T, {self.nodes})")
        gathered = self._dense(x) if self._implementation == "dense" else self._sparse(x)
        return self.conv(gathered.reshape(n, self.partitions * c, t, v))

    def _dense(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, V) -> (N, K, C, T, V): out[n, k, c, t, i] = sum_j A[k, i, j] x[n, c, t, j]."""
        n, c, t, v = x.shape
        k = self.partitions
        gather = self.weighted_adjacency().permute(2, 0, 1).reshape(v, k * v)
        out = x.reshape(n * c * t, v) @ gather
        return out.view(n, c, t, k, v).permute(0, 3, 1, 2, 4)

    def _sparse(self, x: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        k = self.partitions
        sources = x.permute(3, 0, 1, 2).reshape(v, n * c * t)
        weight = self.weighted_adjacency()[self.edge_partition, self.edge_target, self.edge_source]
        out = self._messages(sources, self.edge_index, weight, targets=k * v)
        return out.view(k, v, n, c, t).permute(2, 0, 3, 4, 1)
