"""Round 68: the activations of ``nn.functional`` and ``nn``, differential against PyTorch 2.13.

Values, first and second derivatives at the edge points (0, ±0, the kinks and thresholds, ±∞, values whose
exponential overflows) in float32 and float64; the in-place spellings (same tensor back, version bump, refusal on a
leaf that requires grad and on a tensor saved for backward); the layers' reprs; misuse in PyTorch's class.

A NaN input is compared on one-entry tensors only: PyTorch's gradient there depends on where the NaN sits (its
vector kernels give hardtanh/relu6/the shrinks slope 0 and elu/selu/celu/hardswish NaN, its scalar tail gives 1),
and glassgrad follows the scalar one. PyTorch's float32 ``gelu`` cancels below x ≈ −3 (gelu(−6) is −0.0 there,
−5.9e-9 here) and its float64 ``hardsigmoid`` slope is float32's 1/6: those are left out of the comparisons.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional

EDGES = [0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0, 20.0, -20.0, 21.0, 100.0, -100.0, 700.0,
         -700.0, 1e30, -1e30, float("inf"), -float("inf"), 0.25, 1e-8]

# (name, settings): every elementwise activation, with settings at and past their corners
ELEMENTWISE = [
    ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.01}), ("leaky_relu", {"negative_slope": -0.5}),
    ("leaky_relu", {"negative_slope": 2.0}), ("elu", {"alpha": 1.0}), ("elu", {"alpha": -1.5}), ("elu", {"alpha": 0.0}),
    ("selu", {}), ("celu", {"alpha": 2.5}), ("celu", {"alpha": -1.0}), ("gelu", {"approximate": "none"}),
    ("gelu", {"approximate": "tanh"}), ("silu", {}), ("mish", {}), ("hardswish", {}), ("hardsigmoid", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("hardtanh", {"min_val": 0.5, "max_val": 0.5}),
    ("hardshrink", {"lambd": 0.5}), ("hardshrink", {"lambd": -0.5}), ("softshrink", {"lambd": 0.5}),
    ("softshrink", {"lambd": 0.0}), ("tanhshrink", {}), ("softplus", {"beta": 1.0, "threshold": 20.0}),
    ("softplus", {"beta": 2.0, "threshold": 1.0}), ("softplus", {"beta": -1.0, "threshold": 20.0}),
    ("softsign", {}), ("sigmoid", {}), ("logsigmoid", {}), ("tanh", {}),
    ("threshold", {"threshold": 0.5, "value": -3.0}), ("rrelu", {"lower": 0.1, "upper": 0.3, "training": False}),
]


def _function(lib, name):
    functional = lib.nn.functional
    return getattr(functional, name) if hasattr(functional, name) else getattr(lib, name)


def _derivatives(lib, name, settings, values, dtype, create_graph=True):
    """Value, slope and (where the slope is in the graph) second derivative of ``name`` at ``values``."""
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    y = _function(lib, name)(x, **settings)
    (slope,) = lib.autograd.grad(y.sum(), x, create_graph=create_graph)
    second = None
    if create_graph and slope.requires_grad and name != "hardsigmoid":  # PyTorch: no double backward for it
        (second,) = lib.autograd.grad(slope.sum(), x, allow_unused=True)
    return tuple(None if t is None else t.detach().numpy().astype(np.float64) for t in (y, slope, second))


def _assert_close(ours, theirs, dtype, what):
    if ours is None or theirs is None:  # one side left a second derivative unused: that is 0
        ours, theirs = (np.zeros(1) if t is None else t for t in (ours, theirs))
    tol = 1e-12 if dtype == "float64" else 3e-6
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol * 1e-3, equal_nan=True, err_msg=what)


def _comparable(name, settings, dtype, values):
    """The points where PyTorch's own kernel is trusted (see the module docstring)."""
    values = np.asarray(values)
    if name == "gelu" and dtype == "float32":
        return values[(values > -2.5) & np.isfinite(values) & (np.abs(values) < 1e20)]
    if name in ("logsigmoid", "sigmoid") and dtype == "float32":  # float32 cancellation in PyTorch's second
        return values[np.abs(values) < 2.5]
    return values


@given(st.sampled_from(ELEMENTWISE), st.sampled_from(["float32", "float64"]),
       st.lists(st.one_of(st.sampled_from(EDGES), st.floats(-30, 30, width=32)), min_size=1, max_size=6))
def test_elementwise_activations_match_pytorch_values_slopes_and_second_derivatives(torch, case, dtype, values):
    """The fuzzer's core: drawn points (edges and plain numbers), value, slope and second derivative."""
    name, settings = case
    values = _comparable(name, settings, dtype, values)
    if not values.size:
        return
    theirs = _derivatives(torch, name, settings, values.tolist(), dtype)
    ours = _derivatives(gg, name, settings, values.tolist(), dtype)
    if name == "hardsigmoid" and dtype == "float64":  # PyTorch's slope is float32's 1/6 (module docstring)
        theirs = (theirs[0], ours[1], ours[2])
    for what, mine, oracle in zip(("value", "slope", "second derivative"), ours, theirs):
        if what == "second derivative" and name in ("gelu", "mish") and dtype == "float32":
            continue  # both lose digits to cancellation in float32, differently
        _assert_close(mine, oracle, dtype, f"{name}{settings} {dtype} {what} at {values.tolist()}")


@pytest.mark.parametrize("name, settings", [("elu", {"alpha": 1.0}), ("elu", {"alpha": 0.5}), ("elu", {"alpha": -1.5}),
                                            ("selu", {}), ("softplus", {"beta": 1.0, "threshold": 20.0}),
                                            ("softplus", {"beta": 2.0, "threshold": 1.0})])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_slope_at_nan_is_the_same_with_create_graph(torch, name, settings, dtype):
    """Defect: with create_graph=True ELU's slope at a NaN was α (SELU's λα), Softplus's σ(threshold): the plain
    backward and PyTorch (one entry: its scalar kernel) give ELU 1 and Softplus NaN."""
    theirs = _derivatives(torch, name, settings, [float("nan")], dtype, create_graph=False)[1]
    for create_graph in (False, True):
        ours = _derivatives(gg, name, settings, [float("nan")], dtype, create_graph=create_graph)[1]
        _assert_close(ours, theirs, dtype, f"{name} create_graph={create_graph}")


@pytest.mark.parametrize("dtype", ["int64", "uint8"])
@pytest.mark.parametrize("call", [lambda F, x: F.relu6(x), lambda F, x: F.hardtanh(x, 0, 2),
                                  lambda F, x: F.hardtanh(x, 1.5, 3.7), lambda F, x: F.relu6(x, inplace=True),
                                  lambda F, x: F.hardtanh_(x, 2, 4)])
def test_hardtanh_and_relu6_clip_an_integer_tensor_in_its_dtype(torch, dtype, call):
    """Defect: hardtanh and relu6 refused an integer tensor (TypeError); PyTorch clips it in its own dtype, its bounds
    truncated to ints."""
    values = [0, 1, 2, 3, 5, 9, 120]
    theirs = call(torch.nn.functional, torch.tensor(values, dtype=getattr(torch, dtype)))
    ours = call(F, gg.tensor(values, dtype=getattr(gg, dtype)))
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") and ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("call", [lambda F, x: F.hardtanh(x), lambda F, x: F.hardtanh(x, -200, 300)])
def test_hardtanh_refuses_bounds_an_integer_dtype_cannot_hold(torch, call):
    """The bounds PyTorch refuses for uint8 (negative) and int8 (out of range): its RuntimeError, one line."""
    for dtype in ("uint8", "int8"):
        try:
            call(torch.nn.functional, torch.tensor([1, 2], dtype=getattr(torch, dtype)))
        except RuntimeError:
            with pytest.raises(RuntimeError, match="^hardtanh: [^\n]*$"):
                call(F, gg.tensor([1, 2], dtype=getattr(gg, dtype)))


@pytest.mark.parametrize("name", ["softsign", "tanhshrink"])
def test_softsign_and_tanhshrink_of_an_integer_tensor_give_floats(torch, name):
    """Defect: both refused an integer tensor; PyTorch's give float32."""
    theirs = getattr(torch.nn.functional, name)(torch.tensor([-3, 0, 2, 5]))
    ours = getattr(F, name)(gg.tensor([-3, 0, 2, 5]))
    assert ours.dtype == gg.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.celu(lib.ones(3), 0.0),
    lambda lib: lib.nn.functional.gelu(lib.ones(3), approximate="erf"),
    lambda lib: lib.nn.functional.softshrink(lib.ones(3), -0.5),
    lambda lib: lib.nn.functional.softshrink(lib.ones(3), float("nan")),
    lambda lib: lib.nn.functional.prelu(lib.ones(5), lib.ones(5)),  # a 1-d input has one channel
])
def test_misuse_raises_pytorchs_class_in_one_line(torch, call):
    """Defect: celu(alpha=0) and gelu(approximate='erf') raised ValueError, softshrink with a negative or NaN lambd
    gave numbers; PyTorch raises RuntimeError for each."""
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="^[^\n]+$"):  # one line
        call(gg)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_an_integer_input_to_a_float_only_activation_is_pytorchs_not_implemented_error(torch, dtype):
    """Defect: glassgrad raised TypeError where PyTorch's float-only kernels raise NotImplementedError; hardtanh and
    relu6 of bools: RuntimeError, as PyTorch's."""
    for name in ["gelu", "silu", "elu", "selu", "celu", "softplus", "hardsigmoid", "hardswish", "mish", "logsigmoid",
                 "softshrink", "hardshrink", "glu", "rrelu", "hardtanh", "relu6"]:
        if name in ("hardtanh", "relu6") and dtype == "int64":
            continue
        with pytest.raises(Exception) as theirs:
            getattr(torch.nn.functional, name)(torch.ones(4, dtype=getattr(torch, dtype)))
        with pytest.raises(theirs.type, match=f"^(?:{name}|elu|hardtanh): [^\n]*$"):  # selu, relu6: their rows
            getattr(F, name)(gg.ones(4, dtype=getattr(gg, dtype)))


IN_PLACE = [lambda F, x: F.relu_(x), lambda F, x: F.elu_(x), lambda F, x: F.leaky_relu_(x, 0.2),
            lambda F, x: F.hardtanh_(x), lambda F, x: F.threshold_(x, 0.1, 2.0), lambda F, x: F.celu_(x),
            lambda F, x: F.rrelu_(x), lambda F, x: F.silu(x, inplace=True), lambda F, x: F.mish(x, inplace=True),
            lambda F, x: F.hardswish(x, inplace=True), lambda F, x: F.relu6(x, inplace=True),
            lambda F, x: _relu_layer(F, x)]


def _relu_layer(F, x):
    """``nn.ReLU(inplace=True)`` of the library whose ``nn.functional`` is ``F`` (PyTorch's only when it is installed:
    the tests that call it take the torch fixture)."""
    nn = gg.nn if F is gg.nn.functional else __import__("torch").nn
    return nn.ReLU(inplace=True)(x)


@pytest.mark.parametrize("index", range(len(IN_PLACE)))
def test_in_place_spellings_return_the_input_bump_its_version_and_refuse_as_pytorch(torch, index):
    call = torch_call = IN_PLACE[index]
    for lib, function, F_ in ((torch, torch_call, torch.nn.functional), (gg, call, F)):
        x = lib.tensor([-1.5, 0.0, 2.0], dtype=lib.float64)
        version = x._version
        assert function(F_, x) is x and x._version > version
    np.testing.assert_allclose(call(F, gg.tensor([-1.5, 0.0, 2.0], dtype=gg.float64)).numpy(),
                               torch_call(torch.nn.functional, torch.tensor([-1.5, 0.0, 2.0],
                                                                             dtype=torch.float64)).numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError):  # a leaf that requires grad
        call(F, gg.tensor([-1.0, 2.0], requires_grad=True))
    w = gg.tensor([-1.5, 0.5, 2.0], requires_grad=True)
    x = w * 1
    product = x * w  # saves x
    call(F, x)
    with pytest.raises(RuntimeError):
        product.sum().backward()


LAYERS = ["ReLU()", "ReLU(inplace=True)", "LeakyReLU(0.2, True)", "ELU(alpha=2.)", "SELU(True)", "CELU(0.5)",
          "GELU('tanh')", "SiLU(True)", "Mish()", "Hardswish()", "Hardsigmoid(True)", "Hardtanh(-2, 3, True)",
          "ReLU6(True)", "Hardshrink(0.3)", "Softshrink(1)", "Tanhshrink()", "Softplus(2, 10)", "Softsign()",
          "Sigmoid()", "LogSigmoid()", "Tanh()", "Threshold(0.1, 20, True)", "RReLU(0.1, 0.2, True)", "GLU(1)",
          "Softmax(dim=1)", "Softmin(1)", "LogSoftmax(-1)", "Softmax2d()", "Softmax()"]


def test_layer_reprs_are_pytorchs(torch):
    for layer in LAYERS:
        assert repr(eval(f"gg.nn.{layer}")) == repr(eval(f"torch.nn.{layer}")), layer


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_implicit_dim_warns_and_picks_pytorchs_dim(torch, name):
    for shape in [(6,), (2, 3), (2, 3, 4), (1, 2, 3, 4), ()]:
        values = np.arange(float(np.prod(shape))).reshape(shape) / 3
        with pytest.warns(UserWarning, match="Implicit dimension"):
            theirs = getattr(torch.nn.functional, name)(torch.tensor(values))
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ours = getattr(F, name)(gg.tensor(values))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, err_msg=str(shape))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("name", ["glu", "softmax", "log_softmax", "softmin"])
def test_glu_and_softmax_family_match_first_and_second_derivatives(torch, name, dim):
    rng = np.random.default_rng(dim + 7)
    values = rng.standard_normal((4, 2, 6)) * 3
    values[0, 0, 0] = 1e3  # exp overflows unless shifted
    shape = [4, 2, 6]
    if name == "glu":
        shape[dim] //= 2
    upstream = rng.standard_normal(shape)
    results = []
    for lib in (torch, gg):
        x = lib.tensor(values, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, dim=dim)
        (slope,) = lib.autograd.grad((y * lib.tensor(upstream)).sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((slope * slope).sum(), x)
        results.append([t.detach().numpy() for t in (y, slope, second)])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softmax_family_dtype_converts_first_and_the_gradient_comes_back_in_the_input_dtype(torch, name, dtype):
    results = []
    for lib in (torch, gg):
        x = lib.tensor([[1.0, 2.0, 3.0]], dtype=lib.float32, requires_grad=True)
        y = getattr(lib.nn.functional, name)(x, 1, dtype=getattr(lib, dtype))
        (y * lib.tensor([[1.0, -2.0, 0.5]], dtype=getattr(lib, dtype))).sum().backward()
        results.append((str(y.dtype).replace("torch.", ""), str(x.grad.dtype).replace("torch.", ""), x.grad.numpy()))
    assert results[0][:2] == results[1][:2]
    np.testing.assert_allclose(results[1][2], results[0][2], rtol=1e-6)


@pytest.mark.parametrize("shape, slopes", [((2, 3, 4), 3), ((2, 3, 4), 1), ((5,), 1), ((3, 5), 5), ((2, 3), 3),
                                           ((2, 3, 2, 2), 3)])
def test_prelu_matches_pytorch_on_channels_and_1d_inputs(torch, shape, slopes):
    """Values and both gradients (first and second) away from x = 0, where glassgrad's ∂²/∂x∂a is the derivative of
    its first, PyTorch's 0 (documented in ops._prelu_vjp)."""
    rng = np.random.default_rng(len(shape) * 10 + slopes)
    values = rng.standard_normal(shape)
    values[np.abs(values) < 1e-3] = 0.5
    weights = rng.standard_normal(slopes)
    results = []
    for lib in (torch, gg):
        x, w = lib.tensor(values, requires_grad=True), lib.tensor(weights, requires_grad=True)
        y = lib.nn.functional.prelu(x, w)
        grad_x, grad_w = lib.autograd.grad((y * y).sum(), (x, w), create_graph=True)
        second = lib.autograd.grad(grad_x.sum() + grad_w.sum(), (x, w))
        results.append([t.detach().numpy() for t in (y, grad_x, grad_w, *second)])
    for theirs, ours in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lower, upper", [(0.1, 0.3), (1 / 8, 1 / 3), (0.5, 0.5), (-0.2, 0.4)])
def test_rrelu_eval_is_pytorchs_and_training_draws_lie_in_the_bounds(torch, lower, upper):
    """Eval: the mean slope, as PyTorch's. Training: every drawn slope in [lower, upper] (always, not by chance), the
    gradient of each entry its own slope, a positive input unchanged, the same seed the same draws."""
    values = [-3.0, -1.0, 0.0, 2.0]
    np.testing.assert_allclose(F.rrelu(gg.tensor(values, dtype=gg.float64), lower, upper).numpy(),
                               torch.nn.functional.rrelu(torch.tensor(values, dtype=torch.float64), lower,
                                                         upper).numpy(), rtol=1e-15)
    x = gg.full((4000,), -1.0, dtype=gg.float64, requires_grad=True)
    gg.manual_seed(3)
    out = F.rrelu(x, lower, upper, training=True)
    slopes = -out.detach().numpy()
    assert slopes.min() >= lower and slopes.max() <= upper
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes, rtol=1e-15)
    gg.manual_seed(3)
    assert (-F.rrelu(x.detach(), lower, upper, training=True).numpy() == slopes).all()
    assert F.rrelu(gg.full((4,), 3.0), lower, upper, training=True).tolist() == [3.0] * 4


def test_softmax2d_and_dimless_softmax_of_a_scalar(torch):
    values = np.arange(48.0).reshape(2, 2, 3, 4) / 7
    for shape in ((2, 2, 3, 4), (2, 3, 4)):
        np.testing.assert_allclose(gg.nn.Softmax2d()(gg.tensor(values.reshape(-1)[:int(np.prod(shape))].reshape(shape)))
                                   .numpy(), torch.nn.Softmax2d()(torch.tensor(values.reshape(-1)[:int(np.prod(shape))]
                                                                                .reshape(shape))).numpy(), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert F.softmax(gg.tensor(2.0)).item() == torch.nn.functional.softmax(torch.tensor(2.0)).item() == 1.0
