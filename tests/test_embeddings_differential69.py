"""Round 69: embeddings and lookups against PyTorch 2.13 (``nn.Embedding``/``F.embedding``, ``nn.EmbeddingBag``/
``F.embedding_bag``, ``F.one_hot``, and ``gather``/``take``/``take_along_dim``/``index_select`` used as lookups).

A drawn case builds the same float64 table and integer indices for both libraries and compares the output, the
table's gradient (and ``per_sample_weights``'), the table after the call (``max_norm`` rescales the rows it reads
in place), the module's repr and state-dict keys. The regression tests pin what glassgrad got wrong: misuse raised
another exception class than PyTorch's (a table that is not 2-D, ``padding_idx=1.0``, a ``_weight`` or
``from_pretrained`` table of the wrong shape, ``per_sample_weights`` outside ``mode='sum'``, offsets that are not
bags' starts, an index out of range in a bag, a 2-D ``index_select`` index, a float ``num_classes``, an empty
tensor with ``num_classes=0``), and ``Embedding(0, d)``/``Embedding(n, 0)`` were refused where PyTorch builds an
empty table. Left out of the comparison on purpose: ``embedding_bag``'s ``scale_grad_by_freq`` gradient, where
PyTorch's CPU kernel divides by another index's count (pytorch#190063; glassgrad's is pinned against the lookup
followed by a sum), and ``sparse=True`` (refused in one line: glassgrad has no sparse gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch

F = gg.nn.functional


def _table(rows: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(rows, dim)) * 1.5


def _lookup(lib, table, indices, make, upstream_seed=0, weights=None):
    """``make(lib, weight, indices, psw)``'s output, the table's gradient, the table after, psw's gradient."""
    weight = lib.tensor(table.copy(), requires_grad=True)
    psw = None if weights is None else lib.tensor(weights.copy(), requires_grad=True)
    out = make(lib, weight, lib.tensor(indices), psw)
    upstream = np.random.default_rng(upstream_seed).normal(size=tuple(out.shape))
    out.backward(lib.tensor(upstream))
    grad = weight.grad.numpy() if weight.grad is not None else np.zeros_like(table)
    return [out.detach().numpy(), grad, weight.detach().numpy()] + ([] if psw is None else [psw.grad.numpy()])


def _same(torch, table, indices, make, weights=None):
    ours = _lookup(gg, table, indices, make, weights=weights)
    theirs = _lookup(torch, table, indices, make, weights=weights)
    for name, a, b in zip(("output", "table's gradient", "table after", "weights' gradient"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=name)


def _class(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error).__name__, str(error)
    return "no error", ""


# --- misuse: PyTorch's exception class, in one line ------------------------------------------------------------

MISUSE = {
    "embedding of a 1-D table": lambda L: L.nn.functional.embedding(L.tensor([1]), L.ones(4)),
    "embedding of a 3-D table": lambda L: L.nn.functional.embedding(L.tensor([1]), L.ones(2, 2, 2)),
    "padding_idx=1.0": lambda L: L.nn.functional.embedding(L.tensor([1]), L.ones(4, 3), padding_idx=1.0),
    "_weight of another shape": lambda L: L.nn.Embedding(3, 3, _weight=L.zeros(2, 3)),
    "from_pretrained of a 1-D table": lambda L: L.nn.Embedding.from_pretrained(L.zeros(3)),
    "EmbeddingBag.from_pretrained of a 3-D table": lambda L: L.nn.EmbeddingBag.from_pretrained(L.zeros(3, 2, 2)),
    "per_sample_weights with mode='mean'": lambda L: L.nn.functional.embedding_bag(
        L.tensor([[1]]), L.ones(4, 3), mode="mean", per_sample_weights=L.ones(1, 1)),
    "per_sample_weights with mode='max' (module)": lambda L: L.nn.EmbeddingBag(4, 3, mode="max")(
        L.tensor([[1]]), per_sample_weights=L.ones(1, 1)),
    "offsets from 1": lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.ones(4, 3), L.tensor([1])),
    "offsets past the end": lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.ones(4, 3),
                                                                    L.tensor([0, 3])),
    "float offsets": lambda L: L.nn.functional.embedding_bag(L.tensor([1, 2]), L.ones(4, 3), L.tensor([0.0])),
    "bag index out of range": lambda L: L.nn.functional.embedding_bag(L.tensor([[5]]), L.ones(4, 3)),
    "bag index -1": lambda L: L.nn.functional.embedding_bag(L.tensor([0, -1]), L.ones(4, 3), L.tensor([0])),
    "index_select with a 2-D index": lambda L: L.index_select(L.ones(4, 3), 0, L.tensor([[1]])),
    "one_hot with num_classes=3.0": lambda L: L.nn.functional.one_hot(L.tensor([1]), 3.0),
    "one_hot of an empty tensor, num_classes=0": lambda L: L.nn.functional.one_hot(
        L.tensor([], dtype=L.int64), 0),
}

PINNED_MISUSE = {  # already PyTorch's class before round 69
    "embedding index out of range": lambda L: L.nn.functional.embedding(L.tensor([4]), L.ones(4, 3)),
    "embedding index -1": lambda L: L.nn.functional.embedding(L.tensor([-1]), L.ones(4, 3)),
    "float indices": lambda L: L.nn.functional.embedding(L.tensor([1.0]), L.ones(4, 3)),
    "bool indices": lambda L: L.nn.functional.embedding(L.tensor([True]), L.ones(4, 3)),
    "padding_idx past the table": lambda L: L.nn.Embedding(4, 3, padding_idx=4),
    "padding_idx=-5 of 4 rows": lambda L: L.nn.functional.embedding(L.tensor([1]), L.ones(4, 3), padding_idx=-5),
    "embedding_bag of a 1-D table": lambda L: L.nn.functional.embedding_bag(L.tensor([[1]]), L.ones(3)),
    "bag mode='min'": lambda L: L.nn.functional.embedding_bag(L.tensor([[1]]), L.ones(4, 3), mode="min"),
    "bag max with scale_grad_by_freq": lambda L: L.nn.functional.embedding_bag(
        L.tensor([[1]]), L.ones(4, 3), mode="max", scale_grad_by_freq=True),
    "2-D input with offsets": lambda L: L.nn.functional.embedding_bag(L.tensor([[1]]), L.ones(4, 3), L.tensor([0])),
    "1-D input without offsets": lambda L: L.nn.functional.embedding_bag(L.tensor([1]), L.ones(4, 3)),
    "3-D bag input": lambda L: L.nn.functional.embedding_bag(L.tensor([[[1]]]), L.ones(4, 3)),
    "per_sample_weights of another shape": lambda L: L.nn.functional.embedding_bag(
        L.tensor([[1, 2]]), L.ones(4, 3), mode="sum", per_sample_weights=L.ones(2)),
    "one_hot class past num_classes": lambda L: L.nn.functional.one_hot(L.tensor([3]), 3),
    "one_hot negative class": lambda L: L.nn.functional.one_hot(L.tensor([-1]), 3),
    "one_hot of an empty tensor, num_classes=-1": lambda L: L.nn.functional.one_hot(L.tensor([], dtype=L.int64)),
    "gather index out of range": lambda L: L.gather(L.ones(4, 3), 0, L.tensor([[4]])),
    "index_select index out of range": lambda L: L.index_select(L.ones(4, 3), 0, L.tensor([4])),
    "take index out of range": lambda L: L.take(L.ones(4, 3), L.tensor([12])),
}


@pytest.mark.parametrize("name", list(MISUSE))
def test_misuse_raises_pytorchs_class_in_one_line(torch, name):
    ours, message = _class(lambda: MISUSE[name](gg))
    assert ours == _class(lambda: MISUSE[name](torch))[0]
    assert "\n" not in message and message


@pytest.mark.parametrize("name", list(PINNED_MISUSE))
def test_misuse_already_raising_pytorchs_class(torch, name):
    ours, message = _class(lambda: PINNED_MISUSE[name](gg))
    assert ours == _class(lambda: PINNED_MISUSE[name](torch))[0]
    assert "\n" not in message and message


def test_an_index_out_of_range_names_the_call_that_read_it():
    with pytest.raises(IndexError, match=r"^embedding: index 7 is out of range: the table has 4 rows"):
        F.embedding(gg.tensor([7]), gg.ones(4, 3))
    with pytest.raises(RuntimeError, match=r"^embedding_bag: index 7 is out of range: the table has 4 rows"):
        F.embedding_bag(gg.tensor([[7]]), gg.ones(4, 3))


# --- empty tables -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rows, dim", [(0, 3), (3, 0), (0, 0)])
def test_an_empty_table_is_built_and_looked_up_as_in_pytorch(torch, rows, dim):
    indices = [] if rows == 0 else [1, 2, 1]
    for lib in (gg, torch):
        layer = lib.nn.Embedding(rows, dim)
        out = layer(lib.tensor(indices, dtype=lib.int64))
        out.sum().backward()
        assert tuple(out.shape) == (len(indices), dim) and tuple(layer.weight.grad.shape) == (rows, dim)
    assert repr(gg.nn.Embedding(rows, dim)).split("  #")[0] == repr(torch.nn.Embedding(rows, dim))
    bag = gg.nn.EmbeddingBag(3, 0, mode="max")(gg.tensor([[1, 2]]))
    assert tuple(bag.shape) == (1, 0)


# --- the drawn comparison -----------------------------------------------------------------------------------------

@given(rows=st.integers(1, 6), dim=st.integers(1, 4), shape=st.sampled_from([(), (0,), (5,), (2, 3), (2, 0, 2)]),
       int32=st.booleans(), padding=st.sampled_from([None, 0, -1, "last"]),
       max_norm=st.sampled_from([None, 0.5, 1.0, 2.0]), norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]),
       scale=st.booleans(), module=st.booleans(), seed=st.integers(0, 2**16))
def test_embedding_matches_pytorch(torch, rows, dim, shape, int32, padding, max_norm, norm_type, scale, module,
                                   seed):
    """Values, the table's gradient (repeated indices collect the sum; ``padding_idx``'s row none; divided by the
    frequency with ``scale_grad_by_freq``) and the rows ``max_norm`` rescaled in place."""
    padding = rows - 1 if padding == "last" else padding
    indices = np.random.default_rng(seed).integers(0, rows, size=shape).astype(np.int32 if int32 else np.int64)

    def make(lib, weight, idx, _):
        if not module:
            return lib.nn.functional.embedding(idx, weight, padding, max_norm, norm_type, scale)
        layer = lib.nn.Embedding.from_pretrained(weight, freeze=False, padding_idx=padding, max_norm=max_norm,
                                                 norm_type=norm_type, scale_grad_by_freq=scale)
        assert layer.weight is weight or layer.weight.data_ptr() == weight.data_ptr()
        return layer(idx)
    _same(torch, _table(rows, dim, seed), indices, make)


@st.composite
def _bags(draw):
    rows = draw(st.integers(1, 5))
    two_d = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if two_d:
        indices = rng.integers(0, rows, size=(draw(st.integers(0, 3)), draw(st.integers(1, 3))))
        return rows, indices, None, False
    length = draw(st.integers(0, 6))
    indices = rng.integers(0, rows, size=length)
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=3)))
    last = draw(st.booleans())
    return rows, indices, np.array([0, *cuts] + ([length] if last else []), dtype=np.int64), last


@given(bags=_bags(), dim=st.integers(1, 3), mode=st.sampled_from(["sum", "mean", "max"]),
       padding=st.sampled_from([None, 0, -1]), max_norm=st.sampled_from([None, 1.0]), weighted=st.booleans(),
       seed=st.integers(0, 2**16))
def test_embedding_bag_matches_pytorch(torch, bags, dim, mode, padding, max_norm, weighted, seed):
    """Each bag's sum, mean or maximum (empty bags and bags of ``padding_idx`` only: zeros), the gradient into the
    table and into ``per_sample_weights`` (sum mode), the rows ``max_norm`` rescaled."""
    rows, indices, offsets, last = bags
    weights = np.random.default_rng(seed + 1).normal(size=indices.shape) if weighted and mode == "sum" else None

    def make(lib, weight, idx, psw):
        layer = lib.nn.EmbeddingBag.from_pretrained(weight, freeze=False, max_norm=max_norm, mode=mode,
                                                    include_last_offset=last, padding_idx=padding)
        return layer(idx, None if offsets is None else lib.tensor(offsets), psw)
    _same(torch, _table(rows, dim, seed), indices, make, weights)


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_bag_scale_grad_by_freq_is_the_lookups_gradient_then_the_bags(mode):
    """PyTorch's CPU kernel divides a row's share by another index's count (pytorch#190063: indices [1, 2, 3, 0, 1,
    1] in one summed bag give rows 2 and 3 a third); glassgrad's is the embedding's, whose rows are then summed or
    averaged per bag: ``∂L/∂W[r] = Σ_{p: input[p] = r} ∂L/∂E[p] / count(r)``."""
    table = _table(5, 2, 3)
    indices, offsets = gg.tensor([1, 2, 3, 0, 1, 1]), gg.tensor([0, 2])
    bag_table = gg.tensor(table, requires_grad=True)
    F.embedding_bag(indices, bag_table, offsets, mode=mode, scale_grad_by_freq=True).pow(2).sum().backward()
    lookup_table = gg.tensor(table, requires_grad=True)
    rows = F.embedding(indices, lookup_table, scale_grad_by_freq=True)
    bags = gg.stack([rows[:2].sum(0), rows[2:].sum(0)]) / (gg.tensor([[2.0], [4.0]]) if mode == "mean" else 1.0)
    bags.pow(2).sum().backward()
    np.testing.assert_allclose(bag_table.grad.numpy(), lookup_table.grad.numpy(), rtol=1e-13)


def test_max_norm_rescales_only_the_rows_read_in_place_as_pytorch(torch):
    """Rows 0 and 2 are read (2 twice); row 1, longer than max_norm too, is left alone; the rescaled table is the
    module's own parameter (the same object after the call) and its state dict shows it."""
    table = np.array([[3.0, 4.0], [6.0, 8.0], [0.3, 0.4], [1.0, 1.0]])
    after = {}
    for lib in (gg, torch):
        layer = lib.nn.Embedding.from_pretrained(lib.tensor(table.copy()), max_norm=1.0)
        weight = layer.weight
        layer(lib.tensor([[0, 2], [2, 0]]))
        assert layer.weight is weight
        after[lib.__name__] = layer.state_dict()["weight"].numpy()
    np.testing.assert_allclose(after["glassgrad"], after["torch"], rtol=1e-15)
    np.testing.assert_array_equal(after["glassgrad"][[1, 3]], table[[1, 3]])


def test_module_text_and_state_dict_match_pytorch(torch):
    settings = [dict(num_embeddings=10, embedding_dim=3, padding_idx=-2, max_norm=1.5, norm_type=1.0,
                     scale_grad_by_freq=True), dict(num_embeddings=4, embedding_dim=2)]
    for kwargs in settings:
        ours, theirs = gg.nn.Embedding(**kwargs), torch.nn.Embedding(**kwargs)
        assert repr(ours).split("  #")[0] == repr(theirs) and ours.extra_repr() == theirs.extra_repr()
        assert list(ours.state_dict()) == list(theirs.state_dict()) and ours.padding_idx == theirs.padding_idx
    bag_kwargs = dict(num_embeddings=5, embedding_dim=2, mode="max", include_last_offset=True, padding_idx=1)
    ours, theirs = gg.nn.EmbeddingBag(**bag_kwargs), torch.nn.EmbeddingBag(**bag_kwargs)
    assert repr(ours).split("  #")[0] == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())


def test_from_pretrained_shares_the_table_frozen_by_default_and_keeps_the_padding_row(torch):
    table = np.arange(8.0).reshape(4, 2)
    for lib in (gg, torch):
        given_table = lib.tensor(table.copy())
        frozen = lib.nn.Embedding.from_pretrained(given_table, padding_idx=1)
        assert not frozen.weight.requires_grad and frozen.weight.data_ptr() == given_table.data_ptr()
        np.testing.assert_array_equal(frozen(lib.tensor([1])).numpy(), [[2.0, 3.0]])  # not zeroed
        learned = lib.nn.EmbeddingBag.from_pretrained(lib.tensor(table.copy()), freeze=False, mode="sum")
        assert learned.weight.requires_grad


@pytest.mark.parametrize("num_classes", [-1, 5])
@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (0,)])
def test_one_hot_matches_pytorch(torch, shape, num_classes):
    indices = np.random.default_rng(len(shape)).integers(0, 5, size=shape)
    ours = _class(lambda: F.one_hot(gg.tensor(indices), num_classes))
    theirs = _class(lambda: torch.nn.functional.one_hot(torch.tensor(indices), num_classes))
    assert ours[0] == theirs[0]
    if ours[0] == "no error":
        a, b = F.one_hot(gg.tensor(indices), num_classes), torch.nn.functional.one_hot(torch.tensor(indices),
                                                                                       num_classes)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert str(a.dtype) == "int64" and b.dtype == torch.int64


LOOKUPS = {
    "gather dim 0": (lambda L, x, i: L.gather(x, 0, i), [[0, 2, 0], [0, 0, 1]]),
    "gather dim -1": (lambda L, x, i: x.gather(-1, i), [[2, 2], [0, 2], [1, 1], [0, 0]]),
    "take": (lambda L, x, i: L.take(x, i), [[0, 11, -1], [5, 5, 0]]),
    "take_along_dim 0": (lambda L, x, i: L.take_along_dim(x, i, 0), [[3, 3, 0]]),
    "take_along_dim flat": (lambda L, x, i: L.take_along_dim(x, i), [4, 4, 4, 0]),
    "index_select int32": (lambda L, x, i: L.index_select(x, 0, i.int()), [3, 1, 3, 3]),
    "index_select 0-d": (lambda L, x, i: x.index_select(1, i), 2),
}


@pytest.mark.parametrize("name", list(LOOKUPS))
def test_lookups_accumulate_repeated_indices_as_pytorch(torch, name):
    call, index = LOOKUPS[name]
    x = np.random.default_rng(5).normal(size=(4, 3))
    results = []
    for lib in (gg, torch):
        leaf = lib.tensor(x, requires_grad=True)
        out = call(lib, leaf, lib.tensor(index))
        (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(out.shape)).sum().backward()
        results.append((out.detach().numpy(), leaf.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-13)
