"""float16 reductions, softmax and loss means against PyTorch 2.13's CPU kernels (round 125).

PyTorch sums float16 in a float32 accumulator and rounds once ("opmath"); NumPy adds float16 in float16. The
holes found: ``x.sum(0)`` of float16 (an outer axis: NumPy's running float16 total, 5 ulps off at 64 rows), the
float16 mean of a loss (mse/l1/smooth_l1/huber/cross-entropy over 192,000 items: NaN where PyTorch gives 2.0),
a gradient summed back over broadcast rows and Linear's bias gradient (float16 running totals), softmax and
log_softmax forward and backward (float16 arithmetic, up to 11 ulps off and 4,633 in the gradient). Each now goes
through the one rule, ``glassgrad.summation.widened``/``narrowed`` (float32, rounded once), ``add_reduce`` for
every sum. A float32 softmax over an outer axis keeps NumPy's order: PyTorch's kernel adds one row at a time there
too, and glassgrad's numbers are PyTorch's bit for bit (a cascade would be more accurate, and not PyTorch's).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional


def _within_ulp(got, want, ulps: float = 1.0, overall: bool = False) -> None:
    """``got`` within ``ulps`` float16 ulps of PyTorch's ``want`` (at each entry's magnitude, or with ``overall`` at
    least at the largest's: a gradient read from a forward result 1 ulp off: 2 ulps), inf and NaN where it has."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    assert np.array_equal(np.isfinite(got), np.isfinite(want)), (got, want)
    finite = np.isfinite(want)
    spacing = np.spacing(np.abs(want[finite]).astype(np.float16)).astype(np.float64)
    if overall and spacing.size:
        spacing = np.maximum(spacing, spacing.max())
    error = np.abs(got[finite] - want[finite])
    assert (error <= ulps * spacing).all(), f"{(error / spacing).max():.1f} ulps off"


def _pair(torch, array, requires_grad=True):
    return gg.tensor(array, requires_grad=requires_grad), torch.tensor(array, requires_grad=requires_grad)


@st.composite
def _half_case(draw, max_dims=3):
    """A float16 array (a seeded normal draw, maybe permuted into another memory order) and a dim to reduce."""
    ndim = draw(st.integers(1, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, 300 if ndim == 1 else 40), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 8.0]))
    array = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float16)
    order = draw(st.permutations(range(ndim)))
    array = array.transpose(order)
    return array, draw(st.integers(-ndim, ndim - 1)), seed


@settings(max_examples=120, deadline=None)
@given(_half_case())
def test_float16_sum_and_mean_over_any_axis_round_once(torch, case):
    array, dim, _ = case
    for name in ("sum", "mean"):
        ours, theirs = getattr(gg.tensor(array), name)(dim), getattr(torch.tensor(array), name)(dim)
        _within_ulp(ours.numpy(), theirs.numpy())


def test_float16_sum_of_outer_axis_is_summed_in_float32(torch):
    x = np.random.default_rng(0).standard_normal((64, 3000)).astype(np.float16)
    ours, theirs = gg.tensor(x).sum(0).numpy(), torch.tensor(x).sum(0).numpy()
    _within_ulp(ours, theirs)
    exact = x.astype(np.float64).sum(0)
    assert np.abs(ours - exact).max() <= np.spacing(np.abs(exact).astype(np.float16)).max()


def test_float16_sum_overflows_where_pytorch_does(torch):
    ones = np.ones(70000, np.float16)
    assert np.isinf(gg.tensor(ones).sum().item()) and np.isinf(torch.tensor(ones).sum().item())
    assert gg.tensor(ones).mean().item() == 1.0


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("loss", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_float16_loss_means_are_finite_as_pytorch(torch, loss, reduction):
    rng = np.random.default_rng(1)
    x, y = (rng.standard_normal((64, 3000)).astype(np.float16) for _ in range(2))
    (gx, tx), (gy, ty) = _pair(torch, x), _pair(torch, y)
    ours = getattr(F, loss)(gx, gy, reduction=reduction)
    theirs = getattr(torch.nn.functional, loss)(tx, ty, reduction=reduction)
    _within_ulp(ours.detach().numpy(), theirs.detach().numpy())
    ours.backward()
    theirs.backward()
    _within_ulp(gx.grad.numpy(), tx.grad.numpy(), 2)


def test_float16_cross_entropy_reduces_as_pytorchs_kernels(torch):
    """PyTorch's cross_entropy rounds the loss's sum to float16 before the mean divides (nll_loss's total, the
    probabilities' Σ t·log p): 40,000 rows of loss ≈ 5 give inf, as there; the log-probabilities in float32."""
    rng = np.random.default_rng(2)
    for rows in (40000, 2000):
        logits = (rng.standard_normal((rows, 10)) * 3).astype(np.float16)
        for target in (rng.integers(0, 10, rows), torch.tensor(logits).softmax(1).numpy()):
            for reduction in ("mean", "sum"):
                ours = F.cross_entropy(gg.tensor(logits), gg.tensor(target), reduction=reduction)
                theirs = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target),
                                                           reduction=reduction)
                _within_ulp(ours.numpy(), theirs.numpy())
    logits = (rng.standard_normal((32, 1000)) * 4).astype(np.float16)
    target = rng.integers(0, 1000, 32)
    for smoothing in (0.0, 0.1):
        ours = F.cross_entropy(gg.tensor(logits), gg.tensor(target), reduction="none", label_smoothing=smoothing)
        theirs = torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor(target), reduction="none",
                                                   label_smoothing=smoothing)
        _within_ulp(ours.numpy(), theirs.numpy())


@settings(max_examples=80, deadline=None)
@given(_half_case(), st.sampled_from(["softmax", "log_softmax"]))
def test_float16_softmax_forward_and_backward_round_once(torch, case, name):
    array, dim, seed = case
    (ours_in, theirs_in) = _pair(torch, array)
    ours, theirs = getattr(ours_in, name)(dim), getattr(theirs_in, name)(dim)
    _within_ulp(ours.detach().numpy(), theirs.detach().numpy())
    up = np.random.default_rng(seed + 1).standard_normal(array.shape).astype(np.float16)
    ours.backward(gg.tensor(up))
    theirs.backward(torch.tensor(up))
    _within_ulp(ours_in.grad.numpy(), theirs_in.grad.numpy(), 2, overall=True)


def test_float16_softmax_of_wide_logits(torch):
    logits = (np.random.default_rng(3).standard_normal((32, 1000)) * 4).astype(np.float16)
    for dim in (0, 1):
        for name in ("softmax", "log_softmax"):
            ours_in, theirs_in = _pair(torch, logits)
            ours, theirs = getattr(F, name)(ours_in, dim), getattr(torch.nn.functional, name)(theirs_in, dim)
            _within_ulp(ours.detach().numpy(), theirs.detach().numpy())
            up = np.random.default_rng(dim).standard_normal(logits.shape).astype(np.float16)
            ours.backward(gg.tensor(up))
            theirs.backward(torch.tensor(up))
            _within_ulp(ours_in.grad.numpy(), theirs_in.grad.numpy(), 2, overall=True)


def test_float16_logsumexp_over_an_outer_axis(torch):
    x = np.random.default_rng(4).standard_normal((64, 300)).astype(np.float16)
    _within_ulp(gg.tensor(x).logsumexp(0).numpy(), torch.tensor(x).logsumexp(0).numpy())


def test_float16_gradients_summed_over_rows(torch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((64, 512)).astype(np.float16)
    weight = (rng.standard_normal((128, 512)) * 0.05).astype(np.float16)
    bias = rng.standard_normal(128).astype(np.float16)
    up = rng.standard_normal((64, 128)).astype(np.float16)
    (gx, tx), (gw, tw), (gb, tb) = _pair(torch, x), _pair(torch, weight), _pair(torch, bias)
    F.linear(gx, gw, gb).backward(gg.tensor(up))
    torch.nn.functional.linear(tx, tw, tb).backward(torch.tensor(up))
    _within_ulp(gb.grad.numpy(), tb.grad.numpy())
    # a bias added by broadcasting: its gradient summed back over the rows
    (gx, tx), (gb, tb) = _pair(torch, x), _pair(torch, x[0])
    (gx + gb).backward(gg.tensor(x))
    (tx + tb).backward(torch.tensor(x))
    _within_ulp(gb.grad.numpy(), tb.grad.numpy())


def test_float32_softmax_over_an_outer_axis_is_pytorchs_bit_for_bit(torch):
    """PyTorch's softmax/log_softmax kernels add along a non-innermost dim one row at a time, as NumPy does: the
    same numbers (1% from the exact 1e-5 here), where logsumexp (a sum: cascaded) is exact to float32."""
    x = np.full((10**6, 2), -np.log(10), np.float32)
    x[0] = 0
    for name in ("softmax", "log_softmax"):
        assert np.array_equal(getattr(gg.tensor(x), name)(0).numpy(), getattr(torch.tensor(x), name)(0).numpy())
    half = x.astype(np.float16)
    for name in ("softmax", "log_softmax"):
        assert np.array_equal(getattr(gg.tensor(half), name)(0).numpy(), getattr(torch.tensor(half), name)(0).numpy())
    np.testing.assert_allclose(gg.tensor(x).logsumexp(0).numpy(), torch.tensor(x).logsumexp(0).numpy(), rtol=2e-7)


def test_float32_paths_keep_numpys_numbers():
    """float32 is not widened: the same arithmetic as NumPy's own, bit for bit."""
    x = np.random.default_rng(6).standard_normal((50, 70)).astype(np.float32)
    assert np.array_equal(gg.tensor(x).sum(1).numpy(), x.sum(1))
    exps = np.exp(x - x.max(1, keepdims=True))
    assert np.array_equal(gg.tensor(x).softmax(1).numpy(), exps / exps.sum(1, keepdims=True))
    assert gg.tensor(x).sum(1).dtype == gg.float32 and gg.tensor(x.astype(np.float16)).sum(1).dtype == gg.float16


def test_compiled_float16_step_replays_eager_bit_for_bit():
    rng = np.random.default_rng(7)
    weight = gg.tensor((rng.standard_normal((16, 300)) * 0.1).astype(np.float16), requires_grad=True)

    def step(x, y):
        weight.grad = None
        loss = F.mse_loss(F.softmax(x @ weight, 1).sum(0), y) + F.log_softmax(x, 0).mean()
        loss.backward()
        return loss.detach(), weight.grad.clone()

    compiled = gg.compile(step)
    for _ in range(4):
        x = gg.tensor((rng.standard_normal((200, 16)) * 3).astype(np.float16))
        y = gg.tensor(rng.standard_normal(300).astype(np.float16))
        eager, replayed = step(x, y), compiled(x, y)
        for a, b in zip(eager, replayed):
            assert a.dtype == b.dtype == gg.float16
            assert np.array_equal(a.numpy(), b.numpy())
