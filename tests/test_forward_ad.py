"""``torch.autograd.forward_ad`` (glassgrad.forward_ad): dual tensors give PyTorch 2.13's forward-mode tangents
``J·v`` (computed here by the double-backward trick), for functions, layers and ``functional_call`` with dual
parameters, as PyTorch's forward-mode AD tutorial writes them; its errors are PyTorch's. Under
glassgrad.torch_names ``import torch.autograd.forward_ad`` raised "glassgrad has no counterpart"."""

from __future__ import annotations

import doctest
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import glassgrad as gg
from glassgrad import forward_ad

FUNCTIONS = {  # f(lib, x) on a dual x
    "sin·exp": lambda lib, x: x.sin() * x.exp(),
    "x @ xᵀ": lambda lib, x: x.reshape(-1, 1) @ x.reshape(1, -1),
    "softmax": lambda lib, x: x.reshape(-1).softmax(0),
    "relu·3 + x²": lambda lib, x: x.relu() * 3 + x ** 2,
    "tanh, sum": lambda lib, x: x.tanh().sum(),
    "log_softmax, mean": lambda lib, x: lib.nn.functional.log_softmax(x.reshape(1, -1), dim=1).mean(),
    "x / (1 + x²)": lambda lib, x: x / (1 + x * x),
    "logcumsumexp": lambda lib, x: x.reshape(-1).logcumsumexp(0),  # its backward sums the upstream's signs apart
}


def tangent_of(library, fwad, name, primal, tangent):
    x = library.tensor(primal)
    with fwad.dual_level():
        out = FUNCTIONS[name](library, fwad.make_dual(x, library.tensor(tangent)))
        found = fwad.unpack_dual(out)
        return found.primal.detach().numpy(), found.tangent.numpy()


@pytest.mark.torch
@pytest.mark.parametrize("name", FUNCTIONS)
@settings(deadline=None)
@given(shape=array_shapes(min_dims=1, max_dims=2, max_side=4), seed=st.integers(0, 2**16))
def test_a_functions_tangent_is_pytorchs_forward_mode(torch, name, shape, seed):
    import torch.autograd.forward_ad as pytorchs

    rng = np.random.default_rng(seed)
    primal, tangent = rng.standard_normal(shape), rng.standard_normal(shape)
    mine, theirs = tangent_of(gg, forward_ad, name, primal, tangent), tangent_of(torch, pytorchs, name, primal,
                                                                                  tangent)
    for found, expected in zip(mine, theirs):
        np.testing.assert_allclose(found, expected, rtol=1e-10, atol=1e-12)


def module_jvp(library, fwad, functional_call, seed):
    """The tutorial's pattern: a layer's parameters made dual, the forward run by functional_call."""
    rng = np.random.default_rng(seed)
    model = library.nn.Sequential(library.nn.Linear(3, 4), library.nn.Tanh(), library.nn.Linear(4, 2))
    with library.no_grad():
        for p in model.parameters():
            p.copy_(library.tensor(rng.standard_normal(tuple(p.shape)), dtype=library.float32))
    x = library.tensor(rng.standard_normal((5, 3)), dtype=library.float32)
    tangents = {name: library.tensor(rng.standard_normal(tuple(p.shape)), dtype=library.float32)
                for name, p in model.named_parameters()}
    with fwad.dual_level():
        dual = {name: fwad.make_dual(p, tangents[name]) for name, p in model.named_parameters()}
        out = functional_call(model, dual, (x,))
        return fwad.unpack_dual(out).tangent.detach().numpy()


@pytest.mark.torch
@given(seed=st.integers(0, 2**16))
def test_dual_parameters_through_functional_call_give_pytorchs_tangent(torch, seed):
    import torch.autograd.forward_ad as pytorchs
    from torch.func import functional_call as theirs

    np.testing.assert_allclose(module_jvp(gg, forward_ad, gg.func.functional_call, seed),
                               module_jvp(torch, pytorchs, theirs, seed), rtol=1e-4, atol=1e-6)


@pytest.mark.torch
@settings(deadline=None)
@given(size=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_every_jvp_of_a_backward_that_sums_signs_apart_is_pytorchs_forward_mode(torch, size, seed):
    """logcumsumexp's backward is linear in its upstream only away from 0, where the double-backward trick's seed
    once sat: func.jvp, autograd.functional.jvp and hvp read J·v = 0 there (PyTorch's functional.jvp and hvp, which
    seed zeros, read NaN: its torch.func forward mode is the oracle)."""
    rng = np.random.default_rng(seed)
    primal, tangent = rng.standard_normal(size), rng.standard_normal(size)
    (_, expected) = torch.func.jvp(lambda t: t.logcumsumexp(0), (torch.tensor(primal),), (torch.tensor(tangent),))
    x, v = gg.tensor(primal), gg.tensor(tangent)
    found = [gg.func.jvp(lambda t: t.logcumsumexp(0), (x,), (v,))[1],
             gg.autograd.functional.jvp(lambda t: t.logcumsumexp(0), x, v)[1]]
    for tangent_found in found:
        np.testing.assert_allclose(tangent_found.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    (_, expected_hv) = torch.func.jvp(torch.func.grad(lambda t: t.logcumsumexp(0).sum()), (torch.tensor(primal),),
                                      (torch.tensor(tangent),))
    (_, hv) = gg.autograd.functional.hvp(lambda t: t.logcumsumexp(0).sum(), x, v)
    np.testing.assert_allclose(hv.numpy(), expected_hv.numpy(), rtol=1e-10, atol=1e-12)


def test_by_hand_the_tangent_of_x_squared_is_two_x_v():
    """d(x²) = 2x·dx: x = (1, 2), v = (1, 0) gives (2, 0); the dual itself carries v; a tensor made of no dual
    has no tangent; after the level closes nothing does."""
    x, v = gg.tensor([1.0, 2.0]), gg.tensor([1.0, 0.0])
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x, v)
        assert forward_ad.unpack_dual(dual ** 2).tangent.tolist() == [2.0, 0.0]
        assert forward_ad.unpack_dual(dual).tangent.tolist() == [1.0, 0.0]
        assert forward_ad.unpack_dual(gg.ones(2) * 3).tangent is None
    assert forward_ad.unpack_dual(dual ** 2).tangent is None
    assert doctest.testmod(forward_ad).failed == 0


@pytest.mark.torch
def test_misuse_raises_pytorchs_errors(torch):
    import torch.autograd.forward_ad as pytorchs

    for library, fwad in ((torch, pytorchs), (gg, forward_ad)):
        with pytest.raises(RuntimeError, match="no level exists"):
            fwad.make_dual(library.ones(2), library.ones(2))
        with fwad.dual_level():
            with pytest.raises(RuntimeError, match="different size|shape"):
                fwad.make_dual(library.ones(2), library.ones(3))
            with pytest.raises(ValueError, match="floating point"):
                fwad.make_dual(library.ones(2, dtype=library.int64), library.ones(2, dtype=library.int64))
            with pytest.raises(TypeError):
                fwad.unpack_dual(3.0)
            # an integer tangent and the dual of a dual were taken here (the tangent cast, the second one made)
            with pytest.raises(ValueError, match="Expected tangent to be floating point"):
                fwad.make_dual(library.ones(2), library.ones(2, dtype=library.int64))
            dual = fwad.make_dual(library.ones(2), library.ones(2))
            with pytest.raises(RuntimeError, match="Making a dual Tensor based on a Tensor that already has a "
                                                   "forward gradient at the same level"):
                fwad.make_dual(dual, library.ones(2))
            with pytest.raises(RuntimeError, match="Nested forward mode AD is not supported"), fwad.dual_level():
                pass


def test_pytorchs_module_name_imports():
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install()\n"
                           "import torch.autograd.forward_ad as fwAD; print(fwAD.dual_level.__module__)"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "glassgrad.forward_ad"


def test_a_loss_on_the_tangent_backpropagates_to_the_weights():
    """A JVP penalty: y = sin(x·w) with x dual (tangent v), J·v = cos(xw)·w·v, L = Σ (J·v)². By hand
    ∂L/∂w = 2·(J·v)·v·(cos(xw) − xw·sin(xw)). The tangent came back detached, so w.grad stayed None."""
    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 2.0, -0.5])
    w = gg.tensor([0.5, 0.1, -0.7], dtype=gg.float64, requires_grad=True)
    with forward_ad.dual_level():
        y = (forward_ad.make_dual(gg.tensor(x, dtype=gg.float64), gg.tensor(v, dtype=gg.float64)) * w).sin()
        tangent = forward_ad.unpack_dual(y).tangent
    (tangent ** 2).sum().backward()
    a = w.detach().numpy()
    jv = np.cos(x * a) * a * v
    np.testing.assert_allclose(tangent.detach().numpy(), jv, rtol=1e-14)
    np.testing.assert_allclose(w.grad.numpy(), 2 * jv * v * (np.cos(x * a) - x * a * np.sin(x * a)), rtol=1e-13)


@pytest.mark.torch
def test_a_tangent_depends_on_the_primal_and_the_tangent_given_as_pytorchs(torch):
    found = []
    for lib in (gg, torch):
        forward_ad = lib.autograd.forward_ad
        x = lib.tensor([0.3, -0.7, 1.2], dtype=lib.float64, requires_grad=True)
        t = lib.tensor([1.0, 0.5, -2.0], dtype=lib.float64, requires_grad=True)
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(x, t)
            primal, tangent = forward_ad.unpack_dual(dual.sin() * dual)
        ((tangent ** 2).sum() + primal.sum()).backward()
        found.append((tangent.detach().numpy(), x.grad.numpy(), t.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13)


IN_PLACE = {  # g(lib, y) changing y (a copy of the dual, or made from it) in place
    "mul_": lambda lib, y: y.mul_(3.0),
    "add_ itself": lambda lib, y: y.add_(y.detach() * 0 + y),
    "sin_": lambda lib, y: y.sin_(),
    "setitem": lambda lib, y: y.__setitem__(0, 5.0),
    "zero_": lambda lib, y: y.zero_(),
    "unsqueeze_": lambda lib, y: y.unsqueeze_(0),
}


def tangent_under_no_grad(library, fwad, name, primal, tangent, weights, change):
    """The tangent of FUNCTIONS[name] (then a layer's weights, or the change in place) computed under no_grad."""
    x = library.tensor(primal)
    with fwad.dual_level():
        dual = fwad.make_dual(x, library.tensor(tangent))
        with library.no_grad():
            out = FUNCTIONS[name](library, dual) * library.tensor(weights).reshape(-1)[0]
            if change is not None:
                out = out.reshape(-1).clone()
                IN_PLACE[change](library, out)
            found = fwad.unpack_dual(out)
        return (found.primal.detach().numpy(), None if found.tangent is None else found.tangent.numpy(),
                found.tangent is not None and found.tangent.requires_grad)


@pytest.mark.torch
@pytest.mark.parametrize("name", FUNCTIONS)
@settings(deadline=None, max_examples=15)
@given(shape=array_shapes(min_dims=1, max_dims=2, max_side=3), seed=st.integers(0, 2**16),
       change=st.sampled_from([None, *IN_PLACE]))
def test_tangents_are_carried_under_no_grad_as_pytorchs(torch, name, shape, seed, change):
    """PyTorch's no_grad stops only the recording for backward: a dual's tangent is carried through ops and in-place
    changes inside it (glassgrad gave None, the ops not being recorded); a weight that requires grad stays out of the
    tangent's graph."""
    import torch.autograd.forward_ad as pytorchs

    rng = np.random.default_rng(seed)
    primal, tangent, weights = rng.standard_normal(shape), rng.standard_normal(shape), rng.standard_normal(2)
    mine = tangent_under_no_grad(gg, forward_ad, name, primal, tangent, weights, change)
    theirs = tangent_under_no_grad(torch, pytorchs, name, primal, tangent, weights, change)
    for found, expected in zip(mine[:2], theirs[:2]):
        np.testing.assert_allclose(found, expected, rtol=1e-10, atol=1e-12)
    assert mine[2] is theirs[2] is False


@pytest.mark.torch
def test_jvp_and_make_dual_inside_no_grad_and_inference_mode_are_pytorchs(torch):
    """func.jvp and make_dual of a primal that requires grad work inside no_grad; inference_mode drops the tangent,
    as PyTorch's; a dual itself changed in place is refused in one line (PyTorch changes its tangent too)."""
    import torch.autograd.forward_ad as pytorchs

    found = {}
    for library, fwad in ((gg, forward_ad), (torch, pytorchs)):
        primal = library.tensor([0.5, -1.0, 2.0], requires_grad=True)
        with library.no_grad():
            _, jvp = library.func.jvp(lambda x: (x * x).sin(), (primal.detach(),), (library.ones(3),))
            with fwad.dual_level():
                carried = fwad.unpack_dual(fwad.make_dual(primal, library.ones(3)).exp()).tangent
        with fwad.dual_level():
            dual = fwad.make_dual(primal.detach(), library.ones(3))
            with library.inference_mode():
                dropped = fwad.unpack_dual(dual * 2).tangent
        found[library] = (jvp.numpy(), carried.detach().numpy(), dropped)
    for mine, theirs in zip(found[gg][:2], found[torch][:2]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-6)
    assert found[gg][2] is found[torch][2] is None
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(gg.zeros(2), gg.ones(2))
        with gg.no_grad(), pytest.raises(RuntimeError, match="dual tensor of forward AD is such a leaf") as error:
            dual.mul_(2)
    assert "\n" not in str(error.value)
