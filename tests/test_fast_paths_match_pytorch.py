"""Ops whose NumPy form was rewritten for speed keep PyTorch's numbers, edge values included.

Oracle: PyTorch 2.13 (bit for bit where both compute the same formula, else within rounding),
and finite differences for gradients.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import glassgrad as gg
import glassgrad.nn.functional as F

EDGES = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e20, -1e-30, 3e12, -7.5, 1e-3]


def _with_edges(shape, dtype, seed=0):
    values = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    values.reshape(-1)[: len(EDGES)] = EDGES
    return values


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("exponent", [3, -2, 3.0, -2.0])
def test_cube_and_inverse_square_are_pytorchs_bit_for_bit(torch, dtype, exponent):
    x = _with_edges((8, 16), dtype)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out, expected = ours**exponent, theirs**exponent
    np.testing.assert_array_equal(out.array, expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=4 * np.finfo(dtype).eps, atol=0)


@pytest.mark.torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_gelu_at_edge_values_is_pytorchs(torch, dtype):
    x = _with_edges((8, 16), dtype)
    ours = gg.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.gelu(ours, approximate="tanh")
    expected = torch.nn.functional.gelu(theirs, approximate="tanh")
    out.sum().backward()
    expected.sum().backward()
    tolerance = {"rtol": 8 * np.finfo(dtype).eps, "atol": 4 * np.finfo(dtype).eps}
    np.testing.assert_allclose(out.array, expected.detach().numpy(), **tolerance)
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), **tolerance)
