"""What course programs (Dive into Deep Learning, CS231n, fast.ai-style loops, RL tutorials) do that once went
wrong here, each checked against PyTorch 2.13."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_line_errors import assert_raises_as_pytorch

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


UPDATES = {
    "+=": lambda view, value: view.__iadd__(value),
    "-=": lambda view, value: view.__isub__(value),
    "*=": lambda view, value: view.__imul__(value),
    "copy_": lambda view, value: view.copy_(value),
}


def update_rows(library, rows, columns, index, how, in_graph, seed):
    """``out[index] op= w`` on a plain buffer (makemore's ``dC[ix] += demb[k, j]``) or on a tensor in the graph,
    written as a statement, then a weighted sum's backward: the numbers and gradients to compare."""
    rng = np.random.default_rng(seed)
    x = library.tensor(rng.normal(size=(rows, columns)), requires_grad=True)
    w = library.tensor(rng.normal(size=columns), requires_grad=True)
    out = x * 1 if in_graph else library.zeros(rows, columns, dtype=library.float64)
    row = out[index]  # a view taken before the change follows it, as in PyTorch
    view = out[index]
    out.__setitem__(index, UPDATES[how](view, w * 2))  # what `out[index] += w * 2` runs
    weights = library.tensor(rng.normal(size=(rows, columns)))
    loss = (out * weights).sum() + (row * row).sum()
    loss.backward()
    return [out.tolist(), row.tolist(), loss.item(), w.grad.tolist(), None if x.grad is None else x.grad.tolist()]


@pytest.mark.torch
@given(rows=st.integers(1, 4), columns=st.integers(1, 3), data=st.data(), how=st.sampled_from(sorted(UPDATES)),
       in_graph=st.booleans(), seed=st.integers(0, 2**16))
def test_an_in_place_change_through_a_row_with_a_value_in_the_graph_is_pytorchs(rows, columns, data, how, in_graph,
                                                                               seed, torch):
    """``dC[ix] += demb[k, j]`` (makemore's manual backprop, a 0-d tensor index) raised "not supported: clone() it
    first" on a plain buffer; on a tensor in the graph, ``h[1] += w`` raised at backward ("backward through the
    graph a second time"): re-basing the row after the base did not count as a change, so nodes made in between
    were not rerouted."""
    position = data.draw(st.integers(-rows, rows - 1))
    for index in (position, torch.tensor(position)):
        ours_index = gg.tensor(position) if isinstance(index, torch.Tensor) else index
        ours = update_rows(gg, rows, columns, ours_index, how, in_graph, seed)
        theirs = update_rows(torch, rows, columns, index, how, in_graph, seed)
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(np.asarray(mine, dtype=float), np.asarray(reference, dtype=float),
                                       rtol=1e-12, atol=1e-12)


@pytest.mark.torch
@given(seed=st.integers(0, 2**32), size=st.integers(1, 8))
def test_the_default_generator_is_the_stream_manual_seed_restarts_as_pytorchs(seed, size, torch):
    """``DataLoader(..., generator=torch.default_generator)`` and ``torch.default_generator.manual_seed(s)`` (seeding
    boilerplate) failed: ``gg.default_generator`` was a function, not PyTorch's Generator object."""
    for library in (gg, torch):
        assert library.manual_seed(seed) is library.default_generator
        assert library.default_generator.initial_seed() == library.initial_seed() == seed
    first = gg.randperm(size, generator=gg.default_generator).tolist()
    gg.default_generator.manual_seed(seed)
    assert gg.randperm(size).tolist() == first and sorted(first) == list(range(size))
    gg.manual_seed(seed)
    loader = gg.data.DataLoader(gg.data.TensorDataset(gg.arange(size)), batch_size=3, shuffle=True,
                                generator=gg.default_generator)
    loaded = [int(x) for (batch,) in loader for x in batch]
    assert loaded == first
    gg.manual_seed(seed)
    parts = gg.data.random_split(gg.data.TensorDataset(gg.arange(size)), [size], generator=gg.default_generator)
    assert parts[0].indices == first


MISTAKES = {  # a course's usual mistakes, each raising PyTorch's exception type (was ValueError or TypeError here)
    "conv2d given 1 channel for 3": lambda t: t.nn.Conv2d(3, 4, 3)(t.ones(1, 1, 8, 8)),
    "conv1d given 2 channels for 3": lambda t: t.nn.Conv1d(3, 4, 3)(t.ones(1, 2, 8)),
    "conv_transpose2d channels": lambda t: t.nn.ConvTranspose2d(3, 4, 3)(t.ones(1, 2, 8, 8)),
    "conv2d of float64 input": lambda t: t.nn.Conv2d(1, 4, 3)(t.ones(1, 1, 8, 8, dtype=t.float64)),
    "conv_transpose2d of float64 input": lambda t: t.nn.ConvTranspose2d(1, 4, 3)(t.ones(1, 1, 4, 4, dtype=t.float64)),
    "conv2d of a 5-d input": lambda t: t.nn.Conv2d(1, 4, 3)(t.ones(1, 1, 1, 8, 8)),
    "conv2d kernel larger than input": lambda t: t.nn.Conv2d(1, 1, 5)(t.ones(1, 1, 3, 3)),
    "max_pool2d output of size 0": lambda t: t.nn.MaxPool2d(2)(t.ones(1, 1, 1, 1)),
    "avg_pool2d output of size 0": lambda t: t.nn.AvgPool2d(3)(t.ones(1, 1, 2, 2)),
    "LSTM given 4 features for 3": lambda t: t.nn.LSTM(3, 4)(t.ones(5, 2, 4)),
    "GRU given 4 features for 3": lambda t: t.nn.GRU(3, 4, batch_first=True)(t.ones(2, 5, 4)),
    "LSTM of float64 input": lambda t: t.nn.LSTM(3, 4)(t.ones(5, 2, 3, dtype=t.float64)),
    "GRU given h_0 of another batch": lambda t: t.nn.GRU(1, 2)(t.ones(3, 2, 1), t.zeros(1, 3, 2)),
    "GRUCell given h of another batch": lambda t: t.nn.GRUCell(1, 2)(t.ones(2, 1), t.zeros(3, 2)),
    "cross_entropy of float labels": lambda t: t.nn.functional.cross_entropy(t.ones(4, 3), t.tensor([0., 1., 2., 1.])),
    "cross_entropy of bool labels": lambda t: t.nn.functional.cross_entropy(t.ones(2, 3), t.tensor([True, False])),
    "cross_entropy of (N, 1) labels": lambda t: t.nn.functional.cross_entropy(t.ones(4, 3), t.zeros(4, 1).long()),
    "cross_entropy of too few labels": lambda t: t.nn.functional.cross_entropy(t.ones(4, 3), t.tensor([0, 1])),
    "cross_entropy of probabilities, wrong shape": lambda t: t.nn.functional.cross_entropy(t.ones(4, 3), t.ones(4, 2)),
    "nll_loss of float labels": lambda t: t.nn.functional.nll_loss(t.ones(4, 3), t.tensor([0., 1., 2., 1.])),
    "embedding of float indices": lambda t: t.nn.Embedding(5, 2)(t.tensor([1.0])),
    "binary_cross_entropy of a score above 1": lambda t: t.nn.functional.binary_cross_entropy(t.tensor([0.5, 1.5]),
                                                                                              t.tensor([0., 1.])),
    "BatchNorm1d given 5 features for 3": lambda t: t.nn.BatchNorm1d(3)(t.ones(4, 5)),
    "BatchNorm2d given a 3-d input": lambda t: t.nn.BatchNorm2d(3)(t.ones(3, 4, 4)),
}


@pytest.mark.torch
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_a_usual_mistake_raises_pytorchs_exception_type_in_one_line(mistake, torch):
    """``except RuntimeError`` around a layer call (a notebook showing the error) caught PyTorch's error but not
    glassgrad's ValueError or TypeError."""
    assert_raises_as_pytorch(MISTAKES[mistake], torch)


@pytest.mark.torch
@given(drop=st.sampled_from([None, "weight", "bias"]), extra=st.booleans())
def test_load_state_dict_shows_what_pytorch_shows(drop, extra, torch):
    """A notebook cell ending in ``model.load_state_dict(state)`` shows ``<All keys matched successfully>`` in
    PyTorch; glassgrad showed ``IncompatibleKeys(missing_keys=[], unexpected_keys=[])``."""
    shown = []
    for library in (gg, torch):
        state = library.nn.Linear(2, 3).state_dict()
        if drop:
            del state[drop]
        if extra:
            state["scale"] = library.ones(1)
        result = library.nn.Linear(2, 3).load_state_dict(state, strict=False)
        shown.append((repr(result).removeprefix("_"), result.missing_keys, result.unexpected_keys))
    assert shown[0] == shown[1]
