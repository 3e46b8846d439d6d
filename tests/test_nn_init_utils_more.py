"""More of ``nn.init`` (trunc_normal_, orthogonal_, eye_, dirac_, sparse_) and ``nn.utils``
(parameters_to_vector, vector_to_parameters, get_total_norm, clip_grads_with_norm_).

Oracles: the defining properties (bounds, QᵀQ = I, a Dirac convolution copies its input), the truncated
normal's moments from its formula, and PyTorch 2.13 for everything deterministic.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.nn import init


def test_trunc_normal_stays_inside_and_has_the_truncated_moments():
    w = gg.zeros(200, 200)
    init.trunc_normal_(w, mean=0.5, std=1.0, a=-0.5, b=2.0, seed=0)
    values = w.numpy().astype(np.float64)
    assert values.min() >= -0.5 and values.max() <= 2.0
    alpha, beta = (-0.5 - 0.5) / 1.0, (2.0 - 0.5) / 1.0  # the bounds in standard units
    pdf = [math.exp(-t * t / 2) / math.sqrt(2 * math.pi) for t in (alpha, beta)]
    mass = 0.5 * (math.erf(beta / math.sqrt(2)) - math.erf(alpha / math.sqrt(2)))
    mean = 0.5 + (pdf[0] - pdf[1]) / mass
    variance = 1 + (alpha * pdf[0] - beta * pdf[1]) / mass - ((pdf[0] - pdf[1]) / mass) ** 2
    assert abs(values.mean() - mean) < 0.01 and abs(values.var() - variance) < 0.01


class _CountedDraws:
    """A NumPy generator that counts the calls drawing from it, and stops a sampler that loops past ``most``."""

    def __init__(self, seed: int, most: int) -> None:
        self.numbers, self.most, self.calls = np.random.default_rng(seed), most, 0

    def __getattr__(self, name: str):
        draw = getattr(self.numbers, name)

        def counted(*args, **kwargs):
            self.calls += 1
            if self.calls > self.most:
                raise RuntimeError(f"trunc_normal_ drew {self.calls} times: it is looping")
            return draw(*args, **kwargs)
        return counted


@pytest.mark.parametrize("mean, std, a, b", [
    (0.5, 1.0, -0.5, 2.0), (0.0, 1.0, 5.0, 6.0), (10.0, 1.0, -2.0, 2.0), (0.0, 1.0, -9.0, -8.0),
    (0.0, 1.0, 30.0, 31.0), (0.0, 1.0, -40.0, -39.0), (0.0, 2.0, -math.inf, math.inf), (3.0, 0.1, 0.0, 1e6),
])
def test_trunc_normal_draws_the_truncated_normal_in_a_few_draws_wherever_the_interval_lies(mean, std, a, b):
    """Far in a tail almost no normal draw lands in [a, b]: redrawing those outside never ended (PyTorch 2.13
    gives the draws). The oracle is SciPy's truncated normal, by a Kolmogorov–Smirnov test of 20000 draws."""
    from scipy import stats

    w = gg.zeros(20000, dtype=gg.float64)
    init.trunc_normal_(w, mean, std, a, b, generator=_CountedDraws(0, most=20))
    values = w.numpy()
    assert values.min() >= a and values.max() <= b
    truncated = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(values, truncated.cdf).pvalue > 1e-3


@given(mean=st.floats(-50, 50), std=st.floats(1e-3, 10), a=st.floats(-100, 100), width=st.floats(1e-3, 100),
       shape=st.lists(st.integers(0, 5), max_size=3), dtype=st.sampled_from([gg.float32, gg.float64]))
def test_trunc_normal_fills_every_shape_inside_its_bounds(mean, std, a, width, shape, dtype):
    w = gg.zeros(tuple(shape), dtype=dtype)
    init.trunc_normal_(w, mean, std, a, a + width, generator=_CountedDraws(1, most=20))
    values, dtype = w.numpy(), w.numpy().dtype
    assert values.shape == tuple(shape) and np.isfinite(values).all()
    assert (values >= dtype.type(a)).all() and (values <= dtype.type(a + width)).all()


@given(rows=st.integers(1, 6), columns=st.integers(1, 6), extra=st.integers(1, 3), gain=st.floats(0.5, 2.0))
def test_orthogonal_rows_or_columns_are_orthonormal_times_the_gain(rows, columns, extra, gain):
    w = gg.zeros(rows, columns, extra, dtype=gg.float64)
    init.orthogonal_(w, gain=gain, seed=1)
    flat = w.numpy().reshape(rows, -1) / gain
    small = min(rows, columns * extra)
    product = flat @ flat.T if rows <= columns * extra else flat.T @ flat
    np.testing.assert_allclose(product, np.eye(small), atol=1e-10)


@pytest.mark.torch
@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0), (2, 3, 0), (0, 2, 3)])
def test_orthogonal_leaves_a_tensor_without_entries_as_pytorch_does(torch, shape):
    """With no rows, the columns per row were 0 / 0 (ZeroDivisionError); PyTorch 2.13 returns the tensor."""
    mine, theirs = gg.zeros(shape), torch.zeros(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert init.orthogonal_(mine, seed=0) is mine
    assert tuple(mine.shape) == tuple(torch.nn.init.orthogonal_(theirs).shape)


@pytest.mark.torch
@pytest.mark.parametrize("shape, groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 4, 1, 3, 3), 1), ((3, 5, 2), 1)])
def test_dirac_matches_pytorch_and_a_dirac_convolution_copies_its_input(torch, shape, groups):
    mine, theirs = gg.zeros(*shape), torch.zeros(*shape)
    init.dirac_(mine, groups)
    torch.nn.init.dirac_(theirs, groups)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    if len(shape) == 3 and shape[0] == shape[1]:
        x = gg.tensor(np.random.default_rng(2).normal(size=(2, shape[1], 7)).astype(np.float32))
        np.testing.assert_allclose(gg.nn.functional.conv1d(x, mine, padding=shape[2] // 2).numpy(), x.numpy())


@pytest.mark.torch
def test_eye_matches_pytorch(torch):
    mine, theirs = gg.zeros(3, 5), torch.zeros(3, 5)
    init.eye_(mine)
    torch.nn.init.eye_(theirs)
    np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@given(rows=st.integers(1, 8), columns=st.integers(1, 4), sparsity=st.floats(0.0, 1.0))
def test_sparse_zeroes_the_asked_share_of_each_column(rows, columns, sparsity):
    w = gg.zeros(rows, columns, dtype=gg.float64)
    init.sparse_(w, sparsity, std=1.0, seed=3)
    zeros_per_column = (w.numpy() == 0).sum(axis=0)
    assert (zeros_per_column == math.ceil(sparsity * rows)).all()


@pytest.mark.torch
@given(seed=st.integers(0, 2**16), norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
       max_norm=st.floats(0.1, 10.0))
def test_the_vector_and_norm_utilities_match_pytorch(torch, seed, norm_type, max_norm):
    rng = np.random.default_rng(seed)
    shapes = [(2, 3), (4,), (1, 2, 2)]
    values, grads = [rng.normal(size=s) for s in shapes], [rng.normal(size=s) for s in shapes]
    found = []
    for lib in (gg, torch):
        params = [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g, dtype=lib.float64)
        vector = lib.nn.utils.parameters_to_vector(params)
        total = lib.nn.utils.get_total_norm([p.grad for p in params], norm_type)
        lib.nn.utils.clip_grads_with_norm_(params, max_norm, total)
        with lib.no_grad():
            lib.nn.utils.vector_to_parameters(vector * 2, params)
        found.append([vector.detach().numpy(), total.numpy()] + [p.detach().numpy() for p in params]
                     + [p.grad.numpy() for p in params])
    for mine, theirs in zip(*found):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_parameters_to_vector_is_differentiable():
    a, b = gg.ones(2, requires_grad=True), gg.ones(1, 2, requires_grad=True)
    (gg.nn.utils.parameters_to_vector([a, b]) * gg.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [[3.0, 4.0]]


@pytest.mark.parametrize("call, message", [
    (lambda: init.trunc_normal_(gg.zeros(2), std=0.0), "trunc_normal_ expects std > 0"),
    (lambda: init.orthogonal_(gg.zeros(3)), "orthogonal_ expects a tensor with at least 2 dims"),
    (lambda: init.dirac_(gg.zeros(3, 3)), "dirac_ expects a 3-, 4- or 5-D weight"),
    (lambda: init.sparse_(gg.zeros(3, 3), 1.5), "sparse_ expects a 2-D tensor and a sparsity in [0, 1]"),
])
def test_bad_calls_are_one_line_errors(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
