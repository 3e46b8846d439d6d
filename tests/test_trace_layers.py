"""Grouping by layer and symbols: a 4→3→4 network reads like the lesson, batches read as rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.lessons.diagonal_flip import lesson_model, sample
from glassgrad.trace import trace
from glassgrad.trace.graph import placed_nodes
from glassgrad.trace.grouping import subscript


@pytest.fixture(scope="module")
def flip():
    model = lesson_model()
    x, y = sample()
    with trace(model) as tape:
        loss = F.mse_loss(model(x), y)
        loss.backward()
    return tape.describe(), model


def test_forward_reads_like_the_lesson(flip):
    document, _ = flip
    assert [step["formula"] for step in document["forward"]] == [
        "Z₁ = W₁·X + b₁", "A₁ = ReLU(Z₁)", "ŷ = W₂·A₁ + b₂", "L = (1/n) Σ (ŷ − y)²   (n = 4)"]
    linear = document["forward"][0]
    assert linear["readings"] == {"column": "Z₁ = W₁·X + b₁", "rows": "Z₁ = X·W₁ᵀ + b₁"}
    assert [entry["symbol"] for entry in linear["inputs"]] == ["W₁", "X", "b₁"]
    assert linear["inputs"][0]["name"] == "0.weight"
    # Z₁ = W₁·x + b₁ by hand from the lesson weights
    np.testing.assert_allclose(linear["output"]["values"], [[0.5, -0.3, 0.2]], atol=1e-15)


def test_backward_reads_like_the_lesson_with_masks_and_both_readings(flip):
    document, model = flip
    formulas = [step["formula"] for step in document["backward"]]
    assert formulas == ["∂L/∂ŷ = 2(ŷ − y)/4", "∂L/∂W₂ = ∂L/∂ŷ·A₁ᵀ", "∂L/∂b₂ = ∂L/∂ŷ", "∂L/∂A₁ = W₂ᵀ·∂L/∂ŷ",
                        "∂L/∂Z₁ = ∂L/∂A₁ ⊙ ReLU'(Z₁)", "∂L/∂W₁ = ∂L/∂Z₁·Xᵀ", "∂L/∂b₁ = ∂L/∂Z₁"]
    relu = document["backward"][4]
    np.testing.assert_array_equal(relu["local"]["values"], [[1.0, 0.0, 1.0]])  # Z₁ = [0.5, −0.3, 0.2] > 0
    assert document["backward"][1]["readings"]["rows"] == "∂L/∂W₂ = (∂L/∂ŷ)ᵀ·A₁"
    assert document["backward"][1]["into"] == "W₂.grad"
    # ∂L/∂ŷ = 2(ŷ − y)/4 by hand
    np.testing.assert_allclose(document["backward"][0]["output"]["values"],
                               [[2 * (0.1 - 1) / 4, 2 * (-0.1 - 1) / 4, 2 * (-0.05 - 0) / 4, 2 * (-0.25 - 1) / 4]])
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(document["gradients"][name], parameter.grad.array)


def test_a_batch_of_rows_is_shown_in_the_row_reading():
    layer = gg.nn.Linear(3, 2, seed=0)
    with trace(layer) as tape:
        F.mse_loss(layer(gg.ones(5, 3)), gg.zeros(5, 2)).backward()
    document = tape.describe()
    assert document["forward"][0]["formula"] == "ŷ = X·W₁ᵀ + b₁"
    assert document["backward"][1]["formula"] == "∂L/∂W₁ = (∂L/∂ŷ)ᵀ·X"
    assert document["backward"][2]["formula"] == "∂L/∂b₁ = Σ_rows ∂L/∂ŷ"


def test_tape_names_replace_symbols_and_scalar_constants_show_their_value():
    w = gg.tensor([2.0], requires_grad=True)
    with trace() as tape:
        tape.name(w, "weight")
        (w * 3.0).sum().backward()
    document = tape.describe()
    assert document["forward"][0]["formula"] == "v₁ = weight·3"
    assert document["gradients"] == {"weight": pytest.approx(np.array([3.0]))}
    assert document["backward"][-1]["formula"] == "∂v₂/∂weight = ∂v₂/∂v₁ ⊙ ∂v₁/∂weight"
    assert document["backward"][-1]["local"]["formula"] == "3"


def test_a_multi_op_module_is_one_step_whose_gradients_match_the_engine():
    model = gg.nn.Sequential(gg.nn.Linear(3, 4, seed=0), gg.nn.BatchNorm1d(4), gg.nn.ReLU())
    x = gg.tensor(np.arange(15.0).reshape(5, 3) / 10, dtype=gg.float32)
    with trace(model) as tape:
        model(x).sum().backward()
    document = tape.describe()
    assert [step["kind"] for step in document["forward"]] == ["linear", "module", "activation", "op"]
    norm_step = document["forward"][1]
    assert norm_step["formula"] == "N₁ = BatchNorm1d(Z₁)" and norm_step["layer"] == "BatchNorm1d (model[1] in code)"
    assert len(norm_step["ops"]) > 1
    assert document["symbols"]["1.weight"] == "γ₁" and document["symbols"]["1.bias"] == "β₁"
    assert "t₇ = t₆·γ₁" in norm_step["ops"] and norm_step["ops"][-1] == "N₁ = t₇ + β₁"
    through = [step for step in document["backward"] if step["kind"] == "module"]
    by_symbol = {step["output"]["of"]: step["output"]["values"] for step in through}
    np.testing.assert_allclose(by_symbol["γ₁"], model[1].weight.grad.array, rtol=1e-6)
    np.testing.assert_allclose(by_symbol["β₁"], model[1].bias.grad.array, rtol=1e-6)


def test_equal_constants_share_their_value_as_symbol_without_a_derivative_mark():
    model = gg.nn.Sequential(gg.nn.BatchNorm1d(2), gg.nn.BatchNorm1d(2))
    with trace(model) as tape:
        model(gg.tensor([[1.0, 2.0], [3.0, 5.0]])).sum().backward()
    inside = [op for step in tape.describe()["forward"] for op in step.get("ops", [])]
    assert sum("+ 1e-05" in op for op in inside) == 2  # one ε per layer, each written as its value
    assert not any("′" in op for op in inside)


def test_a_residual_input_gets_two_contributions_the_second_accumulated():
    block = gg.nn.Residual(gg.nn.Sequential(gg.nn.Linear(2, 2, seed=0), gg.nn.Tanh()))
    x = gg.tensor([[0.5, -1.0]], requires_grad=True)
    with trace(block) as tape:
        block(x).sum().backward()
    steps = [s for s in tape.describe()["backward"] if s["output"]["of"] == "X"]
    assert [s["accumulated"] for s in steps] == [False, True]
    total = sum(s["output"]["values"] for s in steps)
    np.testing.assert_allclose(total, x.grad.array, rtol=1e-6)


def test_op_level_view_lists_every_primitive():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    with trace() as tape:
        ((x * x).exp().sum()).backward()
    document = tape.describe()
    assert [op["op"] for op in document["ops"]["forward"]] == ["mul", "exp", "sum"]
    assert [op["op"] for op in document["ops"]["backward"]] == ["sum", "exp", "mul"]
    np.testing.assert_allclose(sum(c["values"] for c in document["ops"]["backward"][-1]["contributions"]),
                               2 * np.array([1.0, 2.0]) * np.exp([1.0, 4.0]), rtol=1e-6)


def test_subscripts():
    assert subscript(1) + subscript(10) == "₁₁₀"


@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.integers(1, 4), st.sampled_from(["relu", "tanh"]))
def test_any_mlp_is_traced_layer_by_layer_with_the_engine_gradients(sizes, batch, activation):
    model = gg.nn.mlp(sizes, activation=activation, seed=0)
    x = gg.tensor(np.linspace(-1, 1, batch * sizes[0]).reshape(batch, sizes[0]), dtype=gg.float32)
    with trace(model) as tape:
        F.mse_loss(model(x), gg.zeros(batch, sizes[-1])).backward()
    document = tape.describe()
    layers = len(sizes) - 1
    kinds = [step["kind"] for step in document["forward"]]
    assert kinds == ["linear", "activation"] * (layers - 1) + ["linear", "loss"]
    reading = "column" if batch == 1 else "rows"
    assert all(step["formula"] == step["readings"][reading] for step in document["forward"] if "readings" in step)
    for name, parameter in model.named_parameters():
        np.testing.assert_array_equal(document["gradients"][name], parameter.grad.array)
    nodes, _, _ = placed_nodes(document)
    assert len(nodes) == 3 * layers + (layers - 1) + 3  # W, b, Z per layer; the activations; X, y, L


class _Residual(gg.nn.Module):
    def __init__(self):
        super().__init__()
        self.f = gg.nn.Linear(3, 3)

    def forward(self, x):
        return x + gg.nn.functional.relu(self.f(x))


class _TwoPaths(gg.nn.Module):
    """Z₁ feeds a Linear and a BatchNorm1d (a module of several ops): two contributions to ∂L/∂Z₁."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.bn = gg.nn.Linear(2, 3), gg.nn.Linear(3, 3), gg.nn.BatchNorm1d(3)

    def forward(self, x):
        z = self.fc1(x)
        return self.bn(z) + self.fc2(z)


def _traced(model, rows, width):
    rng = np.random.default_rng(7)
    with gg.trace(model) as tape:
        out = model(gg.tensor(rng.normal(size=(rows, 2))))
        gg.nn.functional.mse_loss(out, gg.tensor(rng.normal(size=(rows, width)))).backward()
    return tape.describe()


def test_a_modules_step_names_what_it_was_called_with_and_code_reaches_it():
    """R(x) = x + ReLU(f(x)) was written H₁ = R(Z₂), f's output; and its sub-layer model[1.f], which is no code."""
    doc = _traced(gg.nn.Sequential(gg.nn.Linear(2, 3), _Residual(), gg.nn.Linear(3, 1)).double(), 2, 1)
    step = next(step for step in doc["forward"] if step["kind"] == "module")
    assert step["formula"] == "H₁ = _Residual(Z₁)" and step["ops"] == ["t₁ = ReLU(Z₂)", "H₁ = Z₁ + t₁"]
    assert any(s["layer"] == "Linear (model[1].f in code)" for s in doc["forward"])


def test_a_modules_second_path_into_a_gradient_says_it_is_added():
    """The multi-op step said 'stored as ∂L/∂Z₁' where the engine added to what the other path had stored."""
    doc = _traced(_TwoPaths().double(), 4, 3)
    into = [step for step in doc["backward"] if step["into"] == "∂L/∂Z₁"]
    assert [step["accumulated"] for step in into] == [False, True]


def test_a_loss_of_each_item_is_shown_per_item_and_the_precision_note_covers_e_notation():
    """reduction='none': Key numbers showed the sum of the items as the loss, which backward never saw (it
    differentiated their mean here); and 1.2e+06 stood under a note that said 4 decimals."""
    from glassgrad.trace.numbers import PRECISION_NOTE, format_number

    rng = np.random.default_rng(3)
    layer = gg.nn.Linear(2, 2).double()
    with gg.trace(layer) as tape:
        items = F.mse_loss(layer(gg.tensor(rng.normal(size=(3, 2)))), gg.tensor(rng.normal(size=(3, 2))),
                           reduction="none")
        items.mean().backward()
    doc = tape.describe()
    np.testing.assert_array_equal(doc["loss"]["value"], items.detach().numpy())
    assert doc["loss"]["reduction"] == "none" and "Key numbers" in tape.render("text")
    assert tape.render("json")
    assert format_number(1234566.77) == "+1.2e+06" and format_number(3e-9) == "+3.0e-09"
    assert "2 digits, 3.0e-09" in PRECISION_NOTE


@pytest.mark.parametrize("between", ["nothing", "clipping", "no zero_grad"])
def test_an_update_names_the_gradient_it_read_as_what_it_is(between):
    """After clipping (or with an earlier pass's gradient still in .grad) the update row wrote the optimizer's .grad
    as ∂L/∂W₁, which the backward section and the gradients table show with other numbers."""
    model = lesson_model()
    x, y = sample()
    optimizer = gg.optim.SGD(model.parameters(), lr=0.1)
    if between == "no zero_grad":
        F.mse_loss(model(x), y).backward()
    with gg.trace(model) as tape:
        F.mse_loss(model(x), y).backward()
        if between == "clipping":
            gg.nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
        optimizer.step()
    doc = tape.describe()
    update = doc["updates"][0]
    np.testing.assert_array_equal(update["gradient"], model[0].weight.grad.numpy())
    same = np.array_equal(update["gradient"], doc["gradients"]["0.weight"])
    assert same == (between == "nothing")
    assert update["gradient_label"] == ("∂L/∂W₁" if same else "W₁.grad") and update["rule"].endswith(
        update["gradient_label"])
    assert ("note" in update) == (not same) and ("W₁.grad, which the optimizer read" in tape.render("text")) != same


def test_a_class_label_picks_its_entry_counted_from_one_as_the_trace_counts():
    """Positions count from 1 in a trace, labels from 0 as in code: the loss wrote log softmax(Z)ᵢ[yᵢ] and a
    worksheet key log softmax([…])ᵢ[2] for label 2, the entry the same key calls ŷ[3]."""
    import json

    from glassgrad.practice import steps_from_trace, trace_worksheet
    from glassgrad.trace.render_json import render_json

    rng = np.random.default_rng(11)
    model = gg.nn.Sequential(gg.nn.Linear(3, 4)).double()
    with gg.trace(model) as tape:
        logits = model(gg.tensor(rng.normal(size=(1, 3))))
        loss = F.cross_entropy(logits, gg.tensor([2]))
        loss.backward()
    doc = tape.describe()
    assert next(step for step in doc["forward"] if step["kind"] == "loss")["formula"].startswith(
        "L = −(1/N) Σᵢ log softmax(Z₁)ᵢ[yᵢ+1]")
    steps = steps_from_trace(json.loads(render_json(doc)))
    keys = [blank.explanation for seed in range(30) for blank in trace_worksheet(steps, blanks=2, seed=seed).blanks
            if "log softmax" in blank.explanation]
    assert keys and all("ᵢ[2+1] ≈ " in key for key in keys)  # ≈: the logits shown are rounded
    assert loss.item() == pytest.approx(-logits.log_softmax(1)[0, 2].item())


def test_one_sequence_in_a_batch_is_rows_of_a_linear_layer_not_a_column():
    """A (1, T, F) input was read as one sample written as a column (∂L/∂W = ∂L/∂Z·Xᵀ, shapes that do not
    multiply), and a worksheet from the trace raised matmul's RuntimeError."""
    import json

    from glassgrad.practice import steps_from_trace, trace_worksheet
    from glassgrad.trace.render_json import render_json

    rng = np.random.default_rng(5)
    layer = gg.nn.Linear(3, 2).double()
    with gg.trace(layer) as tape:
        F.mse_loss(layer(gg.tensor(rng.normal(size=(1, 4, 3)))), gg.tensor(rng.normal(size=(1, 4, 2)))).backward()
    doc = tape.describe()
    assert doc["forward"][0]["formula"] == "ŷ = X·W₁ᵀ + b₁" and "note" not in doc["forward"][0]
    steps = steps_from_trace(json.loads(render_json(doc)))
    for seed in range(5):
        assert trace_worksheet(steps, blanks=2, seed=seed).blanks


def test_backward_hooks_on_a_models_layers_leave_its_trace_as_it_is():
    """A hooked call returned a view of every output, which the trace showed as a step of the parent module
    (H₂ = Sequential(Z₁)); now only an output hooked twice, or an input handed back, gets its own view."""
    def formulas(hooked):
        gg.manual_seed(0)
        model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.ReLU(), gg.nn.Linear(3, 1))
        if hooked:
            model[0].register_full_backward_hook(lambda module, into, out: None)
        with gg.trace() as tape:
            F.mse_loss(model(gg.tensor([[1.0, 2.0]])), gg.tensor([[0.5]])).backward()
        doc = tape.describe()
        return [step["formula"] for step in doc["forward"]], [step["formula"] for step in doc["backward"]]

    assert formulas(True) == formulas(False)


def test_the_playgrounds_step_through_refuses_a_loss_of_each_item_with_a_4xx():
    """A trace whose loss keeps one number per item (reduction='none') would have made the step-through's
    float(loss) raise TypeError (a 500)."""
    from glassgrad.playground.safety import ApiError
    from glassgrad.playground.traced import Pass

    layer = gg.nn.Linear(2, 1).double()
    with gg.trace(layer) as tape:
        F.mse_loss(layer(gg.tensor([[1.0, 2.0]], dtype=gg.float64)), gg.tensor([[0.5]], dtype=gg.float64),
                   reduction="none").sum().backward()
    with pytest.raises(ApiError, match="reduction='none'") as refused:
        Pass(tape.describe(), ["weight", "bias"])
    assert refused.value.status == 422


@pytest.mark.parametrize("format", ["text", "md", "html", "json"])
def test_a_trace_begun_after_the_forward_shows_its_own_steps_and_says_what_it_left_out(format):
    """``out = model(x)`` before ``gg.trace()``, the loss and ``backward()`` inside: the loss's steps are shown with
    the engine's numbers, the three steps made before are named in a note (rendering raised KeyError)."""
    model = lesson_model()
    x, y = sample()
    out = model(x)
    with trace() as tape:
        loss = F.mse_loss(out, y)
        loss.backward()
    document = tape.describe()
    assert [step["op"] for step in document["ops"]["backward"]] == ["mse_loss", "linear", "relu", "linear"]
    assert len(document["backward"]) == 1  # by layer: the loss, the one step made inside the trace
    loss_step = document["ops"]["backward"][0]
    assert np.array_equal(loss_step["contributions"][0]["values"], 2 * (out.array - y.array) / 4)
    assert any("walked 3 step(s) made before the trace began" in note for note in document["notes"])
    assert "made before the trace began" in tape.render(format)
    assert tape.graph()  # the graph draws too
