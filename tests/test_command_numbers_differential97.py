"""Round 97: the numbers the learner-facing commands print and save, against PyTorch 2.13.

``glassgrad gradcheck``, ``landscape``, ``experiment``, ``train``/``evaluate``/``predict`` and
``tour`` each print numbers a learner reads; every one is recomputed here by PyTorch on the same
network, weights and data (float64 where the command computes in float64, float32 within float32
rounding where it trains in float32), and each printed text is checked to be the full-precision
value rounded as the stated precision says.
"""

from __future__ import annotations

import json
import math
import struct
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassgrad import cli
from glassgrad.lessons import diagonal_flip, experiments
from glassgrad.lessons import landscape as landscape_module
from glassgrad.lessons.diagonal_flip import INPUT, LESSON_WEIGHTS, TARGET

pytest.importorskip("matplotlib", reason="the landscape and experiments draw with matplotlib: pip install matplotlib")

NAMES = [f"W1[{r},{c}]" for r in range(1, 4) for c in range(1, 5)] + [f"b1[{k}]" for k in range(1, 4)] + \
        [f"W2[{r},{c}]" for r in range(1, 5) for c in range(1, 4)] + [f"b2[{k}]" for k in range(1, 5)]
"""Every scalar weight of the diagonal flip, as a learner names it: 31 of them."""


def _torch_parameters(torch, changes: dict | None = None) -> dict:
    """The lesson weights as float64 torch tensors, with ``{(parameter, index): value}`` changed."""
    parameters = {name: torch.tensor(values, dtype=torch.float64) for name, values in LESSON_WEIGHTS.items()}
    for (name, index), value in (changes or {}).items():
        parameters[name][tuple(index)] = value
    return parameters


def _torch_loss(torch, parameters: dict):
    x = torch.tensor([INPUT], dtype=torch.float64)
    y = torch.tensor([TARGET], dtype=torch.float64)
    hidden = torch.relu(x @ parameters["0.weight"].T + parameters["0.bias"])
    return torch.nn.functional.mse_loss(hidden @ parameters["2.weight"].T + parameters["2.bias"], y)


def _torch_lesson_model(torch, dtype):
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 4)).to(dtype)
    model.load_state_dict({name: torch.tensor(values, dtype=dtype) for name, values in LESSON_WEIGHTS.items()})
    return model


# --- defect: a flat slice ------------------------------------------------------------------------

def test_landscape_of_two_weights_the_switched_off_unit_hides_is_drawn(tmp_path, capsys):
    """W₁[2,2] meets the input pixel 2, which is 0, and W₂[4,2] reads hidden unit 2, which ReLU switches
    off: L is 0.89625 on the whole map. The command stopped with matplotlib's 'Contour levels must be
    increasing'; now it draws the flat map and writes its three files."""
    code = cli.main(["landscape", "--out", str(tmp_path), "--steps", "2", "--grid", "5",
                     "--weights", "W1[2,2]", "W2[4,2]"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "Contour" not in printed.err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["landscape.json", "landscape.png", "landscape.svg"]
    data = json.loads((tmp_path / "landscape.json").read_text())
    assert {value for row in data["grid"]["loss"] for value in row} == {data["loss"]["start"]}
    assert data["loss"]["start"] == pytest.approx(0.89625, abs=1e-15)


# --- landscape: grid, walks and texts against PyTorch -------------------------------------------

@settings(max_examples=12, deadline=None)
@given(pair=st.lists(st.sampled_from(NAMES), min_size=2, max_size=2, unique=True), steps=st.integers(1, 6))
def test_landscape_grid_and_walks_equal_pytorch(torch, pair, steps):
    """Each grid value is PyTorch's mse_loss with the two weights set (float64: equal up to 1e-12
    relative), each walk point is PyTorch's SGD on those two weights, and each text is the value
    rounded to 4 decimals (or 2 significant digits in e-notation when tiny or huge)."""
    data = landscape_module.landscape(weights=pair, steps=steps, grid_points=5)
    weights = data["weights"]
    assert [weight["name"] for weight in weights] == pair

    def changes(values):
        return {(weight["parameter"], tuple(weight["index"])): value for weight, value in zip(weights, values)}

    grid = data["grid"]
    for row, v in enumerate(grid["y"]):
        for column, u in enumerate(grid["x"]):
            expected = _torch_loss(torch, _torch_parameters(torch, changes([u, v]))).item()
            assert grid["loss"][row][column] == pytest.approx(expected, rel=1e-12, abs=1e-15)
    for path in data["paths"]:
        values = [weight["start"] for weight in weights]
        for point in path["points"]:
            parameters = _torch_parameters(torch, changes(values))
            for parameter in parameters.values():
                parameter.requires_grad_(True)
            loss = _torch_loss(torch, parameters)
            loss.backward()
            gradient = [parameters[w["parameter"]].grad[tuple(w["index"])].item() for w in weights]
            assert point["weights"] == pytest.approx(values, rel=1e-12, abs=1e-15)
            assert point["loss"] == pytest.approx(loss.item(), rel=1e-12, abs=1e-15)
            assert point["gradient"] == pytest.approx(gradient, rel=1e-12, abs=1e-15)
            for value, text in zip([*point["weights"], point["loss"], *point["gradient"]],
                                   [*point["text"]["weights"], point["text"]["loss"], *point["text"]["gradient"]]):
                _assert_rounded(value, text)
            values = [value - path["learning_rate"] * slope for value, slope in zip(values, gradient)]


def _assert_rounded(value: float, text: str) -> None:
    """``text`` is ``value`` to 4 decimals, or (tiny or huge) to 2 significant digits in e-notation, an exact half
    rounded away from zero (round 100: -0.40625 is -0.4063), as Decimal's ROUND_HALF_UP rounds the exact value."""
    exact = Decimal(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        digits = exact.scaleb(-int(exponent)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        assert Decimal(mantissa) == digits, (value, text)
    else:
        assert Decimal(text) == exact.quantize(Decimal("0.0001"), ROUND_HALF_UP), (value, text)


def test_landscape_default_walks_labels_follow_their_rule(torch):
    """The default slice: η = 0.001 slow, 0.1 and 1 converging, 10 diverging (the module's
    docstring); each label is classify() on the walk's height above the slice's lowest loss."""
    data = landscape_module.landscape(steps=5, grid_points=5)
    assert [path["label"] for path in data["paths"]] == ["slow", "converging", "converging", "diverging"]
    floor = min(min(min(row) for row in data["grid"]["loss"]),
                min(point["loss"] for path in data["paths"] for point in path["points"]))
    for path in data["paths"]:
        heights = [point["loss"] - floor for point in path["points"]]
        assert path["label"] == experiments.classify(heights)[0]


# --- gradcheck ------------------------------------------------------------------------------------

def test_gradcheck_gradients_counts_and_passes_equal_pytorch_and_central_differences(torch):
    """31 gradients, each equal to PyTorch's autograd (float64) and within 1e-9 of central
    differences computed here; 62 = 2·31 forward passes; the largest error printed is the true one."""
    check = diagonal_flip.gradient_check()
    parameters = _torch_parameters(torch)
    for parameter in parameters.values():
        parameter.requires_grad_(True)
    _torch_loss(torch, parameters).backward()
    count, largest = 0, 0.0
    eps = check["eps"]
    for row in check["parameters"]:
        expected = parameters[row["name"]].grad.numpy()
        np.testing.assert_allclose(row["backprop"], expected, rtol=1e-13, atol=1e-15)
        flat = np.asarray(LESSON_WEIGHTS[row["name"]], dtype=np.float64).reshape(-1)
        central = np.empty_like(flat)
        for k in range(flat.size):
            values = []
            for sign in (1, -1):
                nudged = flat.copy()
                nudged[k] += sign * eps
                changed = _torch_parameters(torch)
                changed[row["name"]] = torch.tensor(nudged.reshape(np.shape(LESSON_WEIGHTS[row["name"]])))
                values.append(_torch_loss(torch, changed).item())
            central[k] = (values[0] - values[1]) / (2 * eps)
        np.testing.assert_allclose(np.reshape(row["numerical"], -1), central, rtol=0, atol=1e-9)
        error = float(np.max(np.abs(np.asarray(row["backprop"]) - np.asarray(row["numerical"]))))
        assert row["max_error"] == pytest.approx(error, rel=1e-12)
        largest = max(largest, error)
        count += flat.size
    assert count == 31 == sum(p.numel() for p in _torch_lesson_model(torch, torch.float64).parameters())
    assert check["forward_passes"] == 2 * count
    assert check["max_error"] == pytest.approx(largest, rel=1e-12)
    assert check["ok"] and largest < 1e-9


def test_gradcheck_command_prints_its_counts_and_the_rounded_largest_error(capsys):
    assert cli.main(["gradcheck", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "each of the 31 derivatives" in document["explanation"][0]
    assert "That is 62 forward passes." in document["explanation"][0]
    summary = {row["label"]: row["value"] for row in document["summary"]}
    largest = max(row[4] for row in document["tables"][0]["rows"])
    assert summary["largest |backprop − numerical|"] == f"{largest:.3g}"
    assert summary["numerical method"].startswith("62 forward passes")


# --- experiments ----------------------------------------------------------------------------------

def test_learning_rate_experiment_equals_pytorch_in_float32(torch):
    """Each η's losses are PyTorch's full-batch SGD on the 16 images in float32 (within float32
    rounding, amplified at most ×10 by 20 steps), the table's first/last/lowest are those losses,
    and each label is classify() of PyTorch's own curve."""
    from glassgrad.data import diagonal_flip as flip_data

    steps = 20
    experiment = experiments.learning_rate(steps=steps)
    inputs, targets = (torch.tensor(t.array) for t in flip_data().tensors)
    assert inputs.dtype == torch.float32 and inputs.shape == (16, 4)
    for row, rate in zip(experiment.tables[0]["rows"], experiments.LEARNING_RATES):
        model = _torch_lesson_model(torch, torch.float32)
        optimizer = torch.optim.SGD(model.parameters(), lr=rate)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(model(inputs), targets)
            losses.append(loss.item())
            loss.backward()
            optimizer.step()
        losses.append(torch.nn.functional.mse_loss(model(inputs), targets).item())  # after the last step (round 113)
        run = experiment.data["runs"][rate]
        np.testing.assert_allclose(run["losses"], losses, rtol=2e-6)
        assert row[0] == f"{rate:g}"
        assert row[1:4] == [run["losses"][0], run["losses"][-1], min(run["losses"])]
        assert row[4] == run["label"] == experiments.classify(losses)[0]
    assert [row[4] for row in experiment.tables[0]["rows"]] == ["slow", "converging", "oscillating", "diverging"]


@pytest.mark.parametrize("name", ["learning-rate", "zero-grad"])
def test_experiment_writes_the_full_numbers_its_rounded_table_points_to(tmp_path, capsys, name):
    """The table's note says 'values rounded to 4 decimals …; full in JSON', but the command wrote
    only PNG, SVG and HTML: the full numbers were nowhere. Now NAME.json holds them, and each number
    printed is the JSON's number rounded to 4 decimals (or 2 significant digits when tiny or huge)."""
    assert cli.main(["experiment", name, "--steps", "3", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "full in JSON" in printed and f"{name}.json" in printed
    document = json.loads((tmp_path / f"{name}.json").read_text())
    numbers = [value for row in document["tables"][0]["rows"] for value in row if isinstance(value, float)]
    assert numbers
    for value in numbers:
        text = f"{value:.4f}" if 0.5e-4 <= abs(value) < 1e6 else f"{value:.1e}"  # format_number's documented rule
        assert text in printed, (value, text)
    if name == "learning-rate":
        for row in document["tables"][0]["rows"]:
            run = document["experiment"]["runs"][str(float(row[0]))]
            assert row[1:4] == [run["losses"][0], run["losses"][-1], min(run["losses"])]


def test_optimizers_experiment_equals_pytorch_in_float32(torch):
    """SGD, momentum and Adam from the same mlp([2, 16, 16, 2], seed=0) weights on the moons data:
    each loss and the final accuracy are PyTorch's (float32; the loss before each step, then the loss and
    the accuracy of the trained network, after the last step: round 114)."""
    from glassgrad.data import make_moons
    from glassgrad.nn import mlp

    epochs = 8
    experiment = experiments.optimizers(epochs=epochs)
    x, y = make_moons(n_samples=200, noise=0.2, seed=0).tensors
    inputs, targets = torch.tensor(x.array), torch.tensor(y.array)
    state = {name: torch.tensor(value.array) for name, value in mlp([2, 16, 16, 2], seed=0).state_dict().items()}
    makers = [lambda p: torch.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
              lambda p: torch.optim.Adam(p, lr=0.01)]
    for row, make, (name, curve) in zip(experiment.tables[0]["rows"], makers, experiment.data["curves"].items()):
        model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 16),
                                    torch.nn.ReLU(), torch.nn.Linear(16, 2))
        model.load_state_dict(state)
        optimizer, losses = make(model.parameters()), []
        for _ in range(epochs):
            optimizer.zero_grad()
            output = model(inputs)
            loss = torch.nn.functional.cross_entropy(output, targets)
            losses.append(loss.item())
            loss.backward()
            optimizer.step()
        output = model(inputs)
        losses.append(torch.nn.functional.cross_entropy(output, targets).item())
        np.testing.assert_allclose(curve["losses"], losses, rtol=2e-6)
        assert row[0] == name and row[1] == curve["losses"][-1]
        assert float(row[3]) == pytest.approx((output.argmax(1) == targets).double().mean().item(), abs=1e-12)


# --- train, evaluate, predict --------------------------------------------------------------------

def _read_safetensors(torch, path) -> tuple[dict, dict]:
    """The tensors and glassgrad's layout of a ``.safetensors`` file, read here byte by byte."""
    raw = path.read_bytes()
    size = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + size])
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        array = np.frombuffer(raw[8 + size + start:8 + size + end], dtype={"F32": np.float32, "F64": np.float64}[
            entry["dtype"]]).reshape(entry["shape"])
        tensors[name.removeprefix("model.")] = torch.tensor(array.copy())
    return tensors, json.loads(header["__metadata__"]["glassgrad"])


@pytest.mark.parametrize("options, loss", [
    (["--data", "moons", "--layers", "2,16,2"], "cross-entropy"),
    (["--data", "circles", "--layers", "2,8,1", "--loss", "bce"], "bce"),
    (["--data", "xor", "--layers", "2,8,1", "--loss", "mse"], "mse"),
])
def test_train_table_evaluate_and_predict_equal_pytorch_on_the_saved_model(torch, tmp_path, capsys, options, loss):
    """The 'final model on' table of train, evaluate --split train/val and predict, against PyTorch
    running the saved weights on the same split: loss to 4 decimals, accuracy to 2 decimals of %."""
    from glassgrad.commands.train import _load_data
    from glassgrad.data import train_val_split

    path = tmp_path / "model.safetensors"
    assert cli.main(["train", *options, "--epochs", "2", "--save", str(path)]) == 0
    printed = capsys.readouterr().out
    tensors, _ = _read_safetensors(torch, path)
    model = torch.nn.Sequential(torch.nn.Linear(2, tensors["0.weight"].shape[0]), torch.nn.ReLU(),
                                torch.nn.Linear(tensors["0.weight"].shape[0], tensors["2.weight"].shape[0]))
    model.load_state_dict(tensors)
    dataset = _load_data(options[1], None, 0)
    dataset = dataset[0] if isinstance(dataset, tuple) else dataset
    splits = dict(zip(("train", "val"), train_val_split(dataset, val_fraction=0.2, seed=0)))
    for split, subset in splits.items():
        samples = [subset[k] for k in range(len(subset))]
        inputs = torch.tensor(np.stack([np.asarray(a.array) for a, _ in samples]))
        targets = torch.tensor(np.stack([np.asarray(b.array) for _, b in samples]))
        with torch.no_grad():
            output = model(inputs)
        if loss == "cross-entropy":
            value = torch.nn.functional.cross_entropy(output, targets).item()
            accuracy = (output.argmax(1) == targets).double().mean().item()
        elif loss == "bce":
            targets = targets.reshape(output.shape).to(output.dtype)
            value = torch.nn.functional.binary_cross_entropy_with_logits(output, targets).item()
            accuracy = ((output > 0).to(output.dtype) == targets).double().mean().item()
        else:
            value = torch.nn.functional.mse_loss(output, targets.reshape(output.shape).to(output.dtype)).item()
            accuracy = None
        name = "train" if split == "train" else "validation"
        line = next(text for text in printed.splitlines() if text.strip("│ ").startswith(name + " "))
        assert f"{value:.4f}" in line, (line, value)
        if accuracy is not None:
            assert f"{100 * accuracy:.2f}%" in line, (line, accuracy)
        assert cli.main(["evaluate", str(path), "--split", split]) == 0
        evaluated = capsys.readouterr().out
        assert f"loss {value:.4f}" in evaluated
        if accuracy is not None:
            assert f"accuracy {100 * accuracy:.2f}%" in evaluated
    assert cli.main(["predict", str(path), "--input", "0.5,-0.25"]) == 0
    predicted = capsys.readouterr().out
    with torch.no_grad():
        output = model(torch.tensor([[0.5, -0.25]]))
    if loss == "cross-entropy":
        probabilities = torch.softmax(output, 1)[0]
        assert f"class {int(probabilities.argmax())}" in predicted
        assert " ".join(f"{p:.3f}" for p in probabilities.tolist()) in predicted
    elif loss == "bce":
        assert f"P(class 1) = {torch.sigmoid(output).item():.3f}" in predicted
    else:
        assert f"prediction {output.item():.4f}" in predicted


# --- tour -----------------------------------------------------------------------------------------

def test_tour_loss_and_first_update_equal_the_hand_computation(torch):
    """The tour's loss rows: ŷ = [0.1, −0.1, −0.05, −0.25], squared errors [0.81, 1.21, 0.0025, 1.5625],
    '3.585 / 4 = 0.89625'; one SGD step with η = 0.1 gives PyTorch's loss, and 19 updates reach L < 0.001."""
    lesson = diagonal_flip.run()
    numbers = lesson["lesson"]
    np.testing.assert_allclose(numbers["prediction"], [0.1, -0.1, -0.05, -0.25], atol=1e-15)
    np.testing.assert_allclose(numbers["squared_errors"], [0.81, 1.21, 0.0025, 1.5625], atol=1e-15)
    rows = {row["label"]: row["value"] for row in lesson["summary"]}
    assert rows["the same, to 6 significant digits"] == "3.585 / 4 = 0.89625"
    model = _torch_lesson_model(torch, torch.float64)
    x, y = torch.tensor([INPUT], dtype=torch.float64), torch.tensor([TARGET], dtype=torch.float64)
    optimizer, after = torch.optim.SGD(model.parameters(), lr=0.1), []
    while not after or (after[-1] >= 0.001 and len(after) < 100):
        optimizer.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizer.step()
        with torch.no_grad():
            after.append(torch.nn.functional.mse_loss(model(x), y).item())
    assert numbers["new_loss"] == pytest.approx(after[0], rel=1e-13)
    assert numbers["steps_to_target"] == len(after) == 19
    assert numbers["final_loss"] == pytest.approx(after[-1], rel=1e-12)
    assert math.isclose(numbers["loss"], 3.585 / 4, rel_tol=1e-15)


def test_batch_size_experiment_full_batch_row_equals_pytorch(torch):
    """The full-batch row: 1 update per epoch, the loss on all 200 samples after each epoch is
    PyTorch's (float32); the mini-batch and stochastic rows count ⌈200/32⌉ = 7 and 200 updates."""
    from glassgrad.data import make_moons
    from glassgrad.nn import mlp

    epochs = 3
    experiment = experiments.batch_size(epochs=epochs)
    x, y = make_moons(n_samples=200, noise=0.2, seed=0).tensors
    inputs, targets = torch.tensor(x.array), torch.tensor(y.array)
    model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    model.load_state_dict({name: torch.tensor(v.array) for name, v in mlp([2, 16, 2], seed=0).state_dict().items()})
    optimizer, losses = torch.optim.SGD(model.parameters(), lr=0.1), []
    for _ in range(epochs):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(inputs), targets).backward()
        optimizer.step()
        with torch.no_grad():
            losses.append(torch.nn.functional.cross_entropy(model(inputs), targets).item())
    np.testing.assert_allclose(experiment.data["curves"]["batch (batch 200)"]["losses"], losses, rtol=2e-6)
    rows = experiment.tables[0]["rows"]
    assert [row[1:3] for row in rows] == [["1", "3"], ["7", "21"], ["200", "600"]]
    assert rows[0][3] == experiment.data["curves"]["batch (batch 200)"]["losses"][-1]


def test_landscape_one_dimensional_slice_equals_pytorch(torch):
    """The 1-D slice through the first weight (the second kept at the lesson's value): each loss is
    PyTorch's, and each walk along it is PyTorch's SGD on that one weight."""
    data = landscape_module.landscape(steps=4, grid_points=7)
    line, weight = data["slice_1d"], data["weights"][0]
    key = (weight["parameter"], tuple(weight["index"]))
    for u, loss in zip(line["x"], line["loss"]):
        assert loss == pytest.approx(_torch_loss(torch, _torch_parameters(torch, {key: u})).item(), rel=1e-12)
    for path in line["paths"]:
        value = weight["start"]
        for point in path["points"]:
            parameters = _torch_parameters(torch, {key: value})
            parameters[weight["parameter"]].requires_grad_(True)
            loss = _torch_loss(torch, parameters)
            loss.backward()
            slope = parameters[weight["parameter"]].grad[key[1]].item()
            assert point["weights"] == pytest.approx([value], rel=1e-12)
            assert point["loss"] == pytest.approx(loss.item(), rel=1e-12)
            assert point["gradient"] == pytest.approx([slope], rel=1e-12, abs=1e-15)
            value -= path["learning_rate"] * slope
