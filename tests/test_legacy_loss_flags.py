"""PyTorch's older ``size_average`` / ``reduce`` flags on every loss that has them (functional and module forms),
against PyTorch 2.13 in float64: the reduction they stand for, the values, the input's gradient and the warning."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

LEGACY_MESSAGE = "size_average and reduce args will be deprecated, please use reduction='{}' instead."


def _arguments(name: str, lib, x, arrays: dict) -> list:
    """The inputs of loss ``name`` made from the scores ``x`` (which require grad) and the drawn ``arrays``."""
    floats = {key: lib.tensor(value, dtype=lib.float64) for key, value in arrays.items() if value.dtype.kind == "f"}
    classes, labelled = lib.tensor(arrays["classes"]), lib.tensor(arrays["labelled"])
    y, z, signs, row_signs, bits = floats["y"], floats["z"], floats["signs"], floats["row_signs"], floats["bits"]
    return {
        "mse_loss": [x, y], "l1_loss": [x, y], "smooth_l1_loss": [x, y], "soft_margin_loss": [x, signs],
        "kl_div": [x.log_softmax(1), y.softmax(1)], "binary_cross_entropy": [x.sigmoid(), bits],
        "binary_cross_entropy_with_logits": [x, bits], "cross_entropy": [x, classes],
        "nll_loss": [x.log_softmax(1), classes], "hinge_embedding_loss": [x, signs],
        "margin_ranking_loss": [x[:, 0], y[:, 0], row_signs], "cosine_embedding_loss": [x, y, row_signs],
        "triplet_margin_loss": [x, y, z], "multilabel_soft_margin_loss": [x, bits], "multi_margin_loss": [x, classes],
        "multilabel_margin_loss": [x, labelled], "poisson_nll_loss": [x, floats["counts"]],
    }[name]


MODULES = {"mse_loss": "MSELoss", "l1_loss": "L1Loss", "smooth_l1_loss": "SmoothL1Loss",
           "soft_margin_loss": "SoftMarginLoss", "kl_div": "KLDivLoss", "binary_cross_entropy": "BCELoss",
           "binary_cross_entropy_with_logits": "BCEWithLogitsLoss", "cross_entropy": "CrossEntropyLoss",
           "nll_loss": "NLLLoss", "hinge_embedding_loss": "HingeEmbeddingLoss",
           "margin_ranking_loss": "MarginRankingLoss", "cosine_embedding_loss": "CosineEmbeddingLoss",
           "triplet_margin_loss": "TripletMarginLoss", "multilabel_soft_margin_loss": "MultiLabelSoftMarginLoss",
           "multi_margin_loss": "MultiMarginLoss", "multilabel_margin_loss": "MultiLabelMarginLoss",
           "poisson_nll_loss": "PoissonNLLLoss"}


def _draw(seed: int) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng(seed)
    labelled = rng.integers(0, 4, size=(3, 4))
    labelled[:, 2] = -1  # each row lists two target classes, then ends
    return rng.normal(size=(3, 4)), {
        "y": rng.normal(size=(3, 4)), "z": rng.normal(size=(3, 4)), "signs": rng.choice([-1.0, 1.0], size=(3, 4)),
        "row_signs": rng.choice([-1.0, 1.0], size=3), "bits": rng.integers(0, 2, size=(3, 4)).astype(float),
        "classes": rng.integers(0, 4, size=3), "labelled": labelled, "counts": rng.poisson(2.0, size=(3, 4)) * 1.0,
    }


def _run(lib, name: str, form: str, scores: np.ndarray, arrays: dict, options: dict):
    """The loss, the gradient of a weighted sum of it with respect to the scores, and the warnings it gave."""
    x = lib.tensor(scores, dtype=lib.float64, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if form == "functional":
            loss = getattr(lib.nn.functional, name)(*_arguments(name, lib, x, arrays), **options)
        else:
            loss = getattr(lib.nn, MODULES[name])(**options)(*_arguments(name, lib, x, arrays))
    (loss * loss.detach().cos()).sum().backward()
    legacy = [(w.category, str(w.message)) for w in caught if "size_average" in str(w.message)]
    return loss.detach().numpy(), x.grad.numpy(), legacy


flags = st.sampled_from([None, True, False])


@pytest.mark.torch
@settings(max_examples=120, deadline=None)
@given(name=st.sampled_from(sorted(MODULES)), form=st.sampled_from(["functional", "module"]), size_average=flags,
       reduce=flags, reduction=st.sampled_from(["mean", "sum", "none"]), seed=st.integers(0, 2**16))
def test_legacy_flags_give_pytorchs_reduction_values_and_gradients(torch, name, form, size_average, reduce, reduction,
                                                                   seed):
    scores, arrays = _draw(seed)
    options = {"size_average": size_average, "reduce": reduce, "reduction": reduction}
    value, grad, legacy = _run(gg, name, form, scores, arrays, options)
    expected_value, expected_grad, expected_legacy = _run(torch, name, form, scores, arrays, options)
    np.testing.assert_allclose(value, expected_value, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-10, atol=1e-12)
    assert legacy == expected_legacy
    if size_average is None and reduce is None:
        assert legacy == []
    else:
        averaged, reduced = size_average is not False, reduce is not False
        meant = "mean" if averaged and reduced else "sum" if reduced else "none"
        assert legacy == [(UserWarning, LEGACY_MESSAGE.format(meant))]


@pytest.mark.torch
def test_every_loss_pytorch_gives_the_flags_takes_them_in_its_order(torch):
    theirs = {name for name in dir(torch.nn.functional)
              if not name.startswith("_") and "size_average" in _parameters(getattr(torch.nn.functional, name))}
    assert theirs == set(MODULES)
    for name, module in MODULES.items():
        for mine, reference in ((getattr(gg.nn.functional, name), getattr(torch.nn.functional, name)),
                                (getattr(gg.nn, module).__init__, getattr(torch.nn, module).__init__)):
            found = _parameters(mine)
            if "args" in found:  # made by nn.loss._loss_layer, which reads its arguments in PyTorch's order itself
                with pytest.warns(UserWarning, match="reduction=.mean."):
                    getattr(gg.nn, module)(size_average=True, reduce=True)
                continue
            assert found == _parameters(reference)[:len(found)], name


def _parameters(function) -> list[str]:
    try:
        return list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []


@pytest.mark.torch
@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(["multi_margin_loss", "multilabel_soft_margin_loss"]), p=st.sampled_from([1, 2]),
       form=st.sampled_from(["functional", "module"]), seed=st.integers(0, 2**16))
def test_the_margin_losses_take_a_class_weight_in_pytorchs_place(torch, name, p, form, seed):
    """``weight`` sits before ``size_average`` there, so the flags given by position land where PyTorch reads them."""
    scores, arrays = _draw(seed)
    weight = np.random.default_rng(seed).uniform(0.5, 2.0, size=4)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(scores, dtype=lib.float64, requires_grad=True)
        settings_ = ((p, 1.0) if name == "multi_margin_loss" else ()) + (lib.tensor(weight, dtype=lib.float64), False)
        inputs = _arguments(name, lib, x, arrays)
        with pytest.warns(UserWarning, match="reduction='sum'"):
            if form == "functional":
                loss = getattr(lib.nn.functional, name)(*inputs, *settings_)
            else:
                loss = getattr(lib.nn, MODULES[name])(*settings_)(*inputs)
        loss.backward()
        found.append((loss.detach().numpy(), x.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
def test_the_flags_given_by_position_as_old_code_does(torch):
    x, y = np.array([0.5, -1.0, 2.0]), np.array([0.0, 1.0, 1.5])
    for lib in (gg, torch):
        a, b = lib.tensor(x, dtype=lib.float64), lib.tensor(y, dtype=lib.float64)
        with pytest.warns(UserWarning, match="reduction='sum'"):
            assert float(lib.nn.functional.mse_loss(a, b, False)) == pytest.approx(4.5, rel=1e-12)
        with pytest.warns(UserWarning, match="reduction='none'"):
            assert lib.nn.L1Loss(True, False)(a, b).shape == (3,)
        with pytest.warns(UserWarning, match="reduction='sum'"):
            module = lib.nn.PoissonNLLLoss(True, False, False)
        assert module.reduction == "sum"


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.functional.mse_loss(gg.ones(2), gg.ones(2), "sum"),
     "mse_loss: size_average must be True, False or None, got 'sum'; give the reduction by keyword instead"),
    (lambda: gg.nn.MSELoss("sum"), "MSELoss: size_average must be True, False or None, got 'sum'"),
    (lambda: gg.nn.BCELoss(reduce=2), "BCELoss: reduce must be True, False or None, got 2"),
    (lambda: gg.nn.HuberLoss(size_average=False), "unexpected keyword argument 'size_average'"),
])
def test_a_flag_that_is_not_a_bool_is_a_one_line_error(call, message):
    with pytest.raises(TypeError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
