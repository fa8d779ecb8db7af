"""A checkpoint ensemble: one training run's best epochs, their class probabilities averaged.

The graph models' predictions on new subjects swing between neighbouring epochs of a small training part,
and the epoch of lowest validation loss on two or three subjects is partly luck; averaging the epochs of
lowest validation loss keeps what they agree on (Chen, Lundberg and Lee, "Checkpoint ensembles: ensemble
methods from a single training process", 2017). Written here because torch offers only weight averaging
(``torch.optim.swa_utils.AveragedModel``), which merges weights instead of predictions.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


class CheckpointEnsemble(nn.Module):
    """Members of one architecture (one training run's saved epochs); its output is the log of their mean
    class probabilities, so a softmax of it, as every caller of a classifier takes, gives the mean."""

    def __init__(self, members: Sequence[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("a checkpoint ensemble needs at least one member")
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probabilities = torch.stack([torch.softmax(member(x), dim=1) for member in self.members]).mean(dim=0)
        return torch.log(probabilities.clamp_min(torch.finfo(probabilities.dtype).tiny))
