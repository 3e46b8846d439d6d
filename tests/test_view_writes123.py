"""Writing into views, as PyTorch 2.13 allows and refuses (round 123).

Found: ``x.expand(1, 2)`` of a (2,) tensor (an expand that adds size-1 dims or keeps sizes: no two entries share a
memory location) was read-only in glassgrad (NumPy's ``broadcast_to``), so every write into it (``y[0, 0] = 5``,
``add_``, ``fill_``, ``out=``, ``nn.init.constant_``) was refused; PyTorch writes through to ``x``. In the graph, such
a write into a view of a non-leaf was refused too; PyTorch records it (the gradient flows through the base). An
expand that repeats entries is still refused, as PyTorch refuses it. The census of the other views (reshape, view,
t, permute, narrow, select, slicing, diagonal, ...) × writes already matched and is kept here as a guard.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

WRITES = {
    "setitem number": lambda L, y: y.__setitem__((0,) * y.dim(), 5.0),
    "setitem tensor": lambda L, y: y.__setitem__(..., L.arange(float(y.numel()), dtype=L.float64).reshape(y.shape)),
    "setitem mask": lambda L, y: y.__setitem__(y > 0.5, -1.0),
    "setitem index": lambda L, y: y.__setitem__(L.tensor([0]), 7.0),
    "add_": lambda L, y: y.add_(1.5),
    "mul_": lambda L, y: y.mul_(L.full(y.shape, 3.0, dtype=L.float64)),
    "clamp_": lambda L, y: y.clamp_(max=0.5),
    "zero_": lambda L, y: y.zero_(),
    "fill_": lambda L, y: y.fill_(2.0),
    "copy_": lambda L, y: y.copy_(L.ones(y.shape[-1:], dtype=L.float64)),
    "masked_fill_": lambda L, y: y.masked_fill_(y < 0.5, 4.0),
    "index_put_": lambda L, y: y.index_put_((L.tensor([0]),), L.tensor(8.0, dtype=L.float64)),
    "scatter_": lambda L, y: y.scatter_(y.dim() - 1, L.zeros((1,) * y.dim(), dtype=L.int64), 9.0),
    "out=": lambda L, y: L.add(L.ones(y.shape, dtype=L.float64), 2.0, out=y),
    "init.constant_": lambda L, y: L.nn.init.constant_(y, 6.0),
}


def _values(shape: tuple) -> np.ndarray:
    return (np.arange(math.prod(shape), dtype=np.float64) * 0.37 % 1).reshape(shape)


@st.composite
def _unrepeating_expand(draw) -> tuple:
    """A base shape and an expand target that repeats no entry: leading 1s added, sizes kept or -1."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    lead = (1,) * draw(st.integers(0, 2))
    kept = tuple(draw(st.sampled_from([n, -1])) for n in shape)
    return shape, lead + kept


def _outcome(L, shape: tuple, target: tuple, write: str, how: str) -> tuple:
    x = L.tensor(_values(shape))
    sizes = tuple(x.shape[i - len(target) + x.dim()] if n == -1 else n for i, n in enumerate(target))
    y = {"expand": lambda: x.expand(*target), "expand_as": lambda: x.expand_as(L.zeros(sizes)),
         "broadcast_to": lambda: L.broadcast_to(x, sizes)}[how]()
    try:
        WRITES[write](L, y)
    except RuntimeError as error:
        return ("refused", type(error).__name__)
    return (x.tolist(), y.tolist(), x._version, y._version)


@pytest.mark.torch
@settings(max_examples=120, deadline=None, derandomize=True)
@given(_unrepeating_expand(), st.sampled_from(sorted(WRITES)), st.sampled_from(["expand", "expand_as", "broadcast_to"]))
def test_a_write_into_an_expand_that_repeats_no_entry_reaches_the_base_as_in_pytorch(torch, case, write, how):
    shape, target = case
    assert _outcome(gg, shape, target, write, how) == _outcome(torch, shape, target, write, how)


def test_the_reported_expand_writes_reach_the_base():
    for write in (lambda y: y.__setitem__((0, 0), 5.0), lambda y: y.add_(1), lambda y: y.fill_(0)):
        x = gg.tensor([1.0, 2.0])
        write(x.expand(1, 2))
        assert x._version == 1
    x = gg.tensor([1.0, 2.0])
    x.expand(1, 2)[0, 0] = 5.0
    assert x.tolist() == [5.0, 2.0]


REPEATING_WRITES = ("add_", "mul_", "copy_", "out=", "setitem tensor")


@pytest.mark.torch
@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.integers(1, 3), min_size=1, max_size=2), st.integers(2, 3), st.sampled_from(REPEATING_WRITES))
def test_a_write_into_an_expand_that_repeats_entries_is_refused_as_in_pytorch(torch, shape, copies, write):
    for L in (gg, torch):
        x = L.tensor(_values(tuple(shape)))
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor") as refused:
            WRITES[write](L, x.expand(copies, *shape))
        assert "\n" not in str(refused.value)
        assert x.tolist() == _values(tuple(shape)).tolist()


def _graph_grads(L, values: np.ndarray, scale: np.ndarray, target: tuple) -> tuple:
    w = L.tensor(values, requires_grad=True)
    s = L.tensor(scale, requires_grad=True)
    x = w * 1.0
    y = x.expand(*target)
    y.mul_(s.reshape(y.shape))
    y[(0,) * y.dim()] = y[(0,) * y.dim()] * 2.0
    ((x * x).sum() + (y ** 3).sum()).backward()
    return x.detach().tolist(), w.grad.tolist(), s.grad.tolist()


@pytest.mark.torch
@settings(max_examples=40, deadline=None, derandomize=True)
@given(_unrepeating_expand())
def test_a_write_into_an_unrepeating_expand_of_a_non_leaf_is_recorded_as_in_pytorch(torch, case):
    shape, target = case
    values, scale = _values(shape) + 0.5, _values(shape)[::-1].copy() + 1.0
    got, expected = _graph_grads(gg, values, scale, target), _graph_grads(torch, values, scale, target)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-12)
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-9)
    np.testing.assert_allclose(got[2], expected[2], rtol=1e-9)


def test_the_gradient_through_a_written_expand_matches_finite_differences():
    def f(w, s):
        x = w * 1.0
        y = x.expand(1, 2, 3)
        y.mul_(s.reshape(1, 2, 3))
        return (x * x).sum() + (y.sin()).sum()

    w = gg.tensor(_values((2, 3)) + 0.2, requires_grad=True)
    s = gg.tensor(_values((2, 3)) * 2 - 1, requires_grad=True)
    assert gg.autograd.gradcheck(f, (w, s), eps=1e-6, atol=1e-8)


@pytest.mark.torch
def test_a_write_into_an_expand_of_a_leaf_or_a_repeating_expand_in_the_graph_is_refused_as_in_pytorch(torch):
    for L in (gg, torch):
        w = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            w.expand(1, 2).mul_(3)
        x = w * 1
        with pytest.raises(RuntimeError) as refused:
            x.expand(3, 2).mul_(3)
        assert "\n" not in str(refused.value)


# --- the census of the other views: they already matched ----------------------------------------------------------

VIEWS = {
    "view": lambda x: x.view(6, 2), "reshape": lambda x: x.reshape(2, 2, 3), "view_as": lambda x: x.view_as(x),
    "flatten": lambda x: x.flatten(), "unflatten": lambda x: x.unflatten(1, (2, 2)),
    "unsqueeze": lambda x: x.unsqueeze(1), "squeeze": lambda x: x.unsqueeze(0).squeeze(0), "t": lambda x: x.t(),
    "T": lambda x: x.T, "mT": lambda x: x.mT, "transpose": lambda x: x.transpose(0, 1),
    "permute": lambda x: x.permute(1, 0), "movedim": lambda x: x.movedim(0, 1), "swapaxes": lambda x: x.swapaxes(0, 1),
    "narrow": lambda x: x.narrow(1, 1, 2), "select": lambda x: x.select(0, 1), "slice": lambda x: x[1:, ::2],
    "None/Ellipsis": lambda x: x[None, ..., 1], "diagonal": lambda x: x.diagonal(),
    "unfold": lambda x: x.unfold(1, 2, 2), "as_strided": lambda x: x.as_strided((2, 2), (4, 1), 1),
    "split piece": lambda x: x.split(2, dim=1)[1], "chunk piece": lambda x: x.chunk(3)[2],
    "unbind piece": lambda x: x.unbind(1)[0], "detach": lambda x: x.detach(), "data": lambda x: x.data,
}
CENSUS_WRITES = ("setitem number", "setitem tensor", "setitem mask", "add_", "mul_", "clamp_", "zero_", "fill_",
                 "masked_fill_", "out=", "init.constant_")


def _census(L, view: str, write: str) -> tuple:
    x = L.tensor(_values((3, 4)))
    y = VIEWS[view](x)
    try:
        WRITES[write](L, y)
    except RuntimeError as error:
        return ("refused", type(error).__name__)
    if view == "data":  # README's deliberate difference: a change through .data counts as an in-place change
        return (x.tolist(), y.tolist())
    return (x.tolist(), y.tolist(), x._version, y._version)


@pytest.mark.torch
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_a_write_into_any_other_view_reaches_the_base_as_in_pytorch(torch, view):
    for write in CENSUS_WRITES:
        assert _census(gg, view, write) == _census(torch, view, write), write


# --- an expand that repeats entries: PyTorch tests the entries written, and a fill is not tested -------------------

REPEATED_PART_WRITES = {
    "fill_": lambda L, e: e.fill_(7.0), "zero_": lambda L, e: e.zero_(),
    "init.constant_": lambda L, e: L.nn.init.constant_(e, 6.0), "init.zeros_": lambda L, e: L.nn.init.zeros_(e),
    "init.uniform_": lambda L, e: L.nn.init.uniform_(e), "clamp_": lambda L, e: e.clamp_(max=1.5),
    "row setitem number": lambda L, e: e.__setitem__(0, 5.0),
    "row setitem tensor": lambda L, e: e.__setitem__(1, L.tensor([3.0, 4.0], dtype=L.float64)),
    "entry setitem": lambda L, e: e.__setitem__((2, 1), 8.0), "column setitem": lambda L, e: e.__setitem__(
        (slice(None), 0), 5.0), "all setitem": lambda L, e: e.__setitem__(..., 5.0),
    "row add_": lambda L, e: e[0].add_(3.0), "row copy_": lambda L, e: e[2].copy_(L.tensor([8.0, 9.0])),
    "row fill_": lambda L, e: e[1].fill_(3.0), "column fill_": lambda L, e: e[:, 0].fill_(3.0),
    "column add_": lambda L, e: e[:, 0].add_(3.0), "entry mul_": lambda L, e: e[0, 0].mul_(2.0),
    "row uniform_": lambda L, e: e[0].uniform_(), "scatter_": lambda L, e: e.scatter_(
        1, L.zeros(1, 1, dtype=L.int64), 9.0),
}


@pytest.mark.torch
@pytest.mark.parametrize("write", sorted(REPEATED_PART_WRITES))
def test_a_write_into_a_repeating_expand_is_refused_only_where_pytorch_refuses_it(torch, write):
    results = []
    for L in (gg, torch):
        x = L.tensor([1.0, 2.0], dtype=L.float64)
        e = x.expand(3, 2)
        try:
            REPEATED_PART_WRITES[write](L, e)
        except RuntimeError as error:
            assert "more than one element of the written-to tensor" in str(error) and "\n" not in str(error)
            assert x.tolist() == [1.0, 2.0] and x._version == 0
            results.append("refused")
            continue
        results.append((x.tolist() if "uniform" not in write else None, x._version, e._version))
    assert results[0] == results[1]


def test_a_write_into_read_only_memory_is_refused_by_every_writer():
    """A fill or a row of read-only memory is not made writable: the refusal names the read-only memory."""
    with pytest.warns(UserWarning):  # README: a read-only buffer gives a read-only tensor, with PyTorch's warning
        x = gg.frombuffer(bytes(16), dtype=gg.float64)
    for write in (lambda: x.fill_(1.0), lambda: x.expand(2, 2)[0].add_(1), lambda: gg.nn.init.zeros_(x)):
        with pytest.raises(RuntimeError, match="memory is read-only"):
            write()


@pytest.mark.torch
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize("sizes", [(1, 2), (3, 2)])
def test_an_optimizer_step_on_a_parameter_made_of_an_expand_is_pytorchs(torch, optimizer, sizes):
    """A step writes through an expand that repeats no entry; one that repeats entries is refused with PyTorch's
    RuntimeError (glassgrad's was NumPy's raw ValueError 'output array is read-only')."""
    results = []
    for L in (gg, torch):
        base = L.tensor([1.0, 2.0], dtype=L.float64)
        p = base.expand(*sizes).requires_grad_()
        step = getattr(L.optim, optimizer)([p], lr=0.5)
        (p * p).sum().backward()
        try:
            step.step()
        except RuntimeError as error:
            assert "more than one element of the written-to tensor" in str(error) and "\n" not in str(error)
            results.append(("refused", base.tolist()))
            continue
        results.append((base.tolist(), base._version))
    assert results[0][0] == results[1][0]
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


PART_WRITES = {
    "setitem number": lambda L, e, index: e.__setitem__(index, 5.0),
    "add_": lambda L, e, index: e[index].add_(1.0),
    "copy_": lambda L, e, index: e[index].copy_(L.arange(float(e[index].numel()), dtype=L.float64).reshape(
        e[index].shape)),
    "fill_": lambda L, e, index: e[index].fill_(3.0),
    "zero_": lambda L, e, index: e[index].zero_(),
}


@st.composite
def _repeating_part(draw) -> tuple:
    """A base with size-1 dims, an expand that grows some (and adds a leading dim), and a basic index of it."""
    shape = tuple(draw(st.lists(st.sampled_from([1, 2]), min_size=1, max_size=2)))
    target = (draw(st.integers(1, 3)),) + tuple(draw(st.integers(1, 3)) if n == 1 else n for n in shape)
    cut = st.builds(slice, st.sampled_from([None, 0, 1]), st.sampled_from([None, 1, 2]), st.sampled_from([None, 1, 2]))
    index = [draw(st.one_of(st.integers(0, n - 1), cut)) for n in target[:draw(st.integers(0, len(target)))]]
    if draw(st.booleans()):
        index.insert(draw(st.integers(0, len(index))), None)
    return shape, target, tuple(index)


@pytest.mark.torch
@settings(max_examples=150, deadline=None, derandomize=True)
@given(_repeating_part(), st.sampled_from(sorted(PART_WRITES)))
def test_a_write_into_part_of_a_repeating_expand_is_refused_where_pytorch_refuses_it(torch, case, write):
    shape, target, index = case
    results = []
    for L in (gg, torch):
        x = L.tensor(_values(shape) + 1.0)
        e = x.expand(*target)
        try:
            PART_WRITES[write](L, e, index)
        except RuntimeError as error:
            assert "\n" not in str(error)
            results.append(("refused", x.tolist(), x._version))
            continue
        results.append((x.tolist(), x._version, e._version))
    assert results[0] == results[1]


@pytest.mark.parametrize("write", [
    lambda t: t.__setitem__(0, 5.0), lambda t: t.add_(1), lambda t: t.fill_(2.0), lambda t: t.zero_(),
    lambda t: t.expand(1, 3).zero_(), lambda t: t[0].add_(1), lambda t: t.view(3).mul_(2),
    lambda t: gg.nn.init.zeros_(t.expand(1, 3)),
])
def test_a_tensor_sharing_a_given_read_only_array_is_never_written(write):
    """glassgrad's documented difference: ``from_numpy`` of a read-only array (here ``np.broadcast_to`` of the
    learner's, which repeats no entry) warns that the tensor is not writable, and an in-place change raises, through
    any view of it; the learner's memory is untouched (the expand rule above, applied alone, wrote into it)."""
    base = np.arange(3.0)
    gg.set_warn_always(True)
    try:
        with pytest.warns(UserWarning, match="not writable"):
            shared = gg.from_numpy(np.broadcast_to(base, (1, 3)))
    finally:
        gg.set_warn_always(False)
    with pytest.raises(RuntimeError, match="read-only"):
        write(shared)
    assert base.tolist() == [0.0, 1.0, 2.0]
