"""What a Code view program left (``tape``, ``model``, ``x``, ``y``), for the page's other views.

The child (:mod:`.code_child`) saved it in the run's folder with glassgrad's own writers; this module
reads it back once, when the run ends (:func:`load_result`), and afterwards serves it:

* ``result`` for ``GET /api/code/runs/{id}``: the trace's HTML (the engine's, as Jupyter shows it), and
  a ``summary`` of each forward step straight from the step document (its symbol, formula, values,
  and ∂L/∂ of it: the backward steps' contributions summed, :func:`glassgrad.trace.graph.gradients_by_symbol`);
* example ``"code:<id>"``: the learner's network for the step-through (:func:`network`, a fresh
  copy each time: the step-through's updates change it), the document for the scalar view
  (:func:`scalar_document`), and the starting weights for Train (:func:`training_start`).

Nothing here computes a number: the values come from the engine's record and the engine's model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import glassgrad as gg
from glassgrad.trace.numbers import DECIMALS

from . import bridge, code_child, display, stepper, training
from .code_runner import CodeRun, CodeRunner
from .safety import ApiError

PREFIX = "code:"
LOSS_NAMES = {"mse_loss": "mse", "cross_entropy": "cross_entropy"}  # the trace's loss → a key of bridge.LOSSES
TITLE = "Your program's network"
SUMMARY_PRECISION = (f"The trace's numbers, as the engine computed them, each written as the trace writes it: "
                     f"{DECIMALS} decimal places for display, e-notation when tiny or huge (hold the pointer "
                     "on one for its full value); the sign is written, colour only repeats it:")


@dataclass
class Left:
    """A finished run's tape document, and its model (architecture and weights) with one sample, when usable."""

    document: dict | None
    architecture: dict | None = None
    weights: dict | None = None
    loss: str | None = None
    x: np.ndarray | None = None
    y: np.ndarray | None = None

    def network(self) -> stepper.Network:
        """A fresh copy of the learner's network with its sample, as the step-through runs it."""
        model = gg.nn.from_architecture(self.architecture, {name: gg.tensor(value) for name, value in
                                                             self.weights.items()})
        return stepper._as_float32(stepper.Network(model, self.loss, self.x.copy(), self.y.copy()))


def is_code_example(example: Any) -> bool:
    return isinstance(example, str) and example.startswith(PREFIX)


def load_result(run: CodeRun) -> dict:
    """Read what ``run`` left (its folder) into ``run.left``; the ``result`` the page gets."""
    notes = list(run.outcome.get("notes", []))
    folder = run.folder
    document = _json(folder / code_child.DOCUMENT)
    html = (folder / code_child.TRACE_HTML).read_text(encoding="utf-8") if document is not None else None
    left = Left(document)
    has_model = (folder / code_child.MODEL).is_file()
    if has_model:
        try:
            _load_network(left, folder)
        except ApiError as error:
            notes.append(f"model: {error.message}")
            left.architecture = None
        except Exception as error:  # whatever the learner's model does wrong in a pass is a note, not a failure
            notes.append(f"model: the step-through cannot run it ({type(error).__name__}: {error})")
            left.architecture = None
    run.left = left
    return {"tape": document is not None, "model": has_model,
            "example": PREFIX + run.id if left.architecture is not None else None,
            "trainable": _trainable(left, run.id),
            "tape_html": html, "summary": summary(document) if document is not None else [],
            "precision": SUMMARY_PRECISION, "notes": notes}


def summary(document: dict) -> list[dict]:
    """Each forward step of the document (its output's symbol, formula, values and gradient: None where none
    flowed), each preceded by the tensors with a gradient that no step made and it is the first to use
    (the parameters, an input with ``requires_grad``: ``formula`` None). Beside the values and the gradient
    go their display texts (``values_text``, ``grad_text``), written by :func:`.display.texts`: the page
    shows those, so its numbers read exactly as the engine's trace writes them."""
    from glassgrad.trace.graph import gradients_by_symbol
    from glassgrad.trace.render_json import values_array

    gradients = gradients_by_symbol(document, "layer")
    made = {step["output"]["symbol"] for step in document["forward"]}
    rows, shown = [], set()

    def row(item: dict, layer: str | None, formula: str | None) -> dict:
        gradient = gradients.get(item["symbol"])
        shown.add(item["symbol"])
        values = values_array(item["values"])
        return {"symbol": item["symbol"], "layer": layer, "formula": formula,  # NaN and ±∞ go as null
                "values": values.tolist(), "values_text": display.texts(values),
                "grad": None if gradient is None else gradient.tolist(),
                "grad_text": None if gradient is None else display.texts(gradient)}

    for step in document["forward"]:
        rows += [row(item, item.get("name"), None) for item in step["inputs"]
                 if item["symbol"] not in made | shown and item["symbol"] in gradients]
        rows.append(row(step["output"], step["layer"], step["formula"]))
    return rows


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _load_network(left: Left, folder: Path) -> None:
    """The model, its loss and one sample, checked by one step-through pass; 422 (a note) for what it cannot show."""
    saved = gg.load(folder / code_child.MODEL)
    left.architecture, left.weights = saved["architecture"], {name: tensor.array for name, tensor in
                                                               saved["model"].items()}
    model = gg.nn.from_architecture(left.architecture, saved["model"])
    parameters = list(model.parameters())
    if not parameters or parameters[0].ndim != 2:
        raise ApiError(422, "the step-through shows networks that start with a linear layer")
    widths = [parameters[0].shape[1]] + [p.shape[0] for p in parameters if p.ndim == 2]
    if max(widths) > stepper.MAX_WIDTH or len(widths) - 1 > stepper.MAX_LAYERS:
        raise ApiError(422, f"the step-through shows at most {stepper.MAX_LAYERS} layers of at most "
                            f"{stepper.MAX_WIDTH} neurons; this model's widths are {widths}")
    sample = _json(folder / code_child.SAMPLE) or {}
    left.loss = LOSS_NAMES.get(((left.document or {}).get("loss") or {}).get("name"))
    left.x, left.y = _sample(left, sample, widths)
    stepper.Walkthrough.of(left.network())  # refuses (422, one line) what the step-through cannot show


def _sample(left: Left, sample: dict, widths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """One input and its target: the program's ``x`` and ``y`` (their first row), else the tape's first sample."""
    if "x" in sample and "y" in sample:
        x, y = np.asarray(sample["x"]["values"]), np.asarray(sample["y"]["values"])
        classes = sample["y"]["integer"]
    elif left.document is not None and left.document.get("loss"):
        x, y, classes = _tape_sample(left.document)
    else:
        raise ApiError(422, "the step-through needs a sample: leave x and y (an input and its target) beside model")
    if left.loss is None:
        left.loss = "cross_entropy" if classes else "mse"
    first = x.reshape(-1, widths[0])[0] if x.size % widths[0] == 0 else None
    if first is None:
        raise ApiError(422, f"x has {x.size} numbers, but the model takes {widths[0]} inputs")
    target = np.asarray(y).reshape(-1)
    y = target[:1].astype(np.int64) if left.loss == "cross_entropy" else target[:widths[-1]]
    if left.loss == "mse" and y.size != widths[-1]:
        raise ApiError(422, f"y has {target.size} numbers, but the model has {widths[-1]} outputs")
    if left.loss == "cross_entropy" and not 0 <= y[0] < widths[-1]:
        raise ApiError(422, f"y's class {y[0]} is not one of the model's {widths[-1]} outputs")
    return first, y


def _tape_sample(document: dict) -> tuple[np.ndarray, np.ndarray, bool]:
    """The first layer's input and the loss's target, as the tape recorded them."""
    first = document["forward"][0]
    loss = next(step for step in document["forward"] if step["kind"] == "loss")
    x = next(item for item in first["inputs"] if item.get("role") == "input")["values"]
    target = next((item for item in loss["inputs"] if item.get("role") == "target"), None)
    if target is None:
        raise ApiError(422, "the step-through needs a sample: leave x and y (an input and its target) beside model")
    y = np.asarray(target["values"])
    return np.asarray(x, dtype=np.float64), y, document["loss"]["name"] == "cross_entropy"


# --- the other views ------------------------------------------------------------------------------


def _left(runner: CodeRunner, example: str) -> Left:
    run = runner.get(example.removeprefix(PREFIX))
    if run.state != "finished":
        raise ApiError(422, f"run {run.id} has not finished normally ({run.state}): its results are not there")
    return run.left


def network(runner: CodeRunner, example: str) -> stepper.Network:
    """A fresh copy of the network ``example`` (``"code:<id>"``) left, for the step-through."""
    left = _left(runner, example)
    if left.architecture is None:
        raise ApiError(422, f"run {example.removeprefix(PREFIX)} left no model the step-through can show "
                            "(leave model, x and y: a network of linear layers and activations)")
    return left.network()


def scalar_document(runner: CodeRunner, example: str) -> dict:
    """The step document the scalar view splits: the program's tape, else one pass of its network."""
    left = _left(runner, example)
    if left.document is not None:
        return left.document
    return network(runner, example).run().document


def training_start(runner: CodeRunner, run_id: str) -> tuple[gg.nn.Module, tuple[int, ...], str]:
    """The learner's model to train (float32), its hidden widths and its activation; 422 for another shape."""
    left = _left(runner, PREFIX + run_id)
    hidden, activation = _training_shape(left, run_id)
    return left.network().model, hidden, activation


def _training_shape(left: Left, run_id: str) -> tuple[tuple[int, ...], str]:
    """The hidden widths and activation of a model Train can start from; 422 (the reason) for any other."""
    if left.architecture is None:
        raise ApiError(422, f"from_code: run {run_id} left no model to train (leave model: linear layers and "
                            "activations)")
    layers = left.architecture["model"].get("layers", [])
    kinds = [layer["type"] for layer in layers]
    activations = {kind.lower() for kind in kinds[1::2]}
    alternating = kinds[::2] == ["Linear"] * len(kinds[::2]) and len(kinds) % 2 == 1
    if not alternating or len(activations) > 1 or not activations <= set(bridge.ACTIVATIONS):
        raise ApiError(422, "from_code: Train starts from a Sequential of Linear layers with one activation "
                            f"({', '.join(bridge.ACTIVATIONS)}) between them; this model is {', '.join(kinds)}")
    hidden = tuple(layer["out_features"] for layer in layers[:-1:2])
    if len(hidden) > training.MAX_HIDDEN_LAYERS or max(hidden, default=0) > training.MAX_HIDDEN_WIDTH:
        raise ApiError(422, f"from_code: Train takes at most {training.MAX_HIDDEN_LAYERS} hidden layers of at most "
                            f"{training.MAX_HIDDEN_WIDTH} neurons; this model's hidden widths are {list(hidden)}")
    return hidden, activations.pop() if activations else "relu"


def _trainable(left: Left, run_id: str) -> bool:
    """Whether the Train view can start from this model: Train's shape, and two inputs (its data sets are 2-D)."""
    try:
        _training_shape(left, run_id)
    except ApiError:
        return False
    return left.architecture["model"]["layers"][0].get("in_features") == 2
