"""Experiments: each runs, explains itself and writes its plot; the learning-rate labels are right."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.lessons import EXPERIMENTS, run_experiment
from glassgrad.lessons.experiments import classify

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("losses, label", [
    ([1.0, 0.99, 0.98, 0.97], "slow"),
    ([1.0, 0.6, 0.3, 0.1], "converging"),
    ([1.0, 0.5, 0.8, 0.3, 0.6, 0.2], "oscillating"),
    ([1.0, 3.0, 9.0, math.inf], "diverging"),
    ([1.0, 2.0, 4.0], "diverging"),
    ([1.0, math.nan], "diverging"),
])
def test_classify_reads_the_curve(losses, label):
    assert classify(losses)[0] == label


def test_learning_rate_defaults_label_10_diverging_and_0001_slow():
    result = run_experiment("learning-rate")
    runs = result.data["runs"]
    assert runs[10.0]["label"] == "diverging" and runs[0.001]["label"] == "slow"
    assert runs[0.1]["label"] == "converging"
    diverged = runs[10.0]
    assert not math.isfinite(diverged["losses"][-1])
    updates = sum(math.isfinite(v) for v in diverged["losses"])  # losses[k] is the loss after k updates
    assert f"became inf after {updates} updates" in diverged["divergence"]
    assert "lower the learning rate" in diverged["divergence"] and diverged["divergence"] in result.explanation
    assert "η = 0.001, 0.1, 1 did not diverge" in diverged["divergence"]
    assert result.tables[0]["rows"][-1][4] == "diverging"
    assert all(len(row[5]) < 70 for row in result.tables[0]["rows"])  # the 'why' cell stays short


def test_learning_rate_cli_writes_png_and_svg(tmp_path, capsys):
    assert main(["experiment", "learning-rate", "--out", str(tmp_path), "--lrs", "0.001,10", "--steps", "60"]) == 0
    out = capsys.readouterr().out
    assert "diverging" in out and "slow" in out and "learning-rate.png" in out
    assert (tmp_path / "learning-rate.png").read_bytes().startswith(PNG)
    ET.fromstring((tmp_path / "learning-rate.svg").read_bytes())
    assert "<svg" in (tmp_path / "learning-rate.html").read_text(encoding="utf-8")


SMALL = {"depth": {"layers": 3, "width": 8, "epochs": 1, "clip_epochs": 1},
         "optimizers": {"epochs": 40}, "batch-size": {"epochs": 2, "sizes": (200, 50)},
         "zero-grad": {"steps": 30}}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_each_experiment_explains_tabulates_and_saves_its_plot(name, tmp_path):
    result = run_experiment(name, **SMALL[name])
    assert result.explanation and result.tables and all(table["rows"] for table in result.tables)
    png, svg, saved = result.save(tmp_path)
    assert png.read_bytes().startswith(PNG) and ET.fromstring(svg.read_bytes()) is not None
    assert saved.name == f"{result.name}.json" and json.loads(saved.read_text())["tables"]
    document = result.document()
    assert document["figures"][0]["svg"].startswith("<svg")


def test_depth_shows_sigmoid_gradients_vanishing_toward_the_input():
    result = run_experiment("depth", **SMALL["depth"])
    found = result.data["architectures"]
    sigmoid, batch_norm = found["sigmoid"]["norms"], found["ReLU + BatchNorm"]["norms"]
    assert sigmoid[0] < sigmoid[-1] / 10  # σ' ≤ 1/4 per layer
    assert sigmoid[0] / sigmoid[-1] < batch_norm[0] / batch_norm[-1]
    for name, values in found.items():  # the explanation quotes the measured ratios
        assert values["ratio"] == values["norms"][0] / values["norms"][-1]
        assert f"{values['ratio']:.2g} times" in " ".join(result.explanation), name


def test_he_initialisation_keeps_a_deep_relu_networks_gradient_where_the_default_fades():
    from glassgrad.lessons.depth import layer_gradient_norms, network
    from glassgrad.nn import Linear

    sizes = [64] + [32] * 8 + [10]
    model = network(sizes, seed=0, he_init=True)
    for layer in (m for m in model.modules() if isinstance(m, Linear)):  # N(0, 2/fan_in), zero bias
        assert np.std(layer.weight.array) == pytest.approx(math.sqrt(2 / layer.weight.shape[1]), rel=0.15)
        assert not np.any(layer.bias.array)
    digits = gg.data.load_digits()
    inputs, targets = (t[:256] for t in digits.tensors)
    he = layer_gradient_norms(model, inputs, targets)
    default = layer_gradient_norms(network(sizes, seed=0), inputs, targets)
    assert he[0] / he[-1] > 0.5 and default[0] / default[-1] < 0.1  # 8 layers: ×1.5 against ×0.03


def test_the_seed_option_reaches_every_experiment_that_takes_one():
    from glassgrad.commands.glassbox import _experiment_options

    for name in ("depth", "optimizers", "batch-size", "zero-grad"):
        assert _experiment_options(name, None, None, 3) == {"seed": 3}
    with pytest.raises(Exception, match="takes no --seed"):
        _experiment_options("learning-rate", None, None, 3)


def test_batch_size_counts_updates_per_epoch():
    curves = run_experiment("batch-size", **SMALL["batch-size"]).data["curves"]
    assert [c["updates_per_epoch"] for c in curves.values()] == [1, 4]  # ⌈200/200⌉, ⌈200/50⌉


def test_optimizers_momentum_and_adam_beat_plain_sgd():
    curves = run_experiment("optimizers").data["curves"]
    sgd, momentum, adam = (curves[name]["losses"][-1] for name in curves)
    assert momentum < sgd and adam < sgd


def test_zero_grad_without_zeroing_is_unstable():
    runs = run_experiment("zero-grad").data["runs"]
    (with_zero, without) = runs.values()
    assert with_zero["losses"][0] == without["losses"][0]  # same start
    assert with_zero["grad_norms"][0] == pytest.approx(without["grad_norms"][0])
    assert with_zero["behaviour"] in ("converging", "slow") and without["behaviour"] == "oscillating"


def test_bad_experiment_arguments_are_one_line_errors(capsys, tmp_path):
    assert main(["experiment", "nope"]) == 2
    assert "learning-rate" in capsys.readouterr().err
    assert main(["experiment", "depth", "--lrs", "1", "--out", str(tmp_path)]) == 2
    assert main(["experiment", "learning-rate", "--lrs", "a,b", "--out", str(tmp_path)]) == 2
    assert main(["experiment", "learning-rate", "--lrs", "-1", "--out", str(tmp_path)]) == 2
    assert set(EXPERIMENTS) == {"learning-rate", "depth", "optimizers", "batch-size", "zero-grad"}


@pytest.mark.parametrize("width", [40, 60, 80])
def test_terminal_text_never_breaks_inside_a_word(width, tmp_path, capsys, monkeypatch):
    """Every word of the explanation is printed whole at any terminal width (a learner once saw 'ove/rflow')."""
    monkeypatch.setenv("COLUMNS", str(width))
    explanation = " ".join(run_experiment("learning-rate", learning_rates=(0.001, 10.0), steps=60).explanation)
    assert main(["experiment", "learning-rate", "--out", str(tmp_path), "--lrs", "0.001,10", "--steps", "60"]) == 0
    out = capsys.readouterr().out
    printed = set(out.replace("/", " ").split())
    words = {word.strip(".,;:()'") for word in explanation.split()}
    long_words = {word for word in words if len(word) > 3 and word.isascii() and word.isalpha()}
    assert len(long_words) > 20
    assert long_words <= {word.strip(".,;:()'") for word in printed}, long_words - printed
