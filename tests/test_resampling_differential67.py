"""Resampling, padding and rearranging layers against PyTorch 2.13 (round 67).

A drawn case (``F.interpolate`` in every mode with a size or a scale factor, ``align_corners``, antialias;
``F.grid_sample`` in 2-D and 3-D with each mode and padding mode; ``F.affine_grid``; ``F.pad`` in each mode with
crops; ``pixel_shuffle``/``pixel_unshuffle``/``channel_shuffle``) builds the same float64 arrays for both
libraries, backprops a fixed weighting of the output and compares values, shapes and the gradient of every input
(and of the grid); where PyTorch refuses, the exception class.
The regression tests pin what glassgrad got wrong: no UserWarning where PyTorch's ``grid_sample`` and
``affine_grid`` warn (``align_corners`` left out; a unit-size grid with ``align_corners=True``); ValueError or
TypeError where PyTorch raises RuntimeError (a grid or batch that does not fit, dtypes that differ) and an empty
grid of a size with a 0 (PyTorch: ValueError); ``interpolate``'s antialias misuse (NotImplementedError, PyTorch:
ValueError) and ``recompute_scale_factor=True`` beside a size (silently ignored); ``F.pad`` ignoring a non-zero
``value`` in the reflect, replicate and circular modes; the shuffles' ValueError for a factor of 0 (PyTorch:
RuntimeError); the CircularPad layers' NotImplementedError for an input of the wrong rank (PyTorch: ValueError).
Left out of the drawn cases on purpose: ``nearest`` of a 3-D or 5-D input by a factor that is no whole number
(PyTorch's backward kernel rounds otherwise than its forward; glassgrad's gradient is the forward's derivative, as
its README says), PyTorch's antialias with an output width of 1 and bicubic by a factor that keeps a dim's size
(PyTorch's backward is not the derivative of its forward; both pinned below), and circular padding that wraps more
than once around what a crop kept (glassgrad refuses; PyTorch reads outside the kept entries).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = pytest.mark.torch


def _run(lib, call, arrays, grads):
    """``call(F, *tensors)`` on float64 leaves (those in ``grads`` require grad): the output and the gradients of a
    fixed weighting of it, or the exception class's name."""
    leaves = [lib.tensor(a.copy(), requires_grad=i in grads) for i, a in enumerate(arrays)]
    try:
        out = call(lib.nn.functional, *leaves)
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error).__name__
    if out.numel():
        weights = lib.arange(out.numel(), dtype=lib.float64).reshape(out.shape) % 7 - 3
        (out * weights).sum().backward()
    return out.detach().numpy().copy(), [None if leaf.grad is None else leaf.grad.numpy().copy() for leaf in leaves]


def _same(torch, call, arrays, grads=(0,)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = _run(torch, call, arrays, grads), _run(gg, call, arrays, grads)
    if isinstance(want, str) or isinstance(got, str):
        assert got == want, (want, got)
        return
    assert got[0].shape == want[0].shape
    np.testing.assert_allclose(got[0], want[0], rtol=1e-10, atol=1e-11)
    for a, b in zip(want[1], got[1], strict=True):
        if want[0].size:
            assert (a is None) == (b is None)
        if a is not None and b is not None:
            np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-10)


FACTORS = st.sampled_from([0.5, 0.75, 1.5, 2, 2.5, 3, 1.7, (2, 1.5), (0.5, 3)])


@st.composite
def interpolations(draw):
    mode = draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area"]))
    dims = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode) or draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), *draw(st.lists(st.integers(1, 5), min_size=dims,
                                                                               max_size=dims)))
    options = {"mode": mode}
    if draw(st.booleans()):
        options["size"] = draw(st.integers(1, 7) | st.tuples(*[st.integers(1, 7)] * dims))
    else:
        factor = draw(FACTORS)
        options["scale_factor"] = factor if isinstance(factor, (int, float)) else (factor * 2)[:dims]
        if mode == "nearest" and dims != 2:  # left out: PyTorch's 1-d/3-d nearest backward (module docstring)
            options["scale_factor"] = 2
        options["recompute_scale_factor"] = draw(st.sampled_from([None, True, False]))
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        options["align_corners"] = draw(st.booleans())
    if mode in ("bilinear", "bicubic") and draw(st.booleans()):
        options["antialias"] = True
        if "size" in options:  # PyTorch's antialias misreads a shrink to width 1 (test below)
            options["size"] = (*np.broadcast_to(options["size"], 2)[:1].tolist(), 2)
    if mode == "bicubic" and "scale_factor" in options:  # a kept size: PyTorch's backward is no derivative (below)
        factors = np.broadcast_to(options["scale_factor"], dims)
        if any(int(n * f) == n and f != 1 for n, f in zip(shape[2:], factors)):
            options["recompute_scale_factor"] = True
    return shape, options


@settings(max_examples=60, deadline=None)
@given(interpolations(), st.integers(0, 2**31 - 1))
def test_drawn_interpolations_match_pytorch_values_and_gradients(torch, case, seed):
    shape, options = case
    _same(torch, lambda F, x: F.interpolate(x, **options), [np.random.default_rng(seed).standard_normal(shape)])


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([2, 3]), st.sampled_from(["bilinear", "nearest", "bicubic"]),
       st.sampled_from(["zeros", "border", "reflection"]), st.booleans(), st.integers(0, 2**31 - 1))
def test_drawn_grid_samples_match_pytorch_values_and_gradients(torch, dims, mode, padding_mode, aligned, seed):
    rng = np.random.default_rng(seed)
    mode = "bilinear" if dims == 3 and mode == "bicubic" else mode
    image = rng.standard_normal((2, 2, *rng.integers(1, 5, dims)))
    grid = rng.uniform(-1.5, 1.5, (2, *rng.integers(1, 4, dims), dims))
    if seed % 4 == 0:
        grid = np.round(grid * 2) / 2  # on the pixel edges and centres
    _same(torch, lambda F, x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=aligned),
          [image, grid], (0, 1) if mode != "nearest" else (0,))


@settings(max_examples=20, deadline=None)
@given(st.sampled_from([2, 3]), st.booleans(), st.integers(0, 2**31 - 1))
def test_drawn_affine_grids_match_pytorch(torch, dims, aligned, seed):
    rng = np.random.default_rng(seed)
    size = [2, 1, *rng.integers(2, 5, dims).tolist()]
    _same(torch, lambda F, t: F.affine_grid(t, size, align_corners=aligned), [rng.standard_normal((2, dims, dims + 1))])


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["constant", "reflect", "replicate", "circular"]), st.integers(1, 3), st.booleans(),
       st.integers(0, 2**31 - 1))
def test_drawn_pads_match_pytorch_values_gradients_and_refusals(torch, mode, dims, batched, seed):
    rng = np.random.default_rng(seed)
    shape = [*([2] if batched else []), 2, *rng.integers(1, 6, dims).tolist()]
    amounts = rng.integers(-1 if mode == "circular" else -2, 4, 2 * dims).tolist()
    if mode == "circular":  # left out: wrapping more than once around what a crop kept (module docstring)
        amounts = [min(a, s - 1) for a, s in zip(amounts, np.repeat(shape[::-1][:dims], 2))]
    value = {"value": 1.5} if mode == "constant" else {}
    _same(torch, lambda F, x: F.pad(x, amounts, mode=mode, **value), [rng.standard_normal(shape)])


@pytest.mark.parametrize("call, shape", [
    (lambda F, x: F.pixel_shuffle(x, 2), (2, 8, 2, 3)),
    (lambda F, x: F.pixel_shuffle(x, 3), (9, 1, 2)),
    (lambda F, x: F.pixel_shuffle(x, 2), (2, 6, 2, 3)),
    (lambda F, x: F.pixel_unshuffle(x, 2), (1, 2, 4, 6)),
    (lambda F, x: F.pixel_unshuffle(x, 2), (1, 2, 3, 6)),
    (lambda F, x: F.channel_shuffle(x, 3), (2, 6, 2)),
    (lambda F, x: F.channel_shuffle(x, 4), (2, 6, 2)),
])
def test_shuffles_match_pytorch(torch, call, shape):
    _same(torch, call, [np.random.default_rng(0).standard_normal(shape)])


def _warned(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message)[:40] for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3), lib.zeros(1, 2, 2, 2)),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), [1, 1, 3, 3]),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), [1, 1, 1, 3], align_corners=True),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 3, 4), [1, 1, 2, 1, 3], align_corners=True),
])
def test_grid_sample_and_affine_grid_warn_where_pytorch_warns(torch, call):
    """Left out, ``align_corners`` gave no word (PyTorch: its default changed in 1.3); a unit-size grid with
    ``align_corners=True`` neither."""
    assert _warned(lambda: call(gg)) == _warned(lambda: call(torch)) != []


def test_grid_sample_with_align_corners_given_says_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gg.nn.functional.grid_sample(gg.zeros(1, 1, 3, 3), gg.zeros(1, 2, 2, 2), align_corners=False)
        gg.nn.functional.affine_grid(gg.zeros(1, 2, 3), [1, 1, 3, 3], align_corners=True)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3), lib.zeros(1, 2, 2, 3), align_corners=False),
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3), lib.zeros(2, 2, 2, 2), align_corners=False),
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3, 3), lib.zeros(1, 2, 2, 2), align_corners=False),
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3), lib.zeros(1, 2, 1), align_corners=False),
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3), lib.zeros(1, 2, 2, 2, dtype=lib.float64),
                                              align_corners=False),
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 0, 3), lib.zeros(1, 2, 2, 2), align_corners=False),
    lambda lib: lib.nn.functional.grid_sample(lib.zeros(1, 1, 3, 3, dtype=lib.int64),
                                              lib.zeros(1, 2, 2, 2, dtype=lib.int64), align_corners=False),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), [2, 1, 2, 2], align_corners=False),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), [1, 1, 2], align_corners=False),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3, dtype=lib.int64), [1, 1, 2, 2], align_corners=False),
    lambda lib: lib.nn.functional.affine_grid(lib.zeros(1, 2, 3), [1, 1, 0, 3], align_corners=False),
])
def test_grid_sample_and_affine_grid_misuse_raises_pytorchs_class(torch, call):
    from one_line_errors import assert_raises_as_pytorch

    assert_raises_as_pytorch(call, torch)


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4), size=3, antialias=True),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4), size=3, mode="linear", antialias=True),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4, 4), size=3, mode="bicubic", antialias=True),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4), size=3, recompute_scale_factor=True),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4), size=3, scale_factor=2),
    lambda lib: lib.nn.functional.interpolate(lib.zeros(1, 1, 4, 4), size=3, mode="cubic"),
    lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (1, 1), mode="reflect", value=1.0),
    lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (1, 1), mode="replicate", value=-2.0),
    lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (1, 1), mode="circular", value=0.5),
    lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 3), (3, 0), mode="reflect"),
    lambda lib: lib.nn.CircularPad2d(1)(lib.zeros(2, 3)),
    lambda lib: lib.nn.CircularPad3d(1)(lib.zeros(2, 2, 2, 2, 2, 2)),
    lambda lib: lib.nn.functional.pixel_shuffle(lib.zeros(1, 4, 2, 2), 0),
    lambda lib: lib.nn.functional.pixel_unshuffle(lib.zeros(1, 4, 2, 2), -1),
    lambda lib: lib.nn.functional.channel_shuffle(lib.zeros(1, 4, 2), 0),
])
def test_resizing_padding_and_shuffle_misuse_raises_pytorchs_class(torch, call):
    """antialias with another mode or a non-4-D input raised NotImplementedError, ``recompute_scale_factor=True``
    beside a size and a non-zero ``value`` outside constant padding were silently ignored, a shuffle factor of 0
    raised ValueError, a CircularPad layer given an input of the wrong rank NotImplementedError (PyTorch's layer:
    ValueError); PyTorch's classes now."""
    from one_line_errors import assert_raises_as_pytorch

    assert_raises_as_pytorch(call, torch)


def test_pad_of_another_mode_still_takes_value_zero_as_pytorch():
    x = gg.arange(6.0).reshape(1, 2, 3)
    assert gg.nn.functional.pad(x, (1, 1), mode="reflect", value=0.0).tolist() == [[[1, 0, 1, 2, 1], [4, 3, 4, 5, 4]]]


def test_antialias_to_one_column_gives_the_separable_resize_where_pytorch_misreads_it(torch):
    """PyTorch 2.13's antialiased resize of rows ``0, 1, 2`` to (2, 1) gives ``[0.375, 0.375]``: its vertical pass
    repeats the first row when the output is one column wide (to (2, 2) it gives ``0.375, 1.625``). glassgrad resizes
    each dim on its own, so the one column holds the two rows of the (2, 2) resize. A PyTorch quirk, pinned."""
    rows = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])[None, None]
    F = torch.nn.functional
    theirs_wide = F.interpolate(torch.tensor(rows), size=(2, 2), mode="bilinear", antialias=True).numpy()
    ours = gg.nn.functional.interpolate(gg.tensor(rows), size=(2, 1), mode="bilinear", antialias=True).numpy()
    np.testing.assert_allclose(ours[..., 0], theirs_wide[..., 0], rtol=1e-12)
    theirs = F.interpolate(torch.tensor(rows), size=(2, 1), mode="bilinear", antialias=True).numpy().ravel()
    np.testing.assert_allclose(theirs, [0.375, 0.375], rtol=1e-12)  # PyTorch 2.13's quirk


def test_circular_pad_that_wraps_more_than_what_a_crop_kept_is_refused_in_one_line():
    """PyTorch checks the amount against the input's size before the crop, and reads entries outside what was
    kept (``pad(x, (4, -2), 'circular')`` of 5 entries gives memory that was never written); glassgrad refuses."""
    from one_line_errors import assert_glassgrad_refuses

    assert_glassgrad_refuses(lambda lib: lib.nn.functional.pad(lib.zeros(1, 2, 5), (4, -2), mode="circular"),
                             RuntimeError, "wraps more than once")


@pytest.mark.parametrize("layer, shape", [
    ("UpsamplingBilinear2d", (1, 2, 3, 4)), ("UpsamplingNearest2d", (2, 1, 3, 3)),
])
def test_upsampling_layers_match_pytorch(torch, layer, shape):
    _same(torch, lambda F, x: getattr(gg.nn if F is gg.nn.functional else torch.nn, layer)(scale_factor=2)(x),
          [np.random.default_rng(1).standard_normal(shape)])


def test_bicubic_by_a_factor_that_keeps_the_size_has_the_gradient_of_its_forward(torch):
    """A 2-row image scaled by 1.3333 keeps 2 rows, but PyTorch's bicubic forward still resamples them at the
    factor's positions while its backward copies the gradient through (its own gradcheck fails). glassgrad gives
    PyTorch's values and the gradient of those values. A PyTorch quirk, pinned."""
    x = np.random.default_rng(0).standard_normal((1, 1, 2, 5))

    def resize(lib):
        return lambda t: lib.nn.functional.interpolate(t, scale_factor=(1.3333, 1.0), mode="bicubic",
                                                       align_corners=False)

    ours = resize(gg)(gg.tensor(x)).numpy()
    np.testing.assert_allclose(ours, resize(torch)(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-14)
    assert gg.autograd.gradcheck(resize(gg), (gg.tensor(x, requires_grad=True),))
    assert not torch.autograd.gradcheck(resize(torch), (torch.tensor(x, requires_grad=True),), raise_exception=False)
