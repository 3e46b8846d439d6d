"""A sweep of loss options against PyTorch 2.13 in float64: the per-item ``weight=`` that PyTorch 2.13 gives
``mse_loss``, ``l1_loss`` and ``huber_loss`` (value, and gradients for input, target and weight), and the
shape of ``multi_margin_loss``'s unreduced losses for one sample."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
SHAPES = st.sampled_from([(3,), (2, 3), (1, 4), (2, 2, 2), ()])


def compare(ours, theirs, leaves, torch_leaves):
    """Same value, and the same gradients for every leaf after a backward of a random upstream."""
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert tuple(ours.shape) == tuple(theirs.shape)
    upstream = np.random.default_rng(0).standard_normal(tuple(theirs.shape))
    ours.backward(gg.tensor(upstream))
    theirs.backward(theirs.new_tensor(upstream))
    for mine, their in zip(leaves, torch_leaves):
        np.testing.assert_allclose(mine.grad.numpy(), their.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.torch
@settings(max_examples=30)
@given(name=st.sampled_from(["mse_loss", "l1_loss", "huber_loss"]), shape=SHAPES, reduction=REDUCTIONS,
       seed=st.integers(0, 2**16), delta=st.sampled_from([None, 0.5, 2.0]))
def test_the_per_item_weight_of_pytorch_2_13_matches_it(name, shape, reduction, seed, delta, torch):
    """PyTorch 2.13's ``weight=`` of mse/l1/huber: ``Σ wᵢlᵢ / Σ wᵢ`` as the mean for mse and l1, ``Σ wᵢlᵢ / n``
    for huber; glassgrad had no such argument (a TypeError)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape) * 2, rng.standard_normal(shape), rng.random(shape) + 0.1]
    options = {"reduction": reduction} if name != "huber_loss" or delta is None else \
        {"reduction": reduction, "delta": delta}
    leaves = [gg.tensor(array, requires_grad=True) for array in arrays]
    torch_leaves = [torch.tensor(array, requires_grad=True) for array in arrays]
    ours = getattr(F, name)(leaves[0], leaves[1], weight=leaves[2], **options)
    theirs = getattr(torch.nn.functional, name)(torch_leaves[0], torch_leaves[1], weight=torch_leaves[2], **options)
    compare(ours, theirs, leaves, torch_leaves)


@pytest.mark.torch
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_a_weight_of_another_shape_or_a_wrong_reduction_is_pytorchs_value_error(name, torch):
    x, y = np.ones((2, 3)), np.zeros((2, 3))
    for weight, reduction in ((np.ones(3), "mean"), (np.ones((2, 3)), "average")):
        with pytest.raises(ValueError):
            getattr(torch.nn.functional, name)(torch.tensor(x), torch.tensor(y), weight=torch.tensor(weight),
                                               reduction=reduction)
        with pytest.raises(ValueError, match="weight" if reduction == "mean" else "reduction"):
            getattr(F, name)(gg.tensor(x), gg.tensor(y), weight=gg.tensor(weight), reduction=reduction)


@pytest.mark.torch
@given(classes=st.integers(2, 4), scalar_target=st.booleans(), rows=st.booleans(), p=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**16))
def test_multi_margin_loss_unreduced_has_the_targets_shape(classes, scalar_target, rows, p, seed, torch):
    """One sample: scores (C,) or (1, C), the target () or (1,); PyTorch's unreduced loss has the target's shape
    (glassgrad gave () for scores (C,) and (1,) for scores (1, C), whatever the target)."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((1, classes) if rows else (classes,))
    label = np.array(rng.integers(0, classes)) if scalar_target else rng.integers(0, classes, 1)
    x, x_torch = gg.tensor(scores, requires_grad=True), torch.tensor(scores, requires_grad=True)
    ours = F.multi_margin_loss(x, gg.tensor(label), p=p, reduction="none")
    theirs = torch.nn.functional.multi_margin_loss(x_torch, torch.tensor(label), p=p, reduction="none")
    compare(ours, theirs, [x], [x_torch])


BAD_OPTIONS = {
    "label_smoothing above 1": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing=1.5),
    "ignore_index with probabilities": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3), lib.ones(2, 3) / 3, ignore_index=0),
    "class weight of another length": lambda lib: lib.nn.functional.nll_loss(
        lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(4)),
    "multi_margin weight of another length": lambda lib: lib.nn.functional.multi_margin_loss(
        lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(4)),
    "scalar scores": lambda lib: lib.nn.functional.cross_entropy(lib.tensor(1.0), lib.tensor(0)),
    "bce target above 1": lambda lib: lib.nn.functional.binary_cross_entropy(lib.ones(3) / 2, lib.ones(3) * 2),
    "bce weight that does not broadcast": lambda lib: lib.nn.functional.binary_cross_entropy(
        lib.ones(4, 3) / 2, lib.ones(4, 3), weight=lib.ones(4)),
    "pos_weight that does not broadcast": lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
        lib.ones(2, 3), lib.ones(2, 3), pos_weight=lib.ones(2)),
    "smooth_l1 beta below 0": lambda lib: lib.nn.functional.smooth_l1_loss(lib.ones(3), lib.ones(3), beta=-1.0),
    "huber delta 0": lambda lib: lib.nn.functional.huber_loss(lib.ones(3), lib.ones(3), delta=0.0),
    "HuberLoss delta below 0": lambda lib: lib.nn.HuberLoss(delta=-2.0)(lib.ones(3), lib.ones(3)),
    "SmoothL1Loss beta below 0": lambda lib: lib.nn.SmoothL1Loss(beta=-2.0)(lib.ones(3), lib.ones(3)),
    "K-dim target of another shape": lambda lib: lib.nn.functional.cross_entropy(
        lib.ones(2, 3, 4), lib.tensor([[0, 1, 2]])),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", BAD_OPTIONS)
def test_bad_loss_options_raise_pytorchs_exception_type(case, torch):
    """glassgrad raised ValueError where PyTorch raises RuntimeError for these options (its message is its own,
    one line)."""
    with pytest.raises(Exception) as theirs:
        BAD_OPTIONS[case](torch)
    with pytest.raises(Exception) as ours:
        BAD_OPTIONS[case](gg)
    assert type(ours.value) is type(theirs.value), (ours.value, theirs.value)
    assert "\n" not in str(ours.value)


def _probabilities(lib):
    return lib.tensor(np.linspace(0.1, 0.9, 12).reshape(4, 3))


OLD_MEAN_NAME_TAKERS = {  # the losses whose reduction PyTorch's kernels read: they take "elementwise_mean"
    "mse_loss": lambda lib, r: lib.nn.functional.mse_loss(_probabilities(lib), _probabilities(lib).flip(0),
                                                          reduction=r),
    "huber_loss": lambda lib, r: lib.nn.functional.huber_loss(_probabilities(lib) * 5, _probabilities(lib),
                                                              reduction=r),
    "binary_cross_entropy": lambda lib, r: lib.nn.functional.binary_cross_entropy(
        _probabilities(lib), _probabilities(lib).flip(0), reduction=r),
    "kl_div": lambda lib, r: lib.nn.functional.kl_div(_probabilities(lib).log(), _probabilities(lib).flip(0),
                                                      reduction=r),
    "cross_entropy": lambda lib, r: lib.nn.functional.cross_entropy(_probabilities(lib), lib.tensor([0, 2, 1, 2]),
                                                                    reduction=r),
    "multi_margin_loss": lambda lib, r: lib.nn.functional.multi_margin_loss(
        _probabilities(lib), lib.tensor([0, 2, 1, 2]), reduction=r),
    "hinge_embedding_loss": lambda lib, r: lib.nn.functional.hinge_embedding_loss(
        _probabilities(lib), lib.tensor([[1.0, -1.0, 1.0]] * 4), reduction=r),
    "triplet_margin_loss": lambda lib, r: lib.nn.functional.triplet_margin_loss(
        _probabilities(lib), _probabilities(lib).flip(0), _probabilities(lib) * 2, reduction=r),
    "ctc_loss": lambda lib, r: lib.nn.functional.ctc_loss(
        _probabilities(lib).reshape(4, 1, 3).log_softmax(2), lib.tensor([[1, 2]]), (4,), (2,), reduction=r),
    "MSELoss": lambda lib, r: lib.nn.MSELoss(reduction=r)(_probabilities(lib), _probabilities(lib).flip(0)),
    "KLDivLoss": lambda lib, r: lib.nn.KLDivLoss(reduction=r)(_probabilities(lib).log(), _probabilities(lib)),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", OLD_MEAN_NAME_TAKERS)
def test_the_old_name_elementwise_mean_is_the_mean_with_a_warning_as_in_pytorch(case, torch):
    """``reduction="elementwise_mean"`` (PyTorch 0.4's name) is PyTorch's mean, with a deprecation warning;
    glassgrad raised ValueError."""
    with pytest.warns(UserWarning, match="elementwise_mean"):
        theirs = OLD_MEAN_NAME_TAKERS[case](torch, "elementwise_mean")
    with pytest.warns(UserWarning, match="elementwise_mean"):
        ours = OLD_MEAN_NAME_TAKERS[case](gg, "elementwise_mean")
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(ours.numpy(), OLD_MEAN_NAME_TAKERS[case](gg, "mean").numpy())


@pytest.mark.torch
@settings(max_examples=25)
@given(shape=st.sampled_from([(3,), (2, 3), (2, 3, 2), (1, 4, 2, 2)]), seed=st.integers(0, 2**16),
       smoothing=st.sampled_from([0.0, 0.2, 1.0]), weighted=st.booleans(), reduction=REDUCTIONS)
def test_cross_entropy_with_probability_targets_gives_the_targets_pytorchs_gradient(shape, seed, smoothing, weighted,
                                                                                   reduction, torch):
    """Soft labels that require grad (distillation): ∂L/∂p = −(1 − ε)·w·log softmax(z), with label smoothing ε and
    class weights w, in every layout."""
    rng = np.random.default_rng(seed)
    classes = shape[0] if len(shape) == 1 else shape[1]
    probabilities = rng.random(shape)
    probabilities /= probabilities.sum(axis=0 if len(shape) == 1 else 1, keepdims=True)
    arrays = [rng.standard_normal(shape) * 2, probabilities, rng.random(classes) + 0.1]
    leaves = [gg.tensor(array, requires_grad=True) for array in arrays[:2]]
    torch_leaves = [torch.tensor(array, requires_grad=True) for array in arrays[:2]]
    ours = F.cross_entropy(*leaves, weight=gg.tensor(arrays[2]) if weighted else None,
                           label_smoothing=smoothing, reduction=reduction)
    theirs = torch.nn.functional.cross_entropy(*torch_leaves, weight=torch.tensor(arrays[2]) if weighted else None,
                                               label_smoothing=smoothing, reduction=reduction)
    compare(ours, theirs, leaves, torch_leaves)
