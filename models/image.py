"""The image branch's models: a CNN backbone on every frame of a clip of face crops, then a sequence head
(ConvNeXt-LSTM, MobileNetV3-LSTM: Ridouan et al., Agam et al.), or a frame classifier averaged over the clip
(``frame-cnn``, the papers' single-frame baselines: VGG16, ResNet, EfficientNet ...).

Input: clips (N, T, 3, H, W), normalised as the backbone's weights expect (``backbone.mean`` / ``std``).
The model is split in two on purpose: ``frame_features`` (backbone, per frame) and ``head`` (per-frame
features (N, T, F) -> logits), so that with a frozen backbone the features are computed once and cached
(``experiments.feature_cache``) and only the head is trained on them. ``image_model_spec`` says what a
registered image model is made of (backbone name, head) without building the backbone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .backbones import WeightsSource, check_backbone_name, create_backbone
from .heads import create_head, head_widths, resolved_head_sizes, width_tuple

MOBILENETV3_VARIANTS = {"large": "mobilenetv3_large_100", "small": "mobilenetv3_small_100"}
FRAME_AVERAGE = "frames"  # the head of frame-cnn: per-frame scores averaged over the clip


class FrameClassifier(nn.Module):
    """Per-frame class scores averaged over the clip: a linear classifier on every frame's features; the
    clip's probabilities are the mean of the frames' (returned as their logarithm, so softmax gives them
    back and cross-entropy is the clip's negative log-likelihood)."""

    def __init__(self, in_features: int, num_classes: int, dropout: float = 0.25) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(in_features, num_classes)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        frame_probabilities = torch.softmax(self.classifier(self.dropout(features)), dim=-1)
        return torch.log(frame_probabilities.mean(dim=1).clamp_min(1e-12))


class FrameSequenceModel(nn.Module):
    """Backbone on every frame, then ``head`` on the frame features.

    ``freeze_backbone(True)`` stops the backbone's weights and its batch-norm statistics from changing (the
    first stage of two-stage transfer); ``weights_source`` records where its initial weights came from.
    """

    def __init__(self, backbone: nn.Module, head: nn.Module, weights_source: WeightsSource, backbone_name: str) -> None:
        super().__init__()
        self.backbone, self.head = backbone, head
        self.weights_source, self.backbone_name = weights_source, backbone_name
        self.backbone_frozen = False

    def freeze_backbone(self, frozen: bool = True) -> None:
        self.backbone_frozen = frozen
        for parameter in self.backbone.parameters():
            parameter.requires_grad_(not frozen)
        if frozen:
            self.backbone.eval()

    def train(self, mode: bool = True) -> FrameSequenceModel:
        super().train(mode)
        if self.backbone_frozen:
            self.backbone.eval()  # frozen means frozen: batch-norm statistics too
        return self

    def frame_features(self, clips: torch.Tensor) -> torch.Tensor:
        """(N, T, 3, H, W) -> (N, T, F)."""
        if clips.dim() != 5:
            raise ValueError(f"image models take clips (N, T, 3, H, W), got a tensor of shape {tuple(clips.shape)}")
        n, t = clips.shape[:2]
        return self.backbone(clips.flatten(0, 1)).reshape(n, t, -1)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.head(self.frame_features(clips))


@dataclass(frozen=True)
class ImageModelSpec:
    """What an image model is made of: a backbone (timm, or ``torchvision/<name>``) and a head (``lstm``,
    ``bilstm``, ``attention``, ``stacked``, or ``frames`` for the frame average)."""

    backbone: str
    head: str = "lstm"
    head_sizes: tuple[int, ...] | None = None
    dropout: float = 0.25
    # a learned linear layer to this width between the frame features and the head (0: none); the default by
    # measurement (README, the image branch's figures): it keeps the heads' scores and makes them cheap to train
    projection: int = 64

    def __post_init__(self) -> None:
        check_backbone_name(self.backbone)
        if self.head == FRAME_AVERAGE and self.head_sizes is not None:
            raise ValueError("the frame average has no LSTM: head_sizes does not apply to it")
        if self.head != FRAME_AVERAGE:
            create_head(self.head, 4, 2, dropout=self.dropout, **head_widths(self.head, self.head_sizes))
        if self.projection < 0:
            raise ValueError(f"projection must be a width, or 0 for none, got {self.projection}")

    def build_head(self, in_features: int, num_classes: int) -> nn.Module:
        """The head on frame features of ``in_features`` (the projection, when set, first)."""
        width = self.projection or in_features
        if self.head == FRAME_AVERAGE:
            head = FrameClassifier(width, num_classes, self.dropout)
        else:
            head = create_head(self.head, width, num_classes, dropout=self.dropout,
                               **head_widths(self.head, self.head_sizes))
        return nn.Sequential(nn.Linear(in_features, width), head) if self.projection else head

    def options(self) -> dict:
        """Every option of this spec, the head's default widths filled in: what a run records, so that the
        model rebuilt from the record is the model trained even after a later version changes a default."""
        sizes = None if self.head == FRAME_AVERAGE else list(resolved_head_sizes(self.head, self.head_sizes))
        return {"backbone": self.backbone, "head": self.head, "head_sizes": sizes, "dropout": self.dropout,
                "projection": self.projection}

    def build(self, num_classes: int, pretrained: str = "imagenet", weights: str | os.PathLike | None = None,
              weights_source: WeightsSource | None = None) -> FrameSequenceModel:
        net, source = create_backbone(self.backbone, pretrained, weights, weights_source)
        return FrameSequenceModel(net, self.build_head(net.feature_size, num_classes), source, self.backbone)


def convnext_spec(backbone: str = "convnext_atto", head: str = "lstm", head_sizes: Sequence[int] | int | None = None,
                  dropout: float = 0.25, projection: int = 64) -> ImageModelSpec:
    """ConvNeXt (atto ... xlarge; Ridouan et al. use xlarge) on every frame, then a sequence head."""
    if not backbone.startswith(("convnext_", "convnextv2_")):
        raise ValueError(f"convnext-lstm takes a ConvNeXt backbone (convnext_atto ... convnext_xlarge), got "
                         f"{backbone!r}; use frame-cnn or another model for other backbones")
    return ImageModelSpec(backbone, head, None if head_sizes is None else width_tuple(head_sizes), dropout, projection)


def mobilenetv3_spec(variant: str = "large", backbone: str | None = None, head: str = "lstm",
                     head_sizes: Sequence[int] | int | None = None, dropout: float = 0.25,
                     projection: int = 64) -> ImageModelSpec:
    """MobileNetV3 (large, as Agam et al., or small) on every frame, then a sequence head."""
    if backbone is None:
        if variant not in MOBILENETV3_VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(MOBILENETV3_VARIANTS)}, got {variant!r}")
        backbone = MOBILENETV3_VARIANTS[variant]
    elif not backbone.startswith("mobilenetv3"):
        raise ValueError(f"mobilenetv3-lstm takes a MobileNetV3 backbone, got {backbone!r}")
    return ImageModelSpec(backbone, head, None if head_sizes is None else width_tuple(head_sizes), dropout, projection)


def frame_cnn_spec(backbone: str = "resnet18", head: str = FRAME_AVERAGE, head_sizes: Sequence[int] | int | None = None,
                   dropout: float = 0.25, projection: int = 0) -> ImageModelSpec:
    """Any backbone on single frames; the clip's probabilities are the mean of its frames'."""
    if head != FRAME_AVERAGE:
        raise ValueError("frame-cnn averages frame scores and takes no sequence head; use convnext-lstm, "
                         "mobilenetv3-lstm or another sequence model for one")
    return ImageModelSpec(backbone, head, None if head_sizes is None else width_tuple(head_sizes), dropout, projection)


SPECS = {"convnext-lstm": convnext_spec, "mobilenetv3-lstm": mobilenetv3_spec, "frame-cnn": frame_cnn_spec}


def image_model_spec(name: str, **options) -> ImageModelSpec:
    """The spec of the registered image model ``name`` with its options (``backbone``, ``head`` ...)."""
    if name not in SPECS:
        raise ValueError(f"{name!r} is not an image model; choose one of {', '.join(SPECS)}")
    try:
        return SPECS[name](**options)
    except TypeError as error:
        raise TypeError(f"model {name!r}: {error}") from None


def _builder(name: str):
    def build(num_classes: int, pretrained: str = "imagenet", weights: str | os.PathLike | None = None,
              weights_source: WeightsSource | None = None, **options) -> FrameSequenceModel:
        return image_model_spec(name, **options).build(num_classes, pretrained, weights, weights_source)

    build.__doc__ = SPECS[name].__doc__
    return build


convnext_lstm, mobilenetv3_lstm, frame_cnn = (_builder(name) for name in SPECS)
