"""Differential tests of the cumulative and difference ops against PyTorch 2.13 (helper round 57).

The fuzzer behind these drew 0-d to 3-D tensors (size-0 dims, negative dims) in float32/float64/int64/bool, with
zeros (one or several per row), ties, negatives, ±inf and NaN, and compared values, result dtypes (``dtype=``),
gradients (against PyTorch and float64 finite differences) and second-order gradients of cumsum, cumprod,
cummax/cummin, logcumsumexp and the in-place cumsum_/cumprod_, and diff (n > 1, n past the dim, prepend/append of
other dtypes, bool xor), gradient (spacing as a number, a list, coordinate tensors; edge_order 1 and 2; dim as
int or list), trapezoid/cumulative_trapezoid, and a gg.compile step using them against eager. Round 42 covered
NaN/ties in cummax/cummin/logcumsumexp values; not redone here.

The defects it found: gg.gradient raised ValueError where PyTorch raises RuntimeError (too few samples for
edge_order, a bad edge_order, a spacing list of the wrong length, coordinates of the wrong shape), refused a 0-d
tensor as its spacing (PyTorch reads the number) and took a dim listed twice; a 0-d logcumsumexp at ±inf or NaN
had a NaN gradient (PyTorch's is 1); diff took a negative n and numbers/lists as prepend/append and named cat in
its shape errors; trapezoid over a dim with no samples promoted y's dtype, and x with dx raised RuntimeError
where PyTorch raises TypeError.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

INF, NAN = math.inf, math.nan


def _pair(torch, values, dtype="float64", requires_grad=False):
    array = np.asarray(values)
    return tuple(lib.tensor(array.tolist(), dtype=getattr(lib, dtype)).reshape(array.shape)
                 .requires_grad_(requires_grad) for lib in (torch, gg))


def _same(expected, found, label="", rtol=None):
    e = expected.detach().numpy()
    f = found.detach().numpy()
    assert e.shape == f.shape and e.dtype == f.dtype, (label, e, f)
    if e.dtype.kind == "f":
        tol = rtol or (2e-6 if e.dtype == np.float32 else 1e-12)
        np.testing.assert_allclose(f, e, rtol=tol, atol=tol, equal_nan=True, err_msg=label)
    else:
        np.testing.assert_array_equal(f, e, err_msg=label)


def _raises_alike(torch, call):
    """``call(lib)`` raises in both, the same class, and glassgrad's message is one line."""
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(gg)
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    assert "\n" not in str(ours.value)
    return ours.value


# --- the defects -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda L: L.gradient(L.ones(1, 3)),                                  # a dim of 1 sample, edge_order 1
    lambda L: L.gradient(L.ones(3, 2), edge_order=2),                    # 2 samples, edge_order 2
    lambda L: L.gradient(L.ones(0, 3), dim=0),                           # no samples
    lambda L: L.gradient(L.ones(5), edge_order=3),
    lambda L: L.gradient(L.ones(3, 4), spacing=[1.0, 2.0, 3.0]),
    lambda L: L.gradient(L.ones(3, 4), spacing=[L.arange(5.0)], dim=1),  # coordinates of the wrong length
    lambda L: L.gradient(L.ones(3, 4), spacing=[L.ones(2, 2)], dim=1),   # 2-D coordinates
    lambda L: L.gradient(L.ones(3, 4), dim=[0, -2]),                     # a dim twice
], ids=["one_sample", "two_samples_edge2", "no_samples", "edge_order_3", "spacing_length", "coordinates_length",
        "coordinates_2d", "dim_twice"])
def test_gradient_misuse_raises_pytorchs_runtime_error(torch, call):
    assert isinstance(_raises_alike(torch, call), RuntimeError)


def test_gradient_reads_a_0d_tensor_spacing_as_its_number(torch):
    t_y, g_y = _pair(torch, [0.0, 1.0, 4.0, 9.0, 16.0])
    for edge_order in (1, 2):
        _same(torch.gradient(t_y, spacing=torch.tensor(0.5), edge_order=edge_order)[0],
              gg.gradient(g_y, spacing=gg.tensor(0.5), edge_order=edge_order)[0])


@pytest.mark.parametrize("value", [-INF, INF, NAN, 2.0])
def test_logcumsumexp_of_a_0d_tensor_has_gradient_one(torch, value):
    t_x, g_x = _pair(torch, value, requires_grad=True)
    t_out, g_out = torch.logcumsumexp(t_x, 0), gg.logcumsumexp(g_x, -1)
    _same(t_out, g_out)
    t_out.backward()
    g_out.backward()
    _same(t_x.grad, g_x.grad)
    assert g_x.grad.item() == 1.0
    # a row of one such entry keeps PyTorch's NaN (e^(−∞ − (−∞)))
    t_row, g_row = _pair(torch, [-INF], requires_grad=True)
    torch.logcumsumexp(t_row, 0).sum().backward()
    gg.logcumsumexp(g_row, 0).sum().backward()
    _same(t_row.grad, g_row.grad)


@pytest.mark.parametrize("call", [
    lambda L: L.diff(L.ones(3), n=-1),
    lambda L: L.diff(L.ones(2, 3), dim=0, prepend=L.ones(1, 4)),
    lambda L: L.diff(L.ones(2, 3), dim=0, append=L.ones(4)),
    lambda L: L.diff(L.ones(3), prepend=L.tensor(1.0)),
    lambda L: L.diff(L.ones(3), n=0, prepend=L.ones(2, 2)),               # checked also where n = 0
    lambda L: L.diff(L.ones(2, 3), dim=0, prepend=L.ones(1, 0)),
], ids=["negative_n", "prepend_width", "append_dims", "prepend_0d", "n0_prepend_dims", "prepend_empty_width"])
def test_diff_refuses_like_pytorch(torch, call):
    error = _raises_alike(torch, call)
    assert isinstance(error, RuntimeError) and "diff" in str(error)


@pytest.mark.parametrize("extra", [1.0, [1.0]])
def test_diff_takes_only_tensors_to_prepend_and_append(torch, extra):
    _raises_alike(torch, lambda L: L.diff(L.ones(3), prepend=extra))
    error = _raises_alike(torch, lambda L: L.diff(L.ones(3), append=extra))
    assert isinstance(error, TypeError) and "append" in str(error)


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_trapezoid_over_no_samples_is_zeros_in_ys_dtype(torch, dtype):
    t_y, g_y = _pair(torch, np.zeros((2, 0)), dtype)
    _same(torch.trapezoid(t_y), gg.trapezoid(g_y))
    _same(torch.trapezoid(t_y, dx=0.5), gg.trapezoid(g_y, dx=0.5))
    t_x, g_x = _pair(torch, np.zeros(0), "float64")
    _same(torch.trapezoid(t_y, t_x), gg.trapezoid(g_y, g_x))
    _same(torch.cumulative_trapezoid(t_y, dx=0.5), gg.cumulative_trapezoid(g_y, dx=0.5))


def test_trapezoid_with_x_and_dx_raises_type_error(torch):
    error = _raises_alike(torch, lambda L: L.trapezoid(L.ones(3), L.ones(3), dx=2.0))
    assert "either x" in str(error)


# --- the fuzzer's core ---------------------------------------------------------------------------------------

POOL = [0.0, 0.0, 1.0, -2.0, 0.5, 3.0, -1.5, 2.0]


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(0, 3), max_size=3), data=st.data(),
       dtype=st.sampled_from(["float64", "float32", "int64", "bool"]))
def test_scans_and_diff_match_pytorch_in_values_and_gradients(torch, shape, data, dtype):
    """Values and dtypes of every scan (with ``dtype=``) and diff over drawn shapes, and for float64 the gradients
    of ``Σ w·out`` into x (zeros and ties drawn often: cumprod's and cummax's hard cases)."""
    size = int(np.prod(shape))
    values = np.array(data.draw(st.lists(st.sampled_from(POOL), min_size=size, max_size=size)),
                      dtype=float).reshape(shape)
    if dtype == "bool":
        values = values > 0.7
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    cast = data.draw(st.sampled_from([None, "float64", "int64"]))
    grads = dtype == "float64"
    ops = {
        "cumsum": lambda L, x: L.cumsum(x, dim, dtype=None if cast is None else getattr(L, cast)),
        "cumprod": lambda L, x: L.cumprod(x, dim, dtype=None if cast is None else getattr(L, cast)),
        "cummax": lambda L, x: L.cummax(x, dim),
        "cummin": lambda L, x: L.cummin(x, dim),
        "logcumsumexp": lambda L, x: L.logcumsumexp(x, dim),
        "diff": lambda L, x: L.diff(x, data_n, dim) if x.ndim else L.cumsum(x, 0),
    }
    data_n = data.draw(st.integers(0, 4))
    for name, op in ops.items():
        if name == "logcumsumexp" and dtype in ("int64", "bool"):
            continue
        if grads and cast == "int64" and name in ("cumsum", "cumprod"):
            continue
        t_x, g_x = _pair(torch, values, dtype, requires_grad=grads)
        t_out, g_out = op(torch, t_x), op(gg, g_x)
        if name in ("cummax", "cummin"):
            _same(t_out.indices, g_out.indices, name)
            t_out, g_out = t_out.values, g_out.values
        _same(t_out, g_out, name)
        if grads and t_out.dtype == torch.float64:
            t_w, g_w = _pair(torch, np.linspace(-1.0, 2.0, t_out.numel()).reshape(tuple(t_out.shape)))
            (t_out * t_w).sum().backward()
            (g_out * g_w).sum().backward()
            if t_x.grad is None:
                assert g_x.grad is None or not g_x.grad.numpy().any()
            else:
                _same(t_x.grad, g_x.grad, name + " grad")


# --- pinning: behaviour that already matched ----------------------------------------------------------------

def _finite_differences(f, x, eps=1e-6):
    slopes = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        slopes[i] = (f(up) - f(down)) / (2 * eps)
    return slopes


@pytest.mark.parametrize("row", [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0], [1.5, -2.0, 0.5, 0.0]])
def test_cumprod_gradient_at_zeros_matches_pytorch_and_finite_differences(torch, row):
    values = np.array([row, row[::-1]])
    weights = np.linspace(-1.0, 1.5, values.size).reshape(values.shape)
    t_x, g_x = _pair(torch, values, requires_grad=True)
    (torch.cumprod(t_x, 1) * torch.tensor(weights)).sum().backward()
    (gg.cumprod(g_x, 1) * gg.tensor(weights)).sum().backward()
    _same(t_x.grad, g_x.grad)
    numeric = _finite_differences(lambda a: float((np.cumprod(a, 1) * weights).sum()), values)
    np.testing.assert_allclose(g_x.grad.numpy(), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "logcumsumexp"])
def test_second_order_gradients_match_pytorch(torch, name):
    values = np.array([[0.5, 0.0, -1.2, 2.0], [1.5, -0.7, 0.0, 0.0]])
    weights = np.array([[1.0, -2.0, 0.5, 0.3], [0.2, 1.1, -0.4, 0.9]])
    results = []
    for lib in (torch, gg):
        x = lib.tensor(values, requires_grad=True)
        (slope,) = lib.autograd.grad((getattr(lib, name)(x, 1) * lib.tensor(weights)).sum(), x, create_graph=True)
        ((slope ** 2).sum() + (slope * x).sum()).backward()
        results.append(x.grad)
    _same(*results)


def test_cummax_cummin_ties_take_the_last_index_and_route_the_gradient_there(torch):
    values = np.array([[1.0, 3.0, 3.0, 2.0, 3.0], [-1.0, -1.0, -2.0, -2.0, 0.0]])
    weights = np.arange(10.0).reshape(2, 5)
    for name in ("cummax", "cummin"):
        t_x, g_x = _pair(torch, values, requires_grad=True)
        t_out, g_out = getattr(torch, name)(t_x, -1), getattr(gg, name)(g_x, -1)
        _same(t_out.indices, g_out.indices, name)
        (t_out.values * torch.tensor(weights)).sum().backward()
        (g_out.values * gg.tensor(weights)).sum().backward()
        _same(t_x.grad, g_x.grad, name)


@pytest.mark.parametrize("row", [[-INF, 1.0, -INF, 2.0], [1000.0, 1001.0, -1000.0], [-1000.0, -1000.0, -999.0],
                                 [1.0, INF, 2.0]])
def test_logcumsumexp_values_and_gradients_at_infinities_and_large_values(torch, row):
    weights = np.linspace(-0.5, 1.5, len(row))
    t_x, g_x = _pair(torch, row, requires_grad=True)
    t_out, g_out = torch.logcumsumexp(t_x, 0), gg.logcumsumexp(g_x, 0)
    _same(t_out, g_out)
    (t_out * torch.tensor(weights)).sum().backward()
    (g_out * gg.tensor(weights)).sum().backward()
    _same(t_x.grad, g_x.grad)


def test_diff_of_bools_is_xor_and_mixed_prepend_promotes(torch):
    t_x, g_x = _pair(torch, [True, False, False, True, True], "bool")
    for n in (1, 2, 3, 7):
        _same(torch.diff(t_x, n), gg.diff(g_x, n))
    t_p, g_p = _pair(torch, [3], "int64")
    _same(torch.diff(t_x, prepend=t_p), gg.diff(g_x, prepend=g_p))
    t_y, g_y = _pair(torch, [[1.0, 4.0], [2.0, 8.0]], "float32")
    t_a, g_a = _pair(torch, [[0.5, 0.25]], "float64")
    _same(torch.diff(t_y, 2, 0, prepend=t_a, append=t_a), gg.diff(g_y, 2, 0, prepend=g_a, append=g_a))


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_with_coordinates_numbers_and_dims(torch, edge_order, dtype):
    rng = np.random.default_rng(57)
    values = rng.normal(size=(4, 5, 3))
    coords = [np.cumsum(rng.uniform(0.2, 1.5, size=n)) for n in (4, 3)]
    t_y, g_y = _pair(torch, values, dtype)
    spacing = [_pair(torch, c, dtype) for c in coords]
    for t_out, g_out in zip(torch.gradient(t_y, spacing=[s[0] for s in spacing], dim=[0, -1], edge_order=edge_order),
                            gg.gradient(g_y, spacing=[s[1] for s in spacing], dim=[0, -1], edge_order=edge_order)):
        _same(t_out, g_out, rtol=1e-5 if dtype == "float32" else None)
    for options in ({"spacing": 0.5, "dim": 1}, {"spacing": [2.0, 0.5]}, {"spacing": (2.0, 0.5, 3.0)}, {}):
        options = {"spacing": [2.0, 0.5], "dim": [1, 2]} if options == {"spacing": [2.0, 0.5]} else options
        for t_out, g_out in zip(torch.gradient(t_y, edge_order=edge_order, **options),
                                gg.gradient(g_y, edge_order=edge_order, **options)):
            _same(t_out, g_out, rtol=1e-5 if dtype == "float32" else None)


def test_cumulative_trapezoid_ends_at_trapezoid(torch):
    rng = np.random.default_rng(5)
    values, points = rng.normal(size=(3, 6)), np.sort(rng.normal(size=6))
    t_y, g_y = _pair(torch, values)
    t_x, g_x = _pair(torch, points)
    for options in ({}, {"dx": 0.3}):
        _same(torch.cumulative_trapezoid(t_y, **options), gg.cumulative_trapezoid(g_y, **options))
        np.testing.assert_allclose(gg.cumulative_trapezoid(g_y, **options)[:, -1].numpy(),
                                   gg.trapezoid(g_y, **options).numpy(), rtol=1e-12)
    _same(torch.cumulative_trapezoid(t_y, t_x), gg.cumulative_trapezoid(g_y, g_x))
    _same(torch.trapezoid(t_y, t_x, dim=1), gg.trapezoid(g_y, g_x, dim=1))


@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
def test_in_place_scans_alias_and_carry_the_gradient(torch, name):
    values = np.array([[1.5, 0.0, -2.0], [0.5, 2.0, 0.0]])
    weights = np.array([[1.0, -1.0, 2.0], [0.5, 0.25, -3.0]])
    results = []
    for lib in (torch, gg):
        x = lib.tensor(values, requires_grad=True)
        y = x * 1
        out = getattr(y, name)(0)
        assert out is y
        (y * lib.tensor(weights)).sum().backward()
        results.append((y, x.grad))
    for expected, found in zip(*results):
        _same(expected, found, name)


def test_a_compiled_step_with_scans_matches_eager():
    rng = np.random.default_rng(11)
    start = rng.normal(size=(3, 4))
    inputs = [gg.tensor(rng.normal(size=(3, 4))) for _ in range(3)]
    mask = gg.tensor(rng.random((3, 4)) < 0.5)

    def run(compiled):
        w = gg.tensor(start, requires_grad=True)
        opt = gg.optim.SGD([w], lr=0.01)

        def step(x):
            opt.zero_grad()
            y = x * w
            loss = (y.cumsum(1).sum() + y.cumprod(1).pow(2).sum() * 0.1 + gg.logcumsumexp(y, 1).sum()
                    + gg.diff(y, n=2, dim=1, prepend=y[:, :1]).sum() + gg.cumulative_trapezoid(y, dim=1).sum()
                    + gg.gradient(y, dim=1, edge_order=2)[0].sum() + (y * mask.cumsum(1, dtype=gg.float64)).sum())
            loss.backward()
            opt.step()
            return loss

        call = gg.compile(step) if compiled else step
        return [call(x).item() for x in inputs], w.detach().numpy()

    (eager_losses, eager_w), (compiled_losses, compiled_w) = run(False), run(True)
    assert eager_losses == compiled_losses
    np.testing.assert_array_equal(eager_w, compiled_w)
