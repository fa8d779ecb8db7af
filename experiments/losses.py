"""Losses for imbalanced classes: class weights (simple or conservative) and focal loss."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional

WEIGHT_SCHEMES = ("none", "simple", "conservative")
LOSSES = ("ce", "focal")
CONSERVATIVE_CAP = 3.0


def class_weights(y: np.ndarray, num_classes: int, scheme: str) -> torch.Tensor | None:
    """Per-class loss weights: ``simple`` = majority count / class count; ``conservative`` = the same, capped
    at 3 so a rare class does not dominate; ``none`` = None."""
    if scheme not in WEIGHT_SCHEMES:
        raise ValueError(f"unknown class-weight scheme {scheme!r}; choose one of {', '.join(WEIGHT_SCHEMES)}")
    if scheme == "none":
        return None
    counts = np.bincount(np.asarray(y), minlength=num_classes).astype(float)
    if (counts == 0).any():
        absent = [int(i) for i in np.nonzero(counts == 0)[0]]
        raise ValueError(f"class(es) {absent} have no training clips in this fold, so no class weight exists")
    weights = counts.max() / counts
    if scheme == "conservative":
        weights = np.minimum(weights, CONSERVATIVE_CAP)
    return torch.tensor(weights, dtype=torch.float32)


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017): alpha * (1 - p_t)^gamma * cross-entropy, optionally class-weighted;
    defaults alpha 0.25 and gamma 2 as in Agam et al."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, weight: torch.Tensor | None = None) -> None:
        super().__init__()
        self.alpha, self.gamma = alpha, gamma
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        log_p = functional.log_softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
        loss = -self.alpha * (1.0 - log_p.exp()) ** self.gamma * log_p
        if self.weight is not None:
            loss = loss * self.weight[target]
        return loss.mean()


def make_loss(name: str, weight: torch.Tensor | None, alpha: float = 0.25, gamma: float = 2.0) -> nn.Module:
    """``ce`` (cross-entropy) or ``focal``, both taking the class weights."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    if name == "ce":
        return nn.CrossEntropyLoss(weight=weight)
    return FocalLoss(alpha, gamma, weight)
