"""Build multilayer perceptrons by their sizes, and describe a model as plain JSON data.

* :func:`mlp` — ``mlp([64, 128, 10])`` is ``Linear(64, 128) → ReLU → Linear(128, 10)``, with
  optional batch normalization, dropout and skip connections.
* :func:`architecture` — a JSON-serialisable ``dict`` describing a model made of known
  layers (what ``gg.save`` stores next to the weights).
* :func:`from_architecture` — rebuilds the model from that ``dict`` (fresh weights, or the
  saved ``state_dict``, checked against the description *before* anything is built, so a
  description that lies about its sizes cannot make it allocate gigabytes).

>>> import glassgrad as gg
>>> model = gg.nn.mlp([4, 3, 4], seed=0)
>>> [layer["type"] for layer in gg.nn.architecture(model)["model"]["layers"]]
['Linear', 'ReLU', 'Linear']
>>> gg.nn.from_architecture(gg.nn.architecture(model)).num_parameters()
31
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..arguments import resolve_dtype
from . import activation, padding
from .adaptive_max_pooling import AdaptiveMaxPool1d, AdaptiveMaxPool2d, AdaptiveMaxPool3d
from .container import Residual, Sequential
from .conv import Conv1d, Conv2d, Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .dropout import Dropout, Dropout2d, _check_probability
from .embedding import Embedding, EmbeddingBag
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear, check_size
from .lp_pooling import LPPool1d, LPPool2d, LPPool3d
from .module import Module
from .normalization import (
    BatchNorm1d,
    BatchNorm2d,
    BatchNorm3d,
    GroupNorm,
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
    LayerNorm,
    RMSNorm,
)
from .pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveAvgPool3d,
    AvgPool1d,
    AvgPool2d,
    AvgPool3d,
    MaxPool1d,
    MaxPool2d,
    MaxPool3d,
)
from .rearrange import ChannelShuffle, PixelShuffle, PixelUnshuffle
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

PADDING_LAYERS = [layer for layer in vars(padding).values() if isinstance(layer, type) and issubclass(layer, Module)
                  and not layer.__name__.startswith("_")]

FORMAT_VERSION = 1
"""Version of the architecture description; a newer one is refused with a clear message."""

ACTIVATION_LAYERS = [layer for layer in vars(activation).values() if isinstance(layer, type)
                     and issubclass(layer, Module) and layer.__module__ == activation.__name__
                     and not layer.__name__.startswith("_")]
"""Every layer of :mod:`.activation` (a new activation layer can be saved with no change here)."""

WIDTH_KEEPING = [layer for layer in ACTIVATION_LAYERS if layer not in (activation.GLU, activation.Softmax2d)]
"""The activation layers an mlp can put between its linear layers: ``GLU`` halves the width, ``Softmax2d``
takes images."""

LAYERS: dict[str, type[Module]] = {
    cls.__name__: cls
    for cls in (Linear, *ACTIVATION_LAYERS, Identity, Flatten, Dropout, BatchNorm1d, LayerNorm, Sequential, Residual,
                Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Embedding, BatchNorm2d, Dropout2d,
                GroupNorm, RMSNorm, InstanceNorm1d, InstanceNorm2d, ConvTranspose1d, ConvTranspose2d, Unflatten,
                Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, *PADDING_LAYERS, MaxPool1d, AvgPool1d,
                AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, PixelShuffle, PixelUnshuffle,
                ChannelShuffle, EmbeddingBag, Conv3d, ConvTranspose3d, MaxPool3d, AvgPool3d, AdaptiveAvgPool3d,
                AdaptiveMaxPool3d, BatchNorm3d, InstanceNorm3d, LPPool1d, LPPool2d, LPPool3d)
}
"""The layers an architecture may contain, by name (each layer's settings come from its ``config()``)."""



def activation_name(layer: type[Module]) -> str:
    """A layer's name as :func:`mlp` takes it: its class name's words in snake case
    (``LeakyReLU`` → ``leaky_relu``, ``LogSoftmax`` → ``log_softmax``, ``SiLU`` → ``silu``)."""
    return re.sub(r"(?<=[a-z])(?=[A-Z][a-z])", "_", layer.__name__).lower()


ACTIVATION_NAMES: dict[str, type[Module]] = {activation_name(layer): layer for layer in WIDTH_KEEPING}
"""Every activation layer of :mod:`.activation` by name (``relu``, ``tanh``, ``gelu``, ``silu``, …)."""

ACTIVATIONS: dict[str, type[Module]] = ACTIVATION_NAMES | {"identity": Identity}
"""Activation names accepted by :func:`mlp`: the activation layers, and ``identity`` (none)."""


ALONG_FEATURES = ("softmax", "log_softmax", "softmin")
"""The activations taken along one dim: in an mlp, the features (dim −1 of a (batch, features) input)."""


def _activation(name: str, argument: str) -> Module:
    key = str(name).lower().replace("-", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"mlp: unknown {argument} {name!r}; choose one of {', '.join(ACTIVATIONS)}")
    return ACTIVATIONS[key](dim=-1) if key in ALONG_FEATURES else ACTIVATIONS[key]()


def mlp(sizes: Sequence[int], activation: str = "relu", batch_norm: bool = False, dropout: float = 0.0,
        residual: bool = False, final_activation: str | None = None, seed: int | None = None) -> Sequential:
    """A multilayer perceptron as a :class:`Sequential`: ``sizes = [inputs, hidden…, outputs]``.

    Each hidden layer is ``Linear → [BatchNorm1d] → activation → [Dropout(dropout)]``; the last
    is a plain ``Linear`` (raw scores for ``CrossEntropyLoss``), then ``final_activation`` if
    given. With ``residual=True`` every hidden layer as wide as its input is wrapped in a
    skip connection, ``x + block(x)`` (so ``[64, 128, 128, 10]`` gets one, around 128→128).
    ``seed`` makes the initial weights (and dropout masks) repeat exactly; without it they
    come from glassgrad's generator (:func:`glassgrad.manual_seed`). ``activation`` and
    ``final_activation`` are names of :data:`ACTIVATIONS` (every layer of :mod:`.activation`).
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list at least 2 layer sizes, e.g. [64, 128, 10], got {sizes!r}")
    sizes = [check_size(size, "every size", "mlp") for size in sizes]
    _activation(activation, "activation")
    if final_activation is not None:
        _activation(final_activation, "final_activation")
    if residual and not any(fan_in == fan_out for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1])):
        raise ValueError(f"mlp: residual=True needs a hidden layer as wide as its input, so that x + block(x) "
                         f"fits (e.g. [64, 128, 128, 10]); got sizes {sizes}")
    if dropout:
        _check_probability(dropout)
    rng = np.random.default_rng(seed) if seed is not None else None
    layers: list[Module] = []
    for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1]):
        block: list[Module] = [Linear(fan_in, fan_out, generator=rng)]
        if batch_norm:
            block.append(BatchNorm1d(fan_out))
        block.append(_activation(activation, "activation"))
        if residual and fan_in == fan_out:
            block = [Residual(Sequential(*block))]
        layers.extend(block)
        if dropout:
            layers.append(Dropout(dropout, generator=rng))
    layers.append(Linear(sizes[-2], sizes[-1], generator=rng))
    if final_activation is not None:
        layers.append(_activation(final_activation, "final_activation"))
    return Sequential(*layers)


def _describe_layer(layer: Module, where: str) -> dict[str, Any]:
    kind = type(layer).__name__
    if LAYERS.get(kind) is not type(layer):
        raise ValueError(
            f"architecture: cannot describe {where} of type {kind}: only the built-in layers ({', '.join(LAYERS)}) "
            "can be saved as an architecture. Save model.state_dict() and rebuild the model in code instead."
        )
    if isinstance(layer, Sequential):
        names = [name for name, _ in layer.named_children()]
        layers = [_describe_layer(child, f"{where}[{name}]") for name, child in layer.named_children()]
        if names == [str(i) for i in range(len(names))]:
            return {"type": kind, "layers": layers}
        return {"type": kind, "layers": layers, "names": names}  # Sequential(OrderedDict(...)): its own names
    if isinstance(layer, Residual):
        return {"type": kind, "block": _describe_layer(layer.block, f"{where}.block")}
    return {"type": kind, **layer.config()}


def architecture(model: Module) -> dict[str, Any]:
    """A JSON-serialisable description of ``model`` (built-in layers, nested Sequential/Residual).

    ``{"glassgrad_architecture": 1, "dtype": "float32", "model": {"type": "Sequential",
    "layers": [{"type": "Linear", "in_features": 4, "out_features": 3, "bias": true}, …]}}``

    A ``Sequential`` built from an ``OrderedDict`` also lists its layers' ``"names"`` (the
    state dict's ``encoder.weight``, not ``0.weight``), so its weights still fit the description.
    """
    dtypes = [p.array.dtype for p in model.parameters() if p.array.dtype.kind == "f"]
    return {
        "glassgrad_architecture": FORMAT_VERSION,
        "dtype": str(dtypes[0]) if dtypes else "float32",
        "model": _describe_layer(model, "the model"),
    }


def _parts(description: Any, where: str) -> tuple[str, dict[str, Any], list[tuple[str, Any]] | None]:
    """A layer description checked and split: its type, its settings, and for a container its
    children as (name in the state dict, description) — None for a leaf layer."""
    if not isinstance(description, Mapping) or "type" not in description:
        raise ValueError(f"from_architecture: {where} must be a dict with a 'type' key, got {description!r}")
    settings = dict(description)
    kind = settings.pop("type")
    if kind not in LAYERS:
        raise ValueError(f"from_architecture: unknown layer type {kind!r} at {where}; known types: {', '.join(LAYERS)}")
    if kind == "Sequential":
        layers = settings.pop("layers", None)
        names = settings.pop("names", None)
        if not isinstance(layers, list) or settings:
            raise ValueError(f"from_architecture: Sequential at {where} needs exactly a 'layers' list "
                             "(and, for named layers, a 'names' list)")
        if names is None:
            names = [str(i) for i in range(len(layers))]
        elif (not isinstance(names, list) or len(names) != len(layers) or len(set(names)) != len(names)
              or not all(isinstance(name, str) and name and "." not in name for name in names)):
            raise ValueError(f"from_architecture: Sequential at {where} needs one distinct name without a '.' "
                             f"per layer in 'names', got {names!r}")
        return kind, settings, list(zip(names, layers))
    if kind == "Residual":
        if set(settings) != {"block"}:
            raise ValueError(f"from_architecture: Residual at {where} needs exactly a 'block' entry")
        return kind, settings, [("block", settings["block"])]
    return kind, settings, None


def _child_where(kind: str, where: str, name: str) -> str:
    return f"{where}.layers[{name}]" if kind == "Sequential" else f"{where}.block"


def _build_layer(description: Any, where: str) -> Module:
    kind, settings, children = _parts(description, where)
    if children is not None:
        built = {name: _build_layer(child, _child_where(kind, where, name)) for name, child in children}
        if kind == "Residual":
            return Residual(built["block"])
        try:
            return Sequential(built)
        except KeyError as error:  # a name Sequential itself holds ('training', 'forward'), as in PyTorch
            raise ValueError(f"from_architecture: cannot name a layer of the Sequential at {where} so: "
                             f"{error.args[0]}") from None
    try:
        return LAYERS[kind](**settings)
    except (TypeError, ValueError) as error:
        raise ValueError(f"from_architecture: cannot build {kind} at {where} from {settings}: {error}") from None


def _leaf_state(kind: str, settings: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The parameters and buffers, by name and shape, that a leaf layer built from ``settings``
    holds, computed without building it for the layers that can be large (the layers' constructors define
    these; a test checks that both agree for every layer type)."""
    if kind == "Linear":
        fan_in = check_size(settings["in_features"], "in_features", "Linear")
        fan_out = check_size(settings["out_features"], "out_features", "Linear")
        return {"weight": (fan_out, fan_in), **({"bias": (fan_out,)} if settings.get("bias", True) else {})}
    if kind in ("Conv1d", "Conv2d", "Conv3d"):
        layer = LAYERS[kind]
        channels = [check_size(settings[name], name, kind) for name in ("in_channels", "out_channels")]
        groups = check_size(settings.get("groups", 1), "groups", kind)
        kernel = settings["kernel_size"]
        kernel = [kernel] * layer.dims if isinstance(kernel, (int, np.integer)) else list(kernel)
        kernel = tuple(check_size(k, "kernel_size", kind) for k in kernel)
        weight = (channels[1], channels[0] // groups, *kernel)
        return {"weight": weight, **({"bias": (channels[1],)} if settings.get("bias", True) else {})}
    if kind in ("Embedding", "EmbeddingBag"):
        return {"weight": (check_size(settings["num_embeddings"], "num_embeddings", kind),
                           check_size(settings["embedding_dim"], "embedding_dim", kind))}
    if kind in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
        size = (check_size(settings["num_features"], "num_features", kind),)
        state = {"weight": size} if settings.get("affine", True) else {}
        if settings.get("affine", True) and settings.get("bias", True):
            state["bias"] = size
        if settings.get("track_running_stats", True):
            state.update(running_mean=size, running_var=size, num_batches_tracked=())
        return state
    if kind == "LayerNorm":
        shape = settings["normalized_shape"]
        shape = tuple(check_size(n, "normalized_shape", "LayerNorm")
                      for n in ([shape] if isinstance(shape, (int, np.integer)) else shape))
        if not settings.get("elementwise_affine", True):
            return {}
        return {"weight": shape, **({"bias": shape} if settings.get("bias", True) else {})}
    # the other layers are small or rare: build one and read its entries
    return {name: tuple(value.shape) for name, value in LAYERS[kind](**settings).state_dict().items()}


def _expected_state(description: Any, where: str, prefix: str) -> dict[str, tuple[int, ...]]:
    """Every state-dict entry (dotted name → shape) that the described model will hold."""
    kind, settings, children = _parts(description, where)
    if children is not None:
        state: dict[str, tuple[int, ...]] = {}
        for name, child in children:
            state.update(_expected_state(child, _child_where(kind, where, name), f"{prefix}{name}."))
        return state
    try:
        return {prefix + name: shape for name, shape in _leaf_state(kind, settings).items()}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"from_architecture: cannot build {kind} at {where} from {settings}: {error}") from None


def _check_state(expected: dict[str, tuple[int, ...]], state_dict: Mapping[str, Any]) -> None:
    """Raise a ValueError naming the first entry where ``state_dict`` differs from what the description implies."""
    problem = None
    for name, shape in expected.items():
        stored = tuple(getattr(state_dict[name], "shape", ())) if name in state_dict else None
        if stored is None:
            problem = f"missing {name!r}, shape {shape}"
        elif stored != shape:
            problem = f"size mismatch for {name!r}: the architecture says {shape}, the stored tensor has {stored}"
        if problem:
            break
    else:
        extra = [name for name in state_dict if name not in expected]
        problem = f"unexpected {extra[0]!r}" if extra else None
    if problem:
        raise ValueError(f"from_architecture: the weights do not fit its architecture ({problem}); the "
                         "description and the weights must come from the same model")


def from_architecture(description: Mapping[str, Any], state_dict: Mapping[str, Any] | None = None) -> Module:
    """Rebuild the model that :func:`architecture` described, with fresh weights or ``state_dict``.

    With ``state_dict`` (e.g. ``gg.load(path)["model"]``), every entry's name and shape is
    checked against what the description implies *before* any layer is built, then loaded.
    Unknown layer types, missing or extra settings, sizes that disagree with the weights and
    descriptions from a newer glassgrad raise ``ValueError`` naming the place.
    """
    if not isinstance(description, Mapping) or "model" not in description:
        raise ValueError("from_architecture: expected the dict made by gg.nn.architecture(model), "
                         f"with a 'model' entry; got {type(description).__name__}")
    version = description.get("glassgrad_architecture", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"from_architecture: this description has format version {version!r}, but this "
                         f"glassgrad reads version {FORMAT_VERSION}; upgrade glassgrad to load it")
    name = description.get("dtype", "float32")
    try:
        dtype = resolve_dtype(name)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise ValueError(f"from_architecture: unknown dtype {name!r} (expected 'float32' or 'float64')")
    if state_dict is not None:
        _check_state(_expected_state(description["model"], "model", ""), state_dict)
    model = _build_layer(description["model"], "model")
    if dtype != np.float32:
        model.to(dtype)
    if state_dict is not None:
        model.load_state_dict(state_dict)
    return model
