"""Lazy layers, uninitialised parameters and buffers, ``nn.Buffer``: against PyTorch 2.13 in float64.

A lazy layer of glassgrad and one of PyTorch see the same first input; afterwards both are the ordinary layer with
the same settings and the same state_dict keys and shapes. For equal numbers, PyTorch's checkpoint is loaded into
glassgrad's lazy layer *before* its first call (the checkpoint gives the shapes), then values and gradients match.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

FAMILIES = {  # name: (keyword arguments of the lazy layer, the input's channel count must divide by groups)
    "LazyConv{}d": {"out_channels": 4, "kernel_size": 2, "padding": 1},
    "LazyConvTranspose{}d": {"out_channels": 3, "kernel_size": 2, "stride": 2},
    "LazyBatchNorm{}d": {},
    "LazyInstanceNorm{}d": {},
}


@st.composite
def lazy_cases(draw):
    """A lazy family, its dims, channels, whether the input has a batch dim, and the input (float64)."""
    family = draw(st.sampled_from(sorted(FAMILIES)))
    dims = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 4))
    batched = "BatchNorm" in family or draw(st.booleans())  # batch norm takes batched inputs only
    size = tuple(draw(st.lists(st.integers(2, 4), min_size=dims, max_size=dims)))
    shape = ((draw(st.integers(2, 3)),) if batched else ()) + (channels, *size)
    if "BatchNorm1d" in family.format(dims) and draw(st.booleans()):
        shape = shape[:2]  # BatchNorm1d also takes (N, C)
    x = np.random.default_rng(draw(st.integers(0, 2**16))).normal(size=shape)
    return family.format(dims), FAMILIES[family], x


def _state_numpy(module):
    return {name: value.detach().numpy() for name, value in module.state_dict().items()}


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(case=lazy_cases())
def test_lazy_layers_become_the_ordinary_layer_with_pytorchs_shapes(torch, case):
    name, options, x = case
    mine = getattr(gg.nn, name)(**options, dtype=gg.float64)
    theirs = getattr(torch.nn, name)(**options, dtype=torch.float64)
    assert mine.has_uninitialized_params() and theirs.has_uninitialized_params()
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [type(v).__name__ for v in mine.state_dict().values()] == \
        [type(v).__name__ for v in theirs.state_dict().values()]
    mine.train(), theirs.train()
    if "InstanceNorm" in name and x.ndim == int(name[-2]) + 1:
        theirs(torch.tensor(x[None]))  # PyTorch 2.13 reads dim 1 of an unbatched input: give it the batch dim
    else:
        theirs(torch.tensor(x))
    mine(gg.tensor(x))
    assert type(mine).__name__ == type(theirs).__name__ == name[4:]
    assert not isinstance(mine, gg.nn.lazy.LazyModuleMixin)
    assert {k: v.shape for k, v in mine.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    unbatched = "BatchNorm" not in name and x.ndim == int(name[-2]) + 1
    channels = x.shape[0 if unbatched else 1]
    assert getattr(mine, "in_channels", getattr(mine, "num_features", None)) == channels


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(case=lazy_cases())
def test_lazy_layers_load_pytorchs_checkpoint_before_the_first_call(torch, case):
    name, options, x = case
    theirs = getattr(torch.nn, name)(**options, dtype=torch.float64)
    batch = x[None] if "InstanceNorm" in name and x.ndim == int(name[-2]) + 1 else x
    theirs(torch.tensor(batch))  # materialised (and, for the norms, one batch of running statistics)
    with torch.no_grad():
        for tensor in theirs.state_dict().values():
            if tensor.is_floating_point():
                tensor.add_(torch.rand(tensor.shape, dtype=tensor.dtype, generator=torch.Generator().manual_seed(1)))
    mine = getattr(gg.nn, name)(**options, dtype=gg.float64)
    mine.load_state_dict({k: gg.tensor(v) for k, v in _state_numpy(theirs).items()})
    assert not mine.has_uninitialized_params() and type(mine).__name__ == name  # lazy until it is called
    theirs.eval(), mine.eval()  # running statistics in use: the loaded numbers matter
    a, b = gg.tensor(batch, requires_grad=True), torch.tensor(batch, requires_grad=True)
    out_mine, out_theirs = mine(a), theirs(b)
    assert type(mine).__name__ == name[4:]
    np.testing.assert_allclose(out_mine.numpy(), out_theirs.detach().numpy(), rtol=1e-10, atol=1e-12)
    upstream = np.random.default_rng(3).normal(size=out_theirs.shape)
    (out_mine * gg.tensor(upstream)).sum().backward()
    (out_theirs * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for key, parameter in theirs.named_parameters():
        np.testing.assert_allclose(mine.get_parameter(key).grad.numpy(), parameter.grad.numpy(), rtol=1e-9,
                                   atol=1e-12)


def test_lazy_linear_loads_a_checkpoint_before_its_first_call():
    source = gg.nn.Linear(5, 3, seed=1, dtype=gg.float64)
    layer = gg.nn.LazyLinear(3, dtype=gg.float64)
    weight = layer.weight
    layer.load_state_dict(source.state_dict())  # refused with a size mismatch before the lazy mechanism
    assert weight.shape == (3, 5) and type(weight) is gg.nn.Parameter
    x = gg.tensor(np.random.default_rng(0).normal(size=(2, 5)))
    np.testing.assert_array_equal(layer(x).numpy(), source(x).numpy())  # the loaded numbers, not fresh draws
    assert type(layer) is gg.nn.Linear and layer.in_features == 5


def test_a_loaded_lazy_layer_refuses_an_input_that_does_not_fit_and_stays_lazy():
    layer = gg.nn.LazyConv2d(2, 3)
    layer.load_state_dict(gg.nn.Conv2d(4, 2, 3).state_dict())
    with pytest.raises(ValueError, match=r"LazyConv2d: the input has in_channels=3 .* needs weight of shape "
                                         r"\(2, 3, 3, 3\), but the loaded weight has shape \(2, 4, 3, 3\)"):
        layer(gg.ones(1, 3, 5, 5))
    assert type(layer) is gg.nn.LazyConv2d and layer.in_channels == 0
    assert layer(gg.ones(1, 4, 5, 5)).shape == (1, 2, 3, 3)


def test_lazy_draws_match_the_ordinary_layer_and_an_early_optimizer_trains_them():
    layer = gg.nn.LazyConv1d(3, 2, groups=1, seed=5)
    parameters = list(layer.parameters())
    optimizer = gg.optim.SGD(layer.parameters(), lr=0.1)
    x = gg.tensor(np.random.default_rng(2).normal(size=(2, 4, 6)).astype(np.float32))
    layer(x).sum().backward()
    reference = gg.nn.Conv1d(4, 3, 2, seed=5)
    assert [p is q for p, q in zip(layer.parameters(), parameters)] == [True, True]
    np.testing.assert_array_equal(layer.weight.numpy(), reference.weight.numpy())
    np.testing.assert_array_equal(layer.bias.numpy(), reference.bias.numpy())
    before = layer.weight.numpy().copy()
    optimizer.step()
    np.testing.assert_allclose(layer.weight.numpy(), before - 0.1 * layer.weight.grad.numpy(), rtol=1e-6)


def test_lazy_batch_norm_keeps_its_batch_count_and_learns_running_statistics():
    layer = gg.nn.LazyBatchNorm2d(momentum=0.5, dtype=gg.float64)
    assert isinstance(layer.running_mean, gg.nn.UninitializedBuffer)
    assert layer.num_batches_tracked.numpy() == 0
    x = np.random.default_rng(4).normal(size=(3, 2, 2, 2))
    layer(gg.tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.5 * x.mean(axis=(0, 2, 3)), rtol=1e-12)
    assert type(layer.running_mean) is gg.Tensor and int(layer.num_batches_tracked.numpy()) == 1


def test_uninitialized_parameter_refuses_its_shape_and_materializes_in_place():
    parameter = gg.nn.UninitializedParameter(dtype=gg.float64)
    assert parameter.requires_grad and parameter.dtype == gg.float64 and repr(parameter) == "<UninitializedParameter>"
    for read in (lambda p: p.shape, lambda p: p.data, lambda p: p.size(), lambda p: p.numpy(), lambda p: p.numel()):
        with pytest.raises(RuntimeError, match=r"this UninitializedParameter has no shape or numbers yet; call the "
                                               r"lazy module on an example input"):
            read(parameter)
    parameter.materialize((2, 3))
    assert type(parameter) is gg.nn.Parameter and parameter.shape == (2, 3) and parameter.dtype == gg.float64
    buffer = gg.nn.UninitializedBuffer()
    assert not buffer.requires_grad
    with pytest.raises(RuntimeError, match=r"\.shape: this UninitializedBuffer has no shape"):
        _ = buffer.shape
    buffer.materialize((4,), dtype=gg.float64)
    assert type(buffer) is gg.Tensor and buffer.shape == (4,) and buffer.dtype == gg.float64


def test_an_uninitialized_parameter_used_in_an_op_is_refused_not_read_as_empty():
    """Before the fix ``w * 2`` gave an empty tensor and ``w.sum()`` gave 0: a lazy layer's weight used before its
    first call looked like a real, empty tensor."""
    layer = gg.nn.LazyLinear(3)
    weight = layer.weight
    uses = {"w * 2": lambda: weight * 2, "w.sum()": lambda: weight.sum(),
            "gg.zeros(0) + w": lambda: gg.zeros(0) + weight,
            "F.linear": lambda: gg.nn.functional.linear(gg.ones(2, 3), weight),
            "nn.init": lambda: gg.nn.init.uniform_(weight), "w.exp()": lambda: weight.exp(),
            "gg.cat": lambda: gg.cat([weight, weight]), "clone": lambda: weight.clone(),
            "parameter count": lambda: sum(p.numel() for p in layer.parameters())}
    for name, use in uses.items():
        with pytest.raises(RuntimeError, match=r"this UninitializedParameter has no shape or numbers yet; call the "
                                               r"lazy module on an example input") as error:
            use()
        assert "\n" not in str(error.value), name
    copied = copy.deepcopy(layer)  # what is not an op still works: a copy, the printout, a dtype change
    assert type(copied.weight) is gg.nn.UninitializedParameter and copied.weight is not weight
    assert repr(layer).startswith("LazyLinear(in_features=0, out_features=3") and layer.num_parameters() == 0
    layer.double()  # the dtype still changes before the first call, as in PyTorch
    layer(gg.ones(2, 5, dtype=gg.float64))
    assert weight.shape == (3, 5) and weight.dtype == gg.float64 and (weight * 2).shape == (3, 5)


def test_an_uninitialized_checkpoint_entry_is_refused_by_an_ordinary_layer():
    with pytest.raises(RuntimeError, match=r'"weight" is uninitialized in the checkpoint'):
        gg.nn.Linear(2, 3).load_state_dict(gg.nn.LazyLinear(3).state_dict())


def test_lazy_layer_settings_are_checked_when_built():
    with pytest.raises(ValueError, match=r"LazyConv2d: kernel_size must be an integer ≥ 1"):
        gg.nn.LazyConv2d(3, kernel_size=0)
    with pytest.raises(RuntimeError, match=r"conv_transpose1d: the weight \(3, 0, 2\) has a dim of size 0"):
        gg.nn.LazyConvTranspose1d(0, 2)(gg.ones(1, 3, 4))  # built with no out channels, as PyTorch's (round 154)
    with pytest.raises(ValueError, match=r"LazyConv3d: expected input of shape \(N, C, D, H, W\) or \(C, D, H, W\)"):
        gg.nn.LazyConv3d(2, 1)(gg.ones(2, 2))
    with pytest.raises(ValueError, match=r"LazyBatchNorm2d: expected input of shape \(N, C, H, W\), got \(2, 2\)"):
        gg.nn.LazyBatchNorm2d()(gg.ones(2, 2))


@pytest.mark.torch
def test_buffer_assignment_registers_a_buffer_as_pytorch(torch):
    def build(library):
        class Stats(library.nn.Module):
            def __init__(self):
                super().__init__()
                self.kept = library.nn.Buffer(library.ones(2))
                self.scratch = library.nn.Buffer(library.zeros(3), persistent=False)

        return Stats()

    mine, theirs = build(gg), build(torch)
    assert list(mine.state_dict()) == list(theirs.state_dict()) == ["kept"]
    assert [name for name, _ in mine.named_buffers()] == [name for name, _ in theirs.named_buffers()]
    assert type(mine.kept) is gg.Tensor and not mine.kept.requires_grad
    source = gg.ones(2, requires_grad=True)
    marked = gg.nn.Buffer(source * 2)
    assert marked.requires_grad and marked.is_leaf and marked.persistent  # detached, as PyTorch's


def test_an_uninitialized_buffer_assigned_to_a_module_is_a_buffer_that_loads_its_shape():
    class Stats(gg.nn.Module):
        def __init__(self):
            super().__init__()
            self.total = gg.nn.UninitializedBuffer(dtype=gg.float64)

    stats = Stats()
    assert list(stats.state_dict()) == ["total"] and stats.get_buffer("total") is stats.total
    stats.load_state_dict({"total": gg.tensor([1.0, 2.0, 3.0])})
    assert type(stats.total) is gg.Tensor and stats.total.numpy().tolist() == [1.0, 2.0, 3.0]
    assert stats.total.dtype == gg.float64


def test_adam_built_before_the_first_call_trains_as_on_the_ordinary_layer():
    x = gg.tensor(np.random.default_rng(6).normal(size=(4, 2, 5)))
    lazy = gg.nn.LazyConvTranspose1d(3, 2, dtype=gg.float64, seed=11).requires_grad_(True)
    eager = gg.nn.ConvTranspose1d(2, 3, 2, dtype=gg.float64, seed=11)
    optimizers = [gg.optim.Adam(layer.parameters(), lr=0.05) for layer in (lazy, eager)]
    for _ in range(3):
        for layer, optimizer in zip((lazy, eager), optimizers):
            optimizer.zero_grad()
            (layer(x) ** 2).mean().backward()
            optimizer.step()
    for mine, reference in zip(lazy.parameters(), eager.parameters()):
        np.testing.assert_array_equal(mine.numpy(), reference.numpy())
