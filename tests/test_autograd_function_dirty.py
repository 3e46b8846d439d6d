"""``ctx.mark_dirty`` in a custom ``autograd.Function`` whose forward changes an input in place: the output is that
input itself, standing for the function of its old value; ops made from the old value keep it; the refusals and
the version count are PyTorch's. The oracle is PyTorch 2.13 (the same Function written for both)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def scale_in_place(library):
    """x ← s·x in place, marked dirty: ∂L/∂x_old = s·∂L/∂out (the backward reads the changed x, as saved)."""

    class ScaleInPlace(library.autograd.Function):
        @staticmethod
        def forward(ctx, x, s):
            x.mul_(s)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            ctx.s = s
            return x

        @staticmethod
        def backward(ctx, grad_out):
            (out,) = ctx.saved_tensors
            return grad_out * ctx.s + 0 * out, None

    return ScaleInPlace


def run(library, array, s, through_view):
    x = library.tensor(array, requires_grad=True)
    b = x * 2
    before = b * 3  # made from b's old value: its gradient goes through the old b
    target = b[1:] if through_view else b
    out = scale_in_place(library).apply(target, s)
    loss = (out * out).sum() + before.sum() + b.sum()
    loss.backward()
    return out is target, target._version, b.tolist(), x.grad.tolist()


@given(array=hnp.arrays(np.float64, st.integers(2, 5), elements=st.floats(-3, 3)),
       s=st.floats(-2, 2), through_view=st.booleans())
def test_a_dirty_input_is_the_output_with_torchs_gradients_and_version(torch, array, s, through_view):
    import glassgrad as gg

    mine, theirs = run(gg, array, s, through_view), run(torch, array, s, through_view)
    assert mine[:2] == theirs[:2]
    np.testing.assert_allclose(mine[2], theirs[2], rtol=1e-12)
    np.testing.assert_allclose(mine[3], theirs[3], rtol=1e-12, atol=1e-12)


def test_a_dirty_input_that_an_earlier_op_saved_is_refused_in_backward_as_in_torch(torch):
    import glassgrad as gg

    for library in (gg, torch):
        x = library.ones(3, requires_grad=True)
        b = x * 1
        saved_b = b.exp()  # exp saves its output; b is changed in place next
        w = library.ones(3, requires_grad=True)
        product = b * w  # saves b for w's gradient
        scale_in_place(library).apply(b, 2.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (product.sum() + saved_b.sum()).backward()


def test_the_refusals_and_the_warning_are_torchs(torch):
    import glassgrad as gg

    for library in (gg, torch):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            scale_in_place(library).apply(library.ones(2, requires_grad=True), 2.0)

        class NotReturned(library.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.add_(1)
                ctx.mark_dirty(x)
                return x.clone()

            @staticmethod
            def backward(ctx, grad_out):
                return grad_out

        with pytest.raises(RuntimeError, match="marked as dirty during the forward method were not returned"):
            NotReturned.apply(library.ones(2, requires_grad=True) * 1)

        class NotAnInput(library.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.clone()
                y.add_(1)
                ctx.mark_dirty(y)
                return y

            @staticmethod
            def backward(ctx, grad_out):
                return grad_out

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            x = library.ones(2, requires_grad=True)
            NotAnInput.apply(x).sum().backward()
        assert any("not an input" in str(warning.message) for warning in caught)
        assert x.grad.tolist() == [1.0, 1.0]


def test_without_recording_a_dirty_input_is_changed_and_counted_as_in_torch(torch):
    import glassgrad as gg

    for library in (gg, torch):
        plain = library.ones(2)
        assert scale_in_place(library).apply(plain, 3.0) is plain and plain.tolist() == [3.0, 3.0]
        assert plain._version == 2 and not plain.requires_grad
        with library.no_grad():
            b = library.ones(2, requires_grad=True) * 1
            assert scale_in_place(library).apply(b, 3.0) is b and not b.requires_grad


def test_under_no_grad_a_leaf_that_requires_grad_may_be_changed_in_place_as_in_torch(torch):
    """A parameter clamped in place by a Function under no_grad(): PyTorch allows it (as it allows w.clamp_()
    there); glassgrad refused it as with grad mode on. The leaf keeps requires_grad and no grad_fn."""
    import glassgrad as gg

    found = []
    for library in (gg, torch):
        class ClampInPlace(library.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.clamp_(-1.0, 1.0)
                ctx.mark_dirty(x)
                return x

            @staticmethod
            def backward(ctx, grad_out):
                return grad_out

        weight = library.tensor([0.25, -1.5, 2.0], requires_grad=True)
        with library.no_grad():
            ClampInPlace.apply(weight)
        found.append((weight.tolist(), weight._version, weight.requires_grad, weight.grad_fn is None))
    assert found[0] == found[1] == ([0.25, -1.0, 1.0], 2, True, True)
