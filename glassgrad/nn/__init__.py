"""Neural-network building blocks (``gg.nn``): modules, layers, losses, initialisers, clipping.

>>> import glassgrad as gg
>>> model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.ReLU(), gg.nn.Linear(3, 4))
>>> model(gg.ones(1, 4)).shape
(1, 4)
"""

from . import functional, init, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Softmax, Softplus, Tanh
from .architecture import architecture, from_architecture, mlp
from .attention import MultiheadAttention
from .container import Residual, Sequential
from .conv import Conv1d, Conv2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .flatten import Flatten
from .hooks import RemovableHandle, register_module_forward_hook, register_module_forward_pre_hook
from .linear import Identity, Linear
from .lists import ModuleDict, ModuleList, ParameterDict, ParameterList
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "Flatten", "GELU", "Identity",
    "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "Module", "NLLLoss", "Parameter", "ReLU",
    "RemovableHandle", "Residual", "Sequential", "SiLU", "Sigmoid", "Softmax", "Tanh", "architecture",
    "from_architecture", "functional", "init", "mlp", "register_module_forward_hook",
    "register_module_forward_pre_hook", "utils",
    "ELU", "HuberLoss", "KLDivLoss", "L1Loss", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
    "SmoothL1Loss", "Softplus", "MultiheadAttention",
    # recurrent and Transformer layers
    "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell", "Transformer", "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer",
    # convolution, pooling, embedding (issue 11)
    "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm2d", "Conv1d", "Conv2d", "Dropout2d", "Embedding", "MaxPool2d",
]
