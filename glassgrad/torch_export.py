"""Graduating to PyTorch: the PyTorch source of a saved glassgrad model, and its weights as PyTorch names them.

A model's architecture (:func:`glassgrad.nn.architecture`) names PyTorch's layers with PyTorch's
arguments (``Linear(in_features=4, out_features=3, bias=True)``), so its PyTorch source is the
same description written as code. Its state dict has PyTorch's names too (``0.weight``,
``1.running_mean``), so what ``gg.save(model.state_dict(), path)`` writes loads with
``model.load_state_dict(safetensors.torch.load_file(path))`` as it is: the tensors sit at the
top level of the file, and glassgrad's own entries live in the header's metadata, which
PyTorch's loader ignores. A checkpoint (``{"model": ..., "architecture": ..., ...}``, what
``glassgrad train --save`` writes) holds the model's tensors under ``model.``; the source
printed for it strips that prefix when it loads them. A ``Sequential`` built from an ``OrderedDict``
keeps its layers' names (``encoder.weight``): the source builds ``nn.Sequential(OrderedDict([...]))``.

>>> import glassgrad as gg
>>> model = gg.nn.Sequential(gg.nn.Linear(4, 3), gg.nn.ReLU(), gg.nn.Linear(3, 2))
>>> print(torch_source(gg.nn.architecture(model), "model.safetensors", prefix=""))  # doctest: +ELLIPSIS
import torch
from safetensors.torch import load_file
from torch import nn
<BLANKLINE>
model = nn.Sequential(
    nn.Linear(in_features=4, out_features=3, bias=True),
    nn.ReLU(),
    nn.Linear(in_features=3, out_features=2, bias=True),
)
model.load_state_dict(load_file('model.safetensors'))
model.eval()
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .arguments import resolve_dtype

RESIDUAL_CLASS = '''

class Residual(nn.Module):
    """glassgrad's skip connection: x + block(x)."""

    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        return x + self.block(x)
'''
"""PyTorch has no layer for ``gg.nn.Residual``; the source defines one with the same state-dict names."""

INDENT = "    "


def _literal(value: Any) -> str:
    """``value`` (a number, string, bool, None or a list of them, as JSON holds them) as Python source:
    ``repr``, except that ±∞ and NaN, whose ``repr`` (``inf``) is no Python name, are written
    ``float('inf')`` (a ``ConstantPad1d(1, -float('inf'))`` before max pooling)."""
    if isinstance(value, float) and math.isnan(value):
        return "float('nan')"
    if isinstance(value, float) and math.isinf(value):
        return "float('inf')" if value > 0 else "-float('inf')"
    if isinstance(value, (list, tuple)):
        items = ", ".join(_literal(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    return repr(value)


def _argument_name(name: Any, kind: str) -> str:
    """A setting's name, refused unless it is a plain Python name: the source is run, and a checkpoint's
    description must not be able to write code into it (``nn.Identity`` takes any keyword)."""
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"torch_source: the {kind} layer's setting {name!r} is not a Python name; "
                         "this architecture was not written by gg.nn.architecture")
    return name


def _layer_source(description: Mapping[str, Any], depth: int) -> str:
    """One layer as PyTorch source: ``nn.Linear(in_features=4, …)``, containers over several lines."""
    settings = dict(description)
    kind = settings.pop("type")
    if kind == "Sequential":
        inner = INDENT * (depth + 1)
        if "names" in settings:  # Sequential(OrderedDict(...)): the same names, so the state dict's keys agree
            lines = [f"{inner}({name!r}, {_layer_source(layer, depth + 1)}),"
                     for name, layer in zip(settings["names"], settings["layers"])]
            return "nn.Sequential(OrderedDict([\n" + "\n".join(lines) + f"\n{INDENT * depth}]))"
        lines = [f"{inner}{_layer_source(layer, depth + 1)}," for layer in settings["layers"]]
        return "nn.Sequential(\n" + "\n".join(lines) + f"\n{INDENT * depth})"
    if kind == "Residual":
        return f"Residual({_layer_source(settings['block'], depth)})"
    arguments = ", ".join(f"{_argument_name(name, kind)}={_literal(value)}" for name, value in settings.items())
    return f"nn.{kind}({arguments})"


def _uses(description: Mapping[str, Any], found: Callable[[Mapping[str, Any]], bool]) -> bool:
    """Whether ``found`` holds for the layer ``description`` or any layer inside it."""
    if found(description):
        return True
    children = description.get("layers", []) + ([description["block"]] if "block" in description else [])
    return any(_uses(child, found) for child in children)


def torch_source(architecture: Mapping[str, Any], weights: str, prefix: str = "model.") -> str:
    """PyTorch source that builds the model ``architecture`` describes and loads its weights from ``weights``.

    ``prefix`` is where the model's tensors sit in that file (``"model."`` in a checkpoint, ``""``
    for a file holding the state dict alone).
    """
    model = architecture["model"]
    lines = ["import torch", "from safetensors.torch import load_file", "from torch import nn"]
    if _uses(model, lambda layer: layer.get("type") == "Sequential" and "names" in layer):
        lines.insert(0, "from collections import OrderedDict")
        lines.insert(1, "")
    if _uses(model, lambda layer: layer.get("type") == "Residual"):
        lines += [RESIDUAL_CLASS.rstrip("\n"), ""]  # PEP 8's two blank lines after a class
    lines += ["", f"model = {_layer_source(model, 0)}"]
    dtype = resolve_dtype(architecture.get("dtype", "float32"))  # NumPy's spelling: 'float' is float64, as here
    if dtype != np.float32:
        lines.append(f"model = model.to(torch.{dtype.name})")
    if prefix:
        lines += [f"weights = load_file({weights!r})",  # two lines, so that the source fits 80 columns
                  f"model.load_state_dict({{name[{len(prefix)}:]: tensor for name, tensor in weights.items()",
                  f"                       if name.startswith({prefix!r})}})"]
    else:
        lines.append(f"model.load_state_dict(load_file({weights!r}))")
    lines.append("model.eval()")
    return "\n".join(lines)
