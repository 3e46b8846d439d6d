"""``gg.compile(fn)`` against what callers pass: layouts, aliasing, objects, dtypes and edge shapes.

Each case runs the same function eagerly and compiled over several calls (so that replays happen) and compares every
result bit for bit. Two kinds of holes were found and fixed:

* the key held no layout: a program captured with contiguous batches replayed a transposed one's work where the
  step's code reads the layout (``x.view(-1)``: eager raises, the replay gave a copy; ``x.contiguous()``,
  ``x.is_contiguous()``, ``x.stride()``), without a word; now the strides are part of the key;
* an object passed as an argument (``step(x, cfg)``) was keyed by identity alone, so ``cfg.scale`` changed by the
  caller was the capture's at every replay; now the attributes the step names of it are guarded, as a global's.

The rest is pinned: what already matched eager (or ran eagerly saying why, or raised eager's error).
"""

from __future__ import annotations

import dataclasses
import types
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import glassgrad as gg

nn, F = gg.nn, gg.nn.functional
A = np.random.default_rng(5).standard_normal((6, 6)).astype(np.float32)
CALLS = 8


def _snap(value: Any) -> Any:
    """A result as plain data: a tensor's bytes, dtype and shape; containers by part; anything else by repr."""
    if isinstance(value, gg.Tensor):
        return ("tensor", value.array.dtype.str, value.array.shape, value.array.tobytes())
    if isinstance(value, (list, tuple)):
        return tuple(_snap(part) for part in value)
    return ("py", repr(value))


def _calls(function: Callable, arguments: Callable[[int], tuple], compiled: bool) -> tuple[list, list[str], int]:
    """Each call's result (or error), the warnings, and how many calls replayed."""
    run = gg.compile(function) if compiled else function
    results = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for call in range(CALLS):
            try:
                results.append(_snap(run(*arguments(call))))
            except Exception as error:  # noqa: BLE001 (eager's error is the expected result)
                results.append(("error", type(error).__name__, str(error)))
    replays = sum(entry.replays for entry in run.entries.values()) if compiled else 0
    return results, [str(warning.message) for warning in caught], replays


def _check(function: Callable, arguments: Callable[[int], tuple]) -> tuple[list[str], int]:
    """Eager's and the compiled function's results, equal call by call; the compiled run's warnings and replays."""
    eager, _, _ = _calls(function, arguments, compiled=False)
    compiled, said, replays = _calls(function, arguments, compiled=True)
    assert compiled == eager
    return said, replays


def _square(call: int) -> gg.Tensor:
    return gg.tensor(A + call)


def _contiguous_then_transposed(call: int) -> tuple:
    """Contiguous batches for the captures and the first replay, then transposed ones (a view, strides swapped)."""
    return (_square(call) if call < 3 else _square(call).T,)


# --- fixed: the layout is part of the key ---------------------------------------------------------

@pytest.mark.parametrize("step", [lambda x: x.view(-1), lambda x: x.contiguous(),
                                  lambda x: x * 2 if x.is_contiguous() else x * 3, lambda x: x * x.stride(0)],
                         ids=["view", "contiguous", "is_contiguous", "stride"])
def test_a_step_reading_the_layout_gives_eagers_results_when_a_transposed_batch_follows(step: Callable) -> None:
    """The key held shapes and dtypes only, so a transposed batch replayed the contiguous batches' program: its
    ``view(-1)`` gave a copy where eager raises, ``contiguous()`` the tensor itself where eager copies, and a branch on
    ``is_contiguous()`` or ``stride()`` the captures' branch. Now the strides are in the key: the transposed batch
    gets a program of its own, captured as eager runs it."""
    _, replays = _check(step, _contiguous_then_transposed)
    assert replays > 0


def test_the_key_tells_layouts_apart_and_each_replays() -> None:
    """A contiguous and a transposed batch, alternating: two keys, each replayed."""
    compiled = gg.compile(lambda x: x.contiguous())
    for call in range(8):
        x = _square(call) if call % 2 else _square(call).T
        out = compiled(x)
        assert np.array_equal(out.array, np.ascontiguousarray(x.array))
        assert (out is x) == bool(call % 2)
    assert len(compiled.entries) == 2 and all(entry.replays == 2 for entry in compiled.entries.values())


# --- fixed: an object argument's attributes are guarded -------------------------------------------

class _Settings:
    """A plain object of settings, passed to the step."""

    def __init__(self) -> None:
        self.scale = 1.0


@dataclasses.dataclass
class _DataSettings:
    scale: float = 1.0


class _Scaled(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.scale = 1.0


@pytest.mark.parametrize("make", [_Settings, lambda: types.SimpleNamespace(scale=1.0), _DataSettings, _Scaled],
                         ids=["object", "namespace", "dataclass", "layer-not-called"])
def test_an_attribute_of_an_object_argument_changed_by_the_caller_is_read_as_eager_reads_it(make: Callable) -> None:
    """``step(x, cfg)`` reading ``cfg.scale``: the key held ``cfg`` by identity alone, so the replays multiplied by
    the captures' scale after the caller changed it, without a word. Now the attribute is guarded (as a global's):
    a new value is captured afresh, and replayed."""
    settings = make()

    def arguments(call: int) -> tuple:
        settings.scale = float(call // 3)
        return (_square(0), settings)

    def step(x: gg.Tensor, cfg: Any) -> gg.Tensor:
        return x * cfg.scale

    _, replays = _check(step, arguments)
    assert replays > 0


def test_an_attribute_read_by_a_helper_and_a_keyword_argument_are_guarded_too() -> None:
    """The attribute read in a helper the step calls, of an object given by keyword."""
    settings = _Settings()

    def scaled(x: gg.Tensor, cfg: Any) -> gg.Tensor:
        return x * cfg.scale

    def step(x: gg.Tensor, *, cfg: Any) -> gg.Tensor:
        return scaled(x, cfg) + 1

    compiled = gg.compile(step)
    for call in range(8):
        settings.scale = float(call // 3)
        assert np.array_equal(compiled(_square(0), cfg=settings).array, step(_square(0), cfg=settings).array)
    assert sum(entry.replays for entry in compiled.entries.values()) > 0


def test_an_object_argument_whose_attribute_changes_at_every_call_runs_eagerly_naming_it() -> None:
    """A tensor bound anew in the object at each call: eager, with the attribute named."""
    settings = _Settings()

    def arguments(call: int) -> tuple:
        settings.w = _square(call)
        return (_square(0), settings)

    said, replays = _check(lambda x, cfg: x * cfg.w, arguments)
    assert replays == 0 and any("'argument 2.w'" in message for message in said)


def test_an_object_argument_whose_tensor_is_edited_in_place_replays_its_values() -> None:
    """Pinned: a tensor the object holds, changed in place between calls, is read as it is then."""
    settings, edited = _Settings(), _Settings()
    settings.w, edited.w = _square(0), _square(0)
    compiled = gg.compile(lambda x, cfg: x * cfg.w)
    for _ in range(8):
        settings.w.add_(1.0)
        edited.w.add_(1.0)
        assert np.array_equal(compiled(_square(1), settings).array, (_square(1) * edited.w).array)
    assert sum(entry.replays for entry in compiled.entries.values()) == 6


# --- pinned: layouts, aliasing, in-place changes, returned views ----------------------------------

@pytest.mark.parametrize("arguments", [
    lambda call: (_square(call).T,), lambda call: (_square(call)[:, ::2],),
    lambda call: (gg.tensor(A[0] + call).expand(6, 6),), lambda call: (gg.from_numpy(np.asfortranarray(A + call)),)],
    ids=["transposed", "strided", "expanded", "fortran"])
def test_a_non_contiguous_argument_replays_eagers_numbers(arguments: Callable) -> None:
    _, replays = _check(lambda x: ((x * 2).sum(0), x @ x.T if x.shape[0] == x.shape[1] else x), arguments)
    assert replays == 6


@pytest.mark.parametrize("step", [lambda x: x.T, lambda x: x[0], lambda x: x.view(-1), lambda x: x,
                                  lambda x: (x, x * 2)], ids=["T", "row", "view", "itself", "pair"])
def test_a_returned_view_of_an_argument_shares_its_memory_as_eagers_does(step: Callable) -> None:
    compiled = gg.compile(step)
    for call in range(8):
        x = _square(call)
        out, expected = compiled(x), step(x)
        out, expected = (out, expected) if isinstance(out, tuple) else ((out,), (expected,))
        for got, wanted in zip(out, expected):
            assert np.array_equal(got.array, wanted.array)
            assert np.shares_memory(got.array, x.array) == np.shares_memory(wanted.array, x.array)
    assert compiled.entries[compiled.last_key].replays == 6


def test_a_result_changed_in_place_by_the_caller_is_not_the_next_calls_memory() -> None:
    """Eager gives fresh memory at each call; so does a replay (a constant the step adds is copied afresh)."""
    def step(x: gg.Tensor) -> tuple:
        return x * 0 + gg.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), gg.zeros(3)

    compiled, outs = gg.compile(step), []
    for call in range(8):
        out, zeros = compiled(_square(call))
        assert np.array_equal(out.array, np.tile(np.arange(1, 7, dtype=np.float32), (6, 1)))
        assert not zeros.array.any()
        out.add_(1.0)
        zeros.add_(1.0)
        outs.append(out)
    assert all(np.array_equal(out.array, outs[0].array) for out in outs)
    assert compiled.entries[compiled.last_key].replays == 6


@pytest.mark.parametrize("arguments", [
    lambda call: (lambda t: (t, t))(_square(call)), lambda call: (lambda t: (t, t[0]))(_square(call)),
    lambda call: (lambda t: (t, t.view(-1)))(_square(call))], ids=["twice", "row-of", "view-of"])
def test_an_argument_that_is_a_view_of_another_sees_the_steps_in_place_change(arguments: Callable) -> None:
    def step(x: gg.Tensor, y: gg.Tensor) -> tuple:
        x.mul_(2)
        return y * 1, x.sum()

    _, replays = _check(step, arguments)
    assert replays == 6


@pytest.mark.parametrize("step", [lambda x: x.add_(1) * 2, lambda x: x.__setitem__(0, 0.0),
                                  lambda x: x.copy_(x * 3)], ids=["add_", "setitem", "copy_"])
def test_an_argument_changed_in_place_is_changed_for_the_caller_at_each_replay(step: Callable) -> None:
    compiled = gg.compile(step)
    for call in range(8):
        x, y = _square(call), _square(call)
        compiled(x)
        step(y)
        assert np.array_equal(x.array, y.array)
    assert compiled.entries[compiled.last_key].replays == 6


# --- pinned: dtypes, Python values, containers ------------------------------------------------------

@pytest.mark.parametrize("dtype", ["int64", "int32", "bool", "float16", "float64"])
def test_arguments_of_each_dtype_replay_eagers_results(dtype: str) -> None:
    _, replays = _check(lambda x: (x * 2, x + 1, x.sum(), x > 0), lambda call: (gg.tensor((A + call).astype(dtype)),))
    assert replays == 6


@pytest.mark.parametrize("arguments", [
    lambda call: (_square(0), [1, 1.0, True][call % 3]), lambda call: (_square(0), np.float32(call % 2 + 0.5)),
    lambda call: (_square(0), gg.tensor(float(call))), lambda call: (_square(0), None if call % 2 else _square(1)),
    lambda call: ({"a": _square(call), "b": _square(1)} if call % 2 else {"b": _square(1), "a": _square(call)},),
    lambda call: ([_square(part) for part in range(call % 3 + 1)],)],
    ids=["int-float-bool", "np.float32", "0-d", "None", "dict-order", "list-length"])
def test_python_values_and_containers_are_told_apart_by_the_key(arguments: Callable) -> None:
    def step(*args: Any) -> Any:
        if len(args) == 1 and isinstance(args[0], dict):
            return args[0]["a"] * 2 - args[0]["b"]
        if len(args) == 1:
            return sum(part.sum() for part in args[0])
        x, s = args
        return x * 2 if s is None else x * s

    _, replays = _check(step, arguments)
    assert replays > 0


def test_a_numpy_array_argument_changed_in_place_is_read_as_it_is_then() -> None:
    held = A.copy()

    def arguments(call: int) -> tuple:
        held[:] = A + call // 3
        return (_square(0), held)

    _, replays = _check(lambda x, a: (x * gg.tensor(a), x * gg.from_numpy(a)), arguments)
    assert replays == 6


def test_keyword_arguments_in_another_order_replay() -> None:
    """Two orders of the same keywords: a key each, each replayed, each eager's numbers."""
    def step(x: gg.Tensor, a: Any = None, b: Any = None) -> gg.Tensor:
        return x * a - b

    compiled = gg.compile(step)
    for call in range(8):
        given = {"a": _square(call), "b": 2.0} if call % 2 else {"b": 2.0, "a": _square(call)}
        assert np.array_equal(compiled(_square(1), **given).array, step(_square(1), **given).array)
    assert sum(entry.replays for entry in compiled.entries.values()) == 4


# --- pinned: edge shapes, integer ops, data-dependent shapes -----------------------------------------

@pytest.mark.parametrize("rows", [lambda call: 0, lambda call: 1, lambda call: 1 if call % 2 else 6,
                                  lambda call: 1 if call < 4 else 600], ids=["empty", "one", "alternating", "big"])
def test_a_training_step_over_edge_batch_sizes_matches_eager(rows: Callable) -> None:
    def train(compiled: bool) -> list:
        gg.manual_seed(0)
        model = nn.Linear(6, 3)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x: gg.Tensor) -> gg.Tensor:
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            optimizer.step()
            return loss.detach()

        run = gg.compile(step) if compiled else step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an empty batch's mean: NumPy's warning, eager's too
            losses = [_snap(run(gg.tensor(np.resize(A + call, (rows(call), 6))))) for call in range(8)]
        return [losses, model.weight.array.tobytes(), model.bias.array.tobytes()]

    assert train(True) == train(False)


@pytest.mark.parametrize("step,arguments", [
    (lambda x: (x.argmax(1), (x > 0).long() + x.argmin(0).sum()), lambda call: (_square(call - 3),)),
    (lambda a, b: (a // b, a % b, a / b), lambda call: (gg.tensor(np.arange(8) + call + 1), gg.tensor(np.full(8, 3)))),
    (lambda x: gg.where(x > 0, 1.0, -1), lambda call: (_square(-call),)),
    (lambda index, s: gg.zeros(6, 6).index_add_(0, index, s),
     lambda call: (gg.tensor(np.array([0, 0, 1, 1, 2, 5])), _square(call))),
    (lambda index, s: gg.zeros(3, 6).scatter_add_(0, index, s),
     lambda call: (gg.tensor(np.array([[0] * 6, [0] * 6, [1] * 6])), _square(call)[:3])),
    (lambda x, index: x.gather(1, index), lambda call: (_square(call), gg.tensor(np.array([[0], [5], [2]] * 2)))),
    (lambda index: F.one_hot(index, 6) * 2, lambda call: (gg.tensor((np.arange(6) + call) % 6),)),
    (lambda x: (x > 0).sum(), lambda call: (_square(-call),))],
    ids=["argmax", "integer-division", "where", "index_add_", "scatter_add_", "gather", "one_hot", "bool-sum"])
def test_integer_and_boolean_ops_replay_eagers_results(step: Callable, arguments: Callable) -> None:
    _, replays = _check(step, arguments)
    assert replays == 6


@pytest.mark.parametrize("step", [lambda index: gg.bincount(index), lambda x: (x > 0).nonzero()],
                         ids=["bincount", "nonzero"])
def test_a_data_dependent_shape_runs_eagerly_saying_why(step: Callable) -> None:
    said, replays = _check(step, lambda call: (gg.tensor((np.arange(8) + call) % 5),))
    assert replays == 0 and any("depends on the values" in message for message in said)


def test_shapes_that_change_at_every_call_run_eagerly_saying_why() -> None:
    compiled = gg.compile(lambda x: x.sum())
    with pytest.warns(UserWarning, match="keep changing"):
        for call in range(20):
            assert compiled(gg.ones(call + 1)).item() == call + 1
