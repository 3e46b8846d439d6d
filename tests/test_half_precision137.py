"""float16 leftovers of round 125 against PyTorch 2.13's CPU kernels (round 137).

- ``nll_loss`` (and so ``cross_entropy`` with class indices, fused or made of ``log_softmax`` and ``nll_loss``)
  adds its rows' losses in float16, in 8 cascaded partial sums (each a float16 running total of 16 rows, or of 16
  partial sums), skipping ignored rows; glassgrad added them in float32 and rounded once: totals up to 4 ulps off,
  the mean of a weighted loss too (its Σ weight is added the same way). ``glassgrad.summation.nll_total`` is that rule.
- the fused float16 ``cross_entropy`` gradient: PyTorch's is ``v·onehot − e^(log p)·v`` in float32, rounded once,
  with log p the float16 log-probabilities and v the float16 ``−up`` (``−up/n`` for the mean); glassgrad's was
  ``(p − onehot)·v`` from a float16 p: up to 8,192 ulps off (56 for the mean).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.summation import nll_total

F = gg.nn.functional


def _ulps(got, want) -> float:
    """The largest distance of ``got`` from ``want`` in float16 ulps at each entry's magnitude (inf where one is
    finite and the other not)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape
    finite = np.isfinite(want)
    if not np.array_equal(np.isfinite(got), finite) or not np.array_equal(np.isnan(got), np.isnan(want)):
        return float("inf")
    if not finite.any():
        return 0.0
    spacing = np.spacing(np.abs(want[finite]).astype(np.float16)).astype(np.float64)
    return float((np.abs(got[finite] - want[finite]) / spacing).max())


def _cascade(values: np.ndarray, kept: np.ndarray) -> np.float16:
    """PyTorch's ``nll_loss_out_frame`` total, written as its C++ loop (``loss_partial_sums[0] -= data`` …)."""
    rows, half = len(values), np.float16
    power = max(4, int(np.ceil(np.log2(rows))) // 8 if rows > 1 else 0)
    mask, parts = (1 << power) - 1, [half(0)] * 8
    for b in range(rows):
        if not kept[b]:
            continue
        parts[0] = half(parts[0] - values[b])
        for level in range(7):
            if b & (mask << (level * power)):
                break
            parts[level + 1], parts[level] = half(parts[level + 1] + parts[level]), half(0)
    total = half(0)
    for part in parts:
        total = half(total + part)
    return total


@st.composite
def _class_case(draw):
    """float16 log-probabilities (N, C) or scores, class targets with maybe some ``ignore_index`` rows (every 16th,
    where the cascade's partial sums are moved up), and maybe a class weight."""
    rows, classes = draw(st.integers(1, 2500)), draw(st.integers(1, 12))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scores = (rng.standard_normal((rows, classes)) * draw(st.sampled_from([0.5, 3.0, 30.0]))).astype(np.float16)
    target = rng.integers(0, classes, rows)
    ignore_index = draw(st.sampled_from([-100, 0]))
    if ignore_index == 0 and draw(st.booleans()):
        target[::16] = 0
    weight = rng.uniform(0.1, 3.0, classes).astype(np.float16) if draw(st.booleans()) else None
    return scores, target, ignore_index, weight


def _keywords(module, weight, ignore_index, reduction):
    return {"weight": None if weight is None else module.tensor(weight), "ignore_index": ignore_index,
            "reduction": reduction}


def test_nll_total_is_pytorchs_cascade_written_as_its_loop():
    rng = np.random.default_rng(0)
    for rows in (1, 2, 15, 16, 17, 255, 256, 257, 4097, 70000):
        values = (rng.standard_normal(rows) * 30).astype(np.float16)
        for kept in (np.ones(rows, bool), rng.random(rows) < 0.7, np.arange(rows) % 16 != 0):
            assert nll_total(-values[kept], kept) == _cascade(values, kept)
        assert nll_total(-values) == _cascade(values, np.ones(rows, bool))


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@settings(max_examples=30, deadline=None)
@given(case=_class_case())
def test_float16_nll_loss_total_is_pytorchs_bit_for_bit(torch, case, reduction):
    log_probs, target, ignore_index, weight = case
    ours = F.nll_loss(gg.tensor(log_probs), gg.tensor(target), **_keywords(gg, weight, ignore_index, reduction))
    theirs = torch.nn.functional.nll_loss(torch.tensor(log_probs), torch.tensor(target),
                                          **_keywords(torch, weight, ignore_index, reduction))
    if reduction == "mean" and (target == ignore_index).all():  # README: 0 here, NaN in PyTorch (deliberate)
        return
    assert ours.numpy().tobytes() == theirs.numpy().tobytes(), (ours.item(), theirs.item())


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@settings(max_examples=30, deadline=None)
@given(case=_class_case())
def test_float16_cross_entropy_total_is_pytorchs_nll_loss_of_its_rows(torch, case, reduction):
    """The fused row and ``nll_loss(log_softmax(x))`` give PyTorch's nll_loss total of their own log-probabilities,
    bit for bit (the log-probabilities themselves are PyTorch's but where its ``Σ eˣ`` in float32 lies within a last
    bit of a float16 tie: PyTorch's own order of adding, which depends on its CPU's vector width, decides there)."""
    scores, target, ignore_index, weight = case
    if (target == ignore_index).all():
        return
    log_probs = F.log_softmax(gg.tensor(scores), 1)
    keywords = _keywords(gg, weight, ignore_index, reduction)
    fused = F.cross_entropy(gg.tensor(scores), gg.tensor(target), **keywords)
    composed = F.nll_loss(log_probs, gg.tensor(target), **keywords)
    theirs = torch.nn.functional.nll_loss(torch.tensor(log_probs.numpy()), torch.tensor(target),
                                          **_keywords(torch, weight, ignore_index, reduction))
    assert fused.numpy().tobytes() == composed.numpy().tobytes() == theirs.numpy().tobytes()


def test_float16_cross_entropy_totals_against_pytorchs_cross_entropy(torch):
    """Seeded batches, PyTorch's cross_entropy itself, bit for bit (base: up to 4 ulps off)."""
    rng = np.random.default_rng(1)
    for rows, classes in ((3000, 10), (777, 5), (64, 100), (40000, 10)):
        scores = (rng.standard_normal((rows, classes)) * 3).astype(np.float16)
        target = rng.integers(0, classes, rows)
        weight = rng.uniform(0.1, 3.0, classes).astype(np.float16)
        for keywords in ({}, {"weight": weight}, {"ignore_index": 1}, {"weight": weight, "ignore_index": 1}):
            for reduction in ("sum", "mean"):
                ours = F.cross_entropy(gg.tensor(scores), gg.tensor(target), reduction=reduction,
                                       **{k: gg.tensor(v) if k == "weight" else v for k, v in keywords.items()})
                theirs = torch.nn.functional.cross_entropy(
                    torch.tensor(scores), torch.tensor(target), reduction=reduction,
                    **{k: torch.tensor(v) if k == "weight" else v for k, v in keywords.items()})
                assert ours.numpy().tobytes() == theirs.numpy().tobytes(), (keywords, reduction)


def test_float16_nll_loss_of_images_adds_in_the_targets_order(torch):
    """(N, C, H, W) scores: PyTorch's nll_loss2d cascade runs over the targets in row-major order, as here."""
    rng = np.random.default_rng(2)
    log_probs = (rng.standard_normal((5, 4, 17, 9)) * 4).astype(np.float16)
    target = rng.integers(0, 4, (5, 17, 9))
    for reduction in ("sum", "mean"):
        ours = F.nll_loss(gg.tensor(log_probs), gg.tensor(target), reduction=reduction, ignore_index=2)
        theirs = torch.nn.functional.nll_loss(torch.tensor(log_probs), torch.tensor(target), reduction=reduction,
                                              ignore_index=2)
        assert ours.numpy().tobytes() == theirs.numpy().tobytes()


@pytest.mark.parametrize("reduction", ["sum", "mean", "none"])
@settings(max_examples=25, deadline=None)
@given(case=_class_case())
def test_float16_cross_entropy_gradient_is_pytorchs_log_softmax_backward(torch, case, reduction):
    """The fused row's gradient is PyTorch's ``log_softmax`` backward of its ``nll_loss`` backward at glassgrad's
    own float16 log-probabilities, to 1 ulp (``e^x`` in float32 is NumPy's there, PyTorch's vectorized one here)."""
    scores, target, ignore_index, _ = case
    x = gg.tensor(scores, requires_grad=True)
    loss = F.cross_entropy(x, gg.tensor(target), ignore_index=ignore_index, reduction=reduction)
    up = np.random.default_rng(len(target)).standard_normal(loss.shape).astype(np.float16)
    loss.backward(gg.tensor(up))
    log_probs = torch.tensor(F.log_softmax(gg.tensor(scores), 1).numpy(), requires_grad=True)
    theirs = torch.nn.functional.nll_loss(log_probs, torch.tensor(target), ignore_index=ignore_index,
                                          reduction=reduction)
    (up_log_probs,) = torch.autograd.grad(theirs, log_probs, torch.tensor(up))
    want = torch._log_softmax_backward_data(up_log_probs, log_probs.detach(), 1, torch.float16)
    assert _ulps(x.grad.numpy(), want.numpy()) <= 1


def test_float16_cross_entropy_gradient_against_pytorchs(torch):
    """Seeded batches against PyTorch's cross_entropy backward (base: 8,192 ulps off with ``reduction='sum'``)."""
    rng = np.random.default_rng(3)
    for reduction in ("sum", "mean", "none"):
        scores = (rng.standard_normal((600, 7)) * 3).astype(np.float16)
        target = rng.integers(0, 7, 600)
        ours, theirs = gg.tensor(scores, requires_grad=True), torch.tensor(scores, requires_grad=True)
        F.cross_entropy(ours, gg.tensor(target), reduction=reduction).sum().backward()
        torch.nn.functional.cross_entropy(theirs, torch.tensor(target), reduction=reduction).sum().backward()
        same_rows = (F.log_softmax(gg.tensor(scores), 1).numpy() == theirs.detach().log_softmax(1).numpy()).all(1)
        assert same_rows.mean() > 0.95
        assert _ulps(ours.grad.numpy()[same_rows], theirs.grad.numpy()[same_rows]) <= 1


def test_compiled_float16_cross_entropy_step_replays_eager_bit_for_bit():
    rng = np.random.default_rng(4)
    weight = gg.tensor((rng.standard_normal((8, 5)) * 0.3).astype(np.float16), requires_grad=True)
    class_weight = gg.tensor(rng.uniform(0.5, 2, 5).astype(np.float16))

    def step(x, y):
        weight.grad = None
        scores = x @ weight
        loss = (F.cross_entropy(scores, y) + F.cross_entropy(scores, y, weight=class_weight, ignore_index=3)
                + F.nll_loss(F.log_softmax(scores, 1), y, ignore_index=3, reduction="sum") * 0.01)
        loss.backward()
        return loss.detach(), weight.grad.clone()

    compiled = gg.compile(step)
    for _ in range(4):
        x = gg.tensor((rng.standard_normal((300, 8)) * 3).astype(np.float16))
        y = gg.tensor(rng.integers(0, 5, 300))
        eager, replayed = step(x, y), compiled(x, y)
        for a, b in zip(eager, replayed):
            assert a.dtype == b.dtype == gg.float16
            assert a.numpy().tobytes() == b.numpy().tobytes()


def test_float32_and_float64_losses_still_sum_as_before(torch):
    """Only float16 takes the cascade: float64 totals are PyTorch's to 1e-12 and float32's graph keeps its sum."""
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((500, 6))
    target = rng.integers(0, 6, 500)
    for keywords in ({}, {"ignore_index": 2}):
        ours = F.nll_loss(F.log_softmax(gg.tensor(scores), 1), gg.tensor(target), reduction="sum", **keywords)
        theirs = torch.nn.functional.nll_loss(torch.tensor(scores).log_softmax(1), torch.tensor(target),
                                              reduction="sum", **keywords)
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-12)
    loss = F.nll_loss(gg.tensor(scores.astype(np.float32)), gg.tensor(target), ignore_index=2, reduction="sum")
    assert loss.grad_fn is None or loss.grad_fn.name != "nll_sum"
    x = gg.tensor(scores.astype(np.float32), requires_grad=True)
    assert F.nll_loss(x, gg.tensor(target), ignore_index=2, reduction="sum").grad_fn.name == "sum"


def _overall_ulps(got, want) -> float:
    """The largest distance in float16 ulps at the magnitude of ``want``'s largest entry (an entry near 0, which a
    float32 term's last bit moves by many of its own ulps, is judged at the tensor's scale)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape and np.isfinite(got).all() and np.isfinite(want).all()
    if not want.size:
        return 0.0
    return float(np.abs(got - want).max() / np.spacing(np.float16(np.abs(want).max())))


def _norm_case(rng):
    n, c, hw = int(rng.integers(2, 9)), int(rng.integers(1, 6)), int(rng.integers(2, 10))
    x = (rng.standard_normal((n, c, hw, hw)) * 3 + 1).astype(np.float16)
    w, b = (rng.standard_normal(c).astype(np.float16) for _ in range(2))
    return x, w, b, (rng.standard_normal(c) * 0.3).astype(np.float16), rng.uniform(0.5, 2, c).astype(np.float16)


def _norm_pair(torch, name, x, w, b, mean, var, training):
    """glassgrad's and PyTorch's output and gradients (x, γ, β) of batch_norm or instance_norm."""
    results = []
    for module, functional in ((gg, F), (torch, torch.nn.functional)):
        tensors = [module.tensor(a, requires_grad=True) for a in (x, w, b)]
        running = [module.tensor(a.copy()) for a in (mean, var)]
        if name == "batch_norm":
            out = functional.batch_norm(tensors[0], *running, tensors[1], tensors[2], training=training)
        else:
            out = functional.instance_norm(tensors[0], *running, tensors[1], tensors[2], use_input_stats=training)
        up = np.random.default_rng(x.size).standard_normal(x.shape).astype(np.float16)
        out.backward(module.tensor(up))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    return results


@pytest.mark.parametrize("name", ["batch_norm", "instance_norm"])
@pytest.mark.parametrize("training", [True, False])
def test_float16_norms_compute_in_float32_and_round_once(torch, name, training):
    """PyTorch's float16 batch norm is ``x·α + (β − μ·α)`` in float32 with ``α = γ/√(σ² + ε)`` (in training from
    μ and σ⁻¹ rounded to float16), rounded once; instance_norm is that batch norm of (1, N·C, …). Seeded cases
    (base: forward 3 ulps, gradients 7 ulps at the tensors' scale, γ's and β's of instance_norm 14)."""
    rng = np.random.default_rng(6)
    for _ in range(60):
        ours, theirs = _norm_pair(torch, name, *_norm_case(rng), training)
        assert _overall_ulps(ours[0], theirs[0]) <= 1
        if name == "batch_norm":  # instance_norm's x gradient over a few positions: PyTorch's own is some ulps off
            assert _overall_ulps(ours[1], theirs[1]) <= 2
        assert _overall_ulps(ours[2], theirs[2]) <= (1 if training or name == "batch_norm" else 4)
        assert _overall_ulps(ours[3], theirs[3]) <= (1 if training or name == "batch_norm" else 6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), name=st.sampled_from(["batch_norm", "instance_norm"]), training=st.booleans())
def test_float16_norm_forward_is_pytorchs_within_an_ulp(torch, seed, name, training):
    ours, theirs = _norm_pair(torch, name, *_norm_case(np.random.default_rng(seed)), training)
    assert _overall_ulps(ours[0], theirs[0]) <= 1


def test_compiled_float16_batch_norm_step_replays_eager_bit_for_bit():
    rng = np.random.default_rng(7)
    gg.manual_seed(0)
    layers = [gg.nn.Sequential(gg.nn.Conv2d(3, 4, 3), gg.nn.BatchNorm2d(4), gg.nn.InstanceNorm2d(4, affine=True,
                                                                                                track_running_stats=True)).half()]
    layers.append(copy.deepcopy(layers[0]))

    def step(layer, x):
        layer.zero_grad()
        loss = layer(x).square().mean()
        loss.backward()
        return loss.detach(), layer[0].weight.grad.clone(), layer[1].running_var.clone(), layer[2].running_mean.clone()

    compiled = gg.compile(step)
    for _ in range(3):
        x = gg.tensor((rng.standard_normal((4, 3, 8, 8)) * 2).astype(np.float16))
        for a, b in zip(step(layers[0], x), compiled(layers[1], x)):
            assert a.dtype == b.dtype == gg.float16
            assert a.numpy().tobytes() == b.numpy().tobytes()


def test_float32_batch_norm_keeps_its_graph():
    x = gg.tensor(np.random.default_rng(8).standard_normal((4, 3, 5)).astype(np.float32), requires_grad=True)
    out = F.batch_norm(x, None, None, gg.ones(3), gg.zeros(3), training=True)
    assert out.dtype == gg.float32 and out.grad_fn.name == "add"
    half = F.batch_norm(x.half(), None, None, gg.ones(3).half(), gg.zeros(3).half(), training=True)
    assert half.dtype == gg.float16


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1.0, 3.0, 8.0]))
def test_float16_tanh_gradient_is_computed_in_float32(torch, seed, scale):
    """PyTorch's tanh backward of float16 is ``up·(1 − y²)`` in float32, rounded once (base: 16 ulps off)."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((37, 29)) * scale).astype(np.float16)
    up = rng.standard_normal(x.shape).astype(np.float16)
    ours, theirs = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours.tanh().backward(gg.tensor(up))
    theirs.tanh().backward(torch.tensor(up))
    assert _ulps(ours.grad.numpy(), theirs.grad.numpy()) <= 1


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_float16_gelu_is_computed_in_float32(torch, approximate):
    """PyTorch's float16 GELU and its gradient are worked out in float32 and rounded once: at entries of magnitude
    ≥ 0.25 (nearer 0 a float32 term's last bit is many float16 ulps) the output is PyTorch's and the gradient within
    1 ulp (base: 1 and 8 ulps off)."""
    rng = np.random.default_rng(9)
    for _ in range(20):
        x = (rng.standard_normal((64, 64)) * 3).astype(np.float16)
        up = rng.standard_normal(x.shape).astype(np.float16)
        ours, theirs = gg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, want = F.gelu(ours, approximate=approximate), torch.nn.functional.gelu(theirs, approximate=approximate)
        out.backward(gg.tensor(up))
        want.backward(torch.tensor(up))
        large, large_grad = np.abs(want.detach().numpy()) >= 0.25, np.abs(theirs.grad.numpy()) >= 0.25
        assert _ulps(out.detach().numpy()[large], want.detach().numpy()[large]) == 0
        assert _ulps(ours.grad.numpy()[large_grad], theirs.grad.numpy()[large_grad]) <= 1
        assert _overall_ulps(out.detach().numpy(), want.detach().numpy()) <= 1


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), batch=st.sampled_from([(), (3,), (2, 5)]))
def test_float16_linear_with_bias_rounds_once(torch, seed, batch):
    """PyTorch's addmm of float16 adds the bias to the float32 product and rounds once: glassgrad rounded the
    product, then the sum (1,500 ulps off where they cancel; base). Judged at the output's scale: the float32
    product's order of adding is BLAS's, PyTorch's another."""
    rng = np.random.default_rng(seed)
    n, k = (int(v) for v in rng.integers(1, 64, 2))
    x = rng.standard_normal((*batch, 7, n)).astype(np.float16)
    weight, bias = (rng.standard_normal((k, n)) * 0.3).astype(np.float16), rng.standard_normal(k).astype(np.float16)
    ours = F.linear(gg.tensor(x), gg.tensor(weight), gg.tensor(bias)).numpy()
    theirs = torch.nn.functional.linear(torch.tensor(x), torch.tensor(weight), torch.tensor(bias)).numpy()
    assert _overall_ulps(ours, theirs) <= 1
    # each entry: float16's rounding of the exact value, but for the float32 sum's error (≤ n·2⁻²⁴·Σ|terms|)
    exact = x.astype(np.float64) @ weight.astype(np.float64).T + bias
    terms = np.abs(x.astype(np.float64)) @ np.abs(weight.astype(np.float64)).T + np.abs(bias.astype(np.float64))
    spacing = np.spacing(np.maximum(np.abs(exact), np.abs(ours)).astype(np.float16)).astype(np.float64)
    assert (np.abs(ours - exact) <= spacing / 2 + (n + 1) * 2.0**-24 * terms).all()
