"""A custom ``autograd.Function`` with several outputs is one call: ``backward`` runs once per pass with every output's
gradient, as PyTorch's, through ``backward()``, ``gg.autograd.grad`` and ``create_graph=True``.

Oracles: PyTorch 2.13 running the same class body (its gradients and how many times it calls ``backward``), and a
``backward`` that is not linear in its ``grad_outputs`` (a clipped sum), which per-output calls would get wrong.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def define(base, calls: list):
    """Three outputs of one input; ``backward`` clips the gradients' weighted sum and counts its calls."""

    class Spread(base):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x * 2, x.exp()

        @staticmethod
        def backward(ctx, grad_sin, grad_double, grad_exp):
            calls.append(tuple(g is None for g in (grad_sin, grad_double, grad_exp)))
            (x,) = ctx.saved_tensors
            total = grad_sin * x.cos() + grad_double * 2 + grad_exp * x.exp()
            return total.clamp(-1.5, 1.5) * x  # not linear in the grad_outputs: their sum is clipped once

    return Spread


LOSSES = {
    "all three": lambda a, b, c: (a * b + c).sum(),
    "first only": lambda a, b, c: (a ** 2).sum(),
    "last two": lambda a, b, c: (b * c).sum(),
    "first and last, the last deeper": lambda a, b, c: a.sum() + (c.tanh() * 3).exp().sum(),
    "the middle twice": lambda a, b, c: (b * b).sum() + b.sum(),
}
VALUES = [0.4, -1.1, 0.9, 2.0]


def run(module, loss_name: str, how: str, hooks: bool = False):
    """``backward`` calls and the input's gradient for one loss, by ``backward()`` or ``autograd.grad``."""
    calls: list = []
    Spread = define(module.autograd.Function, calls)
    x = module.tensor(VALUES, dtype=module.float64, requires_grad=True)
    outputs = Spread.apply(x)
    if hooks:
        outputs[0].register_hook(lambda g: g * 10)
        outputs[2].register_hook(lambda g: g - 1)
    loss = LOSSES[loss_name](*outputs)
    if how == "backward":
        loss.backward()
        grad = x.grad
    elif how == "autograd.grad":
        (grad,) = module.autograd.grad(loss, x)
    else:  # create_graph: the gradient stays in the graph, and its sum is differentiated again
        (grad,) = module.autograd.grad(loss, x, create_graph=True)
        (second,) = module.autograd.grad((grad * grad).sum(), x)
        grad = module.cat([grad, second])
    return calls, grad.detach().numpy()


@pytest.mark.torch
@pytest.mark.parametrize("how", ["backward", "autograd.grad", "create_graph"])
@pytest.mark.parametrize("loss_name", list(LOSSES))
def test_backward_runs_once_with_every_outputs_gradient_as_pytorch(torch, loss_name, how):
    ours_calls, ours = run(gg, loss_name, how)
    theirs_calls, theirs = run(torch, loss_name, how)
    assert ours_calls == theirs_calls
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("how", ["backward", "autograd.grad"])
def test_the_outputs_hooks_change_the_gradients_before_the_one_call(torch, how):
    ours_calls, ours = run(gg, "all three", how, hooks=True)
    theirs_calls, theirs = run(torch, "all three", how, hooks=True)
    assert ours_calls == theirs_calls == [(False, False, False)]
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@given(used=st.lists(st.booleans(), min_size=3, max_size=3).filter(any),
       weights=st.lists(st.floats(-2, 2, allow_nan=False), min_size=3, max_size=3),
       retained=st.booleans())
def test_any_outputs_used_give_pytorchs_gradients_and_calls(torch, used, weights, retained):
    results = []
    for module in (gg, torch):
        calls: list = []
        Spread = define(module.autograd.Function, calls)
        x = module.tensor(VALUES, dtype=module.float64, requires_grad=True)
        outputs = Spread.apply(x)
        if retained:
            for output in outputs:
                output.retain_grad()
        loss = sum(w * (o * o).sum() for o, w, u in zip(outputs, weights, used) if u)
        loss.backward()
        kept = [None if o.grad is None else o.grad.numpy() for o in outputs] if retained else []
        results.append((calls, x.grad.numpy(), kept))
    (ours_calls, ours, ours_kept), (theirs_calls, theirs, theirs_kept) = results
    assert ours_calls == theirs_calls == [(False, False, False)]  # unused ones come as zeros (materialized)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    assert [k is None for k in ours_kept] == [k is None for k in theirs_kept]
    for a, b in zip(ours_kept, theirs_kept):
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-12)


def _unmaterialized(module, calls: list) -> type:
    class Pair(module.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3, x * 4

        @staticmethod
        def backward(ctx, first, second, third):
            calls.append((first is None, second is None, third is None))
            return sum(g * k for g, k in ((first, 2), (second, 3), (third, 4)) if g is not None)

    return Pair


@pytest.mark.torch
def test_unmaterialized_gradients_come_as_none_in_the_one_call(torch):
    seen = {}
    for module in (gg, torch):
        calls: list = []
        x = module.tensor([1.0, 2.0], requires_grad=True)
        a, b, c = _unmaterialized(module, calls).apply(x)
        (a.sum() + c.sum() * 5).backward()
        seen[module.__name__] = (calls, x.grad.tolist())
    assert seen["glassgrad"] == seen["torch"] == ([(False, True, False)], [22.0, 22.0])


@pytest.mark.torch
def test_an_output_changed_in_place_after_the_call_still_joins_the_call(torch):
    seen = {}
    for module in (gg, torch):
        calls: list = []
        Spread = define(module.autograd.Function, calls)
        x = module.tensor(VALUES, dtype=module.float64, requires_grad=True)
        a, b, c = Spread.apply(x)
        b.mul_(3)  # b's node becomes the in-place product; the call's own output moves behind it
        (a * b + c).sum().backward()
        seen[module.__name__] = (calls, x.grad.numpy())
    assert seen["glassgrad"][0] == seen["torch"][0] == [(False, False, False)]
    np.testing.assert_allclose(seen["glassgrad"][1], seen["torch"][1], rtol=1e-12)


def test_each_pass_calls_backward_once_and_a_freed_call_is_refused():
    calls: list = []
    Spread = define(gg.autograd.Function, calls)
    x = gg.tensor(VALUES, dtype=gg.float64, requires_grad=True)
    a, b, c = Spread.apply(x)
    loss = (a + b + c).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert len(calls) == 2
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        c.sum().backward()


def test_a_trace_shows_the_one_call_with_each_outputs_gradient():
    calls: list = []
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with gg.trace() as tape:
        a, b, c = _unmaterialized(gg, calls).apply(x)
        (a.sum() + c.sum() * 5).backward()
    step = next(s for s in tape.describe()["backward"] if s["op"] == "Pair")
    assert "Pair.backward(" in step["formula"] and ", 0, " in step["formula"]  # b's gradient: none, shown as 0
    upstreams = [entry["values"].tolist() for entry in step["inputs"]]
    assert upstreams == [[1.0, 1.0], [5.0, 5.0]]  # a's and c's gradients; b got none
    assert step["output"]["values"].tolist() == x.grad.tolist() == [22.0, 22.0]
    assert step["formula"].count(",") == 2  # three arguments: one per output
