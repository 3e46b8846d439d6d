"""The tape: what it records in forward, backward and updates, and that it leaves no trace when closed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
import glassgrad.nn.functional as F
import glassgrad.optim
from glassgrad import ops
from glassgrad.autograd import current_tape
from glassgrad.trace import Tape, trace
from glassgrad.trace.local import local_derivatives
from glassgrad.trace.sections import backward_rows


def test_forward_records_each_op_with_copies_of_its_values():
    w = gg.tensor([[2.0, -1.0]], requires_grad=True)
    x = gg.tensor([[1.0, 3.0]])
    with trace() as tape:
        z = F.linear(x, w)
        loss = F.mse_loss(z, gg.tensor([[0.0]]))
    assert [r.op.name for r in tape.forward] == ["linear", "mse_loss"]
    first = tape.forward[0]
    assert first.inputs == (tape.key(x), tape.key(w))
    np.testing.assert_array_equal(first.output_value, [[2.0 * 1.0 - 1.0 * 3.0]])
    assert tape.forward[1].reduction == "mean"
    assert tape.forward[1].output_value == pytest.approx(1.0)  # (−1 − 0)²
    with gg.no_grad():
        w -= 10.0  # later in-place changes do not touch the record
    np.testing.assert_array_equal(first.input_values[1], [[2.0, -1.0]])
    assert loss.item() == pytest.approx(1.0)


def test_backward_records_upstream_and_unbroadcast_contributions():
    x = gg.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = gg.tensor([10.0], requires_grad=True)
    with trace() as tape:
        (x * b).sum().backward()
    mul = tape.backward[-1]
    assert mul.op.name == "mul"
    np.testing.assert_array_equal(mul.upstream, np.ones((2, 3)))
    np.testing.assert_array_equal(mul.contributions[0], np.full((2, 3), 10.0))  # ∂/∂x = b
    np.testing.assert_array_equal(mul.contributions[1], [21.0])  # ∂/∂b = Σ x, summed to b's shape (1,)
    np.testing.assert_array_equal(b.grad.array, [21.0])


def test_a_tensor_used_twice_is_marked_accumulated_the_second_time():
    x = gg.tensor([3.0], requires_grad=True)
    with trace() as tape:
        (x * x).sum().backward()
    mul = tape.backward[-1]
    assert mul.accumulated == (False, True)
    assert mul.contributions[0] + mul.contributions[1] == pytest.approx(x.grad.array)


def test_a_gradient_left_over_from_an_earlier_backward_is_reported_as_added_to():
    w = gg.tensor([2.0, -1.0], requires_grad=True)
    (w * w).sum().backward()  # no zero_grad() afterwards: w.grad = 2w stays
    with trace() as tape:
        (w * 3.0).sum().backward()
    (mul,) = [record for record in tape.backward if record.op.name == "mul"]
    assert mul.earlier_grad == (True, False) and mul.accumulated == (False, False)
    np.testing.assert_allclose(w.grad.array, 2 * np.array([2.0, -1.0]) + 3.0)
    (row,) = [r for r in backward_rows(tape.describe()) if r.formula.startswith("∂v₂/∂X")]
    assert "added to X.grad, which still held the gradient of an earlier backward()" in row.note
    w.grad.array[...] = 0  # zeroed in place (zero_grad(set_to_none=False)): nothing left over
    with trace() as tape:
        (w * 3.0).sum().backward()
    assert [r for r in tape.backward if r.op.name == "mul"][0].earlier_grad == (False, False)


def test_updates_are_recorded_with_the_rule_and_the_numbers():
    w = gg.tensor([1.0, -2.0], requires_grad=True)
    optimizer = gg.optim.SGD([w], lr=0.1)
    with trace() as tape:
        (w * w).sum().backward()
        optimizer.step()
    (update,) = tape.updates
    assert update.optimizer == "SGD" and update.lr == 0.1
    np.testing.assert_allclose(update.gradient, [2.0, -4.0])  # ∂Σw²/∂w = 2w
    np.testing.assert_allclose(update.new, np.array([1.0, -2.0]) - 0.1 * np.array([2.0, -4.0]), rtol=1e-6)
    assert "w ← w − η·g" in update.formula


def test_state_tape_is_restored_on_exit_even_after_an_error_and_tapes_nest():
    assert current_tape() is None
    with pytest.raises(KeyError):
        with trace() as outer:
            with trace() as inner:
                assert current_tape() is inner
                gg.tensor([1.0]) + 1
            assert current_tape() is outer
            raise KeyError("a failure inside the block")
    assert current_tape() is None
    assert len(inner.forward) == 1 and not outer.forward


def test_nothing_is_recorded_after_the_block():
    with trace() as tape:
        gg.tensor([1.0]) * 2
    gg.tensor([1.0]) * 3
    assert len(tape.forward) == 1


def test_passes_split_at_each_new_forward_after_a_backward():
    w = gg.tensor([1.0], requires_grad=True)
    with trace() as tape:
        for _ in range(3):
            (w * 2).sum().backward()
    assert tape.passes == 3
    forward, backward = tape.pass_records(2)
    assert [r.op.name for r in forward] == ["mul", "sum"] and len(backward) == 2
    with pytest.raises(IndexError, match="3 pass"):
        tape.pass_records(3)


def test_module_calls_group_their_ops_and_watch_gives_names():
    model = gg.nn.Sequential(gg.nn.Linear(4, 3, seed=0), gg.nn.ReLU(), gg.nn.Linear(3, 2, seed=1))
    with trace(model) as tape:
        model(gg.ones(2, 4))
    assert [(call.name, call.kind) for call in tape.modules] == [("0", "Linear"), ("1", "ReLU"), ("2", "Linear")]
    assert [tape.modules[r.module].name for r in tape.forward] == ["0", "1", "2"]
    assert sorted(tape.parameter_names.values()) == ["0.bias", "0.weight", "2.bias", "2.weight"]


def test_bad_names_and_bad_watch_targets_are_explained():
    with pytest.raises(ValueError, match="non-empty string"):
        Tape().name(gg.ones(1), " ")
    with pytest.raises(TypeError, match="gg.nn.Module"):
        Tape().watch(object())


ELEMENTWISE = [ops.RELU, ops.SIGMOID, ops.TANH, ops.EXP, ops.SIN, ops.COS, ops.ABS, ops.NEG]


@given(st.sampled_from(ELEMENTWISE),
       hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=4),
                  elements=st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3)))
def test_local_derivatives_match_finite_differences_and_the_engine(op, values):
    """Oracle: central differences of the op's forward; and upstream ⊙ local is the engine's contribution."""
    x = gg.tensor(values, requires_grad=True)
    with trace() as tape:
        out = getattr(x, op.name if op.name != "neg" else "__neg__")()
        (out * gg.tensor(np.arange(out.array.size, dtype=np.float64).reshape(out.shape) + 1)).sum().backward()
    record = next(r for r in tape.forward if r.op is op)
    (local,) = local_derivatives(op, record.input_values, record.output_value, record.settings)
    eps = 1e-6
    numerical = (op.forward(values + eps)[0] - op.forward(values - eps)[0]) / (2 * eps)
    np.testing.assert_allclose(local, numerical, atol=1e-6)
    back = next(r for r in tape.backward if r.op is op)
    np.testing.assert_allclose(back.upstream * local, back.contributions[0], rtol=1e-12)


@given(hnp.arrays(np.float64, (3, 4), elements=st.floats(-2, 2)),
       hnp.arrays(np.float64, (4,), elements=st.floats(-2, 2)))
def test_binary_local_derivatives_broadcast_then_sum_to_the_engine_contribution(a, b):
    x, y = gg.tensor(a, requires_grad=True), gg.tensor(b, requires_grad=True)
    with trace() as tape:
        (x * y).sum().backward()
    forward = next(r for r in tape.forward if r.op is ops.MUL)
    local_x, local_y = local_derivatives(ops.MUL, forward.input_values, forward.output_value, forward.settings)
    np.testing.assert_array_equal(local_x, np.broadcast_to(b, (3, 4)))
    np.testing.assert_allclose(local_y.sum(axis=0), y.grad.array)  # ones upstream: Σ over the broadcast rows
    np.testing.assert_allclose(x.grad.array, np.broadcast_to(b, (3, 4)))
