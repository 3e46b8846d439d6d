"""gg.nn.utils gradient clipping against torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.nn import utils

shapes = st.lists(st.lists(st.integers(1, 4), min_size=0, max_size=2).map(tuple), min_size=1, max_size=4)


def with_grads(shapes: list[tuple], seed: int, scale: float):
    """glassgrad parameters with random float64 gradients, and the same as PyTorch tensors."""
    rng = np.random.default_rng(seed)
    ours, grads = [], []
    for shape in shapes:
        param = gg.zeros(shape, dtype=gg.float64, requires_grad=True)
        grad = rng.normal(0, scale, shape)
        param.grad = gg.tensor(grad)
        ours.append(param)
        grads.append(grad)
    return ours, grads


def torch_params(torch, grads):
    params = []
    for grad in grads:
        param = torch.zeros(grad.shape, dtype=torch.float64, requires_grad=True)
        param.grad = torch.tensor(grad)
        params.append(param)
    return params


@given(shapes=shapes, seed=st.integers(0, 1000), scale=st.sampled_from([0.01, 1.0, 10.0]),
       max_norm=st.sampled_from([0.0, 0.5, 1.0, 100.0]), norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clip_grad_norm_matches_pytorch(torch, shapes, seed, scale, max_norm, norm_type):
    ours, grads = with_grads(shapes, seed, scale)
    theirs = torch_params(torch, grads)
    total = utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, gg.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), their_total.item(), rtol=1e-12)
    for param, their_param in zip(ours, theirs):
        np.testing.assert_allclose(param.grad.array, their_param.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_keeps_direction_and_reaches_max_norm():
    ours, _ = with_grads([(3, 4), (5,)], seed=0, scale=10.0)
    before = np.concatenate([p.grad.array.ravel() for p in ours])
    total = utils.clip_grad_norm_((p for p in ours), max_norm=1.0)  # a generator works, like model.parameters()
    after = np.concatenate([p.grad.array.ravel() for p in ours])
    assert total.item() == pytest.approx(np.linalg.norm(before))
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before), rtol=1e-10)


def test_clip_grad_norm_skips_missing_grads_and_accepts_one_tensor():
    lone = gg.zeros(2, requires_grad=True)
    lone.grad = gg.tensor([3.0, 4.0])
    assert utils.clip_grad_norm_(lone, 10.0).item() == pytest.approx(5.0)
    assert utils.clip_grad_norm_([gg.zeros(2, requires_grad=True)], 1.0).item() == 0.0


@pytest.mark.parametrize("bad", [math.nan, -1.0, "1"])
def test_clip_grad_norm_rejects_a_bad_max_norm(bad):  # (PyTorch flips every gradient for a negative max_norm)
    ours, _ = with_grads([(2,)], seed=0, scale=1.0)
    with pytest.raises(ValueError, match="max_norm must be a number >= 0 .inf: no clipping., got"):
        utils.clip_grad_norm_(ours, bad)


@pytest.mark.torch
@pytest.mark.parametrize("max_norm, norm_type", [(math.inf, 2.0), (1.0, 0.0), (0.3, -math.inf), (0.2, -2.0),
                                                 (math.inf, math.inf), (1.0, 0.5)])
def test_an_infinite_max_norm_and_any_norm_type_are_pytorchs(torch, max_norm, norm_type):
    """clip_grad_norm_(params, inf) measures the norm and clips nothing (the idiom that reads it; it was refused), and
    norm types 0 (how many are not 0), −∞ (the smallest |g|) and negative ones are PyTorch's vector norms."""
    grads = [np.array([3.0, -4.0, 0.5]), np.array([[0.0, 2.0], [1.0, -0.25]])]
    results = []
    for library in (gg, torch):
        params = [library.zeros(*g.shape, dtype=library.float64, requires_grad=True) for g in grads]
        for param, grad in zip(params, grads):
            param.grad = library.tensor(grad)
        total = library.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        alone = library.nn.utils.get_total_norm([library.tensor(g) for g in grads], norm_type)
        results.append((total.item(), alone.item(), [p.grad.numpy() for p in params]))
    (total, alone, ours), (their_total, their_alone, theirs) = results
    assert total == pytest.approx(their_total, rel=1e-12) and alone == pytest.approx(their_alone, rel=1e-12)
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


@pytest.mark.torch
@given(shapes=shapes, seed=st.integers(0, 1000), bound=st.sampled_from([0.0, 0.1, 1.0, 5.0, math.inf]),
       dtype=st.sampled_from(["float32", "float64", "int64"]))
def test_a_bound_given_as_a_one_number_tensor_is_taken_as_pytorch_takes_it(torch, shapes, seed, bound, dtype):
    """max_norm and clip_value as a tensor of one number (``torch.tensor(1.0)``, read from a config or a schedule):
    PyTorch clips with it; glassgrad refused it (``max_norm must be a number >= 0``)."""
    if dtype == "int64" and math.isinf(bound):
        return
    ours, grads = with_grads(shapes, seed, 3.0)
    theirs = torch_params(torch, grads)
    value = [bound] if dtype != "int64" else [int(bound)]
    total = utils.clip_grad_norm_(ours, gg.tensor(value, dtype=getattr(gg, dtype)))
    their_total = torch.nn.utils.clip_grad_norm_(theirs, torch.tensor(value, dtype=getattr(torch, dtype)))
    np.testing.assert_allclose(total.item(), their_total.item(), rtol=1e-12)
    utils.clip_grad_value_(ours, gg.tensor(value[0], dtype=getattr(gg, dtype)))
    torch.nn.utils.clip_grad_value_(theirs, torch.tensor(value[0], dtype=getattr(torch, dtype)))
    for param, their_param in zip(ours, theirs):
        np.testing.assert_allclose(param.grad.array, their_param.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_a_bound_tensor_of_several_numbers_or_of_bools_is_refused():
    ours, _ = with_grads([(2,)], seed=0, scale=1.0)
    for bad in (gg.tensor([1.0, 2.0]), gg.tensor(True)):
        with pytest.raises(ValueError, match="max_norm must be a number >= 0 .inf: no clipping., got"):
            utils.clip_grad_norm_(ours, bad)


def test_non_finite_gradients_are_left_visible_or_raise():
    param = gg.zeros(3, requires_grad=True)
    param.grad = gg.tensor([1.0, math.inf, 2.0])
    total = utils.clip_grad_norm_([param], 1.0)
    assert math.isinf(total.item())
    np.testing.assert_array_equal(param.grad.array, [1.0, math.inf, 2.0])  # not turned into NaN
    with pytest.raises(RuntimeError, match="total norm .* is inf"):
        utils.clip_grad_norm_([param], 1.0, error_if_nonfinite=True)


@given(shapes=shapes, seed=st.integers(0, 1000), clip_value=st.sampled_from([0.0, 0.1, 1.0, 5.0]))
def test_clip_grad_value_matches_pytorch(torch, shapes, seed, clip_value):
    ours, grads = with_grads(shapes, seed, 2.0)
    theirs = torch_params(torch, grads)
    assert utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for param, their_param in zip(ours, theirs):
        np.testing.assert_array_equal(param.grad.array, their_param.grad.numpy())


def test_clip_grad_value_rejects_bad_values_and_non_tensors():
    with pytest.raises(ValueError, match="clip_value must be a number >= 0"):
        utils.clip_grad_value_([gg.zeros(1)], math.nan)
    param = gg.zeros(2, requires_grad=True)
    param.grad = gg.tensor([-5.0, 7.0])
    utils.clip_grad_value_([param], math.inf)  # PyTorch's no-op
    assert param.grad.tolist() == [-5.0, 7.0]
    with pytest.raises(TypeError, match="item 1 is a list"):
        utils.clip_grad_value_([gg.zeros(1), [1.0]], 1.0)


def test_clipping_a_real_model_only_touches_its_own_gradients():
    model = gg.nn.mlp([3, 4, 2], seed=0)
    x = gg.randn(5, 3, seed=1) * 100
    model(x).sum().backward()
    norm = utils.clip_grad_norm_(model.parameters(), 0.1)
    assert norm.item() > 0.1
    clipped = math.sqrt(sum(float((p.grad.array.astype(np.float64) ** 2).sum()) for p in model.parameters()))
    assert clipped == pytest.approx(0.1, rel=1e-4)


@given(dtypes=st.lists(st.sampled_from(["float16", "float32", "float64"]), min_size=1, max_size=4),
       seed=st.integers(0, 1000), norm_type=st.sampled_from([2.0, 1.0, math.inf]))
def test_the_total_norm_of_gradients_of_mixed_dtypes_is_pytorchs(torch, dtypes, seed, norm_type):
    """float32 and float64 gradients give a float64 total norm (glassgrad gave the first gradient's dtype, float32),
    as PyTorch's norm of their stacked norms, from clip_grad_norm_ and get_total_norm; each gradient keeps its dtype
    as it is scaled."""
    rng = np.random.default_rng(seed)
    grads = [rng.normal(0, 3.0, 3) for _ in dtypes]
    results = {}
    for library in (gg, torch):
        params = [library.zeros(3, dtype=getattr(library, dtype), requires_grad=True) for dtype in dtypes]
        for param, grad in zip(params, grads):
            param.grad = library.tensor(grad).to(param.dtype)
        alone = library.nn.utils.get_total_norm([p.grad for p in params], norm_type)
        total = library.nn.utils.clip_grad_norm_(params, 0.5, norm_type)
        results[library] = (alone, total, [p.grad for p in params])
    (alone, total, clipped), (their_alone, their_total, their_clipped) = results[gg], results[torch]
    for ours, theirs in ((alone, their_alone), (total, their_total)):
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        assert ours.item() == pytest.approx(theirs.item(), rel=2e-3 if "float16" in dtypes else 1e-5)
    for ours, theirs in zip(clipped, their_clipped):
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-3 if "float16" in dtypes else 1e-5)


@given(sizes=st.lists(st.integers(0, 3), min_size=1, max_size=4), seed=st.integers(0, 1000),
       norm_type=st.sampled_from([2.0, 1.0, 0.5, -1.0, -2.0, math.inf, -math.inf]))
def test_the_total_norm_is_that_of_every_entry_together_when_a_gradient_is_empty(sizes, seed, norm_type):
    """The total norm is the norm of all entries of all gradients, as one vector (NumPy's norm of their
    concatenation, the oracle): an empty gradient adds nothing (its norm, 0, made the −∞ and −1 totals 0). (Order
    0 is left out: as PyTorch's, it counts the gradients with an entry that is not 0, the 0-norm of their 0-norms.)"""
    rng = np.random.default_rng(seed)
    grads = [rng.uniform(0.5, 3.0, size) * rng.choice([-1, 1], size) for size in sizes]
    params = []
    for grad in grads:
        param = gg.zeros(len(grad), dtype=gg.float64, requires_grad=True)
        param.grad = gg.tensor(grad)
        params.append(param)
    entries = np.abs(np.concatenate(grads))
    if entries.size == 0:
        expected = 0.0
    elif abs(norm_type) == math.inf:
        expected = float(entries.max() if norm_type > 0 else entries.min())
    else:
        expected = float(np.sum(entries ** norm_type) ** (1 / norm_type))
    assert utils.get_total_norm([p.grad for p in params], norm_type).item() == pytest.approx(expected, rel=1e-12)
    assert utils.clip_grad_norm_(params, math.inf, norm_type).item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.torch
@given(dtypes=st.lists(st.sampled_from(["float16", "float32", "float64"]), max_size=3),
       default=st.sampled_from(["float32", "float64"]), max_norm=st.sampled_from([0.5, 100.0]))
def test_the_total_norm_has_pytorchs_dtype_for_gradients_of_mixed_dtypes_or_none(torch, dtypes, default, max_norm):
    """The total norm took the first gradient's dtype (float16 beside float32 rounded it to float16's 3 digits, and
    float32 beside float64 to float32's), and float32 with no gradient at all; PyTorch's is the dtype its per-tensor
    norms promote to, or the default dtype."""
    results = {}
    before = torch.get_default_dtype(), gg.get_default_dtype()
    try:
        for library in (torch, gg):
            library.set_default_dtype(getattr(library, default))
            params = [library.tensor([3.0, -4.0, 0.5], dtype=getattr(library, name), requires_grad=True)
                      for name in dtypes] + [library.zeros(2, requires_grad=True)]  # the last has no gradient
            for param in params[:-1]:
                param.grad = param.detach() * 2
            alone = library.nn.utils.get_total_norm([param.grad for param in params[:-1]])
            total = library.nn.utils.clip_grad_norm_(params, max_norm)
            results[library] = [(str(norm.dtype).removeprefix("torch."), norm.item()) for norm in (alone, total)]
    finally:
        torch.set_default_dtype(before[0])
        gg.set_default_dtype(before[1])
    for (our_dtype, ours), (their_dtype, theirs) in zip(results[gg], results[torch]):
        assert our_dtype == their_dtype
        assert ours == pytest.approx(theirs, rel=2e-3 if "float16" in dtypes else 1e-6)
