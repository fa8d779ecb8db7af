"""Sequence heads: map a sequence of per-frame features (N, T, F) to class logits (N, num_classes).

Shared by the landmark models (STGCN-LSTM pools the graph over nodes and hands the frames to a head) and
the image branch (a CNN backbone per frame, then a head). Choose one by name with ``create_head``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

import torch
from torch import nn


class LSTMHead(nn.Module):
    """One LSTM layer over time; the last hidden state goes to a linear classifier."""

    def __init__(self, in_features: int, num_classes: int, hidden_size: int = 64, dropout: float = 0.25) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_features, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(x)
        return self.classifier(self.dropout(hidden[-1]))


class BiLSTMHead(nn.Module):
    """A bidirectional LSTM: the forward pass's last state and the backward pass's first, concatenated."""

    def __init__(self, in_features: int, num_classes: int, hidden_size: int = 64, dropout: float = 0.25) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_features, hidden_size, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(x)
        return self.classifier(self.dropout(torch.cat([hidden[-2], hidden[-1]], dim=1)))


class AttentionLSTMHead(nn.Module):
    """An LSTM whose outputs are pooled over time by learned attention (additive scoring, softmax over
    frames), so the clip's decisive frames, such as the apex of a phasic response, can dominate."""

    def __init__(
        self, in_features: int, num_classes: int, hidden_size: int = 64, attention_size: int = 32, dropout: float = 0.25
    ) -> None:
        super().__init__()
        self.lstm = nn.LSTM(in_features, hidden_size, batch_first=True)
        # No bias on the last layer: a shift common to every frame cancels in the softmax.
        self.score = nn.Sequential(
            nn.Linear(hidden_size, attention_size), nn.Tanh(), nn.Linear(attention_size, 1, bias=False)
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size, num_classes)

    def attention(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The LSTM outputs (N, T, H) and the attention weights over frames (N, T), which sum to 1."""
        outputs, _ = self.lstm(x)
        return outputs, torch.softmax(self.score(outputs).squeeze(-1), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, weights = self.attention(x)
        pooled = (weights.unsqueeze(-1) * outputs).sum(dim=1)
        return self.classifier(self.dropout(pooled))


class StackedLSTMHead(nn.Module):
    """LSTM layers stacked, each with its own width (Ridouan et al. use two, of 15 and 20 units), dropout
    between them; the last layer's final state goes to the classifier."""

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        hidden_sizes: Sequence[int] = (64, 64),
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        if len(hidden_sizes) < 1:
            raise ValueError("hidden_sizes needs at least one LSTM width")
        widths = [in_features, *hidden_sizes]
        self.layers = nn.ModuleList(nn.LSTM(a, b, batch_first=True) for a, b in zip(widths, widths[1:], strict=False))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        hidden = None
        for index, layer in enumerate(self.layers):
            if index:
                x = self.dropout(x)
            x, (hidden, _) = layer(x)
        return self.classifier(self.dropout(hidden[-1]))


HEADS: dict[str, type[nn.Module]] = {
    "lstm": LSTMHead,
    "bilstm": BiLSTMHead,
    "attention": AttentionLSTMHead,
    "stacked": StackedLSTMHead,
}


def available_heads() -> list[str]:
    """Names accepted by ``create_head`` (and by ``head=`` of the sequence models)."""
    return list(HEADS)


def create_head(name: str, in_features: int, num_classes: int, **options) -> nn.Module:
    """A sequence head by name: ``lstm``, ``bilstm``, ``attention`` or ``stacked``; options go to its class."""
    if name not in HEADS:
        raise ValueError(f"unknown sequence head {name!r}; choose one of {', '.join(HEADS)}")
    try:
        return HEADS[name](in_features, num_classes, **options)
    except TypeError as error:
        raise TypeError(f"sequence head {name!r}: {error}") from None


def _widths_keyword(head: str) -> str:
    """The keyword of a head's class that takes its LSTM widths: all of them for ``stacked``, one otherwise."""
    return "hidden_sizes" if head == "stacked" else "hidden_size"


def width_tuple(sizes: Sequence[int] | int) -> tuple[int, ...]:
    """Widths as a tuple: a single number is one width (one LSTM layer, one block), as ``head_sizes=64`` from
    Python or ``--set channels=32`` write it."""
    return (int(sizes),) if isinstance(sizes, int) else tuple(int(size) for size in sizes)


def resolved_head_sizes(head: str, sizes: Sequence[int] | int | None) -> tuple[int, ...]:
    """The LSTM widths the head ``head`` gets from ``sizes``: its class's default widths when None, so a
    record of them rebuilds the same head after a later version changes the default."""
    if sizes is not None:
        return width_tuple(sizes)
    if head not in HEADS:
        raise ValueError(f"unknown sequence head {head!r}; choose one of {', '.join(HEADS)}")
    width = inspect.signature(HEADS[head]).parameters[_widths_keyword(head)].default
    return tuple(width) if head == "stacked" else (width,)


def head_widths(head: str, sizes: Sequence[int] | int | None) -> dict:
    """The keyword that sets a head's LSTM widths: every width for ``stacked``, exactly one otherwise."""
    if sizes is None:
        return {}
    sizes = width_tuple(sizes)
    if not sizes or min(sizes) < 1:
        raise ValueError(f"head_sizes must be positive LSTM widths, got {sizes}")
    if head == "stacked":
        return {_widths_keyword(head): sizes}
    if len(sizes) != 1:
        raise ValueError(
            f"head {head!r} has one LSTM layer: give head_sizes (--head-sizes) one width, not {sizes} "
            f"(a preset's stacked widths do not apply to it)"
        )
    return {_widths_keyword(head): sizes[0]}
