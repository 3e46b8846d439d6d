"""``StepThrough``: the playground's step-through of your own model, in a notebook cell.

The front end is the page's own (``static/step_markup.js``, ``step.js``, ``diagram.js`` and
``app.css``), bundled with the entry ``static/widget.js`` into ``static/build/stepthrough.js``.
It asks for views as the page asks the server, ``/api/step`` with ``{lr, actions}`` and
``/api/step/explain`` with a ``cell`` as well, but as widget messages; :meth:`StepThrough.answer`
replies with what the server replies, from the same functions:
``Walkthrough.of(network, actions, lr, title).view()`` and ``explain(walk, cell)``.

Every request replays the actions (``"f b b u"``) on a fresh copy of the model as it was when the
widget was made: Update moves the copy's weights (``W ← W − η·∂L/∂W``), never yours, and the
numbers shown are always those of the steps listed.

>>> model = gg.nn.Sequential(gg.nn.Linear(2, 3), gg.nn.Tanh(), gg.nn.Linear(3, 1))   # doctest: +SKIP
>>> StepThrough(model, gg.tensor([0.5, -1.0]), gg.tensor([1.0]), loss="mse")          # doctest: +SKIP
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

import glassgrad as gg
from glassgrad.arguments import counted
from glassgrad.compiler.optimized_module import original_module
from glassgrad.playground import bridge
from glassgrad.playground.display import json_safe, texts
from glassgrad.playground.explain import explain
from glassgrad.playground.safety import LR_RANGE, ApiError, Fields, lr_rule
from glassgrad.playground.stepper import Network, Walkthrough, replay_settings

STATIC = Path(bridge.__file__).parent / "static"
BUNDLE = STATIC / "build" / "stepthrough.js"
MAX_WIDTH = 16  # neurons per layer: every number is drawn, so a layer must fit on the screen
MAX_LAYERS = 8
LOSS_NAMES = {"mse": "mse", "cross_entropy": "cross_entropy", "cross-entropy": "cross_entropy"}
LOSS_TITLES = {"mse": "MSE", "cross_entropy": "cross-entropy"}
LOSS_MODULES = {gg.nn.MSELoss: "mse", gg.nn.CrossEntropyLoss: "cross_entropy"}
FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


class StepThrough(anywidget.AnyWidget):
    """One sample through ``model`` (``nn.Linear`` layers and activations), a press at a time.

    ``x`` is one input (``[0.5, -1.0]`` or a batch of one, ``[[0.5, -1.0]]``); ``y`` its target:
    values for ``loss="mse"``, a class index for ``loss="cross_entropy"`` (``gg.nn.MSELoss()``,
    ``F.cross_entropy`` … name them too). ``lr`` is the η of Update. ``actions`` holds the steps
    taken (``f`` forward, ``b`` backward one layer, ``u`` update, edits such as ``W1[0,1]=0.5``).
    """

    _esm = traitlets.Unicode().tag(sync=True)
    _styles = traitlets.Unicode().tag(sync=True)  # the page's app.css, for the widget's shadow root
    _counting = traitlets.Unicode().tag(sync=True)
    _lr_rule = traitlets.Dict().tag(sync=True)  # the playground's learning rates: bounds, label, fix
    lr = traitlets.Float(0.1).tag(sync=True)
    actions = traitlets.Unicode("").tag(sync=True)

    def __init__(self, model: gg.nn.Module, x: Any, y: Any, loss: Any = "mse", lr: float = 0.1,
                 title: str = "Your network") -> None:
        key = loss_key(loss)
        model = original_module(model)  # a compiled model steps as its model: the widget's tape runs it eagerly
        dtype = model_dtype(model)
        check_layers(model)
        self._start_model = copy.deepcopy(model)  # Update moves a copy of this one, never the learner's model
        self._loss_key, self._view_title = key, title
        self._sample_x, self._sample_y = sample_input(x, dtype), sample_target(y, key, dtype)
        self._converted = converted(x, "x", self._sample_x) + converted(y, "y", self._sample_y)
        try:
            self._start_lr = Fields({"lr": lr}, labels={}).number("lr", 0.1, *LR_RANGE)  # Python's name
            check_target_size(self._start_model, self._sample_x, self._sample_y, key)
            walk = self.walkthrough("")
        except (ApiError, RuntimeError, ValueError) as error:  # the engine's and the view's one-line reasons
            raise ValueError(f"StepThrough: {getattr(error, 'message', error)}") from None
        check_size(walk.network)
        if not BUNDLE.exists():
            raise FileNotFoundError(f"StepThrough's script {BUNDLE.name} is not built: run `npm ci && npm run build` "
                                    "in glassgrad's frontend/ folder (pip install builds it too)")
        super().__init__(_esm=BUNDLE.read_text(encoding="utf-8"),
                         _styles=(STATIC / "app.css").read_text(encoding="utf-8"),
                         _counting=bridge.counting_note(), _lr_rule=lr_rule(), lr=self._start_lr)
        self.on_msg(self._on_message)

    def walkthrough(self, actions: str, lr: float | None = None) -> Walkthrough:
        """The actions replayed on a fresh copy of the model (the server's replay, for this model)."""
        network = Network(copy.deepcopy(self._start_model), self._loss_key, self._sample_x.copy(),
                          self._sample_y.copy())
        x = ", ".join(texts(self._sample_x, signed=False))  # the page's rule: rounded as every number it shows
        y = ", ".join(texts(self._sample_y, signed=False))
        about = (f"Your model on one sample: x = [{x}], target y = [{y}], loss {LOSS_TITLES[self._loss_key]}. "
                 f"{self._converted}The widget steps through a copy: your model's weights stay as they are.")
        return Walkthrough.of(network, actions, self._start_lr if lr is None else lr, self._view_title,
                              description=about)

    def answer(self, path: str, body: Any) -> dict:
        """What the server answers at ``path`` for ``body``, for this model (an ``ApiError`` names a problem)."""
        fields = Fields(body)
        cell = fields.text("cell", "", 40) if path == "/api/step/explain" else None
        lr, actions = replay_settings(fields)  # as the server reads them
        fields.finish()
        if path not in ("/api/step", "/api/step/explain"):
            raise ApiError(404, f"{path!r} is not a step-through request")
        walk = self.walkthrough(" ".join(actions), lr)
        return walk.view() if cell is None else explain(walk, cell)

    def _on_message(self, widget: Any, content: Any, buffers: Any) -> None:
        """A request from the front end: ``{id, path, body}`` → ``{id, data}`` or ``{id, error}`` (one line)."""
        request = content if isinstance(content, dict) else {}
        try:
            reply = {"data": json_safe(self.answer(str(request.get("path")), request.get("body")))}
        except ApiError as error:
            reply = {"error": error.message}
        self.send({"id": request.get("id"), **reply})


def loss_key(loss: Any) -> str:
    """``"mse"`` or ``"cross_entropy"`` (``bridge.LOSSES``'s keys) for a name, a loss function or a loss module."""
    if isinstance(loss, str) and loss in LOSS_NAMES:
        return LOSS_NAMES[loss]
    for key, function in bridge.LOSSES.items():
        if loss is function:
            return key
    if type(loss) in LOSS_MODULES and getattr(loss, "reduction", "mean") == "mean":
        return LOSS_MODULES[type(loss)]
    if isinstance(loss, type) and loss in LOSS_MODULES:  # the class itself, as nn.MSELoss for nn.MSELoss()
        raise ValueError(f"StepThrough: loss=gg.nn.{loss.__name__} is the class; pass a loss module, "
                         f"loss=gg.nn.{loss.__name__}()")
    raise ValueError(f'StepThrough: loss={loss!r} is not one it steps through; use loss="mse" or '
                     f'loss="cross_entropy" (the mean over the sample, as the playground)')


def model_dtype(model: Any) -> np.dtype:
    """The dtype of ``model``'s parameters: float32 or float64, one for all."""
    if not isinstance(model, gg.nn.Module):
        kind = type(model)
        got = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        raise TypeError(f"StepThrough steps through a glassgrad nn.Module such as gg.nn.Sequential(gg.nn.Linear(2, 3), "
                        f"gg.nn.ReLU(), gg.nn.Linear(3, 1)); got {got}")
    dtypes = {parameter.array.dtype for parameter in model.parameters()}
    if not dtypes:
        raise ValueError("StepThrough: the model has no parameters; it needs at least one nn.Linear")
    if len(dtypes) > 1 or not dtypes <= set(FLOATS):
        names = ", ".join(sorted(dtype.name for dtype in dtypes))
        raise ValueError(f"StepThrough steps through float32 or float64 models; this one's parameters are {names}: "
                         "call model.float() or model.double() first")
    return dtypes.pop()


def check_layers(model: gg.nn.Module) -> None:
    """Every parameter is an ``nn.Linear``'s, and trainable: the view draws each weight, its gradient and its update.

    A layer of another kind (Conv2d, BatchNorm, LayerNorm, Embedding …) would fail inside its own forward with a
    reason about batches or image shapes; a frozen parameter has no gradient to draw. Both are named here instead.
    """
    for name, module in model.named_modules():
        owns_parameters = any(parameter is not None for parameter in module._parameters.values())
        if owns_parameters and not isinstance(module, gg.nn.Linear):
            where = f"the layer named {name!r}" if name else "the model"
            raise ValueError(f"StepThrough shows linear layers and activations; {type(module).__name__} ({where}) "
                             "is another kind of layer: step through a model of nn.Linear layers and activations only")
    frozen = [name for name, parameter in model.named_parameters() if not parameter.requires_grad]
    if frozen:
        verb = "does" if len(frozen) == 1 else "do"
        raise ValueError(f"StepThrough shows every weight's gradient, and {', '.join(frozen)} {verb} not require grad "
                         "(frozen): call model.requires_grad_(True) first, or step through an unfrozen copy")


def _array(value: Any, name: str) -> np.ndarray:
    """``value`` (a Tensor or array-like) as one sample's vector: one number, a vector or a batch of one row."""
    array = np.array(value.array if isinstance(value, gg.Tensor) else value)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"StepThrough: {name} must hold numbers, got {array.dtype} values")
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim == 2 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 1:
        raise ValueError(f"StepThrough shows one sample: {name} has shape {tuple(array.shape)}; pass one row, "
                         f"e.g. {name}[0]")
    return array


def sample_input(x: Any, dtype: np.dtype) -> np.ndarray:
    """``x`` as one sample (a vector) of the model's dtype."""
    array = _array(x, "x").astype(dtype)
    if not np.all(np.isfinite(array)):
        raise ValueError("StepThrough: x holds NaN or ∞; give finite numbers")
    return array


def sample_target(y: Any, loss: str, dtype: np.dtype) -> np.ndarray:
    """``y`` as the target of one sample: a value per output (MSE), or one class index (cross-entropy)."""
    array = _array(y, "y")
    if loss in bridge.CLASS_TARGETS:
        if array.dtype.kind not in "iu" or array.size != 1:
            raise ValueError("StepThrough: cross-entropy's target is one class index (an integer), "
                             "e.g. y = gg.tensor([2])")
        return array.astype(np.int64)
    if not np.all(np.isfinite(array)):
        raise ValueError("StepThrough: y holds NaN or ∞; give finite numbers")
    return array.astype(dtype)


def converted(value: Any, name: str, sample: np.ndarray) -> str:
    """What the widget did to ``value`` (a tensor or array) to step it through as ``sample`` (the model's dtype; a
    class index as int64), said in its description: PyTorch's layers refuse an input of another dtype, the widget
    converts it, and the learner reads that it did, and whether a number changed (float64 → float32 rounds).
    ``""`` when the dtype is the sample's, or for Python numbers (made the model's dtype, as ``gg.tensor`` makes them
    its default)."""
    if not isinstance(value, (gg.Tensor, np.ndarray)):
        return ""
    given = value.array if isinstance(value, gg.Tensor) else value
    if given.dtype == sample.dtype:
        return ""
    exact = np.array_equal(sample.astype(given.dtype).reshape(-1), given.reshape(-1))
    return (f"{name} came as {given.dtype.name} numbers and is stepped through as {sample.dtype.name}"
            f"{'' if exact else ', rounded to it'}. ")


def check_target_size(model: gg.nn.Module, x: np.ndarray, y: np.ndarray, loss: str) -> None:
    """For MSE, one target per output: ``y.size`` equals the last dim of ``model(x)`` (run once, without grad).

    The loss's own reason for a mismatch advises a reshape, which cannot help one sample's target.
    """
    if loss in bridge.CLASS_TARGETS:
        return
    with gg.no_grad():
        outputs = model(gg.tensor(x[None, :])).shape[-1]
    if y.size != outputs:
        raise ValueError(f"y holds {counted(y.size, 'value')} and the model gives {counted(outputs, 'output')}: "
                         f"give one target per output, e.g. y = {[1.0] * outputs}")


def check_size(network: Network) -> None:
    """Every number is drawn: at most ``MAX_LAYERS`` layers of at most ``MAX_WIDTH`` neurons each."""
    layers = network.layers
    if len(layers) > MAX_LAYERS:
        raise ValueError(f"StepThrough shows every number: at most {MAX_LAYERS} layers, and this model has "
                         f"{len(layers)}; step through a smaller model")
    for number, layer in enumerate(layers, 1):
        out, into = layer[0].shape
        if max(out, into) > MAX_WIDTH:
            raise ValueError(f"StepThrough shows every number: at most {MAX_WIDTH} neurons a layer, and layer "
                             f"{number} is {into}→{out}; step through a smaller model")
