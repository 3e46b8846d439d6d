"""``gg.linalg``'s decompositions (``cholesky``, ``qr``, ``eigh``/``eigvalsh``, ``svd``/``svdvals``, ``pinv``) against
PyTorch 2.13: values, gradients and second derivatives in float64 on hypothesis-drawn sizes, and finite
differences.

Inputs are well conditioned (symmetric positive-definite for Cholesky, distinct eigen/singular values with
probability 1). Eigenvectors and singular vectors are unique only up to sign, so the cases read them
through quantities that do not depend on the signs (``V ∘ V``, ``V·diag(f(λ))·Vᵀ``, ``U·Vh``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _spd(lib, b):
    return b @ b.mT + b.shape[-1] * lib.eye(b.shape[-1], dtype=b.dtype)


def _symmetric(lib, b):
    return b + b.mT


# name: (function of (lib, input) giving a tensor that does not depend on signs, the input's shape from sizes)
CASES = {
    "cholesky": (lambda lib, b: lib.linalg.cholesky(_spd(lib, b)), lambda n, m, k: (k, n, n)),
    "cholesky_upper": (lambda lib, b: lib.linalg.cholesky(_spd(lib, b), upper=True), lambda n, m, k: (n, n)),
    "cholesky_direct": (lambda lib, a: lib.linalg.cholesky(a * 0.1 + 3 * lib.eye(a.shape[-1], dtype=a.dtype)),
                        lambda n, m, k: (n, n)),
    "qr_tall": (lambda lib, a: lib.cat([t.reshape(-1) for t in lib.linalg.qr(a)]), lambda n, m, k: (k, n + m, n)),
    "qr_wide": (lambda lib, a: lib.cat([t.reshape(-1) for t in lib.linalg.qr(a)]), lambda n, m, k: (n, n + m)),
    "eigh": (lambda lib, b: _eigen_parts(lib, *lib.linalg.eigh(_symmetric(lib, b))), lambda n, m, k: (k, n, n)),
    "eigh_upper": (lambda lib, b: _eigen_parts(lib, *lib.linalg.eigh(b, UPLO="U")), lambda n, m, k: (n, n)),
    "eigvalsh": (lambda lib, b: lib.linalg.eigvalsh(_symmetric(lib, b)), lambda n, m, k: (k, n, n)),
    "svd_reduced": (lambda lib, a: _singular_parts(lib, *lib.linalg.svd(a, full_matrices=False)),
                    lambda n, m, k: (k, n, m)),
    "svd_full": (lambda lib, a: _singular_parts(lib, *lib.linalg.svd(a)), lambda n, m, k: (m, n)),
    "svdvals": (lambda lib, a: lib.linalg.svdvals(a), lambda n, m, k: (k, n, m)),
    "pinv": (lambda lib, a: lib.linalg.pinv(a), lambda n, m, k: (k, n, m)),
    "pinv_hermitian": (lambda lib, b: lib.linalg.pinv(_symmetric(lib, b), hermitian=True), lambda n, m, k: (n, n)),
}


def _eigen_parts(lib, values, vectors):
    rebuilt = vectors @ (values.sin().unsqueeze(-1) * vectors.mT)  # V·diag(sin λ)·Vᵀ: no sign in it
    return lib.cat([values.reshape(-1), (vectors * vectors).reshape(-1), rebuilt.reshape(-1)])


def _singular_parts(lib, u, s, vh):
    k = s.shape[-1]
    u, vh = u[..., :, :k], vh[..., :k, :]
    return lib.cat([s.reshape(-1), (u * u).reshape(-1), (vh * vh).reshape(-1), (u @ vh).reshape(-1)])


def _results(lib, name, values, outer, inner, dtype="float64"):
    function, _ = CASES[name]
    x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
    out = function(lib, x)
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=x.dtype)
    first, = lib.autograd.grad((out * out * weights).sum(), x, create_graph=True)
    second, = lib.autograd.grad((first * lib.tensor(inner, dtype=x.dtype)).sum(), x)
    force = {} if lib is gg else {"force": True}
    return [t.detach().numpy(**force) for t in (out, first, second)]


@pytest.mark.torch
@given(sizes=st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2)), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CASES))
def test_values_gradients_and_second_derivatives_match_pytorch(torch, name, sizes, seed):
    shape = CASES[name][1](*sizes)
    rng = np.random.default_rng(seed)
    values = rng.normal(size=shape)
    outer, inner = rng.normal(size=512), rng.normal(size=shape)
    mine, theirs = _results(gg, name, values, outer, inner), _results(torch, name, values, outer, inner)
    for what, ours, reference in zip(("values", "gradient", "second derivative"), mine, theirs):
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
        np.testing.assert_allclose(ours, reference, rtol=1e-7, atol=1e-8 * scale, err_msg=what)


@pytest.mark.torch
@given(shape=st.sampled_from([(3, 3), (4, 2), (2, 4), (2, 3, 3), (1, 1)]), repeated=st.sampled_from([1.0, 2.5]),
       seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", ["pinv", "pinv_hermitian"])
def test_pinv_has_pytorchs_gradients_where_singular_values_repeat(torch, name, shape, repeated, seed):
    """``A⁺`` is smooth where A's singular values repeat (an orthonormal Q, a multiple of I): its gradient was NaN, made
    of the SVD's, which divides by σᵢ² − σⱼ²; as one row it is PyTorch's, second derivatives too."""
    rng = np.random.default_rng(seed)
    rows, columns = (shape[-1], shape[-1]) if name == "pinv_hermitian" else shape[-2:]
    size = min(rows, columns)
    singular = np.full(size, repeated)
    singular[-1] = 0.5 if size > 2 else repeated  # one that stands apart, two that repeat
    left = np.linalg.qr(rng.normal(size=(*shape[:-2], rows, size)))[0]
    right = left if name == "pinv_hermitian" else np.linalg.qr(rng.normal(size=(*shape[:-2], columns, size)))[0]
    values = left @ (singular[:, None] * np.swapaxes(right, -1, -2))
    values = values / 2 if name == "pinv_hermitian" else values  # that case reads b + bᵀ
    outer, inner = rng.normal(size=512), rng.normal(size=values.shape)
    mine, theirs = _results(gg, name, values, outer, inner), _results(torch, name, values, outer, inner)
    for what, ours, reference in zip(("values", "gradient", "second derivative"), mine, theirs):
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
        np.testing.assert_allclose(ours, reference, rtol=1e-7, atol=1e-8 * scale, err_msg=what)


def test_pinv_gradient_at_the_identity_matches_finite_differences():
    x = gg.eye(3, dtype=gg.float64).requires_grad_()
    assert gg.gradcheck(gg.linalg.pinv, (x,), raise_exception=True).ok
    assert gg.autograd.gradgradcheck(gg.linalg.pinv, (x,))


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(CASES))
def test_float32_second_derivatives_stay_float32_and_match_pytorch_in_float64(torch, name, seed):
    """A float32 matrix's second derivatives through eigh, svd and lu raised 'matmul: expected both operands to have
    the same dtype' (their backward's identity was float64, so were its products)."""
    rng = np.random.default_rng(seed)
    shape = CASES[name][1](3, 2, 2)
    values = (rng.normal(size=shape) + 3 * np.eye(*shape[-2:])).astype(np.float32)  # far from singular: float32 holds
    outer, inner = rng.normal(size=512), rng.normal(size=values.shape)
    mine = _results(gg, name, values, outer, inner, dtype="float32")
    theirs = _results(torch, name, values, outer, inner)
    for what, ours, reference in zip(("values", "gradient", "second derivative"), mine, theirs):
        assert ours.dtype == np.float32, what
        scale = max(1.0, float(np.abs(reference).max(initial=0.0)))
        np.testing.assert_allclose(ours, reference, rtol=1e-2, atol=1e-3 * scale, err_msg=what)


@pytest.mark.parametrize("name", sorted(set(CASES) - {"cholesky_direct", "eigh_upper"}))
@given(seed=st.integers(0, 2**16))
def test_gradients_match_finite_differences(name, seed):
    """(Not the cases that read one triangle of a non-symmetric input: their gradient is PyTorch's symmetric one,
    as if the other triangle moved with it, which finite differences of that input do not see.)"""
    function, sizes = CASES[name]
    values = np.random.default_rng(seed).normal(size=sizes(3, 2, 2))
    x = gg.tensor(values, dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(lambda a: function(gg, a), (x,), atol=1e-5, rtol=1e-4, raise_exception=True).ok


@pytest.mark.torch
def test_factors_themselves_match_pytorch_up_to_sign(torch):
    values = np.random.default_rng(0).normal(size=(4, 3))
    for mine, theirs in zip((*gg.linalg.svd(gg.tensor(values), full_matrices=False), *gg.linalg.qr(gg.tensor(values)),
                             *gg.linalg.eigh(gg.tensor(values[:3] + values[:3].T))),
                            (*torch.linalg.svd(torch.tensor(values), full_matrices=False),
                             *torch.linalg.qr(torch.tensor(values)),
                             *torch.linalg.eigh(torch.tensor(values[:3] + values[:3].T)))):
        np.testing.assert_allclose(np.abs(mine.numpy()), np.abs(theirs.numpy()), rtol=1e-10, atol=1e-12)


def test_r_alone_has_the_gradient_of_r_in_the_reduced_decomposition():
    values = np.random.default_rng(1).normal(size=(4, 3))
    grads = []
    for mode in ("r", "reduced"):
        a = gg.tensor(values, requires_grad=True)
        (gg.linalg.qr(a, mode=mode)[1] ** 2 * gg.tensor(np.arange(9.0).reshape(3, 3))).sum().backward()
        grads.append(a.grad.numpy())
    np.testing.assert_array_equal(*grads)
    assert gg.linalg.qr(gg.tensor(values), mode="r").Q.shape == (0,)


def test_pinv_of_a_rank_deficient_matrix_counts_tiny_singular_values_as_zero():
    a = gg.tensor([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]], dtype=gg.float64)
    found = gg.linalg.pinv(a)
    np.testing.assert_allclose((a @ found @ a).numpy(), a.numpy(), atol=1e-12)
    np.testing.assert_allclose(found.numpy(), np.linalg.pinv(a.numpy()), atol=1e-12)


@pytest.mark.parametrize("hermitian", [False, True])
def test_pinv_takes_pytorchs_older_rcond_as_rtol_by_position_or_name(hermitian):
    """``linalg.pinv(A, rcond, hermitian)``: singular values (|λ|) at most ``rcond·σ_max`` count as 0, as ``rtol``."""
    values = np.diag([4.0, 1.0, 0.2]) if not hermitian else np.diag([4.0, -1.0, 0.2])
    rotation = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    a = gg.tensor(rotation @ values @ rotation.T, dtype=gg.float64)
    kept = np.diag([0.25, 1.0, 0.0]) if not hermitian else np.diag([0.25, -1.0, 0.0])  # 0.2 ≤ 0.1·4: dropped
    expected = rotation @ kept @ rotation.T
    for found in (gg.linalg.pinv(a, 0.1, hermitian), gg.linalg.pinv(a, rcond=0.1, hermitian=hermitian),
                  gg.linalg.pinv(a, rtol=0.1, hermitian=hermitian)):
        np.testing.assert_allclose(found.numpy(), expected, atol=1e-12)
    with pytest.raises(TypeError, match="linalg.pinv: give rcond .* or atol/rtol, not both"):
        gg.linalg.pinv(a, 0.1, atol=0.5)


@pytest.mark.torch
@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("tolerances", [{"atol": [0.5, 0.05]}, {"rtol": [0.01, 0.2]}, {"atol": 0.5},
                                        {"atol": [0.2, 0.2], "rtol": [0.01, 0.4]}])
def test_pinv_takes_tolerances_as_tensors_one_per_matrix_as_pytorch(torch, hermitian, tolerances):
    """``atol``/``rtol`` as tensors (PyTorch's ``Tensor atol``, one per matrix of the batch): a 0-d or 1-d tensor
    raised RecursionError (NumPy's maximum of a glassgrad tensor)."""
    values = np.stack([np.diag([3.0, 1.0, 0.1]), np.diag([3.0, -1.0, 0.4])])
    found = []
    for lib in (gg, torch):
        given = {name: lib.tensor(v, dtype=lib.float64) if isinstance(v, list) else v for name, v in tolerances.items()}
        found.append(lib.linalg.pinv(lib.tensor(values), hermitian=hermitian, **given).numpy())
    np.testing.assert_allclose(*found, rtol=1e-14)


@pytest.mark.parametrize("call, message", [
    (lambda: gg.linalg.cholesky(gg.tensor([[1.0, 2.0], [2.0, 1.0]])), "cholesky: the matrix is not positive-definite"),
    (lambda: gg.linalg.cholesky(gg.ones(2, 3)), "cholesky: expected a square matrix"),
    (lambda: gg.linalg.eigh(gg.ones(3)), "eigh: expected a square matrix"),
    (lambda: gg.linalg.eigh(gg.ones(2, 2), UPLO="X"), "eigh: UPLO must be 'L'"),
    (lambda: gg.linalg.svd(gg.ones(2, 2, dtype=gg.int64)), "svd: needs a floating tensor"),
    (lambda: gg.linalg.qr(gg.ones(2, 2), mode="full"), "qr: mode must be 'reduced', 'complete' or 'r'"),
    (lambda: gg.linalg.qr(gg.ones(3, 2, requires_grad=True), mode="complete")[0].sum().backward(),
     "qr: the decomposition has no gradient with mode='complete' and more rows than columns"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises(RuntimeError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_each_factor_is_a_row_a_trace_names():
    a = gg.tensor([[2.0, 1.0], [1.0, 3.0]], requires_grad=True)
    with gg.trace() as tape:
        values, vectors = gg.linalg.eigh(a)
        (values.sum() + (vectors * vectors).sum()).backward()
    assert {"eigh_values", "eigh_vectors"} <= {step["op"] for step in tape.describe()["forward"]}
