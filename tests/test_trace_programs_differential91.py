"""Round 91: the glass box fuzzed with drawn programs, each number it shows checked against PyTorch 2.13.

A drawn program (a few layers of drawn widths: linear, activations, elementwise and broadcast ops with constants
and parameters, a row sum, transposes; then a loss or a sum; 1 sample or a batch, float64) runs in glassgrad under
``gg.trace()`` with an SGD step (drawn lr, momentum or not), and in PyTorch with ``retain_grad`` on the same
intermediates. For every step of ``tape.describe()``:

* the forward value is PyTorch's, and each gradient shown (summed over the steps that add into one tensor) is
  PyTorch's ``.grad`` of that tensor; an elementwise step's local derivative is a central finite difference;
  ``upstream ⊙ local`` is the contribution shown (un-broadcast); the update shows PyTorch's new weights;
* the JSON is valid JSON (no NaN tokens) and reads back bit for bit; every number the text, Markdown and HTML
  show (with and without ``--ops``) is one of the JSON's numbers rounded as the precision note says, and the
  note is there;
* every entry's explanation (:func:`glassgrad.trace.explain.trace_entry`, what the playground shows on a click),
  written with the full numbers, evaluates to the value it shows: wrong indices, signs or transposes would not.

Defects found, each with a test that fails at 67c8087: a broadcast input's gradient explained as one product
(its value not the number shown; TypeError for a batch); an affine step of a batch not explainable (ValueError);
binary_cross_entropy's written gradient without the engine's 10⁻¹² floor (a saturated σ: the formula's numbers
gave −0.125, the step −5.6e-05); sigmoid's shown slope ``σ − σ²`` where the row writes and the backward computes
``σ·(1 − σ)``; a momentum update explained from the rule's first line; the scalar view and the graph rounding
values without the precision note, and the scalar view's JSON raising ValueError on an infinite value.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg
import glassgrad.nn.functional as F
from glassgrad.autograd import unbroadcast
from glassgrad.trace import explain, local, render
from glassgrad.trace.numbers import PRECISION_NOTE, format_number
from glassgrad.trace.render_json import values_array

ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "leaky_relu", "softmax", "log_softmax", "elu", "softplus",
               "silu", "exp", "square", "neg")
LOSSES = ("mse", "l1", "huber", "smooth_l1", "cross_entropy", "bce_with_logits", "bce", "sum", "mean")
LAYERS = ("linear", "linear", "activation", "activation", "scale", "shift", "bias", "matmul", "centre", "transpose")


def _activation(lib, name: str, h):
    f = F if lib is gg else lib.nn.functional
    return {"relu": lambda: f.relu(h), "tanh": h.tanh, "sigmoid": h.sigmoid, "gelu": lambda: f.gelu(h),
            "leaky_relu": lambda: f.leaky_relu(h, 0.2), "softmax": lambda: f.softmax(h, 1),
            "log_softmax": lambda: f.log_softmax(h, 1), "elu": lambda: f.elu(h), "softplus": lambda: f.softplus(h),
            "silu": lambda: f.silu(h), "exp": h.exp, "square": lambda: h * h, "neg": lambda: -h}[name]()


def _draw(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    samples, width = int(rng.choice([1, 1, 2, 3])), int(rng.integers(1, 5))
    d = int(rng.integers(1, 5))
    layers = [("linear", (rng.normal(size=(d, width)), rng.normal(size=d) if rng.random() < 0.5 else None))]
    for _ in range(int(rng.integers(0, 3))):
        kind = str(rng.choice(LAYERS))
        if kind in ("linear", "matmul"):
            out = int(rng.integers(1, 5))
            weight = rng.normal(size=(out, d)) if kind == "linear" else rng.normal(size=(d, out))
            layers.append((kind, (weight, rng.normal(size=out) if kind == "linear" and rng.random() < 0.7 else None)))
            d = out
        elif kind == "activation":
            layers.append((kind, str(rng.choice(ACTIVATIONS))))
        else:
            layers.append((kind, rng.normal(size=d) + (3.0 if kind == "scale" else 0.0)))
    loss = str(rng.choice(LOSSES))
    if loss == "cross_entropy":
        target = rng.integers(0, d, size=samples)
    elif loss.startswith("bce"):
        target = rng.integers(0, 2, size=(samples, d)).astype(float)
    else:
        target = rng.normal(size=(samples, d))
    return {"x": rng.normal(size=(samples, width)), "layers": layers, "loss": loss, "target": target,
            "reduction": str(rng.choice(["mean", "sum"])), "lr": float(rng.choice([0.05, 0.1, 0.5])),
            "momentum": float(rng.choice([0.0, 0.9]))}


def _run(lib, case: dict, tape=None):
    """The program on ``lib`` (gg or torch): (loss, [(symbol, intermediate)], parameters)."""
    f = F if lib is gg else lib.nn.functional
    h = lib.tensor(case["x"], dtype=lib.float64)
    parameters, named = [], []

    def parameter(values, label):
        tensor = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        parameters.append(tensor)
        if tape is not None:
            tape.name(tensor, label)
        named.append((label, tensor))
        return tensor

    def name(tensor, label):
        if tape is not None:
            tape.name(tensor, label)
        if lib is not gg and tensor.requires_grad:
            tensor.retain_grad()
        named.append((label, tensor))
        return tensor

    for position, (kind, data) in enumerate(case["layers"]):
        if kind == "linear":
            weight, bias = data
            weight = parameter(weight, f"W{position}")
            h = f.linear(h, weight, None if bias is None else parameter(bias, f"b{position}"))
        elif kind == "matmul":
            h = h @ parameter(data[0], f"M{position}")
        elif kind == "activation":
            h = _activation(lib, data, h)
        elif kind == "scale":
            h = h / lib.tensor(data, dtype=lib.float64)
        elif kind == "shift":
            h = lib.tensor(data, dtype=lib.float64) - h
        elif kind == "bias":
            h = h + parameter(data, f"p{position}")
        elif kind == "centre":
            h = h - h.sum(1, keepdim=True)
        else:
            h = h.transpose(0, 1).transpose(0, 1)
        h = name(h, f"H{position}")
    reduction, loss = case["reduction"], case["loss"]
    if loss == "sum":
        return h.sum(), named, parameters
    if loss == "mean":
        return h.mean(), named, parameters
    if loss == "cross_entropy":
        return f.cross_entropy(h, lib.tensor(case["target"]), reduction=reduction), named, parameters
    target = lib.tensor(case["target"], dtype=lib.float64)
    if loss == "bce":
        return f.binary_cross_entropy(name(h.sigmoid(), "S"), target, reduction=reduction), named, parameters
    function = {"mse": f.mse_loss, "l1": f.l1_loss, "huber": f.huber_loss, "smooth_l1": f.smooth_l1_loss,
                "bce_with_logits": f.binary_cross_entropy_with_logits}[loss]
    return function(h, target, reduction=reduction), named, parameters


def _traced(case: dict):
    with gg.trace() as tape:
        loss, named, parameters = _run(gg, case, tape)
        loss.backward()
        gg.optim.SGD(parameters, lr=case["lr"], momentum=case["momentum"]).step()
    return tape, loss


# --- reading the shown numbers back -----------------------------------------------------------------------------

SHOWN = re.compile(r"(?<![\w.'(^/₀-₉])([+-]\d+\.\d{4}|[+-]\d\.\de[+-]\d\d)(?!\d)")
FULL = explain.Writer(factor=lambda value: f"({value!r})", result=repr)
NOTATION = (("10⁻¹²", "1e-12"), ("·", "*"), ("−", "-"), ("²", "**2"))


def _roundings(document: object, into: set[str]) -> set[str]:
    """Every way the renderers may write each number of ``document``."""
    if isinstance(document, dict):
        for value in document.values():
            _roundings(value, into)
    elif isinstance(document, list):
        for value in document:
            _roundings(value, into)
    elif isinstance(document, (int, float)) and not isinstance(document, bool):
        into.update((format_number(document), format_number(document, signed=False)))
    return into


def _check_shown(text: str, document: dict, where: str) -> None:
    """Each signed number ``text`` shows is a JSON number rounded as the note says; the note is there."""
    assert PRECISION_NOTE in text.replace("&#x27;", "'"), f"{where}: no precision note"
    allowed = _roundings(document, set())
    wrong = [m.group(1) for m in SHOWN.finditer(text) if m.group(1) not in allowed]
    assert not wrong, f"{where}: shown numbers that round no number of the JSON: {wrong[:5]}"


def _value_of(plugged: str) -> float | None:
    """The plugged-in arithmetic evaluated (None where it names a function or a letter this does not know)."""
    for symbol, python in NOTATION:
        plugged = plugged.replace(symbol, python)
    plugged = re.sub(r"(\d)\(", r"\1*(", plugged)  # 2(ŷ − y): a product
    try:
        return float(eval(plugged, {"__builtins__": {}}, {"tanh": np.tanh, "exp": np.exp, "max": max}))  # noqa: S307
    except (NameError, SyntaxError, TypeError):
        return None


def _explained(document: dict) -> int:
    """Every entry of every step explained with the full numbers: the arithmetic gives the value shown.
    Returns how many were evaluated."""
    parameters, evaluated = frozenset(document["symbols"].values()), 0
    for phase in ("forward", "backward"):
        for step in document[phase]:
            out, _ = explain.step_operands(step, parameters)
            for index in np.ndindex(*out.shape):
                entry = explain.trace_entry(step, phase, index, FULL, parameters)
                for term in entry.terms:  # every number plugged in is the engine's, at the entry named
                    assert np.isfinite(term.value)
                value = _value_of(entry.plugged) if entry.plugged else None
                if value is not None:
                    evaluated += 1
                    assert value == pytest.approx(entry.value, rel=1e-9, abs=1e-12), entry.text(FULL)
    for update in document["updates"]:
        new = np.asarray(update["new"])
        for index in np.ndindex(*new.shape):
            entry = explain.update(explain.Operand(update["symbol"], new), index, float(update["old"][index]),
                                   update["lr"], float(update["gradient"][index]), update["rule"], FULL,
                                   gradient_label=update["gradient_label"])
            value = _value_of(entry.plugged)
            if value is not None:
                evaluated += 1
                assert value == pytest.approx(entry.value, rel=1e-9, abs=1e-12), entry.text(FULL)
    return evaluated


def _finite_difference_slopes(torch, record) -> list[np.ndarray] | None:
    """``∂out/∂input`` of an elementwise record by central differences of PyTorch's op, at each output entry."""
    functional = torch.nn.functional
    settings_ = dict(zip(record.op.settings, record.settings)) if isinstance(record.op.settings, tuple) else {}
    function = {"relu": functional.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "exp": torch.exp,
                "gelu": functional.gelu, "leaky_relu": lambda a: functional.leaky_relu(a, settings_.get("slope")),
                "elu": functional.elu, "softplus": functional.softplus, "silu": functional.silu, "neg": torch.neg,
                "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}.get(record.op.name)
    if function is None:
        return None
    inputs = [np.asarray(value, dtype=np.float64) for value in record.input_values]
    shape = np.shape(record.output_value)
    slopes = []
    for position in range(len(inputs)):
        def at(shift, position=position):
            moved = [torch.tensor(value) for value in inputs]
            moved[position] = torch.tensor(np.broadcast_to(inputs[position], shape) + shift)
            return function(*moved).numpy()
        slopes.append((at(1e-6) - at(-1e-6)) / 2e-6)
    return slopes


def _check_program(torch, seed: int) -> None:
    case = _draw(seed)
    tape, loss = _traced(case)
    document = tape.describe()
    theirs, named, parameters = _run(torch, case)
    theirs.backward()
    torch.optim.SGD(parameters, lr=case["lr"], momentum=case["momentum"]).step()
    assert loss.item() == pytest.approx(theirs.item(), rel=1e-12, abs=1e-15)

    values = {label: tensor.detach().numpy() for label, tensor in named}
    gradients = {label: tensor.grad.numpy() for label, tensor in named if tensor.grad is not None}
    for step in document["forward"]:  # (1) each forward value is PyTorch's
        symbol = step["output"]["symbol"]
        expected = theirs.detach().numpy() if step["kind"] == "loss" else values.get(symbol)
        if expected is not None:
            np.testing.assert_allclose(step["output"]["values"], expected, rtol=1e-12, atol=1e-15, err_msg=symbol)
    totals: dict[str, np.ndarray] = {}
    for step in document["backward"]:  # (2) each gradient shown is PyTorch's .grad; upstream ⊙ local = shown
        totals[step["output"]["of"]] = totals.get(step["output"]["of"], 0) + np.asarray(step["output"]["values"])
        if "local" in step:
            product = np.asarray(step["upstream"]["values"]) * np.asarray(step["local"]["values"])
            np.testing.assert_allclose(unbroadcast(product, np.shape(step["output"]["values"])),
                                       step["output"]["values"], rtol=1e-10, atol=1e-14, err_msg=step["formula"])
    for symbol, total in totals.items():
        if symbol in gradients:
            np.testing.assert_allclose(total, gradients[symbol], rtol=1e-10, atol=1e-13, err_msg=symbol)
    for record in tape.forward:  # (3) each local derivative is a central finite difference
        slopes = local.local_derivatives(record.op, record.input_values, record.output_value, record.settings)
        expected = _finite_difference_slopes(torch, record) if slopes is not None else None
        for slope, difference in zip(slopes or (), expected or ()):
            kink = np.broadcast_to(np.asarray(record.input_values[0]) == 0, slope.shape)  # ReLU at 0: one side
            np.testing.assert_allclose(np.where(kink, 0, slope), np.where(kink, 0, difference), rtol=1e-5, atol=1e-6)
    for update, parameter in zip(document["updates"], parameters, strict=True):  # (4) PyTorch's new weights
        np.testing.assert_allclose(update["new"], parameter.detach().numpy(), rtol=1e-12, atol=1e-15)

    text = render(document, "json")  # (6) valid JSON, no NaN tokens, read back bit for bit
    back = json.loads(text, parse_constant=lambda token: pytest.fail(f"JSON token {token}"))
    for name, array in document["parameters"].items():
        assert np.array_equal(values_array(back["parameters"][name]), array)
    for format in ("text", "md", "html"):  # (5) every shown number is a rounding of one of the JSON's
        _check_shown(render(document, format), back, format)
        _check_shown(render(document, format, ops=True), back, f"{format} --ops")
    _explained(document)


@pytest.mark.torch
@settings(max_examples=30)
@given(seed=st.integers(0, 2**32 - 1))
def test_drawn_programs_show_pytorchs_numbers_with_their_formulas(torch, seed):
    _check_program(torch, seed)


# --- the defects, one by one -------------------------------------------------------------------------------------


def test_a_broadcast_inputs_gradient_is_explained_as_the_sum_it_is():
    """Z = X + b, X 2×3: ∂L/∂b[j] sums ∂L/∂Z[n,j] over the 2 rows; it was explained as one product (TypeError)."""
    x = gg.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]], dtype=gg.float64)
    b = gg.tensor([0.5, -0.5, 2.0], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(b, "b")
        z = tape.name(x + b, "Z")
        ((z * z).sum()).backward()
    document = tape.describe()
    step = next(s for s in document["backward"] if s["output"]["of"] == "b")
    for j in range(3):
        entry = explain.trace_entry(step, "backward", (j,), FULL, frozenset({"b"}))
        assert entry.value == pytest.approx(2 * (x.array[:, j] + b.array[j]).sum(), rel=1e-12)
        assert _value_of(entry.plugged) == pytest.approx(entry.value, rel=1e-12), entry.text(FULL)
        assert [term.index for term in entry.terms] == [(0, j), (0, j), (1, j), (1, j)]


def test_a_row_sum_broadcast_back_is_explained_as_the_sum_it_is():
    """Z − Σ Z (keepdim), one sample: ∂L/∂(Σ Z) reads every entry of ∂L/∂out; it showed one product."""
    z = gg.tensor([[0.5, -1.0, 2.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        total = tape.name(z.sum(1, keepdim=True), "s")
        centred = tape.name(z - total, "C")
        (centred * gg.tensor([[1.0, 2.0, 4.0]], dtype=gg.float64)).sum().backward()
    step = next(s for s in tape.describe()["backward"] if s["output"]["of"] == "s")
    entry = explain.trace_entry(step, "backward", (0,), FULL)
    assert entry.value == pytest.approx(-7.0) and _value_of(entry.plugged) == pytest.approx(-7.0)


def test_a_batch_through_a_linear_layer_is_explained_entry_by_entry():
    """X 3×2 → Z = X·Wᵀ + b: each entry of Z, ∂L/∂W, ∂L/∂b and ∂L/∂X written out sums to its number
    (ValueError and TypeError at 67c8087, where only one sample was read)."""
    weight = gg.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=gg.float64, requires_grad=True)
    bias = gg.tensor([0.1, -0.2], dtype=gg.float64, requires_grad=True)
    x = gg.tensor([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(weight, "W")
        tape.name(bias, "b")
        tape.name(x, "X")
        F.mse_loss(F.linear(x, weight, bias), gg.tensor(np.ones((3, 2)), dtype=gg.float64)).backward()
    document = tape.describe()
    assert _explained(document) >= 6 + 4 + 2 + 6
    step = document["forward"][0]
    entry = explain.trace_entry(step, "forward", (2, 1), FULL, frozenset({"W", "b"}))
    assert entry.formula == "W[2,1]·X[3,1] + W[2,2]·X[3,2] + b[2]"  # counting from 1: row 3 of X, row 2 of W


def test_a_batchs_cross_entropy_plugs_its_logits_in_row_by_row():
    """softmax is taken per row: the 2×3 logits are written [[…], […]], not one flat list of 6 (a softmax of 6)."""
    z = gg.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(z, "Z")
        F.cross_entropy(z, gg.tensor([2, 0])).backward()
    writer = explain.Writer(factor=lambda value: f"{value:g}", result=lambda value: f"{value:.4f}")
    entry = explain.trace_entry(tape.describe()["forward"][0], "forward", (), writer)
    assert "log softmax([[0.5, -1, 2], [1, 0, -0.5]])ᵢ[yᵢ+1]" in entry.plugged
    assert len(entry.terms) == 6 and entry.value == pytest.approx(0.35284, abs=1e-5)


def test_a_saturated_sigmoids_bce_gradient_follows_its_written_formula():
    """The written gradient carries the engine's floor: max(p·(1 − p), 10⁻¹²). Without it the formula's numbers
    gave −0.125 where the step shows PyTorch's −5.6e-05 (σ(36.7) = 1 − 4e-16 in float64)."""
    z = gg.tensor([[36.7, -2.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(z, "Z")
        F.binary_cross_entropy(tape.name(z.sigmoid(), "A"), gg.tensor([[1.0, 0.0]], dtype=gg.float64)).backward()
    step = next(s for s in tape.describe()["backward"] if s["kind"] == "loss")
    assert step["formula"] == "∂L/∂A = (A − y)/max(A·(1 − A), 10⁻¹²)/2"
    for index in ((0,), (1,)):
        entry = explain.trace_entry(step, "backward", index, FULL)
        assert _value_of(entry.plugged) == pytest.approx(entry.value, rel=1e-9), entry.text(FULL)


@pytest.mark.torch
def test_a_saturated_sigmoids_bce_gradient_is_pytorchs(torch):
    z = np.array([[36.7, -2.0, 23.0]])
    ours = gg.tensor(z, dtype=gg.float64, requires_grad=True)
    theirs = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    target = np.array([[1.0, 0.0, 0.0]])
    with gg.trace() as tape:
        probabilities = ours.sigmoid()
        F.binary_cross_entropy(probabilities, gg.tensor(target, dtype=gg.float64)).backward()
    torch.nn.functional.binary_cross_entropy(theirs.sigmoid(), torch.tensor(target)).backward()
    np.testing.assert_allclose(ours.grad.array, theirs.grad.numpy(), rtol=1e-12)
    step = next(s for s in tape.describe()["backward"] if s["kind"] == "loss")
    theirs_p = theirs.sigmoid().detach()
    expected = (theirs_p - torch.tensor(target)) / (theirs_p * (1 - theirs_p)).clamp(min=1e-12) / 3
    np.testing.assert_allclose(step["output"]["values"], expected.numpy(), rtol=1e-6)


def test_sigmoids_slope_shown_is_the_one_its_row_writes():
    """The local slope of σ shown with a step is σ·(1 − σ) of the shown σ, to the bit, as the backward computes it
    (σ − σ² rounded otherwise near σ = 1)."""
    z = gg.tensor([[20.0, 23.0, 25.0, 30.0, 0.3, -4.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(z, "Z")
        a = tape.name(z.sigmoid(), "A")
        (a * gg.tensor([[1.0, -2.0, 3.0, 0.5, 1.5, 2.5]], dtype=gg.float64)).sum().backward()
    step = next(s for s in tape.describe()["backward"] if s["kind"] == "activation")
    shown = a.detach().numpy()
    assert np.array_equal(step["local"]["values"], (1 - shown) * shown)
    assert step["local"]["formula"] == "σ(Z)·(1 − σ(Z)) = A·(1 − A)"


def _momentum_document(loss_of_sum: bool = False) -> dict:
    weight = gg.tensor([[0.5, 2.0]], dtype=gg.float64, requires_grad=True)
    optimizer = gg.optim.SGD([weight], lr=0.1, momentum=0.9)
    for _ in range(2):
        with gg.trace() as tape:
            tape.name(weight, "W")
            optimizer.zero_grad()
            out = F.linear(gg.tensor([[1.0, -1.0]], dtype=gg.float64), weight)
            (out.sum() if loss_of_sum else F.mse_loss(out, gg.tensor([[0.0]], dtype=gg.float64))).backward()
            optimizer.step()
    return tape.describe()


def test_a_momentum_update_is_explained_by_the_parameters_own_line():
    """``b ← μ·b + ∂L/∂W; W ← W − η·b``: the entry reads W ← W − η·b with W and η in; the buffer's line, with the
    gradient's number in, is its note. It read the first line: W[1,1] = μ·b + ∂L/∂W[1,1] … = 0.5 ← 0.5 − 0.1·b."""
    update = _momentum_document()["updates"][0]
    old, gradient = float(update["old"][0, 1]), float(update["gradient"][0, 1])
    entry = explain.update(explain.Operand("W", update["new"]), (0, 1), old, update["lr"], gradient, update["rule"],
                           FULL, gradient_label=update["gradient_label"])
    assert entry.formula == "W[1,2] − η·b"
    assert entry.plugged == f"({old!r}) − (0.1)·b" and "←" not in entry.plugged
    assert entry.note == f"b ← μ·b + ({gradient!r})   (b ← ({gradient!r}) on the first step)"
    assert entry.value == update["new"][0, 1]


def test_an_update_plugs_in_the_gradient_as_the_step_names_it():
    """A backward from a sum, not from a loss L: the rule reads W ← W − η·∂v₂/∂W, and its number is plugged in."""
    weight = gg.tensor([[0.5, 2.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(weight, "W")
        F.linear(gg.tensor([[1.0, -1.0]], dtype=gg.float64), weight).sum().backward()
        gg.optim.SGD([weight], lr=0.1).step()
    update = tape.describe()["updates"][0]
    assert update["gradient_label"] != "∂L/∂W"
    entry = explain.update(explain.Operand("W", update["new"]), (0, 1), update["old"][0, 1], update["lr"],
                           update["gradient"][0, 1], update["rule"], FULL, gradient_label=update["gradient_label"])
    assert len(entry.terms) == 3 and _value_of(entry.plugged) == pytest.approx(entry.value, rel=1e-12)


def test_the_scalar_view_and_the_graph_state_their_rounding():
    from glassgrad.lessons import lesson
    from glassgrad.trace.scalar import render_scalar

    document = lesson("diagonal-flip")
    for format in ("svg", "html"):
        assert PRECISION_NOTE in render_scalar(document, format).replace("&#x27;", "'")
    assert PRECISION_NOTE in json.loads(render_scalar(document, "json"))["note"]
    with gg.trace() as tape:
        F.mse_loss(F.linear(gg.tensor([[1.0]]), gg.tensor([[2.0]], requires_grad=True)), gg.tensor([[0.0]])).backward()
    assert PRECISION_NOTE in tape.graph()


def test_the_graph_writes_a_norm_without_a_sign():
    """A large tensor's box shows its norm, never negative: written unsigned, as a loss is (it was ‖·‖ = +5.1196)."""
    weight = gg.tensor(np.full((1, 1, 3, 3), 0.5), dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        F.conv2d(gg.tensor(np.ones((1, 1, 5, 5)), dtype=gg.float64), weight).sum().backward()
    svg = tape.graph()
    assert "‖·‖ = +" not in svg
    assert "‖·‖ = 5.0000" in svg  # the 5×5 input of ones (25 entries; up to 16 are listed)


def test_the_scalar_views_json_writes_an_infinite_value_as_the_trace_does():
    """JSON has no infinity: the trace writes "inf"; the scalar view raised ValueError."""
    from glassgrad.trace.scalar import render_scalar

    weight = gg.tensor([[1e308, 2.0]], dtype=gg.float64, requires_grad=True)
    with gg.trace() as tape:
        tape.name(weight, "W")
        F.mse_loss(F.linear(gg.tensor([[10.0, 1.0]], dtype=gg.float64), weight),
                   gg.tensor([[0.0]], dtype=gg.float64)).backward()
    document = tape.describe()
    boxes = json.loads(render_scalar(document, "json"), parse_constant=lambda token: pytest.fail(token))["boxes"]
    assert json.loads(render(document, "json"))["loss"]["value"] == "inf"
    assert next(box for box in boxes if box["name"] == "L")["value"] == "inf"


# --- the worked examples ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["diagonal-flip", "mlp3", "linear-regression"])
def test_the_worked_examples_show_their_jsons_numbers_rounded(name, tmp_path):
    """``glassgrad trace NAME`` in every format, with --ops: valid JSON, and every number shown a rounding of
    one of its numbers, the precision note beside them; the scalar view's boxes likewise (where it draws)."""
    from glassgrad.cli import main

    def run(*arguments: str) -> str:
        path = tmp_path / "out"
        assert main(["trace", name, *arguments, "--out", str(path)]) == 0
        return path.read_text(encoding="utf-8")

    document = json.loads(run("--format", "json"), parse_constant=lambda token: pytest.fail(token))
    assert document == json.loads(run("--format", "json", "--ops"))
    assert document["precision"] == PRECISION_NOTE
    for format in ("text", "md", "html"):
        _check_shown(run("--format", format), document, format)
        _check_shown(run("--format", format, "--ops"), document, f"{format} --ops")
    if name == "mlp3":  # 55 parameters: the scalar view refuses it (at most 40)
        assert main(["trace", name, "--scalar", "--format", "svg", "--out", str(tmp_path / "x")]) == 2
        return
    scalar = json.loads(run("--scalar", "--format", "json"), parse_constant=lambda token: pytest.fail(token))
    for format in ("svg", "html"):
        _check_shown(run("--scalar", "--format", format), scalar, f"scalar {format}")


def test_a_lessons_entries_explain_to_their_numbers():
    """Every entry of every step of each worked example, written out with the full numbers, gives its value."""
    from glassgrad.lessons import lesson

    for name in ("diagonal-flip", "mlp3", "linear-regression"):
        assert _explained(lesson(name)) > 20
