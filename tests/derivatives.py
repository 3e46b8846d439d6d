"""Shared by the tests that compare a function's value, gradients and second derivatives with PyTorch's."""

import numpy as np


def value_and_derivatives(lib, function, smooth, arrays, outer, inner):
    """``function(lib, *inputs)``, the gradients of ``Σ out²·outer`` and, if ``smooth``, of ``Σ gradients·inner``
    again (second derivatives), as NumPy arrays, in glassgrad or PyTorch (``lib``)."""
    inputs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = function(lib, *inputs)
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=lib.float64)
    firsts = lib.autograd.grad((out * out * weights).sum(), inputs, create_graph=smooth, allow_unused=True,
                               materialize_grads=True)
    found = [out, *firsts]
    if smooth:
        total = sum((g * lib.tensor(i, dtype=lib.float64)).sum() for g, i in zip(firsts, inner))
        found += lib.autograd.grad(total, inputs, allow_unused=True, materialize_grads=True)
    force = {} if lib.__name__ == "glassgrad" else {"force": True}
    return [t.detach().numpy(**force) for t in found]


def rsample_and_implicit_gradients(gg, torch, build, seed, shape):
    """The gradients of ``Σ w·x`` for rsample draws x of ``build(lib, a, b)`` in glassgrad, and PyTorch's implicit
    ones at the same draws: for x = T(ε; θ), ``F(x; θ)`` stays at F's value of ε, so ``∂x/∂θ = −(∂F/∂θ)/p(x)``.
    Pairs of (glassgrad's, PyTorch's) gradient tensors, either may be None where a parameter is not used."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape), rng.normal(size=shape)]
    gg.manual_seed(seed)
    mine = [gg.tensor(a, dtype=gg.float64, requires_grad=True) for a in arrays]
    draws = build(gg, *mine).rsample((3,))
    weights = np.arange(1.0, draws.numel() + 1).reshape(tuple(draws.shape))
    (draws * gg.tensor(weights)).sum().backward()
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    d = build(torch, *theirs)
    x = torch.tensor(draws.detach().numpy())
    density = d.log_prob(x).exp().detach()
    (-(torch.tensor(weights) / density) * d.cdf(x)).sum().backward()
    return [(p.grad, q.grad) for p, q in zip(mine, theirs)]
