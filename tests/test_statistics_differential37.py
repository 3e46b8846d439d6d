"""Differential tests of reductions and statistics with their options against PyTorch 2.13 (helper c37).

The fuzzer behind these compared sum/prod/mean/nansum/nanmean (dtype=, dims, keepdim), std/var(_mean) with
correction/unbiased, quantile/nanquantile interpolations, median/mode/kthvalue/topk/sort ties, unique, bincount,
histc/histogram, cumulative reductions and norms. The defect it found: histc/histogram over data holding nan or
inf (or a given infinite range) failed with a raw ValueError/OverflowError from ``fractions`` instead of
PyTorch's RuntimeError naming the non-finite range.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("data", [[NAN, 1.0], [INF, 1.0], [-INF, 2.0]])
@pytest.mark.parametrize("which", ["histc", "histogram"])
def test_non_finite_data_range_is_refused_like_pytorch(torch, data, which):
    call = (lambda t, x: t.histc(x, bins=3)) if which == "histc" else (lambda t, x: t.histogram(x, bins=3))
    with pytest.raises(RuntimeError, match="not finite"):
        call(torch, torch.tensor(data))
    with pytest.raises(RuntimeError, match="not finite"):
        call(gg, gg.tensor(data))


@pytest.mark.parametrize("which", ["histc", "histogram"])
def test_infinite_given_range_is_refused_like_pytorch(torch, which):
    def call(t, x):
        if which == "histc":
            return t.histc(x, bins=3, min=0, max=INF)
        return t.histogram(x, bins=3, range=(0.0, INF))
    with pytest.raises(RuntimeError, match="not finite"):
        call(torch, torch.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="not finite"):
        call(gg, gg.tensor([1.0, 2.0]))


def test_nan_outside_a_finite_given_range_is_dropped_like_pytorch(torch):
    data = [NAN, 1.0, 0.5]
    expected = torch.histc(torch.tensor(data), bins=3, min=0, max=2).numpy()
    np.testing.assert_array_equal(gg.histc(gg.tensor(data), bins=3, min=0, max=2).numpy(), expected)


def _same(t_out, g_out):
    t_arr, g_arr = t_out.detach().numpy(), g_out.detach().numpy()
    assert t_arr.shape == g_arr.shape and t_arr.dtype == g_arr.dtype
    np.testing.assert_allclose(g_arr, t_arr, rtol=1e-12, atol=0, equal_nan=True)


@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile_interpolations_on_even_counts_and_ties(torch, interpolation):
    data = np.array([[3.0, 1.0, 2.0, 2.0], [5.0, 5.0, -1.0, 0.0]])
    q = [0.0, 0.25, 0.5, 1 / 3, 0.75, 1.0]
    options = {"dim": 1, "keepdim": True, "interpolation": interpolation}
    _same(torch.quantile(torch.tensor(data), torch.tensor(q, dtype=torch.float64), **options),
          gg.quantile(gg.tensor(data), gg.tensor(q, dtype=gg.float64), **options))


def test_median_lower_middle_and_first_index_among_ties(torch):
    data = np.array([[2.0, 1.0, 2.0, 1.0], [4.0, 4.0, 4.0, 3.0]])
    for t_out, g_out in zip(torch.median(torch.tensor(data), 1), gg.median(gg.tensor(data), 1)):
        np.testing.assert_array_equal(g_out.numpy(), t_out.numpy())
    assert gg.median(gg.tensor(data)).item() == torch.median(torch.tensor(data)).item()


def test_mode_ties_without_nan(torch):
    data = np.array([[1.0, 3.0, 3.0, 1.0, 2.0, 2.0], [0.0, 0.0, 5.0, 5.0, 5.0, 0.0]])
    for t_out, g_out in zip(torch.mode(torch.tensor(data), -1), gg.mode(gg.tensor(data), -1)):
        np.testing.assert_array_equal(g_out.numpy(), t_out.numpy())


@pytest.mark.parametrize("correction", [0, 1, 2, 0.5])
def test_std_var_mean_corrections(torch, correction):
    data = np.arange(12.0).reshape(3, 4) ** 1.5
    for name in ["std", "var", "std_mean", "var_mean"]:
        t_out = getattr(torch, name)(torch.tensor(data), dim=(0, -1) if "mean" in name else 1, correction=correction)
        g_out = getattr(gg, name)(gg.tensor(data), dim=(0, -1) if "mean" in name else 1, correction=correction)
        for t_part, g_part in zip(t_out if isinstance(t_out, tuple) else (t_out,),
                                  g_out if isinstance(g_out, tuple) else (g_out,)):
            _same(t_part, g_part)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(-3, 3).map(float), st.sampled_from([NAN, INF])), min_size=1, max_size=8),
       st.integers(1, 5), st.integers(-3, 3), st.integers(0, 3))
def test_histc_and_histogram_match_pytorch(data, bins, low, width):
    torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")
    for t_call, g_call in [
        (lambda: torch.histc(torch.tensor(data), bins=bins, min=low, max=low + width),
         lambda: gg.histc(gg.tensor(data), bins=bins, min=low, max=low + width)),
        (lambda: torch.histogram(torch.tensor(data), bins=bins, range=(float(low), float(low + width + 1))).hist,
         lambda: gg.histogram(gg.tensor(data), bins=bins, range=(float(low), float(low + width + 1))).hist),
    ]:
        try:
            expected = t_call()
        except RuntimeError:
            with pytest.raises(RuntimeError):
                g_call()
            continue
        _same(expected, g_call())


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_nanmean_refuses_a_non_float_dtype_like_pytorch(torch, dtype):
    data = [1.0, NAN, 2.0]
    with pytest.raises(RuntimeError):
        torch.nanmean(torch.tensor(data), dtype=getattr(torch, dtype))
    with pytest.raises(RuntimeError, match="dtype must be a floating dtype"):
        gg.nanmean(gg.tensor(data), dtype=getattr(gg, dtype))


def test_nanmean_float_dtype_still_matches_pytorch(torch):
    data = np.array([[1.0, NAN, 2.0], [NAN, NAN, 4.5]], dtype=np.float32)
    _same(torch.nanmean(torch.tensor(data), 1, dtype=torch.float64), gg.nanmean(gg.tensor(data), 1, dtype=gg.float64))


@pytest.mark.parametrize("name, dims", [("sum", (0, -2)), ("mean", (1, 1)), ("amax", (1, -1)), ("var", (0, 0)),
                                        ("nansum", (0, 0)), ("logsumexp", (-1, 1)), ("count_nonzero", (0, 0))])
def test_a_dim_listed_twice_is_pytorchs_runtime_error(torch, name, dims):
    with pytest.raises(RuntimeError, match="appears multiple times"):
        getattr(torch, name)(torch.ones(2, 3), dims)
    with pytest.raises(RuntimeError, match="appears more than once"):
        getattr(gg, name)(gg.ones(2, 3), dims)
