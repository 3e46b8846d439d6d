"""A second backward without ``retain_graph`` through nodes that saved no tensor, against PyTorch 2.13.

PyTorch's backward frees the tensors a node saved, not the node: a node that saved none (a transpose, a broadcast, a
sum, an addition) can be walked again, so ``wt = w.t()`` made once and used in every step, or a
``Normal(μ, σ)`` built once outside the training loop (its σ broadcast to μ's shape), trains. glassgrad freed every
node it walked through, and refused the second step ("backward through the graph a second time"). Now a node that
saved no tensor, over leaves or such nodes, stays (:func:`glassgrad.autograd.freed_after_backward`); one that reads a
node that saved tensors is still refused, as PyTorch refuses one step further on.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _twice(library, program) -> list:
    """The leaves' gradients (float64) after each of two backward passes without ``retain_graph``, or the class of
    what the second pass raised. ``program(library)`` gives the leaves and ``step``, which gives the loss to walk:
    made anew from what the program made once, or the same loss each time."""
    leaves, step = program(library)
    found = []
    for _ in range(2):
        try:
            step().backward()
        except RuntimeError as error:
            assert "second time" in str(error)
            found.append(RuntimeError)
            break
        found.append([None if leaf.grad is None else leaf.grad.numpy().tolist() for leaf in leaves])
    return found


def _leaf(library, value):
    return library.tensor(value, dtype=library.float64, requires_grad=True)


def _normal_built_once(library):
    mu, sigma = _leaf(library, [0.0, 0.0, 0.0]), _leaf(library, 2.0)
    normal = library.distributions.Normal(mu, sigma)  # once, outside the loop: σ broadcast to μ's shape
    x = library.tensor([1.0, -0.5, 3.0], dtype=library.float64)
    return (mu, sigma), lambda: -normal.log_prob(x).sum()


def _transposed_once(library):
    w = _leaf(library, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    wt = w.t().unsqueeze(0)  # once
    x = library.tensor([[0.5, -1.0, 2.0]], dtype=library.float64)
    return (w,), lambda: (x @ wt).sum()


def _sum_of_a_leaf(library):
    a = _leaf(library, [1.0, -2.0])
    loss = a.sum()
    return (a,), lambda: loss


def _sum_of_leaves_broadcast(library):
    a, b = _leaf(library, [1.0, -2.0]), _leaf(library, [[0.5], [3.0]])
    loss = (a + b - a.flip(0)).mean()
    return (a, b), lambda: loss


def _through_a_saving_node(library):
    a = _leaf(library, [1.0, -2.0])
    loss = a.exp().sum()
    return (a,), lambda: loss


def _a_view_of_a_product(library):
    a = _leaf(library, [1.0, -2.0])
    loss = (a * a).reshape(2, 1).sum()
    return (a,), lambda: loss


PROGRAMS = [_normal_built_once, _transposed_once, _sum_of_a_leaf, _sum_of_leaves_broadcast, _through_a_saving_node,
            _a_view_of_a_product]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda program: program.__name__.strip("_"))
def test_a_second_backward_is_taken_or_refused_as_pytorchs(program, torch):
    assert _twice(gg, program) == _twice(torch, program)


def test_the_distribution_built_outside_the_loop_trains_and_accumulates():
    """The distribution built once gives the doubled gradient the second time (accumulated into ``.grad``), by
    hand: ∂/∂σ of −Σ log N(x; 0, σ) = Σ (1/σ − x²/σ³) and ∂/∂μ = −Σ (x − μ)/σ² per entry."""
    (mu, sigma), step = _normal_built_once(gg)
    x = np.array([1.0, -0.5, 3.0])
    step().backward()
    step().backward()
    np.testing.assert_allclose(sigma.grad.item(), 2 * np.sum(1 / 2.0 - x**2 / 8.0), rtol=1e-6)
    np.testing.assert_allclose(mu.grad.numpy(), 2 * -x / 4.0, rtol=1e-6)


def test_the_refusal_names_the_freed_step_in_one_line():
    _, step = _through_a_saving_node(gg)
    step().backward()
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second time \(the 'sum'") as error:
        step().backward()
    assert "\n" not in str(error.value)


def test_grad_walks_a_kept_node_again_as_backward_does(torch):
    """``autograd.grad`` without ``retain_graph`` frees by the same rule."""
    found = []
    for library in (gg, torch):
        w = _leaf(library, [[1.0, 2.0], [3.0, 4.0]])
        total = (w.t() + w).sum()
        first = library.autograd.grad(total, w)[0]
        second = library.autograd.grad(total, w)[0]
        found.append((first.numpy().tolist(), second.numpy().tolist()))
    assert found[0] == found[1]


MADE_BY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "neg": lambda a, b: -a,
           "flip": lambda a, b: a.flip(0), "roundtrip": lambda a, b: a.reshape(4).reshape(2, 2),
           "transpose": lambda a, b: a.t(), "mul": lambda a, b: a * b, "exp": lambda a, b: (a / 4).exp(),
           "tanh": lambda a, b: a.tanh()}
SAVES_NONE = ["add", "sub", "neg", "flip", "roundtrip", "transpose"]
"""The ops whose nodes save no tensor, in PyTorch and in glassgrad; the others save some."""


def _drawn_graph(library, steps: list, values: list):
    """Two leaves of shape (2, 2), then each step ``(op, i, j)`` makes a node of the nodes made so far (``i``, ``j``
    taken modulo their count); the loss is the last node's sum."""
    leaves = [_leaf(library, value) for value in values]
    made = list(leaves)
    for name, i, j in steps:
        made.append(MADE_BY[name](made[i % len(made)], made[j % len(made)]))
    loss = made[-1].sum()
    return leaves, lambda: loss


@given(steps=st.lists(st.tuples(st.sampled_from(sorted(MADE_BY)), st.integers(0, 9), st.integers(0, 9)),
                      min_size=1, max_size=6),
       values=st.lists(st.lists(st.lists(st.floats(-2, 2), min_size=2, max_size=2), min_size=2, max_size=2),
                       min_size=2, max_size=2))
def test_drawn_graphs_take_or_refuse_a_second_backward_as_pytorchs(steps, values, torch):
    """Whether a second plain backward of a drawn graph is refused, and the accumulated gradients where it is not,
    equal in float64 (a refused pass is compared by its class only: PyTorch may have added some leaves' gradients
    before it stopped, glassgrad adds none)."""
    ours = _twice(gg, lambda library: _drawn_graph(library, steps, values))
    theirs = _twice(torch, lambda library: _drawn_graph(library, steps, values))
    if RuntimeError in theirs:
        assert len(ours) == len(theirs) and ours[-1] is RuntimeError
    else:
        assert RuntimeError not in ours
        assert ours == theirs
