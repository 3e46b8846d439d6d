"""The linear-regression lesson: the textbook update w ← w + α Σ(y − h(x))(·x) equals backprop's."""

from __future__ import annotations

import numpy as np
import pytest

from glassgrad.data import linear_regression_1d
from glassgrad.lessons import linear_regression as lesson


@pytest.fixture(scope="module")
def document():
    return lesson.run()


def data():
    x, y = (t.array[:, 0].astype(np.float64) for t in linear_regression_1d(n_samples=lesson.N_SAMPLES,
                                                                            seed=lesson.SEED).tensors)
    return x, y


def test_backprop_gradient_is_minus_the_textbook_sums(document):
    x, y = data()
    w0, w1 = lesson.START
    errors = y - (w0 + w1 * x)
    numbers = document["lesson"]
    np.testing.assert_allclose(numbers["gradients"], [-errors.sum(), -(errors * x).sum()], rtol=1e-12)
    np.testing.assert_allclose(numbers["error_sums"], [errors.sum(), (errors * x).sum()], rtol=1e-12)
    assert np.ravel(document["gradients"]["w₀"])[0] == pytest.approx(-errors.sum(), rel=1e-12)


def test_textbook_update_equals_sgd_on_backprop(document):
    x, y = data()
    w0, w1 = lesson.START
    errors = y - (w0 + w1 * x)
    by_hand = [w0 + lesson.ALPHA * errors.sum(), w1 + lesson.ALPHA * (errors * x).sum()]
    np.testing.assert_allclose(document["lesson"]["textbook"], by_hand, rtol=1e-12)
    np.testing.assert_allclose(document["lesson"]["backprop"], by_hand, rtol=1e-12)
    assert document["lesson"]["max_difference"] < 1e-12
    updates = {u["parameter"]: u for u in document["updates"]}
    assert updates["w₁"]["new"] == pytest.approx(by_hand[1], rel=1e-12)


def test_the_loss_is_half_the_sum_of_squares_and_the_table_shows_the_sums(document):
    x, y = data()
    w0, w1 = lesson.START
    assert document["loss"]["value"] == pytest.approx(0.5 * np.sum((y - w0 - w1 * x) ** 2), rel=1e-12)
    sums = document["tables"][0]["rows"][-1]
    assert sums[0] == "Σ" and sums[4] == pytest.approx(np.sum(y - w0 - w1 * x), rel=1e-12)


def test_many_steps_approach_the_least_squares_line(document):
    x, y = data()
    slope, intercept = np.polyfit(x, y, 1)
    w0, w1 = document["lesson"]["final"]
    assert w0 == pytest.approx(intercept, abs=0.05) and w1 == pytest.approx(slope, abs=0.05)


def test_the_seeds_update_and_gradient_descent_are_one_rule_in_float64():
    """The seed writes w0 ← w0 + α Σ(y − h(x)), w1 ← w1 + α Σ(y − h(x))·x; the lesson shows both updates and
    that they are w ← w − η·∂L/∂w for L = ½ Σ (y − h(x))², the engine's gradient being minus those sums."""
    from glassgrad.trace import render

    document = lesson.run(steps=1)
    x, y = data()
    w0, w1 = lesson.START
    errors = y - (w0 + w1 * x)  # float64, by hand
    gradients = {name: np.asarray(value) for name, value in document["gradients"].items()}
    assert all(value.dtype == np.float64 for value in gradients.values())
    assert gradients["w₀"].item() == pytest.approx(-errors.sum(), rel=1e-13)
    assert gradients["w₁"].item() == pytest.approx(-(errors * x).sum(), rel=1e-13)
    seed_rule = [w0 + lesson.ALPHA * errors.sum(), w1 + lesson.ALPHA * (errors * x).sum()]
    descent = [w0 - lesson.ALPHA * gradients["w₀"].item(), w1 - lesson.ALPHA * gradients["w₁"].item()]
    np.testing.assert_allclose(descent, seed_rule, rtol=1e-13)
    np.testing.assert_allclose(document["lesson"]["textbook"], seed_rule, rtol=1e-13)
    np.testing.assert_allclose([u["new"] for u in document["updates"]], seed_rule, rtol=1e-13)  # SGD's own step
    for format in ("text", "md", "html"):
        page = render(document, format)
        for written in ("w₀ ← w₀ + α Σ(y − h(x))", "w₁ ← w₁ + α Σ(y − h(x))·x", "w ← w − η·∂L/∂w",
                        "L = ½ Σ (y − h(x))²"):
            assert written in page, (format, written)
