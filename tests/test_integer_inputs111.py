"""Integer and bool inputs to functions that want floats, against PyTorch 2.13 (round 111).

Where PyTorch computes (``l1_loss`` of int64 scores and float32 targets, ``poisson_nll_loss`` of int64 log-rates,
``conv2d`` of int64 input and weight, ``local_response_norm`` of int64), glassgrad gives its value and dtype; where
PyTorch raises, glassgrad raises PyTorch's class in one line naming the dtype and the fix (``.float()``); a write
into a tensor that PyTorch casts silently (1e6 into float16 is inf) gives no NumPy RuntimeWarning.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

INTEGERS = ["int64", "int32", "uint8", "bool"]


def _data(dtype: str, shape: tuple, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    low = 0 if dtype == "uint8" else -3
    return rng.integers(low, 4, shape).astype(dtype)


def _outcome(call):
    try:
        result = call()
    except Exception as error:  # the class and the message are compared
        return type(error), str(error)
    return str(result.dtype).replace("torch.", ""), np.asarray(result.detach().numpy(), dtype=np.float64)


def _same(torch, call, atol=1e-6, subclass=False):
    """``call(library, functional)`` gives PyTorch's dtype and value, or raises PyTorch's class in one line naming
    the fix (``subclass``: or a subclass of it, which ``except`` PyTorch's class catches too)."""
    theirs = _outcome(lambda: call(torch, torch.nn.functional))
    ours = _outcome(lambda: call(gg, gg.nn.functional))
    if isinstance(theirs[0], type):
        assert ours[0] is theirs[0] or (subclass and issubclass(ours[0], theirs[0])), (ours, theirs)
        assert "\n" not in ours[1] and ".float()" in ours[1]
    else:
        assert ours[0] == theirs[0], (ours, theirs)
        np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6, atol=atol)


# --- losses -------------------------------------------------------------------------------------------------------

PAIR_LOSSES = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss", "kl_div",
               "multilabel_soft_margin_loss", "binary_cross_entropy_with_logits"]


@pytest.mark.parametrize("loss", PAIR_LOSSES)
@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("target", ["float32", "float64", "same"])
def test_a_loss_of_integer_scores_computes_or_raises_as_pytorch(loss, dtype, target, torch):
    """mse_loss, l1_loss and smooth_l1_loss of int64 scores and float targets compute in the target's dtype, as
    PyTorch (glassgrad refused them with a TypeError); the rest raise PyTorch's class (glassgrad: TypeError)."""
    # left: huber_loss with a float target or a bool input raises NotImplementedError, a RuntimeError, where PyTorch
    # raises RuntimeError itself (its class there depends on the order of PyTorch's checks)
    left = loss == "huber_loss" and (target != "same" or dtype == "bool")
    target_dtype = dtype if target == "same" else target
    x, y = _data(dtype, (3, 4)), _data(target_dtype, (3, 4), 1)
    _same(torch, lambda lib, F: getattr(F, loss)(lib.tensor(x), lib.tensor(y)), subclass=left)


@settings(max_examples=30, deadline=None)
@given(loss=st.sampled_from(["l1_loss", "mse_loss", "smooth_l1_loss"]),
       dtype=st.sampled_from(["int64", "int32", "uint8"]), target=st.sampled_from(["float32", "float64"]),
       shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_integer_scores_and_float_targets_give_pytorchs_loss(loss, dtype, target, shape, reduction, seed, torch):
    x, y = _data(dtype, shape, seed), np.random.default_rng(seed + 1).normal(size=shape).astype(target)
    _same(torch, lambda lib, F: getattr(F, loss)(lib.tensor(x), lib.tensor(y), reduction=reduction), atol=1e-5)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("target", ["int64", "float32", "float64"])
@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_and_gaussian_nll_of_integer_input_compute_as_pytorch(dtype, target, log_input, torch):
    """PyTorch computes both with an integer input (float32, the default float dtype); glassgrad raised TypeError."""
    x, y = _data(dtype, (2, 5)) + (0 if log_input or dtype == "uint8" else 4), _data(target, (2, 5), 2)
    x = np.abs(x) if not log_input else x
    _same(torch, lambda lib, F: F.poisson_nll_loss(lib.tensor(x), lib.tensor(y), log_input=log_input, full=True))
    _same(torch, lambda lib, F: F.gaussian_nll_loss(lib.tensor(x), lib.tensor(y), lib.ones(2, 5) * 0.5))


@pytest.mark.parametrize("dtype", INTEGERS)
def test_class_losses_of_integer_scores_raise_pytorchs_class(dtype, torch):
    x, labels = _data(dtype, (3, 4)), np.array([0, 1, 2])
    _same(torch, lambda lib, F: F.cross_entropy(lib.tensor(x), lib.tensor(labels)))
    _same(torch, lambda lib, F: F.nll_loss(lib.tensor(x), lib.tensor(labels)))  # glassgrad computed it
    _same(torch, lambda lib, F: F.multi_margin_loss(lib.tensor(x), lib.tensor(labels)))
    _same(torch, lambda lib, F: F.multilabel_margin_loss(lib.tensor(x), lib.tensor(np.array([[0, 1, -1, 0]] * 3))))


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_hinge_embedding_loss_of_integer_input_raises_as_pytorch(dtype, torch):
    """PyTorch's RuntimeError; glassgrad computed it."""
    x, y = _data(dtype, (6,)), np.array([1, -1, 1, -1, 1, 1.0], np.float32)
    _same(torch, lambda lib, F: F.hinge_embedding_loss(lib.tensor(x), lib.tensor(y)))


# --- activations, normalization, pooling, dropout ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", INTEGERS)
def test_leaky_relu_of_integers_raises_rather_than_cutting_the_slope_to_zero(dtype, torch):
    """glassgrad computed ``leaky_relu`` in the integer dtype: −3·0.01 became 0 (PyTorch: NotImplementedError)."""
    x = _data(dtype, (2, 6))
    _same(torch, lambda lib, F: F.leaky_relu(lib.tensor(x)))
    _same(torch, lambda lib, F: lib.nn.LeakyReLU(0.2)(lib.tensor(x)))


@settings(max_examples=25, deadline=None)
@given(shape=st.tuples(st.integers(1, 2), st.integers(1, 6), st.integers(1, 4)), size=st.integers(1, 5),
       alpha=st.sampled_from([1e-4, 0.3, 2.0]), seed=st.integers(0, 2**16))
def test_local_response_norm_of_int64_is_pytorchs_integer_mean(shape, size, alpha, seed, torch):
    """PyTorch averages int64 squares as integers (⌊Σx²/size⌋); glassgrad's float mean differed by up to 1e-4."""
    x = np.random.default_rng(seed).integers(-30, 30, shape)
    _same(torch, lambda lib, F: F.local_response_norm(lib.tensor(x), size, alpha=alpha))


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool"])
def test_local_response_norm_of_other_integers_raises_as_pytorch(dtype, torch):
    x = _data(dtype, (1, 3, 4))
    _same(torch, lambda lib, F: F.local_response_norm(lib.tensor(x), 2))


@pytest.mark.parametrize("dtype", ["int32", "uint8", "bool"])
@pytest.mark.parametrize("pool", ["avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
                                  "adaptive_max_pool1d", "adaptive_max_pool2d", "lp_pool1d", "lp_pool2d"])
def test_pooling_of_integers_raises_pytorchs_not_implemented_error(pool, dtype, torch):
    if pool.startswith("lp") and dtype == "bool":  # PyTorch computes it (float32); glassgrad refuses it (README)
        with pytest.raises(NotImplementedError, match=r"\.float\(\)"):
            getattr(gg.nn.functional, pool)(gg.tensor(_data(dtype, (1, 2, 4, 4) if pool.endswith("2d") else (1, 2, 4))),
                                            2, 2)
        return
    x = _data(dtype, (1, 2, 4, 4) if pool.endswith("2d") else (1, 2, 4))
    _same(torch, lambda lib, F: getattr(F, pool)(lib.tensor(x), 2, 2) if pool.startswith("lp")
          else getattr(F, pool)(lib.tensor(x), 2))


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("dropout", ["dropout", "dropout1d", "dropout2d", "alpha_dropout", "feature_alpha_dropout"])
def test_training_dropout_of_integers_raises_pytorchs_runtime_error(dropout, dtype, torch):
    x = _data(dtype, (2, 3, 4))
    _same(torch, lambda lib, F: getattr(F, dropout)(lib.tensor(x), 0.5, True))


# --- convolutions --------------------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(dtype=st.sampled_from(["int64", "int32", "uint8"]), dims=st.sampled_from([1, 2, 3]),
       groups=st.sampled_from([1, 2]), stride=st.integers(1, 2), padding=st.integers(0, 1), bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_integer_convolution_is_pytorchs(dtype, dims, groups, stride, padding, bias, seed, torch):
    """PyTorch convolves integers in their dtype; glassgrad refused them ('must be the same floating type; convert
    the input with .to(gg.int64)', a fix that named the dtype it already had)."""
    rng = np.random.default_rng(seed)
    low = 0 if dtype == "uint8" else -4
    x = rng.integers(low, 5, (2, 2 * groups) + (5,) * dims).astype(dtype)
    w = rng.integers(low, 3, (2 * groups, 2) + (2,) * dims).astype(dtype)
    b = rng.integers(low, 3, (2 * groups,)).astype(dtype) if bias else None
    conv = f"conv{dims}d"
    _same(torch, lambda lib, F: getattr(F, conv)(lib.tensor(x), lib.tensor(w), None if b is None else lib.tensor(b),
                                                 stride=stride, padding=padding, groups=groups))


@pytest.mark.parametrize("dtype", INTEGERS)
@pytest.mark.parametrize("conv", ["conv1d", "conv_transpose1d"])
def test_integer_convolutions_pytorch_has_no_kernel_for_raise_its_class(conv, dtype, torch):
    x, w = _data(dtype, (1, 2, 5)), _data(dtype, (2, 2, 2), 1)
    _same(torch, lambda lib, F: getattr(F, conv)(lib.tensor(x), lib.tensor(w)))


def test_a_convolution_of_two_dtypes_names_the_fix():
    with pytest.raises(RuntimeError, match=r"^conv2d: input dtype int64 and weight dtype float32 must be the same; "
                                           r"convert the input with \.to\(gg\.float32\)$"):
        gg.nn.functional.conv2d(gg.ones(1, 1, 3, 3, dtype=gg.int64), gg.ones(1, 1, 2, 2))


# --- writes PyTorch casts silently ----------------------------------------------------------------------------------

WRITES = [
    "x = lib.zeros(3, dtype=lib.float16); x[0] = 1e6",
    "x = lib.zeros(3, dtype=lib.float16); x[0] = 65520.0",
    "x = lib.zeros(3, dtype=lib.float16); x[:2] = lib.tensor([1e6, -1e9])",
    "x = lib.zeros(3, dtype=lib.float16); x[x == 0] = 1e6",
    "x = lib.zeros(3, dtype=lib.float16, requires_grad=True).clone(); x[0:2] = lib.tensor(7e4)",
    "x = lib.zeros(3, dtype=lib.float16); x.copy_(lib.tensor([1e6, 2.0, -1e9]))",
    "x = lib.zeros(3); x[0] = lib.tensor(1e300, dtype=lib.float64)",
    "x = lib.zeros(3, dtype=lib.int64); x[0] = lib.tensor(float('nan'))",
    "x = lib.zeros(3, dtype=lib.int32); x[:2] = lib.tensor([float('inf'), 1.5])",
]


@pytest.mark.parametrize("write", WRITES)
def test_a_write_pytorch_casts_silently_gives_its_value_without_a_numpy_warning(write, torch):
    """``x[0] = 1e6`` into float16 is inf in PyTorch, without a word; glassgrad's NumPy said 'overflow encountered
    in cast' (an error under a learner's or pytest's ``-W error``)."""
    values = []
    for lib in (torch, gg):
        space = {"lib": lib}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(write, space)
        values.append(space["x"].detach().numpy().tolist())
    assert values[0] == values[1]
