"""``mT``, ``mH``, ``adjoint()`` and ``H`` on 0-d, 1-D and batched tensors, and ``cat`` with an empty (0,) tensor
that requires grad, against PyTorch 2.13: the same result, warning, refusal class and gradient."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import settings

TRANSPOSES = {
    "mT": lambda x: x.mT,
    "mH": lambda x: x.mH,
    "adjoint()": lambda x: x.adjoint(),
    "gg.adjoint": lambda x: (gg.adjoint if isinstance(x, gg.Tensor) else type(x).adjoint)(x),
    "H": lambda x: x.H,
}


def _outcome(call, x):
    """(result as an array or the error's class, the warning messages' first sentence)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = np.asarray(call(x).detach().numpy())
        except RuntimeError as error:
            result = type(error)
    return result, [str(w.message).split(". ")[0] for w in caught]


@pytest.mark.torch
@pytest.mark.parametrize("name", list(TRANSPOSES))
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=4).map(tuple))
def test_transposes_follow_pytorch_on_every_rank(torch, name, shape):
    """2 dims and more: the last two swapped (``H``: 2 dims only); 0-d: the tensor itself, with PyTorch's
    deprecation warning; 1-D (and ``H`` above 2 dims): RuntimeError in one line."""
    settings.set_warn_always(True)  # both warn once per process: here at every call
    torch.set_warn_always(True)
    try:
        values = np.arange(np.prod(shape, dtype=int), dtype=np.float64).reshape(shape)
        theirs = _outcome(TRANSPOSES[name], torch.tensor(values))
        ours = _outcome(TRANSPOSES[name], gg.tensor(values))
    finally:
        settings.set_warn_always(False)
        torch.set_warn_always(False)
    if isinstance(theirs[0], type):
        assert ours[0] is theirs[0]
    else:
        np.testing.assert_array_equal(ours[0], theirs[0])
    assert ours[1] == theirs[1]


def test_a_zero_dim_transpose_is_the_tensor_itself():
    x = gg.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="deprecated on 0-D tensors"):
        settings.set_warn_always(True)
        try:
            assert x.mT is x and x.mH is x and x.H is x
        finally:
            settings.set_warn_always(False)


def test_a_vector_is_refused_with_the_fix():
    with pytest.raises(RuntimeError, match=r"^tensor\.mT is only supported on matrices .* use x\.unsqueeze\(-1\)$"):
        _ = gg.ones(3).mT


@pytest.mark.torch
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_an_empty_vector_joined_by_cat_gets_its_empty_gradient(torch, dim):
    """PyTorch leaves a (0,) tensor out of ``cat``'s result but keeps it in the graph: after backward its ``.grad``
    is an empty tensor, not None; the other inputs' gradients are ones, the result the others joined."""
    results = []
    for lib in (torch, gg):
        empty = lib.zeros(0, requires_grad=True)
        block = lib.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        joined = lib.cat([empty, block, empty], dim)
        (joined * joined).sum().backward()
        results.append((joined.detach().numpy(), empty.grad, block.grad.numpy()))
    (their_joined, their_empty, their_block), (our_joined, our_empty, our_block) = results
    np.testing.assert_array_equal(our_joined, their_joined)
    assert our_empty is not None and tuple(our_empty.shape) == tuple(their_empty.shape) == (0,)
    np.testing.assert_array_equal(our_block, 2 * np.arange(6.0).reshape(2, 3))  # ∂Σz²/∂z = 2z
    np.testing.assert_array_equal(our_block, their_block)


def test_building_up_from_an_empty_tensor_is_unchanged():
    """``out = gg.cat([out, row])`` from ``gg.tensor([])``: the empty start leaves no trace in the result."""
    out = gg.tensor([])
    for step in range(3):
        out = gg.cat([out, gg.full((1,), float(step))])
    np.testing.assert_array_equal(out.numpy(), [0.0, 1.0, 2.0])
