"""Round 65: ``gg.linalg`` (and the tensor-level aliases) differential-fuzzed against PyTorch 2.13.

Defects found and fixed: batch dims of A and B that do not broadcast in ``solve`` and everything built on it
(``solve_ex``, ``solve_triangular``, ``cholesky_solve``, ``lstsq``) raised NumPy's raw ValueError; ``lstsq``'s
``singular_values`` for an empty batch had the wrong last dim; ``matrix_power`` refused integer matrices;
``vector_norm`` raised RuntimeError (not TypeError) for a non-number ``ord`` and refused ``ord=True``.
The rest pins what already agreed: values and first/second derivatives of the decompositions (sign-free
quantities only), empty batches and 0×0 matrices, error classes, and documented deliberate differences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

# --- the defects ----------------------------------------------------------------------------------

MISMATCHED = {  # name: call(lib, A (2, 3, 3), B (3, 3, 2))
    "solve": lambda lib, a, b: lib.linalg.solve(a, b),
    "solve_ex": lambda lib, a, b: lib.linalg.solve_ex(a, b),
    "solve_triangular": lambda lib, a, b: lib.linalg.solve_triangular(a.triu(), b, upper=True),
    "cholesky_solve": lambda lib, a, b: lib.cholesky_solve(b, a.tril()),
    "lstsq": lambda lib, a, b: lib.linalg.lstsq(a, b),
}


@pytest.mark.parametrize("name", sorted(MISMATCHED))
def test_batch_dims_that_do_not_broadcast_raise_runtime_error(torch, name):
    for batch_a in [(2,), (0,)]:
        a = np.broadcast_to(np.eye(3) * 2 + 0.1 * np.ones((3, 3)), batch_a + (3, 3)).copy()
        b = np.ones((3, 3, 2))
        with pytest.raises(RuntimeError):
            MISMATCHED[name](torch, torch.tensor(a), torch.tensor(b))
        with pytest.raises(RuntimeError, match="batch dims") as caught:
            MISMATCHED[name](gg, gg.tensor(a), gg.tensor(b))
        assert "\n" not in str(caught.value) and type(caught.value) is RuntimeError


@pytest.mark.parametrize("shape", [(2, 0, 4, 3), (0, 1, 3), (0, 3, 1), (3, 0)])
def test_lstsq_fields_of_empty_batches_have_pytorch_shapes(torch, shape):
    a, b = np.zeros(shape), np.zeros(shape[:-1] + (2,))
    for driver in ["gelsd", "gelss", "gelsy", "gels"]:
        want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
        got = gg.linalg.lstsq(gg.tensor(a), gg.tensor(b), driver=driver)
        for field in ("solution", "rank", "singular_values"):
            assert tuple(getattr(got, field).shape) == tuple(getattr(want, field).shape), (driver, field)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_matrix_power_of_an_integer_matrix(torch, dtype):
    a = np.array([[[1, 2], [0, 1]], [[1, 1], [1, 0]]], dtype=dtype)
    for n in [0, 1, 2, 5]:
        want = torch.linalg.matrix_power(torch.tensor(a), n)
        got = gg.linalg.matrix_power(gg.tensor(a), n)
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_matrix_power_of_an_integer_matrix_refuses_its_inverse(torch):
    a = np.array([[1, 2], [0, 1]])
    with pytest.raises(RuntimeError):
        torch.linalg.matrix_power(torch.tensor(a), -1)
    with pytest.raises(RuntimeError, match="floating"):
        gg.linalg.matrix_power(gg.tensor(a), -1)


@pytest.mark.parametrize("ord", ["fro", None, [2]])
def test_vector_norm_with_an_ord_that_is_no_number_raises_type_error(torch, ord):
    x = np.array([3.0, -4.0])
    with pytest.raises(TypeError):
        torch.linalg.vector_norm(torch.tensor(x), ord=ord)
    with pytest.raises(TypeError, match="ord") as caught:
        gg.linalg.vector_norm(gg.tensor(x), ord=ord)
    assert "\n" not in str(caught.value)


def test_vector_norm_takes_ord_true_as_one(torch):
    x = np.array([3.0, -4.0])
    assert gg.linalg.vector_norm(gg.tensor(x), ord=True).item() == torch.linalg.vector_norm(torch.tensor(x),
                                                                                           ord=True).item() == 7.0


@pytest.mark.parametrize("ord", ["fro", "nuc"])
def test_linalg_norm_with_a_matrix_ord_and_one_dim_raises_runtime_error(torch, ord):
    for shape, dim in [((3,), None), ((2, 3, 4), 1), ((2, 3), (0,))]:
        x = np.ones(shape)
        with pytest.raises(RuntimeError):
            torch.linalg.norm(torch.tensor(x), ord, dim=dim)
        with pytest.raises(RuntimeError, match="matrix norm") as caught:
            gg.linalg.norm(gg.tensor(x), ord, dim=dim)
        assert type(caught.value) is RuntimeError


# --- the fuzzer's core: values and gradients against PyTorch ----------------------------------------

def _spd(lib, a):
    return a @ a.mT + a.shape[-1] * lib.eye(a.shape[-1], dtype=a.dtype)


OPS = {  # name: (call(lib, A, B), square A, B's trailing shape from n)
    "det": (lambda lib, a, b: lib.linalg.det(a), True),
    "slogdet": (lambda lib, a, b: lib.linalg.slogdet(_spd(lib, a)).logabsdet, True),
    "logdet": (lambda lib, a, b: lib.logdet(_spd(lib, a)), True),
    "inv": (lambda lib, a, b: lib.linalg.inv(_spd(lib, a)), True),
    "solve": (lambda lib, a, b: lib.linalg.solve(_spd(lib, a), b), True),
    "solve_vector": (lambda lib, a, b: lib.linalg.solve(_spd(lib, a), b[..., 0]), True),
    "solve_right": (lambda lib, a, b: lib.linalg.solve(_spd(lib, a), b.mT, left=False), True),
    "solve_broadcast": (lambda lib, a, b: lib.linalg.solve(_spd(lib, a), b[:1]), True),
    "solve_triangular_unit": (lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=False, unitriangular=True),
                              True),
    "cholesky_upper": (lambda lib, a, b: lib.linalg.cholesky(_spd(lib, a), upper=True), True),
    "lu_solve_adjoint": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(_spd(lib, a)), b,
                                                               adjoint=True), True),
    "lu_solve_right": (lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(_spd(lib, a)), b.mT,
                                                             left=False), True),
    "qr_r": (lambda lib, a, b: lib.linalg.qr(a)[1].abs(), False),
    "eigvalsh_upper": (lambda lib, a, b: lib.linalg.eigvalsh(a, UPLO="U"), True),
    "svdvals": (lambda lib, a, b: lib.linalg.svdvals(a), False),
    "pinv": (lambda lib, a, b: lib.linalg.pinv(a), False),
    "pinv_hermitian": (lambda lib, a, b: lib.linalg.pinv(_spd(lib, a), hermitian=True), True),
    "matrix_norm_nuc": (lambda lib, a, b: lib.linalg.matrix_norm(a, "nuc"), False),
    "matrix_norm_-2": (lambda lib, a, b: lib.linalg.matrix_norm(a, -2), False),
    "matrix_norm_inf": (lambda lib, a, b: lib.linalg.matrix_norm(a, float("inf"), keepdim=True), False),
    "vector_norm_3": (lambda lib, a, b: lib.linalg.vector_norm(a, 3, dim=-1), False),
    "cond_2": (lambda lib, a, b: lib.linalg.cond(_spd(lib, a)), True),
    "matrix_power_-2": (lambda lib, a, b: lib.linalg.matrix_power(_spd(lib, a), -2), True),
    "matrix_exp": (lambda lib, a, b: lib.linalg.matrix_exp(0.3 * a), True),
    "lstsq_gelsd": (lambda lib, a, b: lib.linalg.lstsq(_spd(lib, a), b, driver="gelsd").solution, True),
}


@given(name=st.sampled_from(sorted(OPS)), batch=st.sampled_from([(), (2,), (0,), (2, 1)]),
       n=st.integers(0, 4), m=st.integers(1, 4), seed=st.integers(0, 2**31 - 1))
def test_values_and_gradients_match_pytorch_float64(torch, name, batch, n, m, seed):
    """Drawn shapes (empty batches and 0×0 included): float64 values to 1e-9 and gradients to 1e-7 relative."""
    call, square = OPS[name]
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(batch + (n, n if square else m)) + (n * np.eye(n) if square else 0)
    b = rng.standard_normal(batch + (n, 2))
    results = []
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        y = call(lib, x, lib.tensor(b))
        if y.requires_grad:
            (grad,) = lib.autograd.grad((y * y).sum(), x, allow_unused=True)
        else:  # PyTorch's empty results may not require grad
            grad = None
        results.append((y.detach().numpy(), None if grad is None else grad.numpy()))
    (want, want_grad), (got, got_grad) = results
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    if want_grad is not None:
        np.testing.assert_allclose(got_grad, want_grad, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["det", "inv", "solve", "cholesky_upper", "eigvalsh_upper", "svdvals", "pinv",
                                  "matrix_exp", "qr_r", "lu_solve_adjoint", "cond_2", "lstsq_gelsd"])
def test_float32_values_and_second_derivatives(torch, name):
    call, square = OPS[name]
    rng = np.random.default_rng(7)
    a = rng.standard_normal((2, 3, 3 if square else 4)) + (3 * np.eye(3) if square else 0)
    b = rng.standard_normal((2, 3, 2))
    for dtype, tol in (("float32", 1e-4), ("float64", 1e-9)):
        results = []
        for lib in (torch, gg):
            x = lib.tensor(a.astype(dtype), requires_grad=True)
            y = call(lib, x, lib.tensor(b.astype(dtype)))
            (g,) = lib.autograd.grad((y ** 3).sum(), x, create_graph=True)
            (h,) = lib.autograd.grad((g * g).sum(), x)
            results.append([t.detach().numpy() for t in (y, g, h)])
        for got, want in zip(results[1], results[0]):
            assert got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * np.abs(want).max())


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigen_and_singular_vector_gradients(torch, uplo):
    """Sign-free functions of the vectors (squares, u₁v₁ᵀ) at distinct values, against PyTorch and differences."""
    rng = np.random.default_rng(3)
    a, r, w = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 5, 3)), rng.standard_normal((4, 4))

    def f(lib, x, y):
        vectors = lib.linalg.eigh(x + x.mT, UPLO=uplo).eigenvectors  # symmetric: the gradient is the true one
        u, _, vh = lib.linalg.svd(y, full_matrices=False)
        q = lib.linalg.qr(y.mT, mode="complete").Q  # wide: PyTorch refuses tall complete
        return (vectors ** 2 * lib.tensor(w)).sum() + (u[..., :, :1] * vh[..., :1, :]).sin().sum() + (q ** 2).sum()

    grads = []
    for lib in (torch, gg):
        x, y = lib.tensor(a, requires_grad=True), lib.tensor(r, requires_grad=True)
        grads.append([g.numpy() for g in lib.autograd.grad(f(lib, x, y), (x, y))])
    for got, want in zip(grads[1], grads[0]):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-9)
    assert gg.autograd.gradcheck(lambda x, y: f(gg, x, y), (gg.tensor(a, requires_grad=True),
                                                             gg.tensor(r, requires_grad=True)))


# --- pins: empty shapes, errors, documented differences -------------------------------------------

@pytest.mark.parametrize("name, call", [
    ("det", lambda lib, a: lib.linalg.det(a)), ("inv", lambda lib, a: lib.linalg.inv(a)),
    ("slogdet", lambda lib, a: lib.linalg.slogdet(a).sign), ("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(a)),
    ("cholesky", lambda lib, a: lib.linalg.cholesky(a)), ("matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a)),
    ("matrix_power", lambda lib, a: lib.linalg.matrix_power(a, -2)), ("cond", lambda lib, a: lib.linalg.cond(a)),
    ("matrix_norm_2", lambda lib, a: lib.linalg.matrix_norm(a, 2)), ("pinv", lambda lib, a: lib.linalg.pinv(a)),
    ("matrix_rank", lambda lib, a: lib.linalg.matrix_rank(a)),
])
def test_zero_by_zero_matrices(torch, name, call):
    a = np.zeros((2, 0, 0))
    want, got = call(torch, torch.tensor(a)), call(gg, gg.tensor(a))
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


@pytest.mark.parametrize("call, error", [
    (lambda lib: lib.linalg.inv(lib.ones(3, 3, dtype=lib.float64)), "LinAlgError"),
    (lambda lib: lib.linalg.solve(lib.ones(3, 3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)), "LinAlgError"),
    (lambda lib: lib.linalg.cholesky(-lib.eye(3, dtype=lib.float64)), "LinAlgError"),
    (lambda lib: lib.linalg.cholesky_ex(-lib.eye(2, dtype=lib.float64), check_errors=True), "LinAlgError"),
    (lambda lib: lib.linalg.inv(lib.ones(2, 3)), RuntimeError),
    (lambda lib: lib.linalg.det(lib.ones(3)), RuntimeError),
    (lambda lib: lib.linalg.eigh(lib.eye(3), UPLO="X"), RuntimeError),
    (lambda lib: lib.linalg.qr(lib.eye(3), mode="full"), RuntimeError),
    (lambda lib: lib.linalg.cross(lib.ones(2, 2), lib.ones(2, 2)), RuntimeError),
    (lambda lib: lib.linalg.inv(lib.ones(3, 3, dtype=lib.int64)), RuntimeError),
    (lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3, dtype=lib.float64)), RuntimeError),
    (lambda lib: lib.linalg.matrix_power(lib.eye(3), 2.0), TypeError),
    (lambda lib: lib.linalg.lstsq(lib.eye(3), lib.ones(3, 2), driver="x"), RuntimeError),
    (lambda lib: lib.linalg.multi_dot([]), RuntimeError),
])
def test_misuse_gets_pytorchs_error_class_in_one_line(torch, call, error):
    if isinstance(error, str):  # PyTorch's torch.linalg.LinAlgError (_LinAlgError), a RuntimeError
        with pytest.raises(torch.linalg.LinAlgError):
            call(torch)
        error = gg.linalg.LinAlgError
    else:
        with pytest.raises(error):
            call(torch)
    with pytest.raises(error) as caught:
        call(gg)
    assert issubclass(caught.type, RuntimeError if error is not TypeError else TypeError)
    assert "\n" not in str(caught.value)


def test_slogdet_of_a_singular_matrix_is_refused_as_documented(torch):
    """README: a singular matrix given to inv/solve/slogdet is refused in one line (PyTorch: sign 0, −inf)."""
    a = np.ones((3, 3))
    sign, logabsdet = torch.linalg.slogdet(torch.tensor(a))
    assert sign.item() == 0 and logabsdet.item() == -np.inf
    with pytest.raises(gg.linalg.LinAlgError, match="singular"):
        gg.linalg.slogdet(gg.tensor(a))


def test_cholesky_solve_gradient_is_pytorchs_on_the_triangle_read(torch):
    """README: cholesky_solve/cholesky_inverse read only the factor's triangle and give it the only gradient."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    low, b = np.linalg.cholesky(a @ a.T + 3 * np.eye(3)), rng.standard_normal((3, 2))
    grads = []
    for lib in (torch, gg):
        x = lib.tensor(low, requires_grad=True)
        (lib.cholesky_solve(lib.tensor(b), x) ** 2).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], np.tril(grads[0]), rtol=1e-10, atol=1e-12)
    assert np.all(np.triu(grads[1], 1) == 0)


def test_det_gradient_at_a_singular_matrix(torch):
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.0, 1.0, 1.0]])
    grads = []
    for lib in (torch, gg):
        x = lib.tensor(a, requires_grad=True)
        lib.linalg.det(x).backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-12)


def test_multi_dot_vectors_cross_vecdot_vander_tensorsolve(torch):
    rng = np.random.default_rng(1)
    v, m1, m2, w = rng.standard_normal(3), rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), \
        rng.standard_normal(2)
    c1, c2 = rng.standard_normal((2, 1, 3)), rng.standard_normal((1, 4, 3))
    t = (rng.standard_normal((6, 6)) + 3 * np.eye(6)).reshape(2, 3, 6)
    calls = [
        lambda lib: lib.linalg.multi_dot([lib.tensor(v), lib.tensor(m1), lib.tensor(m2), lib.tensor(w)]),
        lambda lib: lib.linalg.cross(lib.tensor(c1), lib.tensor(c2)),
        lambda lib: lib.linalg.vecdot(lib.tensor(c1), lib.tensor(c2)),
        lambda lib: lib.linalg.vander(lib.tensor(v), N=5),
        lambda lib: lib.linalg.tensorinv(lib.tensor(t), ind=2),
        lambda lib: lib.linalg.tensorsolve(lib.tensor(t), lib.tensor(m1[:2, :3])),
        lambda lib: lib.linalg.diagonal(lib.tensor(m1), offset=-1),
        lambda lib: lib.linalg.householder_product(lib.tensor(m1.T), lib.tensor(w)),
    ]
    for call in calls:
        np.testing.assert_allclose(call(gg).numpy(), call(torch).numpy(), rtol=1e-10, atol=1e-12)
