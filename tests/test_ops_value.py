"""A row's value function and what it says its forward keeps, against the forward itself.

A compiled replay calls ``op.value`` instead of ``op.forward`` where nothing reads the saved values,
names the saved values itself from ``op.keeps`` (the output, the first input, the inputs), and calls
``op.saved_alone`` where nothing reads the output (a loss the step does not return): each must be
exactly what the forward gives, bit for bit, or the replay would drift from eager.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad.ops import INPUTS, OUT, RULES

VALUED = [op for op in RULES.values() if op.value is not None]
POSITIVE = {"log", "sqrt", "pow", "log10", "log2", "log1p", "rsqrt", "acosh"}
INSIDE_ONE = {"asin", "acos", "atanh"}


def test_the_hot_rows_declare_their_value_and_what_they_keep():
    assert {"add", "sub", "mul", "relu", "tanh", "sigmoid", "exp"} <= {op.name for op in VALUED}
    assert RULES["mul"].keeps == INPUTS and RULES["add"].keeps is None
    assert RULES["add"].passes_up and not RULES["sub"].passes_up and not RULES["mul"].passes_up
    assert RULES["relu"].keeps == OUT and RULES["sigmoid"].keeps == OUT and RULES["tanh"].keeps == OUT


def _inputs(op, rng, shape, dtype):
    draws = [rng.normal(size=shape) for _ in op.roles]
    if op.name in POSITIVE:
        draws = [np.abs(x) + 1.1 for x in draws]
    if op.name in INSIDE_ONE:
        draws = [np.tanh(x) for x in draws]
    return [x.astype(dtype) for x in draws]


@pytest.mark.parametrize("op", VALUED, ids=lambda op: op.name)
@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(), (1,), (3,), (2, 5), (1, 4, 3)]),
       dtype=st.sampled_from([np.float32, np.float64]))
def test_value_is_the_forwards_output_and_keeps_names_what_it_saves(op, seed, shape, dtype):
    args = (*_inputs(op, np.random.default_rng(seed), shape, dtype), *op.defaults)
    with np.errstate(all="ignore"):
        try:
            out, saved = op.forward(*args)
        except Exception as error:  # a row that takes no raw 0-d array (erf, gelu): the value fails alike
            with pytest.raises(type(error)):
                op.value(*args)
            return
        value = op.value(*args)
    assert type(value) is type(out)
    np.testing.assert_array_equal(np.asarray(value), np.asarray(out), strict=True)
    assert np.asarray(value).tobytes() == np.asarray(out).tobytes()  # bits, NaNs and signed zeros included
    if op.keeps == OUT:
        assert saved is out
    elif op.keeps == 0:
        assert saved is args[0]
    elif op.keeps == INPUTS:
        assert type(saved) is tuple and len(saved) == len(op.roles)
        assert all(kept is arg for kept, arg in zip(saved, args))
    else:
        assert op.keeps is None


@pytest.mark.parametrize("op", [op for op in RULES.values() if op.passes_up], ids=lambda op: op.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_row_that_passes_the_upstream_on_returns_it_itself_to_every_input(op, dtype):
    args = (*_inputs(op, np.random.default_rng(0), (2, 3), dtype), *op.defaults)
    out, saved = op.forward(*args)
    up = np.random.default_rng(1).normal(size=out.shape).astype(dtype)
    contributions = op.backward(up, saved)
    assert len(contributions) == len(op.roles) and all(part is up for part in contributions)


SAVING = [op for op in RULES.values() if op.saved_alone is not None]


def test_the_losses_a_step_need_not_return_declare_their_saved_values_alone():
    assert "mse_loss" in {op.name for op in SAVING}


@pytest.mark.parametrize("op", SAVING, ids=lambda op: op.name)
@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), shape=st.sampled_from([(), (1,), (3,), (2, 5), (1, 4, 3)]),
       dtype=st.sampled_from([np.float32, np.float64]), reduction=st.sampled_from(["mean", "sum", "none"]),
       needs=st.tuples(st.booleans(), st.booleans()))
def test_saved_alone_is_what_the_forward_saves(op, seed, shape, dtype, reduction, needs):
    args = (*_inputs(op, np.random.default_rng(seed), shape, dtype), reduction, needs)
    _, saved = op.forward(*args)
    alone = op.saved_alone(*args)
    assert type(alone) is type(saved) and len(alone) == len(saved)
    for mine, theirs in zip(alone, saved):
        if isinstance(theirs, np.ndarray):
            assert type(mine) is np.ndarray and mine.dtype == theirs.dtype and mine.shape == theirs.shape
            assert mine.tobytes() == theirs.tobytes()
        else:
            assert mine == theirs
