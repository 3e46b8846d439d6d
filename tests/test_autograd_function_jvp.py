"""A custom ``autograd.Function``'s forward-mode rule: ``ctx.save_for_forward`` and ``jvp``, as in PyTorch's
forward-mode AD tutorial.

Oracles: PyTorch 2.13's forward mode (``forward_ad`` and ``torch.func.jvp``), with a ``jvp`` that is deliberately
not the derivative its ``backward`` gives (so a result computed from ``backward`` cannot pass), and hand-derived
tangents. Before, ``ctx.save_for_forward`` raised AttributeError and a class's ``jvp`` was never called.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


def define(base):
    """Two outputs, two tensors and a number in; ``jvp`` is 3× the true derivative of the first output."""

    class ScaledProduct(base):
        @staticmethod
        def forward(x, w, k):
            return x * w * k, (x * x).sum()

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, w, k = inputs
            ctx.save_for_forward(x, w)
            ctx.save_for_backward(x, w)
            ctx.k = k

        @staticmethod
        def backward(ctx, grad_product, grad_squares):
            x, w = ctx.saved_tensors
            return grad_product * w * ctx.k + 2 * x * grad_squares, grad_product * x * ctx.k, None

        @staticmethod
        def jvp(ctx, tangent_x, tangent_w, tangent_k):
            x, w = ctx.saved_tensors
            return 3 * (tangent_x * w + x * tangent_w) * ctx.k, (2 * x * tangent_x).sum()

    class ExpForwardOnly(base):
        """The tutorial's shape: forward(ctx, x), only a jvp (no backward)."""

        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_forward(out)
            return out

        @staticmethod
        def jvp(ctx, tangent):
            (out,) = ctx.saved_tensors
            return out * tangent

    return ScaledProduct, ExpForwardOnly


MINE = define(gg.autograd.Function)


def tangents(library, classes, x, w, vx, vw):
    """The tangents of every way into forward mode, and one reverse-mode gradient (which must use backward)."""
    scaled, exp_only = classes
    fwad = importlib.import_module("torch.autograd.forward_ad") if library.__name__ == "torch" else gg.forward_ad
    x, w, vx, vw = (library.tensor(a) for a in (x, w, vx, vw))
    found = []
    with fwad.dual_level():
        product, squares = scaled.apply(fwad.make_dual(x.sin(), vx), fwad.make_dual(w, vw), 2.0)
        found += [fwad.unpack_dual(product.exp()).tangent, fwad.unpack_dual(squares).tangent]
        found.append(fwad.unpack_dual(exp_only.apply(fwad.make_dual(x, vx)) * w).tangent)
    found += list(library.func.jvp(lambda x, w: scaled.apply(x, w, 2.0)[0].tanh(), (x, w), (vx, vw))[1:])
    leaf = x.clone().requires_grad_()
    scaled.apply(leaf, w, 2.0)[0].sum().backward()
    found.append(leaf.grad)
    return [np.asarray(tangent.detach().numpy()) for tangent in found]


@pytest.mark.torch
@settings(deadline=None)
@given(size=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_a_functions_own_jvp_gives_pytorchs_forward_mode_tangents(torch, size, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(size) for _ in range(4)]
    for mine, theirs in zip(tangents(gg, MINE, *arrays), tangents(torch, define(torch.autograd.Function), *arrays),
                            strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_by_hand_the_tangent_is_the_jvp_and_the_gradient_is_the_backward():
    """``jvp`` says 3·k·w·t for the product, ``backward`` k·w·g: forward mode reads the first, reverse the second."""
    scaled, _ = MINE
    x, w, k = gg.tensor([1.0, 2.0]), gg.tensor([0.5, -1.0]), 2.0
    (_, tangent) = gg.func.jvp(lambda x: scaled.apply(x, w, k)[0], (x,), (gg.tensor([1.0, 1.0]),))
    np.testing.assert_allclose(tangent.numpy(), 3 * k * w.numpy())
    leaf = x.clone().requires_grad_()
    scaled.apply(leaf, w, k)[0].sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), k * w.numpy())
    (_, reverse) = gg.autograd.functional.jvp(lambda x: scaled.apply(x, w, k)[0], x, gg.tensor([1.0, 1.0]))
    np.testing.assert_allclose(reverse.numpy(), k * w.numpy())  # reverse mode's J·v (backward's), as PyTorch's


def test_a_loss_on_a_tangent_from_a_jvp_backpropagates_to_the_primal():
    """The squares' tangent is ``Σ 2x·t``: ``∂(Σ 2x·t)/∂x = 2t`` (the jvp's ops are recorded, as any op)."""
    scaled, exp_only = MINE
    x, t = gg.tensor([0.5, 1.0], requires_grad=True), gg.tensor([2.0, 3.0])
    with gg.forward_ad.dual_level():
        _, squares = scaled.apply(gg.forward_ad.make_dual(x, t), gg.tensor([1.0, 1.0]), 2.0)
        tangent = gg.forward_ad.unpack_dual(squares).tangent
    tangent.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 6.0])
    (_, only) = gg.func.jvp(exp_only.apply, (gg.tensor([0.0, 1.0]),), (t,))  # PyTorch's func wants setup_context
    np.testing.assert_allclose(only.numpy(), np.exp([0.0, 1.0]) * [2.0, 3.0])


def test_save_for_forward_takes_tensors_only_and_a_missing_jvp_or_backward_says_so():
    _, exp_only = MINE

    class NoJvp(gg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(2.0)
            return x * 2

    with pytest.raises(TypeError, match="save_for_forward expects all arguments to be tensors or None"):
        NoJvp.apply(gg.tensor([1.0]))
    with pytest.raises(NotImplementedError, match="must implement either the backward or vjp method"):
        exp_only.apply(gg.tensor([1.0], requires_grad=True)).sum().backward()


def test_gradcheck_checks_a_jvp_against_finite_differences_as_pytorchs_forward_mode_tutorial_does():
    """The tutorial's check of a forward-only Function: gradcheck(check_forward_ad=True, check_backward_ad=False);
    a jvp twice too large is caught (before, check_forward_ad was refused)."""
    _, exp_only = MINE

    class TwiceTooLarge(exp_only):
        @staticmethod
        def jvp(ctx, tangent):
            (out,) = ctx.saved_tensors
            return 2 * out * tangent

    x = gg.tensor(np.linspace(-1, 1, 5), requires_grad=True)
    options = dict(check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False,
                   check_batched_grad=False)
    assert gg.autograd.gradcheck(exp_only.apply, (x,), **options)
    with pytest.raises(gg.GradcheckError, match="forward-mode J·v product"):
        gg.autograd.gradcheck(TwiceTooLarge.apply, (x,), **options)
