"""One entry point for every model: ``models.create(name, num_classes, graph=..., **options)``.

Models register under a name with a one-line description; ``available_models()`` lists them. Every model
is a plain ``torch.nn.Module`` taking (N, C, T, V) landmark sequences and returning logits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .reference import ReferenceSTGCN
from .sequence_peer import CoordinateGRU
from .stgcn import STGCN, STGCNLSTM, YAN2018


@dataclass(frozen=True)
class ModelEntry:
    build: Callable[..., nn.Module]
    description: str


_REGISTRY: dict[str, ModelEntry] = {}


def register(name: str, build: Callable[..., nn.Module], description: str) -> None:
    """Add a model builder under ``name``; it is called as ``build(num_classes=..., **options)``."""
    if name in _REGISTRY:
        raise ValueError(f"a model named {name!r} is already registered")
    _REGISTRY[name] = ModelEntry(build, description)


def available_models() -> dict[str, str]:
    """Registered model names and what each one is."""
    return {name: entry.description for name, entry in _REGISTRY.items()}


def create(name: str, num_classes: int, **options) -> nn.Module:
    """Build a registered model. ``graph`` (a name or networkx graph), ``in_channels`` and the model's own
    options (``channels``, ``head``, ``implementation`` ...) are passed through to its class."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(_REGISTRY)}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    try:
        return _REGISTRY[name].build(num_classes=num_classes, **options)
    except TypeError as error:
        raise TypeError(f"model {name!r}: {error}") from None


def _yan2018(**options) -> nn.Module:
    return STGCN(**{**YAN2018, "dropout": 0.5, **options})


register("stgcn", STGCN, "ST-GCN (Yan et al. 2018) sized for faces: 3 blocks of 16-64 channels, pooled to logits")
register("stgcn-yan2018", _yan2018, "ST-GCN with the original's 10 blocks up to 256 channels and dropout 0.5")
register("stgcn-lstm", STGCNLSTM, "3 ST-GCN blocks of 16 channels on every frame, node-pooled, then a sequence head")
register("gru", CoordinateGRU, "no graph: a GRU on each frame's 136 coordinates, the non-graph sequence peer")
register("stgcn-ref", ReferenceSTGCN, "Ridouan et al.'s blocks: recurrent attention over 1- and 2-hop neighbours")
