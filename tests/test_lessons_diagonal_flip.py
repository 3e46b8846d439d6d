"""The diagonal-flip lesson: the seed's numbers exactly, 31 gradients checked against finite
differences of an independent NumPy forward pass and against PyTorch, one update, training."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glassgrad.cli import main
from glassgrad.lessons.diagonal_flip import INPUT, LESSON_WEIGHTS, TARGET, gradient_check

NAMES = ["0.weight", "0.bias", "2.weight", "2.bias"]


def numpy_prediction(params: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """The lesson's network written directly in NumPy (float64): W₂·relu(W₁x + b₁) + b₂."""
    params = params or {name: np.array(values) for name, values in LESSON_WEIGHTS.items()}
    hidden = np.maximum(params["0.weight"] @ np.array(INPUT) + params["0.bias"], 0.0)
    return params["2.weight"] @ hidden + params["2.bias"]


def numpy_loss(params: dict[str, np.ndarray]) -> float:
    """mean((ŷ − y)²) of :func:`numpy_prediction`."""
    return float(np.mean((numpy_prediction(params) - np.array(TARGET)) ** 2))


def finite_differences(eps: float = 1e-6) -> dict[str, np.ndarray]:
    params = {name: np.array(values, dtype=np.float64) for name, values in LESSON_WEIGHTS.items()}
    grads = {}
    for name, values in params.items():
        grad = np.zeros_like(values)
        for index in np.ndindex(values.shape):
            original = values[index]
            values[index] = original + eps
            plus = numpy_loss(params)
            values[index] = original - eps
            minus = numpy_loss(params)
            values[index] = original
            grad[index] = (plus - minus) / (2 * eps)
        grads[name] = grad
    return grads


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    path = tmp_path_factory.mktemp("trace") / "flip.json"
    assert main(["trace", "diagonal-flip", "--format", "json", "--out", str(path)]) == 0
    return json.loads(path.read_text(encoding="utf-8"))


def test_json_reproduces_the_seed_prediction_and_loss(traced):
    prediction = next(step for step in traced["forward"] if step["output"]["symbol"] == "ŷ")["output"]["values"]
    np.testing.assert_allclose(prediction, [[0.1, -0.1, -0.05, -0.25]], atol=1e-15)
    assert traced["loss"]["name"] == "mse_loss"
    assert traced["loss"]["value"] == pytest.approx(0.89625, abs=1e-15)
    assert numpy_loss({k: np.array(v) for k, v in LESSON_WEIGHTS.items()}) == pytest.approx(0.89625, abs=1e-15)


def test_json_has_31_parameters_and_gradients_of_the_same_shapes(traced):
    assert list(traced["parameters"]) == NAMES == list(traced["gradients"])
    assert sum(np.size(traced["parameters"][n]) for n in NAMES) == 31
    for name in NAMES:
        assert np.shape(traced["gradients"][name]) == np.shape(traced["parameters"][name])
        np.testing.assert_array_equal(traced["parameters"][name], LESSON_WEIGHTS[name])


def test_the_31_gradients_equal_finite_differences(traced):
    numerical = finite_differences()
    for name in NAMES:
        np.testing.assert_allclose(traced["gradients"][name], numerical[name], atol=1e-6, rtol=0)


def test_the_31_gradients_equal_pytorch(traced, torch):
    params = {name: torch.tensor(values, dtype=torch.float64, requires_grad=True)
              for name, values in LESSON_WEIGHTS.items()}
    x = torch.tensor([INPUT], dtype=torch.float64)
    hidden = torch.relu(x @ params["0.weight"].T + params["0.bias"])
    loss = torch.nn.functional.mse_loss(hidden @ params["2.weight"].T + params["2.bias"],
                                        torch.tensor([TARGET], dtype=torch.float64))
    loss.backward()
    assert traced["loss"]["value"] == pytest.approx(loss.item(), abs=1e-15)
    for name in NAMES:
        np.testing.assert_allclose(traced["gradients"][name], params[name].grad.numpy(), atol=1e-15)


def numpy_training(lr: float, target: float) -> tuple[float, int]:
    """Plain gradient descent with hand-derived backprop (the lesson's formulas), in NumPy."""
    W1, b1, W2, b2 = (np.array(LESSON_WEIGHTS[n], dtype=np.float64) for n in NAMES)
    x, y = np.array(INPUT), np.array(TARGET)
    losses = []
    while True:
        z1 = W1 @ x + b1
        a1 = np.maximum(z1, 0)
        y_hat = W2 @ a1 + b2
        losses.append(np.mean((y_hat - y) ** 2))
        if len(losses) > 1 and losses[-1] < target:
            return losses[1], len(losses) - 1
        d_y = 2 * (y_hat - y) / 4           # ∂L/∂ŷ
        d_z1 = (W2.T @ d_y) * (z1 > 0)      # ∂L/∂Z₁ = W₂ᵀ·∂L/∂ŷ ⊙ ReLU'(Z₁)
        W2, b2 = W2 - lr * np.outer(d_y, a1), b2 - lr * d_y
        W1, b1 = W1 - lr * np.outer(d_z1, x), b1 - lr * d_z1


def test_one_update_and_training_to_a_tiny_loss_match_hand_written_gradient_descent(traced):
    lesson = traced["lesson"]
    new_loss, steps = numpy_training(0.1, 0.001)
    assert lesson["new_loss"] == pytest.approx(new_loss, rel=1e-12)
    assert lesson["steps_to_target"] == steps
    assert lesson["final_loss"] < 0.001 <= lesson["losses"][-2]
    (update,) = [u for u in traced["updates"] if u["parameter"] == "2.bias"]
    np.testing.assert_allclose(update["new"], np.array(update["old"]) - 0.1 * np.array(update["gradient"]))


def test_the_summary_shows_the_squared_errors_and_the_loss_to_6_digits(traced):
    squared = (numpy_prediction() - np.array(TARGET)) ** 2
    summary = {item["label"]: item["value"] for item in traced["summary"]}
    np.testing.assert_allclose(summary["squared errors (ŷ − y)²"], squared, atol=1e-15)
    assert summary["the same, to 6 significant digits"] == f"{squared.sum():.6g} / 4 = {squared.mean():.6g}"


def test_gradient_check_counts_62_forward_passes_and_agrees():
    check = gradient_check()
    assert check["forward_passes"] == 62 and check["backward_passes"] == 1
    assert check["ok"] and check["max_error"] < 1e-8
    assert 0 < check["backprop_seconds"] < check["numerical_seconds"]  # 1 + 1 passes against 62 (+ 1 + 1)
    numerical = finite_differences()
    for row in check["parameters"]:
        np.testing.assert_allclose(row["numerical"], numerical[row["name"]], atol=1e-8)


def test_gradcheck_command_prints_the_comparison(capsys):
    assert main(["gradcheck", "diagonal-flip"]) == 0
    out = capsys.readouterr().out
    assert "62 forward passes" in out and "1 forward + 1 backward pass" in out
    assert "0.weight" in out and "-0.8000" in out and "they agree" in out
    assert main(["gradcheck", "mlp3"]) == 2
    assert "gg.gradcheck" in capsys.readouterr().err
