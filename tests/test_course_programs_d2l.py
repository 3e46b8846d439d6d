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


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Length of split at index")  # PyTorch, of an empty part
@given(lengths=st.lists(st.integers(0, 6), min_size=1, max_size=4))
def test_random_split_gives_each_part_a_list_of_indices_as_pytorch(lengths, torch):
    """``train.indices + val.indices`` (a course's check that the split is complete) joined the lists in PyTorch
    but added two NumPy arrays here (or failed to broadcast them)."""
    data = gg.data.TensorDataset(gg.arange(sum(lengths)))
    parts = gg.data.random_split(data, lengths, generator=gg.Generator().manual_seed(0))
    theirs = torch.utils.data.random_split(torch.utils.data.TensorDataset(torch.arange(sum(lengths))), lengths)
    assert [type(part.indices) for part in parts] == [type(part.indices) for part in theirs] == [list] * len(lengths)
    joined = sum((part.indices for part in parts), [])
    assert sorted(joined) == list(range(sum(lengths))) and all(type(i) is int for i in joined)
    for part in parts:
        assert [int(part[k][0]) for k in range(len(part))] == part.indices
        assert [int(x) for (batch,) in gg.data.DataLoader(part, batch_size=4) for x in batch] == part.indices


def test_a_subset_keeps_the_indices_it_was_given_as_pytorch():
    data = gg.data.TensorDataset(gg.arange(10) * 10)
    picked = gg.data.Subset(data, range(8, 2, -3))
    assert picked.indices == range(8, 2, -3) and [int(x) for (x,) in picked] == [80, 50]
    assert [int(x) for (batch,) in gg.data.DataLoader(picked, batch_size=5) for x in batch] == [80, 50]
    from_end = gg.data.Subset(data, gg.tensor([-1, 0]))  # negative numbers count from the end, as in PyTorch
    assert [int(x) for (batch,) in gg.data.DataLoader(from_end, batch_size=5) for x in batch] == [90, 0]
    with pytest.raises(IndexError, match=r"Subset: indices must lie in \[0, 10\)"):
        gg.data.Subset(data, [10])
