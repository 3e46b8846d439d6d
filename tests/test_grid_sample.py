"""F.affine_grid and F.grid_sample: values and gradients (input, grid, θ) against PyTorch, finite differences."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F

MODES = ("bilinear", "nearest", "bicubic")
PADDINGS = ("zeros", "border", "reflection")
EVERY_SETTING = list(itertools.product(MODES, PADDINGS, (False, True)))


def _normalised(pixel: np.ndarray, size: int, align_corners: bool) -> np.ndarray:
    """The normalised coordinate of a pixel coordinate (the inverse of grid_sample's unnormalising)."""
    if align_corners:
        return pixel / ((size - 1) / 2) - 1 if size > 1 else pixel / 2
    return (pixel + 0.5) / (size / 2) - 1


@st.composite
def _sampling_case(draw, align_corners):
    """An input (N, C, H, W) and a grid whose points are pixel coordinates ``k + f`` normalised.

    ``k`` reaches two sizes beyond either edge (padding modes), ``f`` is 0 (a pixel centre, or the
    border), ½ (half-way: a tie for nearest, which rounds half to even as PyTorch) or drawn.
    """
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h_out, w_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    fraction = st.one_of(st.sampled_from([0.0, 0.5]), st.floats(0.05, 0.45), st.floats(0.55, 0.95))
    points = np.empty((n, h_out, w_out, 2))
    for index in np.ndindex(n, h_out, w_out):
        for axis, size in enumerate((w, h)):
            pixel = draw(st.integers(-2 * size, 3 * size - 1)) + draw(fraction)
            points[index + (axis,)] = _normalised(pixel, size, align_corners)
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).normal(size=(n, c, h, w)), points, seed


def _assert_sampled_as_pytorch(torch, case, **options):
    """grid_sample's output and its gradients w.r.t. input and grid (nearest's: zeros) agree with PyTorch's.

    ``case``: an input, a grid and a seed for the upstream gradient (one number per output entry).
    """
    input, grid, seed = case
    upstream = np.random.default_rng(seed + 1).normal(size=input.shape[:2] + grid.shape[1:-1])
    results = []
    for library, sample in ((gg, F.grid_sample), (torch, torch.nn.functional.grid_sample)):
        x = library.tensor(input, requires_grad=True)
        g = library.tensor(grid, requires_grad=True)
        out = sample(x, g, **options)
        (out * library.tensor(upstream)).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy(), g.grad.numpy()))
    for name, mine, expected in zip(("output", "input gradient", "grid gradient"), *results):
        np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.torch
@pytest.mark.parametrize("mode, padding_mode, align_corners", EVERY_SETTING)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_grid_sample_values_and_gradients_match_pytorch(torch, mode, padding_mode, align_corners, data):
    _assert_sampled_as_pytorch(torch, data.draw(_sampling_case(align_corners)), mode=mode,
                               padding_mode=padding_mode, align_corners=align_corners)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Since version 1.3.0")  # PyTorch's note on 1-pixel grids with align_corners
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(1, 5), w=st.integers(1, 5),
       align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_affine_grid_and_its_theta_gradient_match_pytorch(torch, n, c, h, w, align_corners, seed):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 2, 3))
    upstream = rng.normal(size=(n, h, w, 2))
    ours = gg.tensor(theta, requires_grad=True)
    theirs = torch.tensor(theta, requires_grad=True)
    grid = F.affine_grid(ours, (n, c, h, w), align_corners=align_corners)
    expected = torch.nn.functional.affine_grid(theirs, [n, c, h, w], align_corners=align_corners)
    np.testing.assert_allclose(grid.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    (grid * gg.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("mode, padding_mode, align_corners", EVERY_SETTING)
def test_a_spatial_transformers_theta_gradient_matches_pytorch(torch, mode, padding_mode, align_corners):
    rng = np.random.default_rng(7)
    image = rng.normal(size=(2, 3, 5, 6))
    # entries chosen so that no point lands on a pixel centre, where the grid's gradient jumps (the two
    # libraries' grids may differ there in the last bit)
    theta = np.array([[[1.31, 0.217, 0.113], [-0.29, 0.93, -0.21]], [[0.61, -0.53, 0.41], [0.43, 1.47, 0.31]]])
    gradients = []
    for library, functional in ((gg, F), (torch, torch.nn.functional)):
        t = library.tensor(theta, requires_grad=True)
        grid = functional.affine_grid(t, [2, 3, 4, 7], align_corners=align_corners)
        out = functional.grid_sample(library.tensor(image), grid, mode=mode, padding_mode=padding_mode,
                                     align_corners=align_corners)
        (out * out).sum().backward()
        gradients.append(t.grad.numpy())
    np.testing.assert_allclose(*gradients, rtol=1e-10, atol=1e-12)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Since version 1.3.0")  # PyTorch's note on 1-pixel grids with align_corners
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 2), size=st.tuples(*[st.integers(1, 4)] * 3),
       align_corners=st.booleans(), seed=st.integers(0, 2**16))
def test_a_volumes_affine_grid_and_its_theta_gradient_match_pytorch(torch, n, c, size, align_corners, seed):
    """Deep Learning with PyTorch's CT augmentation (``F.affine_grid(transform_t[:3].unsqueeze(0), ct.size())`` of
    a 5-D volume) raised NotImplementedError: only images were built."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=(n, 3, 4))
    upstream = rng.normal(size=(n, *size, 3))
    results = []
    for library, functional in ((gg, F), (torch, torch.nn.functional)):
        t = library.tensor(theta, requires_grad=True)
        grid = functional.affine_grid(t, [n, c, *size], align_corners=align_corners)
        (grid * library.tensor(upstream)).sum().backward()
        results.append((grid.detach().numpy(), t.grad.numpy()))
    for mine, expected in zip(*results):
        np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-12)


@st.composite
def _volume_case(draw, align_corners):
    """A volume (N, C, D, H, W) and a grid of points ``k + f`` along each of x, y, z, normalised (as above)."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    sizes = draw(st.tuples(*[st.integers(1, 3)] * 3))  # D, H, W
    out = draw(st.tuples(*[st.integers(1, 2)] * 3))
    fraction = st.one_of(st.sampled_from([0.0, 0.5]), st.floats(0.05, 0.45), st.floats(0.55, 0.95))
    points = np.empty((n, *out, 3))
    for index in np.ndindex(n, *out):
        for axis, size in enumerate(sizes[::-1]):  # x along W, y along H, z along D
            pixel = draw(st.integers(-2 * size, 3 * size - 1)) + draw(fraction)
            points[index + (axis,)] = _normalised(pixel, size, align_corners)
    seed = draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).normal(size=(n, c, *sizes)), points, seed


@pytest.mark.torch
@pytest.mark.parametrize("mode, padding_mode, align_corners",
                         [setting for setting in EVERY_SETTING if setting[0] != "bicubic"])
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_a_volumes_trilinear_and_nearest_samples_and_gradients_match_pytorch(torch, mode, padding_mode,
                                                                             align_corners, data):
    """``F.grid_sample`` of a 5-D CT chunk (the book's augmentation, ``padding_mode='border'``) raised
    NotImplementedError."""
    _assert_sampled_as_pytorch(torch, data.draw(_volume_case(align_corners)), mode=mode,
                               padding_mode=padding_mode, align_corners=align_corners)


def test_trilinear_weights_by_hand():
    volume = gg.tensor(np.arange(8.0).reshape(1, 1, 2, 2, 2), requires_grad=True)  # value 4z + 2y + x
    # aligned: x = 0.25, y = 0.5, z = 0.75
    grid = gg.tensor([[[[[-0.5, 0.0, 0.5]]]]], dtype=gg.float64, requires_grad=True)
    out = F.grid_sample(volume, grid, align_corners=True)
    assert out.item() == pytest.approx(4 * 0.75 + 2 * 0.5 + 0.25)  # trilinear reproduces a linear function
    out.backward()
    weights = np.einsum("i,j,k->ijk", [0.25, 0.75], [0.5, 0.5], [0.75, 0.25])  # (z, y, x)
    np.testing.assert_allclose(volume.grad.numpy()[0, 0], weights)
    np.testing.assert_allclose(grid.grad.numpy(), [[[[[0.5, 1.0, 2.0]]]]])  # (1, 2, 4) times ∂x/∂g = ½


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_first_and_second_derivatives_match_finite_differences(mode, padding_mode):
    rng = np.random.default_rng(3)
    image = gg.tensor(rng.normal(size=(1, 2, 3, 4)), requires_grad=True)
    grid = gg.tensor(rng.uniform(-1.6, 1.6, size=(1, 2, 3, 2)), requires_grad=True)

    def sample(x, g):
        return F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=False)

    assert gg.gradcheck(sample, (image, grid), raise_exception=True)
    assert gg.autograd.gradgradcheck(sample, (image, grid))


def test_bilinear_weights_by_hand():
    image = gg.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    grid = gg.tensor([[[[-0.5, 0.0]]]], requires_grad=True)  # aligned: x = 0.25, y = 0.5
    out = F.grid_sample(image, grid, align_corners=True)
    # weights (1 − fx)(1 − fy) = 0.375, fx(1 − fy) = 0.125, (1 − fx)fy = 0.375, fx·fy = 0.125
    assert out.item() == pytest.approx(0.375 * 1 + 0.125 * 2 + 0.375 * 3 + 0.125 * 4)
    out.backward()
    np.testing.assert_allclose(image.grad.numpy(), [[[[0.375, 0.125], [0.375, 0.125]]]])
    # ∂out/∂x = (1 − fy)(2 − 1) + fy(4 − 3) = 1 per pixel, ∂x/∂g = (n − 1)/2 = ½; ∂out/∂y = 2, ∂y/∂g = ½
    np.testing.assert_allclose(grid.grad.numpy(), [[[[0.5, 1.0]]]])


def test_the_identity_transform_gives_the_image_back():
    image = gg.tensor(np.arange(24.0).reshape(1, 2, 3, 4))
    for align_corners in (False, True):
        grid = F.affine_grid(gg.tensor(np.eye(2, 3)[None]), (1, 2, 3, 4), align_corners=align_corners)
        for mode in MODES:
            out = F.grid_sample(image, grid, mode=mode, align_corners=align_corners)
            np.testing.assert_allclose(out.numpy(), image.numpy(), atol=1e-12)


def test_zeros_padding_reads_nothing_far_outside():
    image = gg.tensor(np.ones((1, 1, 2, 2)))
    out = F.grid_sample(image, gg.tensor(np.array([[[[3.0, 0.0], [0.0, -3.0]]]])), align_corners=False)
    assert out.numpy().tolist() == [[[[0.0, 0.0]]]]


@pytest.mark.parametrize("call, message", [
    (lambda: F.grid_sample(gg.zeros(1, 1, 2, 2), gg.zeros(1, 2, 2, 2), mode="area"), "mode must be one of"),
    (lambda: F.grid_sample(gg.zeros(1, 1, 2, 2), gg.zeros(1, 2, 2, 2), padding_mode="wrap"), "padding_mode must"),
    (lambda: F.grid_sample(gg.zeros(1, 2, 2), gg.zeros(1, 2, 2, 2)), "input must be 4-D"),
    (lambda: F.grid_sample(gg.zeros(1, 1, 2, 2, 2), gg.zeros(1, 2, 2, 2, 2)), "grid must be (N, D_out, H_out, W_out"),
    (lambda: F.grid_sample(gg.zeros(1, 1, 2, 2, 2), gg.zeros(1, 2, 2, 2, 3), mode="bicubic"), "images (N, C, H, W)"),
    (lambda: F.grid_sample(gg.zeros(1, 1, 2, 2), gg.zeros(1, 2, 2, 3)), "grid must be (N, H_out, W_out, 2)"),
    (lambda: F.grid_sample(gg.zeros(2, 1, 2, 2), gg.zeros(1, 2, 2, 2)), "grid has batch 1 but input has 2"),
    (lambda: F.grid_sample(gg.zeros(1, 1, 2, 2), gg.zeros(1, 2, 2, 2, dtype=gg.float64)), "share one floating"),
    (lambda: F.affine_grid(gg.zeros(1, 3, 3), (1, 1, 2, 2)), "theta must be (N, 2, 3)"),
    (lambda: F.affine_grid(gg.zeros(2, 2, 3), (1, 1, 2, 2)), "theta holds 2 matrices"),
    (lambda: F.affine_grid(gg.zeros(1, 2, 3), (1, 2, 2)), "size must be the 4 numbers (N, C, H, W) or the 5"),
    (lambda: F.affine_grid(gg.zeros(1, 2, 3), (1, 1, 2, 2, 2)), "theta must be (N, 3, 4)"),
    (lambda: F.affine_grid(gg.zeros(1, 3, 4), (1, 1, 2, 2)), "theta must be (N, 2, 3)"),
])
def test_bad_input_is_refused_in_one_line(call, message):
    with pytest.raises((ValueError, TypeError, RuntimeError)) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_compiled_step_that_samples_replays_reading_each_calls_grid():
    """Which pixels are read is worked out from the grid in kernels of the step: a replay reads each call's."""
    rng = np.random.default_rng(1)
    compiled_image = gg.tensor(rng.normal(size=(1, 1, 4, 4)), requires_grad=True)
    eager_image = gg.tensor(compiled_image.numpy().copy(), requires_grad=True)
    optimizers = gg.optim.SGD([compiled_image], lr=0.1), gg.optim.SGD([eager_image], lr=0.1)

    def step(image, optimizer, grid):
        optimizer.zero_grad()
        loss = (F.grid_sample(image, grid, align_corners=False) ** 2).sum()
        loss.backward()
        optimizer.step()
        return loss

    compiled = gg.compile(lambda grid: step(compiled_image, optimizers[0], grid))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no refusal
        for _ in range(6):  # other grids on every call: pixels baked into a replay would be wrong
            grid = gg.tensor(rng.uniform(-1, 1, size=(1, 2, 2, 2)))
            assert compiled(grid).item() == step(eager_image, optimizers[1], grid).item()
    assert sum(entry.replays for entry in compiled.entries.values()) == 4
    np.testing.assert_array_equal(compiled_image.numpy(), eager_image.numpy())


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's note on inf − inf (PyTorch gives NaN there too)
@pytest.mark.parametrize("mode, padding_mode, align_corners", EVERY_SETTING)
def test_points_far_away_or_not_finite_read_what_pytorch_reads(torch, mode, padding_mode, align_corners):
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    strange = [np.nan, np.inf, -np.inf, 1e30, -1e30]
    grid = np.array([[[[value, 0.3], [-0.2, value]] for value in strange]])
    ours = F.grid_sample(gg.tensor(image), gg.tensor(grid), mode=mode, padding_mode=padding_mode,
                         align_corners=align_corners)
    theirs = torch.nn.functional.grid_sample(torch.tensor(image), torch.tensor(grid), mode=mode,
                                             padding_mode=padding_mode, align_corners=align_corners)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, equal_nan=True)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's note on inf − inf (PyTorch gives NaN there too)
@pytest.mark.parametrize("mode, align_corners", list(itertools.product(MODES, (False, True))))
def test_points_that_are_not_finite_send_the_input_the_gradient_pytorch_sends(torch, mode, align_corners):
    """A NaN point read 0 from the zeros padding with weight NaN: the input got NaN·0 = NaN at the pixel the read
    stood in for, where PyTorch sends nothing. (PyTorch 2.13's bilinear backward crashes, a segmentation fault, on
    such points with border or reflection padding, so those are not compared.)"""
    padding_mode = "zeros"
    image = np.arange(16.0).reshape(1, 1, 4, 4)
    strange = [np.nan, np.inf, -np.inf, 1e30, -1e30]
    grid = np.array([[[[value, 0.3], [-0.2, value], [0.4, -0.1]] for value in strange]])
    gradients = []
    for library, sample in ((gg, F.grid_sample), (torch, torch.nn.functional.grid_sample)):
        x = library.tensor(image, requires_grad=True)
        sample(x, library.tensor(grid), mode=mode, padding_mode=padding_mode, align_corners=align_corners).sum(
            ).backward()
        gradients.append(x.grad.numpy())
    np.testing.assert_allclose(*gradients, rtol=1e-12, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(mode=st.sampled_from(["bilinear", "bicubic"]), align_corners=st.booleans(), data=st.data())
def test_a_nan_point_sends_the_input_what_a_point_far_outside_sends(mode, align_corners, data):
    """With zeros padding a NaN point reads nothing, as one far outside (its output is NaN, as PyTorch's): the
    input's gradient is that of the grid with the NaN points moved far away, finite."""
    image, grid, seed = data.draw(_sampling_case(align_corners))
    assume(not align_corners or min(image.shape[2:]) > 1)  # else every finite point lands on the one pixel
    lost = data.draw(st.lists(st.booleans(), min_size=grid[..., 0].size, max_size=grid[..., 0].size))
    lost = np.array(lost).reshape(grid.shape[:-1] + (1,)) & (np.arange(2) == data.draw(st.integers(0, 1)))
    gradients = []
    for far_value in (np.nan, 50.0):
        x = gg.tensor(image, requires_grad=True)
        out = F.grid_sample(x, gg.tensor(np.where(lost, far_value, grid)), mode=mode, align_corners=align_corners)
        upstream = np.random.default_rng(seed).normal(size=tuple(out.shape))
        (out.nan_to_num(0.0) * gg.tensor(upstream)).sum().backward()
        gradients.append(x.grad.numpy())
    assert np.isfinite(gradients[0]).all()
    np.testing.assert_allclose(*gradients, rtol=1e-12, atol=1e-12)


def test_the_module_docstring_example_runs():
    import doctest

    from glassgrad.nn import sampling_grid

    result = doctest.testmod(sampling_grid, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
