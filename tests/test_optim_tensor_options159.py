"""Round 159: Adam's options given as tensors, and options kept as the user passed them (PyTorch 2.13 CPU oracle).

PyTorch's Adam/AdamW/Adamax/RAdam step computes with a tensor ``lr`` or tensor ``betas`` in the tensors' dtype (a
float32 β₁ᵗ rounded to float32, ``float / tensor`` as ``tensor.reciprocal() * float``); its groups keep the tensors,
a list of ``etas`` or ``betas`` (outside Adam's constructor) and ``amsgrad=1`` as given.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

DTYPES = {"float32": np.float32, "float64": np.float64}


def _option(lib, value: float, kind: str | None):
    """``value`` as a Python float (kind None) or a 0-d tensor of dtype ``kind`` of ``lib``."""
    return value if kind is None else lib.tensor(value, dtype=getattr(lib, kind))


def _adam(lib, name: str, params, lr, betas, kinds, **options):
    lr_kind, beta_kind = kinds
    return getattr(lib.optim, name)(params, lr=_option(lib, lr, lr_kind),
                                    betas=tuple(_option(lib, beta, beta_kind) for beta in betas), **options)


def _run(lib, name, w0, grads, lr, betas, kinds, start=0, **options):
    """The weights after a step per gradient, from ``start`` steps already taken with zero moments."""
    params = [lib.tensor(w.copy(), requires_grad=True) for w in w0]
    opt = _adam(lib, name, params, lr, betas, kinds, **options)
    if start:
        saved = opt.state_dict()
        second = "exp_inf" if name == "Adamax" else "exp_avg_sq"
        zeros = [{"step": lib.tensor(float(start)), "exp_avg": lib.zeros_like(p.detach()),
                  second: lib.zeros_like(p.detach())} for p in params]
        if options.get("amsgrad"):
            for entry, p in zip(zeros, params):
                entry["max_exp_avg_sq"] = lib.zeros_like(p.detach())
        opt.load_state_dict({"state": dict(enumerate(zeros)), "param_groups": saved["param_groups"]})
    for step in grads:
        for p, g in zip(params, step):
            p.grad = lib.tensor(g.copy())
        opt.step()
    return [p.detach().numpy() for p in params]


def _draws(seed: int, dtype, count: int, sizes=(5, 3)):
    rng = np.random.default_rng(seed)
    w0 = [rng.standard_normal(n).astype(dtype) for n in sizes]
    return w0, [[rng.standard_normal(n).astype(dtype) for n in sizes] for _ in range(count)]


NAMES = ["Adam", "AdamW", "Adamax"]
"""Optimizers whose steps compute with tensor options as PyTorch's (the others read them as floats), and whose
first step from zero moments :func:`_reference_step` works out; RAdam computes with them too."""
KINDS = st.sampled_from([(None, "float32"), (None, "float64"), ("float32", None), ("float64", None),
                         ("float32", "float32"), ("float64", "float32"), ("float32", "float64")])


def _reference_step(torch, name, w, g, lr, betas, kinds, count, eps=1e-8, decay=0.01):
    """One step of ``name`` from zero moments at step ``count``, its constants worked out by PyTorch's own ops on
    its options (0-d tensors or floats) as its single-tensor step does, the elementwise ops by NumPy in PyTorch's
    order (m = lerp(0, g, 1 − β₁), v = ((1 − β₂)·g)·g, u = |g| + ε, then addcdiv's (−s·m)/d). PyTorch's vector loops
    themselves may round a sqrt or a fused multiply-add apart from NumPy's in the last bit."""
    kind = w.dtype.type
    lr_, beta1, beta2 = (_option(torch, value, k) for value, k in zip((lr, *betas), (kinds[0], kinds[1], kinds[1])))
    number = lambda value: kind(value.item() if isinstance(value, torch.Tensor) else value)  # noqa: E731
    if name == "AdamW":
        w = w * number(1 - lr_ * decay)
    if isinstance(beta1, torch.Tensor) and name != "Adamax":  # Adam casts β₁ to the parameter's dtype first
        weight = 1 - beta1.to(getattr(torch, w.dtype.name))
    else:
        weight = 1 - beta1
    weight = number(weight)
    m = weight * g if weight < 0.5 else g - g * (1 - weight)  # lerp from 0, from its nearer end
    step_size = lr_ / (1 - beta1**float(count))
    if name == "Adamax":
        return w + (number(-step_size) * m) / (np.abs(g) + kind(eps))
    v = (number(1 - beta2) * g) * g
    d = np.sqrt(v) / number((1 - beta2**float(count)) ** 0.5) + kind(eps)
    return w + (number(-step_size) * m) / d


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from(sorted(DTYPES)), name=st.sampled_from(NAMES),
       kinds=KINDS, beta1=st.floats(0.0, 0.999), beta2=st.floats(0.0, 0.9999), lr=st.floats(1e-4, 0.5),
       amsgrad=st.booleans(), start=st.integers(0, 100_000))
def test_tensor_options_give_pytorch_step_constants_bit_for_bit(torch, seed, dtype, name, kinds, beta1, beta2, lr,
                                                               amsgrad, start):
    """Every constant of the step (1 − β₁ and β₂ in the parameter's dtype, βᵗ, η/(1 − β₁ᵗ), √(1 − β₂ᵗ), AdamW's
    1 − η·λ) as PyTorch's ops work it out on the tensors: the weights after one step from zero moments at any
    count equal, bit for bit, the reference built on them. (βᵗ of a float32 tensor past t = 3 is C's pow rounded to
    float32, which PyTorch's powf could round apart once in ~10⁹ draws: float32 betas are drawn at t ≤ 3.)"""
    if kinds[1] == "float32":
        start %= 3
    w0, grads = _draws(seed, DTYPES[dtype], 1, sizes=(6,))
    options = {} if name == "Adamax" else {"amsgrad": amsgrad}
    ours = _run(gg, name, w0, grads, lr, (beta1, beta2), kinds, start, **options)[0]
    expected = _reference_step(torch, name, w0[0], grads[0][0], lr, (beta1, beta2), kinds, start + 1)
    np.testing.assert_array_equal(ours, expected)


@pytest.mark.parametrize("dtype", sorted(DTYPES))
@pytest.mark.parametrize("name", [*NAMES, "RAdam"])
@pytest.mark.parametrize("kinds", [(None, "float32"), ("float32", None), ("float32", "float32")])
def test_adam_with_float32_tensor_options_follows_pytorch_over_steps(torch, dtype, name, kinds):
    """The brief's case: ``betas=(torch.tensor(0.9), torch.tensor(0.999))`` drifted ~5e-6 relative from PyTorch in 5
    steps (float64 weights: its float32 β₁ᵗ, 1 − β₂ᵗ and η/(1 − β₁ᵗ); RAdam's ρₜ 2e-5 in 12); now only last bits
    can differ, where PyTorch's vector loops fuse lerp's multiply-add or round a sqrt apart from NumPy's (Sleef's)."""
    kind = DTYPES[dtype]
    w0, grads = _draws(7, kind, 12)  # RAdam rectifies from step 6 on
    ours = _run(gg, name, w0, grads, 0.01, (0.9, 0.999), kinds)
    theirs = _run(torch, name, w0, grads, 0.01, (0.9, 0.999), kinds)
    eps = np.finfo(kind).eps
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=8 * eps * (np.abs(b).max() + 0.05))


def test_tensor_betas_stay_tensors_in_groups_and_state_dicts(torch):
    """PyTorch's Adam keeps tensor betas (0-d) in its groups, and NAdam/RAdam/Adamax the pair as passed."""
    for name in ("Adam", "AdamW", "NAdam", "RAdam", "Adamax"):
        texts = []
        for lib in (torch, gg):
            opt = getattr(lib.optim, name)([lib.zeros(2, requires_grad=True)],
                                           betas=(lib.tensor([0.9]), lib.tensor(0.999)))
            texts.append((str(opt), repr(opt.state_dict()["param_groups"])))
        if name in ("Adam", "AdamW"):
            assert texts[0] == texts[1]
        assert "betas: (tensor(" in texts[1][0]


@pytest.mark.parametrize("name, options", [
    ("Rprop", {"etas": [0.5, 1.2], "step_sizes": [1e-6, 50]}),
    ("Muon", {"ns_coefficients": [3.4445, -4.775, 2.0315]}),
    ("NAdam", {"betas": [0.9, 0.99]}), ("RAdam", {"betas": [0.9, 0.99]}), ("Adamax", {"betas": [0.9, 0.99]}),
    ("Adam", {"betas": [0.9, 0.99]}), ("AdamW", {"betas": [0.9, 0.99]}),
    ("Adam", {"amsgrad": 1, "maximize": 1}), ("AdamW", {"amsgrad": 0, "maximize": 0}),
    ("Adam", {"decoupled_weight_decay": 1}), ("NAdam", {"decoupled_weight_decay": 1, "maximize": 1}),
    ("RAdam", {"decoupled_weight_decay": 1}), ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": 1}),
    ("RMSprop", {"centered": 1}), ("Muon", {"nesterov": 0}), ("Rprop", {"maximize": 1}),
])
def test_options_are_kept_as_passed(torch, name, options):
    """print(optimizer), param_groups and state_dict() as PyTorch's: a list stays a list (Adam's constructor makes
    its betas a tuple), an int flag stays the int; and a step still runs."""
    shown = []
    for lib in (torch, gg):
        w = lib.ones(2, 2, requires_grad=True)
        opt = getattr(lib.optim, name)([w], **options)
        group = {key: value for key, value in opt.param_groups[0].items() if key != "params"}
        shown.append((str(opt), repr(group), repr(opt.state_dict()["param_groups"])))
        w.grad = lib.full((2, 2), 0.5)
        opt.step()
        shown.append(repr(opt.state_dict()["param_groups"]))
    assert shown[:2] == shown[2:]


def test_rprop_and_muon_lists_load_back_as_lists(torch):
    w = gg.ones(2, 2, requires_grad=True)
    opt = gg.optim.Rprop([w], etas=[0.5, 1.2])
    other = gg.optim.Rprop([w])
    other.load_state_dict(opt.state_dict())
    assert other.param_groups[0]["etas"] == [0.5, 1.2]
    muon = gg.optim.Muon([w])
    muon.add_param_group({"params": [gg.ones(3, 2, requires_grad=True)], "ns_coefficients": [3.0, -4.0, 2.0]})
    assert muon.param_groups[1]["ns_coefficients"] == [3.0, -4.0, 2.0]


def test_a_tensor_beta_changed_in_place_is_read_at_the_next_step(torch):
    """As PyTorch's, which reads the tensor at every step (and a value out of [0, 1) is refused there)."""
    results = []
    for lib in (torch, gg):
        w = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        beta1 = lib.tensor(0.9)
        opt = lib.optim.Adam([w], lr=0.1, betas=(beta1, lib.tensor(0.999)))
        for value in (0.9, 0.5):
            with lib.no_grad():
                beta1.fill_(value)
            w.grad = lib.tensor([0.3, 0.7], dtype=lib.float64)
            opt.step()
        results.append(w.detach().numpy())
    np.testing.assert_array_equal(results[1], results[0])
    with gg.no_grad():
        opt.param_groups[0]["betas"][0].fill_(1.0)
    with pytest.raises(ValueError, match="beta parameter at index 0"):
        opt.step()
