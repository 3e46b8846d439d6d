"""Round 145: empty inputs to pooling, interpolate and convolution, a dim named twice, and the function forms that
take one tuple, each against PyTorch 2.13 (the `torch` fixture of conftest.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _answer(lib, call):
    """``("ok", shape, values, grad shape)`` of ``call(lib)`` summed and differentiated, or the error's class."""
    try:
        x, y = call(lib)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return (type(error).__name__,)
    y.sum().backward()
    values = np.asarray(y.detach().tolist(), dtype=float)
    return "ok", tuple(y.shape), values, tuple(x.grad.shape)


def _same(torch, call):
    mine, theirs = _answer(gg, call), _answer(torch, call)
    assert mine[:2] == theirs[:2], (mine, theirs)
    if mine[0] == "ok":
        np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-12, equal_nan=True)
        assert mine[3] == theirs[3]


def _leaf(lib, shape):
    return lib.ones(shape, dtype=lib.float64, requires_grad=True)


def _functional(lib):
    return gg.nn.functional if lib is gg else lib.nn.functional


POOLS = ["max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool", "lp_pool"]


def _pool(lib, kind, dims, x, k):
    f = getattr(_functional(lib), f"{kind}{dims}d")
    return f(x, 2.0, k) if kind == "lp_pool" else f(x, k)


@settings(max_examples=120, deadline=None)
@given(kind=st.sampled_from(POOLS), dims=st.integers(1, 3), batched=st.booleans(),
       sizes=st.lists(st.integers(0, 3), min_size=5, max_size=5), k=st.integers(1, 2))
def test_pools_of_empty_dims_match_pytorch(torch, kind, dims, batched, sizes, k):
    # PyTorch refuses an empty channel or spatial dim (RuntimeError) where glassgrad answered an empty tensor; an
    # adaptive average pool to all 1s is each plane's mean (NaN), where glassgrad refused
    shape = tuple(sizes[: dims + (2 if batched else 1)])
    if kind == "lp_pool" and dims == 3:
        return  # PyTorch 2.13 has lp_pool3d but it reads the same kernels as avg_pool3d, checked here
    _same(torch, lambda lib: (x := _leaf(lib, shape), _pool(lib, kind, dims, x, k)))


@settings(max_examples=120, deadline=None)
@given(dims=st.integers(1, 3), sizes=st.lists(st.integers(0, 3), min_size=5, max_size=5),
       mode=st.sampled_from(["nearest", "linear", "nearest-exact", "area", "bicubic"]), by_size=st.booleans())
def test_interpolate_of_empty_dims_matches_pytorch(torch, dims, sizes, mode, by_size):
    # PyTorch: RuntimeError for an empty channel or spatial dim; glassgrad answered an empty tensor, or leaked
    # index_select's IndexError
    shape = tuple(sizes[: dims + 2])
    if mode == "linear":
        mode = ("linear", "bilinear", "trilinear")[dims - 1]
    if mode == "bicubic" and dims != 2:
        return
    kwargs = {"size": (3,) * dims} if by_size else {"scale_factor": 2}
    _same(torch, lambda lib: (x := _leaf(lib, shape), _functional(lib).interpolate(x, mode=mode, **kwargs)))


@settings(max_examples=80, deadline=None)
@given(dims=st.integers(1, 3), batch=st.integers(0, 2), channels=st.integers(1, 2),
       spatial=st.lists(st.integers(0, 3), min_size=3, max_size=3), kernel=st.integers(1, 2),
       transposed=st.booleans(), batched=st.booleans())
def test_convolutions_of_empty_dims_match_pytorch(torch, dims, batch, channels, spatial, kernel, transposed,
                                                  batched):
    # PyTorch refuses an empty spatial dim unless the batch is empty too; glassgrad answered (conv of a kernel of 1,
    # and every conv_transpose)
    shape = ((batch,) if batched else ()) + (channels,) + tuple(spatial[:dims])
    weight = (channels, 3) if transposed else (3, channels)
    name = f"conv_transpose{dims}d" if transposed else f"conv{dims}d"
    _same(torch, lambda lib: (x := _leaf(lib, shape), getattr(_functional(lib), name)(
        x, lib.ones(weight + (kernel,) * dims, dtype=lib.float64))))


@pytest.mark.parametrize("call", [
    lambda lib: lib.tensor(2.0).flip((0, -1)),
    lambda lib: lib.flip(lib.tensor(2.0), (0, 0)),
    lambda lib: lib.tensor(2.0).squeeze((0, -1)),
    lambda lib: lib.tensor(2.0).squeeze([0, 0]),
], ids=["flip", "gg.flip", "squeeze", "squeeze-list"])
def test_a_0d_tensor_s_dim_named_twice_is_refused_as_pytorch(torch, call):
    # PyTorch: RuntimeError ("dim 0 appears multiple times in the list of dims"); glassgrad returned a copy
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError, match="twice|more than once"):
        call(gg)


@settings(max_examples=60, deadline=None)
@given(ndim=st.integers(0, 3), dims=st.lists(st.integers(-3, 2), min_size=0, max_size=4),
       op=st.sampled_from(["flip", "squeeze", "sum", "mean", "amax", "std", "permute", "logsumexp"]))
def test_dims_tuples_with_repeats_match_pytorch(torch, ndim, dims, op):
    shape = (1, 2, 1)[:ndim]

    def call(lib):
        x = _leaf(lib, shape)
        return x, getattr(x, op)(tuple(dims))

    mine, theirs = _answer(gg, call), _answer(torch, call)
    assert mine[0] == theirs[0], (mine, theirs)
    if mine[0] == "ok":
        assert mine[1] == theirs[1]


@pytest.mark.parametrize("name, argument", [("reshape", 4), ("permute", 0), ("tile", 2), ("flip", 0)])
def test_function_forms_refuse_a_bare_int_as_pytorch(torch, name, argument):
    # torch.reshape(x, 4), torch.permute(x, 0), torch.tile(x, 2), torch.flip(x, 0): TypeError (a tuple is wanted);
    # glassgrad answered. The methods take the ints one by one in both libraries.
    with pytest.raises(TypeError):
        getattr(torch, name)(torch.ones(4), argument)
    with pytest.raises(TypeError, match=f"{name}: .* must be a tuple of ints, not int"):
        getattr(gg, name)(gg.ones(4), argument)
    assert getattr(gg.ones(4), name)(argument).shape == getattr(torch.ones(4), name)(argument).shape
    assert getattr(gg, name)(gg.ones(4), (argument,)).shape == getattr(torch, name)(torch.ones(4), (argument,)).shape
