"""Practice steps of any traced network get their rule from the op's row: no code per op.

A 2→3→2 network with tanh, σ, GELU, SiLU or LeakyReLU, with MSE, cross-entropy or binary
cross-entropy, traced and read back by ``practice sheet --from-trace``: every step has a rule,
its recompute (the row's own) gives the number the trace shows, and every number equals the
engine's own tensors (``retain_grad``), and PyTorch's for one network.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_practice_trace_sheet import _ShownSheet

import glassgrad as gg
from glassgrad.cli import main
from glassgrad.ops import RULES
from glassgrad.practice import number_text, trace_worksheet
from glassgrad.practice.numbers import as_shown
from glassgrad.practice.trace_steps import steps_from_trace
from glassgrad.trace.render_json import render_json

F = gg.nn.functional
ACTIVATION_LAYERS = {"tanh": gg.nn.Tanh, "sigmoid": gg.nn.Sigmoid, "gelu": gg.nn.GELU, "silu": gg.nn.SiLU,
                     "leaky_relu": gg.nn.LeakyReLU, "relu": gg.nn.ReLU, "elu": gg.nn.ELU,
                     "softplus": gg.nn.Softplus, "hardtanh": gg.nn.Hardtanh, "hardsigmoid": gg.nn.Hardsigmoid,
                     "hardswish": gg.nn.Hardswish, "log_sigmoid": gg.nn.LogSigmoid,
                     "threshold": lambda: gg.nn.Threshold(0.1, -0.5), "hardshrink": gg.nn.Hardshrink,
                     "softshrink": gg.nn.Softshrink, "mish": gg.nn.Mish, "celu": gg.nn.CELU}
"""The test's own choice of layers (a test may name them; the package may not)."""


def _traced(activation: str, loss: str, seed: int = 0, output_activation: bool = False):
    """A traced one-sample 2→3→k network, and the engine's own tensors of the same pass (retain_grad)."""
    rng = np.random.default_rng(seed)
    outputs = 1 if loss.startswith("bce") else 2
    weights = {"w1": rng.normal(size=(3, 2)), "b1": rng.normal(size=3), "w2": rng.normal(size=(outputs, 3)),
               "b2": rng.normal(size=outputs)}
    x = rng.normal(size=(1, 2))
    layers = [gg.nn.Linear(2, 3, dtype=gg.float64), ACTIVATION_LAYERS[activation](),
              gg.nn.Linear(3, outputs, dtype=gg.float64)]
    if output_activation:
        layers.append(gg.nn.Sigmoid())
    model = gg.nn.Sequential(*layers)
    model.load_state_dict({"0.weight": gg.tensor(weights["w1"]), "0.bias": gg.tensor(weights["b1"]),
                           "2.weight": gg.tensor(weights["w2"]), "2.bias": gg.tensor(weights["b2"])})
    if loss in ("mse", "l1", "smooth_l1", "huber"):
        target = gg.tensor(rng.normal(size=(1, outputs)), dtype=gg.float64)
        loss_function = {"mse": F.mse_loss, "l1": F.l1_loss, "smooth_l1": F.smooth_l1_loss,
                         "huber": F.huber_loss}[loss]
    elif loss == "kl":
        target = gg.tensor(rng.dirichlet(np.ones(outputs), size=1), dtype=gg.float64)
        loss_function = F.kl_div
    elif loss.startswith("bce"):
        target = gg.tensor([[float(rng.integers(0, 2))]], dtype=gg.float64)
        loss_function = F.binary_cross_entropy if loss == "bce" else F.binary_cross_entropy_with_logits
    elif loss == "ce_probabilities":
        target = gg.tensor(rng.dirichlet(np.ones(outputs), size=1), dtype=gg.float64)
        loss_function = F.cross_entropy
    else:
        target = gg.tensor([int(rng.integers(0, outputs))])
        loss_function = F.cross_entropy
    sample = gg.tensor(x, dtype=gg.float64)
    with gg.trace(model) as tape:
        tape.name(sample, "x")
        loss_function(model(sample), target).backward()

    # the same pass again, by hand, keeping every intermediate's gradient: the engine's own numbers
    w1, b1, w2, b2 = (gg.tensor(weights[k], dtype=gg.float64, requires_grad=True) for k in ("w1", "b1", "w2", "b2"))
    z1 = F.linear(sample, w1, b1)
    a1 = ACTIVATION_LAYERS[activation]()(z1)
    z2 = F.linear(a1, w2, b2)
    tensors = [z1, a1, z2]
    if output_activation:
        tensors.append(gg.sigmoid(z2))
    for t in tensors:
        t.retain_grad()
    total = loss_function(tensors[-1], target)
    total.backward()
    return tape.describe(), tensors, total, (w1, w2), weights | {"x": x, "target": target.array}


def _engine_numbers(document: dict, tensors, total, weights) -> dict[str, np.ndarray]:
    """Each step's name → the engine's number for it, read from the forward steps' symbols."""
    symbols = [entry["output"]["symbol"] for entry in document["forward"] if entry["kind"] != "loss"]
    assert len(symbols) == len(tensors)
    numbers = {"L": total.array}
    for symbol, t in zip(symbols, tensors):
        numbers[symbol] = t.array
        numbers[f"∂L/∂{symbol}"] = t.grad.array
    numbers |= {"∂L/∂W₁": weights[0].grad.array, "∂L/∂W₂": weights[1].grad.array}
    return numbers


CASES = [("tanh", "mse", False), ("sigmoid", "bce", True), ("gelu", "cross_entropy", False),
         ("silu", "mse", False), ("leaky_relu", "cross_entropy", False), ("tanh", "bce", True),
         ("tanh", "bce_logits", False), ("sigmoid", "ce_probabilities", False)]


@pytest.mark.parametrize(("activation", "loss", "output_activation"), CASES)
def test_every_step_has_the_rows_rule_and_the_engines_number(activation, loss, output_activation):
    document, tensors, total, weights, _ = _traced(activation, loss, 3, output_activation)
    numbers = _engine_numbers(document, tensors, total, weights)
    steps = steps_from_trace(document)
    assert {step.name for step in steps} - {"ŷ"} <= set(numbers)  # ŷ = softmax(Z₂): checked below
    for step in steps:
        assert step.recompute is not None and step.explain is not None, step.formula
        np.testing.assert_allclose(step.recompute(*step.inputs.values()), step.output, rtol=1e-12, atol=1e-14,
                                   err_msg=step.formula)  # the row's recompute gives what the trace shows
        expected = numbers.get(step.name)
        if expected is None:  # softmax(Z₂), what cross-entropy computes on the way
            expected = gg.softmax(tensors[-1], dim=1).array
        np.testing.assert_allclose(np.ravel(step.output), np.ravel(expected), rtol=1e-12, atol=1e-14,
                                   err_msg=step.name)
        index = tuple(0 for _ in step.output.shape)
        text = step.explain(step, index, lambda value: as_shown(value, 3))  # the entry, written out
        result = number_text(as_shown(step.output[index], 3))  # ≈ after rounded numbers: their arithmetic may differ
        assert text.startswith(step.name) and (text.endswith(f" = {result}") or text.endswith(f" ≈ {result}"))


@pytest.mark.parametrize(("activation", "loss", "output_activation"), [("tanh", "mse", False),
                                                                        ("sigmoid", "bce", True)])
def test_sheet_from_the_trace_file_keys_the_engines_numbers(tmp_path, capsys, activation, loss, output_activation):
    """``practice sheet --from-trace FILE``: every blank's key is the engine's number, as shown (4 places)."""
    document, tensors, total, weights, _ = _traced(activation, loss, 5, output_activation)
    numbers = _engine_numbers(document, tensors, total, weights)
    trace_file = tmp_path / "net.json"
    trace_file.write_text(render_json(document), encoding="utf-8")
    seen = set()
    for seed in range(6):
        out = tmp_path / f"sheet{seed}.html"
        assert main(["practice", "sheet", "--from-trace", str(trace_file), "--blanks", "6", "--seed", str(seed),
                     "--format", "html", "--out", str(out)]) == 0
        page = _ShownSheet()
        page.feed(out.read_text(encoding="utf-8"))
        assert len(page.key) == 6
        for label, (name, i, j) in page.blanks.items():
            engine = numbers[name]
            value = (engine if name.startswith("∂L/∂W") else engine.reshape(-1, 1))[i, j]  # one sample: a column
            assert float(Fraction(page.key[label])) == pytest.approx(float(value), abs=0.5e-4), (label, name)
            seen.add(name)
    capsys.readouterr()
    assert any(name.startswith("A") for name in seen) and "∂L/∂Z₁" in seen  # the activation's steps are blanked


def test_a_rounded_sheet_accepts_what_the_shown_numbers_give_for_a_tanh_network():
    document, *_ = _traced("tanh", "mse", 1)
    worksheet = trace_worksheet(steps_from_trace(document), 10, 2)
    assert worksheet.rounded
    for blank in worksheet.blanks:
        assert blank.given_values_answer is not None  # every step has the row's recompute
        assert abs(float(blank.given_values_answer) - float(blank.answer)) < 2e-3
        assert blank.check(str(float(blank.given_values_answer))).correct


@pytest.mark.torch
def test_a_tanh_network_s_sheet_numbers_are_pytorch_s(torch):
    document, *_, raw = _traced("tanh", "mse", 11)
    steps = {step.name: step for step in steps_from_trace(document)}
    w1, b1, w2, b2 = (torch.tensor(raw[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2"))
    x, y = torch.tensor(raw["x"]), torch.tensor(raw["target"])
    z1 = torch.nn.functional.linear(x, w1, b1)
    a1 = torch.tanh(z1)
    prediction = torch.nn.functional.linear(a1, w2, b2)
    for t in (z1, a1, prediction):
        t.retain_grad()
    loss = torch.nn.functional.mse_loss(prediction, y)
    loss.backward()
    oracle = {"Z₁": z1, "A₁": a1, "ŷ": prediction, "L": loss, "∂L/∂ŷ": prediction.grad, "∂L/∂A₁": a1.grad,
              "∂L/∂Z₁": z1.grad, "∂L/∂W₁": w1.grad, "∂L/∂W₂": w2.grad}
    assert set(steps) == set(oracle)
    for name, expected in oracle.items():
        step = steps[name]
        np.testing.assert_allclose(np.ravel(step.output), np.ravel(expected.detach().numpy()), rtol=1e-12,
                                   atol=1e-14, err_msg=name)
        np.testing.assert_allclose(np.ravel(step.recompute(*step.inputs.values())),
                                   np.ravel(expected.detach().numpy()), rtol=1e-12, atol=1e-14, err_msg=name)


ACTIVATION_ROWS = sorted(name for name, row in RULES.items() if row.kind == "activation")


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(sorted(ACTIVATION_LAYERS)),
       st.sampled_from(["mse", "cross_entropy", "bce", "bce_logits", "ce_probabilities", "l1", "smooth_l1", "huber",
                        "kl"]),
       st.integers(0, 10_000))
def test_any_activation_and_loss_gives_recomputable_steps(activation, loss, seed):
    """Property: for random weights, every step of every such network has a rule that gives the trace's number."""
    document, *_ = _traced(activation, loss, seed, output_activation=loss == "bce")
    for step in steps_from_trace(document):
        assert step.recompute is not None, step.formula
        np.testing.assert_allclose(step.recompute(*step.inputs.values()), step.output, rtol=1e-10, atol=1e-12,
                                   err_msg=step.formula)


def test_every_activation_row_is_a_layer_this_test_traces():
    """The cases above cover every activation row of the op table (a new row must be added to them)."""
    assert {layer().__class__.__name__.lower() for layer in ACTIVATION_LAYERS.values()} >= {
        name.replace("_", "") for name in ACTIVATION_ROWS}


def test_cross_entropy_s_shown_gradient_is_its_gradient():
    """The loss rows that show their gradient over derived quantities compute it from them exactly."""
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 3))
    for target in (rng.integers(0, 3, size=4), rng.dirichlet(np.ones(3), size=4)):
        for row in RULES.values():
            if row.kind != "loss" or row.loss is None or row.roles[0] != "logits" or logits.shape[1] < 2:
                continue
            form = row.loss.for_target(target)
            if not form.shown_in_gradient:
                continue
            quantities = {d.symbol.format(target="y"): d.value(logits, target) for d in form.derived}
            quantities["y"] = target
            shown = [quantities[symbol.format(target="y")] for symbol in form.shown_in_gradient]
            np.testing.assert_allclose(form.shown_gradient_value(*shown), form.gradient_value(logits, target),
                                       rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("loss", ["l1", "smooth_l1", "huber", "kl"])
@pytest.mark.parametrize("activation", ["elu", "softplus"])
def test_the_issue_11_losses_and_activations_give_recomputable_steps(activation, loss):
    document, *_ = _traced(activation, loss, 7, output_activation=False)
    steps = steps_from_trace(document)
    assert any("L = " in step.formula for step in steps)
    for step in steps:
        assert step.recompute is not None, step.formula
        np.testing.assert_allclose(step.recompute(*step.inputs.values()), step.output, rtol=1e-10, atol=1e-12,
                                   err_msg=step.formula)
