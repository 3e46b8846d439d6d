"""``glassgrad landscape``: the loss over a slice through two weights, and the walk of each learning rate.

Oracles: the engine's own loss recomputed at each point (a fresh lesson model), the network
written out in plain NumPy float64 from the lesson's weights, central finite differences for
the gradients, and the SGD update rule ``θ_next = θ − η·∂L/∂θ``.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from one_line_errors import assert_glassgrad_refuses

from glassgrad.cli import main
from glassgrad.lessons.diagonal_flip import INPUT, LESSON_WEIGHTS, TARGET, lesson_model, sample
from glassgrad.lessons.landscape import loss_grid, parse_weight
from glassgrad.nn.functional import mse_loss
from glassgrad.trace.numbers import format_number


def numpy_loss(values: dict[str, float]) -> float:
    """The lesson network in plain NumPy float64, with ``values`` (``{"W1[3,4]": 0.7}``) put in."""
    arrays = {name: np.array(value, dtype=np.float64) for name, value in LESSON_WEIGHTS.items()}
    for text, value in values.items():
        weight = parse_weight(text)
        arrays[weight.parameter][weight.index] = value
    hidden = np.maximum(arrays["0.weight"] @ np.array(INPUT) + arrays["0.bias"], 0.0)
    prediction = arrays["2.weight"] @ hidden + arrays["2.bias"]
    return float(np.mean((prediction - np.array(TARGET)) ** 2))


def engine_loss(values: dict[str, float]) -> float:
    """A fresh lesson model with ``values`` set, and the engine's mse_loss of it."""
    model = lesson_model()
    parameters = dict(model.named_parameters())
    for text, value in values.items():
        weight = parse_weight(text)
        parameters[weight.parameter].numpy()[weight.index] = value
    x, y = sample()
    return mse_loss(model(x), y).item()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    folder = tmp_path_factory.mktemp("landscape")
    assert main(["landscape", "--out", str(folder)]) == 0
    return folder, json.loads((folder / "landscape.json").read_text(encoding="utf-8"))


def path_of(data: dict, rate: float, key: str = "paths") -> dict:
    (path,) = [p for p in (data[key] if key == "paths" else data["slice_1d"]["paths"]) if p["learning_rate"] == rate]
    return path


def test_the_files_are_a_real_png_svg_and_json(written):
    folder, data = written
    assert (folder / "landscape.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    root = ElementTree.fromstring((folder / "landscape.svg").read_bytes())
    assert root.tag.endswith("svg")
    assert (data["format"], data["version"]) == ("glassgrad-landscape", 2)  # 2: names count from 1
    assert [w["name"] for w in data["weights"]] == ["b2[4]", "W1[3,4]"]  # counting from 1, as the trace does
    assert [w["index"] for w in data["weights"]] == [[3], [2, 3]]  # the code's index, counting from 0
    assert [w["label"] for w in data["weights"]] == ["b₂[4] (b₂[3] in code)", "W₁[3,4] (W₁[2, 3] in code)"]
    assert "mean" in data["loss"]["convention"] and data["indices"].startswith("Positions count from 1")
    svg = (folder / "landscape.svg").read_text(encoding="utf-8")
    for label in ("b₂[4] (b₂[3] in code)", "W₁[3,4] (W₁[2, 3] in code)"):  # the axes, as text in the SVG
        assert f"<!-- {label} -->" in svg  # matplotlib keeps each label's text in a comment beside its glyphs


def test_eta_0_1_descends_at_every_step_and_eta_10_diverges(written):
    _, data = written
    for key in ("paths", "slice_1d"):
        slow = [p["loss"] for p in path_of(data, 0.1, key)["points"]]
        assert all(b < a for a, b in zip(slow, slow[1:])), slow
        wild = [p["loss"] for p in path_of(data, 10.0, key)["points"]]
        assert wild[-1] > 1e6 * wild[0] and path_of(data, 10.0, key)["label"] == "diverging"
        assert all(b > a for a, b in zip(wild[1:], wild[2:]))  # it keeps climbing, each step further


def test_the_start_is_the_lessons_loss(written):
    _, data = written
    for path in data["paths"]:
        assert path["points"][0]["loss"] == pytest.approx(0.89625, rel=1e-12)


def test_every_loss_on_a_path_is_the_engines_loss_at_that_point(written):
    _, data = written
    names = [w["name"] for w in data["weights"]]
    checked = 0
    for path in data["paths"]:
        for point in path["points"]:
            values = dict(zip(names, point["weights"]))
            assert point["loss"] == pytest.approx(engine_loss(values), rel=1e-12, abs=1e-15)
            assert point["loss"] == pytest.approx(numpy_loss(values), rel=1e-9)
            checked += 1
    assert checked == 4 * 21
    line = data["slice_1d"]
    for path in line["paths"]:
        for point in path["points"]:
            assert point["loss"] == pytest.approx(numpy_loss({line["weight"]: point["weights"][0]}), rel=1e-9)


def test_each_step_is_the_sgd_update_with_the_gradient_recorded_there(written):
    _, data = written
    for path in data["paths"]:
        rate = path["learning_rate"]
        for point, following in zip(path["points"], path["points"][1:]):
            expected = np.array(point["weights"]) - rate * np.array(point["gradient"])
            assert np.allclose(following["weights"], expected, rtol=1e-12, atol=1e-12)


def test_the_recorded_gradients_match_finite_differences(written):
    _, data = written
    names = [w["name"] for w in data["weights"]]
    step = 1e-6
    for rate in (0.1, 1.0):
        for point in path_of(data, rate)["points"][::5]:
            for k, name in enumerate(names):
                values = dict(zip(names, point["weights"]))
                up, down = dict(values), dict(values)
                up[name] += step
                down[name] -= step
                numerical = (numpy_loss(up) - numpy_loss(down)) / (2 * step)
                assert point["gradient"][k] == pytest.approx(numerical, abs=1e-7)


def test_grid_values_are_the_engines_loss_at_sampled_grid_points(written):
    _, data = written
    grid = data["grid"]
    names = [w["name"] for w in data["weights"]]
    loss = np.array(grid["loss"])
    assert loss.shape == (len(grid["y"]), len(grid["x"])) == (41, 41)
    rng = np.random.default_rng(0)
    for i, j in rng.integers(0, 41, size=(25, 2)):
        values = {names[0]: grid["x"][j], names[1]: grid["y"][i]}
        assert loss[i, j] == pytest.approx(engine_loss(values), rel=1e-12, abs=1e-15)
        assert loss[i, j] == pytest.approx(numpy_loss(values), rel=1e-9)
    line = data["slice_1d"]
    for j in rng.integers(0, len(line["x"]), size=10):
        assert line["loss"][j] == pytest.approx(numpy_loss({line["weight"]: line["x"][j]}), rel=1e-9)


def test_the_map_shows_the_walks_that_go_down_and_the_first_overshoot(written):
    _, data = written
    grid = data["grid"]
    inside = [point for rate in (0.001, 0.1, 1.0) for point in path_of(data, rate)["points"]]
    inside += path_of(data, 10.0)["points"][:2]
    for point in inside:
        assert grid["x"][0] <= point["weights"][0] <= grid["x"][-1]
        assert grid["y"][0] <= point["weights"][1] <= grid["y"][-1]
    assert grid["x"][0] > path_of(data, 10.0)["points"][-1]["weights"][0] or \
        grid["x"][-1] < path_of(data, 10.0)["points"][-1]["weights"][0]


def test_zoom_frames_the_walks_that_go_down_and_lets_eta_10_leave_at_once(tmp_path):
    assert main(["landscape", "--out", str(tmp_path), "--zoom", "--grid", "9", "--steps", "10"]) == 0
    data = json.loads((tmp_path / "landscape.json").read_text(encoding="utf-8"))
    grid = data["grid"]
    inside = [point for rate in (0.001, 0.1, 1.0) for point in path_of(data, rate)["points"]]
    for point in inside:
        assert grid["x"][0] <= point["weights"][0] <= grid["x"][-1]
        assert grid["y"][0] <= point["weights"][1] <= grid["y"][-1]
    first_jump = path_of(data, 10.0)["points"][1]["weights"]
    assert not (grid["x"][0] <= first_jump[0] <= grid["x"][-1] and grid["y"][0] <= first_jump[1] <= grid["y"][-1])
    assert grid["x"][-1] - grid["x"][0] < 2 and data["window"] == "around the walks that go down"


def test_the_command_names_the_slice_as_the_trace_does_and_its_help_says_so(tmp_path, capsys):
    import inspect

    from glassgrad.commands.landscape import landscape as command
    from glassgrad.lessons.landscape import DEFAULT_WEIGHTS

    argv = ["landscape", "--out", str(tmp_path), "--weights", "W2[4,1]", "b1[3]", "--grid", "5", "--steps", "2"]
    assert main(argv) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "L over W₂[4,1] (W₂[3, 0] in code) and b₁[3] (b₁[2] in code) (mse_loss)"
    data = json.loads((tmp_path / "landscape.json").read_text(encoding="utf-8"))
    assert [(w["parameter"], w["index"]) for w in data["weights"]] == [("2.weight", [3, 0]), ("0.bias", [2])]
    assert data["weights"][0]["start"] == LESSON_WEIGHTS["2.weight"][3][0]  # the code's entry (3, 0)
    help_text = inspect.signature(command).parameters["weights"].default.help
    assert f"--weights '{DEFAULT_WEIGHTS[0]}' '{DEFAULT_WEIGHTS[1]}'" in help_text and "counting from 1" in help_text
    assert "from 0" not in help_text


def test_the_command_writes_each_loss_as_the_engine_does_and_keeps_every_version_2_key(tmp_path, capsys):
    """The terminal lines, the drawing's note and the JSON's texts are the glass box's ``format_number``."""
    assert main(["landscape", "--out", str(tmp_path), "--grid", "5"]) == 0
    printed = capsys.readouterr().out.splitlines()
    data = json.loads((tmp_path / "landscape.json").read_text(encoding="utf-8"))
    for path, line in zip(data["paths"], printed[1:5], strict=True):
        first, last = path["points"][0], path["points"][-1]
        assert line.endswith(f"L: {format_number(first['loss'], signed=False)} → "
                             f"{format_number(last['loss'], signed=False)} after {last['step']} steps"), line
    diverging = path_of(data, 10.0)["points"][-1]
    svg = (tmp_path / "landscape.svg").read_text(encoding="utf-8")
    assert f"<!-- L = {format_number(diverging['loss'], signed=False)} after 20 steps -->" in svg
    assert {"format", "version", "title", "model", "loss", "indices", "window", "free", "update", "weights", "grid",
            "paths", "slice_1d"} <= set(data) and data["version"] == 2  # the texts came as additions
    assert {"weight", "symbol", "label", "free", "x", "loss", "paths"} <= set(data["slice_1d"])
    for path in data["paths"] + data["slice_1d"]["paths"]:
        assert {"learning_rate", "label", "why", "points", "stopped"} <= set(path)
        for point in path["points"]:
            assert {"step", "weights", "loss", "gradient"} <= set(point)
            assert point["text"]["loss"] == format_number(point["loss"], signed=False)
            assert point["text"]["gradient"] == [format_number(g) for g in point["gradient"]]


def test_the_one_dimensional_walks_move_only_their_weight(written):
    _, data = written
    line = data["slice_1d"]
    assert line["weight"] == data["weights"][0]["name"]
    for path in line["paths"]:
        assert all(len(point["weights"]) == 1 == len(point["gradient"]) for point in path["points"])


def test_a_walk_that_overflows_stops_and_says_so(tmp_path):
    assert main(["landscape", "--out", str(tmp_path), "--steps", "400", "--grid", "5"]) == 0
    data = json.loads((tmp_path / "landscape.json").read_text(encoding="utf-8"))
    wild = path_of(data, 10.0)
    assert wild["stopped"] and "not a finite number" in wild["stopped"]
    assert len(wild["points"]) < 401 and all(math.isfinite(p["loss"]) for p in wild["points"])
    assert len(path_of(data, 0.1)["points"]) == 401


@given(width=st.integers(1, 6), height=st.integers(1, 6), low=st.floats(-2, 2), span=st.floats(0.01, 3))
def test_loss_grid_has_one_value_per_point_and_each_is_the_loss_there(width, height, low, span):
    weights = [parse_weight("W2[2,1]"), parse_weight("b1[3]")]
    axes = [np.linspace(low, low + span, width), np.linspace(-low, -low + span, height)]
    grid = loss_grid(weights, axes)
    assert grid.shape == (height, width)
    for i in range(height):
        for j in range(width):
            assert grid[i, j] == pytest.approx(numpy_loss({"W2[2,1]": axes[0][j], "b1[3]": axes[1][i]}), rel=1e-9)
    line = loss_grid(weights[:1], axes[:1])
    assert line.shape == (width,)


@pytest.mark.parametrize("text, message", [
    ("x", r"is not one of the network's weights: write it as the trace names it, like W1\[1,1\], b1\[1\]"),
    ("W3[1,1]", "is not one of the network's weights"),
    ("b2[5]", r"outside b2, which has shape \[4\]: use b2\[1..4\]\. Positions count from 1"),
    ("b2[0]", r"outside b2, which has shape \[4\]: use b2\[1..4\]\. Positions count from 1"),
    ("W1[0,2]", r"outside W1, which has shape \[3, 4\]: use W1\[1..3,1..4\]\. Positions count from 1"),
    ("W1[4,1]", r"outside W1, which has shape \[3, 4\]"),
    ("W1[3]", r"outside W1, which has shape \[3, 4\]"),
])
def test_a_weight_that_is_not_there_is_refused_in_one_line_stating_the_convention(text, message):
    assert_glassgrad_refuses(lambda gg: parse_weight(text), ValueError, message)


def test_a_weight_is_named_counting_from_1_and_holds_the_codes_index():
    weight = parse_weight("W1[3,4]")  # row 3, column 4 of the first layer's weight
    assert (weight.parameter, weight.index) == ("0.weight", (2, 3))
    assert (weight.name, weight.symbol, weight.label) == ("W1[3,4]", "W₁[3,4]", "W₁[3,4] (W₁[2, 3] in code)")
    assert lesson_model()[0].weight.numpy()[2, 3] == LESSON_WEIGHTS["0.weight"][2][3] == 0.3
    corner = parse_weight("b2[1]")
    assert (corner.parameter, corner.index, corner.label) == ("2.bias", (0,), "b₂[1] (b₂[0] in code)")


@given(layer=st.sampled_from(["W1", "b1", "W2", "b2"]), data=st.data())
def test_every_position_a_learner_can_name_reads_back_to_the_same_name(layer, data):
    shape = np.shape(LESSON_WEIGHTS[{"W1": "0.weight", "b1": "0.bias", "W2": "2.weight", "b2": "2.bias"}[layer]])
    numbers = [data.draw(st.integers(1, n)) for n in shape]  # counting from 1, to n
    text = f"{layer}[{','.join(map(str, numbers))}]"
    weight = parse_weight(text)
    assert weight.index == tuple(n - 1 for n in numbers) and weight.name == text


def test_subscripts_are_read_like_digits():
    assert parse_weight("W₁[3, 4]") == parse_weight("W1[3,4]")
    assert parse_weight("W1[3,4]").symbol == "W₁[3,4]"


@pytest.mark.parametrize("argv, message", [
    (["--weights", "b2[1]", "b2[1]"], "the two weights must differ"),
    (["--weights", "q", "b2[1]"], "is not one of the network's weights"),
    (["--steps", "0"], "--steps must be between 1 and"),
    (["--grid", "2"], "--grid must be between 5 and"),
    (["--weights", "b2[1]"], "requires 2 arguments"),
    (["--weights", "W1[0,1]", "b2[1]"], "outside W1, which has shape [3, 4]: use W1[1..3,1..4]. Positions count"),
])
def test_bad_arguments_are_one_line_errors_with_exit_2(argv, message, tmp_path, capsys):
    assert main(["landscape", "--out", str(tmp_path / "out"), *argv]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1
    assert not (tmp_path / "out" / "landscape.json").exists()


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["landscape", "--out", str(target), "--grid", "5", "--steps", "2"]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_whether_eta_10_diverges_depends_on_the_slice_as_the_docstring_says():
    from glassgrad.lessons.landscape import descend

    def walk(name):
        return descend([parse_weight(name)], 10.0, 20)

    bias = walk("b2[1]")  # curvature ∂²L/∂b² = 2/4: the distance to the floor is multiplied by 1 − 0.5·10 = −4
    floor = bias[0]["weights"][0] - bias[0]["gradient"][0] / 0.5
    for point, following in zip(bias[:8], bias[1:8]):
        assert following["weights"][0] - floor == pytest.approx(-4 * (point["weights"][0] - floor), rel=1e-9)
    assert bias[-1]["loss"] > 1e20
    output_weight = walk("W2[1,1]")  # curvature 2·A₁[1]²/4 = 0.125: stable up to η = 16
    assert output_weight[-1]["loss"] < output_weight[0]["loss"]
    hidden = walk("W1[3,4]")  # one step switches hidden unit 3 off: the walk stops on a plateau
    assert hidden[1]["loss"] > hidden[0]["loss"] and hidden[-1]["gradient"] == [0.0]
    assert all(point["loss"] == hidden[2]["loss"] for point in hidden[2:])
