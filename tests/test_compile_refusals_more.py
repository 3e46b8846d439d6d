"""A post-accumulate-grad hook and a try/except inside a compiled step, and where a refusal's warning points.

``p.register_post_accumulate_grad_hook(hook)`` (PyTorch's optimizer-in-backward recipe) runs Python in the step's
backward: the capture did not notice, its program's guard (no hooked tensor) failed at every call, and the step was
captured again at every call, never replayed, without a word. It now runs eagerly, saying why; the hook runs at each
call and the weights are eager's, bit for bit.

A step catching an exception (``try: … except E: …``) replayed with no Python: a kernel's check that refused a
later call (cholesky of a matrix that is not positive-definite) raised to the caller, where eager's ``except``
handles it. It now runs eagerly, saying why; ``with`` blocks and ``finally`` are no such catch.

A refusal's warning pointed at glassgrad's own file (``compiled.py``), where a learner's editor and ``-W error``
tracebacks need the learner's line: it now points at the first line outside glassgrad, the call of the compiled step.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import glassgrad as gg


def _train(compile_it, calls=8):
    gg.manual_seed(0)
    model = gg.nn.Linear(3, 2, dtype=gg.float64)
    opt = gg.optim.SGD(model.parameters(), lr=0.1)
    seen = []

    def clip_then_count(parameter):
        parameter.grad.clamp_(-0.5, 0.5)
        seen.append(float(parameter.grad.abs().max()))

    model.weight.register_post_accumulate_grad_hook(clip_then_count)

    def step(x):
        opt.zero_grad()
        loss = model(x).pow(2).mean()
        loss.backward()
        opt.step()
        return loss

    run = gg.compile(step) if compile_it else step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses = [run(gg.full((4, 3), 1.0 + call, dtype=gg.float64)).item() for call in range(calls)]
    return losses, model.weight.numpy().copy(), seen, [str(w.message) for w in caught], run


def test_a_post_accumulate_grad_hook_makes_the_step_run_eagerly_saying_why():
    eager, compiled = _train(False), _train(True)
    assert compiled[0] == eager[0] and compiled[2] == eager[2] and len(compiled[2]) == 8
    np.testing.assert_array_equal(compiled[1], eager[1])
    assert len(compiled[3]) == 1 and "post-accumulate-grad hook" in compiled[3][0], compiled[3]
    (entry,) = compiled[4].entries.values()
    assert entry.captures == 1 and entry.replays == 0  # refused at its first capture, not captured at every call


def test_a_refusals_warning_points_at_the_line_calling_the_compiled_step():
    @gg.compile
    def step(x):
        return x * x.sum().item()

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        step(gg.ones(3))
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def test_the_tapes_warning_points_at_the_line_calling_the_compiled_step():
    step = gg.compile(lambda x: x * 2)
    with warnings.catch_warnings(record=True) as caught, gg.trace():
        warnings.simplefilter("always")
        line = inspect.currentframe().f_lineno + 1
        step(gg.ones(3))
    assert [(w.filename, w.lineno) for w in caught] == [(__file__, line)]


def _cholesky_or_zero(kind):
    """A step (or a layer's forward) falling back where cholesky refuses a matrix that is not positive-definite."""
    w = gg.tensor(np.eye(2), requires_grad=True)

    def guarded(a):
        if kind == "bare except":
            try:
                return gg.linalg.cholesky(a @ w).sum()
            except:  # noqa: E722 (a learner's bare except)
                return (a @ w).sum() * 0
        try:
            return gg.linalg.cholesky(a @ w).sum()
        except gg.linalg.LinAlgError:
            return (a @ w).sum() * 0

    if kind == "in a forward":
        class Guarded(gg.nn.Module):
            def forward(self, a):
                return guarded(a)
        return Guarded()
    return guarded


def _outcomes(step, calls=8):
    seen = []
    for call in range(calls):
        a = gg.tensor(np.eye(2) * (1.0 if call < 5 else -1.0))  # not positive-definite after the captures
        try:
            seen.append(step(a).item())
        except gg.linalg.LinAlgError as error:
            seen.append(f"{type(error).__name__}: {error}")
    return seen


@pytest.mark.parametrize("kind", ["except E", "bare except", "in a forward"])
def test_a_step_catching_an_error_runs_eagerly_and_handles_a_later_calls_error_as_eager(kind):
    """A replay runs no Python: cholesky's check, a kernel, raised at call 6 straight to the caller, where eager's
    ``except`` falls back (0)."""
    eager = _outcomes(_cholesky_or_zero(kind))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = _outcomes(gg.compile(_cholesky_or_zero(kind)))
    assert compiled == eager and eager[-1] == 0.0
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "catches exceptions (try/except)" in messages[0], messages


def test_with_blocks_and_finally_are_no_catching_and_the_step_replays():
    w = gg.tensor(np.eye(2), requires_grad=True)

    def step(a):
        with gg.no_grad():
            scale = (a * 2).sum()
        try:
            return (a @ w).sum() * scale
        finally:
            scale = None  # noqa: F841 (a finally clause: no catch)

    compiled = gg.compile(step)
    for call in range(5):
        a = gg.tensor(np.eye(2) * (1.0 + call))
        assert compiled(a).item() == step(a).item()
    assert sum(entry.replays for entry in compiled.entries.values()) > 0
