"""``gg.gradcheck``: its report (errors, both Jacobians, the forward-pass count) and its failures.

The expected Jacobians are derived by hand; a deliberately wrong gradient is made by swapping a
rule's backward for a broken one.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import ops


def test_report_of_a_sum_of_squares():
    """f(x) = Σx² has the 1×3 Jacobian 2xᵀ; 3 elements cost 6 forward passes and 1 backward pass."""
    x = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda t: (t * t).sum(), [x])
    assert report.ok and report.forward_passes == 6 and report.backward_passes == 1
    (check,) = report.inputs
    assert check.ok and check.shape == (3,) and check.worst_element is None
    assert check.analytical.tolist() == [[2.0, 4.0, 6.0]]
    np.testing.assert_allclose(check.numerical, [[2.0, 4.0, 6.0]], rtol=1e-8)
    assert check.max_abs_error == report.max_error < 1e-7 and check.max_rel_error < 1e-8


def test_jacobians_of_an_elementwise_function_are_diagonal():
    """∂ sin(xᵢ)/∂xⱼ = cos(xᵢ) if i = j else 0; one backward pass per output element."""
    x = gg.tensor([0.1, -1.2, 2.0], dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(gg.sin, x)
    (check,) = report.inputs
    np.testing.assert_allclose(check.analytical, np.diag(np.cos(x.numpy())), rtol=1e-15)
    np.testing.assert_allclose(check.numerical, np.diag(np.cos(x.numpy())), atol=1e-9)
    assert report.backward_passes == 3 and report.forward_passes == 6


def test_the_4_3_4_network_needs_62_forward_passes():
    """31 parameters (W₁ 3×4, b₁ 3, W₂ 4×3, b₂ 4): 2 forward passes each, against one backward pass."""
    w1, b1 = gg.randn(3, 4, seed=1, requires_grad=True), gg.randn(3, seed=2, requires_grad=True)
    w2, b2 = gg.randn(4, 3, seed=3, requires_grad=True), gg.randn(4, seed=4, requires_grad=True)
    x, target = gg.tensor([[1.0, 0.0, 1.0, 1.0]]), gg.tensor([[1.0, 0.0, 0.0, 1.0]])

    def loss(w1, b1, w2, b2):
        hidden = gg.nn.functional.linear(x.to(w1.dtype), w1, b1).sigmoid()
        return gg.nn.functional.mse_loss(gg.nn.functional.linear(hidden, w2, b2), target.to(w1.dtype))

    report = gg.gradcheck(loss, [w1, b1, w2, b2])
    assert sum(int(np.prod(check.shape)) for check in report.inputs) == 31
    assert report.forward_passes == 62 and report.backward_passes == 1
    assert report.ok and report.max_error < 1e-8
    assert "62 forward passes" in str(report)


def test_inputs_are_checked_in_float64_and_left_unchanged():
    seen = []
    x = gg.tensor([0.5, 1.5], requires_grad=True)  # float32

    def f(t):
        seen.append(t.dtype)
        return t.exp()

    assert gg.gradcheck(f, [x]).ok
    assert set(seen) == {np.dtype(np.float64)}
    assert x.dtype == gg.float32 and x.tolist() == [0.5, 1.5] and x.grad is None


def test_only_inputs_that_require_grad_are_checked():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    constant = gg.tensor([3.0, 4.0, 5.0])
    report = gg.gradcheck(lambda a, c: a.sum() * c, [x, constant])
    assert [check.index for check in report.inputs] == [0] and report.forward_passes == 4
    np.testing.assert_allclose(report.inputs[0].analytical, [[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]])


def test_large_jacobians_are_left_out_of_the_report():
    x = gg.randn(101, seed=0, requires_grad=True)
    (check,) = gg.gradcheck(lambda t: t[1:] * t[:-1], [x]).inputs  # 100 × 101 entries > 10,000
    assert check.ok and check.numerical is None and check.analytical is None


def broken_exp(monkeypatch, factor: float) -> None:
    """Make exp's backward return ``factor · upstream · eᵃ`` instead of ``upstream · eᵃ``."""
    monkeypatch.setattr(ops, "EXP", replace(ops.EXP, backward=lambda upstream, out: (factor * upstream * out,)))


def test_a_wrong_gradient_is_reported(monkeypatch):
    """With backward 2·eˣ the error at xᵢ is |2eˣ − eˣ| = eˣ, largest at the largest x."""
    broken_exp(monkeypatch, 2.0)
    x = gg.tensor([0.0, 1.0, 0.5], dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda t: t.exp().sum(), [x])
    (check,) = report.inputs
    assert not report.ok and not check.ok
    assert check.max_abs_error == pytest.approx(np.e, rel=1e-8)
    assert check.max_rel_error == pytest.approx(1.0, rel=1e-8)
    assert check.worst_element == (0, (1,))
    assert "FAILED" in str(report) and "✗ at (0, (1,))" in str(report)


def test_raise_exception_raises_gradcheck_error(monkeypatch):
    broken_exp(monkeypatch, -1.0)
    x = gg.tensor([0.3], dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(gg.exp, gg.tensor(0.3, requires_grad=True)).inputs[0].worst_element == (0, ())
    with pytest.raises(gg.GradcheckError, match=r"(?s)gradcheck FAILED.*input 0 \(1,\): max abs error 2\.7"):
        gg.gradcheck(gg.exp, [x], raise_exception=True)


def test_tolerances_decide_a_near_miss(monkeypatch):
    """A gradient 1e-4 too large (relatively) passes rtol = 1e-3 and fails rtol = 1e-5."""
    broken_exp(monkeypatch, 1 + 1e-4)
    x = gg.tensor([0.2, 0.4], dtype=gg.float64, requires_grad=True)
    assert gg.gradcheck(gg.exp, [x], atol=0.0, rtol=1e-3).ok
    assert not gg.gradcheck(gg.exp, [x], atol=0.0, rtol=1e-5).ok


@pytest.mark.parametrize("inputs, kind, message", [
    ([[1.0, 2.0]], ValueError, "no input requires grad"),  # no tensor: passed as given, as PyTorch's
    ([gg.tensor([1.0])], ValueError, "no input requires grad"),
])
def test_bad_inputs_raise(inputs, kind, message):
    with pytest.raises(kind, match=message):
        gg.gradcheck(lambda *xs: xs[0] * 2, inputs)


def test_bad_eps_and_non_tensor_output_raise():
    x = gg.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="eps must be a positive number"):
        gg.gradcheck(gg.exp, [x], eps=0.0)
    with pytest.raises(TypeError, match="fn must return a Tensor, got float"):
        gg.gradcheck(lambda t: 1.0, [x])


def test_a_transposed_view_is_nudged_in_place():
    """Finite differences nudge the input's own entries, also for a non-contiguous view (a copy would not move)."""
    x = gg.tensor(np.arange(6.0).reshape(2, 3)).mT.detach().requires_grad_()
    report = gg.gradcheck(lambda t: (t * t * gg.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum(), [x])
    assert report.ok
