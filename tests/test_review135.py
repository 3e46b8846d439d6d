"""Defects found by the review of round 135 (today's merged rounds 125–133), each fixed and pinned here.

- float16 ``cross_entropy``'s fused row took ln Σ in float32 where PyTorch's log_softmax over the last dim takes it of
  Σ rounded to float16: per-row losses up to 470 ulps from PyTorch's, and from glassgrad's own
  ``nll_loss(log_softmax(x))``.
- ``gg.tensor([2**63, 1.0], dtype=gg.int64)`` wrapped to −2⁶³ (the float compare against ``float(iinfo.max)``, which is
  2⁶³); PyTorch raises ValueError for the Python int.
- the negative ``label_smoothing`` warning pointed at glassgrad's loss.py when it came through ``nn.CrossEntropyLoss``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 300), classes=st.integers(1, 40), scale=st.sampled_from([0.5, 3.0, 8.0]),
       seed=st.integers(0, 2**16))
def test_float16_cross_entropy_rows_are_pytorchs(rows, classes, scale, seed, torch):
    """Each row's loss, bit for bit (the total of many rows is PyTorch's to within its own float16 running sum,
    left: glassgrad adds the rows in float32 and rounds once)."""
    rng = np.random.default_rng(seed)
    scores = (rng.normal(size=(rows, classes)) * scale).astype(np.float16)
    target = rng.integers(0, classes, size=rows)
    ours = gg.nn.functional.cross_entropy(gg.tensor(scores), gg.tensor(target), reduction="none").numpy()
    theirs = torch.nn.functional.cross_entropy(torch.tensor(scores), torch.tensor(target), reduction="none").numpy()
    np.testing.assert_array_equal(ours, theirs)
    composed = gg.nn.functional.nll_loss(gg.nn.functional.log_softmax(gg.tensor(scores), 1), gg.tensor(target),
                                         reduction="none").numpy()
    np.testing.assert_array_equal(ours, composed)


@pytest.mark.torch
def test_float16_cross_entropy_of_a_confident_row(torch):
    scores = np.array([[6.0, 0.0, -1.0]], np.float16)
    ours = gg.nn.functional.cross_entropy(gg.tensor(scores), gg.tensor([0]), reduction="none")
    theirs = torch.nn.functional.cross_entropy(torch.tensor(scores), torch.tensor([0]), reduction="none")
    assert ours.numpy().tolist() == theirs.numpy().tolist()


@pytest.mark.torch
@pytest.mark.parametrize("data", [[2**63, 1.0], [1.0, -(2**63) - 1], [[2**64, 0.5]]])
def test_a_python_int_past_int64_among_floats_is_pytorchs_value_error(data, torch):
    with pytest.raises(ValueError) as theirs:
        torch.tensor(data, dtype=torch.int64)
    with pytest.raises(ValueError, match="outside int64's range") as ours:
        gg.tensor(data, dtype=gg.int64)
    assert theirs.type is ours.type and "\n" not in str(ours.value)


@pytest.mark.parametrize("value", [2.0**63, 1e19, -(2.0**63) * 2])
def test_a_float_at_or_past_two_to_the_63_never_wraps_into_int64(value):
    with pytest.raises(RuntimeError, match="cannot be converted to int64 without overflow"):
        gg.tensor([value, 1.0], dtype=gg.int64)


@pytest.mark.torch
def test_the_largest_float_below_two_to_the_63_is_still_an_int64(torch):
    value = float(np.nextafter(2.0**63, 0))
    assert gg.tensor([value], dtype=gg.int64).tolist() == torch.tensor([value], dtype=torch.int64).tolist()


def test_the_negative_label_smoothing_warning_points_at_the_learners_line_through_the_module():
    loss_fn = gg.nn.CrossEntropyLoss(label_smoothing=-0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss_fn(gg.ones(2, 3), gg.tensor([0, 2]))
    assert [w.filename for w in caught] == [__file__]


@pytest.mark.torch
@pytest.mark.parametrize("b_grad", [True, False])
def test_rtruediv_called_by_name_gives_the_other_tensor_its_gradient(b_grad, torch):
    """``a.__rtruediv__(b)`` (b / a) with a tensor b that requires grad: b's gradient was never computed (its
    ``needs`` was written False, as for a number), where PyTorch's is 1/a. Found by round 129's hypothesis test in
    CI."""
    ours_a, ours_b = gg.tensor(0.9, dtype=gg.float64, requires_grad=True), gg.tensor(0.5, dtype=gg.float64,
                                                                                     requires_grad=b_grad)
    theirs_a, theirs_b = (torch.tensor(0.9, dtype=torch.float64, requires_grad=True),
                          torch.tensor(0.5, dtype=torch.float64, requires_grad=b_grad))
    ours_a.__rtruediv__(ours_b).backward()
    theirs_a.__rtruediv__(theirs_b).backward()
    assert ours_a.grad.item() == pytest.approx(theirs_a.grad.item(), rel=1e-12)
    assert (ours_b.grad is None) == (theirs_b.grad is None)
    if b_grad:
        assert ours_b.grad.item() == pytest.approx(theirs_b.grad.item(), rel=1e-12)
