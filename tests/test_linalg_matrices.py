"""``gg.linalg``'s square-matrix functions (inv, det, slogdet, logdet, solve, matrix_power, multi_dot, vecdot,
cross, diagonal) against PyTorch 2.13: values, first and second derivatives over hypothesis-drawn (batched)
matrices; and the determinant's gradient at singular matrices (the adjugate) against a hand-derived value."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _invertible(rng, shape):
    """A well-conditioned matrix (or batch): random entries plus n on the diagonal."""
    n = shape[-1]
    return rng.normal(size=shape) + n * np.eye(n)


CALLS = {  # name: (call(lib, A, B), B's shape from (batch, n), second derivative)
    "inv": (lambda lib, a, b: lib.linalg.inv(a), None, True),
    "inverse_method": (lambda lib, a, b: a.inverse() @ a.inverse(), None, True),
    "det": (lambda lib, a, b: lib.linalg.det(a), None, True),
    "det_function": (lambda lib, a, b: lib.det(a * 0.5), None, True),
    "slogdet": (lambda lib, a, b: lib.linalg.slogdet(a).logabsdet * lib.linalg.slogdet(a).sign, None, True),
    "logdet": (lambda lib, a, b: a.logdet(), None, True),
    "solve_matrix": (lambda lib, a, b: lib.linalg.solve(a, b), lambda batch, n: batch + (n, 2), True),
    "solve_vector": (lambda lib, a, b: lib.linalg.solve(a, b), lambda batch, n: batch + (n,), True),
    "solve_right": (lambda lib, a, b: lib.linalg.solve(a, b, left=False), lambda batch, n: batch + (2, n), True),
    "matrix_power": (lambda lib, a, b: lib.linalg.matrix_power(a, 3), None, True),
    "matrix_power_negative": (lambda lib, a, b: lib.linalg.matrix_power(a, -2), None, True),
    "matrix_power_zero": (lambda lib, a, b: lib.linalg.matrix_power(a, 0) + a, None, False),
    "multi_dot": (lambda lib, a, b: lib.linalg.multi_dot([a.reshape(-1, a.shape[-1])[:a.shape[-1]],
                                                          b.reshape(-1, 2)[:a.shape[-1]], b.reshape(-1, 2).mT]),
                  lambda batch, n: batch + (n, 2), True),
    "vecdot": (lambda lib, a, b: lib.linalg.vecdot(a, b), lambda batch, n: batch + (n, n), True),
    "diagonal": (lambda lib, a, b: lib.linalg.diagonal(a, offset=1), None, False),
}


def _results(lib, name, a_values, b_values, outer, inner):
    call, _, smooth = CALLS[name]
    a = lib.tensor(a_values, dtype=lib.float64, requires_grad=True)
    inputs = [a] + ([lib.tensor(b_values, dtype=lib.float64, requires_grad=True)] if b_values is not None else [])
    out = call(lib, a, inputs[1] if len(inputs) > 1 else None)
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=lib.float64)
    firsts = lib.autograd.grad((out * out * weights).sum(), inputs, create_graph=smooth)
    found = [out, *firsts]
    if smooth:
        found += lib.autograd.grad(sum((g * lib.tensor(i)).sum() for g, i in zip(firsts, inner)), inputs)
    return [t.detach().numpy() for t in found]


@pytest.mark.torch
@given(n=st.integers(1, 4), batch=st.sampled_from([(), (2,), (2, 1)]), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CALLS))
def test_values_and_two_derivatives_match_pytorch(torch, name, n, batch, seed):
    rng = np.random.default_rng(seed)
    shape_b = CALLS[name][1]
    a_values = _invertible(rng, batch + (n, n))
    b_values = rng.normal(size=shape_b(batch, n)) if shape_b else None
    inner = [rng.normal(size=a_values.shape)] + ([rng.normal(size=b_values.shape)] if shape_b else [])
    outer = rng.normal(size=64)
    mine = _results(gg, name, a_values, b_values, outer, inner)
    theirs = _results(torch, name, a_values, b_values, outer, inner)
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-8, atol=1e-10)


@pytest.mark.torch
def test_slogdet_keeps_the_sign_where_the_determinant_underflows(torch):
    """det(0.1·I₄₀₀) = 10⁻⁴⁰⁰ is 0 in float64, but its sign is +1 and ln|det| = −400·ln 10 (PyTorch agrees)."""
    values = np.diag(np.r_[-0.1, np.full(399, 0.1)])
    sign, logabsdet = gg.linalg.slogdet(gg.tensor(values))
    theirs = torch.linalg.slogdet(torch.tensor(values))
    assert sign.item() == theirs.sign.item() == -1.0
    np.testing.assert_allclose(logabsdet.item(), -400 * np.log(10), rtol=1e-12)
    assert np.isnan(gg.logdet(gg.tensor(values)).item())  # a negative determinant, as PyTorch: NaN


@pytest.mark.parametrize("matrix, adjugate", [
    ([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),  # rank 1
    ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]),
    ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
])
def test_the_gradient_of_a_singular_determinant_is_the_adjugate_transposed(matrix, adjugate):
    """∂det/∂A = adj(A)ᵀ, hand-derived from the cofactors (the 3×3 one: rows 1 2 3 / 4 5 6 / 7 8 9)."""
    a = gg.tensor(matrix, dtype=gg.float64, requires_grad=True)
    gg.linalg.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), np.array(adjugate).T, atol=1e-9)


def test_the_determinants_gradient_is_jacobis_formula_by_finite_differences():
    a = gg.tensor(_invertible(np.random.default_rng(3), (2, 3, 3)), dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda t: gg.linalg.det(t).sum() + gg.linalg.solve(t, t.sum(-1)).sum(), [a])
    assert report.ok, report


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (3, 0), (2, 0, 4), (0, 3, 3)])
@pytest.mark.parametrize("ord", [2, 1, np.inf, "nuc", "fro"])
def test_the_norm_of_a_matrix_with_no_entries_is_0_as_pytorchs(torch, shape, ord):
    """The largest singular value, column sum or row sum of none is 0 (it raised IndexError from amax)."""
    mine = gg.linalg.matrix_norm(gg.zeros(shape), ord)
    theirs = torch.linalg.matrix_norm(torch.zeros(shape), ord)
    assert mine.shape == theirs.shape and mine.tolist() == theirs.tolist()


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, np.inf, -np.inf, "nuc", "fro"])
def test_the_condition_number_and_determinant_of_a_matrix_with_no_entries_are_pytorchs(torch, shape, p):
    """κ of a 0×0 matrix is 0 and its determinant 1 (an empty product), with an empty gradient: κ raised IndexError
    (no σ₁ to read) and det's backward NumPy's ValueError (an empty stack in the adjugate)."""
    mine, theirs = gg.linalg.cond(gg.zeros(shape), p), torch.linalg.cond(torch.zeros(shape), p)
    assert mine.shape == theirs.shape and mine.tolist() == theirs.tolist()
    a, reference = gg.zeros(shape, requires_grad=True), torch.zeros(shape, requires_grad=True)
    (gradient,), (expected,) = (lib.autograd.grad(lib.linalg.det(x).sum(), x)
                                for lib, x in ((gg, a), (torch, reference)))
    assert gg.linalg.det(a).tolist() == torch.linalg.det(reference).tolist()
    assert gradient.shape == expected.shape


@pytest.mark.parametrize("call, message", [
    (lambda: gg.linalg.inv(gg.tensor([[1.0, 2.0], [2.0, 4.0]])), "inv: the matrix is singular"),
    (lambda: gg.linalg.solve(gg.zeros(2, 2), gg.ones(2)), "solve: the matrix is singular"),
    (lambda: gg.linalg.slogdet(gg.zeros(2, 2)), "logdet: the matrix is singular"),
    (lambda: gg.linalg.det(gg.ones(2, 3)), "det: expected a square matrix or a batch of them (…, n, n), got shape"),
    (lambda: gg.linalg.inv(gg.tensor([[1, 0], [0, 1]])), "inv: needs a floating tensor, got int64"),
    (lambda: gg.linalg.solve(gg.eye(2), gg.ones(3)), "solve: A of shape (2, 2) needs B with 2 rows"),
    (lambda: gg.linalg.multi_dot([gg.eye(2)]), "multi_dot: expected at least 2 tensors"),
    (lambda: gg.linalg.multi_dot([gg.ones(2), gg.ones(2, 2, 2), gg.ones(2)]), "multi_dot: tensor 1 must be 2-D"),
])
def test_singular_and_ill_shaped_matrices_are_one_line_errors(call, message):
    with pytest.raises(RuntimeError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_second_derivative_of_a_singular_determinant_is_refused_in_one_line():
    a = gg.zeros(2, 2, dtype=gg.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="det's recorded derivative det\\(A\\)·A⁻ᵀ needs A⁻¹") as error:
        gg.autograd.grad(gg.linalg.det(a), a, create_graph=True)
    assert "\n" not in str(error.value)
    (slope,) = gg.autograd.grad(gg.linalg.det(a), a)  # once, without create_graph: the adjugate, 0 here
    assert slope.tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.torch
@pytest.mark.parametrize("n", [0, 1])
@given(size=st.integers(1, 3), batch=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_matrix_power_zero_and_one_are_new_tensors_in_the_graph_as_pytorchs(torch, n, size, batch, seed):
    """A⁰ was an identity outside the graph (backward raised 'does not require grad'; PyTorch: gradient 0), and A¹
    was A itself, so an in-place change of the result changed A."""
    values = np.random.default_rng(seed).standard_normal((batch, size, size) if batch else (size, size))
    found = []
    for library in (gg, torch):
        a = library.tensor(values, requires_grad=True)
        power = library.linalg.matrix_power(a, n)
        assert power is not a
        (power * library.tensor(np.cos(np.arange(power.numel())).reshape(power.shape))).sum().backward()
        with library.no_grad():
            power.add_(1.0)
        found.append((power.detach().numpy(), a.grad.numpy(), a.detach().numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n", [2.0, True, "2"])
def test_matrix_power_refuses_an_exponent_that_is_not_an_int_as_pytorch(n):
    """``matrix_power(A, 2.0)`` failed deep inside with ``unsupported operand type(s) for &``; PyTorch's TypeError
    names the argument (a bool is refused too, as PyTorch refuses it); a NumPy integer or a 0-d int tensor is taken."""
    with pytest.raises(TypeError, match=r"^linalg_matrix_power\(\): argument 'n' must be int, not \w+$"):
        gg.linalg.matrix_power(gg.eye(2), n)
    assert gg.eye(2).mul(2).matrix_power(np.int64(2)).tolist() == [[4.0, 0.0], [0.0, 4.0]]
    assert gg.linalg.matrix_power(gg.eye(2) * 2, gg.tensor(-1)).tolist() == [[0.5, 0.0], [0.0, 0.5]]
