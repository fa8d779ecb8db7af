"""Graph models on landmark sequences (STGCN, STGCN-LSTM, the paper's reference block) and the sequence
heads shared with the image branch.

>>> import models
>>> model = models.create("stgcn-lstm", num_classes=2, head="attention")
>>> sorted(models.available_models())[:2]
['stgcn', 'stgcn-lstm']
"""

from .graph_conv import IMPLEMENTATIONS, SpatialGraphConv
from .heads import AttentionLSTMHead, BiLSTMHead, LSTMHead, StackedLSTMHead, available_heads, create_head
from .reference import RecurrentAttentionConv, ReferenceBlock, ReferenceSTGCN
from .registry import available_models, create, register
from .sequence_peer import CoordinateGRU
from .stgcn import STGCN, STGCNLSTM, YAN2018, STGCNBackbone, STGCNBlock

__all__ = [
    "IMPLEMENTATIONS",
    "STGCN",
    "STGCNLSTM",
    "YAN2018",
    "AttentionLSTMHead",
    "BiLSTMHead",
    "CoordinateGRU",
    "LSTMHead",
    "RecurrentAttentionConv",
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
