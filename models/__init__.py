"""Graph models on landmark sequences (STGCN, STGCN-LSTM, the paper's reference block), the image models on
face crops (ConvNeXt-LSTM, MobileNetV3-LSTM, frame CNNs on timm or torchvision backbones), the sequence
heads they share, and the checkpoint ensemble a graph run's fold keeps (its best epochs' probabilities
averaged).

>>> import models
>>> model = models.create("stgcn-lstm", num_classes=2, head="attention")
>>> sorted(models.available_models("landmarks"))[:2]
['gru', 'stgcn']
>>> sorted(models.available_models("frames"))
['convnext-lstm', 'frame-cnn', 'mobilenetv3-lstm']
"""

from .backbones import PRETRAINED, WeightsMissing, WeightsSource, create_backbone, resolve_weights
from .ensemble import CheckpointEnsemble
from .graph_conv import IMPLEMENTATIONS, SpatialGraphConv
from .heads import AttentionLSTMHead, BiLSTMHead, LSTMHead, StackedLSTMHead, available_heads, create_head
from .image import FrameClassifier, FrameSequenceModel, ImageModelSpec, image_model_spec
from .reference import NeighbourhoodAttention, ReferenceBlock, ReferenceSTGCN
from .registry import available_models, create, model_inputs, register, resolved_options
from .sequence_peer import CoordinateGRU
from .stgcn import LANDMARK_POOLING, STGCN, STGCNLSTM, YAN2018, STGCNBackbone, STGCNBlock

__all__ = [
    "CheckpointEnsemble",
    "IMPLEMENTATIONS",
    "LANDMARK_POOLING",
    "PRETRAINED",
    "FrameClassifier",
    "FrameSequenceModel",
    "WeightsMissing",
    "WeightsSource",
    "ImageModelSpec",
    "image_model_spec",
    "create_backbone",
    "model_inputs",
    "resolved_options",
    "resolve_weights",
    "STGCN",
    "STGCNLSTM",
    "YAN2018",
    "AttentionLSTMHead",
    "BiLSTMHead",
    "CoordinateGRU",
    "LSTMHead",
    "NeighbourhoodAttention",
    "ReferenceBlock",
    "ReferenceSTGCN",
    "STGCNBackbone",
    "STGCNBlock",
    "SpatialGraphConv",
    "StackedLSTMHead",
    "available_heads",
    "available_models",
    "create",
    "create_head",
    "register",
]
