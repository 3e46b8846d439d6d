"""Memory formats against PyTorch 2.13: every place that takes ``memory_format`` (``to``, ``clone``, ``contiguous``,
``cpu``, ``gg.empty``, the ``*_like`` factories, ``Module.to``) gives PyTorch's strides, values and gradients, and
``is_contiguous(memory_format=...)`` reads them as PyTorch does, for 3-d, 4-d and 5-d tensors (sizes 0 and 1 too),
row-major, permuted, sliced and expanded."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

FORMATS = ["preserve_format", "contiguous_format", "channels_last", "channels_last_3d"]
RANK = {"channels_last": 4, "channels_last_3d": 5}


@st.composite
def layouts(draw: st.DrawFn) -> tuple:
    """A shape of 3 to 5 dims (sizes 0 to 3), a permutation of its dims laid out row-major, then a view of it:
    none, a step-2 slice of one dim, or an expansion of a dim of size 1."""
    ndim = draw(st.integers(3, 5))
    shape = tuple(draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim)))
    order = tuple(draw(st.permutations(range(ndim))))
    view = draw(st.sampled_from(["none", "slice", "expand", "channels_last"]))
    dim = draw(st.integers(0, ndim - 1))
    return shape, order, view, dim


def _pair(torch, layout: tuple, dtype: str = "float64") -> tuple:
    """The same tensor in PyTorch and glassgrad, with the same strides (checked)."""
    shape, order, view, dim = layout
    base = np.arange(1, int(np.prod(shape)) + 1, dtype=dtype).reshape([shape[d] for d in order])
    back = tuple(int(d) for d in np.argsort(order))
    t = torch.arange(1, base.size + 1, dtype=getattr(torch, dtype)).reshape(base.shape).permute(*back)
    g = gg.tensor(base).permute(*back)
    if view == "slice":
        index = (slice(None),) * dim + (slice(None, None, 2),)
        t, g = t[index], g[index]
    elif view == "expand" and shape[dim]:
        size = [3 if d == dim else n for d, n in enumerate(shape)]
        t, g = t.narrow(dim, 0, 1).expand(*size), g.narrow(dim, 0, 1).expand(*size)
    elif view == "channels_last" and len(shape) in (4, 5):
        fmt = "channels_last" if len(shape) == 4 else "channels_last_3d"
        t, g = t.contiguous(memory_format=getattr(torch, fmt)), g.contiguous(memory_format=getattr(gg, fmt))
    return t, g


def _same_result(torch, make_t, make_g, strides_known: bool = True) -> None:
    """Both raise the same exception class, or give equal values, strides (where the input's ``strides_known``, or
    a format decides them) and is_contiguous for every format."""
    try:
        expected = make_t()
    except RuntimeError:
        with pytest.raises(RuntimeError):
            make_g()
        return
    got = make_g()
    assert tuple(got.shape) == tuple(expected.shape)
    if not strides_known:
        return
    assert got.stride() == expected.stride(), (expected.shape, expected.stride(), got.stride())
    for name in FORMATS:
        assert got.is_contiguous(memory_format=getattr(gg, name)) == expected.is_contiguous(
            memory_format=getattr(torch, name)), name
    np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())


@settings(max_examples=150, deadline=None)
@given(layouts(), st.sampled_from(FORMATS))
def test_clone_to_and_contiguous_give_torchs_strides_and_values(torch, layout, name):
    t, g = _pair(torch, layout)
    tf, gf = getattr(torch, name), getattr(gg, name)
    known = g.stride() == t.stride()
    _same_result(torch, lambda: t.clone(memory_format=tf), lambda: g.clone(memory_format=gf), known)
    _same_result(torch, lambda: t.to(memory_format=tf), lambda: g.to(memory_format=gf), known)
    _same_result(torch, lambda: t.to(torch.float32, memory_format=tf), lambda: g.to(gg.float32, memory_format=gf),
                 known)
    _same_result(torch, lambda: t.to(torch.int64, memory_format=tf), lambda: g.to(gg.int64, memory_format=gf), known)
    _same_result(torch, lambda: t.cpu(memory_format=tf), lambda: g.cpu(memory_format=gf), known)
    if name != "preserve_format":
        _same_result(torch, lambda: t.contiguous(memory_format=tf), lambda: g.contiguous(memory_format=gf), known)
    if known:
        try:
            aliased = t.to(memory_format=tf) is t
        except RuntimeError:
            return
        assert (g.to(memory_format=gf) is g) == aliased


@settings(max_examples=120, deadline=None)
@given(layouts())
def test_the_default_preserve_format_of_clone_to_and_the_like_factories_keeps_torchs_strides(torch, layout):
    t, g = _pair(torch, layout)
    if g.stride() != t.stride():  # a view NumPy keeps no strides for (no entries; expanded dims of size 1)
        return
    _same_result(torch, t.clone, g.clone)
    _same_result(torch, lambda: t.to(torch.float32), lambda: g.to(gg.float32))
    _same_result(torch, lambda: t.to(torch.float64, copy=True), lambda: g.to(gg.float64, copy=True))
    for like in ("zeros_like", "ones_like", "empty_like"):
        expected, got = getattr(torch, like)(t), getattr(gg, like)(g)
        assert got.stride() == expected.stride(), like
    assert gg.full_like(g, 2.0).stride() == torch.full_like(t, 2.0).stride()


@settings(max_examples=120, deadline=None)
@given(layouts(), st.sampled_from(FORMATS))
def test_the_like_factories_lay_out_each_format_as_torch(torch, layout, name):
    t, g = _pair(torch, layout)
    tf, gf = getattr(torch, name), getattr(gg, name)
    if g.stride() != t.stride() and name == "preserve_format":  # strides NumPy keeps not: nothing to preserve
        return
    for like, args in [("zeros_like", ()), ("ones_like", ()), ("empty_like", ()), ("full_like", (2.5,)),
                       ("rand_like", ()), ("randn_like", ()), ("randint_like", (5,))]:
        try:
            expected = getattr(torch, like)(t, *args, memory_format=tf)
        except RuntimeError:
            with pytest.raises(RuntimeError):
                getattr(gg, like)(g, *args, memory_format=gf)
            continue
        got = getattr(gg, like)(g, *args, memory_format=gf)
        assert got.stride() == expected.stride(), like
        assert got.dtype == gg.float64, like
        if like in ("zeros_like", "ones_like", "full_like"):
            np.testing.assert_array_equal(got.numpy(), expected.numpy())


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=3, max_size=5), st.sampled_from(FORMATS))
def test_empty_in_a_format_has_torchs_strides_or_its_error(torch, shape, name):
    tf, gf = getattr(torch, name), getattr(gg, name)
    try:
        expected = torch.empty(*shape, memory_format=tf)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            gg.empty(*shape, memory_format=gf)
        return
    got = gg.empty(*shape, memory_format=gf)
    assert got.stride() == expected.stride()
    assert got.is_contiguous(memory_format=gf) == expected.is_contiguous(memory_format=tf)


def test_the_channels_last_tutorials_check_prints_true_as_in_torch():
    x = gg.randn(2, 3, 8, 8)
    y = x.to(memory_format=gg.channels_last)
    assert y.is_contiguous(memory_format=gg.channels_last) and not y.is_contiguous()
    assert y.stride() == (192, 1, 24, 3)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    assert y.to(memory_format=gg.channels_last) is y
    z = gg.randn(2, 3, 4, 5, 6).to(memory_format=gg.channels_last_3d)
    assert z.stride() == (360, 1, 90, 18, 3) and z.is_contiguous(memory_format=gg.channels_last_3d)


@pytest.mark.parametrize("name", ["to", "clone", "contiguous"])
def test_gradients_through_a_change_of_layout_are_torchs(torch, name):
    rng = np.random.default_rng(0)
    data, weight = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 3, 4, 5))
    x, xt = gg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y = getattr(x, name)(memory_format=gg.channels_last)
    yt = getattr(xt, name)(memory_format=torch.channels_last)
    assert y.stride() == yt.stride()
    (y * gg.tensor(weight)).sin().sum().backward()
    (yt * torch.tensor(weight)).sin().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_module_to_channels_last_lays_out_4d_weights_and_refuses_5d_ones_as_torch(torch):
    model = gg.nn.Sequential(gg.nn.Conv2d(3, 4, 3), gg.nn.BatchNorm2d(4), gg.nn.Conv2d(4, 1, 1))
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Conv2d(4, 1, 1))
    before = [p.detach().numpy().copy() for p in model.parameters()]
    assert model.to(memory_format=gg.channels_last) is model
    reference.to(memory_format=torch.channels_last)
    for ours, theirs, old in zip(model.parameters(), reference.parameters(), before):
        assert ours.stride() == theirs.stride()
        assert ours.is_contiguous(memory_format=gg.channels_last) == theirs.is_contiguous(
            memory_format=torch.channels_last)
        np.testing.assert_array_equal(ours.detach().numpy(), old)
    with pytest.raises(RuntimeError):
        torch.nn.Conv3d(2, 2, 1).to(memory_format=torch.channels_last)
    with pytest.raises(RuntimeError, match="rank 4"):
        gg.nn.Conv3d(2, 2, 1).to(memory_format=gg.channels_last)
    with pytest.raises(ValueError):
        torch.nn.LazyConv2d(4, 3).to(memory_format=torch.channels_last)
    with pytest.raises(ValueError, match="example input"):
        gg.nn.LazyConv2d(4, 3).to(memory_format=gg.channels_last)
    conv3 = gg.nn.Conv3d(2, 2, 1).to(memory_format=gg.channels_last_3d)
    assert conv3.weight.is_contiguous(memory_format=gg.channels_last_3d)


def test_a_channels_last_model_trains_to_torchs_numbers(torch):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((2, 3, 6, 6))
    model = gg.nn.Sequential(gg.nn.Conv2d(3, 4, 3), gg.nn.ReLU()).double()
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU()).double()
    with torch.no_grad():
        for ours, theirs in zip(model.parameters(), reference.parameters()):
            theirs.copy_(torch.from_numpy(ours.detach().numpy().copy()))
    model.to(memory_format=gg.channels_last)
    reference.to(memory_format=torch.channels_last)
    assert model[0].weight.stride() == reference[0].weight.stride() == (27, 1, 9, 3)
    out = model(gg.tensor(data).to(memory_format=gg.channels_last))
    out_t = reference(torch.tensor(data).to(memory_format=torch.channels_last))
    np.testing.assert_allclose(out.detach().numpy(), out_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    out.square().sum().backward()
    out_t.square().sum().backward()
    for ours, theirs in zip(model.parameters(), reference.parameters()):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-10)
        assert ours.grad.stride() == theirs.grad.stride()


@pytest.mark.parametrize("op", ["relu", "add", "mul", "sigmoid"])
def test_elementwise_ops_keep_a_channels_last_layout_as_torch(torch, op):
    x = gg.randn(2, 3, 4, 5).to(memory_format=gg.channels_last)
    xt = torch.from_numpy(x.numpy().copy()).to(memory_format=torch.channels_last)
    ops = {"relu": (gg.relu, torch.relu), "add": (lambda t: t + 1, lambda t: t + 1),
           "mul": (lambda t: t * t, lambda t: t * t), "sigmoid": (gg.sigmoid, torch.sigmoid)}
    ours, theirs = ops[op][0](x), ops[op][1](xt)
    assert ours.stride() == theirs.stride()
    assert ours.is_contiguous(memory_format=gg.channels_last)


def test_a_bad_format_or_rank_gets_torchs_error_class(torch):
    x, xt = gg.ones(2, 3, 4), torch.ones(2, 3, 4)
    for make_t, make_g in [(lambda: xt.to(memory_format=torch.channels_last),
                            lambda: x.to(memory_format=gg.channels_last)),
                           (lambda: xt.clone(memory_format=torch.channels_last_3d),
                            lambda: x.clone(memory_format=gg.channels_last_3d)),
                           (lambda: torch.empty(2, 3, memory_format=torch.preserve_format),
                            lambda: gg.empty(2, 3, memory_format=gg.preserve_format))]:
        with pytest.raises(RuntimeError):
            make_t()
        with pytest.raises(RuntimeError) as caught:
            make_g()
        assert "\n" not in str(caught.value)
    with pytest.raises(TypeError):
        x.clone(memory_format="channels_last")
