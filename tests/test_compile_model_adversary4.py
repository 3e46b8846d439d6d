"""A compiled model (``cmodel = gg.compile(model)``: loss, ``backward()`` and the optimizer outside) against what
users do with its outputs, each run eagerly and compiled from one seed over several calls (two captures, then
replays): every returned value, weight, ``.grad`` and buffer equal, bit for bit.

The hole fixed here (failed on 98839f5): ``backward(create_graph=True)`` or ``gg.autograd.grad(…,
create_graph=True)`` through a replayed forward raised at once, where eager and PyTorch's compiled graphs give the
gradients (PyTorch refuses only when they are differentiated again); the first two calls (captures) worked, the third
broke. Now the replayed kernels give eager's numbers, in a graph whose differentiation raises PyTorch's error. The cases
that already behaved (the output used twice, a siamese loss, outputs changed in place, hooks, ``autograd.grad``,
tuples and records, modes, short batches, accumulation, tied and frozen weights, BatchNorm, dropout) are pinned."""

from __future__ import annotations

import warnings
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from test_compile_guards_adversary2 import _assert_same
from test_compile_guards_adversary3 import _plain

import glassgrad as gg

nn = gg.nn
F = nn.functional
CALLS = 8
Pair = namedtuple("Pair", "logits aux")


class _Heads(nn.Module):
    """A linear layer returning its output in the form named (``tuple``, ``dict``, ``record``, ``argmax``,
    ``input``, ``plain``), optionally doubled by a Python flag."""

    def __init__(self, form: str) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.form = form

    def forward(self, x: gg.Tensor, flag: bool = False) -> Any:
        h = self.fc(x) * 2 if flag else self.fc(x)
        return {"tuple": lambda: (h, h.sum(1)), "dict": lambda: {"logits": h, "aux": h.mean()},
                "record": lambda: Pair(h, h.pow(2).mean()), "argmax": lambda: (h, h.argmax(1)),
                "input": lambda: (h, x), "plain": lambda: h}[self.form]()


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


Use = Callable[[Any, gg.Tensor, int], Any]
"""What the user does with the compiled model in one step: given it, the batch and the call's number; its results."""


def _run(make: Callable[[], nn.Module], use: Use, compiled: bool, calls: int) -> tuple[list, list[str], Any]:
    gg.manual_seed(0)
    model = make()
    cmodel = gg.compile(model) if compiled else model
    opt = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    rng = np.random.default_rng(0)
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for number in range(calls):
            x = gg.tensor(rng.standard_normal((4, 3)).astype(np.float32))
            opt.zero_grad()
            results.append(_plain(use(cmodel, x, number)))
            opt.step()
            results.append(_plain([list(model.parameters()), [p.grad for p in model.parameters()],
                                   list(model.buffers())]))
    return results, [str(w.message) for w in caught if str(w.message).startswith("gg.compile")], cmodel


def _same_as_eager(make: Callable[[], nn.Module], use: Use, calls: int = CALLS) -> tuple[list[str], int]:
    """Eager and compiled runs equal, bit for bit; the compiler's warnings and the replays."""
    eager, _, _ = _run(make, use, False, calls)
    compiled, messages, cmodel = _run(make, use, True, calls)
    _assert_same(eager, compiled)
    return messages, sum(entry.replays for entry in cmodel._compiled.entries.values())


def _replayed(make: Callable[[], nn.Module], use: Use, calls: int = CALLS) -> None:
    messages, replays = _same_as_eager(make, use, calls)
    assert messages == [] and replays > 0


def _squares(out: gg.Tensor) -> gg.Tensor:
    return (out * out).mean()


# --- the hole: create_graph=True through the node ---------------------------------------------------


def _detached_grads(cmodel: Any) -> list:
    grads = []
    for p in cmodel.parameters():
        grads.append(p.grad.requires_grad)
        p.grad = p.grad.detach()
    return grads


def test_backward_with_create_graph_gives_eager_s_gradients_in_a_graph():
    def use(cmodel: Any, x: gg.Tensor, number: int) -> Any:
        loss = _squares(cmodel(x))
        loss.backward(create_graph=True)
        return loss, _detached_grads(cmodel)

    _replayed(_mlp, use)


def test_create_graph_through_a_joint_node_gives_eager_s_gradients():
    def use(cmodel: Any, x: gg.Tensor, number: int) -> Any:
        logits, aux = cmodel(x)
        loss = logits.pow(2).mean() + aux.mean()
        loss.backward(create_graph=True)
        return loss, _detached_grads(cmodel)

    _replayed(lambda: _Heads("tuple"), use)


def test_autograd_grad_of_an_input_with_create_graph_gives_eager_s_gradient():
    def use(cmodel: Any, x: gg.Tensor, number: int) -> Any:
        x.requires_grad_(True)
        loss = _squares(cmodel(x))
        (g,) = gg.autograd.grad(loss, x, create_graph=True)
        return loss, g, g.requires_grad

    _replayed(_mlp, use)


def test_differentiating_a_replayed_gradient_again_raises_pytorch_s_error():
    model = _mlp()
    cmodel = gg.compile(model)
    x = gg.randn(4, 3, requires_grad=True)
    for _ in range(2):
        cmodel(x)
    out = cmodel(x)
    assert out.grad_fn.name() == "compiled forward"
    (g,) = gg.autograd.grad(_squares(out), x, create_graph=True)
    (expected,) = gg.autograd.grad(_squares(model(x)), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().array, expected.detach().array)
    with pytest.raises(RuntimeError, match="aot_autograd does not currently support double backward"):
        g.pow(2).sum().backward()
