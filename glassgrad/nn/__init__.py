"""Neural-network building blocks (``gg.nn``): modules, layers, losses, initialisers, clipping.

>>> import glassgrad as gg
>>> model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.ReLU(), gg.nn.Linear(3, 4))
>>> model(gg.ones(1, 4)).shape
Size([1, 4])
"""

from . import functional, grad, init, utils
from .activation import (
    CELU,
    ELU,
    GELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    RReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softmax2d,
    Softmin,
    Softplus,
    Softshrink,
    Softsign,
    Tanh,
    Tanhshrink,
    Threshold,
)
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .adaptive_max_pooling import AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d
from .architecture import architecture, from_architecture, mlp
from .attention import MultiheadAttention
from .container import Residual, Sequential
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout
from .embedding import Embedding, EmbeddingBag
from .flatten import Flatten, Unflatten
from .fold import Fold, Unfold
from .fractional_pooling import FractionalMaxPool2d, FractionalMaxPool3d
from .hooks import RemovableHandle, register_module_forward_hook, register_module_forward_pre_hook
from .lazy import (
    LazyBatchNorm1d,
    LazyBatchNorm2d,
    LazyBatchNorm3d,
    LazyConv1d,
    LazyConv2d,
    LazyConv3d,
    LazyConvTranspose1d,
    LazyConvTranspose2d,
    LazyConvTranspose3d,
    LazyInstanceNorm1d,
    LazyInstanceNorm2d,
    LazyInstanceNorm3d,
    LazyLinear,
)
from .linear import Identity, Linear
from .lists import ModuleDict, ModuleList, ParameterDict, ParameterList
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CosineSimilarity,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    NLLLoss2d,
    PairwiseDistance,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from .lp_pooling import LPPool1d, LPPool2d, LPPool3d
from .module import Module
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    LocalResponseNorm,
    RMSNorm,
)
from .padding import (
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from .parallel import DataParallel
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)
from .rearrange import Bilinear, ChannelShuffle, PixelShuffle, PixelUnshuffle
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from .unpooling import MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

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
    "EmbeddingBag",
    # activations made of other ops
    "CELU", "GLU", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "LogSigmoid", "Mish", "PReLU", "RReLU",
    "ReLU6", "SELU", "Softmin", "Softshrink", "Softsign", "Tanhshrink", "Threshold",
    # distances and the losses made of other ops
    "CosineEmbeddingLoss", "CosineSimilarity", "GaussianNLLLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "PairwiseDistance", "PoissonNLLLoss", "SoftMarginLoss",
    "TripletMarginLoss",
    # normalisation over other dims
    "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "RMSNorm",
    # transposed convolutions, resizing, unflattening
    "ConvTranspose1d", "ConvTranspose2d", "Unflatten", "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "Fold", "Unfold", "Bilinear", "ChannelShuffle", "PixelShuffle", "PixelUnshuffle",
    # 1-d and adaptive max pooling, unpooling
    "AdaptiveAvgPool1d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AvgPool1d", "MaxPool1d",
    "MaxUnpool1d", "MaxUnpool2d",
    # padding (F.pad's layers)
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
    "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    # channel and SELU dropout, softmax over channels
    "AlphaDropout", "Dropout1d", "Dropout3d", "FeatureAlphaDropout", "Softmax2d",
    # 3-d layers (volumes: videos, scans)
    "AdaptiveAvgPool3d", "AdaptiveMaxPool3d", "AvgPool3d", "BatchNorm3d", "Conv3d", "ConvTranspose3d",
    "InstanceNorm3d", "MaxPool3d", "MaxUnpool3d",
    # sequence, ranking and AlexNet-era layers and losses
    "AdaptiveLogSoftmaxWithLoss", "CTCLoss", "LazyLinear", "LocalResponseNorm", "MultiLabelMarginLoss",
    "TripletMarginWithDistanceLoss",
    # lazy layers (input size from the first call), buffers by assignment
    "Buffer", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d", "LazyConv2d", "LazyConv3d",
    "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
    "LazyInstanceNorm3d", "UninitializedBuffer", "UninitializedParameter",
    # power-average and fractional pooling, the recurrent layers' bases
    "FractionalMaxPool2d", "FractionalMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d", "RNNBase", "RNNCellBase",
    # older PyTorch names and torch.nn.grad (a convolution's gradients as functions)
    "NLLLoss2d", "grad",
    # the multi-GPU wrapper, which runs the model as it is on a CPU
    "DataParallel",
]
