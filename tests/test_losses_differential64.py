"""Round 64: the losses of ``torch.nn.functional`` differential-fuzzed against PyTorch 2.13.

The fuzzer (not committed) drew cross-entropy (indices and probabilities, ``weight``, ``ignore_index``,
``label_smoothing``, (N, C, d₁, d₂) and unbatched), ``nll_loss``, the binary cross-entropies, the regression
losses, ``kl_div``, the Poisson and Gaussian NLLs, the margin family, the triplet losses and ``ctc_loss`` in
float32 and float64, every reduction, and compared values, gradients w.r.t. every input (targets included) and
warnings. Two things differed that were glassgrad's: ``kl_div(reduction='mean')`` did not give PyTorch's
warning that 'mean' is not the per-sample KL, and ``multilabel_margin_loss`` refused a scalar input PyTorch reads
as one class. The rest are the documented deviations of README's losses row (pinned below where they are cheap).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as GF

REDUCTIONS = ("none", "mean", "sum")


def _run(lib, F, fn, arrays, grads):
    """``fn(lib, F, *tensors)`` and the gradients of a fixed random cotangent w.r.t. the tensors marked in grads."""
    tensors = [lib.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(lib, F, *tensors)
    cotangent = np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(arrays[0].dtype)
    out.backward(lib.tensor(cotangent))
    grads_out = [None if t.grad is None else np.asarray(t.grad.detach().numpy()) for t in tensors if t.requires_grad]
    return np.asarray(out.detach().numpy()), grads_out, sorted({str(w.message)[:40] for w in caught})


def _same(torch, fn, arrays, grads=None):
    grads = grads or [True] * len(arrays)
    expected = _run(torch, torch.nn.functional, fn, arrays, grads)
    got = _run(gg, GF, fn, arrays, grads)
    tol = 1e-10 if arrays[0].dtype == np.float64 else 2e-5
    for want, have in zip([expected[0], *expected[1]], [got[0], *got[1]]):
        assert (want is None) == (have is None)
        if want is None:
            continue
        assert have.shape == want.shape and have.dtype == want.dtype
        np.testing.assert_allclose(have, want, rtol=tol, atol=tol)
    assert got[2] == expected[2]


# --- the defects ---------------------------------------------------------------------------------------------------

def test_kl_div_mean_warns_as_pytorch(torch):
    """PyTorch warns that 'mean' divides by the support size too; glassgrad said nothing."""
    x = np.log(np.full((2, 3), 1 / 3))
    y = np.full((2, 3), 1 / 3)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        GF.kl_div(gg.tensor(x), gg.tensor(y))
    with pytest.warns(UserWarning, match="'batchmean'"):
        gg.nn.KLDivLoss()(gg.tensor(x), gg.tensor(y))
    with pytest.warns(UserWarning, match="'batchmean'"):
        torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(y))


@pytest.mark.parametrize("kwargs", [{"reduction": "batchmean"}, {"reduction": "sum"}, {"size_average": True}])
def test_kl_div_other_reductions_do_not_warn_of_mean(torch, kwargs):
    x, y = np.log(np.full((2, 3), 1 / 3)), np.full((2, 3), 1 / 3)
    for lib in (torch, gg):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            (torch.nn.functional if lib is torch else GF).kl_div(lib.tensor(x), lib.tensor(y), **kwargs)
        assert not any("batchmean" in str(w.message) for w in caught)


def test_multilabel_margin_loss_of_a_scalar_is_one_class(torch):
    """PyTorch reads a 0-d input as one class (loss 0); glassgrad refused it."""
    for reduction in REDUCTIONS:
        _same(torch, lambda lib, F, a, r=reduction: F.multilabel_margin_loss(a, lib.tensor(0), reduction=r),
              [np.array(0.3)])


# --- the fuzzer's core -------------------------------------------------------------------------------------------

@settings(max_examples=12)
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]),
       reduction=st.sampled_from(REDUCTIONS))
def test_losses_match_pytorch_on_drawn_cases(torch, seed, dtype, reduction):
    rng = np.random.default_rng(seed)
    n, c = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    extra = [(), (3,), (2, 2)][rng.integers(3)]
    x = rng.standard_normal((n, c, *extra)).astype(dtype)
    labels = rng.integers(0, c, (n, *extra))
    weight = (np.abs(rng.standard_normal(c)) + 0.1).astype(dtype) if rng.random() < 0.5 else None
    ignore = int(labels.ravel()[0]) if rng.random() < 0.3 else -100
    if ignore >= 0 and labels.size > 1:
        labels.ravel()[1] = (ignore + 1) % c  # not every row ignored (glassgrad's 0 vs PyTorch's NaN, documented)
    smoothing = float(rng.choice([0.0, 0.2]))

    def w(lib):
        return None if weight is None else lib.tensor(weight)

    _same(torch, lambda lib, F, a: F.cross_entropy(a, lib.tensor(labels), weight=w(lib), ignore_index=ignore,
                                                   label_smoothing=smoothing, reduction=reduction), [x])
    probs = np.abs(rng.standard_normal(x.shape)).astype(dtype)
    probs /= probs.sum(1, keepdims=True)
    _same(torch, lambda lib, F, a, t: F.cross_entropy(a, t, weight=w(lib), label_smoothing=smoothing,
                                                      reduction=reduction), [x, probs])
    log_probs = (x - np.log(np.exp(x).sum(1, keepdims=True))).astype(dtype)
    _same(torch, lambda lib, F, a: F.nll_loss(a, lib.tensor(labels), weight=w(lib), ignore_index=ignore,
                                              reduction=reduction), [log_probs])
    y = rng.random(x.shape).astype(dtype)
    pos = np.abs(rng.standard_normal(x.shape[-1:])).astype(dtype)
    _same(torch, lambda lib, F, a, t: F.binary_cross_entropy(a, t, reduction=reduction),
          [(1 / (1 + np.exp(-x))).astype(dtype), y])
    _same(torch, lambda lib, F, a, t: F.binary_cross_entropy_with_logits(a, t, pos_weight=lib.tensor(pos),
                                                                         reduction=reduction), [x, y])
    z = np.round(rng.standard_normal(x.shape) * 2).astype(dtype)  # ties with round(x) exercise the kinks
    beta = float(rng.choice([0.0, 0.5, 1.0, 2.0]))
    xr = np.round(x * 2).astype(dtype)
    _same(torch, lambda lib, F, a, t: F.mse_loss(a, t, reduction=reduction), [x, z])
    _same(torch, lambda lib, F, a, t: F.l1_loss(a, t, reduction=reduction), [xr, z])
    _same(torch, lambda lib, F, a, t: F.smooth_l1_loss(a, t, reduction=reduction, beta=beta), [xr, z])
    _same(torch, lambda lib, F, a, t: F.huber_loss(a, t, reduction=reduction, delta=beta or 1.0), [xr, z])
    log_target = bool(rng.random() < 0.5)
    kl_reduction = reduction if rng.random() < 0.7 else "batchmean"
    _same(torch, lambda lib, F, a, t: F.kl_div(a, t, reduction=kl_reduction, log_target=log_target),
          [log_probs, log_probs[::-1].copy() if log_target else np.exp(log_probs[::-1])])
    counts = (rng.poisson(2, x.shape) + 2).astype(dtype)  # y > 1: PyTorch's target gradient is NaN below (documented)
    log_input, full = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
    _same(torch, lambda lib, F, a, t: F.poisson_nll_loss(a, t, log_input=log_input, full=full, reduction=reduction),
          [x if log_input else np.abs(x), counts])
    var_shape = [x.shape, (*x.shape[:-1], 1), x.shape[:-1]][rng.integers(3)] if x.ndim > 2 else x.shape
    var = (np.abs(rng.standard_normal(var_shape)) + 0.05).astype(dtype)
    _same(torch, lambda lib, F, a, t, v: F.gaussian_nll_loss(a, t, v, full=full, reduction=reduction), [x, z, var])
    rows = rng.standard_normal((n, c)).astype(dtype)
    signs = rng.choice([-1.0, 1.0], n).astype(dtype)
    margin = float(rng.choice([0.0, 0.5]))
    _same(torch, lambda lib, F, a, b, t: F.margin_ranking_loss(a, b, t, margin=margin, reduction=reduction),
          [rows[:, 0].copy(), rows[:, 1].copy(), signs])
    _same(torch, lambda lib, F, a, t: F.hinge_embedding_loss(a, t, margin=margin + 1, reduction=reduction),
          [x, np.sign(z + 0.5).astype(dtype)])
    _same(torch, lambda lib, F, a, t: F.soft_margin_loss(a, t, reduction=reduction),
          [x, np.sign(z + 0.5).astype(dtype)], [True, False])  # PyTorch refuses a target that requires grad
    multi = rng.integers(-1, c, (n, c))
    _same(torch, lambda lib, F, a: F.multilabel_margin_loss(a, lib.tensor(multi), reduction=reduction), [rows])
    _same(torch, lambda lib, F, a, t: F.multilabel_soft_margin_loss(a, t, weight=w(lib), reduction=reduction),
          [rows, rng.integers(0, 2, (n, c)).astype(dtype)])
    power = int(rng.choice([1, 2]))
    _same(torch, lambda lib, F, a: F.multi_margin_loss(a, lib.tensor(labels.reshape(n, -1)[:, 0].copy()), p=power,
                                                       margin=margin + 1, weight=w(lib), reduction=reduction), [rows])
    others = rng.standard_normal((2, n, c)).astype(dtype)
    _same(torch, lambda lib, F, a, b: F.cosine_embedding_loss(a, b, lib.tensor(signs), margin=margin,
                                                              reduction=reduction), [rows, others[0]])
    swap, p = bool(rng.random() < 0.5), float(rng.choice([1.0, 2.0, 3.0]))
    _same(torch, lambda lib, F, a, b, d: F.triplet_margin_loss(a, b, d, margin=margin + 1, p=p, swap=swap,
                                                               reduction=reduction), [rows, *others])
    _same(torch, lambda lib, F, a, b, d: F.triplet_margin_with_distance_loss(
        a, b, d, distance_function=lambda u, v: 1 - F.cosine_similarity(u, v), margin=margin + 1, swap=swap,
        reduction=reduction), [rows, *others])


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.float32, np.float64]),
       reduction=st.sampled_from(REDUCTIONS), layout=st.sampled_from(["padded", "concatenated", "unbatched"]),
       zero_infinity=st.booleans())
def test_ctc_loss_matches_pytorch_through_log_softmax(torch, seed, dtype, reduction, layout, zero_infinity):
    """Through ``log_softmax`` (README: glassgrad's gradient w.r.t. the log-probabilities is the exact one) and on
    targets every sample can align (an impossible one's gradient is 0 here, NaN in PyTorch: documented)."""
    rng = np.random.default_rng(seed)
    steps, classes, batch, longest = int(rng.integers(4, 8)), int(rng.integers(2, 5)), int(rng.integers(1, 4)), 2
    blank = int(rng.integers(0, classes))
    labels = [k for k in range(classes) if k != blank]
    targets = rng.choice(labels, (batch, longest))
    target_lengths = rng.integers(0, longest + 1, batch)
    input_lengths = rng.integers(2 * longest + 1, steps + 1, batch) if steps > 2 * longest else np.full(batch, steps)
    scores = rng.standard_normal((steps, batch, classes)).astype(dtype)

    def loss(lib, F, s):
        log_probs = s.log_softmax(-1)
        if layout == "unbatched":
            return F.ctc_loss(log_probs[:, 0], lib.tensor(targets[0, :target_lengths[0]]), (int(input_lengths[0]),),
                              (int(target_lengths[0]),), blank=blank, reduction=reduction, zero_infinity=zero_infinity)
        if layout == "padded":
            return F.ctc_loss(log_probs, lib.tensor(targets), lib.tensor(input_lengths), lib.tensor(target_lengths),
                              blank=blank, reduction=reduction, zero_infinity=zero_infinity)
        flat = np.concatenate([row[:k] for row, k in zip(targets, target_lengths)]).astype(np.int64)
        return F.ctc_loss(log_probs, lib.tensor(flat), tuple(int(k) for k in input_lengths),
                          tuple(int(k) for k in target_lengths), blank=blank, reduction=reduction,
                          zero_infinity=zero_infinity)

    _same(torch, loss, [scores])


# --- pins: cases that already behaved, and the documented deviations ---------------------------------------------

def test_cross_entropy_unbatched_and_k_dimensional(torch):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3, 2))
    t = rng.integers(0, 4, (2, 3, 2))
    _same(torch, lambda lib, F, a: F.cross_entropy(a, lib.tensor(t), ignore_index=int(t[0, 0, 0]),
                                                   label_smoothing=0.1), [x])
    _same(torch, lambda lib, F, a: F.cross_entropy(a, lib.tensor(2), label_smoothing=0.3), [x[0, :, 0, 0].copy()])
    _same(torch, lambda lib, F, a, p: F.cross_entropy(a, p, reduction="none"), [x[0, :, 0, 0].copy(),
                                                                                  np.full(4, 0.25)])


def test_all_ignored_mean_is_zero_not_nan(torch):
    """Documented: glassgrad's mean over rows all ``ignore_index`` is 0 with gradient 0; PyTorch's is NaN."""
    x = np.zeros((2, 3))
    t = np.array([1, 1])
    assert np.isnan(torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t), ignore_index=1).item())
    a = gg.tensor(x, requires_grad=True)
    out = GF.cross_entropy(a, gg.tensor(t), ignore_index=1)
    out.backward()
    assert out.item() == 0.0 and not a.grad.numpy().any()


def test_mse_target_of_another_shape_is_refused_in_one_line(torch):
    """Documented: PyTorch broadcasts with a warning; glassgrad refuses (a ValueError naming the shapes)."""
    with pytest.warns(UserWarning, match="target size"):
        torch.nn.functional.mse_loss(torch.zeros(2, 3), torch.ones(2, 1))
    for f in (GF.mse_loss, GF.l1_loss, GF.smooth_l1_loss, GF.huber_loss):
        with pytest.raises(ValueError, match=r"target shape \(2, 1\) differs from input shape \(2, 3\)"):
            f(gg.zeros(2, 3), gg.ones(2, 1))


@pytest.mark.parametrize("call", [
    lambda F, lib: F.nll_loss(lib.zeros(2, 3), lib.tensor([0.0, 1.0])),
    lambda F, lib: F.nll_loss(lib.zeros(2, 3), lib.tensor([0, 3])),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1, 2])),
    lambda F, lib: F.binary_cross_entropy(lib.tensor([0.5, 1.5]), lib.tensor([0.0, 1.0])),
    lambda F, lib: F.binary_cross_entropy_with_logits(lib.zeros(2), lib.tensor([0, 1])),
    lambda F, lib: F.gaussian_nll_loss(lib.zeros(3), lib.ones(3), -lib.ones(3)),
    lambda F, lib: F.multi_margin_loss(lib.zeros(2, 3), lib.tensor([0, 3])),
    lambda F, lib: F.multilabel_margin_loss(lib.zeros(2, 3), lib.full((2, 3), 3)),
    lambda F, lib: F.ctc_loss(lib.zeros(4, 1, 3), lib.tensor([[1, 2]]), [5], [2]),
    lambda F, lib: F.ctc_loss(lib.zeros(4, 1, 3), lib.tensor([[1, 2]]), [4], [2], blank=3),
    lambda F, lib: F.cross_entropy(lib.zeros(2, 3), lib.tensor([0, 1]), reduction="avg"),
], ids=["nll-float-target", "nll-out-of-range", "ce-shape", "bce-range", "bcel-int-target", "gauss-neg-var",
        "multi-margin-range", "multilabel-range", "ctc-input-length", "ctc-blank", "bad-reduction"])
def test_misuse_raises_pytorchs_class_in_one_line(torch, call):
    with pytest.raises(Exception) as want:
        call(torch.nn.functional, torch)
    with pytest.raises(want.type) as got:
        call(GF, gg)
    assert "\n" not in str(got.value) and str(got.value)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_top_level_kl_div_gives_no_mean_warning_as_pytorchs(torch, reduction):
    """``torch.kl_div`` (the reduction a number) is an ATen op that never warns; glassgrad's called ``F.kl_div``,
    which after round 64 warned on the mean (1). Both now give the same number in silence."""
    values = []
    for lib in (torch, gg):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            values.append(lib.kl_div(lib.tensor([0.2, 0.8]).log(), lib.tensor([0.5, 0.5]), reduction=reduction))
    np.testing.assert_allclose(values[1].numpy(), values[0].numpy(), rtol=1e-6)


@pytest.mark.parametrize("smoothing", [0.0, 0.2, 1.0])
def test_cross_entropy_over_rows_of_zero_weight_is_zero_with_smoothing_too(smoothing):
    """Rows whose classes all weigh 0 count for nothing, as rows all ``ignore_index`` (README: the mean over them
    is 0 with gradient 0; PyTorch: NaN). The smoothing term followed another rule: Σ over every class's weighted
    log-probability divided by 1, 0.5347 here, a number no rule gives. Now it is 0 too, and so is the gradient."""
    scores = gg.tensor([[1.0, 2.0, 0.5], [0.3, -1.0, 2.0]], dtype=gg.float64, requires_grad=True)
    loss = GF.cross_entropy(scores, gg.tensor([0, 0]), weight=gg.tensor([0.0, 1.0, 2.0], dtype=gg.float64),
                            label_smoothing=smoothing)
    loss.backward()
    assert loss.item() == 0.0
    np.testing.assert_array_equal(scores.grad.numpy(), np.zeros((2, 3)))


@pytest.mark.torch
@given(smoothing=st.sampled_from([0.0, 0.1, 0.7]), labels=st.lists(st.integers(0, 2), min_size=1, max_size=5))
def test_cross_entropy_with_some_weight_and_smoothing_is_pytorchs(torch, smoothing, labels):
    """Where some row weighs more than 0 the mean is PyTorch's, value and gradient (float64)."""
    if all(label == 0 for label in labels):
        labels = [*labels[:-1], 1]
    rng = np.random.default_rng(len(labels))
    scores = rng.normal(size=(len(labels), 3))
    found = []
    for lib in (torch, gg):
        x = lib.tensor(scores, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(labels), weight=lib.tensor([0.0, 1.0, 2.0],
                                               dtype=lib.float64), label_smoothing=smoothing)
        loss.backward()
        found.append((loss.item(), x.grad.numpy()))
    np.testing.assert_allclose(found[1][0], found[0][0], rtol=1e-12)
    np.testing.assert_allclose(found[1][1], found[0][1], rtol=1e-10, atol=1e-14)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(3, 0), (0,), (2, 0, 4)])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_over_no_class_is_refused_in_one_line(torch, shape, smoothing):
    """Scores with no class (dim 1 of size 0) and probability targets: PyTorch's loss is NaN, glassgrad raised a
    raw ZeroDivisionError from inside its fused row (rows of width 0). Now one line names the shape and the fix,
    rather than a NaN loss (the project's rule: never a silent NaN)."""
    assert torch.isnan(torch.nn.functional.cross_entropy(torch.zeros(shape), torch.zeros(shape),
                                                         label_smoothing=smoothing))
    with pytest.raises(RuntimeError, match=r"^cross_entropy: the scores \(.*\) have no class .* at least one class$"):
        GF.cross_entropy(gg.zeros(*shape), gg.zeros(*shape), label_smoothing=smoothing)
