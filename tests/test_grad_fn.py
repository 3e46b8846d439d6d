"""``y.grad_fn`` as PyTorch's tutorials walk it (``loss.grad_fn.next_functions[0][0]`` …), against PyTorch 2.13: the
same chain of steps from the loss down to the leaves' ``AccumulateGrad``; and ``is_inference_mode_enabled``."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

# PyTorch's node names for the steps glassgrad names by its rows
THEIR_NAMES = {"mse_loss": "MseLossBackward0", "linear": "AddmmBackward0", "relu": "ReluBackward0",
               "mul": "MulBackward0", "sum": "SumBackward0", "add": "AddBackward0", "tanh": "TanhBackward0"}


def _chain(node, depth=0):
    """Every path of names from ``node`` down, as nested tuples: (name, [(next …), …])."""
    if node is None:
        return None
    if type(node).__name__ == "AccumulateGrad":
        return ("AccumulateGrad", tuple(node.variable.shape))
    name = node.name if isinstance(node.name, str) else node.name()
    return (name, [_chain(next_node, depth + 1) for next_node, _ in node.next_functions])


def _renamed(chain):
    if chain is None or chain[0] == "AccumulateGrad":
        return chain
    name, below = chain
    return (THEIR_NAMES.get(name, name), [_renamed(part) for part in below])


@pytest.mark.torch
def test_next_functions_walk_the_graph_as_pytorchs(torch):
    """``AttributeError: 'Op' object has no attribute 'next_functions'`` (the 60-minute blitz's neural network)."""
    rng = np.random.default_rng(0)
    w1, b1, w2 = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=(2, 3))
    x, target = rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    chains = []
    for lib in (gg, torch):
        F = lib.nn.functional
        weights = [lib.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
        hidden = F.relu(F.linear(lib.tensor(x), weights[0], weights[1]))
        loss = F.mse_loss(F.linear(hidden, weights[2]).tanh() * 2, lib.tensor(target))
        chains.append(_chain(loss.grad_fn))
        leaf = loss.grad_fn
        while type(leaf).__name__ != "AccumulateGrad":  # the first path down ends at a leaf
            leaf = next(node for node, _ in leaf.next_functions if node is not None)
        assert leaf.variable is weights[2] or leaf.variable is weights[0] or leaf.variable is weights[1]
    ours, theirs = chains
    assert _renamed(ours)[0] == theirs[0] == "MseLossBackward0"

    def leaves(chain):
        if chain is None:
            return []
        if chain[0] == "AccumulateGrad":
            return [chain[1]]
        return [shape for part in chain[1] for shape in leaves(part)]

    assert sorted(leaves(ours)) == sorted(leaves(theirs))  # every path ends at the same leaves


def test_a_node_reads_as_its_row_and_a_leaf_has_none():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * 3).sum()
    assert y.grad_fn.name == "sum" and y.grad_fn.formula == gg.RULES["sum"].formula
    assert w.grad_fn is None and gg.tensor([1.0]).grad_fn is None
    assert y.grad_fn == y.grad_fn and len({y.grad_fn, y.grad_fn}) == 1
    (mul_node, _), = y.grad_fn.next_functions
    (accumulate, _), (constant, _) = mul_node.next_functions
    assert accumulate.variable is w and constant is None and accumulate.next_functions == ()


@pytest.mark.torch
@pytest.mark.parametrize("outer", ["inference_mode", "no_grad", "enable_grad"])
def test_inference_mode_false_turns_recording_on_inside_any_mode_as_pytorchs(torch, outer):
    """``inference_mode(False)`` sets grad mode on (its grad mode is the opposite of the mode), inside
    ``inference_mode()`` or ``no_grad`` too, and the outer mode comes back after it; it kept the outer mode."""
    seen = []
    for lib in (gg, torch):
        w = lib.ones(2, requires_grad=True)
        with getattr(lib, outer)():
            with lib.inference_mode(False):
                inside = (lib.is_grad_enabled(), (w * 2).requires_grad, lib.is_inference_mode_enabled())
            after = (lib.is_grad_enabled(), (w * 2).requires_grad)
        seen.append((inside, after))
    assert seen[0] == seen[1]
    assert seen[0][0] == (True, True, False)


@pytest.mark.torch
def test_is_inference_mode_enabled_as_pytorchs(torch):
    for lib in (gg, torch):
        assert not lib.is_inference_mode_enabled()
        with lib.inference_mode():
            assert lib.is_inference_mode_enabled()
            with lib.inference_mode(False):
                assert not lib.is_inference_mode_enabled()
            assert lib.is_inference_mode_enabled()
        assert not lib.is_inference_mode_enabled()
