"""PyTorch's Tensor methods and torch.* functions added by glassgrad.bitwise, composed_slices, composed_numbers,
tensor_aliases, windows and functional_names, against PyTorch 2.13 in float64: values, and gradients via
backward for the differentiable ones, on hypothesis-drawn shapes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.filterwarnings("ignore:torch\\..* is deprecated:UserWarning")  # the oracle's old names
seeds = st.integers(0, 2**16)


def _matrix(rng, rows, columns):
    """A well-conditioned matrix: singular values in [1, 2]."""
    left, _ = np.linalg.qr(rng.normal(size=(rows, rows)))
    right, _ = np.linalg.qr(rng.normal(size=(columns, columns)))
    middle = np.zeros((rows, columns))
    np.fill_diagonal(middle, np.sort(rng.uniform(1, 2, min(rows, columns)))[::-1])
    return left @ middle @ right


def _spd(rng, n):
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


# each case: (the inputs, drawn from rng and a size n ≥ 1; the call on the library's tensors)
CASES = {
    "logit": (lambda rng, n: [rng.uniform(0.05, 0.95, (n, 3))], lambda lib, x: lib.logit(x)),
    "logit_eps": (lambda rng, n: [rng.uniform(0.05, 0.95, (n, 3))], lambda lib, x: x.logit(0.25)),
    "sinc": (lambda rng, n: [np.where(rng.random((n, 2)) < 0.3, 0.0, rng.normal(size=(n, 2)))],
             lambda lib, x: lib.sinc(x)),
    "exp2": (lambda rng, n: [rng.normal(size=(n, 2))], lambda lib, x: x.exp2()),
    "erfc": (lambda rng, n: [rng.normal(size=(n,))], lambda lib, x: x.erfc()),
    "mvlgamma": (lambda rng, n: [rng.uniform(1.6, 4, (n,))], lambda lib, x: x.mvlgamma(x.shape[0] % 3 + 1)),
    "msort": (lambda rng, n: [rng.normal(size=(n, 3))], lambda lib, x: lib.msort(x)),
    "fliplr": (lambda rng, n: [rng.normal(size=(2, n, 2))], lambda lib, x: x.fliplr()),
    "flipud": (lambda rng, n: [rng.normal(size=(n, 3))], lambda lib, x: lib.flipud(x)),
    "diagflat": (lambda rng, n: [rng.normal(size=(n, 2))], lambda lib, x: x.diagflat(x.shape[0] % 5 - 2)),
    "trace": (lambda rng, n: [rng.normal(size=(n, 4))], lambda lib, x: x.trace()),
    # gg.trace(model) records a tape; given a tensor it is torch.trace (it returned a context manager)
    "trace_function": (lambda rng, n: [rng.normal(size=(n, 4))], lambda lib, x: lib.trace(x)),
    "reshape_as": (lambda rng, n: [rng.normal(size=(n, 6)), np.zeros((3, 2 * n))], lambda lib, x, y: x.reshape_as(y)),
    "broadcast_to": (lambda rng, n: [rng.normal(size=(n, 1))], lambda lib, x: lib.broadcast_to(x, (2, x.shape[0], 3))),
    "broadcast_to_method": (lambda rng, n: [rng.normal(size=(1, n))], lambda lib, x: x.broadcast_to((3, -1))),
    "select": (lambda rng, n: [rng.normal(size=(2, n, 3))], lambda lib, x: x.select(1, -1)),
    "select_function": (lambda rng, n: [rng.normal(size=(n, 3))], lambda lib, x: lib.select(x, 0, x.shape[0] // 2)),
    "sum_to_size": (lambda rng, n: [rng.normal(size=(2, n, 3))], lambda lib, x: x.sum_to_size(x.shape[1], 1)),
    "sum_to_size_all": (lambda rng, n: [rng.normal(size=(n, 3))], lambda lib, x: x.sum_to_size((1, 1))),
    "frexp": (lambda rng, n: [rng.normal(size=(n,)) * 10.0 ** rng.integers(-3, 4, n)], lambda lib, x: lib.frexp(x)),
    "absolute": (lambda rng, n: [rng.normal(size=(n,))], lambda lib, x: lib.absolute(x) + x.absolute()),
    "negative": (lambda rng, n: [rng.normal(size=(n,))], lambda lib, x: lib.negative(x) * x.negative()),
    "positive": (lambda rng, n: [rng.normal(size=(n,))], lambda lib, x: lib.positive(x) * x.positive()),
    "multiply": (lambda rng, n: [rng.normal(size=(n, 2)), rng.normal(size=(2,))],
                 lambda lib, x, y: lib.multiply(x, y) + x.multiply(y)),
    "subtract": (lambda rng, n: [rng.normal(size=(n, 2)), rng.normal(size=(n, 1))],
                 lambda lib, x, y: lib.subtract(x, y) * x.subtract(2.0)),
    "divide": (lambda rng, n: [rng.normal(size=(n,)), rng.uniform(0.5, 2, (n,))],
               lambda lib, x, y: lib.divide(x, y) + x.true_divide(y) + lib.true_divide(y, 3.0)),
    "hsplit": (lambda rng, n: [rng.normal(size=(2, 2 * n))], lambda lib, x: lib.hsplit(x, 2) + x.hsplit([1])),
    "vsplit": (lambda rng, n: [rng.normal(size=(n + 1, 3))], lambda lib, x: x.vsplit([1, x.shape[0] - 1])),
    "dsplit": (lambda rng, n: [rng.normal(size=(1, 2, 3 * n))], lambda lib, x: lib.dsplit(x, 3)),
    "split_with_sizes": (lambda rng, n: [rng.normal(size=(3, n + 2))],
                         lambda lib, x: x.split_with_sizes([2, x.shape[1] - 2], 1)),
    "inner": (lambda rng, n: [rng.normal(size=(2, n)), rng.normal(size=(3, 1, n))], lambda lib, x, y: lib.inner(x, y)),
    "inner_vectors": (lambda rng, n: [rng.normal(size=(n,)), rng.normal(size=(n,))], lambda lib, x, y: x.inner(y)),
    "inner_number": (lambda rng, n: [rng.normal(size=()), rng.normal(size=(n, 2))], lambda lib, x, y: lib.inner(x, y)),
    "dist": (lambda rng, n: [rng.normal(size=(n, 3)), rng.normal(size=(3,))],
             lambda lib, x, y: [lib.dist(x, y), x.dist(y, 1), x.dist(y, 3), lib.dist(x, y, float("inf"))]),
    "addr": (lambda rng, n: [rng.normal(size=(n, 2)), rng.normal(size=(n,)), rng.normal(size=(2,))],
             lambda lib, m, u, v: lib.addr(m, u, v, beta=0.5, alpha=-2) + m.addr(u, v)),
    "addbmm": (lambda rng, n: [rng.normal(size=(2, 3)), rng.normal(size=(n, 2, 4)), rng.normal(size=(n, 4, 3))],
               lambda lib, m, a, b: lib.addbmm(m, a, b, beta=2, alpha=0.5) + m.addbmm(a, b)),
    "select_scatter": (lambda rng, n: [rng.normal(size=(n, 3)), rng.normal(size=(n,))],
                       lambda lib, x, s: lib.select_scatter(x, s, 1, -2)),
    "slice_scatter": (lambda rng, n: [rng.normal(size=(2 * n, 3)), rng.normal(size=(n, 3))],
                      lambda lib, x, s: x.slice_scatter(s, 0, 1, None, 2)),
    "diagonal_scatter": (lambda rng, n: [rng.normal(size=(3, n + 1, 2)), rng.normal(size=(2, min(3, n + 1)))],
                         lambda lib, x, s: lib.diagonal_scatter(x, s, 0, 0, 1)),
    "diagonal_scatter_offset": (lambda rng, n: [rng.normal(size=(n, 4)), rng.normal(size=(min(n, 3),))],
                                lambda lib, x, s: x.diagonal_scatter(s, 1)),
    "concat": (lambda rng, n: [rng.normal(size=(n, 2)), rng.normal(size=(1, 2))],
               lambda lib, x, y: lib.concat([x, y]) * lib.concatenate((y, x), 0)),
    "pinverse": (lambda rng, n: [_matrix(rng, n + 1, 3)], lambda lib, a: lib.pinverse(a)),
    "matrix_power": (lambda rng, n: [_matrix(rng, n, n)], lambda lib, a: [a.matrix_power(3), lib.matrix_power(a, -2)]),
    "svd_values": (lambda rng, n: [_matrix(rng, n + 1, n)], lambda lib, a: a.svd()[1]),
    "svd_product": (lambda rng, n: [_matrix(rng, n, n + 2)],
                    lambda lib, a: (lambda u, s, v: u @ lib.diag(s) @ v.t())(*lib.svd(a))),
    "qr": (lambda rng, n: [_matrix(rng, n + 2, n)], lambda lib, a: list(a.qr())),
    "qr_complete_function": (lambda rng, n: [_matrix(rng, n, n)], lambda lib, a: lib.qr(a, some=False)[1]),
    "cholesky": (lambda rng, n: [_spd(rng, n)], lambda lib, a: [a.cholesky(), lib.cholesky(a, upper=True)]),
    "lu": (lambda rng, n: [_matrix(rng, n, n)], lambda lib, a: a.lu()[0]),
    "lu_solve": (lambda rng, n: [_matrix(rng, n, n), rng.normal(size=(n, 2))],
                 lambda lib, a, b: b.lu_solve(*lib.linalg.lu_factor(a)) + lib.lu_solve(b, *a.lu())),
    "angle": (lambda rng, n: [np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))],
              lambda lib, x: x.angle() + lib.angle(x)),
    "vdot": (lambda rng, n: [rng.normal(size=n), rng.normal(size=n)], lambda lib, x, y: lib.vdot(x, y) * x.vdot(y)),
    "rsub": (lambda rng, n: [rng.normal(size=(n, 2)), rng.normal(size=2)],
             lambda lib, x, y: lib.rsub(x, y, alpha=-3) + lib.rsub(y, 2.0)),
    "put": (lambda rng, n: [rng.normal(size=(n, 3)), rng.normal(size=4)],
            lambda lib, x, s: [x.put(lib.tensor([0, -1, 1, 0]), s, accumulate=True),
                               lib.put(x, lib.tensor([2, 1, 0, -2]), s)]),
    "adjoint": (lambda rng, n: [rng.normal(size=(2, n, 3))], lambda lib, x: lib.adjoint(x) + x.mH * x.adjoint()),
    "hardshrink_prelu": (lambda rng, n: [rng.normal(size=(2, n)), rng.uniform(0.1, 0.5, n)],
                         lambda lib, x, w: x.hardshrink(0.3) + x.prelu(w)),
    "where_method": (lambda rng, n: [rng.normal(size=(n, 2)), rng.normal(size=2)],
                     lambda lib, x, y: x.where(x.detach() > 0, y)),
    "chain_matmul": (lambda rng, n: [rng.normal(size=(2, n)), rng.normal(size=(n, 3)), rng.normal(size=(3, 2))],
                     lambda lib, a, b, c: lib.chain_matmul(a, b, c)),
    "real_conj": (lambda rng, n: [rng.normal(size=n)],
                  lambda lib, x: lib.real(x) * x.conj() + x.resolve_conj() * lib.resolve_neg(x) + x.real),
}
NOT_SYMMETRIC_INPUT = {"cholesky"}


def _outputs(result):
    if isinstance(result, (tuple, list)):
        return [part for part in result if part.is_floating_point()]
    return [result]


@pytest.mark.torch
@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 4), seed=seeds)
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_and_gradients_match_pytorch(torch, name, n, seed):
    make, call = CASES[name]
    arrays = make(np.random.default_rng(seed), n)
    found = []
    for lib in (gg, torch):
        inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        with lib.no_grad():
            outputs = _outputs(call(lib, *inputs))
        used = [x * 1.0 for x in inputs]
        if name in NOT_SYMMETRIC_INPUT:  # only the lower triangle is read: keep the gradient symmetric
            used = [(x + x.mT) / 2 for x in used]
        recorded = _outputs(call(lib, *used))
        rng = np.random.default_rng(seed + 1)
        total = sum((out * lib.tensor(rng.normal(size=tuple(out.shape)), dtype=lib.float64)).sum()
                    for out in recorded)
        total.backward()
        found.append(([out.detach().numpy() for out in outputs],
                      [np.zeros(x.shape) if x.grad is None else x.grad.numpy() for x in inputs]))
    (mine, my_grads), (theirs, their_grads) = found
    assert [m.shape for m in mine] == [t.shape for t in theirs]
    for ours, reference in zip(mine + my_grads, theirs + their_grads):
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-10)


@pytest.mark.torch
def test_frexp_exponents_and_special_values_match_pytorch(torch):
    values = [8.0, 0.3, 0.0, -5.0, 1e-30, -1e30, 0.5, 1.0, float("inf"), float("nan")]
    for dtype in ("float64", "float32"):
        mine = gg.frexp(gg.tensor(values, dtype=getattr(gg, dtype)))
        theirs = torch.frexp(torch.tensor(values, dtype=getattr(torch, dtype)))
        np.testing.assert_array_equal(mine[0].numpy(), theirs[0].numpy())
        np.testing.assert_array_equal(mine[1].numpy(), theirs[1].numpy())
        assert mine[1].dtype == np.int32


# --- no gradient: bits, integers, tests of each entry, plain answers -------------------------------

DTYPES = ["int64", "int32", "int16", "int8", "uint8", "bool"]


def _ints(draw_values, dtype):
    info = np.iinfo(dtype) if dtype != "bool" else None
    if info is None:
        return np.array([v % 2 == 1 for v in draw_values])
    return np.array([info.min + v % (int(info.max) - int(info.min) + 1) for v in draw_values]).astype(dtype)


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(a=st.lists(st.integers(0, 2**64), min_size=1, max_size=6), b=st.lists(st.integers(0, 2**64), min_size=1,
                                                                               max_size=6),
       number=st.integers(-5, 5))
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_logic_matches_pytorch(torch, name, dtype, a, b, number):
    size = min(len(a), len(b))
    left, right = _ints(a[:size], dtype), _ints(b[:size], dtype)
    operator = {"bitwise_and": "__and__", "bitwise_or": "__or__", "bitwise_xor": "__xor__"}[name]
    scalar = bool(number % 2) if dtype == "bool" else abs(number) if dtype == "uint8" else number
    found = []
    for lib in (gg, torch):
        x, y = lib.tensor(left), lib.tensor(right)
        results = [getattr(lib, name)(x, y), getattr(x, name)(y), getattr(x, operator)(y),
                   getattr(x, operator)(scalar), getattr(x, operator.replace("__", "__r", 1))(scalar)]
        found.append([(r.numpy().tolist(), str(r.dtype).replace("torch.", "")) for r in results])
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(a=st.lists(st.integers(0, 2**64), min_size=1, max_size=6))
@pytest.mark.parametrize("dtype", DTYPES)
def test_bitwise_not_matches_pytorch(torch, dtype, a):
    values = _ints(a, dtype)
    found = [[(~lib.tensor(values)).tolist(), lib.bitwise_not(lib.tensor(values)).tolist()] for lib in (gg, torch)]
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(a=st.lists(st.integers(0, 2**64), min_size=1, max_size=6), shifts=st.lists(st.integers(-3, 70), min_size=6,
                                                                                   max_size=6))
@pytest.mark.parametrize("dtype", DTYPES)
def test_shifts_match_pytorch_also_past_the_width(torch, dtype, a, shifts):
    values = _ints(a, dtype)
    by = np.array(shifts[:len(values)])
    by = np.abs(by) if dtype == "uint8" else by
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values)
        if dtype == "bool":  # bools shift only by a Python number (which makes them int64)
            with pytest.raises(NotImplementedError):
                x << lib.tensor(by % 2 == 1)
            results = [x << 3, x >> 1, lib.bitwise_left_shift(x, 2)]
        else:
            s = lib.tensor(by.astype(values.dtype))
            results = [x << s, x >> s, lib.bitwise_left_shift(x, s), x.bitwise_right_shift(s), x << 3, x >> 1]
        found.append([(r.numpy().tolist(), str(r.dtype).replace("torch.", "")) for r in results])
    assert found[0] == found[1]


@pytest.mark.parametrize("call", [lambda x: ~x, lambda x: x & 1, lambda x: x.bitwise_or(x), lambda x: 1 ^ x,
                                  lambda x: x.bitwise_not()])
def test_bitwise_logic_refuses_floats_in_one_line_with_pytorchs_exception(torch, call):
    """``~x`` of a float tensor raises TypeError as PyTorch's operator does (glassgrad: RuntimeError), the functions
    PyTorch's NotImplementedError (no float kernel)."""
    with pytest.raises(Exception) as expected:
        call(torch.tensor([1.0, 2.0]))
    with pytest.raises(expected.type, match="bits of bool or integer tensors, got float32") as error:
        call(gg.tensor([1.0, 2.0]))
    assert type(error.value) is expected.type and "\n" not in str(error.value)


def test_shifts_refuse_floats_as_pytorch():
    with pytest.raises(NotImplementedError, match="bits of bool or integer tensors, got float32"):
        gg.tensor([1.0]) << 1


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(a=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=6),
       b=st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=6))
def test_gcd_and_lcm_match_pytorch(torch, a, b):
    size = min(len(a), len(b))
    found = [[lib.gcd(lib.tensor(a[:size]), lib.tensor(b[:size])).tolist(),
              lib.tensor(a[:size]).lcm(lib.tensor(b[:size])).tolist()] for lib in (gg, torch)]
    assert found[0] == found[1]
    with pytest.raises(RuntimeError, match="integer tensors"):
        gg.gcd(gg.tensor([1.0]), gg.tensor([2]))


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple), seed=seeds)
def test_tests_of_each_entry_and_argwhere_match_pytorch(torch, shape, seed):
    rng = np.random.default_rng(seed)
    values = rng.choice([np.inf, -np.inf, np.nan, 0.0, 1.5, -2.0], size=shape)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64)
        found.append([lib.isposinf(x).tolist(), x.isneginf().tolist(), lib.argwhere(x).tolist(),
                      x.argwhere().numpy().dtype.name])
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=seeds, inverse=st.booleans(),
       counts=st.booleans(), data=st.data())
def test_unique_consecutive_matches_pytorch(torch, shape, seed, inverse, counts, data):
    values = np.random.default_rng(seed).integers(0, 2, size=shape)
    dim = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    found = []
    for lib in (gg, torch):
        result = lib.unique_consecutive(lib.tensor(values), return_inverse=inverse, return_counts=counts, dim=dim)
        parts = result if isinstance(result, tuple) else (result,)
        found.append([part.tolist() for part in parts])
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), seed=seeds)
def test_incomplete_gamma_values_and_gradients_match_pytorch(torch, n, seed):
    rng = np.random.default_rng(seed)
    a, x, up = rng.uniform(0.1, 5, n), rng.uniform(0.1, 8, n), rng.normal(size=n)
    found = []
    for lib in (gg, torch):
        t = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        shape = lib.tensor(a, dtype=lib.float64)
        outputs = [lib.igamma(shape, t), shape.igammac(t * 2), lib.igamma(shape[:1], t)]
        sum((out * lib.tensor(up, dtype=lib.float64)).sum() for out in outputs).backward()
        found.append([out.detach().numpy() for out in outputs] + [t.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-14)


def test_incomplete_gamma_slope_at_zero_is_the_limit():
    """∂P(1, x)/∂x = e^(−x), 1 at x = 0 (PyTorch 2.13 gives NaN there: 0·ln 0); for s > 1 it is 0."""
    x = gg.tensor([0.0, 0.0], dtype=gg.float64, requires_grad=True)
    gg.igamma(gg.tensor([1.0, 2.0], dtype=gg.float64), x).sum().backward()
    assert x.grad.tolist() == [1.0, 0.0]
    report = gg.gradcheck(lambda t: gg.igammac(gg.tensor([0.7, 3.0], dtype=gg.float64), t),
                          (gg.tensor([0.5, 2.0], dtype=gg.float64, requires_grad=True),))
    assert report.ok, report.max_error


def test_incomplete_gamma_refuses_a_shape_that_requires_grad_in_one_line():
    with pytest.raises(NotImplementedError, match="igammac: glassgrad has no gradient with respect to input") as error:
        gg.igammac(gg.tensor([1.0], requires_grad=True), gg.tensor([2.0]))
    assert "\n" not in str(error.value)
    with gg.no_grad():
        assert gg.igammac(gg.tensor([1.0], requires_grad=True), gg.tensor([2.0])).item() == pytest.approx(np.exp(-2))


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(length=st.integers(0, 12), periodic=st.booleans(), beta=st.floats(0.5, 15), alpha=st.floats(0.3, 0.7))
def test_windows_match_pytorch(torch, length, periodic, beta, alpha):
    for name, extra in [("hann_window", ()), ("hamming_window", (alpha, 1 - alpha)), ("blackman_window", ()),
                        ("bartlett_window", ()), ("kaiser_window", (beta,))]:
        mine = getattr(gg, name)(length, periodic, *extra, dtype=gg.float64)
        theirs = getattr(torch, name)(length, periodic, *extra, dtype=torch.float64)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)
    assert gg.hann_window(5).dtype == gg.float32 and gg.hann_window(3, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="window_length must be a whole number"):
        gg.hann_window(-1)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int32", "int8", "uint8", "bool"])
def test_questions_about_a_tensor_match_pytorch(torch, dtype):
    found = []
    for lib in (gg, torch):
        x = lib.ones(2, 3, dtype=getattr(lib, dtype))
        found.append([x.is_floating_point(), lib.is_floating_point(x), x.is_complex(), lib.is_complex(x),
                      x.is_signed(), lib.is_signed(x), x.ndimension(), x[:1, :1].is_nonzero(),
                      lib.is_nonzero(lib.zeros(1, dtype=getattr(lib, dtype))), x.is_same_size(lib.ones(2, 3)),
                      lib.is_same_size(x, lib.ones(3, 2)), lib.fill(x, 1).tolist(),
                      str(lib.fill(x, 0).dtype).replace("torch.", "")])
    assert found[0] == found[1]


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(a=st.lists(st.integers(-5, 5), max_size=8), b=st.lists(st.integers(-5, 5), max_size=5), invert=st.booleans())
def test_isin_matches_pytorch(torch, a, b, invert):
    found = [lib.isin(lib.tensor(a, dtype=lib.int64), lib.tensor(b, dtype=lib.int64), invert=invert).tolist()
             + lib.isin(lib.tensor(a, dtype=lib.int64), 3).tolist() for lib in (gg, torch)]
    assert found[0] == found[1]


@pytest.mark.torch
def test_real_number_answers_and_conversions_match_pytorch(torch):
    found = []
    for lib in (gg, torch):
        x = lib.tensor([[1.5, -2.0]], dtype=lib.float64)
        found.append([lib.isreal(x).tolist(), x.is_conj(), lib.is_neg(x), x.get_device(), x.is_cpu,
                      x.is_inference(), lib.conj(x) is x, lib.resolve_conj(x) is x, x.real is x,
                      *(str(getattr(x, name)().dtype).replace("torch.", "") for name in ("byte", "char", "short")),
                      lib.detach(x).requires_grad])
    assert found[0] == found[1]


def test_the_multinomial_method_is_the_function():
    weights = gg.tensor([[0.1, 0.5, 0.4], [1.0, 0.0, 1.0]])
    mine = weights.multinomial(5, True, generator=np.random.default_rng(3))
    assert mine.tolist() == gg.multinomial(weights, 5, True, generator=np.random.default_rng(3)).tolist()
    assert mine.shape == (2, 5) and 1 not in mine[1].tolist()


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(shape=st.lists(st.integers(3, 5), min_size=1, max_size=3).map(tuple), seed=seeds, edge_order=st.integers(1, 2),
       kind=st.sampled_from(["default", "number", "per dim", "coordinates"]), data=st.data())
def test_gradient_matches_pytorch_with_gradients(torch, shape, seed, edge_order, kind, data):
    rng = np.random.default_rng(seed)
    values = rng.normal(size=shape)
    dims = data.draw(st.one_of(st.none(), st.integers(0, len(shape) - 1)))
    chosen = range(len(shape)) if dims is None else [dims]
    steps = {"number": 0.7, "per dim": [float(rng.uniform(0.5, 2)) for _ in chosen],
             "coordinates": [np.cumsum(rng.uniform(0.5, 1.5, shape[d])) for d in chosen]}.get(kind)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        spacing = ([lib.tensor(c, dtype=lib.float64) for c in steps] if kind == "coordinates" else steps)
        options = {"dim": dims, "edge_order": edge_order}
        if spacing is not None:
            options["spacing"] = spacing
        slopes = lib.gradient(x, **options)
        sum((slope * slope).sum() for slope in slopes).backward()
        found.append([slope.detach().numpy() for slope in slopes] + [x.grad.numpy()])
    assert len(found[0]) == len(found[1])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(rows=st.integers(2, 5), columns=st.integers(1, 5), batch=st.integers(0, 2), seed=seeds, left=st.booleans(),
       transpose=st.booleans())
def test_householder_qr_matches_pytorch(torch, rows, columns, batch, seed, left, transpose):
    rng = np.random.default_rng(seed)
    lead = (batch,) if batch else ()
    matrix = rng.normal(size=(*lead, rows, columns))
    other = rng.normal(size=(*lead, rows, 3) if left else (*lead, 3, rows))
    found = []
    for lib in (gg, torch):
        packed, tau = lib.geqrf(lib.tensor(matrix, dtype=lib.float64))
        a = packed.clone().requires_grad_(True)
        t = tau.clone().requires_grad_(True)
        c = lib.tensor(other, dtype=lib.float64, requires_grad=True)
        product = lib.ormqr(a, t, c, left, transpose)
        outputs = [product] + ([a.orgqr(t)] if rows >= columns else [])
        sum((out * out.detach().sin()).sum() for out in outputs).backward()
        found.append([packed.numpy(), tau.numpy()] + [out.detach().numpy() for out in outputs]
                     + [g.grad.numpy() for g in (a, t, c)])
    assert len(found[0]) == len(found[1])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(rows=st.integers(4, 8), columns=st.integers(3, 6), rank=st.integers(1, 3), batch=st.integers(0, 2),
       seed=seeds, center=st.booleans())
def test_low_rank_svd_and_pca_agree_with_pytorch_on_low_rank_matrices(torch, rows, columns, rank, batch, seed,
                                                                        center):
    """PyTorch's randomized algorithm is exact when the rank is at most q; the singular vectors are compared
    through the products they rebuild (each is defined up to sign)."""
    rng = np.random.default_rng(seed)
    lead = (batch,) if batch else ()
    matrix = rng.normal(size=(*lead, rows, rank)) @ (rng.normal(size=(*lead, rank, columns)) * 3)
    found = []
    for lib in (gg, torch):
        a = lib.tensor(matrix, dtype=lib.float64)
        results = [lib.svd_lowrank(a, q=rank), lib.pca_lowrank(a, q=rank, center=center), lib.svd_lowrank(a)]
        found.append([(S.numpy(), (U * S.unsqueeze(-2)) @ V.mT, tuple(U.shape), tuple(V.shape))
                      for U, S, V in results])
    for (s1, rebuilt1, u1, v1), (s2, rebuilt2, u2, v2) in zip(*found):
        assert (u1, v1) == (u2, v2)
        np.testing.assert_allclose(s1[..., :rank], s2[..., :rank], rtol=1e-8)
        np.testing.assert_allclose(rebuilt1.numpy(), rebuilt2.numpy(), atol=1e-8)


def test_geqrf_refuses_a_tensor_that_requires_grad_in_one_line():
    with pytest.raises(RuntimeError, match="geqrf: has no gradient") as error:
        gg.geqrf(gg.ones(3, 2, requires_grad=True))
    assert "\n" not in str(error.value)


# --- refusals, each in one line ----------------------------------------------------------------------

REFUSED = {
    "hsplit sections": (lambda: gg.ones(2, 3).hsplit(2), RuntimeError, "cannot split dim 1 of size 3 into 2"),
    "vsplit of a vector": (lambda: gg.vsplit(gg.ones(4), 2), RuntimeError, "at least 2 dims"),
    "select index": (lambda: gg.ones(2, 3).select(1, 3), IndexError, "index 3 is out of range"),
    "select_scatter shape": (lambda: gg.select_scatter(gg.ones(2, 3), gg.ones(2), 0, 0), RuntimeError,
                             "src has shape \\(2,\\)"),
    "diagonal_scatter dims": (lambda: gg.ones(3, 3).diagonal_scatter(gg.ones(3), 0, 1, 1), RuntimeError,
                              "must be different dims"),
    "sum_to_size": (lambda: gg.ones(4, 2).sum_to_size(3), RuntimeError, "not expandable"),
    "fliplr of a vector": (lambda: gg.ones(3).fliplr(), RuntimeError, "at least 2 dims"),
    "trace of a vector": (lambda: gg.ones(3).trace(), RuntimeError, "expects a matrix"),
    "inner sizes": (lambda: gg.inner(gg.ones(2), gg.ones(3)), RuntimeError, "last dims must match"),
    "addr dims": (lambda: gg.addr(gg.ones(2, 2), gg.ones(2, 1), gg.ones(2)), RuntimeError, "vec1 must be 1-D"),
    "frexp of integers": (lambda: gg.frexp(gg.tensor([1, 2])), RuntimeError, "expects a float tensor"),
    "positive of bools": (lambda: gg.tensor([True]).positive(), RuntimeError, "bool tensor has no sign"),
    "mvlgamma domain": (lambda: gg.tensor([1.0]).mvlgamma(4), RuntimeError, "greater than \\(p-1\\)/2"),
    "is_nonzero of many": (lambda: gg.ones(2).is_nonzero(), RuntimeError, "only a tensor with one element"),
    "removed lstsq": (lambda: gg.ones(2, 2).lstsq(gg.ones(2, 2)), RuntimeError, "gg.linalg.lstsq"),
    "removed solve": (lambda: gg.ones(2, 2).solve(gg.ones(2, 2)), RuntimeError, "removed from PyTorch"),
    "removed eig": (lambda: gg.ones(2, 2).eig(), RuntimeError, "gg.linalg.eigh"),
    "removed symeig": (lambda: gg.ones(2, 2).symeig(), RuntimeError, "gg.linalg.eigh"),
    "slice_scatter step": (lambda: gg.ones(4).slice_scatter(gg.ones(2), 0, 0, None, 0), RuntimeError,
                           "step must be positive"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_input_is_refused_in_one_line(case):
    call, error, message = REFUSED[case]
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


# --- nn.functional's top-level names -------------------------------------------------------------------

def test_top_level_names_are_the_functional_ones():
    from glassgrad.functional_names import SAME

    for name, function in SAME.items():
        assert getattr(gg, name) is function is getattr(gg.nn.functional, name)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(batch=st.integers(2, 4), channels=st.integers(1, 3), seed=seeds, training=st.booleans())
def test_reordered_top_level_forms_match_pytorch(torch, batch, channels, seed, training):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(batch, channels, 5)), rng.normal(size=channels), rng.normal(size=channels),
              rng.normal(size=channels), rng.uniform(0.5, 2, channels)]
    table, indices = rng.normal(size=(6, 3)), rng.integers(0, 6, size=(batch, 2))
    found = []
    for lib in (gg, torch):
        x, weight, bias = (lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays[:3])
        mean, var = (lib.tensor(a, dtype=lib.float64) for a in arrays[3:])
        rows = lib.tensor(table, dtype=lib.float64, requires_grad=True)
        outputs = [lib.batch_norm(x, weight, bias, mean, var, training, 0.1, 1e-5, False),
                   lib.instance_norm(x, weight, bias, mean.clone(), var.clone(), True, 0.1, 1e-5, False),
                   lib.embedding(rows, lib.tensor(indices), 2), lib.embedding(rows, lib.tensor(indices)),
                   lib.dropout(x, 0.5, False), lib.alpha_dropout(x, 0.3, False),
                   lib.feature_alpha_dropout(x, 0.3, False), lib.dropout(x, 0.0, True)]
        sum((out * out.detach().cos()).sum() for out in outputs).backward()
        found.append([out.detach().numpy() for out in outputs] + [t.grad.numpy() for t in (x, weight, bias, rows)]
                     + [mean.numpy(), var.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", ["bitwise", "composed_slices", "composed_numbers", "tensor_aliases", "tensor_in_place",
                                  "windows", "functional_names", "random_fills", "tensor_legacy", "tensor_memory"])
def test_the_module_examples_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"glassgrad.{name}"))
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(points=st.integers(0, 12), dims=st.integers(1, 3), seed=seeds, density=st.booleans(), weighted=st.booleans(),
       kind=st.sampled_from(["count", "counts", "edges", "range"]))
def test_histogramdd_matches_pytorch(torch, points, dims, seed, density, weighted, kind):
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(-2, 2, size=(points, dims)), 1)  # ties with the edges happen
    weights = rng.uniform(0.5, 2, size=points)
    cuts = [np.sort(rng.uniform(-2.5, 2.5, 4)) for _ in range(dims)]
    found = []
    for lib in (gg, torch):
        bins = {"count": 3, "range": 2, "counts": [d + 1 for d in range(dims)],
                "edges": [lib.tensor(cut, dtype=lib.float64) for cut in cuts]}[kind]
        options = {"density": density}
        if kind == "range" or (points == 0 and kind in ("count", "counts")):  # PyTorch needs a range for no points
            options["range"] = [-1.0, 1.0] * dims
        if weighted:
            options["weight"] = lib.tensor(weights, dtype=lib.float64)
        hist, edges = lib.histogramdd(lib.tensor(values, dtype=lib.float64).reshape(points, dims), bins, **options)
        found.append([hist.numpy()] + [e.numpy() for e in edges])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("join", ["cat", "stack", "block_diag", "hstack", "vstack", "dstack", "column_stack"])
def test_joined_tensors_take_pytorchs_dtype(torch, join):
    """A float32 and an int64 tensor joined are float32 in PyTorch; NumPy's rule gave float64 (and float16 with
    int32 float64 too). Each pair of dtypes against PyTorch, and the gradient flows to the float tensor."""
    names = ["float16", "float32", "float64", "int8", "uint8", "int32", "int64", "bool"]
    for first, second in itertools.product(names, names):
        ours = [gg.ones(2, dtype=gg.bool_ if name == "bool" else getattr(gg, name)) for name in (first, second)]
        theirs = [torch.ones(2, dtype=getattr(torch, name)) for name in (first, second)]
        call = (lambda lib, pair: getattr(lib, join)(*pair)) if join == "block_diag" else (
            lambda lib, pair: getattr(lib, join)(pair))
        assert str(call(gg, ours).dtype) == str(call(torch, theirs).dtype).removeprefix("torch.")
    weight = gg.ones(2, requires_grad=True)
    call(gg, [weight, gg.arange(2)]).sum().backward()
    assert weight.grad.dtype == gg.float32 and weight.grad.tolist() == [1.0, 1.0]
