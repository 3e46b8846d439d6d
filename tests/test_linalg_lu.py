"""``gg.linalg``'s triangular solves, LU factorization and ``_ex`` forms (``solve_triangular``, ``triangular_solve``,
``lu_factor``/``lu_factor_ex``, ``lu``, ``lu_solve``, ``cholesky_ex``, ``inv_ex``, ``solve_ex``,
``householder_product``) against PyTorch 2.13: values, pivots, info, first and second derivatives over
hypothesis-drawn batched shapes in float64, values in float32; finite differences; one-line errors.

Matrices are well conditioned (random entries plus n on the diagonal) unless a case is about failing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def _spd(lib, a):
    return a @ a.mT + a.shape[-1] * lib.eye(a.shape[-1], dtype=a.dtype)


def _lu_parts(lib, a, b=None):
    P, L, U = lib.linalg.lu(a)
    return lib.cat([P.reshape(-1), L.reshape(-1), U.reshape(-1)])


CASES = {  # name: (call(lib, A, B), A's shape, B's shape, from (batch, m, n))
    "solve_triangular_upper": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
                               lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (m, n)),
    "solve_triangular_lower_broadcast": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False),
                                         lambda batch, m, n: batch + (m, m), lambda batch, m, n: (m, n)),
    "solve_triangular_right_unit": (
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
        lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (n, m)),
    "triangular_solve_transposed": (
        lambda lib, a, b: lib.cat([t.reshape(-1) for t in lib.triangular_solve(b, a, upper=True, transpose=True)]),
        lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (m, n)),
    "lu_factor_square": (lambda lib, a, b: lib.linalg.lu_factor(a).LU, lambda batch, m, n: batch + (m, m), None),
    "lu_factor_wide": (lambda lib, a, b: lib.linalg.lu_factor(a).LU, lambda batch, m, n: batch + (m, m + n), None),
    "lu_factor_tall": (lambda lib, a, b: lib.linalg.lu_factor_ex(a).LU, lambda batch, m, n: batch + (m + n, m),
                       None),
    "lu_square": (_lu_parts, lambda batch, m, n: batch + (m, m), None),
    "lu_wide": (_lu_parts, lambda batch, m, n: batch + (m, m + n), None),
    "lu_tall": (_lu_parts, lambda batch, m, n: batch + (m + n, m), None),
    "lu_unpack_tall": (lambda lib, a, b: lib.cat([t.reshape(-1) for t in lib.lu_unpack(*lib.linalg.lu_factor(a))]),
                       lambda batch, m, n: batch + (m + n, m), None),
    "lu_solve": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b),
                 lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (m, n)),
    "lu_solve_broadcast": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b),
                           lambda batch, m, n: batch + (m, m), lambda batch, m, n: (3,) * (not batch) + (m, n)),
    "lu_solve_adjoint": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, adjoint=True),
                         lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (m, n)),
    "lu_solve_right": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False),
                       lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (n, m)),
    "lu_solve_right_adjoint": (
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False, adjoint=True),
        lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (n, m)),
    "cholesky_ex": (lambda lib, a, b: lib.linalg.cholesky_ex(_spd(lib, a)).L, lambda batch, m, n: batch + (m, m),
                    None),
    "cholesky_ex_upper": (lambda lib, a, b: lib.linalg.cholesky_ex(_spd(lib, a), upper=True).L,
                          lambda batch, m, n: batch + (m, m), None),
    "inv_ex": (lambda lib, a, b: lib.linalg.inv_ex(a).inverse, lambda batch, m, n: batch + (m, m), None),
    "solve_ex": (lambda lib, a, b: lib.linalg.solve_ex(a, b).result, lambda batch, m, n: batch + (m, m),
                 lambda batch, m, n: batch + (m, n)),
    "solve_ex_right": (lambda lib, a, b: lib.linalg.solve_ex(a, b, left=False).result,
                       lambda batch, m, n: batch + (m, m), lambda batch, m, n: batch + (n, m)),
    "solve_ex_vector": (lambda lib, a, b: lib.linalg.solve_ex(a, b).result, lambda batch, m, n: batch + (m, m),
                        lambda batch, m, n: batch + (m,)),
    "householder_product": (lambda lib, a, b: lib.linalg.householder_product(a, b),
                            lambda batch, m, n: batch + (m + n, m), lambda batch, m, n: batch + (max(m - 1, 1),)),
}


def _inputs(name, batch, m, n, seed):
    _, a_shape, b_shape = CASES[name]
    rng = np.random.default_rng(seed)
    shape = a_shape(batch, m, n)
    a = rng.normal(size=shape) + min(shape[-2:]) * np.eye(*shape[-2:])
    b = None if b_shape is None else rng.normal(size=b_shape(batch, m, n))
    return a, b, rng


def _results(lib, name, a_values, b_values, outer, inner, dtype):
    call = CASES[name][0]
    inputs = [lib.tensor(v, dtype=dtype, requires_grad=True) for v in (a_values, b_values) if v is not None]
    out = call(lib, *inputs, *([None] * (2 - len(inputs))))
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=dtype)
    firsts = lib.autograd.grad((out * out * weights).sum(), inputs, create_graph=True)
    seconds = lib.autograd.grad(sum((f * lib.tensor(np.resize(inner, tuple(f.shape)), dtype=dtype)).sum()
                                    for f in firsts), inputs)
    force = {} if lib is gg else {"force": True}
    return [t.detach().numpy(**force) for t in (out, *firsts, *seconds)]


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")
@settings(max_examples=15, deadline=None)
@given(batch=st.sampled_from([(), (2,), (2, 1)]), m=st.integers(1, 4), n=st.integers(1, 3),
       seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_gradients_and_second_derivatives_match_pytorch(torch, name, batch, m, n, seed):
    a, b, rng = _inputs(name, batch, m, n, seed)
    outer, inner = rng.normal(size=512), rng.normal(size=512)
    mine = _results(gg, name, a, b, outer, inner, gg.float64)
    theirs = _results(torch, name, a, b, outer, inner, torch.float64)
    assert len(mine) == len(theirs)
    for what, ours, reference in zip(("values", "gradients", "gradients", "second", "second"), mine, theirs):
        assert ours.shape == reference.shape, what
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
        np.testing.assert_allclose(ours, reference, rtol=1e-7, atol=1e-9 * scale, err_msg=what)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(batch=st.sampled_from([(), (3,), (2, 2)]), m=st.integers(1, 5), extra=st.integers(-2, 2),
       seed=st.integers(0, 2**16))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pivots_info_and_factors_match_pytorch(torch, dtype, batch, m, extra, seed):
    values = np.random.default_rng(seed).normal(size=batch + (m, max(1, m + extra))).astype(dtype)
    LU, pivots, info = gg.linalg.lu_factor_ex(gg.tensor(values))
    theirs = torch.linalg.lu_factor_ex(torch.tensor(values))
    assert pivots.dtype == gg.int32 and info.dtype == gg.int32 and LU.dtype == getattr(gg, dtype)
    np.testing.assert_array_equal(pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_array_equal(info.numpy(), theirs.info.numpy())
    tolerance = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(LU.numpy(), theirs.LU.numpy(), rtol=tolerance, atol=tolerance)
    for mine, reference in zip(gg.linalg.lu(gg.tensor(values)), torch.linalg.lu(torch.tensor(values))):
        assert mine.dtype == getattr(gg, dtype)
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_solves_stay_float32_and_match_pytorch(torch, dtype):
    rng = np.random.default_rng(3)
    a = (rng.normal(size=(2, 4, 4)) + 4 * np.eye(4)).astype(dtype)
    b = rng.normal(size=(2, 4, 3)).astype(dtype)
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for call in (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
                 lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b),
                 lambda lib, a, b: lib.linalg.inv_ex(a).inverse,
                 lambda lib, a, b: lib.linalg.solve_ex(a, b).result,
                 lambda lib, a, b: lib.linalg.cholesky_ex(a @ a.mT).L,
                 lambda lib, a, b: lib.linalg.householder_product(a[..., :3], b[..., 0, :2])):
        mine, theirs = call(gg, gg.tensor(a), gg.tensor(b)), call(torch, torch.tensor(a), torch.tensor(b))
        assert mine.dtype == getattr(gg, dtype)
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=tolerance, atol=tolerance)


GRADCHECKED = ["lu_factor_square", "lu_factor_wide", "lu_factor_tall", "lu_solve_adjoint", "solve_triangular_upper",
               "solve_triangular_right_unit", "householder_product", "solve_ex", "cholesky_ex"]


@pytest.mark.parametrize("name", GRADCHECKED)
@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16))
def test_gradients_match_finite_differences(name, seed):
    a_values, b_values, _ = _inputs(name, (2,), 3, 2, seed)
    inputs = tuple(gg.tensor(v, dtype=gg.float64, requires_grad=True) for v in (a_values, b_values) if v is not None)
    call = CASES[name][0]
    assert gg.gradcheck(lambda *xs: call(gg, *xs, *([None] * (2 - len(xs)))), inputs, atol=1e-6, rtol=1e-5,
                        raise_exception=True).ok


def test_solve_triangular_reads_only_its_triangle_and_sends_it_the_whole_gradient():
    """``∂L/∂A = −T⁻ᵀ·∂L/∂X·Xᵀ`` kept to T's triangle (hand-derived); the other entries get 0."""
    rng = np.random.default_rng(5)
    a = gg.tensor(rng.normal(size=(3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = gg.tensor(rng.normal(size=(3, 2)))
    x = gg.linalg.solve_triangular(a, b, upper=True)
    upstream = rng.normal(size=(3, 2))
    (x * gg.tensor(upstream)).sum().backward()
    triangle = np.triu(a.numpy())
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(triangle, b.numpy()), atol=1e-12)
    expected = np.triu(-np.linalg.solve(triangle.T, upstream) @ x.numpy().T)
    np.testing.assert_allclose(a.grad.numpy(), expected, atol=1e-12)


@pytest.mark.torch
def test_ex_forms_report_the_failing_order_as_pytorch(torch):
    singular = np.array([[[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]], np.eye(3) * 2])
    b = np.ones((2, 3, 1))
    for name, call in [("inv_ex", lambda lib, a: lib.linalg.inv_ex(a)),
                       ("solve_ex", lambda lib, a: lib.linalg.solve_ex(a, lib.tensor(b, dtype=lib.float64))),
                       ("cholesky_ex", lambda lib, a: lib.linalg.cholesky_ex(a)),
                       ("lu_factor_ex", lambda lib, a: lib.linalg.lu_factor_ex(a))]:
        mine, theirs = call(gg, gg.tensor(singular)), call(torch, torch.tensor(singular))
        np.testing.assert_array_equal(mine.info.numpy(), theirs.info.numpy(), err_msg=name)
        assert mine.info.dtype == gg.int32 and mine.info.numpy().tolist()[0] > 0
        np.testing.assert_allclose(mine[0].numpy()[1], theirs[0].numpy()[1], err_msg=name)  # the one that worked
    np.testing.assert_array_equal(gg.linalg.cholesky_ex(gg.tensor(singular)).L.numpy(),
                                  torch.linalg.cholesky_ex(torch.tensor(singular)).L.numpy())
    assert np.isnan(gg.linalg.inv_ex(gg.tensor(singular)).inverse.numpy()[0]).all()


@pytest.mark.parametrize("failing, ex, plain_call", [
    ([[1.0, 2.0], [2.0, 1.0]], lambda a: gg.linalg.cholesky_ex(a).L, gg.linalg.cholesky),
    ([[1.0, 2.0], [2.0, 4.0]], lambda a: gg.linalg.inv_ex(a).inverse, gg.linalg.inv),
    ([[0.0, 0.0], [0.0, 0.0]], lambda a: gg.linalg.solve_ex(a, gg.ones(2, dtype=gg.float64)).result,
     lambda a: gg.linalg.solve(a, gg.ones(2, dtype=gg.float64))),
])
def test_ex_forms_give_no_gradient_to_a_failed_matrix_and_the_usual_one_elsewhere(failing, ex, plain_call):
    values = np.array([failing, [[4.0, 1.0], [1.0, 3.0]]])
    a = gg.tensor(values, requires_grad=True)
    ex(a).nan_to_num().sum().backward()
    plain = gg.tensor(values[1], requires_grad=True)
    plain_call(plain).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy()[0], 0.0)
    np.testing.assert_allclose(a.grad.numpy()[1], plain.grad.numpy(), atol=1e-14)


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.linalg.lu_factor(gg.ones(3)), RuntimeError, "linalg.lu_factor_ex: expected a matrix"),
    (lambda: gg.linalg.lu_factor(gg.eye(3), pivot=False), RuntimeError, "LU without pivoting is not implemented"),
    (lambda: gg.linalg.lu(gg.eye(3), pivot=False), RuntimeError, "LU without pivoting is not implemented"),
    (lambda: gg.linalg.lu_factor(gg.ones(2, 3, 3)), gg.linalg.SingularMatrixError, r"U\[2,2\] is 0 \(batch entry 0\)"),
    (lambda: gg.linalg.lu_factor(gg.ones(3, 3, dtype=gg.int64)), RuntimeError, "needs a floating tensor"),
    (lambda: gg.linalg.lu_factor(gg.eye(3, dtype=gg.float16)), NotImplementedError, "float16 is not supported"),
    (lambda: gg.linalg.cholesky_ex(gg.eye(3, dtype=gg.float16)), NotImplementedError, "float16 is not supported"),
    (lambda: gg.linalg.lu_solve(*gg.linalg.lu_factor(gg.eye(3)), gg.ones(3)), RuntimeError,
     "B must have at least 2 dims"),
    (lambda: gg.linalg.lu_solve(*gg.linalg.lu_factor(gg.eye(3)), gg.ones(2, 3)), RuntimeError,
     r"needs B with 3 rows, got shape \(2, 3\)"),
    (lambda: gg.linalg.lu_solve(gg.eye(3), gg.tensor([1, 2, 3]), gg.ones(3, 1)), RuntimeError, "pivots must be int32"),
    (lambda: gg.linalg.lu_solve(gg.eye(3), gg.tensor(np.array([1, 5, 3], np.int32)), gg.ones(3, 1)), RuntimeError,
     "entries from 1 to 3"),
    (lambda: gg.linalg.lu_solve(gg.eye(3, dtype=gg.float64), gg.tensor(np.array([1, 2, 3], np.int32)),
                                gg.ones(3, 1)), RuntimeError, "give both the same dtype"),
    (lambda: gg.linalg.lu(gg.ones(3, 3, requires_grad=True)).U.sum().backward(), RuntimeError,
     "U has a 0 on its diagonal"),
    (lambda: gg.linalg.solve_triangular(gg.ones(2, 3), gg.ones(2, 1), upper=True), RuntimeError,
     "expected a square matrix"),
    (lambda: gg.linalg.solve_triangular(gg.eye(3), gg.ones(3), upper=True), RuntimeError,
     "B must have at least 2 dims"),
    (lambda: gg.linalg.solve_triangular(gg.eye(3), gg.ones(3, 2), upper=True, left=False), RuntimeError,
     r"for X·A = B, A of shape \(3, 3\) needs B with 3 columns"),
    (lambda: gg.linalg.solve_triangular(gg.zeros(2, 2), gg.ones(2, 1), upper=True), gg.linalg.SingularMatrixError,
     "A has a 0 on its diagonal"),
    (lambda: gg.linalg.inv_ex(gg.ones(2, 3)), RuntimeError, "linalg.inv_ex: expected a square matrix"),
    (lambda: gg.linalg.inv_ex(gg.ones(2, 2), check_errors=True), gg.linalg.SingularMatrixError,
     r"U\[2,2\] of its LU factorization is 0"),
    (lambda: gg.linalg.solve_ex(gg.ones(2, 2, 2), gg.ones(2, 1), check_errors=True), gg.linalg.SingularMatrixError,
     r"is 0\), in batch entry 0;"),
    (lambda: gg.linalg.cholesky_ex(gg.tensor([[1.0, 2.0], [2.0, 1.0]]), check_errors=True),
     gg.linalg.NotPositiveDefiniteError, "leading minor of order 2 is not"),
    (lambda: gg.linalg.householder_product(gg.ones(2, 3), gg.ones(2)), RuntimeError, "with m ≥ n"),
    (lambda: gg.linalg.tensorinv(gg.ones(2, 3, 6), ind=1), RuntimeError, "read with ind=1 is 2×18, not square"),
    (lambda: gg.linalg.tensorinv(gg.ones(2, 2), ind=0), RuntimeError, "ind must be a positive int"),
    (lambda: gg.linalg.tensorsolve(gg.ones(2, 3, 6), gg.ones(3)), RuntimeError, "is 2×18 for 3 equations"),
    (lambda: gg.lu_unpack(gg.eye(3), gg.tensor(np.array([1, 2], np.int32))), RuntimeError,
     r"lu_unpack: pivots must have shape \(…, 3\)"),
    (lambda: gg.cholesky_solve(gg.ones(2, 2), gg.eye(3)), RuntimeError, "cholesky_solve: for A·X = B"),
    (lambda: gg.cholesky_solve(gg.ones(3), gg.eye(3)), RuntimeError, "cholesky_solve: B must have at least 2 dims"),
    (lambda: gg.cholesky_inverse(gg.ones(2, 3)), RuntimeError, "cholesky_inverse: expected a square matrix"),
    (lambda: gg.linalg.householder_product(gg.ones(3), gg.ones(2)), RuntimeError, "at least 2 dims"),
])
def test_bad_calls_are_one_line_errors(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


def test_lu_factor_is_a_row_a_trace_names():
    a = gg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    with gg.trace() as tape:
        gg.linalg.lu(a).U.sum().backward()
    assert "lu_factor" in {step["op"] for step in tape.describe()["forward"]}


@pytest.mark.torch
@pytest.mark.parametrize("a_shape, b_shape", [((2, 3, 3), (3, 2)), ((2, 2, 2), (2, 2)), ((3, 3), (2, 3, 1))])
def test_solve_reads_b_as_a_vector_only_by_pytorchs_rule(torch, a_shape, b_shape):
    """B is a batch of vectors only when it is 1-D or shaped like A without its last dim; else a matrix."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=a_shape) + 3 * np.eye(a_shape[-1]), rng.normal(size=b_shape)
    mine, theirs = gg.linalg.solve(gg.tensor(a), gg.tensor(b)), torch.linalg.solve(torch.tensor(a), torch.tensor(b))
    assert tuple(mine.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)



@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(batch=st.sampled_from([(), (2,)]), m=st.integers(1, 4), upper=st.booleans(), seed=st.integers(0, 2**16))
def test_cholesky_solve_and_inverse_match_pytorch_on_the_factors_triangle(torch, batch, m, upper, seed):
    """Values as PyTorch's; the gradient on L's triangle as PyTorch's (which also fills the other triangle, as if L
    were full: the function reads only the triangle, so glassgrad's is 0 there)."""
    rng = np.random.default_rng(seed)
    low = np.tril(rng.normal(size=batch + (m, m)), -1) + np.eye(m) * (1 + rng.random(size=batch + (m, 1)))
    factor, b = (np.swapaxes(low, -1, -2) if upper else low), rng.normal(size=batch + (m, 2))
    keep = np.triu if upper else np.tril
    for call in (lambda lib, f, b: lib.cholesky_solve(b, f, upper=upper),
                 lambda lib, f, b: lib.cholesky_inverse(f, upper=upper)):
        found = []
        for lib in (gg, torch):
            f, right = lib.tensor(factor, requires_grad=True), lib.tensor(b, requires_grad=True)
            out = call(lib, f, right)
            (out * lib.tensor(np.resize(b, tuple(out.shape)))).sum().backward()
            found.append((out.detach().numpy(), keep(f.grad.numpy()), f.grad.numpy(), right.grad))
        (out, grad, whole, grad_b), (their_out, their_grad, _, their_grad_b) = found
        np.testing.assert_allclose(out, their_out, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(grad, their_grad, rtol=1e-8, atol=1e-10)
        np.testing.assert_array_equal(whole, grad)
        if their_grad_b is not None and grad_b is not None:
            np.testing.assert_allclose(grad_b.numpy(), their_grad_b.numpy(), rtol=1e-10, atol=1e-10)


def test_cholesky_solve_gradients_match_finite_differences():
    rng = np.random.default_rng(11)
    factor = gg.tensor(np.tril(rng.normal(size=(2, 3, 3))) + 3 * np.eye(3), requires_grad=True)
    b = gg.tensor(rng.normal(size=(2, 3, 2)), requires_grad=True)
    assert gg.gradcheck(lambda f, b: gg.cholesky_solve(b, f.tril()), (factor, b), raise_exception=True).ok
    assert gg.gradcheck(lambda f: gg.cholesky_inverse(f.triu(), upper=True), (factor.mT.detach().requires_grad_(),),
                        raise_exception=True).ok


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:torch.triangular_solve is deprecated")
def test_tensor_methods_match_pytorchs(torch):
    rng = np.random.default_rng(13)
    low, b = np.tril(rng.normal(size=(3, 3))) + 3 * np.eye(3), rng.normal(size=(3, 2))
    for call in (lambda t, low, b: b.triangular_solve(low, upper=False).solution,
                 lambda t, low, b: b.cholesky_solve(low), lambda t, low, b: low.cholesky_inverse()):
        mine, theirs = call(gg, gg.tensor(low), gg.tensor(b)), call(torch, torch.tensor(low), torch.tensor(b))
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(shape=st.sampled_from([((2, 3), (6,), 2), ((4,), (2, 2), 1), ((2, 2), (2, 2), 2)]), seed=st.integers(0, 2**16))
def test_tensorinv_and_tensorsolve_match_pytorch_with_gradients(torch, shape, seed):
    rows, columns, ind = shape
    rng = np.random.default_rng(seed)
    size = int(np.prod(rows))
    values = (rng.normal(size=(size, size)) + size * np.eye(size)).reshape(rows + columns)
    right = rng.normal(size=rows)
    found = []
    for lib in (gg, torch):
        a, b = lib.tensor(values, requires_grad=True), lib.tensor(right, requires_grad=True)
        inverse, solution = lib.linalg.tensorinv(a, ind=ind), lib.linalg.tensorsolve(a, b)
        ((inverse * inverse).sum() + (solution ** 3).sum()).backward()
        found.append([t.detach().numpy() for t in (inverse, solution, a.grad, b.grad)])
    for mine, theirs in zip(*found):
        assert mine.shape == theirs.shape
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-10)


def test_linalg_errors_share_pytorchs_base_class():
    for call in (lambda: gg.linalg.inv(gg.zeros(2, 2)), lambda: gg.linalg.cholesky(-gg.eye(2)),
                 lambda: gg.linalg.lu_factor(gg.zeros(2, 2))):
        with pytest.raises(gg.linalg.LinAlgError):
            call()
    assert issubclass(gg.linalg.LinAlgError, RuntimeError)


@pytest.mark.torch
def test_the_old_torch_lu_factors_a_singular_matrix_as_pytorchs(torch):
    """``torch.lu`` (older code) factors a singular matrix, a 0 on U's diagonal, as PyTorch's; it raised here, as
    ``linalg.lu_factor`` does (in both). get_infos=True gives that 0's place as info, as PyTorch's."""
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    found = []
    for lib in (gg, torch):
        with warnings.catch_warnings():  # the deprecation, warned once per process
            warnings.simplefilter("ignore")
            lu, pivots = lib.lu(lib.tensor(singular, dtype=lib.float64))
            _, _, info = lib.tensor(singular, dtype=lib.float64).lu(get_infos=True)
        found.append((lu.numpy(), pivots.numpy(), int(info)))
    np.testing.assert_array_equal(found[0][0], [[2.0, 4.0], [0.5, 0.0]])
    np.testing.assert_array_equal(found[0][0], found[1][0])
    np.testing.assert_array_equal(found[0][1], found[1][1])
    assert found[0][2] == found[1][2] == 2
