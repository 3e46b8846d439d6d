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


@pytest.mark.torch
def test_a_one_number_integer_tensor_is_a_python_index_as_in_pytorch(torch):
    """nanoGPT's ``torch.stack([data[i:i + block_size] for i in ix])``: TypeError, slice indices must be integers."""
    for lib in (gg, torch):
        data, starts = lib.arange(10), lib.tensor([2, 5])
        assert [data[i:i + 3].tolist() for i in starts] == [[2, 3, 4], [5, 6, 7]]
        assert [1, 2, 3][lib.tensor(1)] == 2 and list(range(lib.tensor(3))) == [0, 1, 2]
        assert [1, 2][lib.tensor([1])] == 2 and [1, 2][lib.tensor(True)] == 2
        for bad in (lib.tensor(1.0), lib.tensor([0, 1])):
            with pytest.raises(TypeError, match="only integer tensors of a single element can be converted"):
                [1, 2][bad]  # noqa: B018


@pytest.mark.torch
def test_flatten_refuses_a_start_after_its_end_as_pytorch(torch):
    """``x.flatten(2, 1)`` gave shape (2, 3, 1, 4, 5), a size-1 dim inserted, where PyTorch refuses."""
    x, t = gg.ones(2, 3, 4, 5), torch.ones(2, 3, 4, 5)
    for start, end in ((2, 1), (-1, 0), (3, 2)):
        with pytest.raises(RuntimeError):
            t.flatten(start, end)
        with pytest.raises(RuntimeError, match="flatten: start_dim .* comes after end_dim .* give start_dim <="):
            x.flatten(start, end)
    for start, end in ((1, 1), (0, -1), (1, 2), (-2, -1)):
        assert tuple(x.flatten(start, end).shape) == tuple(t.flatten(start, end).shape)


@pytest.mark.torch
def test_pytorchs_constants_are_pythons_numbers(torch):
    """``attn.masked_fill_(mask, -torch.inf)`` (the LLM-from-scratch books): AttributeError, no attribute 'inf'."""
    for name in ("inf", "nan", "pi", "e", "newaxis"):
        ours, theirs = getattr(gg, name), getattr(torch, name)
        assert ours is theirs or ours == theirs or (np.isnan(ours) and np.isnan(theirs))
    assert tuple(gg.ones(3)[:, gg.newaxis].shape) == (3, 1)
    scores = gg.ones(2, 2, requires_grad=True) * 1
    scores.masked_fill_(gg.tensor([[False, True], [False, False]]), -gg.inf)
    assert scores.softmax(-1).tolist() == [[1.0, 0.0], [0.5, 0.5]]
