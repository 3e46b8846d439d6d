"""embedding / nn.Embedding: rows by index, gradients that add up over repeats, padding_idx."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg
import glassgrad.nn.functional as F


@pytest.mark.torch
@pytest.mark.parametrize("padding_idx, scale", [(None, False), (2, False), (-1, False), (None, True), (0, True)])
def test_embedding_matches_pytorch(torch, padding_idx, scale):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(6, 3))
    indices = np.array([[0, 2, 2, 5], [1, 2, 0, 0]])
    gw = gg.tensor(table, requires_grad=True)
    tw = torch.tensor(table, requires_grad=True)
    out = F.embedding(gg.tensor(indices), gw, padding_idx=padding_idx, scale_grad_by_freq=scale)
    expected = torch.nn.functional.embedding(torch.tensor(indices), tw, padding_idx=padding_idx,
                                             scale_grad_by_freq=scale)
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    upstream = rng.normal(size=expected.shape)
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(gw.grad.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_a_repeated_index_collects_every_positions_gradient():
    table = gg.tensor(np.zeros((4, 2)), requires_grad=True)
    out = F.embedding(gg.tensor([3, 1, 3, 3]), table)
    (out * gg.tensor([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0], [1000.0, 2000.0]])).sum().backward()
    assert table.grad.numpy().tolist() == [[0, 0], [10, 20], [0, 0], [1101, 2202]]


@given(indices=hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), elements=st.integers(0, 4)),
       dim=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_embedding_gradient_matches_finite_differences_and_the_one_hot_product(indices, dim, seed):
    table = gg.tensor(np.random.default_rng(seed).normal(size=(5, dim)), requires_grad=True)
    out = F.embedding(gg.tensor(indices), table)
    assert out.shape == indices.shape + (dim,)
    one_hot = np.eye(5)[indices]
    np.testing.assert_array_equal(out.numpy(), one_hot @ table.numpy())
    assert gg.gradcheck(lambda w: F.embedding(gg.tensor(indices), w), (table,))


@pytest.mark.torch
def test_embedding_layer_init_and_padding_row_like_pytorch(torch):
    layer = gg.nn.Embedding(1000, 8, padding_idx=3, seed=0)
    weights = layer.weight.numpy()
    assert (weights[3] == 0).all()
    assert abs(weights.std() - 1) < 0.05 and abs(weights.mean()) < 0.05  # N(0, 1), as torch.nn.Embedding
    assert torch.nn.Embedding(1000, 8, padding_idx=3).weight[3].abs().sum().item() == 0
    layer(gg.tensor([3, 4, 3])).sum().backward()
    assert (layer.weight.grad.numpy()[3] == 0).all() and (layer.weight.grad.numpy()[4] == 1).all()
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(gg.nn.Sequential(layer)), gg.nn.Sequential(layer).state_dict())
    assert rebuilt[0].padding_idx == 3
    np.testing.assert_array_equal(rebuilt[0].weight.numpy(), weights)


@pytest.mark.parametrize("call, message", [
    (lambda: F.embedding(gg.tensor([0, 5]), gg.zeros(5, 2)), "index 5 is out of range"),
    (lambda: F.embedding(gg.tensor([0.0, 1.0]), gg.zeros(5, 2)), "convert them with .long()"),
    (lambda: F.embedding(gg.tensor([0]), gg.zeros(5)), "weight must be a table"),
    (lambda: gg.nn.Embedding(5, 2, padding_idx=5), "padding_idx must be within"),
    (lambda: gg.nn.Embedding(5, 2, sparse=True), "not supported"),
    (lambda: F.embedding(gg.tensor([0]), gg.zeros(5, 2), max_norm=-1.0), "max_norm must be a positive number"),
    (lambda: F.embedding(gg.tensor([0]), gg.zeros(5, 2), max_norm=1.0, norm_type=0), "norm_type must be a positive"),
    (lambda: gg.nn.Embedding.from_pretrained(gg.zeros(5)), "must be a 2-D tensor"),
    (lambda: gg.nn.Embedding.from_pretrained(gg.zeros(5, 2, dtype=gg.int64)), "convert them with .float()"),
    (lambda: gg.nn.Embedding(5, 2, _weight=gg.zeros(4, 2)), "_weight has shape"),
])
def test_bad_arguments_raise_one_line_naming_the_fix(call, message):
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError, AssertionError), match=message) as error:
        call()
    assert "\n" not in str(error.value)


@pytest.mark.torch
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 6), dim=st.integers(1, 4),
       max_norm=st.sampled_from([0.3, 1.0, 2.5]), norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]),
       dtype=st.sampled_from(["float32", "float64"]))
def test_max_norm_rescales_the_rows_read_in_place_as_pytorch_does(torch, seed, rows, dim, max_norm, norm_type, dtype):
    """Before the lookup each row the batch reads whose norm exceeds max_norm is scaled to it, in place (rows not
    read stay as they were); the gradient is that of the lookup of the rescaled table."""
    rng = np.random.default_rng(seed)
    table = (rng.normal(size=(rows, dim)) * rng.uniform(0.1, 3.0, size=(rows, 1))).astype(dtype)
    indices = rng.integers(0, rows, size=(2, 3))
    mine = gg.nn.Embedding(rows, dim, max_norm=max_norm, norm_type=norm_type, dtype=getattr(gg, dtype))
    theirs = torch.nn.Embedding(rows, dim, max_norm=max_norm, norm_type=norm_type, dtype=getattr(torch, dtype))
    mine.weight.data.copy_(gg.tensor(table))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(table))
    upstream = rng.normal(size=(2, 3, dim)).astype(dtype)
    version = mine.weight._version
    out, expected = mine(gg.tensor(indices)), theirs(torch.tensor(indices))
    changed = (mine.weight.numpy() != table).any()
    assert mine.weight._version == version + changed  # one in-place change, if any row was rescaled
    tolerance = {"float32": 1e-6, "float64": 1e-12}[dtype]
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(mine.weight.numpy(), theirs.weight.detach().numpy(), rtol=tolerance, atol=tolerance)
    unread = np.setdiff1d(np.arange(rows), indices)
    np.testing.assert_array_equal(mine.weight.numpy()[unread], table[unread])
    out.backward(gg.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.torch
@pytest.mark.parametrize("row, max_norm, norm_type", [
    ([300.0, 400.0], 1.0, 2.0), ([300.0, 400.0], 1.0, 3.0), ([1e-4, 1e-4], 1e-5, 2.0), ([2e-3, -1e-3, 5e-4], 1e-3, 2.0),
])
def test_max_norm_rescales_a_float16_row_whose_powers_overflow_or_vanish(torch, row, max_norm, norm_type):
    """300² = 90000 is past float16's 65504: the norm read as ∞ scaled (300, 400) to 0, and (1e-4)² underflows to 0, so
    that row was left as it was. PyTorch 2.13 sums float16 rows in float32 and gives the rescaled rows; the oracle is
    the formula W·max_norm/(‖W‖ₚ + 1e-7) in float64, rounded once to float16 (PyTorch, which first rounds the norm to
    float16, is within a unit in the last place of it)."""
    table = np.array([row, np.ones(len(row))], dtype=np.float16)
    values = table[0].astype(np.float64)
    norm = np.sum(np.abs(values) ** norm_type) ** (1 / norm_type)
    expected = (values * (max_norm / (norm + 1e-7))).astype(np.float16)
    weight, theirs = gg.tensor(table), torch.tensor(table)
    F.embedding(gg.tensor([0]), weight, max_norm=max_norm, norm_type=norm_type)
    torch.nn.functional.embedding(torch.tensor([0]), theirs, max_norm=max_norm, norm_type=norm_type)
    np.testing.assert_array_equal(weight.numpy()[0], expected)
    unit = np.spacing(np.abs(expected)).astype(np.float64)
    assert (np.abs(theirs.numpy()[0].astype(np.float64) - expected) <= unit).all()


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**16), rows=st.integers(1, 6), dim=st.integers(1, 4),
       max_norm=st.sampled_from([1e-5, 1e-3, 0.3, 1.0, 100.0]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, float("inf")]))
def test_max_norm_rescales_float16_rows_of_any_size_as_pytorch_does_in_float64(torch, seed, rows, dim, max_norm,
                                                                              norm_type):
    """The oracle is PyTorch's rescaling of the same rows in float64, rounded to float16. (PyTorch's own float16
    rescaling rounds the factor max_norm/‖W‖ to float16 first: for (1388,) and max_norm 1e-5 the factor 7.2e-9
    underflows to 0 and the row becomes 0, where the rescaled row 1e-5 is a float16 number.)"""
    rng = np.random.default_rng(seed)
    table = (rng.normal(size=(rows, dim)) * 10.0 ** rng.uniform(-4, 4, size=(rows, 1))).astype(np.float16)
    indices = rng.integers(0, rows, size=(2, 3))
    weight, theirs = gg.tensor(table), torch.tensor(table.astype(np.float64))
    out = F.embedding(gg.tensor(indices), weight, max_norm=max_norm, norm_type=norm_type)
    torch.nn.functional.embedding(torch.tensor(indices), theirs, max_norm=max_norm, norm_type=norm_type)
    mine, expected = weight.numpy(), theirs.numpy().astype(np.float16)
    unit = np.spacing(np.abs(expected)).astype(np.float64)  # a float16 unit: the float64 sums may round apart
    assert (np.abs(mine.astype(np.float64) - expected.astype(np.float64)) <= unit).all()
    np.testing.assert_array_equal(out.numpy(), mine[indices])


@pytest.mark.torch
@pytest.mark.parametrize("freeze", [True, False])
def test_from_pretrained_shares_the_table_and_freezes_it_as_pytorch(torch, freeze):
    vectors = np.arange(12.0).reshape(4, 3) / 10
    given_mine, given_theirs = gg.tensor(vectors), torch.tensor(vectors)
    mine = gg.nn.Embedding.from_pretrained(given_mine, freeze=freeze, padding_idx=1)
    theirs = torch.nn.Embedding.from_pretrained(given_theirs, freeze=freeze, padding_idx=1)
    assert mine.weight.requires_grad == theirs.weight.requires_grad == (not freeze)
    np.testing.assert_array_equal(mine.weight.numpy(), theirs.weight.detach().numpy())  # padding row kept as given
    assert mine.padding_idx == theirs.padding_idx == 1
    indices = [[1, 2, 2], [0, 3, 1]]
    out, expected = mine(gg.tensor(indices)), theirs(torch.tensor(indices))
    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    if not freeze:
        out.square().sum().backward()
        expected.square().sum().backward()
        np.testing.assert_allclose(mine.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    with gg.no_grad():
        mine.weight[0, 0] = 5.0
    with torch.no_grad():
        theirs.weight[0, 0] = 5.0
    assert given_mine[0, 0].item() == given_theirs[0, 0].item() == 5.0  # the layer's table is the given tensor


def test_max_norm_inside_a_compiled_step_replays_with_eagers_numbers():
    def train(compiled):
        layer = gg.nn.Embedding(6, 3, max_norm=1.0, seed=0)
        optimizer = gg.optim.SGD(layer.parameters(), lr=0.5)

        def step(indices):
            optimizer.zero_grad()
            loss = layer(indices).square().sum()
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step) if compiled else step
        losses = [run(gg.tensor([[k % 6, (k + 1) % 6]])).item() for k in range(6)]
        return losses, layer.weight.numpy().copy()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = train(True)
    eager = train(False)
    assert compiled[0] == eager[0]
    np.testing.assert_array_equal(compiled[1], eager[1])


@st.composite
def _bags(draw):
    """A batch of bags: (indices, offsets or None, include_last_offset, rows in the table)."""
    rows = draw(st.integers(2, 8))
    if draw(st.booleans()):  # 2-D: each row a bag
        shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
        return np.array(draw(st.lists(st.integers(0, rows - 1), min_size=shape[0] * shape[1],
                                      max_size=shape[0] * shape[1]))).reshape(shape), None, False, rows
    sizes = draw(st.lists(st.integers(0, 3), min_size=1, max_size=5))  # empty bags allowed
    indices = np.array(draw(st.lists(st.integers(0, rows - 1), min_size=sum(sizes), max_size=sum(sizes))),
                       dtype=np.int64)
    last = draw(st.booleans())
    marks = np.concatenate([[0], np.cumsum(sizes)])
    return indices, (marks if last else marks[:-1]), last, rows


@pytest.mark.torch
@settings(max_examples=60, deadline=None)
@given(bags=_bags(), mode=st.sampled_from(["sum", "mean", "max"]), padding=st.sampled_from([None, 0, -1]),
       weighted=st.booleans(), seed=st.integers(0, 2**16), ties=st.booleans())
@example(bags=(np.array([], dtype=np.int64), np.array([0]), False, 2), mode="max", padding=None, weighted=False,
         seed=0, ties=False)  # every bag empty: zeros, still in the graph
def test_embedding_bag_matches_pytorch(torch, bags, mode, padding, weighted, seed, ties):
    """Each bag's rows summed, averaged (padding positions left out of the count) or maxed, with per-sample
    weights in sum mode, an empty bag zeros: values and the gradients of the table and the weights. A table of
    few whole numbers (``ties``) has rows that tie for a bag's maximum."""
    indices, offsets, last, rows = bags
    rng = np.random.default_rng(seed)
    table = rng.integers(-1, 2, size=(rows, 3)).astype(np.float64) if ties else rng.normal(size=(rows, 3))
    weighted = weighted and mode == "sum"
    sample_weights = rng.normal(size=indices.shape) if weighted else None
    results = []
    for lib in (gg, torch):
        weight = lib.tensor(table, requires_grad=True)
        scales = lib.tensor(sample_weights, requires_grad=True) if weighted else None
        out = lib.nn.functional.embedding_bag(lib.tensor(indices), weight,
                                              None if offsets is None else lib.tensor(offsets), mode=mode,
                                              per_sample_weights=scales, include_last_offset=last, padding_idx=padding)
        upstream = np.random.default_rng(seed + 1).normal(size=tuple(out.shape))
        out.backward(lib.tensor(upstream))
        results.append([out.detach().numpy(), weight.grad.numpy(), *([scales.grad.numpy()] if weighted else [])])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.torch
def test_embedding_bag_max_gives_a_tied_maximum_s_gradient_to_the_bag_s_first_row_as_pytorch(torch):
    """Rows 0 and 1 tie in columns 0 and 2: PyTorch 2.13 gives the whole gradient to row 0, where amax's rule split
    it in halves between them."""
    table = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 3.0], [0.0, 2.0, 1.0], [5.0, 5.0, 5.0]])
    upstream = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    grads = []
    for lib in (gg, torch):
        weight = lib.tensor(table, requires_grad=True)
        out = lib.nn.functional.embedding_bag(lib.tensor([0, 1, 2, 3]), weight, lib.tensor([0, 3]), mode="max")
        out.backward(lib.tensor(upstream))
        grads.append(weight.grad.numpy())
    np.testing.assert_array_equal(grads[0], [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(grads[0], grads[1])


@pytest.mark.torch
def test_embedding_bag_layer_like_pytorch(torch):
    layer = gg.nn.EmbeddingBag(1000, 8, mode="sum", padding_idx=3, seed=0)
    assert (layer.weight.numpy()[3] == 0).all() and abs(layer.weight.numpy().std() - 1) < 0.05
    assert torch.nn.EmbeddingBag(1000, 8, mode="sum", padding_idx=3).weight[3].abs().sum().item() == 0
    vectors = np.arange(12.0).reshape(4, 3)
    mine = gg.nn.EmbeddingBag.from_pretrained(gg.tensor(vectors), mode="max")
    theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(vectors), mode="max")
    assert mine.weight.requires_grad == theirs.weight.requires_grad is False
    bags, starts = [3, 0, 1, 2, 2], [0, 1, 3]
    np.testing.assert_array_equal(mine(gg.tensor(bags), gg.tensor(starts)).numpy(),
                                  theirs(torch.tensor(bags), torch.tensor(starts)).numpy())
    model = gg.nn.Sequential(layer)
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model), model.state_dict())
    assert (rebuilt[0].mode, rebuilt[0].padding_idx) == ("sum", 3)
    bags = gg.tensor([[3, 4], [5, 5]])
    np.testing.assert_array_equal(rebuilt(bags).numpy(), model(bags).numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: F.embedding_bag(gg.tensor([[0, 1]]), gg.zeros(3, 2), gg.tensor([0])), "offsets must be None"),
    (lambda: F.embedding_bag(gg.tensor([0, 1]), gg.zeros(3, 2)), "1-D with offsets"),
    (lambda: F.embedding_bag(gg.tensor([0, 1]), gg.zeros(3, 2), gg.tensor([1])), "offsets must be integers from 0"),
    (lambda: F.embedding_bag(gg.tensor([0, 1]), gg.zeros(3, 2), gg.tensor([0, 3])), "within the input's length 2"),
    (lambda: F.embedding_bag(gg.tensor([0, 1]), gg.zeros(3, 2), gg.tensor([0]), mode="median"), "mode must be one"),
    (lambda: F.embedding_bag(gg.tensor([0, 1]), gg.zeros(3, 2), gg.tensor([0]), per_sample_weights=gg.ones(2)),
     "only supported for mode='sum'"),
    (lambda: F.embedding_bag(gg.tensor([0, 1]), gg.zeros(3, 2), gg.tensor([0]), mode="sum",
                             per_sample_weights=gg.ones(3)), "per_sample_weights must have the input's shape"),
    (lambda: gg.nn.EmbeddingBag(3, 2, mode="median"), "mode must be one of"),
])
def test_embedding_bag_refuses_bad_arguments_in_one_line(call, message):
    with pytest.raises((ValueError, RuntimeError, NotImplementedError), match=message) as error:  # PyTorch's classes
        call()
    assert "\n" not in str(error.value)



@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_a_last_offset_short_of_the_input_is_refused_in_one_line(mode):
    """include_last_offset=True with a last offset before the input's end: sum and mean raised NumPy's IndexError
    and max left the trailing indices out (PyTorch's CPU kernels disagree there among themselves)."""
    with pytest.raises(ValueError, match=r"^embedding_bag: with include_last_offset=True the last offset is the end "
                                         r"of the last bag, the input's length 7; got 5"):
        gg.nn.functional.embedding_bag(gg.arange(7), gg.ones(10, 2), gg.tensor([0, 2, 4, 5]), mode=mode,
                                       include_last_offset=True)
