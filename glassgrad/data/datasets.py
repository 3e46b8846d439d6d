"""Ready-made datasets, all offline: scikit-learn's bundled digits, generated 2-D toys, the lesson's task.

>>> import glassgrad as gg
>>> X, y = gg.data.make_moons(n_samples=6, seed=0).tensors
>>> X.shape, X.dtype, y.dtype
(Size([6, 2]), dtype('float32'), dtype('int64'))
>>> gg.data.load_dataset("diagonal-flip")
TensorDataset(16 samples: (16, 4) float32, (16, 4) float32)

Classification sets hold float32 inputs ``X`` and int64 class ids ``y``; regression sets
hold float32 targets of shape ``(n, 1)``, the shape a ``Linear(…, 1)`` layer outputs.
Generated sets are drawn from ``np.random.default_rng(seed)``: the same seed gives the same
numbers, and nothing is ever downloaded.
"""

from __future__ import annotations

import inspect
import itertools

import numpy as np

from .dataset import TensorDataset

POINT_NAMES = ["x1", "x2"]


def _classification(points: np.ndarray, labels: np.ndarray, rng: np.random.Generator, noise: float,
                    class_names: list[str] | None = None) -> TensorDataset:
    """Add Gaussian noise (standard deviation ``noise``) to the points, shuffle, and pack them."""
    _check_noise(noise)
    points = points + rng.normal(0.0, noise, size=points.shape) if noise else points
    order = rng.permutation(len(labels))
    return TensorDataset(points[order].astype(np.float32), labels[order].astype(np.int64),
                         feature_names=POINT_NAMES, class_names=class_names)


def _check_noise(noise: float) -> None:
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0 (a standard deviation), got {noise!r}")


def _check_count(n_samples: int, least: int = 1) -> int:
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < least:
        raise ValueError(f"n_samples must be a whole number >= {least}, got {n_samples!r}")
    return int(n_samples)


def load_digits() -> TensorDataset:
    """scikit-learn's bundled 8×8 handwritten digits: 1,797 images, 10 classes (0–9).

    Each image is 64 pixels read row by row, with intensities 0–16 scaled to [0, 1]
    (pixel / 16), as float32; labels are int64. ``feature_names`` are ``pixel_<row>_<col>``.
    """
    images, labels = _bundled_digits()
    names = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
    return TensorDataset((images / 16.0).astype(np.float32), labels.astype(np.int64),
                         feature_names=names, class_names=[str(d) for d in range(10)])


def _bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``), read directly.

    Importing scikit-learn to load it takes about a second; reading the file takes milliseconds
    and gives the same arrays as ``sklearn.datasets.load_digits(return_X_y=True)``. Each row is
    64 pixels then the label.
    """
    import gzip
    from importlib.util import find_spec
    from pathlib import Path

    spec = find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the digits data set comes with scikit-learn: pip install scikit-learn")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
    with gzip.open(path, "rt") as rows:
        table = np.loadtxt(rows, delimiter=",")
    return table[:, :-1], table[:, -1].astype(int)


def make_moons(n_samples: int = 1000, noise: float = 0.1, seed: int = 0) -> TensorDataset:
    """Two interleaving half circles: class 0 on top, class 1 below and shifted right.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 − cos t, 0.5 − sin t)``, t evenly spaced in [0, π];
    then Gaussian noise with standard deviation ``noise`` on each coordinate.
    """
    n_samples = _check_count(n_samples, 2)
    top = n_samples // 2
    t_top = np.linspace(0.0, np.pi, top)
    t_bottom = np.linspace(0.0, np.pi, n_samples - top)
    points = np.concatenate([
        np.column_stack([np.cos(t_top), np.sin(t_top)]),
        np.column_stack([1.0 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)]),
    ])
    labels = np.repeat([0, 1], [top, n_samples - top])
    return _classification(points, labels, np.random.default_rng(seed), noise)


def make_circles(n_samples: int = 1000, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> TensorDataset:
    """Two concentric circles: class 0 on the unit circle, class 1 on radius ``factor`` (0 < factor < 1)."""
    n_samples = _check_count(n_samples, 2)
    if not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be between 0 and 1, got {factor}")
    outer = n_samples // 2
    angles_outer = np.linspace(0.0, 2 * np.pi, outer, endpoint=False)
    angles_inner = np.linspace(0.0, 2 * np.pi, n_samples - outer, endpoint=False)
    points = np.concatenate([
        np.column_stack([np.cos(angles_outer), np.sin(angles_outer)]),
        factor * np.column_stack([np.cos(angles_inner), np.sin(angles_inner)]),
    ])
    labels = np.repeat([0, 1], [outer, n_samples - outer])
    return _classification(points, labels, np.random.default_rng(seed), noise)


def make_spirals(n_samples: int = 1000, classes: int = 2, noise: float = 0.05, seed: int = 0) -> TensorDataset:
    """``classes`` spiral arms wound around the origin, one arm per class.

    A point at position t ∈ [0, 1] along arm k sits at radius t and angle
    ``2π·k/classes + 2π·t`` (one full turn), then gets Gaussian noise of standard
    deviation ``noise`` on each coordinate.
    """
    if isinstance(classes, bool) or not isinstance(classes, (int, np.integer)) or classes < 2:
        raise ValueError(f"classes must be a whole number >= 2, got {classes!r}")
    n_samples = _check_count(n_samples, classes)
    labels = np.arange(n_samples) % classes
    position = np.empty(n_samples)
    for arm in range(classes):
        members = labels == arm
        position[members] = np.linspace(0.0, 1.0, members.sum())
    angle = 2 * np.pi * labels / classes + 2 * np.pi * position
    points = position[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    return _classification(points, labels, np.random.default_rng(seed), noise)


def make_xor(n_samples: int = 200, noise: float = 0.1, seed: int = 0) -> TensorDataset:
    """XOR: noisy copies of the four corners of the unit square, labelled ``x1 XOR x2``.

    Samples cycle through (0, 0) → 0, (0, 1) → 1, (1, 0) → 1, (1, 1) → 0 and get Gaussian
    noise of standard deviation ``noise``; ``make_xor(4, noise=0)`` is the truth table.
    No straight line separates the classes: a network needs a hidden layer.
    """
    n_samples = _check_count(n_samples)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    picked = np.arange(n_samples) % 4
    labels = (corners[picked, 0] != corners[picked, 1]).astype(np.int64)
    return _classification(corners[picked], labels, np.random.default_rng(seed), noise)


DIAGONAL_FLIP = [0, 2, 1, 3]
"""Where each output pixel comes from: the 2×2 image ``[a b; c d]``, read row by row as
``[a, b, c, d]``, flipped along its main diagonal is ``[a c; b d]`` = ``[a, c, b, d]``:
pixels 1 and 2 swap places."""


def diagonal_flip() -> TensorDataset:
    """The lesson's task: every 2×2 binary image (16 of them, as 4-vectors) and its diagonal flip.

    The input ``[1, 0, 1, 1]`` (``[1 0; 1 1]``) has the target ``[1, 1, 0, 1]`` (``[1 1; 0 1]``).
    Both tensors are float32 of shape (16, 4), fit for a 4→…→4 network and ``mse_loss``.
    """
    images = np.array(list(itertools.product([0.0, 1.0], repeat=4)), dtype=np.float32)
    return TensorDataset(images, images[:, DIAGONAL_FLIP], feature_names=["a", "b", "c", "d"])


def linear_regression_1d(n_samples: int = 50, slope: float = 2.0, intercept: float = 1.0, noise: float = 0.5,
                         seed: int = 0) -> TensorDataset:
    """Points near a line: ``y = slope · x + intercept + ε``, x uniform in [−2, 2], ε ~ N(0, noise²).

    ``X`` and ``y`` are float32 of shape (n, 1): one input and one output per sample.
    """
    n_samples = _check_count(n_samples)
    _check_noise(noise)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, size=(n_samples, 1))
    y = slope * x + intercept + rng.normal(0.0, noise, size=(n_samples, 1))
    return TensorDataset(x.astype(np.float32), y.astype(np.float32), feature_names=["x"])


_LOADERS = {
    "digits": load_digits,
    "moons": make_moons,
    "circles": make_circles,
    "spirals": make_spirals,
    "xor": make_xor,
    "diagonal-flip": diagonal_flip,
    "linear-1d": linear_regression_1d,
}

DATASETS = {
    "digits": "8×8 handwritten digits from scikit-learn: 1,797 images, 64 pixels in [0, 1], 10 classes",
    "moons": "two interleaving half circles in 2-D, 2 classes (generated, seeded)",
    "circles": "a small circle inside a big one in 2-D, 2 classes (generated, seeded)",
    "spirals": "spiral arms wound around the origin in 2-D, one class per arm (generated, seeded)",
    "xor": "noisy corners of the unit square labelled x1 XOR x2, 2 classes (generated, seeded)",
    "diagonal-flip": "the lesson's task: all 16 binary 2×2 images and their flips along the diagonal",
    "linear-1d": "y = 2x + 1 plus noise, 50 points, for linear regression (generated, seeded)",
}
"""Every dataset :func:`load_dataset` knows, with a one-line description."""


def load_dataset(name: str, seed: int = 0, **options: object) -> TensorDataset:
    """The dataset called ``name`` (a key of :data:`DATASETS`); ``options`` go to its maker.

    ``load_dataset("moons", seed=1, n_samples=500, noise=0.2)`` is
    ``make_moons(n_samples=500, noise=0.2, seed=1)``. Fixed datasets ignore ``seed``.
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    maker = _LOADERS[name]
    accepted = inspect.signature(maker).parameters
    unknown = [option for option in options if option not in accepted or option == "seed"]
    if unknown:
        takes = ", ".join(p for p in accepted if p != "seed") or "no options"
        raise ValueError(f"dataset {name!r} does not take {', '.join(unknown)}; it takes: {takes}")
    if "seed" in accepted:
        options["seed"] = seed
    return maker(**options)
