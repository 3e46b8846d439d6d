"""Ready-made datasets (checked against their geometry and scikit-learn), TensorDataset, and the splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.data import (
    DATASETS,
    Subset,
    TensorDataset,
    diagonal_flip,
    linear_regression_1d,
    load_dataset,
    load_digits,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    random_split,
    train_val_split,
)

# --- the datasets ---------------------------------------------------------------------------


def test_digits_are_sklearns_1797_images_scaled_to_unit_range():
    from sklearn.datasets import load_digits as sklearn_digits

    data = load_digits()
    X, y = data.tensors
    assert X.shape == (1797, 64) and X.dtype == np.float32 and y.dtype == np.int64
    assert sorted(np.unique(y.array).tolist()) == list(range(10))
    assert X.array.min() == 0.0 and X.array.max() == 1.0
    reference = sklearn_digits()
    np.testing.assert_array_equal(X.array * 16, reference.data.astype(np.float32))
    np.testing.assert_array_equal(y.array, reference.target)
    assert data.class_names == [str(d) for d in range(10)] and data.feature_names[9] == "pixel_1_1"


def test_digits_file_read_directly_gives_sklearns_arrays_without_importing_sklearn():
    import subprocess
    import sys

    from sklearn.datasets import load_digits as sklearn_digits

    from glassgrad.data.datasets import _bundled_digits

    images, labels = _bundled_digits()
    reference_images, reference_labels = sklearn_digits(return_X_y=True)
    np.testing.assert_array_equal(images, reference_images)
    np.testing.assert_array_equal(labels, reference_labels)
    assert images.dtype == reference_images.dtype and labels.dtype == reference_labels.dtype
    code = "import sys, glassgrad as gg; gg.data.load_digits(); print('sklearn' in sys.modules)"
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "False"


def test_noiseless_moons_and_circles_are_sklearns_point_sets():
    from sklearn.datasets import make_circles as sk_circles
    from sklearn.datasets import make_moons as sk_moons

    for ours, theirs in [(make_moons(101, noise=0.0), sk_moons(101, noise=0.0, shuffle=False)),
                         (make_circles(101, noise=0.0, factor=0.3), sk_circles(101, noise=0.0, factor=0.3,
                                                                                shuffle=False))]:
        X, y = ours.tensors
        reference_X, reference_y = theirs
        for label in (0, 1):
            mine, reference = X.array[y.array == label].astype(np.float64), reference_X[reference_y == label]
            assert len(mine) == len(reference)
            distances = np.linalg.norm(mine[:, None, :] - reference[None, :, :], axis=2)
            assert distances.min(axis=1).max() < 1e-6 and distances.min(axis=0).max() < 1e-6  # same points


def test_moons_geometry_and_noise():
    X, y = make_moons(400, noise=0.0, seed=1).tensors
    top, bottom = X.array[y.array == 0].astype(np.float64), X.array[y.array == 1].astype(np.float64)
    np.testing.assert_allclose(np.hypot(*top.T), 1.0, atol=1e-6)                       # (cos t, sin t)
    np.testing.assert_allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0, atol=1e-6)
    assert (top[:, 1] >= -1e-6).all() and (bottom[:, 1] <= 0.5 + 1e-6).all()
    X, y = make_moons(4000, noise=0.05, seed=1).tensors
    radial_offset = np.hypot(*X.array[y.array == 0].astype(np.float64).T) - 1.0  # ≈ N(0, noise²) across the arc
    assert abs(radial_offset.std() - 0.05) < 0.005


@given(n=st.integers(4, 300), factor=st.floats(0.1, 0.9))
def test_circles_radii(n, factor):
    X, y = make_circles(n, noise=0.0, factor=factor, seed=0).tensors
    radius = np.hypot(*X.array.astype(np.float64).T)
    np.testing.assert_allclose(radius[y.array == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(radius[y.array == 1], factor, atol=1e-6)
    assert (y.array == 0).sum() == n // 2


@given(n=st.integers(6, 300), classes=st.integers(2, 5))
def test_spirals_arms_radius_grows_with_the_angle(n, classes):
    X, y = make_spirals(n, classes=classes, noise=0.0, seed=0).tensors
    assert X.shape == (n, 2) and np.bincount(y.array).tolist() == [len(range(k, n, classes)) for k in range(classes)]
    for arm in range(classes):
        points = X.array[y.array == arm].astype(np.float64)
        radius = np.hypot(*points.T)
        order = np.argsort(radius)
        angle = np.unwrap(np.arctan2(points[order, 1], points[order, 0])[1:])  # skip the centre point
        expected = 2 * np.pi * arm / classes + 2 * np.pi * radius[order][1:]  # angle = 2πk/K + 2π·r
        np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-5)


def test_xor_without_noise_is_the_truth_table():
    X, y = make_xor(4, noise=0.0).tensors
    table = {tuple(x): label for x, label in zip(X.array.tolist(), y.array.tolist())}
    assert table == {(0.0, 0.0): 0, (0.0, 1.0): 1, (1.0, 0.0): 1, (1.0, 1.0): 0}
    X, y = make_xor(400, noise=0.1, seed=2).tensors
    corner = np.round(X.array).clip(0, 1)
    assert ((corner[:, 0] != corner[:, 1]) == y.array).mean() > 0.99


def test_diagonal_flip_is_the_lessons_task():
    X, Y = diagonal_flip().tensors
    assert X.shape == Y.shape == (16, 4) and X.dtype == Y.dtype == np.float32
    assert len({tuple(row) for row in X.array.tolist()}) == 16 and set(np.unique(X.array)) == {0.0, 1.0}
    pairs = {tuple(x): tuple(t) for x, t in zip(X.array.tolist(), Y.array.tolist())}
    assert pairs[(1.0, 0.0, 1.0, 1.0)] == (1.0, 1.0, 0.0, 1.0)  # the lesson's example
    for x, target in zip(X.array, Y.array):  # target = the 2×2 image transposed
        np.testing.assert_array_equal(target.reshape(2, 2), x.reshape(2, 2).T)


def test_linear_regression_1d_follows_its_line():
    X, y = linear_regression_1d(n_samples=30, noise=0.0).tensors
    assert X.shape == y.shape == (30, 1) and X.dtype == y.dtype == np.float32
    np.testing.assert_allclose(y.array, 2.0 * X.array + 1.0, rtol=1e-6, atol=1e-6)
    X, y = linear_regression_1d(n_samples=4000, slope=-3.0, intercept=0.5, noise=0.5, seed=1).tensors
    slope, intercept = np.polyfit(X.array[:, 0].astype(np.float64), y.array[:, 0].astype(np.float64), 1)
    assert abs(slope + 3.0) < 0.05 and abs(intercept - 0.5) < 0.05
    residual = y.array[:, 0] - (slope * X.array[:, 0] + intercept)
    assert abs(residual.std() - 0.5) < 0.03


@pytest.mark.parametrize("name", [n for n in DATASETS if n not in ("digits", "diagonal-flip")])
def test_generated_sets_repeat_with_a_seed_and_differ_between_seeds(name):
    first, again, other = (load_dataset(name, seed=s).tensors for s in (5, 5, 6))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a.array, b.array)
    assert not np.array_equal(first[0].array, other[0].array)
    X, y = first
    assert X.dtype == np.float32
    assert y.dtype == (np.float32 if name == "linear-1d" else np.int64)


def test_load_dataset_passes_options_and_explains_mistakes():
    assert len(load_dataset("moons", n_samples=60)) == 60
    assert len(load_dataset("digits")) == 1797
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; known datasets: digits, moons, circles"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="dataset 'moons' does not take colour; it takes: n_samples, noise"):
        load_dataset("moons", colour="red")
    assert set(DATASETS) == {"digits", "moons", "circles", "spirals", "xor", "diagonal-flip", "linear-1d"}


@pytest.mark.parametrize("call, message", [
    (lambda: make_moons(1), "n_samples must be a whole number >= 2"),
    (lambda: make_moons(10, noise=-1), "noise must be a finite number >= 0"),
    (lambda: make_circles(10, factor=1.5), "factor .* must be between 0 and 1"),
    (lambda: make_spirals(10, classes=1), "classes must be a whole number >= 2"),
    (lambda: linear_regression_1d(n_samples=0), "n_samples must be a whole number >= 1"),
])
def test_bad_generator_options_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- TensorDataset --------------------------------------------------------------------------


def test_tensor_dataset_rows_and_errors():
    data = TensorDataset(gg.arange(6.0).reshape(3, 2), np.array([2, 0, 1]), feature_names=["a", "b"])
    x, y = data[1]
    assert x.array.tolist() == [2.0, 3.0] and y.item() == 0 and len(data) == 3
    assert data.feature_names == ["a", "b"] and data.class_names is None
    assert len(data.tensors) == 2 and all(isinstance(t, gg.Tensor) for t in data.tensors)
    with pytest.raises(AssertionError, match=r"same size in dimension 0.*3 \(tensor 0\), 4 \(tensor 1\)"):
        TensorDataset(gg.zeros(3, 2), gg.zeros(4))
    with pytest.raises(ValueError, match="at least one tensor"):
        TensorDataset()
    with pytest.raises(ValueError, match="single number"):
        TensorDataset(gg.tensor(1.0))


# --- splits ---------------------------------------------------------------------------------


def ids(subset: Subset) -> list[int]:
    return [int(subset[i][0].item()) for i in range(len(subset))]


@pytest.mark.filterwarnings("ignore:Length of split at index")  # a small n leaves some split empty
@given(n=st.integers(0, 200), fractions=st.lists(st.integers(1, 9), min_size=1, max_size=4), seed=st.integers(0, 9))
def test_random_split_by_fractions_is_disjoint_and_complete(n, fractions, seed):
    weights = np.array(fractions, dtype=np.float64) / sum(fractions)
    parts = random_split(TensorDataset(gg.arange(n)), weights.tolist(), seed=seed)
    sizes = [len(p) for p in parts]
    assert sum(sizes) == n
    assert all(abs(size - w * n) <= 1 for size, w in zip(sizes, weights))  # floor, plus at most one
    everything = [i for part in parts for i in ids(part)]
    assert sorted(everything) == list(range(n))
    again = random_split(TensorDataset(gg.arange(n)), weights.tolist(), seed=seed)
    assert [ids(p) for p in again] == [ids(p) for p in parts]


@pytest.mark.torch
@pytest.mark.parametrize("total, fractions", [(3, [0.1, 0.1, 0.8]), (1, [0.5, 0.5]), (10, [0.5, 0.5]), (2, [0.0, 1.0])])
def test_random_split_warns_of_an_empty_split_of_fractions_as_pytorch(torch, total, fractions):
    """PyTorch 2.13 warns 'Length of split at index i is 0' where fractions leave a split empty; this said nothing."""
    import warnings

    found = []
    for library in (gg, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = library.utils.data.random_split(range(total), fractions)
        messages = [str(warning.message) for warning in caught]
        found.append(([len(part) for part in parts], [text for text in messages if "Length of split" in text]))
    assert found[0] == found[1]


def test_random_split_by_lengths_and_its_errors():
    parts = random_split(TensorDataset(gg.arange(10)), [7, 3])
    assert [len(p) for p in parts] == [7, 3] and not set(ids(parts[0])) & set(ids(parts[1]))
    with pytest.raises(ValueError, match="neither a list of lengths adding up to the dataset's 10 samples"):
        random_split(TensorDataset(gg.arange(10)), [5, 4])
    with pytest.raises(ValueError, match=">= 0"):
        random_split(TensorDataset(gg.arange(10)), [1.2, -0.2])


@given(n=st.integers(2, 300), val_fraction=st.floats(0.05, 0.95), seed=st.integers(0, 9))
def test_train_val_split_sizes_and_disjointness(n, val_fraction, seed):
    val_size = round(val_fraction * n)
    data = TensorDataset(np.arange(n), np.arange(n) % 3)
    if not 0 < val_size < n:
        with pytest.raises(ValueError, match="leaves an empty train or validation set"):
            train_val_split(data, val_fraction, seed=seed)
        return
    for stratify in (False, True):
        train, val = train_val_split(data, val_fraction, seed=seed, stratify=stratify)
        assert len(val) == val_size and len(train) == n - val_size
        assert sorted(ids(train) + ids(val)) == list(range(n))
        again_train, again_val = train_val_split(data, val_fraction, seed=seed, stratify=stratify)
        assert ids(again_val) == ids(val)


def test_stratified_split_keeps_each_class_share():
    data = load_digits()
    labels = data.tensors[1].array
    train, val = train_val_split(data, 0.2, seed=0, stratify=True)
    counts = np.bincount(labels, minlength=10)
    val_counts = np.bincount(labels[val.indices], minlength=10)
    assert np.all(np.abs(val_counts - 0.2 * counts) < 1)   # each class: its 20 %, rounded
    assert len(val) == round(0.2 * 1797)
    with pytest.raises(ValueError, match="needs one class label per sample"):
        train_val_split(diagonal_flip(), 0.25, stratify=True)
    with pytest.raises(ValueError, match="between 0 and 1"):
        train_val_split(data, 1.0)
