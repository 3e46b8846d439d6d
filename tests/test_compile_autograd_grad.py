"""``gg.autograd.grad`` inside a ``gg.compile``d step: its walk is captured as ``backward()``'s is, its gradients
returned instead of stored, so the step replays.

Before, any ``gg.autograd.grad`` inside the step made it run eagerly ("gg.autograd.grad … inside the step"). The
oracle is the same step run eagerly: every loss, returned gradient and weight equal, bit for bit, call by call; and
the program replays (two captures, then replays only). ``create_graph=True`` (a gradient penalty) and several
outputs at once still run eagerly, saying so, with eager's numbers.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

F = gg.nn.functional
CALLS = 10


def _model(dtype):
    gg.manual_seed(0)
    return gg.nn.Sequential(gg.nn.Linear(3, 5), gg.nn.Tanh(), gg.nn.Linear(5, 2)).to(dtype)


def _batches(dtype, calls=CALLS, rows=4):
    rng = np.random.default_rng(3)
    return [(gg.tensor(rng.standard_normal((rows, 3))).to(dtype), gg.tensor(rng.standard_normal((rows, 2))).to(dtype))
            for _ in range(calls)]


def _both(make, dtype, batches=None):
    """``make(dtype)`` gives (step, state): run eagerly and compiled over the batches; every value the step returns and
    every tensor ``state()`` lists, after each call, equal bit for bit; no warning. Gives the compiled step."""
    runs = []
    for wrap in (lambda step: step, gg.compile):
        step, state = make(dtype)
        step = wrap(step)
        seen = []
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for x, y in batches or _batches(dtype):
                returned = step(x, y)
                seen += [t.detach().numpy().copy() for t in (returned if isinstance(returned, tuple) else (returned,))
                         if t is not None]
                seen += [t.detach().numpy().copy() for t in state()]
        runs.append((seen, step))
    (eager, _), (compiled, step) = runs
    for mine, theirs in zip(compiled, eager, strict=True):
        assert mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine, theirs)
    return step


def _replays(step) -> int:
    return sum(entry.replays for entry in step.entries.values())


def _sgd_by_hand(dtype):
    """Gradients asked for, then a hand-written update: ``p -= lr · g``."""
    model = _model(dtype)
    params = list(model.parameters())

    def step(x, y):
        loss = F.mse_loss(model(x), y)
        grads = gg.autograd.grad(loss, params)
        with gg.no_grad():
            for p, g in zip(params, grads):
                p -= 0.1 * g
        return (loss.detach(), *grads)

    return step, lambda: params


def _into_an_optimizer(dtype):
    """Gradients asked for, put in ``.grad`` by hand, then Adam with clipping."""
    model = _model(dtype)
    params = list(model.parameters())
    optimizer = gg.optim.Adam(params, lr=0.01)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y.softmax(dim=1))
        for p, g in zip(params, gg.autograd.grad(loss, params)):
            p.grad = g
        gg.nn.utils.clip_grad_norm_(params, 0.5)
        optimizer.step()
        return loss.detach()

    return step, lambda: [*params, *(state["exp_avg"] for state in optimizer.state.values())]


def _broadcast_and_unused(dtype):
    """A gradient summed over broadcast axes (a (1, 2) shift), a parameter the loss does not use (None, and zeros
    with materialize_grads), and a gradient with respect to a tensor made by an op (the hidden layer)."""
    model = _model(dtype)
    shift = gg.zeros(1, 2, dtype=dtype, requires_grad=True)
    unused = gg.ones(3, dtype=dtype, requires_grad=True)

    def step(x, y):
        hidden = model[1](model[0](x))
        out = model[2](hidden) + shift
        loss = F.mse_loss(out, y)
        g_shift, g_unused, g_hidden = gg.autograd.grad(loss, [shift, unused, hidden], allow_unused=True,
                                                       retain_graph=True)
        assert g_unused is None
        (zeros,) = gg.autograd.grad(loss, [unused], materialize_grads=True, retain_graph=True)
        loss.backward()  # and backward() after, on the same graph
        with gg.no_grad():
            shift.sub_(0.5 * g_shift)
        return loss.detach(), g_shift, g_hidden, zeros

    def state():
        return [*model.parameters(), *(p.grad for p in model.parameters()), shift]

    return step, state


@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
@pytest.mark.parametrize("make", [_sgd_by_hand, _into_an_optimizer, _broadcast_and_unused],
                         ids=lambda make: make.__name__.strip("_"))
def test_a_step_asking_autograd_grad_replays_with_eagers_numbers(make, dtype):
    step = _both(make, dtype)
    assert _replays(step) == CALLS - 2


def test_a_gradient_with_respect_to_the_steps_argument_replays():
    """Saliency: ∂loss/∂x for an argument x that requires grad (set outside the step), returned."""
    model = _model(gg.float64)

    def make(dtype):
        def step(x, y):
            x = x.detach().requires_grad_()
            loss = F.mse_loss(model(x), y)
            (saliency,) = gg.autograd.grad(loss, x)
            return loss.detach(), saliency

        return step, lambda: []

    step = _both(make, gg.float64)
    assert _replays(step) == CALLS - 2


def test_a_last_smaller_batch_captures_again_and_replays():
    batches = _batches(gg.float32, 6, rows=4) + _batches(gg.float32, 6, rows=3)
    step = _both(_sgd_by_hand, gg.float32, batches)
    assert _replays(step) == 12 - 4
    assert sum(entry.captures for entry in step.entries.values()) == 4


@pytest.mark.parametrize("how", ["create_graph", "two outputs"])
def test_what_it_cannot_capture_runs_eagerly_saying_why(how):
    def run(wrap):
        model = _model(gg.float64)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            optimizer.zero_grad()
            x = x.detach().requires_grad_()
            out = model(x)
            loss = F.mse_loss(out, y)
            if how == "create_graph":  # a gradient penalty
                (g,) = gg.autograd.grad(out.sum(), x, create_graph=True)
                loss = loss + 0.1 * (g.norm(2, dim=1) - 1).pow(2).mean()
            else:
                gg.autograd.grad([loss, out.sum()], x, retain_graph=True)
            loss.backward()
            optimizer.step()
            return loss.detach()

        step = wrap(step)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            losses = [step(x, y).numpy().copy() for x, y in _batches(gg.float64, 5)]
        return losses + [p.detach().numpy().copy() for p in model.parameters()], [str(w.message) for w in caught]

    eager, _ = run(lambda step: step)
    compiled, messages = run(gg.compile)
    for mine, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_array_equal(mine, theirs)
    expected = "create_graph=True) inside the step" if how == "create_graph" else "several outputs at once"
    assert len(messages) == 1 and expected in messages[0] and "running it eagerly" in messages[0]


def test_backward_with_inputs_still_runs_eagerly_saying_why():
    """``backward(inputs=…)`` stores into chosen leaves by another walk: still eager, with its message."""
    w = gg.tensor([1.0, -2.0], requires_grad=True)
    b = gg.tensor([0.5], requires_grad=True)

    def step(x, y):
        loss = ((x * w).sum() + b - y).pow(2).sum()
        loss.backward(inputs=[w])
        return loss.detach()

    compiled = gg.compile(step)
    with pytest.warns(UserWarning, match=r"backward\(inputs=…\) or backward\(create_graph=True\) inside the step"):
        for _ in range(3):
            compiled(gg.tensor([1.0, 2.0]), gg.tensor([0.5]))


def test_one_gradient_for_two_inputs_and_one_for_a_visited_tensor_replay():
    """``(a + b)`` hands a and b the same array, which ``autograd.grad`` copies for the second (a kernel now: it
    was an array made outside the program); ``h`` is asked for though the walk goes on through it to the weight.
    One of the returned gradients is changed in place: the other must not change with it, in a replay as in eager."""
    def make(dtype):
        gg.manual_seed(0)
        a, b = gg.randn(2, dtype=dtype, requires_grad=True), gg.randn(2, dtype=dtype, requires_grad=True)
        layer = gg.nn.Linear(3, 2).to(dtype)

        def step(x, y):
            h = layer(x).tanh()
            loss = ((h * (a + b)).sum(1) - y.sum(1)).pow(2).mean()
            ga, gb, gh, gw = gg.autograd.grad(loss, [a, b, h, layer.weight])
            with gg.no_grad():
                gb.mul_(2)
                a.sub_(0.1 * ga)
                b.sub_(0.1 * gb)
                layer.weight.sub_(0.1 * gw)
            return loss.detach(), ga, gb, gh

        return step, lambda: [a, b, layer.weight]

    step = _both(make, gg.float32)
    assert _replays(step) == CALLS - 2
