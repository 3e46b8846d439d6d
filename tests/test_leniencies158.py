"""Round 158: the leniencies round 154 left, against PyTorch 2.13 CPU.

1. Activations given a Python list or tuple, a NumPy array or number, or a Python number for their tensor: PyTorch's
   exception class for each spelling (its C++ functions, ``torch.relu``/``F.relu``/``F.hardtanh``: TypeError; its
   Python ones, ``F.sigmoid``/``F.tanh``/``F.softmax``/``F.softsign``/…: AttributeError, ``F.softmin`` of a list
   TypeError), in glassgrad's one line; tensors still compute, with PyTorch's numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

NON_TENSORS = {"list": [1.0, -2.0], "tuple": (1.0, -2.0), "array": np.array([1.0, -2.0]), "float": 1.5, "int": 1,
               "bool": True, "np.float64": np.float64(1.5), "np.int64": np.int64(2)}

# (spelling, how to call it on a module: lib is gg or torch)
SPELLINGS = {
    "F.relu": lambda lib, x: lib.nn.functional.relu(x),
    "F.relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "F.hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x),
    "F.softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "F.tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "F.glu": lambda lib, x: lib.nn.functional.glu(x),
    "F.sigmoid": lambda lib, x: lib.nn.functional.sigmoid(x),
    "F.tanh": lambda lib, x: lib.nn.functional.tanh(x),
    "F.softmax": lambda lib, x: lib.nn.functional.softmax(x, 0),
    "F.softmax(no dim)": lambda lib, x: lib.nn.functional.softmax(x),
    "F.log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, 0),
    "F.softmin": lambda lib, x: lib.nn.functional.softmin(x, 0),
    "F.softmax(dtype)": lambda lib, x: lib.nn.functional.softmax(x, 0, dtype=lib.float64),
    "F.threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.0, 0.0),
    "F.prelu": lambda lib, x: lib.nn.functional.prelu(x, lib.tensor([0.25])),
    "gg.relu": lambda lib, x: lib.relu(x),
    "gg.sigmoid": lambda lib, x: lib.sigmoid(x),
    "gg.tanh": lambda lib, x: lib.tanh(x),
    "gg.softmax": lambda lib, x: lib.softmax(x, 0),
    "gg.log_softmax": lambda lib, x: lib.log_softmax(x, 0),
    "nn.ReLU": lambda lib, x: lib.nn.ReLU()(x),
    "nn.ReLU6": lambda lib, x: lib.nn.ReLU6()(x),
    "nn.Hardtanh": lambda lib, x: lib.nn.Hardtanh()(x),
    "nn.Softsign": lambda lib, x: lib.nn.Softsign()(x),
    "nn.Tanhshrink": lambda lib, x: lib.nn.Tanhshrink()(x),
    "nn.GLU": lambda lib, x: lib.nn.GLU()(x),
    "nn.Sigmoid": lambda lib, x: lib.nn.Sigmoid()(x),
    "nn.Tanh": lambda lib, x: lib.nn.Tanh()(x),
    "nn.Softmax": lambda lib, x: lib.nn.Softmax(0)(x),
    "nn.LogSoftmax": lambda lib, x: lib.nn.LogSoftmax(0)(x),
    "nn.Softmin": lambda lib, x: lib.nn.Softmin(0)(x),
    "nn.Softmax2d": lambda lib, x: lib.nn.Softmax2d()(x),
    "nn.Threshold": lambda lib, x: lib.nn.Threshold(0.0, 0.0)(x),
}


def _outcome(call, lib, value):
    try:
        call(lib, value)
    except Exception as error:  # the class is what is compared
        return type(error)
    return None


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("kind", sorted(NON_TENSORS))
def test_a_non_tensor_gets_pytorchs_class_in_one_line(torch, spelling, kind):
    call, value = SPELLINGS[spelling], NON_TENSORS[kind]
    expected = _outcome(call, torch, value)
    assert expected is not None, "PyTorch refuses every one of these"
    with pytest.raises(expected) as caught:
        call(gg, value)
    message = str(caught.value)
    assert "\n" not in message and "must be Tensor" in message and "gg.tensor(" in message, message


def test_torch_tanh_and_f_tanh_differ_as_in_pytorch(torch):
    """``torch.tanh([1.])`` is TypeError (C++), ``F.tanh([1.])`` AttributeError (``input.tanh()``): two functions."""
    for name in ("tanh", "sigmoid"):
        with pytest.raises(TypeError):
            getattr(torch, name)([1.0])
        with pytest.raises(AttributeError):
            getattr(torch.nn.functional, name)([1.0])
        with pytest.raises(TypeError, match=rf"{name}\(\): argument 'input' \(position 1\) must be Tensor, not list"):
            getattr(gg, name)([1.0])
        with pytest.raises(AttributeError, match=rf"{name}\(\): argument 'input' .* not numpy.ndarray"):
            getattr(F, name)(np.array([1.0]))


ELEMENTWISE = {
    "relu": lambda lib, x: lib.nn.functional.relu(x), "relu6": lambda lib, x: lib.nn.functional.relu6(x),
    "hardtanh": lambda lib, x: lib.nn.functional.hardtanh(x, -0.5, 0.7),
    "softsign": lambda lib, x: lib.nn.functional.softsign(x),
    "tanhshrink": lambda lib, x: lib.nn.functional.tanhshrink(x),
    "F.sigmoid": lambda lib, x: lib.nn.functional.sigmoid(x), "F.tanh": lambda lib, x: lib.nn.functional.tanh(x),
    "torch.sigmoid": lambda lib, x: lib.sigmoid(x), "torch.tanh": lambda lib, x: lib.tanh(x),
    "torch.relu": lambda lib, x: lib.relu(x),
    "softmax": lambda lib, x: lib.nn.functional.softmax(x, -1),
    "log_softmax": lambda lib, x: lib.nn.functional.log_softmax(x, -1),
    "softmin": lambda lib, x: lib.nn.functional.softmin(x, -1),
    "glu": lambda lib, x: lib.nn.functional.glu(lib.cat([x, x * 0.5], -1), -1),
    "threshold": lambda lib, x: lib.nn.functional.threshold(x, 0.1, -3.0),
    "Softmax2d": lambda lib, x: lib.nn.Softmax2d()(x.reshape(1, -1, 1, 1)),
}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-30, 30, allow_nan=False), min_size=1, max_size=6),
       st.sampled_from(sorted(ELEMENTWISE)), st.booleans())
def test_tensors_still_compute_with_pytorchs_numbers_and_gradients(torch, values, name, parameter):
    """The refusal is on the non-tensor path only: a tensor (or a Parameter) gives PyTorch's values and gradients."""
    call = ELEMENTWISE[name]
    x = gg.nn.Parameter(gg.tensor(values, dtype=gg.float64)) if parameter else \
        gg.tensor(values, dtype=gg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    out, expected = call(gg, x), call(torch, t)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-9, atol=1e-12)
    weights = np.linspace(-1.0, 2.0, expected.numel()).reshape(expected.shape)
    (out * gg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_the_lenient_forms_still_read_a_list():
    """Only the activations refuse: ``gg.exp([0.0])`` and ``gg.sub(1, t)`` still read their arguments (glassgrad's
    leniency, unchanged)."""
    assert gg.exp([0.0]).tolist() == [1.0]
    assert gg.sub(1, gg.tensor([0.25])).tolist() == [0.75]


# 2. Layers built with a bool setting: PyTorch's constructors keep it unchecked; its call refuses it (TypeError)
#    where its function does, and unpooling computes with it (Python's _pair reads True as 1).

BOOL_LAYERS = {
    "MaxPool2d(True)": lambda nn: nn.MaxPool2d(True), "MaxPool2d(2, True)": lambda nn: nn.MaxPool2d(2, True),
    "MaxPool2d(2, 2, True)": lambda nn: nn.MaxPool2d(2, 2, True),
    "MaxPool2d((True, 2))": lambda nn: nn.MaxPool2d((True, 2)),
    "AvgPool2d(2, padding=(True, 2))": lambda nn: nn.AvgPool2d(2, padding=(True, 2)),
    "MaxPool2d(2, (True, 0))": lambda nn: nn.MaxPool2d(2, (True, 0)),
    "MaxPool2d(False)": lambda nn: nn.MaxPool2d(False),
    "LPPool2d(2, (False, 2))": lambda nn: nn.LPPool2d(2, (False, 2)),
    "MaxPool1d(True)": lambda nn: nn.MaxPool1d(True), "MaxPool3d(True)": lambda nn: nn.MaxPool3d(True),
    "AvgPool2d(True)": lambda nn: nn.AvgPool2d(True), "AvgPool2d(2, True)": lambda nn: nn.AvgPool2d(2, True),
    "AvgPool1d(True)": lambda nn: nn.AvgPool1d(True), "AvgPool3d(True)": lambda nn: nn.AvgPool3d(True),
    "LPPool2d(2, True)": lambda nn: nn.LPPool2d(2, True), "LPPool1d(2, True)": lambda nn: nn.LPPool1d(2, True),
    "Flatten(True)": lambda nn: nn.Flatten(True), "Flatten(0, True)": lambda nn: nn.Flatten(0, True),
    "Unflatten(True, (2, 2))": lambda nn: nn.Unflatten(True, (2, 2)),
    "Softmax(True)": lambda nn: nn.Softmax(True), "LogSoftmax(True)": lambda nn: nn.LogSoftmax(True),
    "Softmin(True)": lambda nn: nn.Softmin(True), "PixelShuffle(True)": lambda nn: nn.PixelShuffle(True),
    "PixelUnshuffle(True)": lambda nn: nn.PixelUnshuffle(True),
    "ChannelShuffle(True)": lambda nn: nn.ChannelShuffle(True),
}


def _input_for(name, lib):
    dims = 3 if "3d" in name else 1 if "1d" in name else 2
    return lib.arange(2 * 4 * 4 ** dims, dtype=lib.float64).reshape(2, 4, *(4,) * dims)


@pytest.mark.parametrize("name", sorted(BOOL_LAYERS))
def test_a_layer_built_with_a_bool_is_refused_when_called_as_in_pytorch(torch, name):
    build = BOOL_LAYERS[name]
    expected_layer = build(torch.nn)  # PyTorch builds it
    with pytest.raises(TypeError):
        expected_layer(_input_for(name, torch))
    layer = build(gg.nn)
    with pytest.raises(TypeError) as caught:
        layer(_input_for(name, gg))
    message = str(caught.value)
    assert "\n" not in message and "must be" in message, message


UNPOOLS = {"kernel": ((True,), {}), "kernel, stride 1": ((True, 1), {}), "stride": ((1, True), {}),
           "padding": ((1, 1, False), {}), "all": ((True, True, False), {})}


@pytest.mark.parametrize("dims", [1, 2, 3])
@pytest.mark.parametrize("where", ["layer", "function"])
@pytest.mark.parametrize("given", sorted(UNPOOLS))
def test_unpooling_with_a_bool_as_pytorch(torch, dims, where, given):
    """``nn.MaxUnpool2d(True)`` and ``F.max_unpool2d(x, i, True)`` compute (a kernel and stride of 1: PyTorch's 1-d
    and 2-d kernels take the output size alone); PyTorch's 3-d kernel refuses a bool stride or padding (TypeError)
    when called, and builds the layer."""
    args, _ = UNPOOLS[given]
    results = []
    for lib in (torch, gg):
        x = _input_for(f"{dims}d", lib) * (-1.0) ** lib.arange(4 ** dims, dtype=lib.float64).reshape((4,) * dims)
        pooled, indices = getattr(lib.nn.functional, f"max_pool{dims}d")(x, 1, return_indices=True)
        try:
            if where == "layer":
                layer = getattr(lib.nn, f"MaxUnpool{dims}d")(*args)
                out = layer(pooled, indices)
            else:
                out = getattr(lib.nn.functional, f"max_unpool{dims}d")(pooled, indices, *args)
            results.append(out.numpy())
        except TypeError as error:
            results.append(type(error))
    if isinstance(results[0], np.ndarray):
        np.testing.assert_array_equal(results[1], results[0])
    else:
        assert results[1] is results[0]


def test_a_bool_kept_as_given_where_pytorch_keeps_it(torch):
    for build, attribute in ((lambda nn: nn.Flatten(True), "start_dim"), (lambda nn: nn.Softmax(True), "dim"),
                             (lambda nn: nn.PixelShuffle(True), "upscale_factor"),
                             (lambda nn: nn.MaxPool2d(True), "kernel_size"),
                             (lambda nn: nn.MaxUnpool2d(True), "kernel_size"),
                             (lambda nn: nn.MaxUnpool3d(2, True), "stride")):
        expected, got = getattr(build(torch.nn), attribute), getattr(build(gg.nn), attribute)
        assert repr(got) == repr(expected), (got, expected)  # True, not 1
        assert repr(build(gg.nn)) == repr(build(torch.nn))


def test_the_functions_still_refuse_a_bool_as_pytorch(torch):
    x = gg.ones(1, 4, 4, 4)
    for call in (lambda F: F.max_pool2d(x, True), lambda F: F.avg_pool2d(x, True), lambda F: F.softmax(x, True),
                 lambda F: F.pixel_shuffle(x, True), lambda F: F.lp_pool2d(x, 2, True)):
        with pytest.raises(TypeError):
            call(F)
