"""Forward mode against PyTorch 2.13: ``forward_ad``'s tangents, ``func.jvp``, ``jacfwd``, ``hessian`` and
``autograd.functional``'s forward-mode strategy on random small programs (kinks at 0, ties, views, in-place changes),
and the cases where PyTorch's forward-mode rule is not its backward's transpose: a write at a repeated index (the
last write's tangent wins, the backward gives every write the gradient) and ``embedding``'s ``padding_idx`` and
``scale_grad_by_freq`` (the tangent is the lookup of the table's). Also a step function's zero tangent through
``unpack_dual`` and the errors of a tangent of another dtype."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad import forward_ad

TABLE = np.array([[1.0, 2.0], [3.0, 4.0]])
TABLE_TANGENT = np.array([[10.0, 20.0], [30.0, 40.0]])

WRITES = {  # f(lib, w) of a 2×2 tensor w, each with an index that repeats
    "scatter": lambda L, w: L.zeros(4, dtype=w.dtype).scatter(0, L.tensor([3, 3]), w[:, 0]),
    "scatter 2-d": lambda L, w: L.zeros(2, 3, dtype=w.dtype).scatter(1, L.tensor([[2, 2], [0, 0]]), w),
    "index_put": lambda L, w: L.zeros(4, dtype=w.dtype).index_put((L.tensor([1, 1]),), w[0]),
    "index_copy": lambda L, w: L.zeros(4, 2, dtype=w.dtype).index_copy(0, L.tensor([1, 1]), w),
    "put": lambda L, w: L.zeros(4, dtype=w.dtype).put(L.tensor([3, 3]), w[:, 0]),
    "x[i] = v": lambda L, w: _written(L.zeros(4, dtype=w.dtype), L.tensor([2, 2]), w[1]),
    "x[i] = one number": lambda L, w: _written(L.zeros(4, dtype=w.dtype), L.tensor([2, 2]), w[1, 1]),
    "x[i, :] = rows": lambda L, w: _written(L.zeros(3, 2, dtype=w.dtype), (L.tensor([0, 0, 1]), slice(None)),
                                            w.reshape(-1)[:3, None]),
    "embedding padding_idx": lambda L, w: L.nn.functional.embedding(L.tensor([0, 1, 0]), w, padding_idx=0),
    "embedding scale_grad_by_freq": lambda L, w: L.nn.functional.embedding(L.tensor([0, 1, 0]), w,
                                                                           scale_grad_by_freq=True),
}


def _written(target, index, value):
    target[index] = value
    return target


def _dual_tangent(library, fwad, function, primal, tangent):
    with fwad.dual_level():
        found = fwad.unpack_dual(function(library, fwad.make_dual(library.tensor(primal), library.tensor(tangent))))
        return None if found.tangent is None else found.tangent.detach().numpy()


@pytest.mark.torch
@pytest.mark.parametrize("name", WRITES)
def test_a_write_at_a_repeated_index_carries_the_last_writes_tangent(torch, name):
    import torch.autograd.forward_ad as pytorchs

    np.testing.assert_array_equal(_dual_tangent(gg, forward_ad, WRITES[name], TABLE, TABLE_TANGENT),
                                  _dual_tangent(torch, pytorchs, WRITES[name], TABLE, TABLE_TANGENT))


@pytest.mark.torch
@pytest.mark.parametrize("name", WRITES)
def test_func_jvp_of_a_write_at_a_repeated_index_is_pytorchs(torch, name):
    def jvp(library):
        return library.func.jvp(lambda w: WRITES[name](library, w), (library.tensor(TABLE),),
                                (library.tensor(TABLE_TANGENT),))[1].numpy()

    np.testing.assert_array_equal(jvp(gg), jvp(torch))


@pytest.mark.torch
@pytest.mark.parametrize("name", WRITES)
def test_forward_mode_jacobians_of_a_write_at_a_repeated_index_are_pytorchs(torch, name):
    def jacobians(library):
        f, w = (lambda w: WRITES[name](library, w)), library.tensor(TABLE)
        squares = lambda w: (f(w) ** 2).sum()  # noqa: E731
        functional = library.autograd.functional
        found = [library.func.jacfwd(f)(w), functional.jacobian(f, w, strategy="forward-mode", vectorize=True),
                 library.func.hessian(squares)(w),
                 functional.hessian(squares, w, outer_jacobian_strategy="forward-mode", vectorize=True)]
        if name != "embedding scale_grad_by_freq":  # (PyTorch's double backward of it drops the scaling: not here)
            found.append(functional.hessian(squares, w))  # reverse over reverse: PyTorch's backward of the backward
        return found

    for ours, theirs in zip(jacobians(gg), jacobians(torch)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(force=True))


@pytest.mark.torch
@pytest.mark.parametrize("step", ["floor", "ceil", "round", "trunc", "sign"])
def test_a_step_functions_tangent_is_zeros(torch, step):
    """unpack_dual raised 'does not require grad' where PyTorch gives zeros."""
    import torch.autograd.forward_ad as pytorchs

    function = lambda L, x: getattr(x, step)() * 2  # noqa: E731
    primal, tangent = np.array([1.5, -0.3, 2.0]), np.array([1.0, 2.0, 3.0])
    ours = _dual_tangent(gg, forward_ad, function, primal, tangent)
    np.testing.assert_array_equal(ours, _dual_tangent(torch, pytorchs, function, primal, tangent))
    np.testing.assert_array_equal(_dual_tangent(gg, forward_ad, lambda L, x: function(L, x) + x, primal, tangent),
                                  tangent)


@pytest.mark.torch
def test_jacfwd_of_an_integer_output_is_integer_zeros(torch):
    for library in (gg, torch):
        found = library.func.jacfwd(lambda x: ((x * 2).long(), x.sin()))(library.ones(2))
        assert str(found[0].dtype).endswith("int64") and not found[0].numpy().any()
        np.testing.assert_allclose(found[1].numpy(), np.diag(np.cos(np.ones(2))), rtol=1e-6)


@pytest.mark.torch
def test_a_tangent_that_is_not_floating_point_is_refused_as_in_pytorch(torch):
    for library in (gg, torch):
        with pytest.raises(ValueError, match="floating point") as caught:
            library.func.jvp(lambda x: x * 2, (library.ones(2),), (library.ones(2, dtype=library.long),))
        assert "\n" not in str(caught.value) or library is torch


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["float64", "int64"])
def test_linearize_refuses_a_tangent_of_another_dtype(torch, dtype):
    for library in (gg, torch):
        jvp_fn = library.func.linearize(lambda x: x * 2, library.ones(2))[1]
        with pytest.raises(RuntimeError, match="dtype"):
            jvp_fn(library.ones(2, dtype=getattr(library, dtype)))


# --- random programs ----------------------------------------------------------------------------

def _rows(h):
    return h.reshape(2, -1) if h.numel() % 2 == 0 else h.reshape(1, -1)


PROGRAM_OPS = {  # each f(lib, h) takes and gives a float tensor of at least one entry
    "relu": lambda L, h: h.relu(), "abs": lambda L, h: h.abs(), "clamp": lambda L, h: h.clamp(-0.5, 0.5),
    "maximum": lambda L, h: L.maximum(h, h.flip(-1)), "minimum 0": lambda L, h: L.minimum(h, L.zeros_like(h)),
    "sin": lambda L, h: h.sin(), "tanh": lambda L, h: h.tanh(), "x/(1+x²)": lambda L, h: h / (1 + h * h),
    "sqrt(x²+1)": lambda L, h: (h * h + 1).sqrt(), "floor + x": lambda L, h: h.floor() + h,
    "sign·x": lambda L, h: h.sign() * h, "hardtanh": lambda L, h: L.nn.functional.hardtanh(h),
    "sum(-1)": lambda L, h: h.sum(-1), "mean keepdim": lambda L, h: h.mean(0, keepdim=True),
    "prod(-1)": lambda L, h: h.prod(-1), "amax": lambda L, h: h.amax(-1), "max()": lambda L, h: h.max(),
    "min(0)": lambda L, h: h.min(0, keepdim=True).values, "logsumexp": lambda L, h: h.logsumexp(-1),
    "norm": lambda L, h: h.norm(dim=-1), "var": lambda L, h: h.var(-1, correction=0),
    "cumprod": lambda L, h: h.cumprod(-1), "sort": lambda L, h: h.sort(-1).values,
    "matmul": lambda L, h: _rows(h) @ _rows(h).T, "softmax": lambda L, h: h.softmax(-1),
    "log_softmax": lambda L, h: h.log_softmax(0), "gather": lambda L, h: _rows(h).gather(
        1, L.zeros(_rows(h).shape[0], 2, dtype=L.long)), "index": lambda L, h: h.reshape(-1)[L.tensor([0, 0, -1])],
    "masked_fill": lambda L, h: h.masked_fill(h > 0, 0.0), "where": lambda L, h: L.where(h > 0, h, h * h),
    "cat": lambda L, h: L.cat([h, h * 2], -1), "transpose": lambda L, h: _rows(h).t(),
    "scatter repeated": lambda L, h: L.zeros(5, dtype=h.dtype).scatter(0, L.tensor([1, 1, 3]),
                                                                       h.reshape(-1)[:1].expand(3) * L.tensor(
                                                                           [1.0, 2.0, 3.0], dtype=h.dtype)),
    "cross_entropy": lambda L, h: L.nn.functional.cross_entropy(_rows(h), L.zeros(_rows(h).shape[0],
                                                                                      dtype=L.long)),
    "layer_norm": lambda L, h: L.nn.functional.layer_norm(h, h.shape[-1:]),
    "conv1d": lambda L, h: L.nn.functional.conv1d(h.reshape(1, 1, -1), L.tensor([[[0.5, -1.0]]], dtype=h.dtype),
                                                  padding=1),
    "in-place relu": lambda L, h: (h + 0).relu_(), "in-place view": lambda L, h: _scaled_first(h.clone()),
}


def _scaled_first(t):
    t[..., :1].mul_(5)
    return t


programs = st.tuples(
    st.lists(st.integers(1, 3), min_size=1, max_size=3),
    st.lists(st.sampled_from(sorted(PROGRAM_OPS)), min_size=1, max_size=5),
    st.integers(0, 2**32 - 1), st.booleans())


def _program_inputs(sizes, seed, on_a_grid):
    rng = np.random.default_rng(seed)
    primal = rng.integers(-2, 3, size=sizes) / 2.0 if on_a_grid else rng.standard_normal(sizes)  # ties, kinks
    return primal, rng.standard_normal(sizes)


def _run(library, names):
    def function(_, h):
        for name in names:
            h = PROGRAM_OPS[name](library, h)
            h = h.reshape(1) if h.dim() == 0 else h  # every op takes a tensor with a dim
        return h
    return function


def _close(ours, theirs):
    if ours is None or theirs is None:
        assert ours is None and theirs is None
    else:
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


@pytest.mark.torch
@settings(max_examples=120, deadline=None)
@given(program=programs)
def test_a_random_programs_forward_ad_tangent_is_pytorchs(torch, program):
    import torch.autograd.forward_ad as pytorchs

    sizes, names, seed, on_a_grid = program
    primal, tangent = _program_inputs(sizes, seed, on_a_grid)
    _close(_dual_tangent(gg, forward_ad, _run(gg, names), primal, tangent),
           _dual_tangent(torch, pytorchs, _run(torch, names), primal, tangent))


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(program=programs)
def test_a_random_programs_jvp_and_jacfwd_are_pytorchs(torch, program):
    sizes, names, seed, on_a_grid = program
    names = [name for name in names if not name.startswith("in-place")]  # torch.func refuses them on its inputs
    primal, tangent = _program_inputs(sizes, seed, on_a_grid)

    def results(library):
        f = lambda x: _run(library, names)(library, x)  # noqa: E731
        x, v = library.tensor(primal), library.tensor(tangent)
        return [library.func.jvp(f, (x,), (v,))[1], library.func.jacfwd(f)(x),
                library.func.hessian(lambda x: f(x).sum())(x)]

    for ours, theirs in zip(results(gg), results(torch)):
        _close(ours.numpy(), theirs.numpy(force=True))  # force: PyTorch may give a ZeroTensor
