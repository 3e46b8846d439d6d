"""NumPy's keyword names ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, taken wherever PyTorch 2.13
takes them (its argument parser maps them for every built-in function and method): each call against PyTorch's
result, in float64, on hypothesis-drawn matrices. Before glassgrad.numpy_keywords all but a few of these raised
``TypeError: … got an unexpected keyword argument 'axis'`` (d2l.ai's ``y_hat.argmax(axis=1)`` among them)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

CALLS = {  # name: the call, written once for both libraries
    "argmax": lambda lib, x: x.argmax(axis=1),
    "argmin function": lambda lib, x: lib.argmin(x, axis=0, keepdims=True),
    "cumsum": lambda lib, x: x.cumsum(axis=0),
    "cumsum function": lambda lib, x: lib.cumsum(x, axis=1),
    "cumprod": lambda lib, x: x.cumprod(axis=1),
    "softmax": lambda lib, x: x.softmax(axis=0),
    "log_softmax function": lambda lib, x: lib.log_softmax(x, axis=1),
    "logsumexp": lambda lib, x: x.logsumexp(axis=0, keepdims=True),
    "logsumexp function": lambda lib, x: lib.logsumexp(x, axis=1),
    "cat": lambda lib, x: lib.cat((x, x * 2), axis=1),
    "concat": lambda lib, x: lib.concat([x, x], axis=0),
    "stack": lambda lib, x: lib.stack([x, x], axis=2),
    "prod": lambda lib, x: x.prod(axis=1, keepdims=True),
    "amax": lambda lib, x: x.amax(axis=0),
    "amin keepdims": lambda lib, x: x.amin(axis=1, keepdims=True),
    "all": lambda lib, x: (x > 0).all(axis=1),
    "any function": lambda lib, x: lib.any(x > 0, axis=0),
    "sort values": lambda lib, x: x.sort(axis=0)[0],
    "argsort": lambda lib, x: x.argsort(axis=1),
    "topk": lambda lib, x: x.topk(1, axis=0)[0],
    "median": lambda lib, x: x.median(axis=0)[0],
    "nansum": lambda lib, x: x.nansum(axis=1),
    "nanmean": lambda lib, x: x.nanmean(axis=0, keepdims=True),
    "count_nonzero": lambda lib, x: (x > 0).count_nonzero(axis=0),
    "squeeze": lambda lib, x: x[:1].squeeze(axis=0),
    "unsqueeze": lambda lib, x: x.unsqueeze(axis=1),
    "chunk": lambda lib, x: x.chunk(2, axis=1)[0],
    "unbind": lambda lib, x: x.unbind(axis=1)[0],
    "index_select": lambda lib, x: x.index_select(axis=1, index=lib.tensor([0, 0])),
    "gather": lambda lib, x: x.gather(axis=1, index=lib.zeros(x.shape[0], 1, dtype=lib.int64)),
    "diff": lambda lib, x: x.diff(axis=0),
    "logcumsumexp": lambda lib, x: x.logcumsumexp(axis=1),
    "linalg.norm": lambda lib, x: lib.linalg.norm(x, axis=1, keepdims=True),
    "linalg.vector_norm": lambda lib, x: lib.linalg.vector_norm(x, axis=0),
    "std_mean function": lambda lib, x: lib.std_mean(x, axis=0)[0],
    "repeat_interleave": lambda lib, x: x.repeat_interleave(2, axis=0),
    "narrow": lambda lib, x: x.narrow(axis=1, start=0, length=1),
    "select": lambda lib, x: x.select(axis=1, index=0),
    "tensor_split": lambda lib, x: x.tensor_split(2, axis=1)[1],
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=4, deadline=None)
@given(rows=st.integers(2, 4), columns=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_numpy_keyword_names_give_pytorchs_results(torch, name, rows, columns, seed):
    x = np.random.default_rng(seed).normal(size=(rows, columns))
    ours, theirs = CALLS[name](gg, gg.tensor(x)), CALLS[name](torch, torch.tensor(x))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy().astype(float), theirs.numpy().astype(float), rtol=1e-12, atol=1e-12)


def test_the_gradient_flows_through_a_numpy_keyword_call():
    x = gg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x.softmax(axis=1).select(axis=1, index=0).sum().backward()
    p = np.exp([[1.0, 2.0], [3.0, 4.0]])
    p /= p.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), p[:, :1] * (np.eye(2)[0] - p), rtol=1e-6)  # ∂pᵢ₀/∂xᵢⱼ


def test_both_names_at_once_are_refused_in_one_line():
    x = gg.ones(2, 3)
    with pytest.raises(TypeError, match=r"argmax: got both dim= and NumPy's name for it, axis=; give one"):
        x.argmax(dim=0, axis=1)


def test_a_wrapped_function_keeps_its_name_signature_and_documentation():
    for function in (gg.Tensor.cumsum, gg.cat):
        assert "dim" in inspect.signature(function).parameters and function.__doc__ == function.__wrapped__.__doc__
    assert gg.argmax.__name__ == "argmax" and gg.argmax.__doc__ == gg.argmax.__wrapped__.__doc__
    assert not hasattr(gg.Tensor.sum, "__wrapped__")  # sum takes axis= itself: left as it is


def test_a_method_takes_no_out_where_its_function_form_does():
    """``gg.where(c, a, b, out=o)`` raised TypeError (no out=) because ``gg.where`` is also ``Tensor.where``; each
    form has its own wrapper now, and the method and ``nn.functional``'s form still refuse out=, as PyTorch's."""
    x, out = gg.ones(2), gg.empty(2)
    assert gg.sigmoid(x, out=out) is out and gg.where(x > 0, x, x, out=out) is out
    for method_form in (x.sigmoid, gg.nn.functional.sigmoid):
        with pytest.raises(TypeError, match="out"):
            method_form(out=out) if method_form is x.sigmoid else method_form(x, out=out)


OUT_CALLS = {  # name: (the call, the out tensor(s) to give), written once for both libraries
    "matmul": (lambda lib, x, out: lib.matmul(x, x.T, out=out), lambda lib, x: lib.empty(x.shape[0], x.shape[0])),
    "mul": (lambda lib, x, out: lib.mul(x, x, out=out), lambda lib, x: lib.empty(*x.shape)),
    "add alpha": (lambda lib, x, out: lib.add(x, x, alpha=2, out=out), lambda lib, x: lib.empty(*x.shape)),
    "exp": (lambda lib, x, out: lib.exp(x, out=out), lambda lib, x: lib.empty(*x.shape)),
    "sum dim": (lambda lib, x, out: lib.sum(x, 1, out=out), lambda lib, x: lib.empty(x.shape[0])),
    "cat": (lambda lib, x, out: lib.cat([x, x], 0, out=out), lambda lib, x: lib.empty(2 * x.shape[0], x.shape[1])),
    "max dim": (lambda lib, x, out: lib.max(x, 1, out=out),
                lambda lib, x: (lib.empty(x.shape[0]), lib.empty(x.shape[0], dtype=lib.int64))),
    "zeros": (lambda lib, x, out: lib.zeros(2, 3, out=out), lambda lib, x: lib.empty(2, 3)),
    "special.expit": (lambda lib, x, out: lib.special.expit(x, out=out), lambda lib, x: lib.empty(*x.shape)),
    "linalg.vector_norm": (lambda lib, x, out: lib.linalg.vector_norm(x, dim=0, out=out),
                           lambda lib, x: lib.empty(x.shape[1])),
    # functions that are also Tensor methods (the method takes no out=, the function does)
    "where": (lambda lib, x, out: lib.where(x > 0, x, -x, out=out), lambda lib, x: lib.empty(*x.shape)),
    "addcmul": (lambda lib, x, out: lib.addcmul(x, x, x, value=0.5, out=out), lambda lib, x: lib.empty(*x.shape)),
    "sigmoid": (lambda lib, x, out: lib.sigmoid(x, out=out), lambda lib, x: lib.empty(*x.shape)),
    "linalg.inv": (lambda lib, x, out: lib.linalg.inv(x[:, :3] + 3 * lib.eye(3), out=out),
                   lambda lib, x: lib.empty(3, 3)),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(OUT_CALLS))
def test_out_writes_the_result_into_the_given_tensor_as_pytorch(torch, name):
    """``torch.matmul(tensor, tensor.T, out=y3)`` (PyTorch's "Tensors" tutorial) raised TypeError: no out=."""
    call, make_out = OUT_CALLS[name]
    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    found = []
    for lib in (gg, torch):
        out = make_out(lib, lib.tensor(x))
        returned = call(lib, lib.tensor(x), out)
        outs = out if isinstance(out, tuple) else (out,)
        assert all(a is b for a, b in zip(returned if isinstance(returned, tuple) else (returned,), outs))
        found.append([o.numpy().copy() for o in outs])
    for ours, theirs in zip(*found):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.torch
def test_out_resizes_casts_and_refuses_as_pytorch(torch):
    a = gg.ones(2, 2)
    with pytest.warns(UserWarning, match="an output with one or more elements was resized since it had shape"):
        resized = gg.add(a, a, out=gg.empty(3))
    assert tuple(resized.shape) == (2, 2) and resized.tolist() == [[2.0, 2.0], [2.0, 2.0]]
    assert gg.add(a, a, out=gg.empty(0)).tolist() == [[2.0, 2.0], [2.0, 2.0]]  # an empty out resizes quietly
    wider = gg.empty(2, 2, dtype=gg.float64)
    assert gg.add(a, a, out=wider).dtype == gg.float64
    with pytest.raises(RuntimeError, match="result type float32 can't be cast to the desired output type int64"):
        gg.add(a, a, out=gg.empty(2, 2, dtype=gg.int64))
    with pytest.raises(RuntimeError, match=r"exp\(\): functions with out=... arguments don't support automatic"):
        gg.exp(gg.ones(2, requires_grad=True), out=gg.empty(2))
    with gg.no_grad():
        assert gg.exp(gg.zeros(2, requires_grad=True), out=gg.empty(2)).tolist() == [1.0, 1.0]
    assert gg.add(a, a, out=None).tolist() == [[2.0, 2.0], [2.0, 2.0]]
    with pytest.raises(TypeError, match="out= takes one tensor for each result"):
        gg.add(a, a, out=[1.0])
    with pytest.raises(RuntimeError):
        torch.add(torch.ones(2, 2), torch.ones(2, 2), out=torch.empty(2, 2, dtype=torch.int64))
