"""Tensor indexing against PyTorch 2.13 on drawn index expressions (float64, int64, bool and float32 tensors).

``t[index]`` with every index kind PyTorch takes (negative ints, slices with steps and out-of-range bounds, None,
``...``, True/False, masks of full and partial rank, int tensors of any shape with repeats, lists, NumPy arrays,
0-d tensors), ``t[index] = value`` (numbers, 0-d and broadcasting values, other dtypes, on leaves under no_grad and
on graph tensors), and ``index_put_``, ``index_add_``, ``index_copy_``, ``index_fill_``, ``masked_scatter_``,
``take``/``put_``, ``scatter_``/``scatter_add_``/``scatter_reduce_`` with drawn indices: glassgrad must give
PyTorch's values, shapes, dtypes, aliasing (a view where PyTorch's is one) and gradients (repeats add up), and
for misuse PyTorch's exception class with a one-line message in PyTorch's words (dims, never NumPy's axes).

Where an advanced index repeats a position, PyTorch leaves which write wins unspecified: the fuzz compares the
gradients there but not the values.
"""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

# --- the fuzzer's core: a drawn shape and index expression, built for either library ----------------------------

def _shape(r: random.Random) -> tuple:
    nd = r.choice([0, 1, 1, 2, 2, 3, 3, 4])
    return tuple(r.choice([0, 1, 2, 3, 4, 5]) if r.random() < 0.1 else r.choice([1, 2, 3, 4, 5]) for _ in range(nd))


def _index(r: random.Random, shape: tuple) -> tuple[list, bool]:
    """A list of index parts (kind, data…) that fits ``shape``, and whether it is a tuple (else its one part)."""
    parts, k, ellipsis = [], 0, False
    for _ in range(r.randint(1, max(1, len(shape) + 1))):
        size = shape[k] if k < len(shape) else None
        if size is None:
            kind = r.choice(["none", "bool", "bool0d"] + ([] if ellipsis else ["ellipsis"]))
        else:
            kind = r.choice(["int", "int", "slice", "slice", "none", "ellipsis", "bool", "mask", "tensor", "tensor",
                             "list", "numpy", "0d", "boollist", "bool0d"])
            if kind == "ellipsis" and ellipsis:
                kind = "slice"
            if size == 0 and kind in ("int", "tensor", "list", "numpy", "0d"):
                kind = "slice"
        rs = np.random.RandomState(r.randint(0, 1 << 30))
        if kind == "int":
            parts.append(("int", r.randint(-size, size - 1)))
        elif kind == "slice":
            ends = [r.choice([None, r.randint(-size - 3, size + 3)]) for _ in range(2)]
            parts.append(("slice", *ends, r.choice([None, None, 1, 2, 3])))
        elif kind == "ellipsis":
            ellipsis, k = True, len(shape)
            parts.append(("ellipsis",))
            continue
        elif kind in ("none", "bool", "bool0d"):
            parts.append((kind, r.random() < 0.7))
            continue
        elif kind == "mask":
            m = r.randint(1, min(2, len(shape) - k))
            parts.append(("mask", rs.rand(*shape[k:k + m]) < 0.5))
            k += m
            continue
        elif kind == "boollist":
            parts.append(("boollist", [bool(v) for v in rs.rand(size) < 0.5]))
        else:
            ishape = () if kind == "0d" else tuple(rs.randint(0, 4, size=rs.randint(0, 3)))
            if kind == "list" and not ishape:
                ishape = (2,)
            parts.append((kind, rs.randint(-size, size, size=ishape).astype(np.int64)))
        k += 1
    if len(parts) == 1 and r.random() < 0.3:
        return parts, False
    return parts, True


def _built(lib, parts: list, as_tuple: bool):
    def one(part):
        kind = part[0]
        if kind == "int":
            return part[1]
        if kind == "slice":
            return slice(*part[1:])
        if kind == "none":
            return None
        if kind == "ellipsis":
            return Ellipsis
        if kind == "bool":
            return part[1]
        if kind == "bool0d":
            return lib.tensor(part[1])
        if kind in ("mask", "tensor", "0d"):
            return lib.tensor(part[1])
        if kind == "numpy":
            return part[1].copy()
        if kind == "list":
            return part[1].tolist()
        return list(part[1])  # boollist
    return tuple(one(p) for p in parts) if as_tuple else one(parts[0])


def _base(seed: int, shape: tuple, dtype: str) -> np.ndarray:
    data = np.asarray(np.random.RandomState(seed).randn(*shape))
    return {"int64": (data * 5).astype(np.int64), "bool": data > 0, "float32": data.astype(np.float32)}.get(dtype, data)


def _read(lib, base: np.ndarray, parts: list, as_tuple: bool, dtype: str):
    """``x[index]``: (values, shape, dtype name, whether writing into it reaches x, x's gradient) or the error."""
    kind = getattr(lib, dtype)
    x = lib.tensor(base, dtype=kind)
    try:
        out = x[_built(lib, parts, as_tuple)]
    except Exception as error:  # noqa: BLE001 (the oracle's class is compared)
        return type(error).__name__
    view = None
    if out.numel():
        y = lib.tensor(base, dtype=kind)
        part = y[_built(lib, parts, as_tuple)]
        part.fill_(True) if dtype == "bool" else part.add_(1)
        view = not np.array_equal(y.numpy(), base)
    grad = None
    if dtype == "float64":
        x = lib.tensor(base, dtype=kind, requires_grad=True)
        out = x[_built(lib, parts, as_tuple)]
        weights = np.arange(1, out.numel() + 1, dtype=np.float64).reshape(tuple(out.shape))
        (out * lib.tensor(weights)).sum().backward()
        grad = x.grad.numpy()
    return out.detach().numpy(), tuple(out.shape), str(out.dtype).split(".")[-1], view, grad


def _assert_same(theirs, ours) -> None:
    if isinstance(theirs, str) or isinstance(ours, str):
        assert theirs == ours
        return
    for a, b in zip(theirs, ours):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        else:
            assert a == b


@settings(max_examples=200)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["float64", "float64", "int64", "bool", "float32"]))
def test_drawn_index_reads_as_pytorch(torch, seed, dtype):
    r = random.Random(seed)
    shape = _shape(r)
    parts, as_tuple = _index(r, shape)
    base = _base(seed, shape, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _assert_same(_read(torch, base, parts, as_tuple, dtype), _read(gg, base, parts, as_tuple, dtype))


def _write(lib, base: np.ndarray, parts: list, as_tuple: bool, value: tuple, mode: str):
    """``y[index] = value`` on a leaf under no_grad, a plain tensor, or a graph tensor: (result, grads) or the error."""
    index = _built(lib, parts, as_tuple)
    v = value[0] if value[0] != "tensor" else lib.tensor(value[1], dtype=getattr(lib, value[2]))
    try:
        if mode == "no_grad":
            x = lib.tensor(base, requires_grad=True)
            with lib.no_grad():
                x[index] = v
            return (x.detach().numpy(),)
        if mode == "plain":
            x = lib.tensor(base)
            x[index] = v
            return (x.numpy(),)
        a = lib.tensor(base, requires_grad=True)
        if isinstance(v, (gg.Tensor, lib.Tensor)) and v.dtype == a.dtype:
            v = v.detach().requires_grad_(True)
        y = a * 1
        y[index] = v * 1 if getattr(v, "requires_grad", False) else v
        (y * lib.tensor(np.arange(1.0, y.numel() + 1).reshape(tuple(y.shape)))).sum().backward()
        return y.detach().numpy(), a.grad.numpy(), getattr(getattr(v, "grad", None), "numpy", lambda: None)()
    except Exception as error:  # noqa: BLE001 (the oracle's class is compared)
        return type(error).__name__


@settings(max_examples=200)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["no_grad", "plain", "graph"]),
       st.sampled_from(["number", "0d", "full", "suffix", "leading ones", "broadcast", "other dtype"]))
def test_drawn_index_writes_as_pytorch(torch, seed, mode, kind):
    r = random.Random(seed)
    shape = _shape(r)
    parts, as_tuple = _index(r, shape)
    base = _base(seed, shape, "float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            target = tuple(torch.tensor(base)[_built(torch, parts, as_tuple)].shape)
        except IndexError:
            return
        places = torch.arange(base.size).reshape(base.shape)[_built(torch, parts, as_tuple)].reshape(-1)
        repeats = places.unique().numel() != places.numel()
        sizes = {"number": None, "0d": (), "full": target, "other dtype": target, "leading ones": (1, 1) + target,
                 "suffix": target[r.randint(0, len(target)):], "broadcast": tuple(1 if r.random() < 0.5 else n
                                                                                  for n in target)}[kind]
        value = (2.5,) if sizes is None else (
            "tensor", np.random.RandomState(seed).randn(*sizes), "float32" if kind == "other dtype" else "float64")
        theirs, ours = (_write(lib, base, parts, as_tuple, value, mode) for lib in (torch, gg))
    if isinstance(theirs, str) or isinstance(ours, str):
        assert theirs == ours
        return
    if not repeats:  # which repeated write wins is unspecified in PyTorch
        np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    for a, b in zip(theirs[1:], ours[1:]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=1e-6 if kind == "other dtype" else 1e-12)


# --- the regressions glassgrad had (each failed before its fix) --------------------------------------------------

@pytest.mark.parametrize("index", [(0, Ellipsis, True), (-1, Ellipsis, True), (1, slice(None), slice(None), True),
                                   (0, slice(None), True), (0, slice(None), False), (1, slice(None), [0, 2], True),
                                   (slice(None), 0, slice(None), True, None)])
def test_number_and_bool_apart_place_the_new_dim_as_pytorch(torch, index):
    data = np.arange(24.0).reshape(2, 3, 4)
    x, t = gg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    out, expected = x[index], t[index]
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    weights = np.arange(1.0, expected.numel() + 1).reshape(tuple(expected.shape))
    (out * gg.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_zero_d_numpy_integer_index_is_a_number_as_in_pytorch(torch):
    x, t = gg.arange(12.0).reshape(3, 4), torch.arange(12.0).reshape(3, 4)
    row, expected = x[np.array(1)], t[np.array(1)]
    row.add_(100)  # a view, as PyTorch's: the write reaches x
    expected.add_(100)
    np.testing.assert_array_equal(x.numpy(), t.numpy())
    picked = x[np.array(2), None, [0, 3]]
    assert tuple(picked.shape) == tuple(t[np.array(2), None, [0, 3]].shape) == (1, 2)


@pytest.mark.parametrize("case, value_shape", [("one entry", (1, 1)), ("mask", (1, 4)), ("True", (1, 4, 1)),
                                              ("rows in the graph", (1, 2, 4)), ("entry of a row", (1,))])
def test_value_with_leading_ones_is_written_as_in_pytorch(torch, case, value_shape):
    def run(lib):
        a = lib.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
        v = lib.tensor(np.arange(1.0, 1.0 + np.prod(value_shape)).reshape(value_shape), requires_grad=True)
        y = a * 1
        if case == "one entry":
            y[1, 2] = v
        elif case == "mask":
            y[lib.tensor([True, False, False])] = v
        elif case == "True":
            y[0, :, True] = v
        elif case == "rows in the graph":
            y[lib.tensor([0, 2])] = v
        else:
            y[2][3] = v
        (y * lib.arange(1.0, 13.0, dtype=lib.float64).reshape(3, 4)).sum().backward()
        return y.detach().numpy(), a.grad.numpy(), v.grad.numpy()
    for ours, theirs in zip(run(gg), run(torch)):
        np.testing.assert_array_equal(ours, theirs)


def test_leading_ones_of_a_numpy_value_into_one_entry(torch):
    x, t = gg.zeros(3), torch.zeros(3)
    x[1] = np.array([7.0])
    t[1] = torch.tensor([7.0])
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_false_writes_nothing_and_true_writes_all_as_pytorch(torch):
    x, t = gg.zeros(2, 3), torch.zeros(2, 3)
    x[False] = gg.ones(5)  # PyTorch checks nothing here
    t[False] = torch.ones(5)
    x[True] = gg.tensor([1, 2, 3])  # a copy into all, any dtype
    t[True] = torch.tensor([1, 2, 3])
    np.testing.assert_array_equal(x.numpy(), t.numpy())


@pytest.mark.parametrize("index", [(slice(None), [True, False, True]), (0, [True, False, True]),
                                   (Ellipsis, [True, False, True], None)])
def test_one_mask_among_slices_fills_one_value_of_another_dtype(torch, index):
    x, t = gg.arange(6).reshape(2, 3), torch.arange(6).reshape(2, 3)
    x[tuple(gg.tensor(p) if isinstance(p, list) else p for p in index)] = gg.tensor(7.9)
    t[tuple(torch.tensor(p) if isinstance(p, list) else p for p in index)] = torch.tensor(7.9)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_value_written_into_an_empty_view_gets_zeros_as_in_pytorch(torch):
    def run(lib):
        a = lib.ones(5, 2, dtype=lib.float64, requires_grad=True)
        v = lib.tensor(2.0, dtype=lib.float64, requires_grad=True)
        y = a * 1
        y[2:2][...] = v * 1
        y[1, 2:2, True] = v * 1
        y.sum().backward()
        return v.grad
    assert run(gg) is not None
    np.testing.assert_array_equal(run(gg).numpy(), run(torch).numpy())


@pytest.mark.parametrize("write", [False, True])
@pytest.mark.parametrize("index, words", [
    (5, "index 5 is out of bounds for dimension 0 with size 3"),
    ((0, -5), "index -5 is out of bounds for dimension 1 with size 4"),
    ([0, 7], "index 7 is out of bounds for dimension 0 with size 3"),
    ("mask", "the mask has 2 entries along dim 0, where the tensor has 3"),
    ("float", ".long()"),
    ((0, 0, 0), "too many indices for tensor of dimension 2"),
])
def test_misfit_index_says_what_is_wrong_in_pytorchs_words(torch, write, index, words):
    def built(lib):
        return {"mask": lib.tensor([True, False]), "float": lib.tensor([0.0])}.get(index, index) \
            if isinstance(index, str) else index

    def attempt(lib):
        x = lib.arange(12.0).reshape(3, 4)
        if write:
            x[built(lib)] = 1.0
        else:
            x[built(lib)]
    with pytest.raises(IndexError):
        attempt(torch)
    with pytest.raises(IndexError) as error:
        attempt(gg)
    message = str(error.value)
    assert words in message and "axis" not in message and "\n" not in message


def test_index_of_a_zero_d_tensor_says_to_use_item(torch):
    with pytest.raises(IndexError):
        torch.tensor(5.0)[0]
    with pytest.raises(IndexError, match=r"0-dim tensor.*item\(\)"):
        gg.tensor(5.0)[0]


@pytest.mark.parametrize("call, error", [
    (lambda lib, x: x.index_select(0, lib.tensor([3])), IndexError),
    (lambda lib, x: x.index_copy(0, lib.tensor([3]), lib.ones(1, 4)), IndexError),
    (lambda lib, x: x.index_copy(0, lib.tensor([-1]), lib.ones(1, 4)), IndexError),
    (lambda lib, x: x.index_fill(0, lib.tensor([3]), 1.0), IndexError),
    (lambda lib, x: x.index_fill(0, lib.tensor([0.0]), 1.0), IndexError),
    (lambda lib, x: x.index_add(0, lib.tensor([0]), lib.ones(2, 4)), RuntimeError),
    (lambda lib, x: x.index_add(0, lib.tensor([1]), lib.ones(1, 2)), RuntimeError),
    (lambda lib, x: x.index_add(0, lib.tensor([[0]]), lib.ones(1, 4)), IndexError),
    (lambda lib, x: x.index_add(0, lib.tensor([3]), lib.ones(1, 4)), RuntimeError),
    (lambda lib, x: x.put(lib.tensor([0, 1]), lib.tensor([1.0])), IndexError),
    (lambda lib, x: x.take(lib.tensor([0.0])), RuntimeError),
    (lambda lib, x: x.index_put((lib.tensor([3]),), lib.tensor(1.0)), IndexError),
])
def test_index_op_misuse_raises_pytorchs_class_in_one_line(torch, call, error):
    with pytest.raises(error):
        call(torch, torch.arange(12.0).reshape(3, 4))
    with pytest.raises(error) as raised:
        call(gg, gg.arange(12.0).reshape(3, 4))
    assert "axis" not in str(raised.value) and "\n" not in str(raised.value)


def test_index_copy_takes_a_zero_d_index_as_pytorch(torch):
    for lib in (gg, torch):
        assert lib.zeros(3).index_copy(0, lib.tensor(1), lib.tensor(5.0)).tolist() == [0.0, 5.0, 0.0]
        assert lib.zeros(2, 3).index_copy(0, lib.tensor(1), lib.ones(1, 3)).tolist() == [[0.0] * 3, [1.0] * 3]


def test_zero_d_bool_tensor_index_beside_a_number_in_a_compiled_step(torch):
    x = gg.arange(6.0).reshape(2, 3)

    @gg.compile
    def pick(x, keep):
        return x[0, :, keep] * 2

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a kernel of the step: replayed, not run eagerly
        shapes = [tuple(pick(x, gg.tensor(keep)).shape) for keep in (True, False, True)]
    assert shapes == [tuple(torch.zeros(2, 3)[0, :, torch.tensor(keep)].shape) for keep in (True, False, True)]


# --- index ops with drawn indices: values and gradients ----------------------------------------------------------

OPS = ["index_put", "index_put accumulate", "index_add", "index_copy", "index_fill", "masked_scatter", "take",
       "put", "put accumulate", "scatter", "scatter value", "scatter_add", "gather", "index_select"] + [
    f"scatter_reduce {reduce}{' without self' * skip}" for reduce in ("sum", "prod", "mean", "amax", "amin")
    for skip in (0, 1)]


def _op_case(seed: int, op: str) -> dict:
    rs = np.random.RandomState(seed)
    nd = int(rs.randint(1, 4))
    shape = tuple(int(n) for n in rs.randint(1, 5, size=nd))
    dim = int(rs.randint(nd))
    size, count, unique = shape[dim], int(rs.randint(0, 5)), bool(rs.rand() < 0.5)
    case = {"shape": shape, "dim": dim, "x": rs.randn(*shape), "unique": unique}
    if op.startswith("index_put"):
        case["index"] = rs.permutation(shape[0])[:count] if unique else rs.randint(-shape[0], shape[0], size=count)
        case["v"] = rs.randn(len(case["index"]), *shape[1:])
    elif op in ("index_add", "index_copy", "index_select"):
        case["index"] = rs.permutation(size)[:count] if unique else rs.randint(0, size, size=count)
        case["v"] = rs.randn(*(len(case["index"]) if d == dim else n for d, n in enumerate(shape)))
    elif op == "index_fill":
        case["index"] = rs.randint(-size, size, size=count)
    elif op == "masked_scatter":
        case["mask"] = rs.rand(*shape) < 0.5
        case["v"] = rs.randn(int(case["mask"].sum()) + int(rs.randint(0, 3)))
    elif op in ("take", "put", "put accumulate"):
        total = int(np.prod(shape))
        case["index"] = rs.permutation(total)[:count] - total * (rs.rand(min(count, total)) < 0.5) if unique or \
            op == "put" else rs.randint(-total, total, size=count)
        case["v"] = rs.randn(len(case["index"]))
    else:
        ishape = [int(rs.randint(0, n + 1)) for n in shape]
        ishape[dim] = int(rs.randint(0, 5))
        if unique and op in ("scatter", "scatter value"):
            ishape[dim] = min(ishape[dim], size)
            order = np.argsort(rs.rand(*ishape[:dim], size, *ishape[dim + 1:]), axis=dim)
            case["index"] = np.take(order, np.arange(ishape[dim]), axis=dim)
        else:
            case["index"] = rs.randint(0, size, size=ishape)
        case["v"] = rs.randn(*ishape)
        if "am" in op:  # ties
            case["v"], case["x"] = np.round(case["v"]), np.round(case["x"])
    case["index"] = np.asarray(case.get("index", ()), dtype=np.int64)
    return case


def _run_op(lib, op: str, case: dict, in_place: bool):
    x = lib.tensor(case["x"], requires_grad=True)
    v = lib.tensor(case["v"], requires_grad=True) if "v" in case else None
    y, index, dim, tail = (x * 1 if in_place else x), lib.tensor(case["index"]), case["dim"], "_" * in_place
    name = op.split()[0]
    if name == "index_put":
        out = getattr(y, "index_put" + tail)((index,), v * 1, accumulate="accumulate" in op)
    elif name == "put":
        out = getattr(y, "put" + tail)(index, v * 1, accumulate="accumulate" in op)
    elif name in ("index_add", "index_copy", "scatter_add") or op == "scatter":
        out = getattr(y, name + tail)(dim, index, v * 1)
    elif op == "scatter value":
        out = getattr(y, "scatter" + tail)(dim, index, 2.5)
    elif name == "index_fill":
        out = getattr(y, "index_fill" + tail)(dim, index, -1.5)
    elif name == "masked_scatter":
        out = getattr(y, "masked_scatter" + tail)(lib.tensor(case["mask"]), v * 1)
    elif name == "take":
        out = x.take(index)
    elif name in ("gather", "index_select"):
        out = getattr(x, name)(dim, index)
    else:
        out = getattr(y, "scatter_reduce" + tail)(dim, index, v * 1, op.split()[1],
                                                  include_self="without" not in op)
    weights = np.random.RandomState(len(op)).randn(*tuple(out.shape))
    (out * lib.tensor(weights)).sum().backward()
    return out.detach().numpy(), x.grad.numpy(), None if v is None or v.grad is None else v.grad.numpy()


@settings(max_examples=200)
@given(st.integers(0, 2**31 - 1), st.sampled_from(OPS), st.booleans())
def test_drawn_index_ops_give_pytorchs_values_and_gradients(torch, seed, op, in_place):
    case = _op_case(seed, op)
    in_place = in_place and op not in ("take", "gather", "index_select")
    theirs, ours = _run_op(torch, op, case, in_place), _run_op(gg, op, case, in_place)
    repeats_unspecified = not case["unique"] and op in ("index_put", "index_copy", "scatter", "put",
                                                        "scatter value")
    for name, a, b in zip(("value", "x grad", "v grad"), theirs, ours):
        assert (a is None) == (b is None), name
        if a is not None and not (repeats_unspecified and name != "x grad"):
            np.testing.assert_allclose(b, a, rtol=1e-10, atol=1e-12, err_msg=name)


# --- pins of what behaved ----------------------------------------------------------------------------------------

def test_repeated_advanced_index_adds_up_the_gradient(torch):
    def run(lib):
        x = lib.arange(12.0, dtype=lib.float64).reshape(3, 4).requires_grad_(True)
        out = x[lib.tensor([[0, 2], [0, 0]]), 1:][:, :, ::2]
        (out * lib.arange(1.0, out.numel() + 1, dtype=lib.float64).reshape(tuple(out.shape))).sum().backward()
        return out.detach().numpy(), x.grad.numpy()
    for ours, theirs in zip(run(gg), run(torch)):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("index", [(slice(None), [0, 2], slice(None), [1, 0]), ([0, 1], slice(None), 0),
                                   (0, slice(None), [1, 1, 0]), (Ellipsis, [0, 2], None),
                                   ([[True, False, True, True], [False, True, False, True]], slice(1, None)),
                                   (None, 1, Ellipsis, [2, 0])])
def test_advanced_indices_apart_put_their_dims_where_pytorch_does(torch, index):
    data = np.arange(2 * 4 * 3 * 3.0).reshape(2, 4, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = gg.tensor(data)[index], torch.tensor(data)[index]
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_unspecified_indices_of_pytorch_are_not_pinned_but_zero_d_numpy_bool_is_numpys(torch):
    """PyTorch counts a 0-d NumPy bool array as using a dim (``x[..., np.array(True)]`` of a (4,) tensor is (1, 4),
    ``t[np.array(True)]`` of a 0-d tensor is refused); glassgrad reads it as NumPy and PyTorch read ``True``."""
    assert tuple(gg.zeros(4)[..., np.array(True)].shape) == (4, 1)
    assert tuple(gg.zeros(4)[..., gg.tensor(True)].shape) == tuple(torch.zeros(4)[..., torch.tensor(True)].shape)
