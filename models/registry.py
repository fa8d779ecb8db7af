"""One entry point for every model: ``models.create(name, num_classes, graph=..., **options)``.

Models register under a name with a one-line description and what they take: ``landmarks`` models take
(N, C, T, V) landmark sequences, ``frames`` models (the image branch) clips of face crops (N, T, 3, H, W);
both return logits and are plain torch modules. ``available_models(inputs)`` lists them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import networkx as nx
from torch import nn

from .heads import resolved_head_sizes
from .image import convnext_lstm, frame_cnn, mobilenetv3_lstm
from .reference import ReferenceSTGCN
from .sequence_peer import CoordinateGRU
from .stgcn import DEFAULT_GRAPH, STGCN, STGCNLSTM, YAN2018


@dataclass(frozen=True)
class ModelEntry:
    build: Callable[..., nn.Module]
    description: str
    inputs: str  # landmarks or frames


_REGISTRY: dict[str, ModelEntry] = {}


INPUTS = ("landmarks", "frames")


def register(name: str, build: Callable[..., nn.Module], description: str, inputs: str = "landmarks") -> None:
    """Add a model builder under ``name``; it is called as ``build(num_classes=..., **options)``."""
    if name in _REGISTRY:
        raise ValueError(f"a model named {name!r} is already registered")
    if inputs not in INPUTS:
        raise ValueError(f"inputs must be one of {', '.join(INPUTS)}, got {inputs!r}")
    _REGISTRY[name] = ModelEntry(build, description, inputs)


def available_models(inputs: str | None = None) -> dict[str, str]:
    """Registered model names and what each one is; only those taking ``inputs`` (landmarks or frames)
    when given."""
    return {name: entry.description for name, entry in _REGISTRY.items() if inputs in (None, entry.inputs)}


def model_inputs(name: str) -> str:
    """What the registered model ``name`` takes: landmarks or frames."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(_REGISTRY)}")
    return _REGISTRY[name].inputs


def create(name: str, num_classes: int, **options) -> nn.Module:
    """Build a registered model. Landmark models take ``graph`` (a name or networkx graph), ``in_channels``
    and their own options (``channels``, ``head``, ``implementation`` ...); image models ``backbone``,
    ``head``, ``pretrained``, ``weights`` (see ``models.image``). Options go through to the model's class."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(_REGISTRY)}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    try:
        return _REGISTRY[name].build(num_classes=num_classes, **options)
    except TypeError as error:
        raise TypeError(f"model {name!r}: {error}") from None


# What the caller passes, not a model option: the class count, and the channels per landmark the data give.
_NOT_OPTIONS = ("num_classes", "in_channels")


def resolved_options(name: str, options: Mapping) -> dict:
    """``options`` completed with the default of every option the model's builder takes and was not given:
    what a run records, so that a model rebuilt from the record is the model trained even after a later
    version changes a default. A builder that only forwards ``**options`` adds nothing."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(_REGISTRY)}")
    parameters = inspect.signature(_REGISTRY[name].build).parameters.values()
    defaults = {p.name: p.default for p in parameters
                if p.default is not inspect.Parameter.empty and p.name not in _NOT_OPTIONS}
    resolved = {**defaults, **options}
    if "head" in resolved and "head_sizes" in resolved:  # a sequence head: its widths' defaults are the head's
        resolved["head_sizes"] = resolved_head_sizes(resolved["head"], resolved["head_sizes"])
    return resolved


def _yan2018(graph: str | nx.Graph = DEFAULT_GRAPH, **options) -> nn.Module:
    # the graph is named here, not left to STGCN's default, so that a run records the graph it trained on
    return STGCN(**{**YAN2018, "dropout": 0.5, "graph": graph, **options})


register("stgcn", STGCN, "ST-GCN (Yan et al. 2018) sized for faces: 3 blocks of 16-32 channels on every frame, "
         "averaged over 5 stretches of the clip, to logits")
register("stgcn-yan2018", _yan2018, "ST-GCN with the original's 10 blocks up to 256 channels and dropout 0.5")
register("stgcn-lstm", STGCNLSTM, "3 ST-GCN blocks of 16 channels on every frame, node-pooled, then a sequence head")
register("gru", CoordinateGRU, "no graph: a GRU on each frame's 136 coordinates, the non-graph sequence peer")
register("stgcn-ref", ReferenceSTGCN, "Ridouan et al.'s blocks: recurrent attention over 1- and 2-hop neighbours")
register("convnext-lstm", convnext_lstm, "ConvNeXt (atto ... xlarge, timm) on every face crop, then a sequence head",
         inputs="frames")
register("mobilenetv3-lstm", mobilenetv3_lstm, "MobileNetV3 large or small (timm) on every face crop, then a sequence "
         "head", inputs="frames")
register("frame-cnn", frame_cnn, "any timm or torchvision backbone on single crops; clip = mean of frame scores",
         inputs="frames")
