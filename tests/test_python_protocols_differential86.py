"""Python's and NumPy's protocols on a tensor, against PyTorch 2.13's Tensor (round 86).

``x in t``, ``reversed(t)``, ``iter`` of a 0-d tensor, ``[pad] * n`` with a tensor ``n``, ``t.numpy(force=True)``,
``__array_priority__``, ``copy.copy``/pickle without ``.grad``, and ``t[i] = value`` for values that are no numbers;
then a property test over dtypes (bool, uint8, int8…int64, float16/32/64), shapes ((), (0,), (1,), (3,), (2, 3),
(1, 1)) and ``requires_grad``, comparing the result's type, dtype and value, or the exception's class, and pinning
tests for what already behaved (``round``, ``math.floor``, ``divmod``, formats, ``item``/``tolist`` types, NumPy
numbers mixed with tensors, identities after ``+=``, deepcopy, ``np.asarray``/``from_numpy`` sharing memory).
"""

from __future__ import annotations

import copy
import math
import operator
import pickle
import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch


# --- defects of 6fe28c5 -------------------------------------------------------------------------------------------

def test_in_compares_entries_as_pytorch(torch):
    """``1 in t`` iterated ``t`` and took each row's truth value: refused for a tensor of two dims, "not iterable"
    for a 0-d one; PyTorch answers ``(element == t).any()``."""
    for lib in (gg, torch):
        matrix = lib.tensor([[1, 2], [3, 4]])
        assert (1 in matrix, 5 in matrix, 2.0 in matrix, lib.tensor(4) in matrix) == (True, False, True, True)
        assert lib.tensor([3, 9]) in matrix and lib.tensor([7, 9]) not in matrix  # entries, by broadcasting
        assert 1 in lib.tensor(1) and 2 not in lib.tensor(1)
        assert 1 not in lib.tensor([]) and float("nan") not in lib.tensor([float("nan")])
        assert np.float64(2) in lib.tensor([1.0, 2.0], requires_grad=True)
    for element in ("a", None, [1], np.array(2)):
        with pytest.raises(RuntimeError, match=r"^Tensor.__contains__ only supports Tensor or scalar, but you "
                                               rf"passed in a {type(element).__name__}; convert it first"):
            element in gg.tensor([1, 2])  # noqa: B015
        with pytest.raises(RuntimeError, match="only supports Tensor or scalar"):
            element in torch.tensor([1, 2])  # noqa: B015


def test_reversed_is_a_flipped_tensor_as_pytorch(torch):
    """``reversed(t)`` gave a ``reversed`` iterator (``.tolist()``, ``torch.cat([t, reversed(t)])`` failed) and
    refused a 0-d tensor; PyTorch's is ``t.flip(0)``, in the graph, and a 0-d tensor itself."""
    for lib in (gg, torch):
        t = lib.tensor([[1, 2], [3, 4]])
        assert isinstance(reversed(t), lib.Tensor) and reversed(t).tolist() == [[3, 4], [1, 2]]
        scalar = lib.tensor(5)
        assert reversed(scalar) is scalar
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (reversed(w) * lib.tensor([1.0, 10.0, 100.0])).sum().backward()
        assert w.grad.tolist() == [100.0, 10.0, 1.0]


def test_iterating_a_0d_tensor_says_so(torch):
    """The TypeError said "len() of a 0-d tensor" for ``for v in t``; PyTorch names the iteration."""
    for lib in (gg, torch):
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            iter(lib.tensor(1.0))
        with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
            a, b = lib.tensor(1.0)


def test_a_sequence_times_a_tensor_is_repeated_as_pytorch(torch):
    """``[pad] * (max_len - length)`` with ``length`` a 0-d tensor (one entry of a lengths tensor) gave a tensor
    ``[0]`` times the count (silently) instead of a list; ``"#" * t`` raised "not numeric"."""
    for lib in (gg, torch):
        max_len, lengths = 4, lib.tensor([1, 3])
        assert [[7] * int(n) + [0] * (max_len - n) for n in lengths] == [[7, 0, 0, 0], [7, 7, 7, 0]]
        assert [0] * lib.tensor(2) == [0, 0] and (1, 2) * lib.tensor(2) == (1, 2, 1, 2)
        assert "ab" * lib.tensor(2) == "abab" and b"x" * lib.tensor(3) == b"xxx"
        with pytest.raises(TypeError):
            [0] * lib.tensor(2.0)  # a float is no count, in both
        assert (2 * lib.tensor([1, 2])).tolist() == [2, 4]  # numbers still multiply


def test_equality_with_an_object_that_is_no_number_is_an_identity_as_pytorch(torch):
    """``t == object()``, ``t == module`` raised "data of dtype object is not numeric", and so did ``[module,
    t].index(t)`` and ``t in [module, t]``, which compare a tensor with each entry; PyTorch answers False (True for
    ``!=``), as for None. What holds no numbers is still refused by ``<`` (a TypeError in both)."""
    for lib in (gg, torch):
        t, module = lib.tensor([1.0, 2.0]), lib.nn.Linear(1, 1)
        assert (t == object()) is False and (t != {}) is True and (t == module) is False and (module == t) is False
        assert [module, t].index(t) == 1 and t in [module, t] and t not in [module, {}]
        with pytest.raises(TypeError):
            t < object()  # noqa: B015


def test_numpy_force_and_array_priority_as_pytorch(torch):
    """``t.numpy(force=True)`` (PyTorch's way to read a tensor that requires grad) was a TypeError; glassgrad's
    ``numpy()`` gives the shared array either way. ``__array_priority__`` was missing."""
    for lib in (gg, torch):
        t = lib.tensor([1.0, 2.0], requires_grad=True)
        forced = t.numpy(force=True)
        assert forced.dtype == np.float32 and forced.tolist() == [1.0, 2.0]
        plain = lib.tensor([1, 2], dtype=lib.int16)
        assert np.shares_memory(plain.numpy(force=True), plain.numpy())
        assert plain.numpy(force=False).dtype == np.int16
    assert gg.tensor(1).__array_priority__ == torch.tensor(1).__array_priority__ == 1000


def test_copy_and_pickle_leave_grad_behind_as_pytorch(torch):
    """``copy.copy`` and pickle kept ``.grad``, and ``copy.copy``'s was the original's own tensor (a backward of
    the copy added into the original's); PyTorch's start without one. ``deepcopy`` copies it, in both."""
    for lib in (gg, torch):
        for p in (lib.tensor([1.0, 2.0], requires_grad=True), lib.nn.Parameter(lib.tensor([1.0, 2.0]))):
            p.grad = lib.tensor([0.5, 0.5])
            shallow, unpickled = copy.copy(p), pickle.loads(pickle.dumps(p))
            for made in (shallow, unpickled):
                assert type(made) is type(p) and made.requires_grad and made.grad is None
            assert np.shares_memory(shallow.detach().numpy(), p.detach().numpy())
            (shallow * 3).sum().backward()
            assert p.grad.tolist() == [0.5, 0.5] and shallow.grad.tolist() == [3.0, 3.0]
            t = lib.tensor([1.0, 2.0], requires_grad=True)
            t.grad = lib.tensor([0.5, 0.5])
            deep = copy.deepcopy(t)
            assert deep.grad.tolist() == [0.5, 0.5] and deep.grad is not t.grad
            x, y = copy.deepcopy([t, t])
            assert x is y


@pytest.mark.parametrize("statement, words", [
    ("x[0] = [1]", "a list of shape (1,) cannot be written to a part of shape ()"),
    ("x[0] = [[1]]", "a list of shape (1, 1) cannot be written to a part of shape ()"),
    ("x[...] = ...", "can't assign Ellipsis to a"),
    ("x[0] = 1j", "can't assign 1j to a"),
    ("x[:] = np.array(['a', 'b'])", "can't assign array(['a', 'b'], dtype='<U1') to a"),
    ("x[:] = [[1, 2], [3]]", "can't assign [[1, 2], [3]] to a"),
])
@pytest.mark.parametrize("dtype", ["float32", "int32"])
def test_a_value_that_is_no_number_is_refused_in_one_line(torch, statement, words, dtype):
    """NumPy's words from its conversion came through ("setting an array element with a sequence", "float()
    argument must be … not 'ellipsis'", "could not convert string to float"); PyTorch raises a TypeError (a
    RuntimeError for a complex number), and so does glassgrad now, naming the value and what it may be."""
    x = gg.tensor([1, 2], dtype=getattr(gg, dtype))
    with pytest.raises(TypeError, match=f"^item assignment: {re.escape(words)}") as caught:
        exec(statement, {"np": np, "x": x})
    assert "\n" not in str(caught.value) and x.tolist() == [1, 2]
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        exec(statement, {"np": np, "x": torch.tensor([1, 2], dtype=getattr(torch, dtype))})


# --- the fuzzer's core: one protocol, drawn dtype, shape and requires_grad, on both libraries -----------------------

_PROTOCOLS = {
    "float": float, "int": int, "bool": bool, "complex": complex, "index": operator.index, "len": len,
    "list": lambda t: list(t), "in": lambda t: 1 in t, "in tensor": lambda t: t.new_ones(()) in t,
    "reversed": lambda t: reversed(t), "item": lambda t: t.item(), "tolist": lambda t: t.tolist(),
    "format .3f": lambda t: format(t, ".3f"), "round": round, "round 2": lambda t: round(t, 2),
    "floor": math.floor, "ceil": math.ceil, "trunc": math.trunc, "abs": abs, "divmod": lambda t: divmod(t, 2),
    "chained": lambda t: 0 < t < 1, "== None": lambda t: t == None, "== 'a'": lambda t: t == "a",  # noqa: E711
    "sum list": lambda t: sum([t, t]), "max": max, "sorted": sorted, "reversed list": lambda t: list(reversed(t)),
    "[0] * t": lambda t: [0] * t, "np.float64 *": lambda t: np.float64(2) * t,
    "* np.float32": lambda t: t * np.float32(2),
    "np.int64 +": lambda t: np.int64(3) + t, "np.exp": np.exp,
    "copy": copy.copy, "deepcopy": copy.deepcopy, "pickle": lambda t: pickle.loads(pickle.dumps(t)),
    "numpy force": lambda t: t.numpy(force=True), "x[...] = 2": lambda t: _set(t.detach().clone(), ..., 2),
    "x[...] = tensor": lambda t: _set(t.detach().clone(), ..., t.new_zeros(t.shape)),
}
"""Each protocol's answer is the same on both libraries for every dtype, shape and ``requires_grad`` drawn (the
round-86 fuzzer's list, less what glassgrad documents as its own: ``np.asarray`` of a tensor that requires grad,
``abs`` of a bool tensor, NumPy arrays as operands, ``np.add(t, 1)`` being ``t + 1`` in the graph)."""


def _set(t, index, value):
    t[index] = value
    return t


def _answer(result):
    """What is compared: the result's kind, dtype and numbers (a tensor or an array), or Python type and value."""
    if hasattr(result, "detach"):
        result = result.detach().numpy()
        return "tensor", str(result.dtype), result.shape, result.tolist()
    if isinstance(result, np.ndarray):
        return "array", str(result.dtype), result.shape, result.tolist()
    if isinstance(result, (list, tuple)):
        return type(result).__name__, [_answer(item) for item in result]
    if isinstance(result, float) and math.isnan(result):
        return "float", "nan"
    return type(result).__name__, result


def _outcome(lib, name, numbers, requires_grad):
    t = lib.tensor(numbers, requires_grad=requires_grad)
    try:
        return _answer(_PROTOCOLS[name](t))
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return "raises", type(error).__name__


@st.composite
def _cases(draw):
    dtype = draw(st.sampled_from(["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32",
                                  "float64"]))
    shape = draw(st.sampled_from([(), (0,), (1,), (3,), (2, 3), (1, 1)]))
    size = math.prod(shape)
    if dtype == "bool":
        entries = st.booleans()
    elif dtype.startswith(("u", "i")):
        entries = st.integers(0 if dtype == "uint8" else -5, 5)
    else:
        entries = st.sampled_from([-2.5, -1.0, -0.25, 0.0, 0.5, 0.75, 1.0, 1.5, 3.25])
    numbers = np.array(draw(st.lists(entries, min_size=size, max_size=size)), dtype=dtype).reshape(shape)
    requires_grad = dtype.startswith("float") and draw(st.booleans())
    return draw(st.sampled_from(sorted(_PROTOCOLS))), numbers, requires_grad


@given(_cases())
def test_protocols_answer_as_pytorch(torch, case):
    name, numbers, requires_grad = case
    assume(not (name == "abs" and numbers.dtype == bool))  # taken by glassgrad, as its README says; not by PyTorch
    assert _outcome(gg, name, numbers, requires_grad) == _outcome(torch, name, numbers, requires_grad), name


# --- pinned: what already behaved ---------------------------------------------------------------------------------

def test_python_numbers_of_a_tensor_as_pytorch(torch):
    for lib in (gg, torch):
        for arguments in ((), (2,)):  # PyTorch's Tensor has no __round__: round(t.item(), 2), or t.round(decimals=2)
            with pytest.raises(TypeError, match="doesn't define __round__"):
                round(lib.tensor(2.5), *arguments)
        assert math.floor(lib.tensor(2.5)) == 2 and math.ceil(lib.tensor([2.5])) == 3
        with pytest.raises(TypeError, match="doesn't define __trunc__"):  # nor __trunc__; floor and ceil use float()
            math.trunc(lib.tensor(-2.5))
        with pytest.raises(ValueError):
            math.floor(lib.tensor([2.5, 3.5]))
        with pytest.raises(TypeError, match="divmod"):  # no __divmod__ either: t // 2, t % 2
            divmod(lib.tensor([5.0, -7.0]), 2)
        pair = lib.tensor([5.0, -7.0])
        assert (pair // 2).tolist() == [2.0, -4.0] and (pair % 2).tolist() == [1.0, 1.0]
        with pytest.raises(TypeError):
            pow(lib.tensor([5]), 2, 3)
        assert f"{lib.tensor(1 / 3):.3f}" == "0.333" and f"{lib.tensor(3):d}" == "3"
        assert "%.2f" % lib.tensor(2.5) == "2.50"  # noqa: UP031 (what is tested)
        with pytest.raises(TypeError):
            f"{lib.tensor([1.5]):.2f}"  # noqa: B018
        assert [type(v) for v in lib.tensor([1, 2], dtype=lib.uint8).tolist()] == [int, int]
        assert type(lib.tensor(True).item()) is bool and type(lib.tensor(2, dtype=lib.int8).item()) is int
        assert lib.tensor([0.1], dtype=lib.float16).tolist() == [0.0999755859375]
        assert int(lib.tensor(-2.7)) == -2 and complex(lib.tensor(2.5)) == 2.5 + 0j
        with pytest.raises(RuntimeError, match="ambiguous"):
            bool(lib.tensor([1, 2]))
        with pytest.raises(RuntimeError):
            lib.tensor([1, 2]).item()


def test_numpy_numbers_and_arrays_with_tensors_as_pytorch(torch):
    for expression in ["np.float64(2) * lib.tensor([1, 2])", "lib.tensor([1, 2], dtype=lib.uint8) + np.int64(300)",
                       "np.int64(3) + lib.tensor([1, 2], dtype=lib.int8)", "lib.tensor([1., 2.]) * np.float32(2)",
                       "np.float32(2) * lib.tensor([1, 2], dtype=lib.float16)", "lib.tensor([1, 2]) + np.array([2.5])",
                       "np.exp(lib.tensor([1, 2]))", "np.float64(2) - lib.tensor([1., 2.], requires_grad=True)"]:
        ours, theirs = (eval(expression, {"np": np, "lib": lib}) for lib in (gg, torch))
        assert type(ours) is gg.Tensor and ours.numpy().dtype == theirs.detach().numpy().dtype, expression
        assert ours.tolist() == theirs.tolist() and ours.requires_grad == theirs.requires_grad, expression
    assert (np.ones(2) + gg.tensor([1.0, 2.0])).tolist() == [2.0, 3.0]  # a tensor, as __array_priority__ means
    with pytest.raises(RuntimeError, match="requires grad"):
        np.exp(gg.tensor([1.0], requires_grad=True))


def test_identities_copies_and_shared_memory_as_pytorch(torch):
    for lib in (gg, torch):
        x = lib.tensor([1.0, 2.0])
        kept = x
        x += 1
        assert x is kept
        x = x + 1
        assert x is not kept
        with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
            copy.deepcopy(lib.tensor([1.0], requires_grad=True) * 2)
        base = lib.tensor([1.0, 2.0, 3.0])
        copied = copy.deepcopy(base[1:])
        copied[0] = 9
        assert base.tolist() == [1.0, 2.0, 3.0] and copied.tolist() == [9.0, 3.0]
        t = lib.tensor([1.0, 2.0])
        np.asarray(t)[0] = 9
        np.array(t)[1] = 9
        assert t.tolist() == [9.0, 2.0]
        array = np.array([1.0, 2.0])
        shared = lib.from_numpy(array)
        array[0], shared[1] = 5, 7
        assert shared.tolist() == array.tolist() == [5.0, 7.0]
        with pytest.raises(ValueError, match="byte order"):
            lib.from_numpy(np.array([1.0], dtype=">f8"))
        assert len({lib.tensor(1), lib.tensor(1)} | {t}) == 3 and {t: 1}[t] == 1  # hashed by identity
        assert (t == None) is False and (t != None) is True and (t == "a") is False  # noqa: E711
