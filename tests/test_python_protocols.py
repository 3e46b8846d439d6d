"""Python's own protocols on a tensor, as PyTorch 2.13 answers them: ``abs(x)``, ``x == None``, ``x != None``,
``None in [x]`` (each raised or gave a tensor)."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


@pytest.mark.torch
def test_abs_and_comparisons_with_none_as_pytorch(torch):
    for lib in (gg, torch):
        x = lib.tensor([-1.5, 2.0])
        assert abs(x).tolist() == [1.5, 2.0]
        assert (x == None) is False and (x != None) is True  # noqa: E711 (what is tested)
        assert (None == x) is False and x is not None  # noqa: E711
        assert [x].count(None) == 0 and None not in [x]
        assert (x == "a") is False
    x = gg.tensor([-1.5, 2.0], requires_grad=True)
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [-1.0, 1.0])  # abs(x) is in the graph


def test_a_method_comparing_with_none_is_refused_in_one_line():
    with pytest.raises(TypeError, match="equal: cannot compare a tensor with None; compare with a number or a tensor"):
        gg.ones(2).eq(None)
    with pytest.raises(TypeError, match="less: cannot compare a tensor with None"):
        gg.ones(2) < None  # noqa: B015
