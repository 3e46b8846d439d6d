"""Round 157: review of rounds 150-156 (return_types, bools as sizes, the gg.tensor fast path, losses refusing
non-tensors, options kept as given), against PyTorch 2.13.

* ``gg.eye(2, True)`` made a (2, 1) matrix since bools after the first size pass ``shape_arg``; ``m`` is an int to
  PyTorch, not a size, and its TypeError (this stop's change).
* ``x.select(0, True)`` indexed with a bool mask: a (1, 3, 2) tensor where PyTorch refuses the bool (silent).
* A float subclass in a list made a float64 tensor (NumPy's dtype for it), where PyTorch reads it as a Python float,
  in the default dtype (silent); with an int past int64's range among them it was refused.
* ``gg.binary_cross_entropy_with_logits`` and ``gg.margin_ranking_loss`` (PyTorch's C++ forms, TypeError) raised
  ``F``'s AttributeError for a list, NumPy array or number.
* ``gg.Tensor(2, True)`` was refused, where PyTorch reads it as ``zeros(2, 1)``, as ``gg.zeros(2, True)`` now does.
* The docstrings of the removed ``MinMax``/``Sorted`` were left standing alone in their modules.
"""

from __future__ import annotations

import ast
import enum
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


class _Float(float):
    pass


class _Int(int):
    pass


class _Colour(enum.IntEnum):
    RED = 3


def _outcome(function, *args):
    try:
        result = function(*args)
    except Exception as error:  # noqa: BLE001 (the class is what is compared)
        return type(error).__name__
    return str(result.dtype).replace("torch.", ""), tuple(result.shape)


# --- eye: m is an int, not a size ---------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(2, True), (2, False), (True,), (2, 2.0), (2.0,)])
def test_eye_refuses_what_pytorch_refuses(torch, args):
    assert _outcome(gg.eye, *args) == _outcome(torch.eye, *args) == "TypeError"


def test_eye_keyword_bool(torch):
    assert _outcome(lambda: gg.eye(2, m=True)) == _outcome(lambda: torch.eye(2, m=True)) == "TypeError"


@pytest.mark.parametrize("m", [3, np.int64(3), 0])
def test_eye_whole_m(torch, m):
    assert gg.eye(2, m).tolist() == torch.eye(2, int(m)).tolist()
    assert gg.eye(2, gg.tensor(3)).shape == (2, 3)


# --- select: the index is an int ----------------------------------------------------------------------------------

@pytest.mark.parametrize("index", [True, False, 1.0])
def test_select_refuses_a_bool_or_float_index(torch, index):
    x, t = gg.arange(6.0).reshape(3, 2), torch.arange(6.0).reshape(3, 2)
    assert _outcome(x.select, 0, index) == _outcome(t.select, 0, index) == "TypeError"
    assert _outcome(gg.select, x, 1, index) == "TypeError"
    src = gg.ones(2)
    assert _outcome(x.select_scatter, src, 0, index) == _outcome(t.select_scatter, torch.ones(2), 0, index)


@given(st.integers(0, 3), st.integers(-4, 3))
@settings(max_examples=40, deadline=None)
def test_select_whole_index_as_pytorch(dim_draw, index):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    shape = (4, 3, 2, 4)
    x, t = gg.arange(96.0).reshape(shape), torch.arange(96.0).reshape(shape)
    if not -shape[dim_draw] <= index < shape[dim_draw]:
        assert _outcome(x.select, dim_draw, index) == "IndexError"
        return
    for given_index in (index, np.int64(index), gg.tensor(index)):
        assert x.select(dim_draw, given_index).tolist() == t.select(dim_draw, index).tolist()


# --- gg.tensor of Python numbers of subclasses --------------------------------------------------------------------

@pytest.mark.parametrize("data", [[_Float(1.5)], [1, _Float(1.5)], [_Float(1.5), 2.5], [[_Float(0.5)], [2.0]],
                                  (_Float(0.25), True), [_Int(7), 2**80, 2.5], [_Float(1.5), 2**80],
                                  [_Colour.RED, 2**70, 0.5], [_Colour.RED, 2.5]])
@pytest.mark.parametrize("default", ["float32", "float64", "float16"])
def test_python_number_subclasses_read_as_pythons(torch, data, default):
    gg.set_default_dtype(getattr(gg, default))
    torch.set_default_dtype(getattr(torch, default))
    try:
        ours, theirs = gg.tensor(data), torch.tensor(data)
    finally:
        gg.set_default_dtype(gg.float32)
        torch.set_default_dtype(torch.float32)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") == default
    assert np.array_equal(ours.numpy(), theirs.numpy())


def test_numpy_numbers_keep_their_dtype_beside_subclasses(torch):
    for data in ([np.float64(0.5), _Float(1.5)], [_Float(1.5), np.float16(2.0)], [_Int(2), np.float64(0.5)]):
        assert str(gg.tensor(data).dtype) == str(torch.tensor(data).dtype).replace("torch.", "")


def test_int_subclasses_alone_past_int64_refused(torch):
    assert _outcome(gg.tensor, [_Colour.RED, 2**70]) == "ValueError"


_NUMBERS = st.one_of(
    st.integers(-2**63, 2**63 - 1), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(), st.sampled_from([-0.0, 2**53 + 1, 2**60 + 2**36 + 1, 2**24 + 1, 65520.0, 3.5e38]),
    st.sampled_from([_Float(1.5), _Int(7), _Colour.RED]))


@given(st.lists(_NUMBERS, min_size=1, max_size=6), st.sampled_from(["float32", "float64", "float16"]))
@settings(max_examples=150, deadline=None)
def test_flat_lists_as_pytorch(data, default):
    """Any flat list of Python numbers (subclasses included): PyTorch's dtype and bits, or its error class."""
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    gg.set_default_dtype(getattr(gg, default))
    torch.set_default_dtype(getattr(torch, default))
    try:
        ours, theirs = _outcome(gg.tensor, data), _outcome(torch.tensor, data)
        if isinstance(ours, tuple) and ours == theirs:
            assert gg.tensor(data).numpy().tobytes() == torch.tensor(data).numpy().tobytes()
    finally:
        gg.set_default_dtype(gg.float32)
        torch.set_default_dtype(torch.float32)
    if isinstance(theirs, str) or isinstance(ours, str):  # an int past int64 alone: both refuse, classes may differ
        assert isinstance(ours, str) and isinstance(theirs, str)
        return
    assert ours == theirs


# --- the top-level C++ losses: TypeError for a non-tensor -------------------------------------------------------

@pytest.mark.parametrize("kind", ["list", "ndarray", "number"])
@pytest.mark.parametrize("call", [
    lambda m, x, t: m.binary_cross_entropy_with_logits(x, t),
    lambda m, x, t: m.binary_cross_entropy_with_logits(t, x),
    lambda m, x, t: m.binary_cross_entropy_with_logits(t, t, x),
    lambda m, x, t: m.binary_cross_entropy_with_logits(t, t, None, x),
    lambda m, x, t: m.margin_ranking_loss(x, t, t),
    lambda m, x, t: m.margin_ranking_loss(t, x, t),
    lambda m, x, t: m.margin_ranking_loss(t, t, x),
], ids=["bce input", "bce target", "bce weight", "bce pos_weight", "mrl input1", "mrl input2", "mrl target"])
def test_top_level_losses_refuse_non_tensors(torch, kind, call):
    values = [[0.2, -0.4], [0.1, 0.3]]
    given = {"list": values, "ndarray": np.array(values), "number": 0.5}[kind]
    assert _outcome(call, torch, given, torch.tensor(values)) == "TypeError"
    with pytest.raises(TypeError, match=r"must be Tensor, not (list|ndarray|float)$"):
        call(gg, given, gg.tensor(values))


def test_top_level_losses_still_compute(torch):
    x, y = [[0.2, -0.4], [0.1, 0.3]], [[1.0, 0.0], [0.0, 1.0]]
    for reduction in (0, 1, 2):
        ours = gg.binary_cross_entropy_with_logits(gg.tensor(x, dtype=gg.float64), gg.tensor(y, dtype=gg.float64),
                                                   None, gg.tensor([2.0, 0.5], dtype=gg.float64), reduction)
        theirs = torch.binary_cross_entropy_with_logits(torch.tensor(x, dtype=torch.float64),
                                                        torch.tensor(y, dtype=torch.float64), None,
                                                        torch.tensor([2.0, 0.5], dtype=torch.float64), reduction)
        assert np.allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=0)
        a, b, s = (gg.tensor(v, dtype=gg.float64) for v in (x[0], x[1], [1.0, -1.0]))
        ta, tb, ts = (torch.tensor(v, dtype=torch.float64) for v in (x[0], x[1], [1.0, -1.0]))
        assert np.allclose(gg.margin_ranking_loss(a, b, s, 0.1, reduction).numpy(),
                           torch.margin_ranking_loss(ta, tb, ts, 0.1, reduction).numpy(), rtol=1e-12, atol=0)


# --- the legacy constructor: bools after the first size ----------------------------------------------------------

@pytest.mark.parametrize("args", [(2, True), (2, False), (3, 1, True), (True, 2), (True,)])
@pytest.mark.parametrize("name", ["Tensor", "FloatTensor", "LongTensor"])
def test_legacy_constructor_sizes_as_pytorch(torch, name, args):
    assert _outcome(getattr(gg, name), *args) == _outcome(getattr(torch, name), *args)


# --- return_types -------------------------------------------------------------------------------------------------

def test_return_types_as_pytorch(torch):
    x = gg.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]])
    t = torch.tensor(x.tolist())
    calls = {"max": lambda a: a.max(1), "min": lambda a: a.min(1), "sort": lambda a: a.sort(1),
             "topk": lambda a: a.topk(2), "kthvalue": lambda a: a.kthvalue(2), "median": lambda a: a.median(1),
             "nanmedian": lambda a: a.nanmedian(1), "mode": lambda a: a.mode(1), "cummax": lambda a: a.cummax(1),
             "cummin": lambda a: a.cummin(1), "aminmax": lambda a: a.aminmax(dim=1)}
    for name, call in calls.items():
        ours, theirs = call(x), call(t)
        assert type(ours).__name__ == type(theirs).__name__ == name
        assert isinstance(ours, getattr(gg.return_types, name)) and isinstance(ours, tuple)
        assert [v.tolist() for v in ours] == [v.tolist() for v in theirs]
        first, second = ours
        assert first is ours[0] and second is ours[-1]
        again = pickle.loads(pickle.dumps(ours))
        assert type(again) is type(ours) and [v.tolist() for v in again] == [v.tolist() for v in ours]
        assert repr(ours) == repr(theirs).replace("torch.return_types", "return_types")


def test_no_docstring_left_standing_alone():
    """A module-level string after the module's docstring documents the assignment just before it."""
    root = Path(gg.__file__).parent
    for name in ("tensor.py", "tensor_indexing.py", "composed.py", "composed_picks.py", "composed_ranks.py",
                 "return_types.py"):
        body = ast.parse((root / name).read_text(encoding="utf-8")).body
        for before, node in zip(body, body[1:]):
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value,
                                                                                                   str):
                assert isinstance(before, (ast.Assign, ast.AnnAssign)), f"{name}:{node.lineno}"
