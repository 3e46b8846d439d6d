"""A post-accumulate-grad hook inside a compiled step, and where a refusal's warning points.

``p.register_post_accumulate_grad_hook(hook)`` (PyTorch's optimizer-in-backward recipe) runs Python in the step's
backward: the capture did not notice, its program's guard (no hooked tensor) failed at every call, and the step was
captured again at every call, never replayed, without a word. It now runs eagerly, saying why; the hook runs at each
call and the weights are eager's, bit for bit.

A refusal's warning pointed at glassgrad's own file (``compiled.py``), where a learner's editor and ``-W error``
tracebacks need the learner's line: it now points at the first line outside glassgrad, the call of the compiled step.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

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
