"""Round 61: ``gg.autograd.gradcheck`` / ``gradgradcheck`` against PyTorch 2.13's.

The verdict (True / False / GradcheckError) on drawn correct functions and on deliberately wrong custom
Functions, non-tensor arguments, a non-deterministic backward, tolerances, and that a check leaves the inputs'
values and ``.grad`` alone. PyTorch comes through the ``torch`` fixture (skipped without it).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

# ---------------------------------------------------------------- drawn functions (the fuzzer's core)

UNARY = ["exp", "sin", "tanh", "sigmoid"]


def _program(lib, ops: list[str], reduce: str, use_matmul: bool):
    """f(x, w, k) built from the same names on either library; k is a plain number."""
    def f(x, w, k):
        y = x
        for name in ops:
            y = getattr(lib, name)(y)
        y = y * k + w if not use_matmul else (y * k) @ w
        z = getattr(y, reduce)(dim=0) if reduce != "none" else y
        return z, x.sum() * 2
    return f


class _Scaled:
    """A custom Function squaring its input, with a backward off by ``factor`` (1.0: correct)."""

    @staticmethod
    def make(lib, factor: float, flip_first: bool = False):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t * t

            @staticmethod
            def backward(ctx, g):
                (t,) = ctx.saved_tensors
                out = factor * 2 * t * g
                if flip_first:
                    sign = lib.ones_like(out)
                    sign[0] = -1.0
                    out = out * sign
                return out

        return Square


@settings(max_examples=15)
@given(ops=st.lists(st.sampled_from(UNARY), max_size=2), reduce=st.sampled_from(["none", "sum", "mean"]),
       use_matmul=st.booleans(), factor=st.sampled_from([1.0, 1.0, 1.5, -1.0]), k=st.sampled_from([2.0, 3]),
       seed=st.integers(0, 2**16))
def test_drawn_functions_get_pytorchs_verdict(torch, ops, reduce, use_matmul, factor, k, seed):
    """Correct compositions pass in both; one through a Square whose backward is off by ``factor`` ≠ 1 fails in
    both (the error at least |factor − 1|·2·min|x|, with |x| ≥ 0.5, far beyond atol + rtol·|J|)."""
    draws = np.random.default_rng(seed)
    x = draws.uniform(0.5, 1.5, size=(3, 2)) * draws.choice([-1, 1], size=(3, 2))
    w = draws.normal(size=(2, 2) if use_matmul else (3, 2))
    verdicts = []
    for lib in (torch, gg):
        square = _Scaled.make(lib, factor).apply
        body = _program(lib, ops, reduce, use_matmul)
        xt = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        wt = lib.tensor(w, dtype=lib.float64, requires_grad=bool(seed % 2))
        def f(a, b, c, body=body, square=square):
            return body(square(a), b, c)

        verdicts.append(lib.autograd.gradcheck(f, (xt, wt, k), raise_exception=False))
    assert verdicts[0] == verdicts[1] == (factor == 1.0)


# ---------------------------------------------------------------- defects of cd6ca7b


def test_a_number_among_the_inputs_is_passed_as_given(torch):
    """PyTorch passes a non-tensor input to the function; glassgrad refused it ('input 1 is a float')."""
    for lib in (torch, gg):
        x = lib.tensor([0.3, -0.7], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda t, k, flag: t ** k if flag else t, (x, 3, True))
        assert lib.autograd.gradgradcheck(lambda t, s: (t * s).sin(), (x, 2.5))


def _random_backward(lib):
    class Noisy(lib.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            return t.mul(2.0)

        @staticmethod
        def backward(ctx, g):
            noise = lib.rand(g.shape, dtype=lib.float64) * 1e-9  # new draws each run
            return g.mul(2.0) + noise

    return Noisy


def test_a_non_deterministic_backward_fails(torch):
    """Gradients off by up to 1e-9 pass the Jacobian tolerance but differ between two runs: PyTorch raises
    'Backward is not reentrant' (glassgrad passed). It passes by chance only if two float64 uniform draws in
    [0, 1e-9) are equal: probability ≤ 2⁻⁵² ≪ 1e-9."""
    for lib in (torch, gg):
        x = lib.tensor([0.3, -0.7, 1.1], dtype=lib.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="not reentrant"):
            lib.autograd.gradcheck(_random_backward(lib).apply, (x,))
        assert lib.autograd.gradcheck(_random_backward(lib).apply, (x,), raise_exception=False) is False


def test_the_message_shows_numerical_and_analytical_numbers(torch):
    """PyTorch's message shows both Jacobians; glassgrad's named the entry only, now also its two numbers."""
    x = gg.tensor([0.5, 1.0], dtype=gg.float64, requires_grad=True)
    with pytest.raises(gg.GradcheckError, match=r"input 0 .*numerical 2 vs analytical 3\b"):
        gg.autograd.gradcheck(_Scaled.make(gg, 1.5).apply, (x,))
    xt = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"(?s)input 0.*numerical.*analytical"):
        torch.autograd.gradcheck(_Scaled.make(torch, 1.5).apply, (xt,))


# ---------------------------------------------------------------- pinned: already PyTorch's


@pytest.mark.parametrize("case", ["factor", "sign", "none"])
def test_wrong_backwards_fail_in_both(torch, case):
    verdicts = []
    for lib in (torch, gg):
        if case == "none":
            class Missing(lib.autograd.Function):
                @staticmethod
                def forward(ctx, t):
                    return t * t

                @staticmethod
                def backward(ctx, g):
                    return None

            fn = Missing.apply
        else:
            fn = _Scaled.make(lib, 2.0 if case == "factor" else 1.0, flip_first=case == "sign").apply
        x = lib.tensor([0.4, 0.9, -1.2], dtype=lib.float64, requires_grad=True)
        verdicts.append(lib.autograd.gradcheck(fn, (x,), raise_exception=False))
        with pytest.raises(RuntimeError) as raised:
            lib.autograd.gradcheck(fn, (x,))
        assert type(raised.value).__name__ == "GradcheckError"
    assert verdicts == [False, False]


def test_tight_atol_fails_a_near_correct_function_in_both(torch):
    for lib in (torch, gg):
        x = lib.tensor([0.2, 0.4], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lib.exp, (x,))
        assert not lib.autograd.gradcheck(lib.exp, (x,), atol=1e-14, rtol=0.0, raise_exception=False)


def test_no_input_requiring_grad_is_a_value_error(torch):
    for lib in (torch, gg):
        with pytest.raises(ValueError, match="require"):
            lib.autograd.gradcheck(lambda t: t * 2, (lib.tensor([1.0], dtype=lib.float64),))


def test_options_that_pass_in_both(torch):
    """Tuple outputs with an integer one, an unused input, fast_mode, check_batched_grad, check_forward_ad,
    gradgradcheck with given and non-contiguous grad outputs."""
    for lib in (torch, gg):
        x = lib.tensor([0.3, 0.8, -0.5], dtype=lib.float64, requires_grad=True)
        u = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda a, b: (a.exp() * 2, a.argmax()), (x, u))
        assert lib.autograd.gradcheck(lambda a: a.sin() @ a, (x,), fast_mode=True)
        assert lib.autograd.gradcheck(lambda a: a.tanh(), (x,), check_batched_grad=True)
        assert lib.autograd.gradcheck(lambda a: a.exp(), (x,), check_forward_ad=True)
        assert lib.autograd.gradgradcheck(lambda a: a.exp() * a, (x,), gen_non_contig_grad_outputs=True)
        assert lib.autograd.gradgradcheck(lambda a: a.exp() * a, (x,), (lib.ones(3, dtype=lib.float64),))
        with pytest.raises((ValueError, AssertionError), match="check_forward_ad or check_backward_ad"):
            lib.autograd.gradcheck(lambda a: a * 2, (x,), check_backward_ad=False)


def test_a_check_leaves_values_and_grad_alone(torch):
    for lib in (torch, gg):
        x = lib.tensor([0.3, 0.8], dtype=lib.float64, requires_grad=True)
        x.grad = lib.full((2,), 7.0, dtype=lib.float64)
        lib.autograd.gradcheck(lambda a: a.sin(), (x,))
        lib.autograd.gradgradcheck(lambda a: a.sin(), (x,))
        assert x.detach().tolist() == [0.3, 0.8] and x.grad.tolist() == [7.0, 7.0]


def test_learner_report_keeps_its_pass_count():
    """gg.gradcheck (glassgrad's own) still reports 2 forward passes per element and one backward per output."""
    x = gg.tensor([1.0, 2.0, 3.0], dtype=gg.float64, requires_grad=True)
    report = gg.gradcheck(lambda t: (t * t).sum(), [x])
    assert (report.ok, report.forward_passes, report.backward_passes) == (True, 6, 1)


def test_masked_on_dense_inputs_is_the_plain_check(torch):
    """PyTorch's masked=True on dense tensors checks them as usual; glassgrad refused it (NotImplementedError)."""
    for lib in (torch, gg):
        x = lib.tensor([0.3, -0.6], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda t: t.sin() * t, (x,), masked=True)
        assert lib.autograd.gradgradcheck(lambda t: t.sin() * t, (x,), masked=True)
        assert not lib.autograd.gradcheck(_Scaled.make(lib, 1.5).apply, (x,), masked=True, raise_exception=False)
