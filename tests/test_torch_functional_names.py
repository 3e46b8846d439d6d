"""PyTorch's top-level forms of nn.functional (numbered reductions, pooling with indices, in-place forms),
index_reduce, the deprecated norms and binomial draws, against PyTorch 2.13 in float64 (values and gradients)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # PyTorch's deprecation and beta notes
seeds = st.integers(0, 2**16)


def _losses(lib, a, b, c, labels, signs, reduction):
    """Each numbered-reduction loss on the same drawn numbers."""
    return [
        lib.kl_div(a.log_softmax(1), b.softmax(1), reduction),
        lib.kl_div(a.log_softmax(1), b.log_softmax(1), reduction, log_target=True),
        lib.binary_cross_entropy_with_logits(a, labels, None, None, reduction),
        lib.binary_cross_entropy_with_logits(a, labels, c.detach().sigmoid(), c.detach().exp(), reduction),
        lib.margin_ranking_loss(a[:, 0], b[:, 0], signs, 0.2, reduction),
        lib.hinge_embedding_loss(a, signs.unsqueeze(1).expand(*a.shape), 0.5, reduction),
        lib.cosine_embedding_loss(a, b, signs, 0.1, reduction),
        lib.triplet_margin_loss(a, b, c, 1.0, 2.0, 1e-6, True, reduction),
        lib.poisson_nll_loss(a, labels * 3, True, True, 1e-8, reduction),
    ]


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(rows=st.integers(2, 4), seed=seeds, reduction=st.sampled_from([0, 1, 2]))
def test_losses_with_numbered_reductions_match_pytorch(torch, rows, seed, reduction):
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=(rows, 3)) for _ in range(3)]
    labels, signs = rng.integers(0, 2, size=(rows, 3)).astype(float), rng.choice([-1.0, 1.0], size=rows)
    found = []
    for lib in (gg, torch):
        a, b, c = (lib.tensor(x, dtype=lib.float64, requires_grad=True) for x in arrays)
        outputs = _losses(lib, a, b, c, lib.tensor(labels, dtype=lib.float64), lib.tensor(signs, dtype=lib.float64),
                          reduction)
        sum((out * out.detach().cos()).sum() for out in outputs).backward()
        found.append([out.detach().numpy() for out in outputs] + [t.grad.numpy() for t in (a, b, c)])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="0 \\(none\\), 1 \\(mean\\) or 2 \\(sum\\)"):
        gg.kl_div(gg.ones(2), gg.ones(2), "mean")


@pytest.mark.torch
def test_the_reduction_left_out_is_none_as_pytorchs(torch):
    """Left out, PyTorch 2.13's top-level losses give a loss per entry (``torch.kl_div(x, y)`` is not
    ``F.kl_div(x, y)``'s mean); glassgrad's took the mean, a number where PyTorch gives a tensor of them."""
    rng = np.random.default_rng(1)
    a, b, c = (rng.normal(size=(3, 4)) for _ in range(3))
    signs = np.array([1.0, -1.0, 1.0])
    logits = rng.normal(size=(6, 2, 4))
    found = []
    for lib in (gg, torch):
        x, y, z = (lib.tensor(t, dtype=lib.float64) for t in (a, b, c))
        s = lib.tensor(signs, dtype=lib.float64)
        found.append([lib.kl_div(x.log_softmax(1), y.softmax(1)),
                      lib.binary_cross_entropy_with_logits(x, y.sigmoid()),
                      lib.margin_ranking_loss(x[:, 0], y[:, 0], s), lib.hinge_embedding_loss(x, s[:, None] * 1.0),
                      lib.cosine_embedding_loss(x, y, s), lib.triplet_margin_loss(x, y, z),
                      lib.ctc_loss(lib.tensor(logits, dtype=lib.float64).log_softmax(2),
                                   lib.tensor([[1, 2, 3], [1, 1, 0]]), [6, 5], [3, 2])])
    for mine, theirs in zip(*found):
        assert tuple(mine.shape) == tuple(theirs.shape) and mine.ndim >= 1
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-9)


@pytest.mark.torch
def test_ctc_loss_with_a_numbered_reduction_matches_pytorch(torch):
    rng = np.random.default_rng(0)
    logits, targets = rng.normal(size=(6, 2, 4)), rng.integers(1, 4, size=(2, 3))
    found = []
    for lib in (gg, torch):
        x = lib.tensor(logits, dtype=lib.float64, requires_grad=True)
        loss = lib.ctc_loss(x.log_softmax(2), lib.tensor(targets), lib.tensor([6, 5]), lib.tensor([3, 2]), 0, 2)
        loss.backward()
        found.append((loss.detach().numpy(), x.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(length=st.integers(3, 8), seed=seeds, value=st.floats(-2, 2))
def test_padding_and_pooling_forms_match_pytorch(torch, length, seed, value):
    values = np.random.default_rng(seed).normal(size=(2, 3, length))
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        padded = lib.constant_pad_nd(x, (1, 2), value)
        pooled, where_max = lib.max_pool1d_with_indices(x, 2, 1)
        (padded.sum() + (pooled * pooled).sum()).backward()
        found.append([padded.detach().numpy(), pooled.detach().numpy(), where_max.numpy(), x.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("name, args", [("celu_", (0.7,)), ("selu_", ()), ("rrelu_", (0.1, 0.3, False)),
                                        ("threshold_", (0.2, -1.0))])
def test_in_place_functional_forms_match_pytorch(torch, name, args):
    values = np.random.default_rng(1).normal(size=(2, 3, 2))
    found = []
    for lib in (gg, torch):
        leaf = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        inner = leaf * 2.0
        assert getattr(lib, name)(inner, *args) is inner and inner._version == 1
        with pytest.raises(RuntimeError, match="leaf Variable"):
            getattr(lib, name)(leaf, *args)
        (inner * inner).sum().backward()
        found.append((inner.detach().numpy(), leaf.grad.numpy()))
    (mine, my_grad), (theirs, their_grad) = found
    np.testing.assert_allclose(mine, theirs, rtol=1e-12)
    # PyTorch's celu/selu gradients lose digits below 0 (1e-8), so it is checked to 1e-7 here, and the exact
    # slope e^(x/α) (times λ·α for selu) below 0 to 1e-12
    np.testing.assert_allclose(my_grad, their_grad, rtol=1e-7)
    x = 2 * values
    slopes = {"celu_": np.exp(x / 0.7), "selu_": 1.0507009873554805 * 1.6732632423543772 * np.exp(x)}
    if name in slopes:
        slope = np.where(x > 0, 1.0507009873554805 if name == "selu_" else 1.0, slopes[name])
        np.testing.assert_allclose(my_grad, 2 * mine * slope * 2, rtol=1e-12)


@pytest.mark.torch
def test_dropout_in_place_outside_training_or_with_p_0_leaves_the_tensor_alone(torch):
    for lib in (gg, torch):
        x = lib.ones(3)
        for name in ("dropout_", "alpha_dropout_", "feature_alpha_dropout_"):
            assert getattr(lib, name)(x, 0.5, False) is x and getattr(lib, name)(x, 0.0, True) is x
        assert x._version == 0 and x.tolist() == [1.0, 1.0, 1.0]


def test_dropout_in_place_in_training_zeroes_and_scales():
    x = gg.ones(10_000)
    assert gg.dropout_(x, 0.25, True) is x and x._version == 1
    assert set(np.unique(x.numpy())) == {0.0, np.float32(4 / 3)} and abs((x.numpy() == 0).mean() - 0.25) < 0.03


@pytest.mark.torch
@settings(max_examples=15, deadline=None)
@given(rows=st.integers(1, 4), picks=st.lists(st.integers(0, 3), min_size=1, max_size=5), seed=seeds,
       reduce=st.sampled_from(["prod", "mean", "amax", "amin"]), include_self=st.booleans(), dim=st.integers(0, 1))
def test_index_reduce_matches_pytorch(torch, rows, picks, seed, reduce, include_self, dim):
    rng = np.random.default_rng(seed)
    shape = (4, rows) if dim == 0 else (rows, 4)
    source_shape = (len(picks), rows) if dim == 0 else (rows, len(picks))
    values, source = rng.normal(size=shape), rng.normal(size=source_shape)
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        s = lib.tensor(source, dtype=lib.float64, requires_grad=True)
        out = x.index_reduce(dim, lib.tensor(picks), s, reduce, include_self=include_self)
        (out * lib.tensor(np.arange(out.numel()).reshape(shape), dtype=lib.float64)).sum().backward()
        found.append((out.detach().numpy(), x.grad.numpy(), s.grad.numpy()))
        inner = lib.tensor(values, dtype=lib.float64) * 1
        inner.index_reduce_(dim, lib.tensor(picks), lib.tensor(source, dtype=lib.float64), reduce)
        found[-1] += (inner.numpy(),)
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)


def test_index_reduce_refuses_bad_arguments_in_one_line():
    for call, message in [(lambda: gg.ones(3).index_reduce(0, gg.tensor([0]), gg.ones(1), "sum"), "reduce must be"),
                          (lambda: gg.ones(3).index_reduce(0, gg.tensor([0, 1]), gg.ones(1), "prod"), "one entry per")]:
        with pytest.raises(RuntimeError, match=message) as error:
            call()
        assert "\n" not in str(error.value)


@pytest.mark.torch
@settings(max_examples=10, deadline=None)
@given(batch=st.integers(1, 3), seed=seeds)
def test_deprecated_norms_match_pytorch(torch, batch, seed):
    values = np.random.default_rng(seed).normal(size=(batch, 3, 2))
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        outputs = [lib.frobenius_norm(x, (1, 2)), lib.frobenius_norm(x, (0,), True), lib.nuclear_norm(x[0]),
                   lib.nuclear_norm(x, (1, 2)), lib.nuclear_norm(x[0], True)]
        sum(out.sum() for out in outputs).backward()
        found.append([out.detach().numpy() for out in outputs] + [x.grad.numpy()])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10)


def test_binomial_draws_count_successes():
    rng = np.random.default_rng(5)
    count = gg.full((100_000,), 20.0, dtype=gg.float64)
    draws = gg.binomial(count, gg.full((100_000,), 0.3, dtype=gg.float64), generator=rng).numpy()
    assert draws.dtype == np.float64 and draws.min() >= 0 and draws.max() <= 20
    assert abs(draws.mean() - 6) < 0.05 and abs(draws.var() - 4.2) < 0.1  # n·p and n·p·(1 − p)
    with pytest.raises(RuntimeError, match="0 <= prob <= 1"):
        gg.binomial(gg.ones(2), gg.tensor([0.5, 1.5]))


def test_feature_dropout_zeroes_whole_channels():
    x = gg.ones(200, 50, 3, requires_grad=True)
    out = gg.feature_dropout(x, 0.4, True)
    per_channel = out.detach().numpy()
    assert np.all(per_channel == per_channel[:, :, :1])  # a channel is kept or dropped as a whole
    assert set(np.unique(per_channel)) == {0.0, np.float32(1 / 0.6)}
    assert abs((per_channel[:, :, 0] == 0).mean() - 0.4) < 0.02
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), per_channel)
    assert gg.feature_dropout(x, 0.4, False) is x and gg.feature_dropout_(x.detach(), 0.0, True) is not None


@pytest.mark.torch
def test_layer_norm_and_group_norm_take_pytorchs_last_top_level_argument(torch):
    """``torch.layer_norm(x, shape, w, b, eps, cudnn_enable)`` (and group_norm's ``cudnn_enabled``): the aten form's
    sixth argument was refused here with a TypeError."""
    values = np.random.default_rng(0).normal(size=(2, 4, 3))
    found = []
    for lib in (gg, torch):
        x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        out = lib.layer_norm(x, (3,), None, None, 1e-5, False) * 2 + lib.group_norm(x, 2, None, None, 1e-5, True)
        (out * out.detach().cos()).sum().backward()
        found.append((out.detach().numpy(), x.grad.numpy()))
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-12)
