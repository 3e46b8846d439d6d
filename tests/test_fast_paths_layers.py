"""Layers whose NumPy form was rewritten for speed keep PyTorch's numbers and gradients.

Oracle: PyTorch 2.13 in float64 on the same inputs (within rounding), and the primitives the fused rows replaced
(bit for bit where the fused forward computes the same formula in the same order).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

# --- layer_norm: one fused row -------------------------------------------------------------------

LAYER_NORM_CASES = st.tuples(
    st.lists(st.integers(1, 5), min_size=0, max_size=2),  # leading dims
    st.lists(st.integers(1, 7), min_size=1, max_size=2),  # normalized_shape
    st.booleans(), st.booleans(), st.integers(0, 2**31 - 1),
)


def _layer_norm_inputs(case, dtype):
    leading, normalized, has_weight, has_bias, seed = case
    rng = np.random.default_rng(seed)
    shape = (*leading, *normalized)
    x = (rng.normal(size=shape) * rng.uniform(0.1, 10) + rng.normal() * 3).astype(dtype)
    weight = rng.normal(size=normalized).astype(dtype) if has_weight else None
    bias = rng.normal(size=normalized).astype(dtype) if has_bias else None
    return x, tuple(normalized), weight, bias, rng.normal(size=shape).astype(dtype)


def _layer_norm_both(torch, x, normalized, weight, bias, up, dtype=None):
    """Our output and gradients on the inputs as they are, PyTorch's in ``dtype`` (default: their own)."""
    ours = [gg.tensor(a, requires_grad=True) if a is not None else None for a in (x, weight, bias)]
    out = F.layer_norm(ours[0], normalized, ours[1], ours[2])
    out.backward(gg.tensor(up))
    theirs = [torch.tensor(a if dtype is None else a.astype(dtype), requires_grad=True) if a is not None else None
              for a in (x, weight, bias)]
    expected = torch.nn.functional.layer_norm(theirs[0], normalized, theirs[1], theirs[2])
    expected.backward(torch.tensor(up if dtype is None else up.astype(dtype)))
    pairs = [(out.array, expected.detach().numpy())]
    pairs += [(a.grad.array, b.grad.numpy()) for a, b in zip(ours, theirs) if a is not None]
    return pairs


@pytest.mark.torch
@given(LAYER_NORM_CASES)
def test_layer_norm_and_its_gradients_are_pytorchs_in_float64(torch, case):
    x, normalized, weight, bias, up = _layer_norm_inputs(case, np.float64)
    for ours, theirs in _layer_norm_both(torch, x, normalized, weight, bias, up):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9 * (1 + np.abs(theirs).max()))


@pytest.mark.torch
@pytest.mark.parametrize("dtype, tolerance", [(np.float32, 2e-4), (np.float16, 2e-3)])
@given(case=LAYER_NORM_CASES)
def test_a_narrow_layer_norm_is_pytorchs_float64_within_its_rounding(torch, dtype, tolerance, case):
    """float16 is computed in float32 and rounded once, as PyTorch's."""
    x, normalized, weight, bias, up = _layer_norm_inputs(case, dtype)
    for ours, theirs in _layer_norm_both(torch, x, normalized, weight, bias, up, np.float64):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours.astype(np.float64), theirs, rtol=tolerance,
                                   atol=tolerance * (1 + np.abs(theirs).max()))


@pytest.mark.torch
def test_float16_layer_norm_of_rows_far_from_zero_is_pytorchs(torch):
    """Composed from float16 primitives, each step rounded to float16, rows around 100 came out 1.4% (of the
    largest value) off PyTorch's; computed in float32 and rounded once, 0.03%."""
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(32, 64)) + 100).astype(np.float16)
    weight, bias, up = (rng.normal(size=shape).astype(np.float16) for shape in ((64,), (64,), (32, 64)))
    for ours, theirs in _layer_norm_both(torch, x, (64,), weight, bias, up, np.float64):
        np.testing.assert_allclose(ours.astype(np.float64), theirs, rtol=1e-3, atol=1e-3 * (1 + np.abs(theirs).max()))


@given(LAYER_NORM_CASES, st.sampled_from([np.float32, np.float64]))
def test_the_fused_forward_is_the_composed_forward_bit_for_bit(case, dtype):
    x, normalized, weight, bias, _ = _layer_norm_inputs(case, dtype)
    axes = tuple(range(x.ndim - len(normalized), x.ndim))
    t = gg.tensor(x)
    composed = (t - t.mean(axes, keepdim=True)) / (t.var(axes, keepdim=True, correction=0) + 1e-5).sqrt()
    if weight is not None:
        composed = composed * gg.tensor(weight)
    if bias is not None:
        composed = composed + gg.tensor(bias)
    fused = F.layer_norm(t, normalized, *(None if a is None else gg.tensor(a) for a in (weight, bias)))
    np.testing.assert_array_equal(fused.array, composed.array)


@pytest.mark.torch
def test_layer_norm_second_derivatives_are_pytorchs(torch):
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=5)]
    results = []
    for library, make in ((gg, lambda a: gg.tensor(a, requires_grad=True)),
                          (torch, lambda a: torch.tensor(a, requires_grad=True))):
        x, weight, bias = map(make, arrays)
        out = library.nn.functional.layer_norm(x, (5,), weight, bias)
        grads = library.autograd.grad((out**3).sum(), (x, weight), create_graph=True)
        penalty = sum((g**2).sum() for g in grads)
        penalty.backward()
        results.append([x.grad, weight.grad, bias.grad])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda F, t: F.layer_norm(t.ones(2, 3), []),  # used to give zeros: nothing to normalise over
    lambda F, t: F.layer_norm(t.ones(2, 3), (3,), t.ones(1)),  # used to broadcast the weight
    lambda F, t: F.layer_norm(t.ones(2, 3), (3,), t.ones(4)),
    lambda F, t: F.layer_norm(t.ones(2, 3), (3,), None, t.ones(2)),
    lambda F, t: F.layer_norm(t.ones(2, 3), (4,)),
])
def test_a_layer_norm_pytorch_refuses_is_refused_in_one_line(torch, call):
    with pytest.raises(RuntimeError) as theirs:
        call(torch.nn.functional, torch)
    with pytest.raises(RuntimeError) as ours:
        call(F, gg)
    message = str(ours.value)
    assert "\n" not in message and str(theirs.value).split(",")[0].split(";")[0] in message


def test_layer_norm_of_integers_is_refused_in_one_line():
    with pytest.raises(RuntimeError, match="layer_norm: needs a floating tensor, got int64; use x.float()"):
        F.layer_norm(gg.ones(2, 3, dtype=gg.int64), (3,))


def test_layer_norm_refuses_a_backward_through_an_input_changed_in_place():
    x = gg.randn(2, 4, seed=0, requires_grad=True)
    h = x * 1.0
    out = F.layer_norm(h, (4,))
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.torch
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-9), (np.float32, 2e-4)])
@given(groups=st.integers(1, 3), per_group=st.integers(1, 3), batch=st.integers(1, 3),
       positions=st.lists(st.integers(1, 4), max_size=2), seed=st.integers(0, 2**31 - 1))
def test_group_norm_through_the_fused_row_is_pytorchs(torch, dtype, tolerance, groups, per_group, batch, positions,
                                                       seed):
    rng = np.random.default_rng(seed)
    shape = (batch, groups * per_group, *positions)
    assume(batch * per_group * np.prod(positions, dtype=int) > 1)  # else refused (below)
    arrays = [rng.normal(size=shape) * 3 + 1, rng.normal(size=shape[1]), rng.normal(size=shape[1]),
              rng.normal(size=shape)]
    results = []
    for library in (gg, torch):
        x, weight, bias = (library.tensor(a.astype(dtype), requires_grad=True) for a in arrays[:3])
        out = library.nn.functional.group_norm(x, groups, weight, bias)
        out.backward(library.tensor(arrays[3].astype(dtype)))
        results.append([out.detach().numpy(), x.grad.numpy(), weight.grad.numpy(), bias.grad.numpy()])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance * (1 + np.abs(theirs).max()))


@pytest.mark.torch
def test_group_norm_of_one_value_per_group_is_refused_as_in_pytorch(torch):
    """glassgrad used to return β alone (x − μ is 0 in a group of one value)."""
    for library in (torch, gg):
        with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                             r"\[1, 3\]"):
            library.nn.functional.group_norm(library.ones(1, 3), 3)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(0, 4), (0, 4, 3), (0, 4, 2, 2)])
def test_group_norm_of_an_empty_batch_is_empty_as_in_pytorch(torch, shape):
    """N = 0 (the last batch of a filtered dataset): glassgrad's reshape to (0, groups, -1) was refused."""
    results = []
    for library in (gg, torch):
        x, weight = library.ones(*shape, requires_grad=True), library.ones(4, requires_grad=True)
        out = library.nn.functional.group_norm(x, 2, weight, weight)
        out.sum().backward()
        results.append((tuple(out.shape), tuple(x.grad.shape), weight.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.torch
@pytest.mark.parametrize("layer, shape", [("BatchNorm1d", (0, 3)), ("BatchNorm1d", (0, 3, 5)),
                                          ("BatchNorm2d", (0, 3, 2, 2))])
def test_batch_norm_of_an_empty_batch_in_training_is_empty_as_in_pytorch(torch, layer, shape):
    """N = 0 in training: refused as "more than 1 value per channel"; PyTorch gives an empty output, counts the
    batch and leaves the running statistics."""
    results = []
    for library in (gg, torch):
        norm = getattr(library.nn, layer)(3)
        x = library.ones(*shape, requires_grad=True)
        out = norm(x)
        out.sum().backward()
        results.append((tuple(out.shape), tuple(x.grad.shape), norm.weight.grad.tolist(), norm.bias.grad.tolist(),
                        norm.running_mean.tolist(), norm.running_var.tolist(), int(norm.num_batches_tracked)))
    assert results[0] == results[1]


@pytest.mark.torch
def test_the_causal_mask_of_no_positions_is_empty_as_in_pytorch(torch):
    assert (tuple(gg.nn.Transformer.generate_square_subsequent_mask(0).shape)
            == tuple(torch.nn.Transformer.generate_square_subsequent_mask(0).shape) == (0, 0))


# --- nll_loss: what the labels decide is one NumPy call, the graph 5 nodes --------------------------------------

NLL_CASES = st.tuples(st.integers(1, 9), st.integers(1, 6), st.sampled_from([None, 1, 2, -100]), st.booleans(),
                      st.sampled_from(["mean", "sum", "none"]), st.integers(0, 2**31 - 1))


@pytest.mark.torch
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-12), (np.float32, 1e-6)])
@given(case=NLL_CASES)
def test_nll_loss_and_its_gradient_are_pytorchs(torch, dtype, tolerance, case):
    rows, classes, ignore_index, weighted, reduction, seed = case
    rng = np.random.default_rng(seed)
    scores = rng.normal(size=(rows, classes)).astype(dtype)
    labels = rng.integers(0, classes, rows)
    if ignore_index is not None:
        labels[rng.random(rows) < 0.3] = ignore_index
    labels[0] = 0  # one row that counts (all ignored: PyTorch's mean is NaN, glassgrad's 0)
    weight = rng.uniform(0.1, 2, classes).astype(dtype) if weighted else None
    options = {"reduction": reduction, **({} if ignore_index is None else {"ignore_index": ignore_index})}
    upstream = rng.normal(size=rows).astype(dtype)
    results = []
    for library in (gg, torch):
        x = library.tensor(scores, requires_grad=True)
        loss = library.nn.functional.nll_loss(library.nn.functional.log_softmax(x, 1), library.tensor(labels),
                                              None if weight is None else library.tensor(weight), **options)
        loss.backward(library.tensor(upstream) if reduction == "none" else None)
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        assert ours.dtype == dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=tolerance, atol=tolerance)


@pytest.mark.torch
@pytest.mark.parametrize("loss", ["nll_loss", "cross_entropy"])
def test_a_class_weight_that_requires_grad_is_refused_as_in_pytorch(torch, loss):
    """glassgrad used to give the class weight a gradient PyTorch has no rule for."""
    for library in (torch, gg):
        weight = library.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
            getattr(library.nn.functional, loss)(library.zeros(2, 3), library.tensor([0, 1]), weight)
        with library.no_grad():
            getattr(library.nn.functional, loss)(library.zeros(2, 3), library.tensor([0, 1]), weight)


def test_a_compiled_nll_loss_reads_each_batchs_labels():
    """The labels' call (classes, counts, total) is one kernel of a compiled step: a batch of ignored rows replays
    with its own counts."""
    gg.manual_seed(0)
    model = gg.nn.Linear(4, 3)
    start = {name: value.clone() for name, value in model.state_dict().items()}
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.nll_loss(F.log_softmax(model(x), 1), y, ignore_index=2)
        loss.backward()
        optimizer.step()
        return loss

    rng = np.random.default_rng(0)
    batches = [(gg.tensor(rng.normal(size=(5, 4)), dtype=gg.float32), gg.tensor(labels)) for labels in
               ([0, 1, 2, 1, 0], [2, 2, 2, 2, 2], [1, 2, 0, 2, 2], [0, 0, 1, 1, 2])]
    compiled = [gg.compile(step)(x, y).item() for x, y in batches]
    model.load_state_dict(start)
    eager = [step(x, y).item() for x, y in batches]
    assert compiled == eager and compiled[1] == 0.0


# --- cumprod's gradient: whole-array passes where no entry is 0, the loop along dim where one is ------------------

@pytest.mark.torch
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)])
@given(shape=st.lists(st.integers(1, 12), min_size=1, max_size=3), seed=st.integers(0, 2**31 - 1),
       zeros=st.booleans(), data=st.data())
def test_cumprod_gradient_with_and_without_zeros_is_pytorchs(torch, dtype, tolerance, shape, seed, zeros, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.2, 2.5, shape) * rng.choice([-1, 1], shape)
    if zeros:
        values[rng.random(shape) < 0.2] = 0.0
    values, upstream = values.astype(dtype), rng.normal(size=shape).astype(dtype)
    ours = gg.tensor(values, requires_grad=True)
    ours.cumprod(dim).backward(gg.tensor(upstream))
    theirs = torch.tensor(values.astype(np.float64), requires_grad=True)
    theirs.cumprod(dim).backward(torch.tensor(upstream.astype(np.float64)))
    expected = theirs.grad.numpy()
    assert ours.grad.dtype == dtype
    np.testing.assert_allclose(ours.grad.array, expected, rtol=tolerance, atol=tolerance * np.abs(expected).max())


@pytest.mark.parametrize("values", [[1e200, 1e200, 1e-200, 3.0], [1e-200, 1e-200, 1e200, 2.0], [np.inf, 2.0, 3.0],
                                    [np.nan, 2.0, 3.0]])
def test_cumprod_gradient_out_of_the_quotients_range_takes_the_loop(values):
    """Running products that overflow or underflow float64 (or are not finite) leave the quotient form: the
    gradient is the exact products of the others, worked out by hand."""
    a = np.array(values)
    ours = gg.tensor(a, requires_grad=True)
    ours.cumprod(0).sum().backward()
    expected = [sum(np.prod(np.delete(a[: j + 1], i)) for j in range(i, len(a))) for i in range(len(a))]
    np.testing.assert_allclose(ours.grad.array, expected, rtol=1e-14)


# --- adaptive max pooling: each window's first maximum found in one read per combination of window sizes -----

POOL_CASES = st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 13), st.integers(1, 13),
                       st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))


@pytest.mark.torch
@given(POOL_CASES, st.booleans())
def test_adaptive_max_pool2d_of_uneven_windows_is_pytorchs(torch, case, batched):
    n, c, h, w, out_h, out_w, seed = case
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, c, h, w) if batched else (c, h, w))  # no ties: PyTorch's one maximum is ours
    upstream = rng.normal(size=values.shape[:-2] + (out_h, out_w))
    ours = gg.tensor(values, requires_grad=True)
    out, indices = F.adaptive_max_pool2d(ours, (out_h, out_w), return_indices=True)
    out.backward(gg.tensor(upstream))
    theirs = torch.tensor(values, requires_grad=True)
    expected, expected_indices = torch.nn.functional.adaptive_max_pool2d(theirs, (out_h, out_w), return_indices=True)
    expected.backward(torch.tensor(upstream))
    np.testing.assert_array_equal(out.array, expected.detach().numpy())
    np.testing.assert_array_equal(indices.array, expected_indices.numpy())
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-13, atol=1e-14)  # sums of windows


@pytest.mark.torch
@given(POOL_CASES, st.sampled_from([1, 2, 3]))
def test_adaptive_max_pooling_sends_a_tie_to_the_first_maximum_as_pytorch(torch, case, dims):
    """Many ties (few distinct values, zeros after a ReLU): the gradient goes to each window's first maximum in
    row-major order, all of it, as PyTorch's kernel sends it (glassgrad shared it among the tied entries)."""
    n, c, h, w, out_h, out_w, seed = case
    rng = np.random.default_rng(seed)
    size, out_size = (h, w, 3)[:dims], (out_h, out_w, 2)[:dims]
    values = np.maximum(rng.integers(-2, 3, size=(n, c, *size)), 0).astype(np.float64)
    upstream = rng.normal(size=(n, c, *out_size))
    results = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        pool = getattr(library.nn.functional, f"adaptive_max_pool{dims}d")
        out, indices = pool(x, out_size, return_indices=True)
        out.backward(library.tensor(upstream))
        results.append((out.detach().numpy(), indices.numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.torch
@pytest.mark.parametrize("size, out_size", [((5, 5), (2, 3)), ((4, 4), (2, 2)), ((7,), (3,))])
@pytest.mark.parametrize("return_indices", [False, True])
def test_adaptive_max_pooling_of_an_empty_batch_is_empty_as_in_pytorch(torch, size, out_size, return_indices):
    """N = 0: glassgrad's reshape of the windows to (0, C, windows, -1) was refused."""
    shapes = []
    for library in (gg, torch):
        pool = getattr(library.nn.functional, f"adaptive_max_pool{len(size)}d")
        x = library.ones(0, 2, *size, requires_grad=True)
        result = pool(x, out_size, return_indices=return_indices)
        out = result[0] if return_indices else result
        out.sum().backward()
        shapes.append((tuple(out.shape), tuple(x.grad.shape), tuple(result[1].shape) if return_indices else None))
    assert shapes[0] == shapes[1]


# --- gather (grid_sample's reads, nll_loss's pick): one take of flat positions --------------------------------------

@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), seed=st.integers(0, 2**31 - 1), data=st.data())
def test_gather_and_its_gradient_with_repeats_are_pytorchs(torch, shape, seed, data):
    dim = data.draw(st.integers(0, len(shape) - 1))
    index_shape = [data.draw(st.integers(1, 6)) if d == dim else data.draw(st.integers(1, size))
                   for d, size in enumerate(shape)]  # smaller than the tensor elsewhere, as PyTorch allows
    rng = np.random.default_rng(seed)
    values, index = rng.normal(size=shape), rng.integers(0, shape[dim], index_shape)  # repeats add up
    upstream = rng.normal(size=index_shape)
    results = []
    for library in (gg, torch):
        x = library.tensor(values, requires_grad=True)
        out = x.gather(dim, library.tensor(index))
        out.backward(library.tensor(upstream))
        results.append((out.detach().numpy(), x.grad.numpy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-14, atol=1e-15)


def test_cumprods_quotient_probe_adds_no_warning_to_the_backward():
    """A running product that only the quotient form would compute (1e400) warns of nothing: the loop, which needs
    no such product here, gives the gradient (1 + 1e200, 1 + 0·1e200, 0·1·1e200 by hand) without a warning."""
    a = gg.tensor([1.0, 1e200, 1e200], dtype=gg.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the forward's own overflow: its last product is inf
        out = a.cumprod(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out.backward(gg.tensor([1.0, 1.0, 0.0], dtype=gg.float64))
    np.testing.assert_array_equal(a.grad.array, [1e200, 1.0, 0.0])


@pytest.mark.parametrize("size", [9, 10], ids=["even windows", "uneven windows"])
def test_a_compiled_step_with_adaptive_max_pooling_replays_eagers_numbers(size):
    """The maxima's positions are one kernel of the replay, found again from each call's numbers (they were
    made outside it, so the step ran eagerly with a warning); the parameters after ten steps are eager's, bit for
    bit."""
    import warnings

    finals = []
    for compiled in (False, True):
        conv, head = gg.nn.Conv2d(1, 2, 3, seed=0), gg.nn.Linear(18, 2, seed=1)
        params = [*conv.parameters(), *head.parameters()]
        optimizer = gg.optim.SGD(params, lr=0.1, momentum=0.9)

        def step(x, y, conv=conv, head=head, optimizer=optimizer):
            pooled = F.adaptive_max_pool2d(conv(x).relu(), 3)
            loss = F.cross_entropy(head(pooled.flatten(1)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        run = gg.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(10):
                run(gg.tensor(rng.standard_normal((4, 1, size, size)).astype(np.float32)),
                    gg.tensor(rng.integers(0, 2, 4)))
        finals.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    np.testing.assert_array_equal(finals[1], finals[0])
