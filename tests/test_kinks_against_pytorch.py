"""Gradients at non-generic inputs (ties, kinks, zeros, saturated probabilities) against PyTorch 2.13.

Each case was found by a sweep drawing inputs from small sets such as {−2, −1, −0, 0, 1, 2}, where ties and zeros
are everywhere, and comparing glassgrad's gradient with PyTorch's: to 1e-10, NaN at the same places, and a gradient
that is None where PyTorch's is None.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg


def gradients(lib, form, inputs: list, upstream: list | float, create_graph: bool = False) -> list:
    """``∂(Σ upstream·form(…))/∂input`` for each of ``inputs`` (float64), as NumPy arrays, None where there is none."""
    tensors = [lib.tensor(values, dtype=lib.float64, requires_grad=True) for values in inputs]
    out = form(lib, *tensors)
    grads = lib.autograd.grad(out, tensors, lib.tensor(upstream, dtype=lib.float64), allow_unused=True,
                              create_graph=create_graph)
    return [None if grad is None else np.array(grad.detach().numpy()) for grad in grads]


def assert_same_gradients(ours: list, theirs: list) -> None:
    for mine, pytorchs in zip(ours, theirs, strict=True):
        assert (mine is None) == (pytorchs is None), (mine, pytorchs)
        if mine is not None:
            np.testing.assert_allclose(mine, pytorchs, rtol=1e-10, atol=0)


# --- a ** b recorded (create_graph=True): the rule's base of 1 where b = 0 ------------------------------------------

@pytest.mark.parametrize("create_graph", [False, True])
def test_pow_of_tensors_at_a_zero_exponent_and_a_negative_zero_base_as_pytorch(torch, create_graph):
    """∂aᵇ/∂a at b = 0 is 0 (it was NaN at a = −1, where the recorded rule's a + 1 is 0) and b·aᵇ⁻¹ keeps the sign of
    a = −0 (+∞ for b = −2: −0 + 0 is +0, which gave −∞)."""
    def form(lib, a, b):
        return lib.pow(a, b)
    inputs = [[-1.0, -0.0, -0.0, -0.0, 0.0, 2.0, -2.0], [0.0, -2.0, -1.0, 0.0, -2.0, 1.0, -0.0]]
    upstream = [0.5, 2.25, -1.5, 1.0, 0.5, -1.5, 2.0]
    with np.errstate(all="ignore"):
        assert_same_gradients(gradients(gg, form, inputs, upstream, create_graph),
                              gradients(torch, form, inputs, upstream, create_graph))


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("form", [lambda lib, a, b: lib.pow(a, b), lambda lib, a, b: a ** 0 + b],
                         ids=["a ** b", "a ** 0"])
def test_a_power_of_0_is_flat_in_the_base_for_an_infinite_or_nan_upstream_as_pytorch(torch, form, create_graph):
    """Where b = 0, aᵇ = 1 whatever a: ∂L/∂a is 0 for any upstream, ∞ and NaN too, as PyTorch's where (it was
    up·0 = NaN)."""
    inputs = [[-1.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 1.0]]
    upstream = [np.inf, np.nan, -np.inf, 2.0]
    with np.errstate(all="ignore"):
        assert_same_gradients(gradients(gg, form, inputs, upstream, create_graph),
                              gradients(torch, form, inputs, upstream, create_graph))


# --- PyTorch's ε of 1e-12 is a float: 1e-12 rounded to float32 -----------------------------------------------------

BCE_CASES = {
    "p = 1, y = 0": ([1.0, 0.0, 0.5], [0.0, 1.0, 0.5]),
    "p = 0 and 1, y = ½": ([0.0, 1.0, 1.0], [0.5, 0.5, 1.0]),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("case", BCE_CASES)
def test_binary_cross_entropy_at_saturated_probabilities_has_pytorchs_gradient(torch, case, create_graph):
    """(p − y)/max(p(1 − p), ε): PyTorch's ε is float32's 1e-12, so p = 1, y = 0 gives 1000000003995.8, not 1e12."""
    probabilities, target = BCE_CASES[case]

    def form(lib, p):
        return lib.nn.functional.binary_cross_entropy(p, lib.tensor(target, dtype=lib.float64), reduction="sum")
    assert_same_gradients(gradients(gg, form, [probabilities], 1.5, create_graph),
                          gradients(torch, form, [probabilities], 1.5, create_graph))


def test_cosine_embedding_loss_of_a_zero_vector_has_pytorchs_gradient(torch):
    """cos = Σx₁x₂/√((Σx₁² + ε)(Σx₂² + ε)), with PyTorch's ε: at x₁ = 0 the gradient is x₂/√(ε(‖x₂‖² + ε))."""
    def form(lib, a, b):
        return lib.nn.functional.cosine_embedding_loss(a, b, lib.tensor([1.0, -1.0], dtype=lib.float64),
                                                       reduction="none")
    inputs = [[[0.0, 0.0], [2.0, 1.0]], [[-2.0, 1.0], [0.0, 0.0]]]
    assert_same_gradients(gradients(gg, form, inputs, [0.5, 2.25]), gradients(torch, form, inputs, [0.5, 2.25]))


# --- the 0 "norm" is a count: no gradient ---------------------------------------------------------------------------

@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("form", [
    lambda lib, x: lib.linalg.vector_norm(x, 0),
    lambda lib, x: lib.linalg.vector_norm(x, 0, dim=1),
    lambda lib, x: x.norm(p=0),
], ids=["vector_norm", "vector_norm dim", "Tensor.norm"])
def test_the_zero_norm_gives_no_gradient_as_pytorch(torch, form, create_graph):
    """PyTorch's ord = 0 norm has no derivative: autograd.grad gives None and x.grad stays None (glassgrad gave 0)."""
    inputs = [[[1.0, 0.0], [-2.0, 0.0]]]
    ours, theirs = (form(lib, lib.tensor(inputs[0], dtype=lib.float64)) for lib in (gg, torch))
    upstream = np.ones(tuple(theirs.shape)).tolist()
    assert_same_gradients(gradients(gg, form, inputs, upstream, create_graph),
                          gradients(torch, form, inputs, upstream, create_graph))
    for lib in (gg, torch):
        x = lib.tensor(inputs[0], dtype=lib.float64, requires_grad=True)
        (form(lib, x).sum() + x.sum()).backward()
        assert x.grad.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert ours.tolist() == theirs.tolist()


# --- deliberate differences, as README.md says: PyTorch's NaN where a slope is 0 ------------------------------------

DOCUMENTED_SLOPES = {  # name: (form, inputs, which input, its slope in glassgrad)
    "xlogy's ∂/∂y at x = 0, y = 0 (PyTorch: x/y = 0/0)": (lambda lib, x, y: lib.xlogy(x, y), [[0.0], [0.0]], 1, 0.0),
    "poisson_nll_loss(full=True)'s ∂/∂target at y = 0, −x (PyTorch: its masked ln 0)": (
        lambda lib, x, y: lib.nn.functional.poisson_nll_loss(x, y, full=True, reduction="none"), [[0.5], [0.0]], 1,
        -0.5),
}


@pytest.mark.parametrize("case", DOCUMENTED_SLOPES)
def test_a_slope_pytorch_leaves_nan_is_finite_as_readme_says(torch, case):
    form, inputs, which, slope = DOCUMENTED_SLOPES[case]
    with np.errstate(all="ignore"):
        assert gradients(gg, form, inputs, [1.0])[which].tolist() == [slope]
        assert np.isnan(gradients(torch, form, inputs, [1.0])[which]).all()  # if PyTorch changes, follow it


@pytest.mark.parametrize("form", [
    lambda lib, x, y: lib.cdist(x, y, 0),
    lambda lib, x, y: lib.nn.functional.pdist(x, 0) + y.sum(),
    lambda lib, x, y: lib.nn.functional.pairwise_distance(x, y, 0),
    lambda lib, x, y: lib.linalg.vector_norm(x - y, 0, dim=-1),
], ids=["cdist", "pdist", "pairwise_distance", "vector_norm of a difference"])
def test_distances_of_p_0_give_pytorchs_zeros_or_none(torch, form):
    """cdist's and pdist's p = 0 distances have a zero gradient in PyTorch, not vector_norm's None."""
    inputs = [[[1.0, 2.0], [0.0, 3.0], [1.0, 2.0]], [[1.0, 0.0], [2.0, 3.0], [1.0, 2.0]]]
    upstream = np.ones(tuple(form(torch, *(torch.tensor(values) for values in inputs)).shape)).tolist()
    assert_same_gradients(gradients(gg, form, inputs, upstream), gradients(torch, form, inputs, upstream))


def test_pdist_at_p_inf_splits_a_tie_as_readme_says(torch):
    """Two coordinates tie for the largest |difference|: glassgrad splits the gradient between them, as vector_norm
    (PyTorch's too) does; PyTorch's pdist gives each all of it (README.md, the row of cdist)."""
    def form(lib, x):
        return lib.nn.functional.pdist(x, float("inf"))
    inputs = [[[0.0, 0.0], [1.0, -1.0]]]
    assert gradients(gg, form, inputs, [1.0])[0].tolist() == [[-0.5, 0.5], [0.5, -0.5]]
    assert gradients(torch, form, inputs, [1.0])[0].tolist() == [[-1.0, 1.0], [1.0, -1.0]]  # if it changes, follow


def test_kthvalue_of_ties_picks_the_stable_sorts_entry_as_readme_says():
    values = gg.tensor([-1.0, -2.0, -2.0, 1.0], requires_grad=True)
    picked = gg.kthvalue(values, 2)
    picked.values.backward()
    assert picked.indices.item() == 2 and values.grad.tolist() == [0.0, 0.0, 1.0, 0.0]


def test_digammas_slope_at_its_poles_is_infinite_as_readme_says():
    """ψ'(x) = polygamma(1, x) has a pole (+∞) at 0, −1, −2, …; PyTorch's is about 1e32 there (README.md)."""
    x = gg.tensor([-2.0, -1.0, -0.5], dtype=gg.float64, requires_grad=True)
    x.digamma().sum().backward()
    assert x.grad[:2].tolist() == [np.inf, np.inf]
    np.testing.assert_allclose(x.grad[2].item(), np.pi**2 / 2 + 4, rtol=1e-14)


@pytest.mark.parametrize("create_graph", [False, True])
def test_logit_is_flat_where_eps_clamps_it_for_an_infinite_or_nan_upstream_as_pytorch(torch, create_graph):
    """logit(p, eps) reads p clamped to [eps, 1 − eps]: outside it the slope is 0 whatever the upstream, as
    PyTorch's mask (it was ∞·0 = NaN)."""
    def form(lib, p):
        return lib.logit(p, eps=0.25)
    inputs = [[0.0, 0.1, 0.9, 1.0, 0.5, 0.25, 2.0]]
    upstream = [np.inf, np.nan, -np.inf, np.nan, 1.0, np.inf, np.inf]
    with np.errstate(all="ignore"):
        assert_same_gradients(gradients(gg, form, inputs, upstream, create_graph),
                              gradients(torch, form, inputs, upstream, create_graph))
