"""``gg.compile``: dtypes, precision and numbers at the edges, compiled against eager, bit for bit, over 10 calls.

The holes found: a cast of a tensor's array made in Python before an op (``_cast`` of the running and whole sums
and products, ``masked_fill``'s 0-d value that requires grad, ``einsum``'s and ``lerp``'s operands of another dtype)
was a constant to the replay, so ``position_ids = mask.long().cumsum(-1)`` kept the captures' positions for every
later batch (or, where the captures' numbers differed, the step ran eagerly); each cast is now a kernel of the step
(:func:`glassgrad.autograd.recorded_cast`); ``fmax``/``fmin``'s pick too (a refusal before). And a tensor the
step reads from outside as a constant (a global tensor, a layer's plain tensor attribute) was guarded by identity
alone: ``c.data = …`` between calls (new numbers, another dtype) replayed the old array, and ``c.requires_grad_()``
never stored its gradient; its array and ``requires_grad`` are now guarded, as a parameter's are. The rest pins what
already held: ∞ and NaN arriving after the captures (fully masked rows, clamp, norms at 0, …), float16 overflow
late, float64, the default dtype changed between calls, ``model.double()`` between calls, NumPy scalars of other
dtypes as arguments, integer and uint8 data.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pytest

import glassgrad as gg

nn = gg.nn
F = gg.nn.functional
CALLS = 10


def _arrays(value: Any) -> list:
    if isinstance(value, gg.Tensor):
        return [value.array.copy()]
    if isinstance(value, (tuple, list)):
        return [array for part in value for array in _arrays(part)]
    return [np.asarray(value)]


def _run(make: Callable[[], tuple], calls: list, compiled: bool, between: Callable | None = None) -> tuple:
    """``make()`` gives (step, tensors to compare); run it on each call's arguments; (results, tensors, counts)."""
    step, tensors = make()
    run = gg.compile(step) if compiled else step
    results = []
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for number, arguments in enumerate(calls):
            if between is not None:
                between(number, tensors)
            try:
                results.append(_arrays(run(*arguments)))
            except (RuntimeError, ValueError, IndexError) as error:
                results.append(f"{type(error).__name__}: {error}")
    finals = [array for tensor in tensors for array in
              ([tensor.array.copy()] + ([] if tensor.grad is None else [tensor.grad.array.copy()]))]
    counts = (sum(entry.captures for entry in run.entries.values()),
              sum(entry.replays for entry in run.entries.values())) if compiled else None
    compile_warnings = [str(w.message) for w in seen if "gg.compile" in str(w.message)]
    return results, finals, counts, compile_warnings


def _same(make: Callable[[], tuple], calls: list, between: Callable | None = None) -> tuple:
    """Eager and compiled give the same results and tensors, dtypes and NaNs included; (counts, compile warnings)."""
    eager, compiled = _run(make, calls, False, between), _run(make, calls, True, between)
    for number, (a, b) in enumerate(zip(eager[0], compiled[0])):
        if isinstance(a, str) or isinstance(b, str):
            assert a == b, number
            continue
        assert len(a) == len(b), number
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), (number, x, y)
    assert len(eager[1]) == len(compiled[1])
    for x, y in zip(eager[1], compiled[1]):
        assert x.dtype == y.dtype and np.array_equal(x, y, equal_nan=True), (x, y)
    return compiled[2], compiled[3]


def _floats(shape: tuple, dtype: Any = np.float32, seed: int = 0, edit: Callable | None = None) -> list:
    rng = np.random.default_rng(seed)
    calls = []
    for number in range(CALLS):
        array = rng.standard_normal(shape).astype(dtype)
        if edit is not None:
            edit(number, array)
        calls.append((gg.tensor(array),))
    return calls


def _weighted(function: Callable, size: int = 4) -> Callable[[], tuple]:
    """A step ``function(x * w)`` whose sum is walked back to ``w``."""
    def make() -> tuple:
        w = gg.tensor(np.linspace(0.5, 1.5, size, dtype=np.float32), requires_grad=True)

        def step(x: Any) -> Any:
            w.grad = None
            out = function(x * w)
            out.float().sum().backward()
            return out
        return step, [w]
    return make


# --- holes: a cast made in Python was a constant to the replay --------------------------------------------------

def _tokens(left_padded_from: int = 4) -> list:
    rng = np.random.default_rng(1)
    calls = []
    for number in range(CALLS):
        ids = rng.integers(1, 9, (2, 5))
        if number >= left_padded_from:  # the captures' batches are unpadded: every mask all True
            ids[0, :2] = 0
        calls.append((gg.tensor(ids),))
    return calls


@pytest.mark.parametrize("positions", [
    lambda mask: mask.long().cumsum(-1) - 1,            # Hugging Face's position_ids from an attention mask
    lambda mask: mask.cumsum(1),                        # a bool mask sums in int64
    lambda mask: mask.float().cumsum(1, dtype=gg.float64),
    lambda mask: mask.prod(1, keepdim=True),            # does the row hold padding at all
    lambda mask: mask.long().cumprod(1),
], ids=["long-cumsum", "bool-cumsum", "cumsum-dtype", "bool-prod", "long-cumprod"])
def test_positions_from_a_padding_mask_follow_each_later_batch(positions: Callable) -> None:
    def make() -> tuple:
        gg.manual_seed(0)
        embedding = nn.Embedding(8, 3)

        def step(ids: Any) -> Any:
            embedding.zero_grad()
            mask = ids != 0
            where = (positions(mask) * mask).long().clamp(0, 7)
            loss = embedding(where).pow(2).sum()
            loss.backward()
            return loss, where
        return step, [embedding.weight]
    counts, said = _same(make, _tokens())
    assert counts == (2, 8) and not said


def test_a_cast_for_a_running_sum_is_a_kernel_so_the_step_replays() -> None:
    counts, said = _same(_weighted(lambda h: h.cumsum(0, dtype=gg.float64)), _floats((4,)))
    assert counts == (2, 8) and not said


def test_masked_fill_with_a_learnable_value_changed_between_calls_fills_the_new_value() -> None:
    def make() -> tuple:
        w = gg.tensor(np.ones(3, np.float32), requires_grad=True)
        fill = gg.tensor(np.array(2.0, np.float32), requires_grad=True)

        def step(x: Any) -> Any:
            w.grad = fill.grad = None
            out = (x * w).masked_fill(x > 0.5, fill)
            out.sum().backward()
            return out
        return step, [w, fill]

    def between(number: int, tensors: list) -> None:
        if number >= 4:
            with gg.no_grad():
                tensors[1].add_(1.0)  # an update made outside, in place
    counts, said = _same(make, _floats((3, 3)), between)
    assert counts == (2, 8) and not said


def test_einsum_and_lerp_with_an_operand_of_another_dtype_replay() -> None:
    def make() -> tuple:
        w = gg.tensor(np.ones(3, np.float32), requires_grad=True)
        scale = gg.tensor(np.array([0.5, 1.0, 2.0]))  # float64

        def step(x: Any, t: Any) -> Any:
            w.grad = None
            out = gg.einsum("ij,j->i", x * w, scale) + (x * w).sum(0).lerp(x[0] * w, t).double()
            out.sum().backward()
            return out
        return step, [w]
    rng = np.random.default_rng(2)
    calls = [(gg.tensor(rng.standard_normal((3, 3)).astype(np.float32)), gg.tensor(rng.random(), dtype=gg.float64))
             for _ in range(CALLS)]
    counts, said = _same(make, calls)
    assert counts == (2, 8) and not said


# --- holes: a constant tensor read from outside was guarded by identity alone -----------------------------------

def _with_constant() -> tuple:
    c = gg.tensor(np.full(4, 0.5, np.float32))
    w = gg.tensor(np.ones(4, np.float32), requires_grad=True)

    def step(x: Any) -> Any:
        w.grad = None
        out = (x * w * c).sum()
        out.backward()
        return out
    return step, [w, c]


@pytest.mark.parametrize("change", [
    lambda c: setattr(c, "data", c.data * 3),
    lambda c: setattr(c, "data", c.data.double()),
    lambda c: c.requires_grad_(),
], ids=["new-numbers", "float64", "requires-grad"])
def test_a_global_constant_tensor_changed_between_calls_is_read_as_eager_reads_it(change: Callable) -> None:
    counts, said = _same(_with_constant, _floats((4,)), lambda number, tensors: number == 5 and change(tensors[1]))
    assert counts == (4, 6) and not said


class _Standardized(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 2)
        self.mean = gg.tensor(np.zeros(4, np.float32))  # a plain tensor, not a buffer (model.to() leaves it)

    def forward(self, x: Any) -> Any:
        return self.fc(x - self.mean)


def test_a_layers_plain_tensor_given_new_data_between_calls_is_read_as_eager_reads_it() -> None:
    def make() -> tuple:
        gg.manual_seed(0)
        model = _Standardized()
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

        def step(x: Any) -> Any:
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            optimizer.step()
            return loss
        return step, [model.fc.weight, model.mean]

    def between(number: int, tensors: list) -> None:
        if number == 5:
            tensors[1].data = tensors[1].data + 1.0
        if number == 7:
            tensors[1].add_(1.0)  # in place: the same array, seen by the replay
    counts, said = _same(make, _floats((5, 4)), between)
    assert counts == (4, 6) and not said


# --- pinned: ∞ and NaN after the captures ------------------------------------------------------------------------

def _fully_masked(number: int, array: np.ndarray) -> None:
    if number in (5, 7):
        array[0] = -np.inf  # a fully masked row (attention with every key masked)


@pytest.mark.parametrize("function", [
    lambda h: gg.logsumexp(h, dim=1),
    lambda h: gg.softmax(h, dim=1),
    lambda h: gg.log_softmax(h, dim=1),
    lambda h: F.cross_entropy(h, gg.tensor([0, 1, 2])),
], ids=["logsumexp", "softmax", "log_softmax", "cross_entropy"])
def test_a_row_of_minus_infinity_after_the_captures_gives_eager_numbers(function: Callable) -> None:
    with np.errstate(all="ignore"):
        counts, said = _same(_weighted(function), _floats((3, 4), edit=_fully_masked))
    assert counts == (2, 8) and not said


def _edges(number: int, array: np.ndarray) -> None:
    if number == 4:
        array[0, 0] = np.nan
    if number == 6:
        array[1] = 0.0
    if number == 8:
        array[2, 1] = np.inf
    if number == 9:
        array[0] = -np.inf


@pytest.mark.parametrize("function", [
    lambda h: h.clamp(-0.5, 0.5), lambda h: h.max(), lambda h: h.min(dim=1)[0], lambda h: h.amax(dim=1),
    lambda h: h.norm(), lambda h: (h - h).norm(dim=1), lambda h: (h * h).sqrt(), lambda h: h.relu() ** 0.5,
    lambda h: h.abs(), lambda h: h.sign() * h, lambda h: h.relu(), lambda h: gg.atan2(h, h),
    lambda h: F.normalize(h * (h > 5), dim=1), lambda h: h.prod(dim=1), lambda h: h.topk(2, dim=1)[0],
    lambda h: gg.where(h > 0, h, h * 0.1), lambda h: h.nan_to_num(), lambda h: F.layer_norm(h, (4,)),
], ids=["clamp", "max", "min-dim", "amax", "norm", "norm-of-zero", "sqrt-at-0", "pow-half-at-0", "abs", "sign",
        "relu", "atan2-0-0", "normalize-zero", "prod", "topk", "where", "nan_to_num", "layer_norm"])
def test_nan_infinity_and_zero_after_the_captures_give_eager_numbers(function: Callable) -> None:
    with np.errstate(all="ignore"):
        counts, said = _same(_weighted(function), _floats((3, 4), edit=_edges))
    assert counts == (2, 8) and not said


# --- pinned: precisions, dtype changes between calls, numbers of other types ------------------------------------

def _adam_step(dtype: Any, size: int = 4) -> Callable[[], tuple]:
    def make() -> tuple:
        gg.manual_seed(0)
        model = nn.Linear(size, 3).to(dtype)
        optimizer = gg.optim.Adam(model.parameters(), lr=1e-2)

        def step(x: Any) -> Any:
            optimizer.zero_grad()
            loss = (model(x) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss
        return step, list(model.parameters())
    return make


def test_float16_adam_overflowing_only_in_a_later_call_gives_eager_numbers() -> None:
    def late(number: int, array: np.ndarray) -> None:
        if number == 6:
            array[0, 0] = 60000.0
    with np.errstate(all="ignore"):
        counts, said = _same(_adam_step(gg.float16), _floats((5, 4), np.float16, edit=late))
    assert counts == (2, 8) and not said


def test_float64_adam_gives_eager_numbers() -> None:
    assert _same(_adam_step(gg.float64), _floats((5, 4), np.float64)) == ((2, 8), [])


@pytest.mark.parametrize("convert", [lambda m: m.double(), lambda m: m.half(), lambda m: m.double().float()],
                         ids=["double", "half", "double-then-float"])
def test_a_model_converted_between_calls_is_captured_again(convert: Callable) -> None:
    def make() -> tuple:
        gg.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
        optimizer = gg.optim.Adam(model.parameters(), lr=1e-2)

        def step(x: Any) -> Any:
            optimizer.zero_grad()
            loss = (model(x.to(model[0].weight.dtype)) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss
        return step, [model[0].weight, model[2].bias, model]

    def between(number: int, tensors: list) -> None:
        if number == 4:
            convert(tensors.pop())
    with np.errstate(all="ignore"):
        counts, said = _same(make, _floats((5, 4)), between)
    assert counts == (4, 6) and not said


def test_the_default_dtype_changed_between_calls_makes_the_steps_tensors_as_eager_makes_them() -> None:
    def make() -> tuple:
        w = gg.tensor(np.ones(4, np.float32), requires_grad=True)

        def step(x: Any) -> Any:
            w.grad = None
            out = (gg.zeros(4) + x * w).sum() * gg.arange(4.0).sum() + gg.tensor(0.5)
            out.backward()
            return out
        return step, [w]

    try:
        counts, said = _same(make, _floats((4,)), lambda number, _: gg.set_default_dtype(
            gg.float64 if number == 5 else gg.float32) if number in (0, 5) else None)
    finally:
        gg.set_default_dtype(gg.float32)
    assert counts == (4, 6) and not said


@pytest.mark.parametrize("dtype, scalars", [
    (np.float32, [0.5] * 4 + [np.float64(0.5)] * 6),   # equal and of one hash, but float64 promotes
    (np.float16, [0.5] * 4 + [np.float32(0.5)] * 6),
], ids=["float32-then-np.float64", "float16-then-np.float32"])
def test_a_numpy_scalar_argument_equal_to_the_captures_float_is_its_own_key(dtype: Any, scalars: list) -> None:
    def make() -> tuple:
        w = gg.tensor(np.ones(4, dtype), requires_grad=True)

        def step(x: Any, scale: Any) -> Any:
            w.grad = None
            out = x * w * scale
            out.float().sum().backward()
            return out
        return step, [w]
    calls = [(x, scale) for (x,), scale in zip(_floats((4,), dtype), scalars)]
    counts, said = _same(make, calls)
    assert counts == (4, 6) and not said


@pytest.mark.parametrize("function", [
    lambda h: h * np.float64(0.1), lambda h: h * gg.tensor(0.1, dtype=gg.float64), lambda h: h.sum(dtype=gg.float64),
    lambda h: h.mean(dtype=gg.float64), lambda h: gg.softmax(h, dim=0, dtype=gg.float64), lambda h: h.double().exp(),
    lambda h: h + h.long(), lambda h: (h > 0) * h + (h < 0).float() * 2 - (h > 0).sum(),
    lambda h: h + gg.finfo(h.dtype).eps, lambda h: h * 1e-39, lambda h: h.half() * 60000,
], ids=["np.float64", "0-d-float64", "sum-dtype", "mean-dtype", "softmax-dtype", "double", "long", "bool-masks",
        "finfo", "denormal", "float16-overflow"])
def test_dtype_promotion_and_casts_in_the_step_give_eager_numbers(function: Callable) -> None:
    with np.errstate(all="ignore"):
        counts, said = _same(_weighted(function), _floats((4,)))
    assert counts == (2, 8) and not said


def test_uint8_images_scaled_and_int_labels_train_as_eager_does() -> None:
    def make() -> tuple:
        gg.manual_seed(0)
        model = nn.Linear(3, 3)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
        seen = gg.zeros(3, dtype=gg.int64)  # an integer buffer counted in place

        def step(image: Any, label: Any) -> Any:
            optimizer.zero_grad()
            x = image.float() / 255 + (image - 128).float() / 1000  # uint8 - 128 wraps, as in eager
            loss = F.cross_entropy(model(x), label)
            loss.backward()
            optimizer.step()
            seen.add_(F.one_hot(label, 3).sum(0))
            return loss, seen.clone()
        return step, [model.weight, seen]
    rng = np.random.default_rng(3)
    calls = [(gg.tensor(rng.integers(0, 256, (5, 3)).astype(np.uint8)), gg.tensor(rng.integers(0, 3, 5)))
             for _ in range(CALLS)]
    assert _same(make, calls) == ((2, 8), [])


def test_a_default_dtype_switched_and_restored_inside_the_step_replays() -> None:
    def make() -> tuple:
        w = gg.tensor(np.ones(4, np.float32), requires_grad=True)

        def step(x: Any) -> Any:
            w.grad = None
            gg.set_default_dtype(gg.float64)
            out = (x * w).sum() * gg.tensor(1.5)
            gg.set_default_dtype(gg.float32)
            out.backward()
            return out
        return step, [w]
    assert _same(make, _floats((4,))) == ((2, 8), [])


@pytest.mark.parametrize("function", [lambda h: gg.fmax(h, h * 0), lambda h: gg.fmin(h, -h)], ids=["fmax", "fmin"])
def test_fmax_and_fmin_pick_at_every_call_so_the_step_replays_with_nan_after_the_captures(function: Callable) -> None:
    with np.errstate(all="ignore"):
        counts, said = _same(_weighted(function), _floats((3, 4), edit=_edges))
    assert counts == (2, 8) and not said  # the pick was worked out in Python: the step ran eagerly
