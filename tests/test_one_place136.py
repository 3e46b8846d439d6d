"""Round 136: one rule, one place.

* "a bool or integer array is shown as it is, any other as float64" was written three times (the trace's matrices,
  the playground's texts, the JSON read back): now :func:`glassgrad.trace.numbers.shown_array`, read by all three.
* "ln of Σ rounded to float16" was written in log_softmax and in cross_entropy: now
  :func:`glassgrad.summation.log_of_sum`; both still give PyTorch 2.13's numbers, float16 bit for bit.
* ``Tensor.storage()`` warned with PyTorch's own deprecation text, nearly word for word: now one line of glassgrad's
  (what is deprecated, what to call instead), still a UserWarning starting "TypedStorage is deprecated", once.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.playground.display import texts
from glassgrad.trace import numbers
from glassgrad.trace.numbers import as_matrix, entry_writer
from glassgrad.trace.render_json import values_array

DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(DTYPES), st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(0, 2**32 - 1))
def test_the_displays_and_the_json_read_back_keep_one_rule_for_dtypes(dtype, shape, seed):
    """Bools and integers keep their dtype (every digit), anything else is float64: the same in the trace's
    matrices, the playground's texts and the JSON read back, by the one helper."""
    values = (np.random.default_rng(seed).standard_normal(shape) * 1000).astype(dtype)
    kept = np.dtype(dtype).kind in "biu"
    expected = values if kept else values.astype(np.float64)
    shown = numbers.shown_array(values)
    assert shown.dtype == expected.dtype and np.array_equal(shown, expected)
    assert as_matrix(values).dtype == expected.dtype
    assert np.array_equal(as_matrix(values).ravel(), expected.ravel())
    read_back = values_array(values.tolist())  # JSON's integers come back as int64, its bools as bool
    assert read_back.dtype == (np.bool_ if dtype is np.bool_ else np.int64 if kept else np.float64)
    assert np.array_equal(read_back, expected)
    write = entry_writer(expected.dtype)
    assert np.array(texts(values), dtype=object).ravel().tolist() == [write(v) for v in expected.ravel()]


def test_none_in_nested_lists_is_nan_and_an_int64_keeps_every_digit():
    assert np.isnan(numbers.shown_array([[0.5, None]])[0, 1])
    assert texts([[0.5, None]]) == [["+0.5000", "nan"]]
    assert int(numbers.shown_array([2**53 + 1])[0]) == 2**53 + 1
    assert texts([2**53 + 1]) == ["9007199254740993"]


SHAPES = st.tuples(st.integers(1, 9), st.integers(1, 40))


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([0.1, 1.0, 8.0]))
def test_log_softmax_over_n_c_matches_pytorch(torch, dtype, shape, seed, scale):
    """float16 bit for bit (Σ and ln Σ rounded to float16 over the last dim, as PyTorch's kernel); the others to
    PyTorch's own rounding. dim 0 of float16 keeps Σ in float32, as PyTorch's other kernel."""
    data = (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)
    for dim in (1, 0, -1):
        ours = F.log_softmax(gg.tensor(data), dim=dim).numpy()
        theirs = torch.log_softmax(torch.from_numpy(data), dim=dim).numpy()
        assert ours.dtype == theirs.dtype
        if dtype == "float16":
            np.testing.assert_array_equal(ours, theirs)
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-6
                                       if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, seed=st.integers(0, 2**32 - 1), probabilities=st.booleans(),
       reduction=st.sampled_from(["none", "sum", "mean"]))
def test_cross_entropy_over_n_c_matches_pytorch(torch, dtype, shape, seed, probabilities, reduction):
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal(shape) * 3).astype(dtype)
    if probabilities:
        target = rng.random(shape).astype(dtype)
        target /= target.sum(axis=1, keepdims=True)
    else:
        target = rng.integers(0, shape[1], shape[0])
    ours = F.cross_entropy(gg.tensor(logits), gg.tensor(target), reduction=reduction).numpy()
    theirs = torch.nn.functional.cross_entropy(torch.from_numpy(logits), torch.from_numpy(target),
                                               reduction=reduction).numpy()
    assert ours.dtype == theirs.dtype
    if dtype == "float16" and not probabilities and reduction == "none":
        np.testing.assert_array_equal(ours, theirs)  # the picked log-probabilities: bit for bit
    elif dtype == "float16":
        np.testing.assert_allclose(ours.astype(np.float64), theirs.astype(np.float64), rtol=2e-3, atol=2e-3)
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5
                                   if dtype == "float32" else 1e-12)


def test_storage_warns_once_in_glassgrads_own_words():
    """One line, starting "TypedStorage is deprecated" (what filters match), naming what to call instead, not
    PyTorch's sentence; a UserWarning, shown once in a (fresh) process."""
    script = textwrap.dedent("""
        import json, warnings, glassgrad
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(3):
                glassgrad.ones(2).storage()
        print(json.dumps([(w.category.__name__, str(w.message)) for w in caught]))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    caught = json.loads(done.stdout)
    assert len(caught) == 1, caught
    category, message = caught[0]
    assert category == "UserWarning"
    assert message.startswith("TypedStorage is deprecated") and "\n" not in message
    assert "untyped_storage()" in message
    assert "It will be removed in the future and UntypedStorage will be the only storage class" not in message
    assert "This should only matter to you if you are using storages directly" not in message
