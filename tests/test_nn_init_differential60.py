"""Round 60: gg.nn.init against torch.nn.init (PyTorch 2.13).

Drawn values differ between the libraries (other generators), so everything else is compared: what is returned,
dtype, in-place bookkeeping, deterministic fills, fans and gains, the laws of the draws (exact where they are
exact, else a KS test at a fixed seed), warnings, and the exception classes of misuse.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.nn import init

RANDOM_FILLS = {
    "uniform_": (), "normal_": (), "xavier_uniform_": (), "xavier_normal_": (), "kaiming_uniform_": (),
    "kaiming_normal_": (), "trunc_normal_": (), "orthogonal_": (), "sparse_": (0.5,),
}
FILLS = {**RANDOM_FILLS, "constant_": (0.25,), "ones_": (), "zeros_": (), "eye_": ()}


def _outcome(function, *arguments):
    """``('ok', result, warnings)`` or ``('err', exception class name, warnings)`` of ``function(*arguments)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = ("ok", function(*arguments))
        except Exception as error:  # noqa: BLE001 - the class is what is compared
            result = ("err", type(error).__name__)
    return (*result, [(w.category, str(w.message)) for w in caught])


# ---- defects found in round 60 (each fails on cd6ca7b) ----

@pytest.mark.parametrize("mean, std, a", [(0.0, 1.0, 0.5), (3.0, 0.1, -2.0), (0.0, 2.0, 0.0)])
def test_trunc_normal_with_equal_bounds_fills_that_bound_as_pytorch(torch, mean, std, a):
    """PyTorch fills every entry with ``a`` when ``a == b``; these raised ValueError 'a < b'."""
    theirs = torch.nn.init.trunc_normal_(torch.zeros(3, 4, dtype=torch.float64), mean, std, a, a)
    mine = gg.zeros(3, 4, dtype=gg.float64)
    assert init.trunc_normal_(mine, mean, std, a, a) is mine
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_trunc_normal_with_reversed_bounds_raises_pytorch_s_class(torch):
    """``a > b``: PyTorch's RuntimeError (was ValueError), the tensor left as it was."""
    with pytest.raises(RuntimeError):
        torch.nn.init.trunc_normal_(torch.zeros(3), 0.0, 1.0, 1.0, -1.0)
    mine = gg.full((3,), 7.0)
    with pytest.raises(RuntimeError, match="a <= b"):
        init.trunc_normal_(mine, 0.0, 1.0, 1.0, -1.0)
    assert (mine.numpy() == 7).all()


@pytest.mark.parametrize("mode", ["FAN_IN", "Fan_Out", "fan_OUT"])
@pytest.mark.parametrize("fill", ["kaiming_uniform_", "kaiming_normal_"])
def test_kaiming_reads_mode_in_any_case_as_pytorch(torch, mode, fill):
    """PyTorch lowercases ``mode``; these refused 'FAN_IN' with ValueError."""
    shape = (6, 3, 2, 2)
    assert init._calculate_correct_fan(gg.zeros(shape), mode) == torch.nn.init._calculate_correct_fan(
        torch.zeros(shape), mode)
    mine = gg.zeros(shape, dtype=gg.float64)
    assert getattr(init, fill)(mine, mode=mode, nonlinearity="relu", generator=gg.Generator().manual_seed(0)) is mine
    if fill == "kaiming_uniform_":
        fan = 12 if mode.lower() == "fan_in" else 24
        assert np.abs(mine.numpy()).max() <= math.sqrt(6 / fan)


def test_calculate_correct_fan_refuses_an_unknown_mode_as_pytorch(torch):
    with pytest.raises(ValueError):
        torch.nn.init._calculate_correct_fan(torch.zeros(2, 2), "fan")
    with pytest.raises(ValueError, match="Mode 'fan' not supported"):
        init._calculate_correct_fan(gg.zeros(2, 2), "fan")


def test_sparse_with_negative_std_raises_pytorch_s_runtime_error(torch):
    """Was NumPy's raw ``ValueError: scale < 0`` from inside the draw."""
    with pytest.raises(RuntimeError):
        torch.nn.init.sparse_(torch.zeros(4, 3), 0.5, std=-1.0)
    mine = gg.full((4, 3), 7.0)
    with pytest.raises(RuntimeError, match="std must be >= 0"):
        init.sparse_(mine, 0.5, std=-1.0)
    assert (mine.numpy() == 7).all()


@pytest.mark.parametrize("fill", ["xavier_uniform_", "xavier_normal_"])
def test_xavier_without_fans_is_pytorch_s_zero_division_with_a_message(torch, fill):
    """Shape (0, 0): PyTorch's bare 'float division by zero'; here the same class, naming the shape."""
    with pytest.raises(ZeroDivisionError):
        getattr(torch.nn.init, fill)(torch.zeros(0, 0))
    with pytest.raises(ZeroDivisionError, match=r"shape \(0, 0\): fan_in \+ fan_out is 0"):
        getattr(init, fill)(gg.zeros(0, 0))


# ---- pinning: behaviour that already matched ----

@pytest.mark.parametrize("name", sorted(FILLS))
def test_every_fill_returns_the_same_leaf_keeps_dtype_records_no_graph_and_bumps_version(torch, name):
    """float16/32/64 (orthogonal_: not float16, where PyTorch's QR has no Half kernel and glassgrad fills it)."""
    for dtype in ["float32", "float64"] if name == "orthogonal_" else ["float16", "float32", "float64"]:
        theirs = torch.zeros(4, 6, dtype=getattr(torch, dtype), requires_grad=True)
        mine = gg.zeros(4, 6, dtype=getattr(gg, dtype), requires_grad=True)
        their_version, my_version = theirs._version, mine._version
        assert getattr(torch.nn.init, name)(theirs, *FILLS[name]) is theirs
        assert getattr(init, name)(mine, *FILLS[name]) is mine
        assert str(mine.dtype) == str(theirs.dtype).removeprefix("torch.")
        assert mine.is_leaf and mine.requires_grad and mine.grad_fn is None and theirs.grad_fn is None
        assert (mine._version > my_version) == (theirs._version > their_version) is True


@pytest.mark.parametrize("name", sorted(RANDOM_FILLS))
def test_a_generator_repeats_the_draws(name):
    def fill(seed):
        return getattr(init, name)(gg.zeros(5, 7, dtype=gg.float64), *RANDOM_FILLS[name],
                                   generator=gg.Generator().manual_seed(seed)).numpy()
    np.testing.assert_array_equal(fill(3), fill(3))
    # Two different 35-entry continuous draws coincide with probability 0.
    assert not np.array_equal(fill(3), fill(4))


def test_dirac_matches_pytorch(torch):
    for shape, groups in [((4, 2, 3), 1), ((4, 2, 3), 2), ((6, 3, 3, 3), 3), ((2, 5, 2, 2, 2), 1),
                                           ((6, 2, 5, 4), 2), ((3, 1, 4), 1), ((0, 2, 3), 1)]:
        theirs = torch.nn.init.dirac_(torch.full(shape, 5.0), groups)
        np.testing.assert_array_equal(init.dirac_(gg.full(shape, 5.0), groups).numpy(), theirs.numpy())


def test_eye_matches_pytorch(torch):
    for shape in [(3, 5), (5, 3), (1, 1), (0, 3), (0, 0)]:
        theirs = torch.nn.init.eye_(torch.full(shape, 5.0))
        np.testing.assert_array_equal(init.eye_(gg.full(shape, 5.0)).numpy(), theirs.numpy())


def test_every_gain_matches_pytorch_value_and_type(torch):
    for nonlinearity, param in [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None), ("conv_transpose1d", None),
    ("conv_transpose2d", None), ("conv_transpose3d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 2), ("leaky_relu", np.float64(0.3)), ("selu", None),
    ("selu", 5), ("tanh", 3.0)]:
        theirs = torch.nn.init.calculate_gain(nonlinearity, param)
        mine = init.calculate_gain(nonlinearity, param)
        assert type(mine) is type(theirs) and mine == pytest.approx(theirs, rel=1e-15)


def test_invalid_gains_raise_value_error_as_pytorch(torch):
    for nonlinearity, param in [("swish", None), ("RELU", None), ("gelu", None),
                                                  ("leaky_relu", True), ("leaky_relu", "0.1"),
                                                  ("leaky_relu", np.float32(0.1))]:
        with pytest.raises(ValueError):
            torch.nn.init.calculate_gain(nonlinearity, param)
        with pytest.raises(ValueError):
            init.calculate_gain(nonlinearity, param)


def test_fans_match_pytorch(torch):
    for shape in [(3, 4), (3, 4, 5), (3, 4, 5, 2), (3, 4, 5, 2, 2), (3, 0, 5), (0, 4, 2),
                                   (2, 3, 0, 4), (0, 0)]:
        theirs = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
        mine = init._calculate_fan_in_and_fan_out(gg.zeros(shape))
        assert mine == theirs and all(type(f) is int for f in mine)


def test_fans_of_fewer_than_two_dims_raise_value_error(torch):
    for shape in [(3,), ()]:
        with pytest.raises(ValueError):
            torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
        with pytest.raises(ValueError, match="fewer than 2 dimensions"):
            init._calculate_fan_in_and_fan_out(gg.zeros(shape))


MISUSE = [
    ("xavier_uniform_", (3,), ()), ("xavier_normal_", (), ()), ("kaiming_uniform_", (4,), ()),
    ("kaiming_normal_", (2, 2), (0.0, "fan_middle")), ("kaiming_normal_", (2, 2), (0.0, "fan_in", "swish")),
    ("orthogonal_", (3,), ()), ("eye_", (3,), ()), ("eye_", (2, 2, 2), ()), ("dirac_", (3, 3), ()),
    ("dirac_", (2, 2, 1, 1, 1, 1), ()), ("dirac_", (3, 2, 3), (2,)), ("sparse_", (3, 3, 3), (0.5,)),
    ("sparse_", (3,), (0.5,)), ("normal_", (3,), (0.0, -1.0)), ("normal_", (3,), (0.0, float("nan"))),
    ("uniform_", (3,), (1.0, -1.0)), ("uniform_", (3,), (float("nan"), 1.0)),
    ("xavier_uniform_", (0, 0), ()), ("xavier_normal_", (0, 0), ()), ("orthogonal_", (0,), ()),
]


def test_misuse_raises_pytorch_s_class(torch):
    for name, shape, arguments in MISUSE:
        theirs = _outcome(getattr(torch.nn.init, name), torch.zeros(shape), *arguments)
        mine = _outcome(getattr(init, name), gg.zeros(shape), *arguments)
        assert theirs[0] == "err" and mine[:2] == theirs[:2]


def test_zero_element_tensors_warn_exactly_as_pytorch(torch):
    """Kaiming's fills warn "Initializing zero-element tensors is a no-op" (even of 1 dim); the others are silent."""
    for name, shape in [
    ("kaiming_uniform_", (0, 3)), ("kaiming_normal_", (3, 0, 2)), ("kaiming_uniform_", (0,)),
    ("uniform_", (0,)), ("normal_", (0, 2)), ("constant_", (0,)), ("xavier_uniform_", (0, 3)),
    ("orthogonal_", (0, 3)), ("trunc_normal_", (0, 4)), ("sparse_", (0, 3)),
    ("sparse_", (3, 0)), ("eye_", (0, 2)), ("dirac_", (0, 2, 3))]:
        arguments = (0.5,) if name == "sparse_" else (1.0,) if name == "constant_" else ()
        theirs = _outcome(getattr(torch.nn.init, name), torch.zeros(shape), *arguments)
        mine = _outcome(getattr(init, name), gg.zeros(shape), *arguments)
        assert mine[0] == theirs[0] == "ok" and tuple(mine[1].shape) == tuple(theirs[1].shape)
        assert mine[2] == theirs[2]


def test_old_names_warn_future_warning_and_fill_as_pytorch(torch):
    for old in ["uniform", "normal", "constant", "xavier_uniform", "xavier_normal",
                                 "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse", "eye", "dirac"]:
        arguments = {"constant": (0.5,), "sparse": (0.1,)}.get(old, ())
        shape = (3, 4, 3) if old == "dirac" else (3, 4)
        theirs = _outcome(getattr(torch.nn.init, old), torch.zeros(shape), *arguments)
        mine = _outcome(getattr(init, old), gg.zeros(shape), *arguments)
        assert [w[0] for w in mine[2]] == [w[0] for w in theirs[2]] == [FutureWarning]
        assert f"{old}_" in mine[2][0][1] and tuple(mine[1].shape) == tuple(theirs[1].shape)


@pytest.mark.parametrize("shape, gain", [((6, 3), 1.0), ((3, 6), 2.0), ((3, 2, 4), 0.5), ((5, 5), -1.0),
                                         ((4, 1, 2, 2), 1.0)])
def test_orthogonal_rows_or_columns_are_orthonormal_times_gain(shape, gain):
    flat = init.orthogonal_(gg.zeros(shape, dtype=gg.float64), gain=gain, seed=1).numpy().reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, gain**2 * np.eye(len(small)), atol=1e-12)


@pytest.mark.parametrize("rows, sparsity", [(10, 0.1), (10, 0.25), (7, 0.5), (5, 0.0), (5, 1.0), (9, 0.99)])
def test_sparse_zeros_exactly_ceil_sparsity_rows_of_each_column(torch, rows, sparsity):
    """Nonzero float64 normal draws are 0 with probability 0: each column holds exactly ⌈sparsity·rows⌉ zeros."""
    zeros = math.ceil(sparsity * rows)
    theirs = torch.nn.init.sparse_(torch.zeros(rows, 6, dtype=torch.float64), sparsity).numpy()
    mine = init.sparse_(gg.zeros(rows, 6, dtype=gg.float64), sparsity, seed=2).numpy()
    assert ((theirs == 0).sum(axis=0) == zeros).all() and ((mine == 0).sum(axis=0) == zeros).all()


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 1.0, 5.0, 6.0), (1.0, 0.5, -9.0, -8.0),
                                             (0.0, 0.02, -0.04, 0.04), (2.0, 3.0, 2.0, 2.5)])
def test_trunc_normal_follows_its_law_by_a_ks_test(mean, std, a, b):
    """4000 draws against SciPy's truncated normal: under the law the KS p-value is uniform, so the test fails by
    chance with probability 1e-10 (≤ 1e-9). Every draw lies in [a, b] exactly."""
    stats = pytest.importorskip("scipy.stats")
    values = init.trunc_normal_(gg.zeros(4000, dtype=gg.float64), mean, std, a, b, seed=7).numpy()
    assert values.min() >= a and values.max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(values, law.cdf).pvalue > 1e-10


@pytest.mark.parametrize("fill, law", [("uniform_", "uniform"), ("normal_", "norm"), ("kaiming_uniform_", "uniform"),
                                       ("xavier_normal_", "norm")])
def test_draws_follow_the_law_torch_s_parameters_give_by_a_ks_test(torch, fill, law):
    """The law's bound/std comes from torch's own fans and gains; KS p-value under the law is uniform, so the
    chance failure rate is 1e-10 (≤ 1e-9)."""
    stats = pytest.importorskip("scipy.stats")
    shape = (50, 20, 2)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    spread = {"uniform_": (-2.0, 3.0), "normal_": (1.5, 0.3),
              "kaiming_uniform_": (-math.sqrt(3 / fan_in) * torch.nn.init.calculate_gain("leaky_relu", 0.0),
                                   2 * math.sqrt(3 / fan_in) * torch.nn.init.calculate_gain("leaky_relu", 0.0)),
              "xavier_normal_": (0.0, math.sqrt(2 / (fan_in + fan_out)))}[fill]
    arguments = spread if fill in ("uniform_", "normal_") else ()
    if fill == "uniform_":
        arguments = (spread[0], spread[0] + spread[1])
    values = getattr(init, fill)(gg.zeros(shape, dtype=gg.float64), *arguments, seed=11).numpy().ravel()
    assert stats.kstest(values, getattr(stats, law)(*spread).cdf).pvalue > 1e-10


# ---- the fuzzer's core ----

@given(name=st.sampled_from(sorted({**FILLS, "dirac_": ()})), shape=st.lists(st.integers(0, 4), max_size=5),
       dtype=st.sampled_from(["float32", "float64"]))
def test_fills_agree_with_pytorch_on_outcome_shape_dtype_and_deterministic_values(torch, name, shape, dtype):
    """Any shape (0 to 5 dims, empty ones too): both raise the same class, or both fill the same tensor in place
    with the same dtype, the same warnings, equal values for deterministic fills and values within torch's
    bound for the uniform ones."""
    arguments = FILLS.get(name, ())
    theirs_t = torch.zeros(shape, dtype=getattr(torch, dtype))
    mine_t = gg.zeros(shape, dtype=getattr(gg, dtype))
    theirs = _outcome(getattr(torch.nn.init, name), theirs_t, *arguments)
    mine = _outcome(getattr(init, name), mine_t, *arguments)
    assert mine[0] == theirs[0] and (mine[0] == "ok" or mine[1] == theirs[1])
    assert [w[0] for w in mine[2]] == [w[0] for w in theirs[2]]
    if mine[0] == "err":
        return
    assert mine[1] is mine_t and str(mine_t.dtype) == dtype
    if name in ("constant_", "ones_", "zeros_", "eye_", "dirac_"):
        np.testing.assert_array_equal(mine_t.numpy(), theirs_t.numpy())
    if name in ("xavier_uniform_", "kaiming_uniform_") and mine_t.numel():
        fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(theirs_t)
        std = (math.sqrt(2 / (fan_in + fan_out)) if name == "xavier_uniform_"
               else torch.nn.init.calculate_gain("leaky_relu", 0.0) / math.sqrt(fan_in))
        assert np.abs(mine_t.numpy()).max() <= math.sqrt(3) * std * (1 + 1e-6)
