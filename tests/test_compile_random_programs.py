"""Random programs through ``gg.compile``: each one a step of a dozen ops drawn at random, run eagerly and compiled
over six calls, every number bit for bit the same.

A replay writes each kernel's result into a buffer that the capture's liveness pass may hand to a later kernel once
nothing reads it, and keeps the views, in-place writes and the graph's saved values the eager step made. Hand-written
tests pin the cases someone thought of; these programs mix views (transposes, slices, flips, reshapes), in-place
writes on them, reductions broadcast back, a value used by several ops, and results returned (views among them)
or only read by the backward, so that a buffer reused too early, or a view left pointing at an old buffer, shows as
a number different from eager's. Each program runs as a whole training step (loss, ``backward()``, SGD with momentum)
and as a compiled forward whose ``backward()`` runs outside it. The first two calls get the same batch (the captures
agree), the next ones others. Where eager raises (an in-place write on a value the backward needs), the compiled
step must raise the same error at the same call.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional
SHAPE = (3, 4)
CALLS = 6
PERMUTATION = [2, 0, 3, 1]


def _unary(name):
    return {"tanh": gg.tanh, "relu": F.relu, "sigmoid": gg.sigmoid, "neg": gg.neg, "abs": gg.abs,
            "square": lambda v: v * v, "exp": lambda v: v.clamp(-3, 3).exp(), "softmax": lambda v: v.softmax(1),
            "log_softmax": lambda v: F.log_softmax(v, 1), "gelu": F.gelu, "cumsum": lambda v: v.cumsum(1),
            "sorted": lambda v: v.sort(1).values, "row max": lambda v: v.max(1, keepdim=True).values.expand(*SHAPE),
            "top and bottom two": lambda v: gg.cat([v.topk(2, 1).values, v.topk(2, 1, largest=False).values], 1),
            "power": lambda v: v.abs().pow(1.5), "clamp": lambda v: v.clamp(-0.5, 0.7),
            "dropout": lambda v: F.dropout(v, 0.3, training=True), "detached": lambda v: v.detach() * 2,
            "layer norm": lambda v: F.layer_norm(v, (4,)),
            "standardised": lambda v: (v - v.mean(1, keepdim=True)) / (v.std(1, keepdim=True) + 1)}[name]


def _binary(name):
    return {"add": gg.add, "sub": gg.sub, "mul": gg.mul, "maximum": gg.maximum,
            "where": lambda a, b: gg.where(a > b, a, b * 0.5), "divide": lambda a, b: a / (b.abs() + 1),
            "masked": lambda a, b: a.masked_fill(b > 0, 0.0),
            "gathered by b's order": lambda a, b: a.gather(1, b.argsort(1)),
            "b's argmax picks": lambda a, b: a * F.one_hot(b.argmax(1), 4),
            "attention": lambda a, b: (a @ b.t()).softmax(1) @ b}[name]


def _view(name):
    """A value of the same shape made from a view of ``v`` (or the view itself, where it has the shape)."""
    return {"transposed twice": lambda v: v.t().t(), "flip": lambda v: v.flip(0),
            "columns": lambda v: v[:, PERMUTATION], "reshaped": lambda v: v.reshape(4, 3).reshape(3, 4),
            "halves joined": lambda v: gg.cat([v[:, 2:], v[:, :2]], 1), "roll": lambda v: v.roll(1, 0),
            "row sums": lambda v: v.sum(0, keepdim=True).expand(*SHAPE),
            "column means": lambda v: v.mean(1, keepdim=True) * gg.ones(SHAPE)}[name]


UNARY = ["tanh", "relu", "sigmoid", "neg", "abs", "square", "exp", "softmax", "log_softmax", "gelu", "cumsum", "sorted",
         "row max", "top and bottom two", "power", "clamp", "dropout", "detached", "layer norm", "standardised"]
BINARY = ["add", "sub", "mul", "maximum", "where", "divide", "masked", "gathered by b's order", "b's argmax picks",
          "attention"]
VIEWS = ["transposed twice", "flip", "columns", "reshaped", "halves joined", "roll", "row sums", "column means"]
IN_PLACE = ["add_ on a clone", "mul_ on a row of a clone", "setitem on a column of a clone", "mul_ on a new sum",
            "relu_ on a new difference"]


def _instruction():
    """One op: its kind and name, and which earlier values it reads (picked modulo how many there are)."""
    index = st.integers(0, 63)
    return st.one_of(st.tuples(st.just("unary"), st.sampled_from(UNARY), index, index),
                     st.tuples(st.just("binary"), st.sampled_from(BINARY), index, index),
                     st.tuples(st.just("view"), st.sampled_from(VIEWS), index, index),
                     st.tuples(st.just("linear"), st.just("w"), index, index),
                     st.tuples(st.just("in place"), st.sampled_from(IN_PLACE), index, index))


PROGRAMS = st.tuples(st.lists(_instruction(), min_size=3, max_size=14),
                     st.lists(st.integers(0, 63), min_size=1, max_size=3),  # the values the loss sums
                     st.lists(st.integers(0, 63), max_size=3))  # the values the step also returns


def _forward(program, x, w, b):
    """The program's values from the batch ``x`` (the first two), in order; ``w``, ``b``: a linear layer's weights."""
    instructions, _, _ = program
    values = [x * 1.5 - 0.25, F.linear(x, w, b)]
    for kind, name, first, second in instructions:
        a, c = values[first % len(values)], values[second % len(values)]
        if kind == "unary":
            values.append(_unary(name)(a))
        elif kind == "binary":
            values.append(_binary(name)(a, c))
        elif kind == "view":
            values.append(_view(name)(a))
        elif kind == "linear":
            values.append(F.linear(a, w, b))
        elif name == "add_ on a clone":
            values.append(a.clone().add_(c))
        elif name == "mul_ on a row of a clone":
            made = a.clone()
            made[1].mul_(c[0])
            values.append(made)
        elif name == "setitem on a column of a clone":
            made = a.clone()
            made[:, 2] = c[:, 1] * 2
            values.append(made)
        elif name == "mul_ on a new sum":  # a result no op has saved yet, changed in place
            values.append((a + c).mul_(0.5))
        else:
            values.append((a - c).relu_())
    return values


def _parts(program, values, w):
    """The loss (a weighted sum of some values, and a penalty on ``w``) and the values the step returns."""
    _, summed, returned = program
    loss = sum((values[i % len(values)] * (k + 1)).sum() for k, i in enumerate(summed)) + (w * w).sum() * 0.01
    return loss, [values[i % len(values)] for i in returned]


def _state():
    gg.manual_seed(0)
    w = gg.tensor(np.linspace(-0.5, 0.5, 16, dtype=np.float32).reshape(4, 4), requires_grad=True)
    b = gg.tensor(np.linspace(-0.1, 0.2, 4, dtype=np.float32), requires_grad=True)
    return w, b, gg.optim.SGD([w, b], lr=0.05, momentum=0.9)


def _batch(call):
    seed = max(call, 1)  # calls 0 and 1: the same batch
    return gg.tensor(np.random.default_rng(seed).standard_normal(SHAPE).astype(np.float32))


def _snap(value):
    if isinstance(value, gg.Tensor):
        return value.array.dtype.str, value.array.shape, value.array.tobytes()
    if isinstance(value, (list, tuple)):
        return tuple(_snap(part) for part in value)
    return repr(value)


def _whole_step(program, compiled):
    """Each call's returned values, weights, gradients and momenta (or the error it raised)."""
    w, b, optimizer = _state()

    def step(x):
        optimizer.zero_grad()
        loss, returned = _parts(program, _forward(program, x, w, b), w)
        loss.backward()
        optimizer.step()
        return loss.detach(), [value.detach() for value in returned]  # views of the step's buffers, some of them

    run = gg.compile(step) if compiled else step
    seen = []
    for call in range(CALLS):
        try:
            result = run(_batch(call))
        except RuntimeError as error:
            seen.append(("raised", type(error).__name__))
            continue
        momenta = [optimizer.state[p]["momentum_buffer"] for p in (w, b) if p in optimizer.state]
        seen.append(_snap([result, w, b, w.grad, b.grad, momenta]))
    return seen


def _forward_compiled(program, compiled):
    """A compiled forward, its loss's ``backward()`` eager: each call's values and gradients (or its error)."""
    w, b, _ = _state()

    def forward(x):
        return _parts(program, _forward(program, x, w, b), w)

    run = gg.compile(forward) if compiled else forward
    seen = []
    for call in range(CALLS):
        w.grad = b.grad = None
        try:
            loss, returned = run(_batch(call))
            loss.backward()
        except RuntimeError as error:
            seen.append(("raised", type(error).__name__))
            continue
        seen.append(_snap([loss, returned, w.grad, b.grad]))
    return seen


def _same_as_eager(run, program):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a program may run eagerly, saying why: its numbers must still be eager's
        eager, compiled = run(program, False), run(program, True)
    for call, (mine, theirs) in enumerate(zip(compiled, eager, strict=True)):
        assert mine == theirs, f"call {call} differs from eager's"


@given(PROGRAMS)
def test_a_random_training_step_compiled_gives_eagers_numbers_at_every_call(program):
    _same_as_eager(_whole_step, program)


@given(PROGRAMS)
def test_a_random_compiled_forward_with_its_backward_outside_gives_eagers_numbers(program):
    _same_as_eager(_forward_compiled, program)
