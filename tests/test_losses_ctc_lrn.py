"""CTC loss, local response norm, multilabel margin and triplet-with-distance losses, LazyLinear: PyTorch 2.13.

CTC: PyTorch's kernel returns ``∂L/∂ln y + y`` for the log-probabilities (a term that cancels through
``log_softmax``), ours the exact derivative, so gradients are compared through ``log_softmax`` of raw scores,
checked by finite differences on the log-probabilities themselves, and the ``y`` term checked on its own.
An impossible target (fewer frames than labels plus repeats) has loss ∞ in both; its gradient is NaN in
PyTorch and 0 here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

REDUCTIONS = ["mean", "sum", "none"]


@st.composite
def ctc_cases(draw):
    """Scores (T, N, C), padded targets with repeats likely (few classes), lengths, blank, options."""
    steps, batch, classes = draw(st.integers(1, 8)), draw(st.integers(1, 3)), draw(st.integers(2, 5))
    blank = draw(st.integers(0, classes - 1))
    labels = [c for c in range(classes) if c != blank]
    target_lengths = draw(st.lists(st.integers(0, 3), min_size=batch, max_size=batch))
    targets = np.array(draw(st.lists(st.lists(st.sampled_from(labels), min_size=3, max_size=3), min_size=batch,
                                     max_size=batch)))
    input_lengths = draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch))
    scores = np.random.default_rng(draw(st.integers(0, 2**16))).normal(size=(steps, batch, classes)) * 2
    return scores, targets, input_lengths, target_lengths, blank


def _ctc(library, scores, targets, input_lengths, target_lengths, upstream=None, **options):
    z = library.tensor(scores, requires_grad=True)
    loss = library.nn.functional.ctc_loss(z.log_softmax(-1), library.tensor(targets), input_lengths,
                                          target_lengths, **options)
    loss.backward(None if upstream is None else library.tensor(upstream))
    return loss.detach().numpy(), z.grad.numpy()


def _possible(targets, input_lengths, target_lengths):
    """Whether each target fits its frames: one frame per label, one more per repeated label (its blank)."""
    return np.array([frames >= length + int(np.sum(np.diff(row[:length]) == 0))
                     for row, frames, length in zip(targets, input_lengths, target_lengths)])


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(case=ctc_cases(), reduction=st.sampled_from(REDUCTIONS), zero_infinity=st.booleans(),
       concatenated=st.booleans())
def test_ctc_loss_matches_pytorch_values_and_score_gradients(torch, case, reduction, zero_infinity, concatenated):
    scores, targets, input_lengths, target_lengths, blank = case
    if concatenated:  # the 1-D form: every target's labels one after another
        targets = np.concatenate([row[:length] for row, length in zip(targets, target_lengths)]).astype(np.int64)
    upstream = np.arange(1.0, len(input_lengths) + 1) if reduction == "none" else None
    options = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
    mine = _ctc(gg, scores, targets, input_lengths, target_lengths, upstream, **options)
    theirs = _ctc(torch, scores, targets, input_lengths, target_lengths, upstream, **options)
    np.testing.assert_allclose(mine[0], theirs[0], rtol=1e-10, atol=1e-12)
    lost = np.isnan(theirs[1])  # PyTorch: NaN for a sample whose loss is ∞; here 0
    if not concatenated:
        possible = _possible(case[1], input_lengths, target_lengths)
        assert not lost[:, possible].any() and not (zero_infinity and lost.any())
    np.testing.assert_allclose(mine[1], np.where(lost, 0.0, theirs[1]), rtol=1e-8, atol=1e-10)


def test_ctc_loss_of_a_hand_counted_case():
    # T = 2 frames, target "a" (class 1): alignments a–, –a, aa; loss −ln(y₀(a)y₁(–) + y₀(–)y₁(a) + y₀(a)y₁(a))
    y = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    loss = F.ctc_loss(gg.tensor(np.log(y)), gg.tensor([1]), [2], [1], reduction="sum")
    expected = -np.log(y[0, 1] * y[1, 0] + y[0, 0] * y[1, 1] + y[0, 1] * y[1, 1])
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-12)
    # "aa" needs a blank between its labels: 3 frames at least, so in 2 frames it is impossible
    assert F.ctc_loss(gg.tensor(np.log(y)), gg.tensor([1, 1]), [2], [2], reduction="sum").item() == np.inf
    assert F.ctc_loss(gg.tensor(np.log(y)), gg.tensor([1, 1]), [2], [2], zero_infinity=True).item() == 0.0


@settings(max_examples=15, deadline=None)
@given(case=ctc_cases(), reduction=st.sampled_from(REDUCTIONS))
def test_ctc_loss_gradient_of_log_probs_matches_finite_differences(case, reduction):
    scores, targets, input_lengths, target_lengths, blank = case
    log_probs = gg.tensor(scores, requires_grad=True).log_softmax(-1).detach().requires_grad_()

    def loss(x):
        return F.ctc_loss(x, gg.tensor(targets), input_lengths, target_lengths, blank, reduction, zero_infinity=True)

    assert gg.gradcheck(loss, [log_probs], atol=1e-6, rtol=1e-5).ok


@pytest.mark.torch
def test_pytorch_ctc_gradient_is_ours_plus_the_probabilities(torch):
    rng = np.random.default_rng(5)
    log_probs = np.log(rng.dirichlet(np.ones(4), size=(6, 2)))
    targets, input_lengths, target_lengths = np.array([[1, 1, 2], [3, 2, 0]]), [6, 4], [3, 2]
    grads = []
    for library in (gg, torch):
        x = library.tensor(log_probs, requires_grad=True)
        library.nn.functional.ctc_loss(x, library.tensor(targets), input_lengths, target_lengths,
                                       reduction="sum").backward()
        grads.append(x.grad.numpy())
    frames = np.arange(6)[:, None, None] < np.array(input_lengths)[None, :, None]
    np.testing.assert_allclose(grads[1] - grads[0], np.exp(log_probs) * frames, rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_ctc_loss_and_the_module_match_pytorch(torch, reduction):
    scores = np.random.default_rng(2).normal(size=(7, 5)).astype(np.float32)
    results = []
    for library in (gg, torch):
        z = library.tensor(scores, requires_grad=True)
        loss = library.nn.CTCLoss(blank=4, reduction=reduction)(z.log_softmax(-1), library.tensor([0, 0, 3]),
                                                                 library.tensor(7), library.tensor(3))
        loss.backward()
        results += [loss.detach().numpy(), z.grad.numpy()]
    assert results[0].shape == results[2].shape == ()
    for mine, theirs in zip(results[:2], results[2:]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)
    assert repr(gg.nn.CTCLoss(blank=4)) == repr(torch.nn.CTCLoss(blank=4))


@pytest.mark.parametrize("change, error, match", [
    ({"input_lengths": [5, 3]}, RuntimeError, r"input_lengths must be at most T = 4, got 5"),
    ({"input_lengths": [4]}, RuntimeError, r"input_lengths must be of size batch_size \(2\), got 1"),
    ({"target_lengths": [3, 1, 1]}, RuntimeError, r"target_lengths must be of size batch_size \(2\), got 3"),
    ({"input_lengths": [-1, 3]}, RuntimeError, r"input_lengths must be >= 0, got -1"),
    ({"target_lengths": [4, 1]}, RuntimeError, r"target length of 4 is longer than the padded targets' 3 columns"),
    ({"targets": [1, 1, 2]}, RuntimeError, r"must hold sum\(target_lengths\) = 4 labels, got 3"),
    ({"blank": 3}, RuntimeError, r"blank must be in label range \[0, 3\), got 3"),
    ({"targets": [[1, 0, 2], [2, 0, 0]]}, RuntimeError, r"labels in \[0, 3\) other than blank = 0"),
    ({"input_lengths": [4.0, 3.0]}, TypeError, r"input_lengths must hold integers"),
    ({"targets": [[[1, 1, 2]], [[2, 0, 0]]]}, RuntimeError, r"targets must be \(N, S\) padded or 1-D concatenated"),
    ({"reduction": "avg"}, ValueError, r"ctc_loss: reduction must be one of"),
    ({"log_probs": np.zeros(4)}, RuntimeError, r"log_probs must be floating \(T, N, C\) or unbatched \(T, C\)"),
])
def test_ctc_loss_refuses_bad_arguments_in_one_line(change, error, match):
    arguments = {"log_probs": np.log(np.full((4, 2, 3), 1 / 3)), "targets": [[1, 1, 2], [2, 0, 0]],
                 "input_lengths": [4, 3], "target_lengths": [3, 1]} | change
    arguments["log_probs"], arguments["targets"] = gg.tensor(arguments["log_probs"]), gg.tensor(arguments["targets"])
    with pytest.raises(error, match=match):
        F.ctc_loss(**arguments)


@pytest.mark.torch
@pytest.mark.parametrize("shape, targets, input_lengths, target_lengths", [
    ((5, 0, 4), np.zeros((0, 3)), [], []), ((5, 0, 4), np.zeros(0), [], []),
    ((0, 2, 4), np.ones((2, 1)), [0, 0], [1, 1]), ((5, 2, 0), np.ones((2, 1)), [5, 5], [1, 1]),
    ((0, 4), np.ones(1), 0, 1)])
def test_ctc_loss_refuses_empty_log_probs_as_pytorch(torch, shape, targets, input_lengths, target_lengths):
    """An empty batch (or no frame, or no class) gave a loss (NaN for the mean); PyTorch raises RuntimeError."""
    for library in (gg, torch):
        arguments = (library.zeros(shape, requires_grad=True), library.tensor(targets, dtype=library.int64),
                     library.tensor(input_lengths, dtype=library.int64),
                     library.tensor(target_lengths, dtype=library.int64))
        with pytest.raises(RuntimeError, match="must not be empty"):
            library.nn.functional.ctc_loss(*arguments)


# --- local response normalisation --------------------------------------------------------------------

@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(ndim=st.integers(3, 5), channels=st.integers(1, 6), size=st.integers(1, 7),
       alpha=st.floats(0.01, 2.0), beta=st.floats(0.1, 1.5), k=st.floats(0.5, 3.0), seed=st.integers(0, 2**16))
def test_local_response_norm_matches_pytorch_values_and_gradients(torch, ndim, channels, size, alpha, beta, k,
                                                                  seed):
    rng = np.random.default_rng(seed)
    shape = (2, channels) + (2,) * (ndim - 2)
    x, upstream = rng.normal(size=shape), rng.normal(size=shape)
    results = []
    for library in (gg, torch):
        t = library.tensor(x, requires_grad=True)
        out = library.nn.functional.local_response_norm(t, size, alpha, beta, k)
        out.backward(library.tensor(upstream))
        results += [out.detach().numpy(), t.grad.numpy()]
    for mine, theirs in zip(results[:2], results[2:]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-11, atol=1e-13)


def test_local_response_norm_by_hand_and_its_errors():
    x = gg.tensor([[[1.0], [2.0], [3.0]]])  # (N, C, L) = (1, 3, 1); size 2 looks at channels c − 1 and c
    out = gg.nn.LocalResponseNorm(2, alpha=1.0, beta=1.0, k=1.0)(x)
    np.testing.assert_allclose(out.numpy().ravel(), [1 / (1 + 1 / 2), 2 / (1 + 5 / 2), 3 / (1 + 13 / 2)])
    assert repr(gg.nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"  # PyTorch's
    with pytest.raises(ValueError, match=r"local_response_norm: expected a 3-D or higher input \(N, C, …\), got"):
        F.local_response_norm(gg.ones(2, 3), 2)
    with pytest.raises(ValueError, match=r"size must be a positive integer, got 0"):
        F.local_response_norm(gg.ones(1, 2, 3), 0)


# --- multilabel margin and triplet-with-distance losses -----------------------------------------------

@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(0, 4), classes=st.integers(1, 5), reduction=st.sampled_from(REDUCTIONS),
       seed=st.integers(0, 2**16))
def test_multilabel_margin_loss_matches_pytorch(torch, rows, classes, reduction, seed):
    rng = np.random.default_rng(seed)
    shape = (rows, classes) if rows else (classes,)  # rows 0: one unbatched sample (C,)
    x = rng.normal(size=shape)
    target = rng.integers(-1, classes, size=shape)  # −1 ends a row's labels; repeats count twice, as PyTorch
    upstream = rng.normal(size=shape[:-1]) if reduction == "none" else np.array(0.8)
    results = []
    for library in (gg, torch):
        t = library.tensor(x, requires_grad=True)
        loss = library.nn.MultiLabelMarginLoss(reduction=reduction)(t, library.tensor(target))
        loss.backward(library.tensor(upstream))
        results += [loss.detach().numpy(), t.grad.numpy()]
    for mine, theirs in zip(results[:2], results[2:]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)


def test_multilabel_margin_loss_errors():
    with pytest.raises(RuntimeError, match=r"target must be integer class indices of the input's shape"):
        F.multilabel_margin_loss(gg.zeros(2, 3), gg.tensor([[0, 1, -1]]))
    with pytest.raises(RuntimeError, match=r"target holds a class index outside \[0, 3\) before its first -1"):
        F.multilabel_margin_loss(gg.zeros(2, 3), gg.tensor([[0, 5, -1], [0, 1, 2]]))
    with pytest.raises(RuntimeError, match=r"input must be a non-empty vector \(C,\) or matrix \(N, C\)"):
        F.multilabel_margin_loss(gg.zeros(2, 3, 4), gg.zeros(2, 3, 4).long())


def _cosine_distance(library):
    return lambda x1, x2: 1 - library.nn.functional.cosine_similarity(x1, x2, -1)


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(rows=st.integers(1, 4), width=st.integers(1, 4), margin=st.floats(0.1, 3.0), swap=st.booleans(),
       cosine=st.booleans(), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 2**16))
def test_triplet_margin_with_distance_loss_matches_pytorch(torch, rows, width, margin, swap, cosine, reduction,
                                                           seed):
    rng = np.random.default_rng(seed)
    triplet = [rng.normal(size=(rows, width)) for _ in range(3)]
    upstream = rng.normal(size=rows) if reduction == "none" else np.array(1.2)
    results = []
    for library in (gg, torch):
        inputs = [library.tensor(v, requires_grad=True) for v in triplet]
        module = library.nn.TripletMarginWithDistanceLoss(
            distance_function=_cosine_distance(library) if cosine else None, margin=margin, swap=swap,
            reduction=reduction)
        loss = module(*inputs)
        loss.backward(library.tensor(upstream))
        results.append([loss.detach().numpy()] + [t.grad.numpy() for t in inputs])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_triplet_margin_with_distance_loss_errors_and_default_distance():
    a, p, n = gg.ones(2, 3), gg.zeros(2, 3), gg.full((2, 3), 2.0)
    default = F.triplet_margin_with_distance_loss(a, p, n, reduction="none")
    np.testing.assert_allclose(default.numpy(), F.triplet_margin_loss(a, p, n, reduction="none").numpy())
    assert isinstance(gg.nn.TripletMarginWithDistanceLoss().distance_function, gg.nn.PairwiseDistance)
    with pytest.raises(ValueError, match=r"margin must be greater than 0, got 0"):
        F.triplet_margin_with_distance_loss(a, p, n, margin=0)
    with pytest.raises(ValueError, match=r"margin must be greater than 0, got -1"):
        gg.nn.TripletMarginWithDistanceLoss(margin=-1)
    with pytest.raises(RuntimeError, match=r"same number of dimensions, got 2-D, 2-D and 1-D"):
        F.triplet_margin_with_distance_loss(a, p, gg.zeros(3))
    with pytest.raises(TypeError):
        F.triplet_margin_with_distance_loss(a, p, n, None)  # distance_function is keyword-only, as PyTorch


# --- LazyLinear ------------------------------------------------------------------------------------

@pytest.mark.torch
def test_lazy_linear_reads_in_features_and_becomes_linear_as_pytorch(torch):
    x = np.random.default_rng(0).normal(size=(2, 5)).astype(np.float32)
    mine, theirs = gg.nn.LazyLinear(3, seed=7), torch.nn.LazyLinear(3)
    assert repr(mine) == repr(theirs) == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert mine.has_uninitialized_params() and theirs.has_uninitialized_params()
    weight = mine.weight
    optimizer = gg.optim.SGD(mine.parameters(), lr=0.5)  # built before the first call: PyTorch allows it too
    out = mine(gg.tensor(x))
    theirs(torch.tensor(x))
    assert type(mine) is gg.nn.Linear and type(theirs) is torch.nn.Linear
    assert mine.weight is weight and type(weight) is gg.nn.Parameter and weight.shape == (3, 5)
    assert mine.in_features == theirs.in_features == 5
    reference = gg.nn.Linear(5, 3, seed=7)  # the same draws as a Linear made with the same seed
    np.testing.assert_array_equal(mine.weight.numpy(), reference.weight.numpy())
    np.testing.assert_array_equal(out.numpy(), reference(gg.tensor(x)).numpy())
    before = weight.numpy().copy()
    out.sum().backward()
    optimizer.step()
    np.testing.assert_allclose(weight.numpy(), before - 0.5 * x.sum(0)[None, :].repeat(3, 0), rtol=1e-6)


def test_lazy_linear_without_bias_and_errors():
    layer = gg.nn.LazyLinear(2, bias=False, dtype=gg.float64)
    assert layer.bias is None and layer.has_uninitialized_params()
    assert layer(gg.ones(4, dtype=gg.float64)).shape == (2,) and layer.weight.dtype == gg.float64
    assert not any(isinstance(p, gg.nn.parameter.UninitializedParameter) for p in layer.parameters())
    moved = gg.nn.LazyLinear(2).to(gg.float64)  # moved before its first call: materialised in the new dtype
    assert moved(gg.ones(1, 3, dtype=gg.float64)).dtype == gg.float64 and moved.weight.dtype == gg.float64
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        assert gg.nn.LazyLinear(0)(gg.ones(2, 3)).shape == (2, 0)  # no outputs, as PyTorch allows
    with pytest.raises(ValueError, match=r"LazyLinear: out_features must be an integer >= 0, got -1"):
        gg.nn.LazyLinear(-1)
    with pytest.raises(RuntimeError, match=r"LazyLinear: the input needs a last dim"):
        gg.nn.LazyLinear(2)(gg.tensor(1.0))


# --- AdaptiveLogSoftmaxWithLoss -------------------------------------------------------------------

def _twin_adaptive(torch, cutoffs, div_value, head_bias, n_classes=9, in_features=8):
    """PyTorch's layer and ours with the same weights (ours loads PyTorch's state dict)."""
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value, head_bias).double()
    mine = gg.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value, head_bias, dtype=gg.float64)
    mine.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    return mine, theirs


@pytest.mark.torch
@settings(max_examples=20, deadline=None)
@given(cutoffs=st.lists(st.integers(1, 8), min_size=1, max_size=3, unique=True).map(sorted),
       div_value=st.sampled_from([1.0, 2.0, 4.0]), head_bias=st.booleans(), rows=st.integers(0, 6),
       seed=st.integers(0, 2**16))
def test_adaptive_log_softmax_matches_pytorch(torch, cutoffs, div_value, head_bias, rows, seed):
    assume(div_value ** len(cutoffs) <= 8)  # every tail's hidden size 8 // div_valueⁱ at least 1
    torch.manual_seed(seed)
    mine, theirs = _twin_adaptive(torch, cutoffs, div_value, head_bias)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 8) if rows else (8,))  # rows 0: one unbatched sample
    y = rng.integers(0, 9, size=(rows,) if rows else ())
    results = []
    for library, layer in ((gg, mine), (torch, theirs)):
        t = library.tensor(x, requires_grad=True)
        output, loss = layer(t, library.tensor(y))
        loss.backward()
        rows_in = library.tensor(x.reshape(-1, 8))  # PyTorch's log_prob and predict take (N, in_features) only
        results.append([output.detach().numpy(), loss.detach().numpy(), t.grad.numpy(),
                        layer.log_prob(rows_in).detach().numpy(), layer.predict(rows_in).numpy()]
                       + [None if p.grad is None else p.grad.numpy() for p in layer.parameters()])
    for ours, reference in zip(*results):
        assert (ours is None) == (reference is None)  # a tail no target reaches gets no gradient in both
        if ours is not None:
            np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_adaptive_log_softmax_probabilities_sum_to_one_and_errors(torch):
    mine, _ = _twin_adaptive(torch, [2, 5], 2.0, False)
    np.testing.assert_allclose(mine.log_prob(gg.randn(3, 8, dtype=gg.float64)).exp().sum(1).numpy(), 1.0)
    for cutoffs in ([5, 2], [2, 9], [0, 3], []):
        with pytest.raises(ValueError, match=r"cutoffs must be unique increasing integers between 1 and "):
            gg.nn.AdaptiveLogSoftmaxWithLoss(8, 9, cutoffs)
    with pytest.raises(ValueError, match=r"cluster 2's hidden size in_features // div_value\^i is 0; use a smaller"):
        gg.nn.AdaptiveLogSoftmaxWithLoss(8, 9, [2, 5], div_value=4.0)
    row = gg.ones(8, dtype=gg.float64)
    unbatched = mine(row, gg.tensor(6)).output
    assert unbatched.shape == () and unbatched.item() == pytest.approx(mine.log_prob(row)[6].item())
    with pytest.raises(RuntimeError, match=r"target values must be in \[0, 8\], got values in \[1, 9\]"):
        mine(gg.zeros(2, 8, dtype=gg.float64), gg.tensor([1, 9]))
    with pytest.raises(RuntimeError, match=r"target must be one class index per input row \(2\), got \(3,\)"):
        mine(gg.zeros(2, 8, dtype=gg.float64), gg.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match=r"input must be \(N, 8\) or \(8,\), got \(2, 7\)"):
        mine(gg.zeros(2, 7, dtype=gg.float64), gg.tensor([1, 2]))
