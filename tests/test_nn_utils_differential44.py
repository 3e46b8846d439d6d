"""gg.nn.utils training utilities against PyTorch 2.13 (round 44): clip_grad_norm_ / clip_grad_value_ /
get_total_norm / clip_grads_with_norm_ (values, dtypes, in-place-ness, the returned norm), parameters_to_vector /
vector_to_parameters, and nn.utils.rnn's padding and packing (values and the exception classes of misuse)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _raised(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error)
    return None


# ---- nn.utils.rnn: PyTorch's exception classes for misuse --------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.utils.rnn.pad_sequence([]),
    lambda lib: lib.nn.utils.rnn.pack_sequence([]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(2, 3), lib.zeros(2, 4)]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(2)], padding_side="top"),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.tensor(1.0)]),
    lambda lib: lib.nn.utils.rnn.pad_sequence([lib.zeros(2), 3]),
], ids=["empty", "pack-empty", "trailing-sizes", "padding-side", "0-d", "non-tensor"])
def test_pad_sequence_misuse_raises_pytorchs_class(torch, call):
    theirs, ours = _raised(lambda: call(torch)), _raised(lambda: call(gg))
    assert theirs is not None and ours is theirs


# ---- vector_to_parameters ------------------------------------------------------------------------------------------

def test_vector_to_parameters_reads_the_leading_entries_of_a_longer_vector_as_pytorch(torch):
    found = []
    for lib in (gg, torch):
        params = [lib.nn.Parameter(lib.zeros(shape, dtype=lib.float64)) for shape in [(2, 3), (4,)]]
        lib.nn.utils.vector_to_parameters(lib.arange(12.0, dtype=lib.float64), params)
        found.append([p.detach().numpy().copy() for p in params])
    for ours, theirs in zip(*found):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("vector", [np.arange(9.0), np.arange(10.0).reshape(2, 5)], ids=["short", "2-D"])
def test_vector_to_parameters_refuses_a_short_or_non_flat_vector_with_pytorchs_class(torch, vector):
    classes = {}
    for lib in (gg, torch):
        params = [lib.nn.Parameter(lib.zeros(shape, dtype=lib.float64)) for shape in [(2, 3), (4,)]]
        classes[lib] = _raised(lambda lib=lib, params=params: lib.nn.utils.vector_to_parameters(lib.tensor(vector),
                                                                                               params))
    assert classes[torch] is RuntimeError and classes[gg] is RuntimeError
    params = [gg.nn.Parameter(gg.zeros(2, 3))]
    with pytest.raises(RuntimeError, match=r"^vector_to_parameters: expected a 1-D tensor of at least 10 entries") as e:
        gg.nn.utils.vector_to_parameters(gg.tensor(vector), params + [gg.nn.Parameter(gg.zeros(4))])
    assert "\n" not in str(e.value)


# ---- gradient clipping: the fuzzer's core ---------------------------------------------------------------------------

def _params(lib, grads, dtype, missing):
    """Zero parameters of ``dtype`` whose .grad is each of ``grads`` (None where ``missing``)."""
    params = []
    for grad, absent in zip(grads, missing):
        param = lib.zeros(grad.shape, dtype=getattr(lib, dtype), requires_grad=True)
        if not absent:
            param.grad = lib.tensor(grad.astype(dtype))
        params.append(param)
    return params


@given(seed=st.integers(0, 10_000), count=st.integers(1, 3), dtype=st.sampled_from(["float32", "float64"]),
       max_norm=st.sampled_from([0.0, 1e-12, 0.5, 1.0, 1e12]),
       norm_type=st.sampled_from([1.0, 2.0, 3.5, 0.5, math.inf]),
       foreach=st.sampled_from([None, True, False]), form=st.sampled_from(["list", "generator", "tensor"]),
       scale=st.sampled_from([1e-3, 1.0, 100.0]))
def test_clip_grad_norm_matches_pytorch_value_dtype_and_in_place(torch, seed, count, dtype, max_norm, norm_type,
                                                                 foreach, form, scale):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(0, scale, tuple(rng.integers(1, 4, rng.integers(0, 3)))) for _ in range(count)]
    missing = [bool(rng.random() < 0.2) for _ in grads]
    found = {}
    for lib in (gg, torch):
        params = _params(lib, grads, dtype, missing)
        before = [p.grad for p in params]
        given_as = {"list": params, "generator": (p for p in params), "tensor": params[0]}[form]
        total = lib.nn.utils.clip_grad_norm_(given_as, max_norm, norm_type, foreach=foreach)
        used = params[:1] if form == "tensor" else params
        assert all(p.grad is g for p, g in zip(params, before))  # scaled in place, the same objects
        found[lib] = (total, [None if p.grad is None else p.grad.numpy().copy() for p in used])
    (ours, our_grads), (theirs, their_grads) = found[gg], found[torch]
    rtol = 1e-5 if dtype == "float32" else 1e-12
    assert ours.shape == () and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=rtol)
    for mine, their in zip(our_grads, their_grads):
        assert (mine is None) == (their is None)
        if mine is not None:
            assert mine.dtype == their.dtype
            np.testing.assert_allclose(mine, their, rtol=rtol * 10, atol=0)


@pytest.mark.parametrize("values", [[1e-3, 2e-3], [100.0, 3.0], [0.1, 0.7, 0.2], [3.0, 4.0]])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_the_clip_factor_is_pytorchs_bit_for_bit(torch, values, dtype):
    """g · min(max_norm / (‖g‖ + 1e-6), 1): at max_norm = ‖g‖ the factor is just below 1 and still applied."""
    results = []
    for lib in (gg, torch):
        param = lib.zeros(len(values), dtype=getattr(lib, dtype), requires_grad=True)
        param.grad = lib.tensor(values, dtype=getattr(lib, dtype))
        total = lib.nn.utils.clip_grad_norm_(param, float(np.linalg.norm(values)) * 0.9)
        results.append((total.item(), param.grad.numpy().copy()))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf])
def test_a_non_finite_gradient_raises_pytorchs_class_and_reports_the_same_total(torch, bad, norm_type):
    totals = []
    for lib in (gg, torch):
        param = lib.zeros(3, requires_grad=True)
        param.grad = lib.tensor([1.0, bad, 2.0])
        with pytest.raises(RuntimeError):
            lib.nn.utils.clip_grad_norm_([param], 1.0, norm_type, error_if_nonfinite=True)
        totals.append(lib.nn.utils.get_total_norm([param.grad], norm_type).item())
    np.testing.assert_array_equal(*totals)


@pytest.mark.parametrize("norm_type", [1, 2, 3.5, math.inf, -math.inf, 0, -1, "inf"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_get_total_norm_and_clip_grads_with_norm_match_pytorch(torch, norm_type, dtype):
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=s).astype(dtype) for s in [(2, 3), (4,), ()]]
    found = []
    for lib in (gg, torch):
        total = lib.nn.utils.get_total_norm([lib.tensor(a) for a in arrays], norm_type)
        param = lib.zeros(3, dtype=getattr(lib, dtype), requires_grad=True)
        param.grad = lib.tensor([1.0, -2.0, 2.0], dtype=getattr(lib, dtype))
        grad = param.grad
        assert lib.nn.utils.clip_grads_with_norm_([param], 0.5, total) is None and param.grad is grad
        found.append((total, param.grad.numpy().copy()))
    (ours, our_grad), (theirs, their_grad) = found
    assert ours.shape == () and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-6 if dtype == "float32" else 1e-12)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-6 if dtype == "float32" else 1e-12)


def test_clip_grad_value_clamps_in_place_keeps_nan_and_returns_none(torch):
    found = []
    for lib in (gg, torch):
        param = lib.zeros(4, dtype=lib.float16, requires_grad=True)
        param.grad = lib.tensor([math.nan, 4.0, -math.inf, 0.3], dtype=lib.float16)
        grad = param.grad
        assert lib.nn.utils.clip_grad_value_(param, 0.1) is None and param.grad is grad
        found.append(param.grad.numpy().copy())
    np.testing.assert_array_equal(*found)


# ---- nn.utils.rnn: the fuzzer's core --------------------------------------------------------------------------------

@given(seed=st.integers(0, 10_000), batch_first=st.booleans(), enforce_sorted=st.booleans(),
       lengths_as=st.sampled_from(["list", "tensor"]), extra=st.integers(0, 2), side=st.sampled_from(["right", "left"]),
       value=st.sampled_from([0.0, -1.0, 2.5]))
def test_pad_pack_and_back_match_pytorch(torch, seed, batch_first, enforce_sorted, lengths_as, extra, side, value):
    rng = np.random.default_rng(seed)
    lengths = sorted(rng.integers(1, 6, rng.integers(1, 5)).tolist(), reverse=enforce_sorted)
    tail = tuple(rng.integers(1, 3, rng.integers(0, 2)).tolist())
    sequences = [rng.normal(size=(n, *tail)) for n in lengths]
    found = []
    for lib in (gg, torch):
        rnn = lib.nn.utils.rnn
        padded_side = rnn.pad_sequence([lib.tensor(s) for s in sequences], batch_first, value, side)
        padded = rnn.pad_sequence([lib.tensor(s, requires_grad=True) for s in sequences], batch_first)
        given_lengths = lengths if lengths_as == "list" else lib.tensor(lengths)
        packed = rnn.pack_padded_sequence(padded, given_lengths, batch_first, enforce_sorted)
        back, back_lengths = rnn.pad_packed_sequence(packed, batch_first, value, max(lengths) + extra)
        unpacked = rnn.unpack_sequence(rnn.pack_sequence([lib.tensor(s) for s in sequences], enforce_sorted))
        indices = [packed.sorted_indices, packed.unsorted_indices]
        found.append([padded_side, packed.data, packed.batch_sizes, back, back_lengths, *unpacked,
                      *[i for i in indices if i is not None]])
    assert len(found[0]) == len(found[1])
    for ours, theirs in zip(*found):
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# ---- functional_call -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("given_tensors", [5, [1], ({}, 1), "ab"], ids=["int", "list-of-int", "tuple-dict-int", "str"])
def test_functional_call_refuses_what_is_not_a_dict_with_pytorchs_class(torch, given_tensors):
    found = {}
    for lib in (gg, torch):
        layer = lib.nn.Linear(2, 2)
        found[lib] = _raised(lambda lib=lib, layer=layer: lib.func.functional_call(layer, given_tensors,
                                                                                   (lib.zeros(2),)))
    assert found[torch] is ValueError and found[gg] is ValueError


def test_unpad_sequence_refuses_lengths_that_are_not_one_number_per_sequence_in_one_line(torch):
    """PyTorch refuses 2-D lengths with RuntimeError; glassgrad raised a raw TypeError from int()."""
    with pytest.raises(RuntimeError):
        torch.nn.utils.rnn.unpad_sequence(torch.zeros(3, 2), torch.tensor([[3, 2]]))
    with pytest.raises(RuntimeError, match=r"^unpad_sequence: lengths must give one length in \[0, 3\] per sequence"
                       ) as raised:
        gg.nn.utils.rnn.unpad_sequence(gg.zeros(3, 2), gg.tensor([[3, 2]]))
    assert "\n" not in str(raised.value)
    unpadded = gg.nn.utils.rnn.unpad_sequence(gg.zeros(3, 2, 4), np.array([3, 0]))
    assert [tuple(t.shape) for t in unpadded] == [(3, 4), (0, 4)]


@pytest.mark.parametrize("total", [5, 7.0, 0.25], ids=["int", "float", "below-max"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "float16", "float32", "float64"])
def test_clip_grads_with_norm_takes_a_total_norm_tensor_of_any_dtype_as_pytorch(torch, total, dtype):
    """An integer total norm promotes to the default dtype (+ 1e-6), as PyTorch's; it must not truncate the factor."""
    found = []
    for lib in (gg, torch):
        param = lib.zeros(2, requires_grad=True)
        param.grad = lib.tensor([3.0, 4.0])
        lib.nn.utils.clip_grads_with_norm_([param], 1.0, lib.tensor(total).to(getattr(lib, dtype)))
        found.append(param.grad.numpy().copy())
    np.testing.assert_array_equal(*found)
