"""Anomaly detection (``gg.autograd.detect_anomaly``, :mod:`glassgrad.anomaly`) against PyTorch 2.13.

The oracle: for the same program, PyTorch's anomaly mode raises exactly when glassgrad's does, and
blames the same op (its ``grad_fn`` name, ``SqrtBackward0``, against the row's name, ``sqrt``);
without the mode, both hand back the same (NaN) gradients. The message is checked against the
row's own derivative text and the numbers at the entry, computed here by hand.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.ops import RULES

# name: (program of (lib, x) -> loss, x's values, the op PyTorch and glassgrad blame, or None: no NaN gradient)
PROGRAMS = {
    "sqrt_at_zero_times_zero": (lambda lib, x: (x.sqrt() * lib.tensor([0.0, 1.0, 1.0])).sum(), [0.0, 4.0, 9.0],
                                "sqrt"),
    "where_hides_a_nan_branch": (lambda lib, x: lib.where(x > 0, x.sqrt(), lib.zeros_like(x)).sum(),
                                 [-1.0, 4.0, 9.0], "sqrt"),
    "x_over_x_at_zero": (lambda lib, x: (x / x).sum(), [0.0, 2.0, 3.0], "div"),
    "log_of_a_negative_number": (lambda lib, x: (x.log() * 2).sum(), [-1.0, 2.0, 3.0], None),
    "power_half_at_zero": (lambda lib, x: (x ** 0.5).sum(), [0.0, 1.0, 2.0], None),
    "clean_mlp_like_loss": (lambda lib, x: (x.tanh() * x.sigmoid()).square().mean(), [0.5, -1.0, 2.0], None),
}

TORCH_NAMES = {"sqrt": "SqrtBackward0", "div": "DivBackward0"}


def _run(lib, program, values, anomaly: bool):
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's divide-by-zero notes, PyTorch's "anomaly mode is on" note
        with lib.autograd.detect_anomaly() if anomaly else lib.autograd.set_detect_anomaly(False):
            try:
                program(lib, x).backward()
            except RuntimeError as error:
                return None, str(error)
    return x.grad.numpy(), None


@pytest.mark.torch
@pytest.mark.parametrize("name", PROGRAMS)
def test_raises_exactly_where_pytorch_raises_and_blames_the_same_op(torch, name):
    program, values, blamed = PROGRAMS[name]
    mine_grad, mine_error = _run(gg, program, values, anomaly=True)
    their_grad, their_error = _run(torch, program, values, anomaly=True)
    assert (mine_error is None) == (their_error is None) == (blamed is None)
    if blamed is None:
        np.testing.assert_allclose(mine_grad, their_grad, rtol=1e-12, equal_nan=True)
    else:
        assert TORCH_NAMES[blamed] in their_error
        assert mine_error.startswith(f"backward made NaN: the rule of '{blamed}' gave NaN")
    plain_mine, plain_error = _run(gg, program, values, anomaly=False)  # without the mode: NaN goes through
    plain_theirs, _ = _run(torch, program, values, anomaly=False)
    assert plain_error is None
    np.testing.assert_allclose(plain_mine, plain_theirs, rtol=1e-12, equal_nan=True)


def test_the_message_names_the_rule_its_derivative_and_the_numbers_at_the_entry():
    x = gg.tensor([4.0, 0.0], dtype=gg.float64, requires_grad=True)
    with gg.autograd.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(RuntimeError) as caught:
            (x.sqrt() * gg.tensor([1.0, 0.0], dtype=gg.float64)).sum().backward()
    message = str(caught.value)
    assert "\n" not in message
    derivative = RULES["sqrt"].derivative_lines()[0]  # the row's own text: ∂out/∂a = 1/(2√a) = 1/(2·out)
    assert message == (f"backward made NaN: the rule of 'sqrt' gave NaN in ∂L/∂a (input 0) at entry [1]: {derivative}; "
                       "there ∂L/∂out = 0.0, a = 0.0, out = 0.0 (anomaly detection: gg.autograd.detect_anomaly)")
    assert x.grad is None  # the pass stopped before any .grad was written


def test_a_nan_that_comes_with_the_given_gradient_is_said_to():
    x = gg.tensor([1.0, 2.0], dtype=gg.float64, requires_grad=True)
    y = x * 3.0
    with gg.autograd.detect_anomaly(), pytest.raises(RuntimeError, match=r"∂L/∂out itself already held NaN"):
        y.backward(gg.tensor([1.0, float("nan")], dtype=gg.float64))


def test_autograd_grad_and_create_graph_are_checked_too():
    x = gg.tensor([0.0, 1.0], dtype=gg.float64, requires_grad=True)
    for create_graph in (False, True):
        with gg.autograd.detect_anomaly(), np.errstate(all="ignore"):
            with pytest.raises(RuntimeError, match=r"^backward made NaN: the rule of 'sqrt'"):
                gg.autograd.grad((x.sqrt() * gg.tensor([0.0, 1.0], dtype=gg.float64)).sum(), x,
                                 create_graph=create_graph)


def test_a_nan_for_an_input_that_needs_no_gradient_is_not_blamed():
    x = gg.tensor([-1.0, 2.0], dtype=gg.float64, requires_grad=True)
    constant = gg.tensor([3.0, 4.0], dtype=gg.float64)
    with gg.autograd.detect_anomaly(), np.errstate(all="ignore"):
        (x.log() * constant).sum().backward()  # mul's rule for the constant's side, up·log(x), is NaN: unread
    np.testing.assert_array_equal(x.grad.numpy(), [3.0 / -1.0, 4.0 / 2.0])  # ∂/∂x = constant / x


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")  # PyTorch's note on entering the mode
def test_switches_nest_and_come_back_as_in_pytorch(torch):
    for lib in (gg, torch):
        assert not lib.is_anomaly_enabled()
        with lib.autograd.detect_anomaly(check_nan=False):
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
            with lib.autograd.set_detect_anomaly(True):
                assert lib.is_anomaly_enabled() and lib.is_anomaly_check_nan_enabled()
            assert lib.is_anomaly_enabled() and not lib.is_anomaly_check_nan_enabled()
        assert not lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(True)  # a plain call switches it now and leaves it on
        assert lib.is_anomaly_enabled()
        lib.autograd.set_detect_anomaly(False)
        assert not lib.is_anomaly_enabled()


def test_check_nan_false_lets_nan_through():
    x = gg.tensor([0.0, 1.0], dtype=gg.float64, requires_grad=True)
    with gg.autograd.detect_anomaly(check_nan=False), np.errstate(all="ignore"):
        (x.sqrt() * gg.tensor([0.0, 1.0], dtype=gg.float64)).sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_a_compiled_step_runs_eagerly_while_detection_is_on_so_its_rules_are_checked():
    w = gg.tensor([1.0, 4.0], dtype=gg.float64, requires_grad=True)
    opt = gg.optim.SGD([w], lr=0.1)

    @gg.compile
    def step(scale):
        opt.zero_grad()
        loss = (w.sqrt() * scale).sum()
        loss.backward()
        opt.step()
        return loss

    for _ in range(3):  # captured twice, then replayed
        step(gg.tensor([1.0, 1.0], dtype=gg.float64))
    w.data.copy_(gg.tensor([0.0, 4.0], dtype=gg.float64))
    with np.errstate(all="ignore"):
        step(gg.tensor([0.0, 1.0], dtype=gg.float64))  # replayed: NaN goes into w unseen, as in eager without the mode
    assert np.isnan(w.numpy()[0])
    w.data.copy_(gg.tensor([0.0, 4.0], dtype=gg.float64))
    with gg.autograd.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.warns(UserWarning, match=re.escape("gg.compile(step): anomaly detection is on")):
            with pytest.raises(RuntimeError, match=r"^backward made NaN: the rule of 'sqrt'"):
                step(gg.tensor([0.0, 1.0], dtype=gg.float64))
