"""A view taken under ``no_grad()`` of a tensor that requires grad, then changed in place with grad mode on: PyTorch
refuses it (is the change part of the graph or not?), and so does glassgrad. Before, glassgrad changed the tensor
of the graph behind its back and its gradient silently left the change out. The oracle is PyTorch 2.13: the same
program in both, refused in both, or computed with the same numbers and gradients."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

CHANGES = {
    "mul_": lambda view, w: view.mul_(2), "+=": lambda view, w: view.__iadd__(1),
    "copy_": lambda view, w: view.copy_(view * 0 + 1), "zero_": lambda view, w: view.zero_(),
    "setitem": lambda view, w: view.__setitem__(0, 5.0), "relu_": lambda view, w: view.relu_(),
    "clamp_": lambda view, w: view.clamp_(0, 1), "fill_": lambda view, w: view.fill_(1.0),
    "unsqueeze_": lambda view, w: view.unsqueeze_(0), "mul_ by a tensor in the graph": lambda view, w: view.mul_(w[:2]),
    "a view of the view": lambda view, w: view[:1].mul_(2),
}


def _program(library, change, leaf, take=lambda base: base[:2]):
    w = library.tensor([1.0, -2.0, 3.0], requires_grad=True)
    base = w if leaf else w * 1
    with library.no_grad():
        view = take(base)
    change(view, w)
    return w, base


@pytest.mark.parametrize("leaf", [False, True], ids=["node", "leaf"])
@pytest.mark.parametrize("name", sorted(CHANGES))
def test_changing_a_no_grad_view_with_grad_mode_on_is_refused_as_in_pytorch(name, leaf, torch):
    with pytest.raises(RuntimeError, match="no_grad"):
        _program(torch, CHANGES[name], leaf)
    with pytest.raises(RuntimeError, match="no_grad mode and is being modified in place") as refused:
        _program(gg, CHANGES[name], leaf)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize("take", [lambda b: b.view(3), lambda b: b.reshape(3), lambda b: b[1:], lambda b: b[None],
                                  lambda b: b.expand(2, 3)],
                         ids=["view", "reshape", "slice", "None", "expand"])
def test_every_kind_of_view_counts(take, torch):
    for library in (torch, gg):
        with pytest.raises(RuntimeError, match="no_grad"):
            _program(library, CHANGES["mul_"], False, take)


@settings(max_examples=30, deadline=None)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16), factor=st.floats(-3, 3))
def test_a_view_taken_and_changed_inside_no_grad_is_allowed_and_gives_pytorchs_numbers(shape, seed, factor, torch):
    values = np.random.default_rng(seed).standard_normal(shape)
    results = []
    for library in (torch, gg):
        w = library.tensor(values, requires_grad=True)
        base = w * 1
        with library.no_grad():
            base[:1].mul_(factor)  # not tracked: the graph still says base = w · 1
        (base * base).sum().backward()
        results.append((base.detach().numpy(), w.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)


def test_what_is_no_view_of_the_graph_can_still_change_in_place(torch):
    """A detached view, a view of a plain tensor, and a view taken with grad mode on stay free to change, as in
    PyTorch."""
    for library in (torch, gg):
        w = library.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with library.no_grad():
            view = w[:2]
            plain = library.tensor([1.0, 2.0])[:1]
        view.detach().mul_(1)
        plain.mul_(2)
        (w * 1)[:2].mul_(2)


def test_a_deep_copy_of_such_a_view_is_refused_too_as_in_pytorch(torch):
    for library in (torch, gg):
        w = library.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with library.no_grad():
            view = w[:2]
        with pytest.raises(RuntimeError):  # PyTorch's words depend on what came before; glassgrad names no_grad
            copy.deepcopy(view).mul_(2)


def test_a_refused_change_leaves_the_numbers_as_they_were():
    w = gg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = w * 1
    with gg.no_grad():
        view = base[:2]
    with pytest.raises(RuntimeError):
        view.mul_(10)
    assert base.tolist() == [1.0, 2.0, 3.0]
