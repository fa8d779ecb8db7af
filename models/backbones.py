"""Image backbones for the frame models: any timm model, or a torchvision classifier (``torchvision/<name>``),
as a feature extractor (frames (B, 3, H, W) -> pooled features (B, num_features)), with pretrained weights
that are either really there or refused.

Pretrained weights are looked for on this machine only, never downloaded behind the user's back:
``pretrained="imagenet"`` takes timm's ImageNet weights from the Hugging Face cache (or torch hub's
checkpoints folder, where torchvision and older timm keep theirs); ``weights=PATH`` takes a local file
(a timm, torchvision or plain state-dict checkpoint; a classifier of another size is dropped);
``pretrained="none"`` trains from scratch. When weights are asked for and not found, ``WeightsMissing``
says where to put the file. ``WeightsSource`` records what was loaded (kind, file, SHA-256), for a run's
config.json.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from landmarks.extraction.model_files import file_sha256

PRETRAINED = ("imagenet", "none")
TORCHVISION_PREFIX = "torchvision/"
IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class WeightsMissing(FileNotFoundError):
    """Pretrained weights were asked for and are not on this machine; the message says where to put them."""


@dataclass(frozen=True)
class WeightsSource:
    """Where a backbone's initial weights came from: ``kind`` is ``imagenet`` (found in a cache), ``file``
    (given by the user) or ``none`` (random initialisation from the seed); ``path`` and ``sha256`` are the
    file's."""

    kind: str
    path: str | None = None
    sha256: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def state_sha256(module: nn.Module) -> str:
    """A fingerprint of a module's weights and buffers (names, shapes and values): what a feature cache is
    keyed by, so features of one set of weights are never served for another."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def is_torchvision(name: str) -> bool:
    return name.startswith(TORCHVISION_PREFIX)


def check_backbone_name(name: str) -> None:
    """Refuse a backbone name neither timm nor torchvision knows, naming where to look."""
    if is_torchvision(name):
        import torchvision

        short = name[len(TORCHVISION_PREFIX):]
        if short not in torchvision.models.list_models(module=torchvision.models):
            raise ValueError(f"torchvision has no classification model {short!r} (backbone {name!r}); see "
                             f"torchvision.models.list_models()")
        return
    import timm

    if not timm.is_model(name):
        close = timm.list_models(f"*{name.split('_')[0]}*")[:8]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise ValueError(f"timm has no model {name!r}{hint} (all: timm.list_models())")


def _cached_imagenet_file(name: str) -> Path | None:
    """The backbone's ImageNet weights if a cache on this machine already holds them (no network)."""
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    if is_torchvision(name):
        import torchvision

        for weights in torchvision.models.get_model_weights(name[len(TORCHVISION_PREFIX):]):
            candidate = hub / os.path.basename(weights.url)
            if candidate.is_file():
                return candidate
        return None
    from huggingface_hub import try_to_load_from_cache
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(name)
    if config is None:
        return None
    if config.hf_hub_id:
        for filename in ("model.safetensors", "pytorch_model.bin"):
            found = try_to_load_from_cache(config.hf_hub_id, filename)
            if isinstance(found, str) and Path(found).is_file():
                return Path(found)
    if config.url:
        candidate = hub / os.path.basename(config.url)
        if candidate.is_file():
            return candidate
    return None


def _where_to_put(name: str) -> str:
    hub = Path(torch.hub.get_dir()) / "checkpoints"
    if is_torchvision(name):
        return f"torchvision's file for it in {hub}"
    from timm.models import get_pretrained_cfg

    config = get_pretrained_cfg(name)
    places = []
    if config is not None and config.hf_hub_id:
        places.append(f"the Hugging Face cache (on a machine online: hf download {config.hf_hub_id}, then copy "
                      f"~/.cache/huggingface here)")
    if config is not None and config.url:
        places.append(f"{hub / os.path.basename(config.url)}")
    return " or ".join(places) or f"a weights file of {name}"


def resolve_weights(name: str, pretrained: str = "imagenet", weights: str | os.PathLike | None = None) -> WeightsSource:
    """Which initial weights a backbone gets, decided before anything is built (so a run stops at once)."""
    if pretrained not in PRETRAINED:
        raise ValueError(f"pretrained must be one of {', '.join(PRETRAINED)}, got {pretrained!r}")
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise WeightsMissing(f"weights file {path} does not exist: give the path of a {name} checkpoint "
                                 f"(.pth, .pt, .bin or .safetensors)")
        return WeightsSource("file", str(path.resolve()), file_sha256(path))
    if pretrained == "none":
        return WeightsSource("none")
    found = _cached_imagenet_file(name)
    if found is None:
        raise WeightsMissing(
            f"ImageNet weights of {name} are not on this machine (facegraph never downloads them during a run). "
            f"Put them in {_where_to_put(name)}, or give a file with --weights PATH (weights=), or train from "
            f"scratch with --pretrained none"
        )
    return WeightsSource("imagenet", str(found), file_sha256(found))


def _read_state(path: str) -> dict:
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "state_dict_ema"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            return state[key]
    return state


class TorchvisionFeatures(nn.Module):
    """A torchvision classifier with its last classification layer removed: frames -> pooled features."""

    def __init__(self, name: str, source: WeightsSource) -> None:
        super().__init__()
        import torchvision

        self.net = torchvision.models.get_model(name, weights=None)
        if source.path is not None:
            try:
                self.net.load_state_dict(_read_state(source.path))
            except RuntimeError as error:
                raise ValueError(f"{source.path} does not hold torchvision {name} weights: {error}") from None
        if isinstance(getattr(self.net, "fc", None), nn.Linear):
            self.feature_size = self.net.fc.in_features
            self.net.fc = nn.Identity()
        else:
            linear = next(m for m in self.net.classifier.modules() if isinstance(m, nn.Linear))
            self.feature_size = linear.in_features
            self.net.classifier = nn.Identity()
        self.mean, self.std = IMAGENET_MEAN, IMAGENET_STD

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.net(frames)


def create_backbone(name: str, pretrained: str = "imagenet", weights: str | os.PathLike | None = None,
                    source: WeightsSource | None = None) -> tuple[nn.Module, WeightsSource]:
    """The backbone ``name`` as a feature extractor with ``feature_size`` (its output width), ``mean`` and
    ``std`` (the input normalisation its weights expect), and where its weights came from. ``source``, when given, is an
    earlier ``resolve_weights`` answer (not resolved again)."""
    check_backbone_name(name)
    source = source or resolve_weights(name, pretrained, weights)
    if is_torchvision(name):
        return TorchvisionFeatures(name[len(TORCHVISION_PREFIX):], source), source
    import timm

    options = {"num_classes": 0}
    if source.path is not None:
        options.update(pretrained=True, pretrained_cfg_overlay={"file": source.path})
    try:
        model = timm.create_model(name, **options)
    except (RuntimeError, KeyError) as error:
        raise ValueError(f"{source.path} does not hold {name} weights timm can load: {error}") from None
    config = model.pretrained_cfg
    # timm's num_features is the last stage's width; models with a pre-logits layer (MobileNetV3) output more
    model.feature_size = getattr(model, "head_hidden_size", None) or model.num_features
    model.mean, model.std = tuple(config.get("mean", IMAGENET_MEAN)), tuple(config.get("std", IMAGENET_STD))
    return model, source
