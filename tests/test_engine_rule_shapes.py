"""The engine checks every contribution a backward rule returns, on every edge (issue 9, item 3).

A contribution in the input's shape passes; one in a shape the input broadcasts to is summed
back (and cast to the input's dtype); anything else is a bug in the rule and fails at once,
naming the op, the input and both shapes, instead of leaving a wrong-shaped ``.grad``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import glassgrad as gg
from glassgrad import ops


def with_rule(monkeypatch, name: str, backward) -> None:
    """Replace the backward rule of ``ops.<name>`` (what ``-x`` or ``a * b`` uses) for one test."""
    monkeypatch.setattr(ops, name, dataclasses.replace(getattr(ops, name), backward=backward))


def test_a_rule_that_returns_a_scalar_for_a_matrix_fails_naming_the_op_and_both_shapes(monkeypatch):
    with_rule(monkeypatch, "NEG", lambda up, saved: (np.array(-up.sum()),))
    w = gg.ones(2, 2, requires_grad=True)
    y = (-w).sum()
    with pytest.raises(RuntimeError) as caught:
        y.backward()
    message = str(caught.value)
    assert "\n" not in message
    assert "'neg'" in message and "input 0 (a)" in message
    assert "shape ()" in message and "shape (2, 2)" in message
    assert "bug in that op's backward rule" in message
    assert w.grad is None  # nothing wrong was stored


def test_a_rule_that_returns_the_wrong_length_fails_naming_the_input(monkeypatch):
    with_rule(monkeypatch, "MUL", lambda up, saved: (np.ones(3), np.ones(3)))
    a = gg.tensor([1.0, 2.0], requires_grad=True)
    b = gg.tensor([3.0, 4.0])
    with pytest.raises(RuntimeError, match=r"'mul'.*shape \(3,\) for its input 0 \(a\), which has shape \(2,\)"):
        (a * b).sum().backward()


def test_a_contribution_in_a_broadcast_shape_is_summed_back_for_any_rule(monkeypatch):
    """Even a rule of one input (no broadcasting of its own) may hand back a broadcast of its input's shape."""
    with_rule(monkeypatch, "NEG", lambda up, saved: (-np.broadcast_to(up, (3, *up.shape)) / 3,))
    w = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    (-w * gg.tensor([5.0, 7.0], dtype=gg.float64)).sum().backward()
    assert w.grad.shape == (2,)
    np.testing.assert_allclose(w.grad.numpy(), [-5.0, -7.0])


def test_a_contribution_of_another_dtype_is_cast_to_the_input_dtype(monkeypatch):
    with_rule(monkeypatch, "NEG", lambda up, saved: ((-up).astype(np.float64),))
    w = gg.ones(3, requires_grad=True)  # float32
    (-w).sum().backward()
    assert w.grad.dtype == gg.float32
    np.testing.assert_array_equal(w.grad.numpy(), -np.ones(3, dtype=np.float32))


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b, up: (up, up)),
    "sub": (lambda a, b: a - b, lambda a, b, up: (up, -up)),
    "mul": (lambda a, b: a * b, lambda a, b, up: (up * b, up * a)),
    "div": (lambda a, b: a / b, lambda a, b, up: (up / b, -up * a / b**2)),
    "maximum": (lambda a, b: a.maximum(b), None),
    "where": (lambda a, b: gg.where(a.detach() > 0, a, b), None),
}


def summed_to(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Hand-derived un-broadcasting: sum the leading axes away, then the stretched ones (keeping them)."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


@given(
    shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3),
    op=st.sampled_from(sorted(BINARY)),
    dtypes=st.sampled_from([("float64", "float64"), ("float32", "float64"), ("float64", "int64")]),
    seed=st.integers(0, 2**16),
)
def test_every_contribution_ends_up_in_its_parents_shape_and_dtype(shapes, op, dtypes, seed):
    (shape_a, shape_b), out_shape = shapes.input_shapes, shapes.result_shape
    rng = np.random.default_rng(seed)
    values_a = rng.uniform(0.5, 2.0, shape_a) * rng.choice([-1, 1], shape_a)
    values_b = rng.uniform(0.5, 2.0, shape_b)
    a = gg.tensor(values_a, dtype=dtypes[0], requires_grad=True)
    b = gg.tensor(np.round(values_b) if dtypes[1] == "int64" else values_b, dtype=dtypes[1],
                  requires_grad=dtypes[1] != "int64")
    upstream = rng.standard_normal(out_shape)
    forward, derivative = BINARY[op]
    out = forward(a, b)
    assert out.shape == out_shape
    out.backward(gg.tensor(upstream, dtype=out.dtype))
    assert a.grad.shape == shape_a and a.grad.dtype == a.dtype
    if b.requires_grad:
        assert b.grad.shape == shape_b and b.grad.dtype == b.dtype
    if derivative is not None:  # the values too, against the hand-derived rule summed back by hand
        wide_a = np.broadcast_to(a.array.astype(np.float64), out_shape)
        wide_b = np.broadcast_to(b.array.astype(np.float64), out_shape)
        expected_a, expected_b = derivative(wide_a, wide_b, upstream)
        tolerance = 1e-5 if "float32" in dtypes else 1e-10
        np.testing.assert_allclose(a.grad.numpy(), summed_to(expected_a, shape_a), rtol=tolerance, atol=tolerance)
        if b.requires_grad:
            np.testing.assert_allclose(b.grad.numpy(), summed_to(expected_b, shape_b), rtol=tolerance,
                                       atol=tolerance)
