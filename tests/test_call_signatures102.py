"""Round 102: call signatures against PyTorch 2.13.

A positional argument must land in the parameter PyTorch puts it in: the census below compares the names and
order of the positional parameters of the constructors, functions and methods course code calls positionally
(where PyTorch's signature is introspectable), and the behavioural tests call the fixed ones positionally in
both libraries.
"""
import importlib
import inspect

import numpy as np
import pytest

import glassgrad as gg

FIRST = {"self", "input", "tensor", "x", "a", "t"}

LAYERS = ["Linear", "Bilinear", "LazyLinear", "Identity", "Flatten", "Unflatten", "Dropout", "Dropout2d",
          "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv2d",
          "LazyConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "InstanceNorm1d",
          "InstanceNorm2d", "LazyInstanceNorm2d", "LayerNorm", "GroupNorm", "RMSNorm", "LocalResponseNorm",
          "PReLU", "ReLU", "LeakyReLU", "ELU", "GELU", "Softplus", "Hardtanh", "Threshold", "Softmax", "LogSoftmax",
          "Embedding", "EmbeddingBag", "MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
          "TransformerEncoder", "TransformerDecoder", "Transformer", "RNNBase", "RNNCell", "LSTMCell", "GRUCell",
          "AdaptiveLogSoftmaxWithLoss", "MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Upsample",
          "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss", "BCEWithLogitsLoss", "HuberLoss",
          "SmoothL1Loss", "KLDivLoss", "TripletMarginLoss", "CosineSimilarity", "PairwiseDistance", "ZeroPad2d"]
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop",
              "ASGD", "LBFGS"]
SCHEDULERS = ["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts",
              "CyclicLR", "OneCycleLR", "ReduceLROnPlateau", "LambdaLR", "MultiplicativeLR", "LinearLR", "ConstantLR",
              "PolynomialLR", "SequentialLR", "ChainedScheduler"]
FUNCTIONAL = ["dropout", "dropout2d", "alpha_dropout", "elu", "celu", "selu", "leaky_relu", "hardtanh", "relu6",
              "threshold", "silu", "mish", "hardswish", "hardsigmoid", "rrelu", "softmax", "log_softmax", "softmin",
              "gumbel_softmax", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
              "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "normalize", "interpolate",
              "embedding", "layer_norm", "group_norm", "batch_norm", "instance_norm", "triplet_margin_loss",
              "cosine_embedding_loss", "margin_ranking_loss", "multi_head_attention_forward", "max_pool2d",
              "adaptive_max_pool2d", "fold", "unfold", "glu", "local_response_norm", "softsign", "tanhshrink"]
INIT = ["uniform_", "normal_", "constant_", "ones_", "zeros_", "xavier_uniform_", "xavier_normal_",
        "kaiming_uniform_", "kaiming_normal_", "trunc_normal_", "orthogonal_", "sparse_", "eye_", "dirac_",
        "calculate_gain"]
DATA = ["DataLoader", "TensorDataset", "Subset", "ConcatDataset", "RandomSampler", "SequentialSampler",
        "BatchSampler", "WeightedRandomSampler", "SubsetRandomSampler", "random_split"]
TOP = ["split", "norm", "tensordot", "cdist", "unique", "unique_consecutive", "block_diag", "meshgrid",
       "broadcast_shapes", "chain_matmul", "lu"]

CASES = ([("torch.nn", "glassgrad.nn", n, True) for n in LAYERS]
         + [("torch.optim", "glassgrad.optim", n, True) for n in OPTIMIZERS]
         + [("torch.optim.lr_scheduler", "glassgrad.optim.lr_scheduler", n, True) for n in SCHEDULERS]
         + [("torch.nn.functional", "glassgrad.nn.functional", n, False) for n in FUNCTIONAL]
         + [("torch.nn.init", "glassgrad.nn.init", n, False) for n in INIT]
         + [("torch.utils.data", "glassgrad.utils.data", n, n[0].isupper()) for n in DATA]
         + [("torch", "glassgrad", n, False) for n in TOP])


def positional(function, is_class: bool) -> tuple[list[str], bool]:
    """The names of the parameters a positional call fills, in order (``self`` dropped), and whether a
    ``*args`` takes the rest."""
    parameters = list(inspect.signature(function.__init__ if is_class else function).parameters.values())
    if is_class:
        parameters = parameters[1:]
    names, rest = [], False
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            rest = True
            break
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            if parameter.name != "out":  # tensordot's out: keyword-only here, a TypeError by position
                names.append("input" if not names and parameter.name in FIRST else parameter.name)
    return names, rest


@pytest.mark.parametrize("torch_module, gg_module, name, is_class", CASES,
                         ids=[f"{c[0].split('.')[-1]}.{c[2]}" for c in CASES])
def test_positional_parameters_are_pytorchs(torch, torch_module, gg_module, name, is_class):
    expected, expected_rest = positional(getattr(importlib.import_module(torch_module), name), is_class)
    got, got_rest = positional(getattr(importlib.import_module(gg_module), name), is_class)
    if expected_rest and not expected:
        return  # PyTorch's own constructor takes *args: the behavioural tests below call it
    compared = expected[:len(got)] if got_rest else expected
    assert got[:len(compared)] == compared, f"{gg_module}.{name}: positional {got} where PyTorch has {expected}"


LAYER_CALLS = [  # the positional arguments before PyTorch's device and dtype
    ("Linear", (3, 4, True)), ("Bilinear", (3, 2, 4, True)), ("Conv1d", (2, 3, 3, 1, 0, 1, 1, True, "zeros")),
    ("Conv2d", (2, 3, 3, 1, 1, 1, 1, False, "zeros")), ("ConvTranspose2d", (2, 3, 3, 1, 0, 0, 1, True, 1, "zeros")),
    ("BatchNorm1d", (4, 1e-5, 0.1, True, True)), ("InstanceNorm2d", (4, 1e-5, 0.1, True, False)),
    ("LayerNorm", ((4,), 1e-5, True, True)), ("GroupNorm", (2, 4, 1e-5, True)), ("RMSNorm", ((4,), None, True)),
    ("PReLU", (1, 0.25)), ("Embedding", (5, 3, None, None, 2.0, False, False, None, False)),
    ("EmbeddingBag", (5, 3, None, 2.0, False, "mean", False, None, False, None)),
    ("MultiheadAttention", (4, 2, 0.0, True, False, False, None, None, False)),
    ("TransformerEncoderLayer", (4, 2, 8, 0.0, "relu", 1e-5, False, False, True)),
    ("RNNCell", (3, 4, True, "tanh")), ("LSTMCell", (3, 4, True)), ("GRUCell", (3, 4, True)),
    ("LSTM", (3, 4, 1, True, False, 0.0, False, 0)), ("AdaptiveLogSoftmaxWithLoss", (8, 10, [4], 4.0, False)),
]


@pytest.mark.parametrize("name, before", LAYER_CALLS, ids=[c[0] for c in LAYER_CALLS])
def test_a_layer_takes_device_then_dtype_by_position(torch, name, before):
    reference = getattr(torch.nn, name)(*before, "cpu", torch.float64)
    layer = getattr(gg.nn, name)(*before, "cpu", gg.float64)
    expected = {key: value.shape for key, value in reference.state_dict().items() if value.is_floating_point()}
    got = {key: value.shape for key, value in layer.state_dict().items() if value.dtype == gg.float64}
    assert expected and got == expected
    assert all(p.dtype == gg.float64 for p in layer.parameters())


def test_a_layers_seed_follows_pytorchs_positional_parameters():
    first = gg.nn.Linear(3, 4, True, "cpu", gg.float64, 7)
    second = gg.nn.Linear(3, 4, dtype=gg.float64, seed=7)
    np.testing.assert_array_equal(first.weight.numpy(), second.weight.numpy())


def test_copy_takes_pytorchs_keyword(torch):
    """PyTorch's ``copy_`` takes its source by the keyword ``other`` (its docs say ``src``, which it refuses)."""
    source = np.arange(6.0).reshape(2, 3)
    expected = torch.zeros(2, 3, dtype=torch.float64).copy_(other=torch.tensor(source))
    got = gg.zeros(2, 3, dtype=gg.float64).copy_(other=gg.tensor(source))
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.parametrize("name, args", [("leaky_relu", (0.2,)), ("elu", (0.5,)), ("hardtanh", (-0.2, 0.3)),
                                        ("threshold", (0.1, 20.0)), ("relu6", ()), ("silu", ())])
def test_inplace_by_position_is_shown_and_taken(torch, name, args):
    """F.*'s ``inplace`` is in the signature where PyTorch has it, and a positional True writes into the input."""
    data = np.linspace(-2.0, 8.0, 7)
    assert "inplace" in inspect.signature(getattr(gg.nn.functional, name)).parameters
    expected = torch.tensor(data)
    getattr(torch.nn.functional, name)(expected, *args, True)
    got = gg.tensor(data)
    assert getattr(gg.nn.functional, name)(got, *args, True) is got
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=0, atol=1e-12)


def test_top_level_rrelu_takes_pytorchs_generator_by_position(torch):
    """torch.rrelu(input, lower, upper, training, generator): a generator given fifth was F.rrelu's ``inplace``
    here, so the input was overwritten (PyTorch leaves it) and the draws ignored the generator."""
    data = -np.linspace(1.0, 3.0, 50)
    reference = torch.tensor(data)
    torch.rrelu(reference, 0.1, 0.3, True, torch.Generator().manual_seed(0))
    x = gg.tensor(data)
    first = gg.rrelu(x, 0.1, 0.3, True, gg.Generator().manual_seed(3))
    np.testing.assert_array_equal(x.numpy(), reference.numpy())  # neither input written
    second = gg.nn.functional.rrelu(x, 0.1, 0.3, True, generator=gg.Generator().manual_seed(3))
    np.testing.assert_array_equal(first.numpy(), second.numpy())
    slopes = first.numpy() / data
    assert ((slopes >= 0.1) & (slopes <= 0.3)).all()
    written = gg.rrelu_(gg.tensor(data), 0.1, 0.3, True, gg.Generator().manual_seed(3))
    np.testing.assert_array_equal(written.numpy(), first.numpy())


def test_top_level_norm_takes_out_fifth_and_dtype_sixth(torch):
    """torch.norm(input, p, dim, keepdim, out, dtype): gg.norm was x.norm's form, whose fifth is dtype, so an out
    tensor given by position was taken for a dtype and left unwritten."""
    data = np.arange(6.0).reshape(2, 3) - 2.5
    expected_out, got_out = torch.zeros(2, dtype=torch.float64), gg.zeros(2, dtype=gg.float64)
    expected = torch.norm(torch.tensor(data), 2, 1, False, expected_out)
    got = gg.norm(gg.tensor(data), 2, 1, False, got_out)
    np.testing.assert_allclose(got_out.numpy(), expected_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)
    widened = gg.norm(gg.tensor(data, dtype=gg.float32), "fro", None, False, None, gg.float64)
    reference = torch.norm(torch.tensor(data, dtype=torch.float32), "fro", None, False, None, torch.float64)
    assert widened.dtype == gg.float64
    np.testing.assert_allclose(widened.numpy(), reference.numpy(), rtol=1e-12)
