"""Second derivatives through one linear map alone (pooling, padding, convolution), against PyTorch 2.13, and the
second derivatives of every op whose recorded gradient changed for it by ``gradgradcheck`` (finite differences).

A map linear in its input x (an average pool, a reflect or replicate pad, a convolution by a constant weight) has a
gradient ``∂(Σ w·out)/∂x`` that does not change with x. PyTorch computes it in one op of the upstream and the input
(``avg_pool2d_backward``, ``reflection_pad1d_backward``, ``convolution_backward``), so it stays in x's graph: it
requires grad, and differentiated again it gives 0 (the pools and pads: their double backward is ``zeros_like``) or
``None`` ("not used": the convolution's). glassgrad's gradient left the graph, so the second ``grad`` raised "does not
require grad". A circular pad is made of slices in PyTorch too: both refuse.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

ALONE = {  # name: (the map of (x, w, b) for both libraries' F, its spatial dims, the inputs that require grad)
    "avg_pool1d": (lambda F, x, w, b: F.avg_pool1d(x, 2, ceil_mode=True), 1, (0,)),
    "avg_pool2d_padded": (lambda F, x, w, b: F.avg_pool2d(x, 2, padding=1), 2, (0,)),
    "avg_pool3d_not_counting_padding": (lambda F, x, w, b: F.avg_pool3d(x, 2, stride=1, padding=1,
                                                                         count_include_pad=False), 3, (0,)),
    "adaptive_avg_pool1d": (lambda F, x, w, b: F.adaptive_avg_pool1d(x, 3), 1, (0,)),
    "adaptive_avg_pool2d": (lambda F, x, w, b: F.adaptive_avg_pool2d(x, (2, 1)), 2, (0,)),
    "pad_reflect_1d": (lambda F, x, w, b: F.pad(x, (1, 1), mode="reflect"), 1, (0,)),
    "pad_reflect_2d": (lambda F, x, w, b: F.pad(x, (1, 0, 1, 1), mode="reflect"), 2, (0,)),
    "pad_replicate_1d_crop": (lambda F, x, w, b: F.pad(x, (-1, 2), mode="replicate"), 1, (0,)),
    "pad_replicate_3d": (lambda F, x, w, b: F.pad(x, (1, 2, 0, 1, 2, 0), mode="replicate"), 3, (0,)),
    "pad_circular_1d": (lambda F, x, w, b: F.pad(x, (1, 1), mode="circular"), 1, (0,)),
    "conv1d_input": (lambda F, x, w, b: F.conv1d(x, w, b, padding=1), 1, (0,)),
    "conv2d_input_strided": (lambda F, x, w, b: F.conv2d(x, w, b, stride=2, padding=(1, 0)), 2, (0,)),
    "conv3d_input": (lambda F, x, w, b: F.conv3d(x, w, b, padding=1), 3, (0,)),
    "conv2d_weight": (lambda F, x, w, b: F.conv2d(x, w, b), 2, (1,)),
    "conv1d_input_and_bias": (lambda F, x, w, b: F.conv1d(x, w, b, dilation=2, padding=2), 1, (0, 2)),
    "conv2d_weight_and_bias": (lambda F, x, w, b: F.conv2d(x, w, b, padding=1), 2, (1, 2)),
    "conv1d_bias": (lambda F, x, w, b: F.conv1d(x, w, b), 1, (2,)),
    "conv2d_input_and_weight": (lambda F, x, w, b: F.conv2d(x, w, b, padding=1), 2, (0, 1)),
}


def _shapes(dims: int) -> st.SearchStrategy:
    """(N, C, *sides) of x, (O, C, 2, …) of a convolution's weight, (O,) of its bias."""
    return st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
                     st.lists(st.integers(2, 4), min_size=dims, max_size=dims)).map(
        lambda drawn: ((drawn[0], drawn[1], *drawn[3]), (drawn[2], drawn[1], *(2,) * dims), (drawn[2],)))


def _error(error: Exception) -> tuple:
    return type(error), "\n" not in str(error)


def _second_alone(lib, name: str, arrays: list, outer: np.ndarray, inner: list) -> list:
    """What the user sees: the gradients of Σ w·out (create_graph=True) and whether they require grad, then their
    derivative Σ g·v with ``allow_unused=True`` and without it (the exception where one is raised)."""
    call, _, wanted = ALONE[name]
    xs = [lib.tensor(a, dtype=lib.float64, requires_grad=k in wanted) for k, a in enumerate(arrays)]
    out = call(lib.nn.functional, *xs)
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=lib.float64)
    firsts = lib.autograd.grad((out * weights).sum(), [xs[k] for k in wanted], create_graph=True)
    found: list = [[g.detach().numpy() for g in firsts], [g.requires_grad for g in firsts]]
    total = sum((g * lib.tensor(inner[k], dtype=lib.float64)).sum() for g, k in zip(firsts, wanted))
    for allow_unused in (True, False):
        try:
            seconds = lib.autograd.grad(total, [xs[k] for k in wanted], allow_unused=allow_unused, retain_graph=True)
            found.append([None if g is None else g.numpy(**({} if lib is gg else {"force": True})) for g in seconds])
        except RuntimeError as error:
            found.append(_error(error))
    return found


@pytest.mark.torch
@given(data=st.data(), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("name", sorted(ALONE))
def test_the_second_derivative_through_a_linear_map_alone_is_pytorchs(torch, name, data, seed):
    """The first gradients' numbers and requires_grad, and the second derivatives (0, ``None`` or the exception),
    as PyTorch's: before, every pool, reflect/replicate pad and convolution here raised "does not require grad"."""
    shapes = data.draw(_shapes(ALONE[name][1]), label="shapes")
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape) for shape in shapes]
    outer, inner = rng.normal(size=512), [rng.normal(size=shape) for shape in shapes]
    mine, theirs = (_second_alone(lib, name, arrays, outer, inner) for lib in (gg, torch))
    for ours, reference in zip(mine[0], theirs[0]):
        np.testing.assert_allclose(ours, reference, rtol=1e-12, atol=1e-12)
    assert mine[1] == theirs[1]
    for ours, reference in zip(mine[2:], theirs[2:]):
        if isinstance(reference, tuple):
            assert isinstance(ours, tuple) and issubclass(ours[0], reference[0]) and ours[1], (ours, reference)
            continue
        assert [g is None for g in ours] == [g is None for g in reference], (ours, reference)
        for g, r in zip(ours, reference):
            if r is not None:
                np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


GRADGRAD = {  # name: (the function, its inputs' shapes)
    "threshold": (lambda x: gg.nn.functional.threshold(x, 0.5, -2.0), [(3, 4)]),
    "hardshrink": (lambda x: gg.nn.functional.hardshrink(x, 0.5), [(3, 4)]),
    "softshrink": (lambda x: gg.nn.functional.softshrink(x, 0.5), [(3, 4)]),
    "prelu": (lambda x, a: gg.nn.functional.prelu(x, a), [(2, 3, 4), (3,)]),
    "avg_pool1d": (lambda x: gg.nn.functional.avg_pool1d(x, 3, stride=2, padding=1), [(2, 2, 5)]),
    "avg_pool2d": (lambda x: gg.nn.functional.avg_pool2d(x, 2, ceil_mode=True), [(1, 2, 3, 5)]),
    "avg_pool3d": (lambda x: gg.nn.functional.avg_pool3d(x, 2, divisor_override=3), [(1, 1, 2, 3, 4)]),
    "adaptive_avg_pool2d": (lambda x: gg.nn.functional.adaptive_avg_pool2d(x, (2, 3)), [(1, 2, 3, 5)]),
    "pad_reflect": (lambda x: gg.nn.functional.pad(x, (2, 1, 1, 1), mode="reflect"), [(1, 2, 3, 4)]),
    "pad_replicate": (lambda x: gg.nn.functional.pad(x, (1, 2), mode="replicate"), [(2, 3)]),
    "conv1d": (lambda x, w, b: gg.nn.functional.conv1d(x, w, b, stride=2, padding=1), [(2, 2, 5), (3, 2, 3), (3,)]),
    "conv2d": (lambda x, w: gg.nn.functional.conv2d(x, w, groups=2), [(1, 4, 3, 3), (2, 2, 2, 2)]),
    "conv3d": (lambda x, w: gg.nn.functional.conv3d(x, w, padding=1), [(1, 1, 2, 3, 2), (2, 1, 2, 2, 2)]),
}


@pytest.mark.parametrize("alone", [False, True], ids=["every input", "the first input alone"])
@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradgradcheck_in_float64(name, alone):
    """gg.autograd.gradgradcheck: the recorded second derivatives against finite differences of the first, with every
    input requiring grad and with the first alone (where the gradient before held no graph and the check raised).
    The entries are kept 0.1 away from the kinks at 0 and ±0.5."""
    function, shapes = GRADGRAD[name]
    rng = np.random.default_rng(len(name))
    arrays = [rng.choice([-1, 1], size=shape) * rng.choice([0.2, 0.3, 0.7, 1.1], size=shape) + rng.uniform(
        -0.05, 0.05, size=shape) for shape in shapes]
    inputs = [gg.tensor(a, dtype=gg.float64, requires_grad=not alone or k == 0) for k, a in enumerate(arrays)]
    assert gg.autograd.gradgradcheck(function, inputs)
