"""LBFGS against PyTorch 2.13: the same iterates, evaluations and iterations on a regularised logistic fit."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _fit(lib, data, steps, dtype, **options):
    X, y = data
    w = lib.tensor(np.zeros(X.shape[1], dtype), requires_grad=True)
    b = lib.tensor(np.zeros(1, dtype), requires_grad=True)
    optimizer = lib.optim.LBFGS([w, b], **options)
    inputs, targets = lib.tensor(X.astype(dtype)), lib.tensor(y.astype(dtype))

    def closure():
        optimizer.zero_grad()
        loss = lib.nn.functional.binary_cross_entropy_with_logits(inputs @ w + b, targets) + 0.01 * (w * w).sum()
        loss.backward()
        return loss

    losses = [optimizer.step(closure).item() for _ in range(steps)]
    state = optimizer.state[w]
    return losses, w.detach().numpy(), b.detach().numpy(), state["func_evals"], state["n_iter"]


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), lr=st.sampled_from([0.1, 0.5, 1.0]), max_iter=st.integers(1, 8),
       history=st.integers(1, 5), max_eval=st.one_of(st.none(), st.integers(1, 10)), steps=st.integers(1, 4))
def test_lbfgs_follows_pytorchs_iterates(torch, seed, lr, max_iter, history, max_eval, steps):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((24, 3))
    data = X, (X @ rng.standard_normal(3) + 0.3 * rng.standard_normal(24) > 0).astype(float)
    options = {"lr": lr, "max_iter": max_iter, "history_size": history, "max_eval": max_eval}
    mine, theirs = _fit(gg, data, steps, "float64", **options), _fit(torch, data, steps, "float64", **options)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-10)
    np.testing.assert_allclose(mine[1], theirs[1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-9, atol=1e-12)
    assert mine[3:] == theirs[3:]  # the same number of evaluations and iterations


def test_lbfgs_solves_a_quadratic_in_a_few_iterations():
    matrix = np.array([[3.0, 1.0], [1.0, 2.0]])
    target = np.array([1.0, -1.0])
    w = gg.tensor([0.0, 0.0], dtype=gg.float64, requires_grad=True)
    optimizer = gg.optim.LBFGS([w], max_iter=50)

    def closure():
        optimizer.zero_grad()
        loss = 0.5 * (w @ (gg.tensor(matrix) @ w)) - gg.tensor(target) @ w
        loss.backward()
        return loss

    optimizer.step(closure)
    # ∇ = Aw − b = 0 at the answer; it stops once max|∇| ≤ tolerance_grad (1e-7), so w is that close
    np.testing.assert_allclose(w.numpy(), np.linalg.solve(matrix, target), atol=1e-6)


@pytest.mark.parametrize("call, error, message", [
    (lambda: gg.optim.LBFGS([gg.zeros(1, requires_grad=True)]).step(), RuntimeError, "^LBFGS.step needs a closure"),
    (lambda: gg.optim.LBFGS([gg.zeros(1, requires_grad=True)], line_search_fn="strong_wolfe"), NotImplementedError,
     "^LBFGS: line_search_fn='strong_wolfe' is not supported"),
    (lambda: gg.optim.LBFGS([{"params": [gg.zeros(1, requires_grad=True)]},
                             {"params": [gg.zeros(1, requires_grad=True)]}]), ValueError,
     r"^LBFGS doesn't support per-parameter options"),
    (lambda: gg.optim.LBFGS([gg.zeros(1, requires_grad=True)], max_iter=0), ValueError,
     "^LBFGS: max_iter must be a whole number >= 1"),
])
def test_bad_arguments_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)
