"""Losses that differed from PyTorch 2.13 (found by comparing every loss and option with it), each fixed.

Where PyTorch's own number is wrong (a NaN from 0·ln 0 in a branch that is masked away), the test checks
glassgrad's value against one derived by hand instead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg
import glassgrad.nn.functional as F

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
SHAPES = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _loss_and_gradients(library, function, arrays, **options):
    """The loss of ``function`` on leaves made of ``arrays`` (all requiring grad), and their gradients after a
    weighted sum (a different weight per item, so a wrong item or position shows)."""
    leaves = [library.tensor(array, requires_grad=True) for array in arrays]
    loss = function(library, *leaves, **options)
    weights = np.arange(1.0, loss.numel() + 1).reshape(tuple(loss.shape))
    (loss * library.tensor(weights, dtype=loss.dtype)).sum().backward()
    return [loss.detach().numpy()] + [leaf.grad.numpy() for leaf in leaves]


def _assert_close(mine, theirs, rtol=1e-10, atol=1e-12):
    for a, b in zip(mine, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# --- poisson_nll_loss(full=True): the Stirling term's slope in the target --------------------------------------

@pytest.mark.torch
@given(shape=SHAPES, seed=st.integers(0, 2**16), log_input=st.booleans(), reduction=REDUCTIONS)
def test_poisson_full_gives_the_target_the_stirling_terms_slope(torch, shape, seed, log_input, reduction):
    # was: the term y·ln y − y + ½ln(2πy) (y > 1) was added as a constant, so ∂L/∂y lacked its ln y + 1/(2y)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.2, 3.0, shape)
    y = rng.integers(1, 7, shape) + rng.choice([0.0, 0.5], shape)  # counts and halves, never 0 (see below)

    def loss(library, x, y):
        return library.nn.functional.poisson_nll_loss(x, y, log_input=log_input, full=True, reduction=reduction)

    _assert_close(_loss_and_gradients(gg, loss, [x, y]), _loss_and_gradients(torch, loss, [x, y]))


@pytest.mark.parametrize("log_input", [True, False])
def test_poisson_full_at_a_count_of_zero_has_the_slope_of_its_first_term(log_input):
    # PyTorch gives NaN here (0·ln 0 in the masked Stirling term); the term is 0 for y ≤ 1, so ∂L/∂y is that of
    # e^x − y·x (−x) or x − y·ln(x + eps) (−ln(x + eps)) alone
    x = gg.tensor(np.array([0.5, 2.0]), requires_grad=True)
    y = gg.tensor(np.zeros(2), requires_grad=True)
    F.poisson_nll_loss(x, y, log_input=log_input, full=True, reduction="sum").backward()
    expected = [-0.5, -2.0] if log_input else [-math.log(0.5 + 1e-8), -math.log(2.0 + 1e-8)]
    np.testing.assert_allclose(y.grad.numpy(), expected, rtol=1e-12)


# --- cosine_embedding_loss: a target of another shape than the pairs' ------------------------------------------

@pytest.mark.torch
@given(batch=st.integers(1, 5), width=st.integers(2, 4), seed=st.integers(0, 2**16),
       margin=st.sampled_from([-0.3, 0.0, 0.4]), reduction=REDUCTIONS)
def test_cosine_embedding_loss_matches_pytorch(torch, batch, width, seed, margin, reduction):
    rng = np.random.default_rng(seed)  # at least 2 entries: a pair of 1-vectors has cos ±1, its slope all rounding
    a, b = rng.standard_normal((batch, width)) + 0.1, rng.standard_normal((batch, width)) + 0.1
    labels = rng.choice([-1.0, 1.0], batch)

    def loss(library, a, b):
        return library.nn.functional.cosine_embedding_loss(a, b, library.tensor(labels), margin=margin,
                                                           reduction=reduction)

    _assert_close(_loss_and_gradients(gg, loss, [a, b]), _loss_and_gradients(torch, loss, [a, b]))


@pytest.mark.parametrize("labels", [np.ones((3, 1)), np.ones((1, 3)), np.ones(())])
def test_cosine_embedding_loss_refuses_a_target_that_is_not_one_label_per_pair(torch, labels):
    # was: a (3, 1) target broadcast against the 3 cosines into 3 × 3 losses, and a loss came back
    a, b = np.ones((3, 4)), np.arange(12.0).reshape(3, 4)
    with pytest.raises(RuntimeError):
        torch.nn.functional.cosine_embedding_loss(torch.tensor(a), torch.tensor(b), torch.tensor(labels))
    with pytest.raises(RuntimeError, match=r"^cosine_embedding_loss: target must hold one label per pair, shape "
                                           r"\(3,\), got") as refused:
        F.cosine_embedding_loss(gg.tensor(a), gg.tensor(b), gg.tensor(labels))
    assert "\n" not in str(refused.value)


# --- gaussian_nll_loss: var's layouts, as PyTorch reads them ----------------------------------------------------

@st.composite
def variance_layouts(draw):
    """An input shape and a var shape PyTorch takes: the same, without the last dim, or with a 1 in one dim."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
    layout = draw(st.sampled_from(["same", "per sample", "shared"]))
    if layout == "same":
        return shape, shape
    if layout == "per sample":
        return shape, shape[:-1]
    dim = draw(st.integers(0, len(shape) - 1))
    return shape, shape[:dim] + (1,) + shape[dim + 1:]


@pytest.mark.torch
@given(layout=variance_layouts(), seed=st.integers(0, 2**16), full=st.booleans(), reduction=REDUCTIONS)
def test_gaussian_nll_loss_matches_pytorch_for_every_variance_layout(torch, layout, seed, full, reduction):
    shape, variance_shape = layout
    rng = np.random.default_rng(seed)
    x, y, v = rng.standard_normal(shape), rng.standard_normal(shape), rng.uniform(0.2, 2.0, variance_shape)

    def loss(library, x, y, v):
        return library.nn.functional.gaussian_nll_loss(x, y, v, full=full, reduction=reduction)

    _assert_close(_loss_and_gradients(gg, loss, [x, y, v]), _loss_and_gradients(torch, loss, [x, y, v]))


@pytest.mark.parametrize("shape, variance_shape", [((3, 4), (1, 1)), ((3, 4), (2, 3, 4)), ((3,), (3, 4)),
                                                   ((3, 4), (4,)), ((2, 3, 4), (1, 3, 1))])
def test_gaussian_nll_loss_refuses_a_variance_of_another_layout(torch, shape, variance_shape):
    # was: var broadcast to whatever it could, so (3, 4) inputs with var (2, 3, 4) gave 2·3·4 losses, and var
    # (4,) for inputs (3, 4) failed inside reshape
    x, v = np.ones(shape), np.ones(variance_shape)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(x), torch.tensor(v))
    with pytest.raises(ValueError, match=r"^gaussian_nll_loss: var of shape .* does not fit the input's shape") as no:
        F.gaussian_nll_loss(gg.tensor(x), gg.tensor(x), gg.tensor(v))
    assert "\n" not in str(no.value)


def test_gaussian_nll_loss_takes_one_number_or_a_0d_variance_for_every_entry():
    # PyTorch takes a float here and refuses a 0-d tensor; both mean one variance for all entries
    x, y = gg.tensor(np.zeros((2, 3))), gg.tensor(np.ones((2, 3)))
    expected = 0.5 * (math.log(0.5) + 1 / 0.5)
    for var in (0.5, gg.tensor(0.5, dtype=gg.float64)):
        np.testing.assert_allclose(F.gaussian_nll_loss(x, y, var, reduction="none").numpy(), np.full((2, 3), expected),
                                   rtol=1e-12)


# --- the mean of an empty batch ------------------------------------------------------------------------------

EMPTY_BATCHES = [("mse_loss", (0,), (0,)), ("l1_loss", (0, 3), (0, 3)), ("smooth_l1_loss", (0,), (0,)),
                 ("huber_loss", (0, 2), (0, 2)), ("binary_cross_entropy", (0,), (0,)),
                 ("binary_cross_entropy_with_logits", (0, 3), (0, 3)), ("kl_div", (0,), (0,)),
                 ("cross_entropy", (0, 3), (0, 3))]


@pytest.mark.torch
@pytest.mark.parametrize("function, shape, target_shape", EMPTY_BATCHES)
def test_the_mean_of_an_empty_batch_is_nan_with_an_empty_gradient(torch, function, shape, target_shape):
    # was: the loss was NaN, with a RuntimeWarning, and backward raised ZeroDivisionError
    def loss(library, x):
        return getattr(library.nn.functional, function)(x, library.tensor(np.zeros(target_shape)))

    mine, theirs = _loss_and_gradients(gg, loss, [np.zeros(shape)]), _loss_and_gradients(torch, loss, [np.zeros(shape)])
    assert np.isnan(mine[0]) and np.isnan(theirs[0])
    assert mine[1].shape == theirs[1].shape == shape


def test_an_empty_batch_of_class_indices_has_loss_nan_and_an_empty_gradient():
    z = gg.tensor(np.zeros((0, 3)), requires_grad=True)
    loss = F.cross_entropy(z, gg.tensor(np.zeros(0, dtype=np.int64)))
    loss.backward()
    assert np.isnan(loss.item()) and z.grad.shape == (0, 3)


CLASS_OPTIONS = [{"weight": True}, {"weight": True, "ignore_index": 1}, {"ignore_index": 1}, {}]
EMPTY_CLASS_CALLS = [("nll_loss", options) for options in CLASS_OPTIONS] + [
    ("cross_entropy", options) for options in
    [*CLASS_OPTIONS, {"label_smoothing": 0.1}, {"weight": True, "label_smoothing": 0.1, "ignore_index": 1}]]


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("function, options", EMPTY_CLASS_CALLS)
@pytest.mark.parametrize("shape", [(0, 3), (0, 3, 2)])
def test_an_empty_batch_of_class_indices_is_pytorchs_with_any_option(torch, function, shape, options, reduction):
    """The mean over no rows is 0/0 = NaN, as PyTorch's, whatever the options: with a class weight, label
    smoothing, or nll_loss at all, the total it divides by was taken as 1 (the rule for rows all ignored), so 0."""
    seen = []
    for library in (gg, torch):
        extra = dict(options, reduction=reduction)
        if extra.pop("weight", False):
            extra["weight"] = library.tensor([1.0, 2.0, 3.0], dtype=library.float64)
        scores = library.zeros(shape, dtype=library.float64, requires_grad=True)
        loss = getattr(library.nn.functional, function)(scores, library.zeros((0, *shape[2:]), dtype=library.int64),
                                                        **extra)
        loss.sum().backward()
        seen.append((loss.detach().numpy(), scores.grad.shape))
    (loss, gradient_shape), (their_loss, their_gradient_shape) = seen
    np.testing.assert_array_equal(loss, their_loss)  # NaN equals NaN here
    assert tuple(gradient_shape) == tuple(their_gradient_shape) == shape


# --- integer inputs to the losses of two same-shaped tensors -------------------------------------------------

@pytest.mark.parametrize(("function", "error"), [
    ("huber_loss", NotImplementedError), ("binary_cross_entropy", RuntimeError),
    ("binary_cross_entropy_with_logits", NotImplementedError), ("kl_div", RuntimeError)])
def test_an_integer_input_is_refused_in_one_line(function, error):
    # was: the target was cast to the input's integer dtype, so mse_loss of [1, 2, 3] and [0.4, 1.6, 3.5] was 0
    # (PyTorch: 0.2567, or a refusal), binary_cross_entropy of [0, 1, 1] and [0.2, 0.5, 0.9] was 66.7; mse_loss,
    # l1_loss and smooth_l1_loss now compute it in the target's dtype, as PyTorch (tests/test_integer_inputs111.py)
    with pytest.raises(error, match=rf"^{function}: needs a floating tensor, got int64; convert it with") as no:
        getattr(F, function)(gg.tensor([0, 1, 1]), gg.tensor([0.2, 0.5, 0.9]))
    assert "\n" not in str(no.value)


# --- float32 scores and float64 targets: the loss in float64, as PyTorch promotes them -------------------------

MIXED = {
    "mse_loss": lambda library, x, y: library.nn.functional.mse_loss(x, y),
    "l1_loss": lambda library, x, y: library.nn.functional.l1_loss(x, y, reduction="sum"),
    "smooth_l1_loss": lambda library, x, y: library.nn.functional.smooth_l1_loss(x, y, reduction="none", beta=0.5),
    "kl_div": lambda library, x, y: library.nn.functional.kl_div(x, y, reduction="batchmean"),
    "binary_cross_entropy_with_logits": lambda library, x, y:
        library.nn.functional.binary_cross_entropy_with_logits(x, y),
    "cross_entropy": lambda library, x, y: library.nn.functional.cross_entropy(x, y, label_smoothing=0.1),
}


@pytest.mark.torch
@given(function=st.sampled_from(sorted(MIXED)), shape=array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4),
       seed=st.integers(0, 2**16))
def test_float32_scores_and_float64_targets_give_a_float64_loss(torch, function, shape, seed):
    # was: the target was cast down to float32, and the loss was float32 (PyTorch: float64)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.uniform(0.05, 1.0, shape)
    if function == "cross_entropy":
        y /= y.sum(axis=1, keepdims=True)
    results = []
    for library in (gg, torch):
        scores, target = library.tensor(x, requires_grad=True), library.tensor(y, requires_grad=True)
        loss = MIXED[function](library, scores, target)
        loss.sum().backward()
        results.append((loss, scores.grad, target.grad))
    for mine, theirs in zip(*results):
        assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-7)


# --- multi_margin_loss: bad targets named in the loss's own words -------------------------------------------------

@pytest.mark.parametrize("scores, labels, error, message", [
    (np.ones((3, 4)), np.array([0, 1, 4]), RuntimeError,
     r"^multi_margin_loss: target label 4 is out of range: labels must be in \[0, 3\]$"),
    (np.ones((3, 4)), np.array([0, -1, 2]), RuntimeError, r"^multi_margin_loss: target label -1 is out of range"),
    (np.ones((3, 4)), np.ones(3), RuntimeError,
     r"^multi_margin_loss: target must hold one class index \(int64\) per sample, 3 in a vector, got \(3,\) float64"),
    (np.ones((3, 4)), np.array([0, 1]), RuntimeError, r"^multi_margin_loss: target must hold one class index"),
    (np.ones((3, 4)), np.zeros((3, 1), dtype=np.int64), RuntimeError, r"^multi_margin_loss: target must hold one"),
    (np.ones((2, 3, 4)), np.zeros((2, 3), dtype=np.int64), RuntimeError,
     r"^multi_margin_loss: input must be class scores \(C,\) or \(N, C\), got \(2, 3, 4\)$"),
])
def test_multi_margin_loss_refuses_bad_targets_in_one_line(torch, scores, labels, error, message):
    # was: a label outside [0, C) failed inside gather ("gather: index 4 is out of bounds ..."), and a target of
    # the wrong length inside add; PyTorch refuses each of these too
    with pytest.raises(RuntimeError):
        torch.nn.functional.multi_margin_loss(torch.tensor(scores), torch.tensor(labels))
    with pytest.raises(error, match=message) as refused:
        F.multi_margin_loss(gg.tensor(scores), gg.tensor(labels))
    assert "\n" not in str(refused.value)


# --- triplet_margin_loss: PyTorch's refusals -------------------------------------------------------------------

@pytest.mark.parametrize("shapes, margin, error, message", [
    (((3, 4), (3, 4), (4,)), 1.0, RuntimeError,
     r"^triplet_margin_loss: anchor, positive and negative must have the same number of dimensions, got 2-D, 2-D "
     r"and 1-D$"),
    (((3, 4), (3, 4), (3, 4)), -1.0, ValueError, r"^triplet_margin_loss: margin must be greater than 0, got -1$"),
    (((3, 4), (3, 4), (3, 4)), 0.0, ValueError, r"^triplet_margin_loss: margin must be greater than 0, got 0$"),
])
def test_triplet_margin_loss_refuses_what_pytorch_refuses(torch, shapes, margin, error, message):
    # was: a 1-D negative was broadcast against every anchor, and a margin ≤ 0 gave a loss
    arrays = [np.ones(shape) for shape in shapes]
    with pytest.raises(error):
        torch.nn.functional.triplet_margin_loss(*map(torch.tensor, arrays), margin=margin)
    with pytest.raises(error, match=message) as refused:
        F.triplet_margin_loss(*map(gg.tensor, arrays), margin=margin)
    assert "\n" not in str(refused.value)


# --- soft_margin_loss: the loss in the scores' dtype ----------------------------------------------------------

@pytest.mark.torch
@given(shape=SHAPES, seed=st.integers(0, 2**16), scores_dtype=st.sampled_from([np.float32, np.float64]),
       labels_dtype=st.sampled_from([np.float32, np.float64, np.int64]), reduction=REDUCTIONS)
def test_soft_margin_loss_is_in_the_scores_dtype(torch, shape, seed, scores_dtype, labels_dtype, reduction):
    # was: float32 scores and float64 labels gave a float64 loss (PyTorch: float32, the scores' dtype)
    rng = np.random.default_rng(seed)
    x, y = rng.standard_normal(shape).astype(scores_dtype), rng.choice([-1, 1], shape).astype(labels_dtype)
    results = []
    for library in (gg, torch):
        scores = library.tensor(x, requires_grad=True)
        loss = library.nn.functional.soft_margin_loss(scores, library.tensor(y), reduction=reduction)
        loss.sum().backward()
        results.append((loss, scores.grad))
    for mine, theirs in zip(*results):
        assert str(mine.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        tolerance = {"rtol": 1e-5, "atol": 1e-6} if np.float32 in (scores_dtype, labels_dtype) else {"rtol": 1e-10}
        np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), **tolerance)


# --- binary_cross_entropy_with_logits(pos_weight=...): the slope at a score of exactly 0 --------------------------

@pytest.mark.torch
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**16),
       reduction=REDUCTIONS, weighted=st.booleans())
def test_bce_with_logits_pos_weight_slope_at_a_score_of_zero(torch, shape, seed, reduction, weighted):
    # was: −log σ(z) was made of log(1 + e^−|z|) + max(−z, 0), whose kinks at z = 0 each gave slope 0, so a score
    # of exactly 0 (a zero-initialised last layer) got ∂L/∂z = 1 − y instead of 1 − y − (1 + (w₊ − 1)·y)/2
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) * 3 * (rng.random(shape) < 0.5)  # about half of the scores exactly 0
    y = rng.choice([0.0, 0.3, 1.0], shape)
    pos_weight = rng.uniform(0.2, 3.0, shape[-1:])
    options = {"weight": rng.uniform(0.5, 2.0, shape)} if weighted else {}

    def loss(library, z, y):
        given = {key: library.tensor(value) for key, value in options.items()}
        return library.nn.functional.binary_cross_entropy_with_logits(z, y, pos_weight=library.tensor(pos_weight),
                                                                      reduction=reduction, **given)

    _assert_close(_loss_and_gradients(gg, loss, [z, y]), _loss_and_gradients(torch, loss, [z, y]))


# --- margin losses at a tie: slope 1 where the hinge's gap is exactly 0 ---------------------------------------

def _tied_margin_losses(library, a, b):
    """Four margin losses whose every hinge gap is exactly 0 (a tie) for the inputs a, b of the test below."""
    F_ = library.nn.functional
    signs = library.tensor(np.where(np.arange(a.shape[0]) % 2 == 0, 1.0, -1.0))
    ranking = F_.margin_ranking_loss(a[:, 0], b[:, 0], signs, margin=0.0, reduction="none")  # a = b
    hinge = F_.hinge_embedding_loss(a[:, 0] * 0 + 1, -library.ones(a.shape[0], dtype=a.dtype), margin=1.0,
                                    reduction="none")  # x = margin
    flat = library.cat([a[:, :1], a[:, :1] * 0], 1)  # cos(flat, its right angle) = 0 = margin
    right_angle = library.cat([b[:, :1] * 0, b[:, :1]], 1)
    cosine = F_.cosine_embedding_loss(flat, right_angle, -library.ones(a.shape[0], dtype=a.dtype), margin=0.0,
                                      reduction="none")
    triplet = F_.triplet_margin_loss(a * 0, a * 0 + library.tensor([[1.0, 0.0]], dtype=a.dtype),
                                     a * 0 + library.tensor([[0.0, 2.0]], dtype=a.dtype), margin=1.0, eps=0.0,
                                     reduction="none")  # d(a, p) + 1 = d(a, n)
    return library.cat([ranking, hinge, cosine, triplet])


@pytest.mark.torch
@given(batch=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_margin_losses_push_a_tie_apart_as_pytorch(torch, batch, seed):
    # was: the hinges were relu, whose slope at 0 is 0, so a tie (equal scores at margin 0, a zero-initialised
    # model) got no gradient and stayed tied; PyTorch's clamp_min passes slope 1 there
    rng = np.random.default_rng(seed)
    a = np.repeat(rng.uniform(0.5, 2.0, (batch, 1)), 2, axis=1)
    b = a.copy()
    mine, theirs = _loss_and_gradients(gg, _tied_margin_losses, [a, b]), \
        _loss_and_gradients(torch, _tied_margin_losses, [a, b])
    _assert_close(mine, theirs)
    assert np.abs(mine[1]).sum() > 0


@pytest.mark.torch
@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_loss_of_an_infinite_target_score_is_pytorchs(torch, p):
    """A target score of +∞ made the target's own term ∞ − ∞ = NaN before it was zeroed: the loss was NaN, and with
    p = 2 its gradient too, where PyTorch's row is 0 and its gradient 0."""
    seen = []
    for library in (gg, torch):
        x = library.tensor([[float("inf"), 1.0, 2.0], [0.5, 1.0, -1.0]], dtype=library.float64, requires_grad=True)
        loss = library.nn.functional.multi_margin_loss(x, library.tensor([0, 2]), p=p, reduction="none")
        loss.sum().backward()
        seen.append((loss.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*seen):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.torch
def test_bce_with_logits_and_pos_weight_at_infinite_logits_is_pytorchs(torch):
    """A logit of +∞ with target 0 gave NaN with pos_weight (the −log σ term, worked out at target 1, read 0·∞);
    PyTorch's loss is ∞ there. (Where the sum reads 0·∞ both give NaN.) At −∞ with a target > 0 the loss is its
    limit ∞, where PyTorch's form reads ∞ − ∞ = NaN; the gradients are PyTorch's, the target's included."""
    inf = float("inf")
    seen = []
    for library in (gg, torch):
        z = library.tensor([inf, -inf, 1.5, inf, -inf, 0.0], dtype=library.float64, requires_grad=True)
        y = library.tensor([0.0, 0.0, 0.3, 1.0, 1.0, 0.5], dtype=library.float64, requires_grad=True)
        loss = library.nn.functional.binary_cross_entropy_with_logits(
            z, y, pos_weight=library.tensor([2.0], dtype=library.float64), reduction="none")
        loss.backward(library.ones_like(loss))
        seen.append((loss.detach().numpy(), z.grad.numpy(), y.grad.numpy()))
    (loss, *gradients), (their_loss, *their_gradients) = seen
    assert loss[4] == inf and np.isnan(their_loss[4])
    np.testing.assert_allclose(np.delete(loss, 4), np.delete(their_loss, 4), rtol=1e-12)
    for ours, theirs in zip(gradients, their_gradients):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("positive_weight", [2.0, 1.0, 0.5, 0.0])
def test_bce_with_logits_pos_weight_target_gradient_at_infinite_logits_is_pytorchs(torch, reduction, positive_weight):
    """∂L/∂y = ln σ(−z) − w₊·ln σ(z): +∞ at z = −∞ (NaN for w₊ = 0, 0·∞, as PyTorch), −∞ at z = +∞. Made of
    (1 − y)·z + (1 + (w₊ − 1)·y)·(−ln σ(z)) it was −z + (w₊ − 1)·(−ln σ(z)): ∞ + (w₊ − 1)·∞, NaN at z = −∞."""
    inf = float("inf")
    seen = []
    for library in (gg, torch):
        z = library.tensor([-inf, -inf, -inf, inf, inf, -1e30, 2.0], dtype=library.float64, requires_grad=True)
        y = library.tensor([0.0, 0.4, 1.0, 0.0, 1.0, 0.4, 0.7], dtype=library.float64, requires_grad=True)
        loss = library.nn.functional.binary_cross_entropy_with_logits(
            z, y, pos_weight=library.tensor([positive_weight], dtype=library.float64), reduction=reduction)
        (loss if reduction != "none" else loss.sum()).backward()
        seen.append((z.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*seen):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("function, argument", [("binary_cross_entropy_with_logits", "weight"),
                                                ("binary_cross_entropy_with_logits", "pos_weight"),
                                                ("binary_cross_entropy", "weight"), ("nll_loss", "weight")])
def test_a_weight_that_requires_grad_is_refused_as_pytorch(torch, function, argument):
    """PyTorch does not differentiate these weights and refuses one that requires grad (RuntimeError); glassgrad
    refused it for nll_loss alone and gave the binary cross-entropies' weights a gradient. Under no_grad both take
    it."""
    for library in (gg, torch):
        scores = library.tensor([[0.2, 0.7], [0.6, 0.1]], requires_grad=True)
        target = library.tensor([1, 0]) if function == "nll_loss" else library.tensor([[1.0, 0.0], [0.0, 1.0]])
        weight = library.tensor([2.0, 0.5], requires_grad=True)
        with pytest.raises(RuntimeError, match=f"not differentiable with respect to argument '{argument}'"):
            getattr(library.nn.functional, function)(scores, target, **{argument: weight})
        with library.no_grad():
            getattr(library.nn.functional, function)(scores, target, **{argument: weight})


@pytest.mark.torch
@pytest.mark.parametrize("reduction, upstream", [("none", [-2.0, 3.0, -1.0]), ("none", [np.inf, 1.0, -np.inf]),
                                                 ("sum", -1.5), ("mean", -1.0)])
def test_an_ignored_rows_cross_entropy_gradient_is_plus_zero_as_pytorchs(torch, reduction, upstream):
    """The fused row zeroed an ignored row by times a 0 mask: −0 where p − 1 or the upstream is negative, NaN under
    an infinite upstream. PyTorch's gradient there is +0, whatever the upstream."""
    found = []
    for library in (gg, torch):
        scores = library.tensor([[0.2, -1.0, 0.5], [1.0, 0.0, -0.3], [0.1, 0.2, 0.3]], dtype=library.float64,
                                requires_grad=True)
        loss = library.nn.functional.cross_entropy(scores, library.tensor([1, -100, 0]), reduction=reduction)
        loss.backward(library.tensor(upstream, dtype=library.float64))
        found.append(scores.grad.numpy())
    np.testing.assert_array_equal(found[0][1], found[1][1])
    np.testing.assert_array_equal(np.signbit(found[0][1]), np.zeros(3, bool))
    if np.isfinite(upstream).all():  # (under ∞ PyTorch's other rows read ∞ − ∞ = NaN at the class, glassgrad's ±∞)
        np.testing.assert_allclose(found[0], found[1], rtol=1e-12)
