"""The step-through reads a tape of the real model; click-to-explain shows the engine's own numbers.

Oracles: the same network run here, independently of the playground (glassgrad with
``retain_grad()`` on every intermediate, and PyTorch 2.13 in float64 for the 2→4→4→3 tanh
network with cross-entropy), and the lesson's hand-derived numbers. Every explained value and
every number plugged into its formula is compared with the tensor entry it names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.playground import create_app
from glassgrad.playground.display import operand
from glassgrad.playground.explain import explain
from glassgrad.playground.safety import Fields
from glassgrad.playground.stepper import Network, Walkthrough

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
starlette_testclient = pytest.importorskip("starlette.testclient")

PACKAGE = Path(__file__).resolve().parents[1] / "glassgrad"
NET_2443 = {"example": "custom", "sizes": [2, 4, 4, 3], "activation": "tanh", "loss": "cross_entropy"}
MODULES = {"relu": gg.nn.ReLU, "tanh": gg.nn.Tanh, "sigmoid": gg.nn.Sigmoid}


def full_backward(body: dict) -> dict:
    """``body`` with actions Forward and Backward down to the input."""
    depth = len(Walkthrough(Fields({**body})).network.layers)
    return {**body, "actions": " ".join(["f"] + ["b"] * depth)}


def walk(body: dict) -> Walkthrough:
    return Walkthrough(Fields(dict(body)))


def cells(view: dict) -> list[tuple[str, str, tuple]]:
    """Every number the view shows, as (cell, symbol, index): the cell the page would send to explain."""
    matrices = [view["input"], view["target"], view["prediction"]]
    matrices += [view["dprediction"]] if view["dprediction"] else []
    for layer in view["layers"]:
        matrices += [layer[key] for key in ("W", "b", "Z", "A", "dZ", "dW", "db", "dA_in")]
    found = []
    for matrix in matrices:
        if matrix["values"] is None:
            continue
        symbol = matrix["label"].split(" = ")[0].removeprefix("class ")
        for index in np.ndindex(*matrix["shape"]):
            found.append((f"{matrix['name']}[{','.join(map(str, index))}]", symbol, index))
    return found + [("loss", "L", ())]


class Reference:
    """The network of a view run here, layer by layer, with ``retain_grad()`` on every intermediate.

    ``tensors[symbol]`` are the values and ``∂L/∂symbol`` the gradients, by the view's symbols;
    ``f'(Z)`` the local derivative of each activation, by autograd of the activation alone.
    """

    def __init__(self, view: dict, dtype=np.float32) -> None:
        self.view, self.dtype = view, dtype
        self.tensors: dict[str, np.ndarray] = {}
        self.locals: dict[str, np.ndarray] = {}
        x = gg.tensor(np.array([view["input"]["values"]], dtype=dtype), requires_grad=True)
        kept, a = [("X", x)], x
        for layer in view["layers"]:
            weight = gg.tensor(np.array(layer["W"]["values"], dtype=dtype), requires_grad=True)
            bias = gg.tensor(np.array(layer["b"]["values"], dtype=dtype), requires_grad=True)
            z = F.linear(a, weight, bias)
            z.retain_grad()
            kept += [(layer["W"]["label"], weight), (layer["b"]["label"], bias), (layer["Z"]["label"], z)]
            a = z
            if layer["activation"] != "identity":
                a = MODULES[layer["activation"]]()(z)
                a.retain_grad()
                kept.append((layer["A"]["label"], a))
                leaf = gg.tensor(z.array, requires_grad=True)
                MODULES[layer["activation"]]()(leaf).sum().backward()
                self.locals[layer["Z"]["label"]] = leaf.grad.array[0]
        target = np.array(view["target"]["values"])
        if view["loss_name"] == "mse":
            loss = F.mse_loss(a, gg.tensor(np.array([target], dtype=dtype)))
            self.tensors["ŷ"] = a.array[0]
        else:
            classes = target.astype(np.int64)
            loss = F.cross_entropy(a, gg.tensor(classes))
            with gg.no_grad():
                self.tensors["ŷ"] = F.softmax(a, dim=1).array[0]
            self.tensors["onehot(y)"] = np.eye(a.shape[1])[classes[0]]
        loss.backward()
        self.tensors.update(y=target, L=np.array(loss.item()))
        for symbol, tensor in kept:
            sample = tensor.ndim == 2 and symbol[0] in "XZAŷ"
            self.tensors.setdefault(symbol, tensor.array[0] if sample else tensor.array)
            if tensor.grad is not None:
                self.tensors[f"∂L/∂{symbol}"] = tensor.grad.array[0] if sample else tensor.grad.array

    def entry(self, symbol: str, index: tuple) -> float:
        if symbol.endswith(")") and "'(" in symbol:  # a local derivative f'(Z₁)
            return float(self.locals[symbol.split("'(", 1)[1][:-1]][tuple(index)])
        return float(self.tensors[symbol][tuple(index)])


def check_every_explanation(walkthrough: Walkthrough, reference: Reference, rel: float) -> int:
    """Explain every number of the view; its value and every number plugged in must be the reference's."""
    view, checked = walkthrough.view(), 0
    for cell, symbol, index in cells(view):
        data = explain(walkthrough, cell)
        assert data["value"] == pytest.approx(reference.entry(symbol, index), rel=rel, abs=1e-6), (cell, data["text"])
        for term in data["terms"]:
            if term["symbol"] == "η":
                continue
            expected = reference.entry(term["symbol"], term["index"])
            assert term["value"] == pytest.approx(expected, rel=rel, abs=1e-6), (cell, term, data["text"])
            if data["plugged"]:
                assert operand(term["value"]) in data["plugged"], (cell, term["label"], data["text"])
            else:  # a copy: ∂L/∂b = ∂L/∂Z
                assert data["value"] == term["value"], data["text"]
        assert data["text"].startswith(f"{data['label']} = "), data["text"]
        assert data["text"].endswith(data["result"]) or not data["formula"], data["text"]  # a given number: its origin
        checked += 1
    return checked


# --- the 2→4→4→3 tanh network with cross-entropy -------------------------------------------------


@pytest.mark.parametrize("seed", [0, 7])
def test_the_2_4_4_3_tanh_network_steps_through_with_the_engines_numbers(seed):
    body = full_backward({**NET_2443, "seed": seed})
    walkthrough = walk(body)
    view = walkthrough.view()
    assert [layer["activation"] for layer in view["layers"]] == ["tanh", "tanh", "identity"]
    assert [np.shape(layer["W"]["values"]) for layer in view["layers"]] == [(4, 2), (4, 4), (3, 4)]
    assert view["stage"] == view["last_stage"] == 4 and view["can"]["update"]
    reference = Reference(view)
    assert view["loss"]["value"] == pytest.approx(reference.entry("L", ()), rel=1e-6)
    for layer in view["layers"]:
        for key in ("Z", "A", "dZ", "dW", "db", "dA_in"):
            symbol = layer[key]["label"]
            np.testing.assert_allclose(layer[key]["values"], reference.tensors[symbol], rtol=1e-5, atol=1e-7)
    count = check_every_explanation(walkthrough, reference, rel=1e-5)
    assert count == 2 + 1 + 3 + 2 * (8 + 16 + 12) + 5 * (4 + 4 + 3) + (2 + 4 + 4) + 1  # every number shown


@pytest.mark.torch
def test_the_2_4_4_3_network_and_its_explanations_match_pytorch(torch):
    body = full_backward({**NET_2443, "seed": 3})
    walkthrough = walk(body)
    view = walkthrough.view()
    x = torch.tensor([view["input"]["values"]], dtype=torch.float64, requires_grad=True)
    a, kept = x, {"X": x}
    for layer in view["layers"]:
        weight = torch.tensor(layer["W"]["values"], dtype=torch.float64, requires_grad=True)
        bias = torch.tensor(layer["b"]["values"], dtype=torch.float64, requires_grad=True)
        z = torch.nn.functional.linear(a, weight, bias)
        z.retain_grad()
        kept.update({layer["W"]["label"]: weight, layer["b"]["label"]: bias, layer["Z"]["label"]: z})
        a = torch.tanh(z) if layer["activation"] == "tanh" else z
        if a is not z:
            a.retain_grad()
            kept[layer["A"]["label"]] = a
    label = int(view["target"]["values"][0])
    loss = torch.nn.functional.cross_entropy(a, torch.tensor([label]))
    loss.backward()
    oracle = {"L": loss.detach().numpy(), "ŷ": torch.softmax(a, dim=1).detach().numpy()[0],
              "onehot(y)": np.eye(3)[label], "y": np.array([label])}
    for symbol, tensor in kept.items():
        sample = tensor.ndim == 2 and symbol[0] in "XZA"
        oracle[symbol] = tensor.detach().numpy()[0] if sample else tensor.detach().numpy()
        oracle[f"∂L/∂{symbol}"] = tensor.grad.numpy()[0] if sample else tensor.grad.numpy()
    for layer in view["layers"][:2]:  # tanh'(Z) = 1 − tanh²(Z), from PyTorch's autograd of tanh alone
        z = torch.tensor(layer["Z"]["values"], dtype=torch.float64, requires_grad=True)
        torch.tanh(z).sum().backward()
        oracle[f"tanh'({layer['Z']['label']})"] = z.grad.numpy()

    def entry(symbol, index):
        return float(np.asarray(oracle[symbol])[tuple(index)])

    for cell, symbol, index in cells(view):
        data = explain(walkthrough, cell)
        assert data["value"] == pytest.approx(entry(symbol, index), rel=1e-5, abs=1e-6), (cell, data["text"])
        for term in data["terms"]:
            assert term["value"] == pytest.approx(entry(term["symbol"], term["index"]), rel=1e-5, abs=1e-6), cell


def test_the_2_4_4_3_network_through_the_api(tmp_path):
    app = create_app(output_dir=tmp_path / "out", max_jobs=1)
    body = full_backward({**NET_2443, "seed": 0})
    with starlette_testclient.TestClient(app, base_url="http://127.0.0.1:8000") as client:
        view = client.post("/api/step", json=body).json()
        reference = Reference(view)
        data = client.post("/api/step/explain", json={**body, "cell": "dZ1[2]"}).json()
        # the cell dZ1[2] (the code's index) is the third entry: ∂L/∂Z₁[3], counting from 1
        assert data["text"].startswith("∂L/∂Z₁[3] = ∂L/∂A₁[3] · tanh'(Z₁)[3]  (tanh'(Z₁) = 1 − tanh²(Z₁) = 1 − A₁²)")
        upstream, local = data["terms"]
        assert upstream["value"] == pytest.approx(reference.entry("∂L/∂A₁", (2,)), rel=1e-6)
        assert local["value"] == pytest.approx(reference.entry("tanh'(Z₁)", (2,)), rel=1e-6)
        assert data["value"] == pytest.approx(upstream["value"] * local["value"], rel=1e-6)
        data = client.post("/api/step/explain", json={**body, "cell": "dZ3[1]"}).json()
        assert data["text"].startswith("∂L/∂Z₃[2] = ŷ[2] − onehot(y)[2]")  # softmax + cross-entropy: one step; from 1
        assert data["value"] == pytest.approx(data["terms"][0]["value"] - data["terms"][1]["value"], abs=1e-7)
        error = client.post("/api/step/explain", json={**body, "cell": "dA3[0]"}).json()["error"]
        assert "straight to ∂L/∂Z₃" in error
        updated = client.post("/api/step", json={**body, "actions": body["actions"] + " u"}).json()
    for old, new in zip(view["layers"], updated["layers"]):  # the optimizer's real step, W ← W − η·∂L/∂W
        np.testing.assert_allclose(new["W"]["values"], np.array(old["W"]["values"]) - 0.1 * np.array(
            old["dW"]["values"]), atol=1e-6)


# --- the lessons' networks and the other examples -------------------------------------------------


def test_the_diagonal_flip_lesson_is_its_real_model_on_a_tape():
    from glassgrad.lessons.diagonal_flip import INPUT, TARGET, lesson_model

    walkthrough = walk({"example": "diagonal-flip", "actions": "f b b"})
    view = walkthrough.view()
    assert view["loss"]["text"] == "0.8963"
    gradients = sum(np.size(layer[key]["values"]) for layer in view["layers"] for key in ("dW", "db"))
    assert gradients == 31
    model = lesson_model()  # the lesson's own module, float64: the playground runs it in float32
    loss = F.mse_loss(model(gg.tensor([INPUT], dtype=gg.float64)), gg.tensor([TARGET], dtype=gg.float64))
    loss.backward()
    assert view["loss"]["value"] == pytest.approx(loss.item(), rel=1e-6)
    for layer, linear in zip(view["layers"], (model[0], model[2])):
        np.testing.assert_allclose(layer["dW"]["values"], linear.weight.grad.array, atol=1e-6)
        np.testing.assert_allclose(layer["db"]["values"], linear.bias.grad.array, atol=1e-6)
    assert check_every_explanation(walkthrough, Reference(view), rel=1e-5) > 60
    assert "∂L/∂ŷ = 2(ŷ − y)/4" in walk({"example": "diagonal-flip", "actions": "f b"}).view()["narration"]


@pytest.mark.parametrize("body", [{"example": "mlp3"}, {"example": "moons", "seed": 11},
                                  {"example": "custom", "sizes": [3, 4, 2], "activation": "sigmoid", "loss": "mse",
                                   "seed": 2}])
def test_every_example_explains_every_number_with_the_engines_numbers(body):
    for actions in ("f", "f b", None):
        walkthrough = walk(full_backward(body) if actions is None else {**body, "actions": actions})
        check_every_explanation(walkthrough, Reference(walkthrough.view()), rel=1e-5)


def test_updated_weights_explain_the_optimizers_step():
    body = full_backward({"example": "mlp3"})
    before = walk(body).view()
    after = walk({**body, "actions": body["actions"] + " u"})
    for number, layer in enumerate(before["layers"], 1):
        for index in np.ndindex(*layer["W"]["shape"]):
            data = explain(after, f"W{number}[{','.join(map(str, index))}]")
            old, lr, gradient = (term["value"] for term in data["terms"])
            assert old == pytest.approx(np.array(layer["W"]["values"])[index])
            assert gradient == pytest.approx(np.array(layer["dW"]["values"])[index])
            assert lr == pytest.approx(0.1) and data["value"] == pytest.approx(old - lr * gradient, abs=1e-6)


# --- any traced ops --------------------------------------------------------------------------------


OTHER_NETWORKS = {
    "leaky_relu-sigmoid": (lambda: [gg.nn.LeakyReLU(0.2), gg.nn.Sigmoid()], ["leaky_relu", "sigmoid"],
                           lambda torch: [lambda z: torch.nn.functional.leaky_relu(z, 0.2), torch.sigmoid]),
    "gelu-silu": (lambda: [gg.nn.GELU(approximate="tanh"), gg.nn.SiLU()], ["gelu", "silu"],
                  lambda torch: [lambda z: torch.nn.functional.gelu(z, approximate="tanh"),
                                 torch.nn.functional.silu]),
}


@pytest.mark.torch
@pytest.mark.parametrize("name", list(OTHER_NETWORKS))
def test_a_network_of_other_traced_activations_steps_through(torch, name):
    """Activations the examples never offer (LeakyReLU, σ, GELU, SiLU): the view comes from the tape as it is."""
    modules, keys, functions = OTHER_NETWORKS[name]
    first, second = modules()
    gg.manual_seed(5)
    model = gg.nn.Sequential(gg.nn.Linear(3, 4), first, gg.nn.Linear(4, 4), second, gg.nn.Linear(4, 2))
    network = Network(model, "mse", np.array([0.5, -1.0, 2.0], dtype=np.float32),
                      np.array([1.0, 0.0], dtype=np.float32))
    walkthrough = Walkthrough.of(network, "f b b b")
    view = walkthrough.view()
    assert [layer["activation"] for layer in view["layers"]] == [*keys, "identity"]
    x = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    a, reference, derivatives = x, {}, {}
    for layer, function in zip(view["layers"], [*functions(torch), None]):
        weight = torch.tensor(layer["W"]["values"], dtype=torch.float64, requires_grad=True)
        z = torch.nn.functional.linear(a, weight, torch.tensor(layer["b"]["values"], dtype=torch.float64))
        z.retain_grad()
        reference[layer["W"]["label"]], reference[layer["Z"]["label"]] = weight, z
        a = function(z) if function else z
        if function:  # the local derivative f'(Z), by PyTorch's autograd of the activation alone
            leaf = z.detach().clone().requires_grad_(True)
            function(leaf).sum().backward()
            derivatives[layer["Z"]["label"]] = leaf.grad.numpy()[0]
    torch.nn.functional.mse_loss(a, torch.tensor([[1.0, 0.0]], dtype=torch.float64)).backward()
    for layer in view["layers"]:
        np.testing.assert_allclose(layer["dW"]["values"], reference[layer["W"]["label"]].grad.numpy(), rtol=1e-5,
                                   atol=1e-7)
        np.testing.assert_allclose(layer["dZ"]["values"], reference[layer["Z"]["label"]].grad.numpy()[0],
                                   rtol=1e-5, atol=1e-7)
    for number, layer in enumerate(view["layers"][:2], 1):
        for i in range(4):
            data = explain(walkthrough, f"dZ{number}[{i}]")
            upstream, local = (term["value"] for term in data["terms"])
            assert local == pytest.approx(derivatives[layer["Z"]["label"]][i], rel=1e-5, abs=1e-7), data["text"]
            assert data["value"] == pytest.approx(upstream * local, rel=1e-5, abs=1e-8)
            assert data["value"] == pytest.approx(reference[layer["Z"]["label"]].grad.numpy()[0][i], rel=1e-4,
                                                  abs=1e-7)
        assert explain(walkthrough, f"A{number}[1]")["text"].startswith(f"A{'₁₂'[number - 1]}[2] = ")  # from 1


# --- one rule, one place ---------------------------------------------------------------------------


STEP_THROUGH = ("playground/app.py", "playground/bridge.py", "playground/display.py", "playground/explain.py",
                "playground/stepper.py", "playground/traced.py", "trace/explain.py", "practice/step_rules.py")
CHOICES = ("playground/bridge.py",)
"""Tables of names allowed here: a learner's choice of what to build (``LOSSES = {"mse": F.mse_loss, …}``)."""


def test_no_step_through_module_and_no_explainer_switches_on_op_names():
    """The step-through and click-to-explain decide no math by an op's name: rows and trace steps do.

    The checks of ``tests/test_rules_one_place.py`` (a comparison with an op name; a table keyed
    by op names; a method picked by name) over the step-through's modules and the explainers,
    plus: nothing reads ``op.name`` and no method is named per cell (``_cell_relu``).
    """
    from test_rules_one_place import name_comparisons, name_tables

    offenders = []
    for relative in STEP_THROUGH:
        source = (PACKAGE / relative).read_text(encoding="utf-8")
        tree = ast.parse(source)
        offenders += [f"{relative}: {found}" for found in name_comparisons(tree)]
        if relative not in CHOICES:
            offenders += [f"{relative}: {found}" for found in name_tables(tree)]
        offenders += [f"{relative}:{number}: {line.strip()}" for number, line in enumerate(source.splitlines(), 1)
                      if re.search(r"\bop\.name\b|_cell_|getattr\(self, f[\"']", line.split("#", 1)[0])]
    assert offenders == []
    old_explainer = ast.parse('class Explainer:\n    def run(self, name):\n'
                              '        return getattr(self, f"_cell_{name}")()\n'
                              'DERIVATIVES = {"relu": "ReLU′", "tanh": "tanh′"}\n'
                              'if record.op.name == "mse_loss": pass\n')  # what the checks are for
    assert len(name_tables(old_explainer)) == 2 and len(name_comparisons(old_explainer)) == 1
