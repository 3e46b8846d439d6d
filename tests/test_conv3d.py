"""The 3-d layers (volumes: videos, scans) against PyTorch 2.13 in float64: conv3d and ConvTranspose3d (every
padding and padding mode, groups, dilation, output_padding), max/average/adaptive pooling and unpooling of
volumes (values, indices, input gradients), BatchNorm3d's and InstanceNorm3d's statistics, the trace of a 3-d
convolution, architecture round trips and one-line errors. Sizes stay small: every 3-d window costs a cube."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.trace.explain import Writer, trace_entry

EXACT = Writer(factor=repr, result=repr)


def triples(low: int, high: int) -> st.SearchStrategy:
    return st.tuples(*[st.integers(low, high)] * 3)


def _run(lib, call, arrays, seed, layer=None):
    """``call(lib, *leaves)`` on float64 leaves made from ``arrays``, then backward of ``Σ out·upstream``:
    the output and each leaf's gradient (None where it has none), then those of ``layer``'s parameters."""
    leaves = [lib.tensor(array, dtype=lib.float64, requires_grad=True) for array in arrays]
    out = call(lib, *leaves)
    pooled, *rest = out if isinstance(out, tuple) else (out,)
    upstream = np.random.default_rng(seed).normal(size=tuple(pooled.shape))
    (pooled * lib.tensor(upstream, dtype=lib.float64)).sum().backward()
    grads = [None if leaf.grad is None else leaf.grad.numpy()
             for leaf in leaves + ([] if layer is None else list(layer.parameters()))]
    return [pooled.detach().numpy(), *(part.numpy() for part in rest)], grads


def _matches_pytorch(torch, call, arrays, seed=0, rtol=1e-12, layers=(None, None)):
    """The same call in glassgrad and in PyTorch: equal outputs (and indices) and gradients, those of the
    parameters of ``layers`` (glassgrad's, PyTorch's) included."""
    (mine, mine_grads), (theirs, their_grads) = (_run(lib, call, arrays, seed, layer)
                                                 for lib, layer in zip((gg, torch), layers))
    for ours, reference in zip(mine + mine_grads, theirs + their_grads, strict=True):
        assert (ours is None) == (reference is None)
        if ours is not None:
            assert ours.shape == reference.shape
            np.testing.assert_allclose(ours, reference, rtol=rtol, atol=1e-12)


def _sizes(kernel, dilation, padding, extra):
    """Input sizes the (dilated) kernel fits in, ``extra`` entries more."""
    return tuple(max(d * (k - 1) + 1 - 2 * p, 1) + e for k, d, p, e in zip(kernel, dilation, padding, extra))


def _same_layer(torch, name, *args, **kwargs):
    """A glassgrad layer with the weights of PyTorch's layer of the same name and settings (float64); the entries
    glassgrad's layer does not keep are left out."""
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=torch.float64)
    mine = getattr(gg.nn, name)(*args, **kwargs, dtype=gg.float64)
    mine.load_state_dict({key: gg.tensor(value.detach().numpy()) for key, value in theirs.state_dict().items()
                          if key in mine.state_dict()})
    return mine, theirs


def _layers_match_pytorch(torch, mine, theirs, x, seed=0, rtol=1e-12):
    """glassgrad's layer and PyTorch's on the same input: equal outputs and input and parameter gradients."""
    _matches_pytorch(torch, lambda lib, t: (mine if lib is gg else theirs)(t), [x], seed, rtol, (mine, theirs))


# --- convolution -------------------------------------------------------------------------------------------

@pytest.mark.torch
@given(n=st.integers(1, 2), groups=st.integers(1, 2), per_in=st.integers(1, 2), per_out=st.integers(1, 2),
       kernel=triples(1, 3), stride=triples(1, 2), dilation=triples(1, 2), extra=triples(0, 2),
       padding=st.one_of(st.integers(0, 1), triples(0, 1), st.sampled_from(["same", "valid"])),
       with_bias=st.booleans(), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_conv3d_values_and_gradients_match_pytorch(torch, n, groups, per_in, per_out, kernel, stride, dilation, extra,
                                                   padding, with_bias, batched, seed):
    if padding == "same":
        stride = 1  # PyTorch refuses 'same' for strided convolutions, as glassgrad does
    pads = (0, 0, 0) if isinstance(padding, str) else (padding,) * 3 if isinstance(padding, int) else padding
    size = _sizes(kernel, dilation, pads, extra)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=((n,) if batched else ()) + (groups * per_in, *size))
    arrays = [x, rng.normal(size=(groups * per_out, per_in, *kernel))] + ([rng.normal(size=groups * per_out)]
                                                                          if with_bias else [])
    _matches_pytorch(torch, lambda lib, *leaves: lib.nn.functional.conv3d(
        *leaves, stride=stride, padding=padding, dilation=dilation, groups=groups), arrays, seed)


@pytest.mark.torch
@given(mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]), kernel=st.integers(1, 3),
       stride=st.integers(1, 2), dilation=st.integers(1, 2), padding=st.one_of(st.integers(0, 2), st.just("same")),
       groups=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_conv3d_layer_pads_in_its_mode_and_its_parameters_gradients_match_pytorch(torch, mode, kernel, stride,
                                                                                  dilation, padding, groups, seed):
    """``Conv3d(padding_mode=…)``: the input padded by ``F.pad`` in that mode, then convolved: the output and the
    gradients of the input, the weight and the bias equal PyTorch's; the layer rebuilds from its architecture."""
    if padding == "same":
        stride = 1
    mine, theirs = _same_layer(torch, "Conv3d", 2, 2 * groups, kernel, stride=stride, padding=padding,
                               dilation=dilation, groups=groups, padding_mode=mode)
    x = np.random.default_rng(seed).normal(size=(2, 2, 5, 5, 4))
    assume(dilation * (kernel - 1) + 1 <= 4 + (2 * padding if isinstance(padding, int) else 4))
    _layers_match_pytorch(torch, mine, theirs, x, seed, rtol=1e-10)
    model = gg.nn.Sequential(mine)
    rebuilt = gg.nn.from_architecture(gg.nn.architecture(model), model.state_dict())
    np.testing.assert_array_equal(rebuilt(gg.tensor(x)).numpy(), mine(gg.tensor(x)).numpy())


@pytest.mark.torch
def test_conv3d_layer_starts_within_pytorchs_bounds(torch):
    layer = gg.nn.Conv3d(4, 6, (3, 2, 1), groups=2, seed=0)
    assert layer.weight.shape == tuple(torch.nn.Conv3d(4, 6, (3, 2, 1), groups=2).weight.shape) == (6, 2, 3, 2, 1)
    bound = 1 / np.sqrt(2 * 3 * 2 * 1)  # 1/√fan_in, fan_in = in_channels/groups × the kernel's entries
    assert np.abs(layer.weight.numpy()).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > bound / 2  # spread over the range, not all near 0


@pytest.mark.torch
@given(groups=st.integers(1, 2), kernel=triples(1, 3), stride=triples(1, 2), dilation=triples(1, 2),
       padding=triples(0, 1), extra=triples(0, 1), size=triples(1, 3), with_bias=st.booleans(),
       batched=st.booleans(), seed=st.integers(0, 2**16))
def test_conv_transpose3d_values_and_gradients_match_pytorch(torch, groups, kernel, stride, dilation, padding, extra,
                                                             size, with_bias, batched, seed):
    output_padding = tuple(e if e < max(s, d) else 0 for e, s, d in zip(extra, stride, dilation))
    assume(all((n - 1) * s - 2 * p + d * (k - 1) + e + 1 >= 1
               for n, s, p, d, k, e in zip(size, stride, padding, dilation, kernel, output_padding)))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=((2,) if batched else ()) + (2 * groups, *size))
    arrays = [x, rng.normal(size=(2 * groups, 2, *kernel))] + ([rng.normal(size=2 * groups)] if with_bias else [])
    _matches_pytorch(torch, lambda lib, *leaves: lib.nn.functional.conv_transpose3d(
        *leaves, stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation),
        arrays, seed)


@pytest.mark.torch
def test_conv_transpose3d_layer_with_output_size_matches_pytorch(torch):
    mine, theirs = _same_layer(torch, "ConvTranspose3d", 3, 2, 3, stride=2, padding=1)
    x = np.random.default_rng(0).normal(size=(1, 3, 2, 3, 2))
    assert mine(gg.tensor(x), output_size=(4, 6, 4)).shape == (1, 2, 4, 6, 4)
    _matches_pytorch(torch, lambda lib, t: (mine if lib is gg else theirs)(t, output_size=(4, 6, 4)), [x],
                     layers=(mine, theirs))


# --- pooling -----------------------------------------------------------------------------------------------

def _every_window_reads_the_input(size, kernel, stride, padding, dilation, out) -> bool:
    """Whether each window has an entry inside the input (a window of padding alone has no maximum to point at)."""
    return all(any(0 <= i * s - p + u * d < n for u in range(k)) for n, k, s, p, d, count
               in zip(size, kernel, stride, padding, dilation, out) for i in range(count))


@pytest.mark.torch
@given(size=triples(1, 5), kernel=triples(1, 3), stride=st.one_of(st.none(), triples(1, 2)), padding=triples(0, 1),
       dilation=triples(1, 2), ceil_mode=st.booleans(), batched=st.booleans(), seed=st.integers(0, 2**16))
def test_max_pool3d_values_indices_gradients_and_unpooling_match_pytorch(torch, size, kernel, stride, padding,
                                                                       dilation, ceil_mode, batched, seed):
    """Each volume window's maximum, its flat position ``(t·H + row)·W + column`` in its volume, and the gradient
    to it, as PyTorch's (ceil_mode's overhang pooled as −∞); ``max_unpool3d`` puts the maxima back."""
    assume(all(p <= k // 2 for p, k in zip(padding, kernel)))
    shape = ((2,) if batched else ()) + (2, *size)
    x = np.random.default_rng(seed).normal(size=shape)
    settings = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    try:
        pooled = torch.nn.functional.max_pool3d(torch.tensor(x), kernel, **settings)
    except RuntimeError:  # the kernel reaches past the padded input: glassgrad refuses it too
        with pytest.raises(RuntimeError, match="larger than the padded input"):
            F.max_pool3d(gg.tensor(x), kernel, **settings)
        return
    assume(_every_window_reads_the_input(size, kernel, stride or kernel, padding, dilation, pooled.shape[-3:]))
    _matches_pytorch(torch, lambda lib, t: lib.nn.functional.max_pool3d(t, kernel, **settings, return_indices=True),
                     [x], seed)
    _matches_pytorch(torch, lambda lib, t: lib.nn.MaxPool3d(kernel, **settings)(t), [x], seed)
    if dilation == (1, 1, 1):  # PyTorch's unpooling has no dilation
        _, indices = F.max_pool3d(gg.tensor(x), kernel, **settings, return_indices=True)
        assume(len(set(indices.numpy().reshape(-1).tolist())) == indices.numel())  # a repeat: either write wins
        values = np.random.default_rng(seed + 1).normal(size=indices.shape)
        _matches_pytorch(torch, lambda lib, t: lib.nn.MaxUnpool3d(kernel, stride, padding)(
            t, lib.tensor(indices.numpy()), output_size=size), [values], seed)


@pytest.mark.torch
@given(size=triples(1, 5), kernel=triples(1, 3), stride=st.one_of(st.none(), triples(1, 2)), padding=triples(0, 1),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(), divisor=st.sampled_from([None, 3]),
       batched=st.booleans(), seed=st.integers(0, 2**16))
def test_avg_pool3d_values_and_gradients_match_pytorch(torch, size, kernel, stride, padding, ceil_mode,
                                                       count_include_pad, divisor, batched, seed):
    assume(all(p <= k // 2 for p, k in zip(padding, kernel)))
    x = np.random.default_rng(seed).normal(size=((2,) if batched else ()) + (2, *size))
    settings = dict(stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad,
                    divisor_override=divisor)
    try:
        torch.nn.functional.avg_pool3d(torch.tensor(x), kernel, **settings)
    except RuntimeError:
        with pytest.raises(RuntimeError, match="larger than the padded input|is smaller than the kernel"):
            F.avg_pool3d(gg.tensor(x), kernel, **settings)
        return
    _matches_pytorch(torch, lambda lib, t: lib.nn.functional.avg_pool3d(t, kernel, **settings), [x], seed)
    _matches_pytorch(torch, lambda lib, t: lib.nn.AvgPool3d(kernel, **settings)(t), [x], seed)


@pytest.mark.torch
@given(size=triples(1, 6), wanted=st.tuples(*[st.one_of(st.none(), st.integers(1, 4))] * 3),
       batched=st.booleans(), seed=st.integers(0, 2**16))
def test_adaptive_pool3d_values_and_gradients_match_pytorch(torch, size, wanted, batched, seed):
    x = np.random.default_rng(seed).normal(size=((2,) if batched else ()) + (3, *size))
    for call in (lambda lib, t: lib.nn.functional.adaptive_avg_pool3d(t, wanted),
                 lambda lib, t: lib.nn.AdaptiveAvgPool3d(wanted)(t),
                 lambda lib, t: lib.nn.functional.adaptive_max_pool3d(t, wanted),
                 lambda lib, t: lib.nn.AdaptiveMaxPool3d(wanted[1] or 2)(t)):
        _matches_pytorch(torch, call, [x], seed)


# --- normalization -----------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batchnorm3d_trains_its_running_statistics_and_evaluates_with_them_as_pytorch(torch, momentum):
    mine, theirs = _same_layer(torch, "BatchNorm3d", 3, momentum=momentum)
    rng = np.random.default_rng(3)
    for step in range(3):
        x = rng.normal(size=(2, 3, 2, 3, 2)) * (step + 1) + step
        _layers_match_pytorch(torch, mine, theirs, x, step)
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_allclose(getattr(mine, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-12)
    mine.eval()
    theirs.eval()
    _layers_match_pytorch(torch, mine, theirs, rng.normal(size=(1, 3, 2, 2, 2)))


@pytest.mark.torch
@pytest.mark.parametrize("batched", [True, False])
def test_instancenorm3d_with_running_statistics_matches_pytorch(torch, batched):
    mine, theirs = _same_layer(torch, "InstanceNorm3d", 2, affine=True, track_running_stats=True)
    rng = np.random.default_rng(4)
    shape = ((3,) if batched else ()) + (2, 2, 3, 2)
    for step in range(2):
        _layers_match_pytorch(torch, mine, theirs, rng.normal(size=shape) + step)
    np.testing.assert_allclose(mine.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-12)
    mine.eval()
    theirs.eval()
    _layers_match_pytorch(torch, mine, theirs, rng.normal(size=shape))


# --- the trace, architectures, errors ----------------------------------------------------------------------

def _sum_of_products(entry) -> float:
    """The written ``a·b + c·d + e`` computed from its terms, as a reader would."""
    total, position = 0.0, 0
    for product in entry.formula.split(" + "):
        value = 1.0
        for _ in product.split("·"):
            value *= entry.terms[position].value
            position += 1
        total += value
    assert position == len(entry.terms)
    return total


def test_the_trace_writes_a_conv3d_step_from_its_row_and_each_entry_adds_up_to_the_engines_number():
    gg.manual_seed(0)
    model = gg.nn.Sequential(gg.nn.Conv3d(2, 3, 2, stride=(1, 2, 1), padding=1, dtype=gg.float64), gg.nn.ReLU(),
                             gg.nn.MaxPool3d(2))
    x = gg.tensor(np.random.default_rng(1).normal(size=(1, 2, 3, 4, 3)), requires_grad=True)
    with gg.trace() as tape:
        tape.watch(model)
        model(x).sum().backward()
    document = tape.describe()
    forward = document["forward"][0]
    assert forward["kind"] == "layer" and forward["op"] == "conv3d"
    assert forward["formula"] == ("Z₁[n,c,i,j,l] = Σ_{k,u,v,w} W₁[c,k,u,v,w]·X[n,k,i+u−2,2j+v−3,l+w−2] + b₁[c],  "
                                  "the input padded by 1 on each side with zeros")
    z = forward["output"]["values"]
    for index in [(0, 0, 0, 0, 0), (0, 2, z.shape[2] - 1, 1, z.shape[4] - 1), (0, 1, 1, 0, 2)]:
        entry = trace_entry(forward, "forward", index, EXACT)
        assert entry.value == z[index]
        assert _sum_of_products(entry) == pytest.approx(z[index], rel=1e-12, abs=1e-12)
    backward = {step["role"]: step for step in document["backward"] if step["op"] == "conv3d"}
    assert backward["weight"]["formula"].startswith("∂v₁/∂W₁[c,k,u,v,w] = Σ_{n,i,j,l} ∂v₁/∂Z₁[n,c,i,j,l]·X[n,k,")
    assert "with i+u−2 = z, 2j+v−3 = y, l+w−2 = x" in backward["input"]["formula"]
    for role, grad, index in [("weight", model[0].weight.grad, (2, 1, 1, 0, 1)), ("input", x.grad, (0, 1, 2, 3, 0))]:
        entry = trace_entry(backward[role], "backward", index, EXACT)
        assert _sum_of_products(entry) == pytest.approx(grad.numpy()[index], rel=1e-10, abs=1e-12)
    pool = next(step for step in document["forward"] if step["op"] == "max_pool3d")
    assert pool["formula"].startswith("P₁[n,c,i,j,l] = max_{u,v,w} A₁[n,c,2i+u−2,2j+v−2,2l+w−2]")
    values = pool["output"]["values"]
    for index in np.ndindex(*values.shape):
        entry = trace_entry(pool, "forward", index, EXACT)
        assert max(term.value for term in entry.terms) == values[index]


def test_every_3d_layer_rebuilds_from_its_architecture_with_its_weights():
    model = gg.nn.Sequential(
        gg.nn.Conv3d(1, 4, 3, padding=1, padding_mode="replicate"), gg.nn.BatchNorm3d(4), gg.nn.ReLU(),
        gg.nn.MaxPool3d(2, ceil_mode=True), gg.nn.ConvTranspose3d(4, 2, 2, stride=2, output_padding=1),
        gg.nn.InstanceNorm3d(2, affine=True), gg.nn.ReflectionPad3d(1), gg.nn.AvgPool3d(3, 2, 1, divisor_override=5),
        gg.nn.CircularPad3d((1, 0, 0, 1, 1, 0)), gg.nn.AdaptiveMaxPool3d((2, 1, None)), gg.nn.ZeroPad3d(1),
        gg.nn.AdaptiveAvgPool3d(1), gg.nn.Flatten(), gg.nn.Linear(2, 3),
    )
    x = gg.tensor(np.random.default_rng(0).normal(size=(2, 1, 5, 4, 3)).astype(np.float32))
    model(x)  # moves the running statistics
    model.eval()
    description = gg.nn.architecture(model)
    rebuilt = gg.nn.from_architecture(description, model.state_dict()).eval()
    assert gg.nn.architecture(rebuilt) == description
    np.testing.assert_array_equal(rebuilt(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("call, message", [
    (lambda: F.conv3d(gg.zeros(2, 4, 4), gg.zeros(3, 2, 2, 2, 2)),
     r"conv3d: expected input of shape \(N, C, D, H, W\) or \(C, D, H, W\), got \(2, 4, 4\)"),
    (lambda: F.conv3d(gg.zeros(1, 2, 4, 4, 4), gg.zeros(3, 2, 2, 2)), r"weight must have shape .*kD, kH, kW"),
    (lambda: gg.nn.Conv3d(2, 3, 3)(gg.zeros(1, 2, 4, 2, 4)), r"the kernel \(3×3×3 with dilation\) is larger than the "
                                                            r"padded input \(4×2×4"),
    (lambda: gg.nn.Conv3d(2, 3, (3, 3)), "kernel_size must be an integer ≥ 1 or 3 of them"),
    (lambda: F.conv_transpose3d(gg.zeros(2, 4, 4), gg.zeros(2, 1, 2, 2, 2)), "conv_transpose3d: expected input"),
    (lambda: F.max_pool3d(gg.zeros(1, 1, 1, 4, 4), 2), "larger than the padded input"),
    (lambda: gg.nn.MaxPool3d(2)(gg.zeros(4, 4, 4)), r"expected input of shape \(N, C, D, H, W\)"),
    (lambda: F.adaptive_avg_pool3d(gg.zeros(1, 1, 4, 4, 4), (2, 2)), "output_size must be an int or a triple"),
    (lambda: gg.nn.BatchNorm3d(3)(gg.zeros(2, 3, 4, 4)), r"BatchNorm3d\(3\) expected input of shape \(N, 3, D, H, W\)"),
    (lambda: F.max_unpool3d(gg.zeros(1, 1, 2, 2, 2), gg.full((1, 1, 2, 2, 2), 64, dtype=gg.int64), 2),
     "an index is outside the output volume 4×4×4"),
])
def test_bad_inputs_are_one_line_errors(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError), match=message) as error:
        call()
    assert "\n" not in str(error.value)
