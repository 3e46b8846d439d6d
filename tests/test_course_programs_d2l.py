"""What course programs (Dive into Deep Learning, CS231n, fast.ai-style loops, RL tutorials) do that once went
wrong here, each checked against PyTorch 2.13."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

ITEM_KINDS = {
    "python float": lambda value: value,
    "python int": lambda value: int(value),
    "numpy float64": np.float64,
    "numpy float32": np.float32,
    "numpy int32": np.int32,
    "float64 tensor": lambda value: ("tensor", np.float64, value),
    "float32 tensor": lambda value: ("tensor", np.float32, value),
}


def build(item, library):
    """An item as a program writes it, with ``library``'s ``tensor`` for the 0-d tensors."""
    if isinstance(item, tuple):
        _, dtype, value = item
        return library.tensor(value, dtype=getattr(library, np.dtype(dtype).name))
    return item


@pytest.mark.torch
@given(kinds=st.lists(st.sampled_from(sorted(ITEM_KINDS)), min_size=1, max_size=5),
       values=st.lists(st.floats(-100, 100, width=32), min_size=5, max_size=5), rows=st.booleans())
def test_a_list_of_numpy_numbers_and_tensors_gets_pytorchs_promoted_dtype(kinds, values, rows, torch):
    """``torch.tensor(returns)`` of NumPy float64 returns (an RL loop's ``R = r + gamma * R``) is float64 in
    PyTorch, which promotes the items' dtypes (a Python float counts as the default float32); it was float32."""
    items = [ITEM_KINDS[kind](value) for kind, value in zip(kinds, values)]
    for library in (gg, torch):
        data = [build(item, library) for item in items]
        made = library.tensor([data, data] if rows else data)
        made_as = library.as_tensor(collections.deque(data))
        if library is gg:
            ours, ours_as = made, made_as
    assert ours.dtype.name == str(made.dtype).removeprefix("torch.")
    assert ours_as.dtype.name == str(made_as.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(ours.numpy(), made.numpy())


@pytest.mark.torch
def test_a_list_of_float64_rows_stays_float64_as_in_pytorch(torch):
    rows = [np.array([0.1, 0.2]), np.array([0.3, 0.4])]  # per-sample feature vectors from NumPy
    assert gg.tensor(rows).dtype == gg.float64 and torch.tensor(np.stack(rows)).dtype == torch.float64
    np.testing.assert_array_equal(gg.tensor(rows).numpy(), np.stack(rows))
    assert gg.tensor([[0.1, 0.2], [0.3, 0.4]]).dtype == gg.float32  # Python floats: the default dtype
