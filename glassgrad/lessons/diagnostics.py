"""Diagnostics for any training run: is every layer learning, and at a sensible speed?

:class:`Diagnostics` is a :class:`glassgrad.training.Callback`; give it to ``gg.fit`` and it
records, for every layer that has a weight matrix (each ``Linear``), at every step:

* the **gradient norm** ``‖∂L/∂W‖`` — a layer whose gradient is thousands of times smaller
  than the others' has a *vanishing* gradient, one that keeps growing an *exploding* one;
* the **update-to-weight ratio** ``‖ΔW‖ / ‖W‖`` of the optimizer's step — around 1e-3 is
  the usual healthy value; 1e-6 means the layer barely moves, 1e-1 that it lurches;
* for every ``ReLU`` the **dead fraction**: units that output 0 for every sample of the
  batch, so no gradient flows through them.

>>> import glassgrad as gg
>>> data = gg.data.make_moons(n_samples=64, seed=0)
>>> model = gg.nn.mlp([2, 8, 2], seed=0)
>>> diagnostics = Diagnostics()
>>> _ = gg.fit(model, gg.nn.CrossEntropyLoss(), gg.optim.SGD(model.parameters(), lr=0.1),
...            gg.data.DataLoader(data, batch_size=64), epochs=3, callbacks=[diagnostics], progress=False)
>>> list(diagnostics.grad_norms), len(diagnostics.loss)
(['0', '2'], 3)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..nn import ReLU
from ..training import Callback


def _norm(values: np.ndarray) -> float:
    flat = values.reshape(-1).astype(np.float64)
    return math.sqrt(float(np.dot(flat, flat)))


class Diagnostics(Callback):
    """Record per-layer gradient norms, update-to-weight ratios and dead-ReLU fractions during ``gg.fit``.

    ``every`` records one step in that many (1: every step). After training, ``steps``,
    ``loss``, and the dicts ``grad_norms``, ``update_ratios`` (layer name → list per recorded
    step) and ``dead_fraction`` (ReLU name → list) hold the numbers; :meth:`plot` draws them.
    """

    def __init__(self, every: int = 1) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"Diagnostics: every must be a positive integer (record one step in N), got {every!r}")
        self.every = every
        self.steps: list[int] = []
        self.loss: list[float] = []
        self.grad_norms: dict[str, list[float]] = {}
        self.update_ratios: dict[str, list[float]] = {}
        self.dead_fraction: dict[str, list[float]] = {}
        self._layers: list[tuple[str, Any]] = []
        self._hooks: list[Any] = []
        self._latest_dead: dict[str, float] = {}
        self._before: dict[str, np.ndarray] = {}
        self._order: dict[str, int] = {}  # each module's position in the model: the table lists layers in it

    # --- the callback -----------------------------------------------------------------------

    def on_train_begin(self, state: Any) -> None:
        self.on_train_end(state)  # hooks an interrupted earlier run left behind
        self._order = {name: position for position, (name, _) in enumerate(state.model.named_modules())}
        self._layers = [(name, module.weight) for name, module in state.model.named_modules()
                        if getattr(getattr(module, "weight", None), "ndim", 0) == 2]
        for name, _ in self._layers:
            self.grad_norms.setdefault(name, [])
            self.update_ratios.setdefault(name, [])
        for name, module in state.model.named_modules():
            if isinstance(module, ReLU):
                self.dead_fraction.setdefault(name, [])
                self._hooks.append(module.register_forward_hook(self._dead_units(name)))

    def _dead_units(self, name: str):
        def record(module: Any, inputs: tuple, output: Any) -> None:
            active = output.array.reshape(-1, output.shape[-1]) > 0
            self._latest_dead[name] = 1.0 - float(active.any(axis=0).mean())

        return record

    def on_after_backward(self, state: Any) -> None:
        if state.step % self.every:
            return
        for name, weight in self._layers:
            grad = weight.grad
            self.grad_norms[name].append(_norm(grad.array) if grad is not None else 0.0)
            self._before[name] = weight.array.copy()
        for name, fraction in self._latest_dead.items():
            self.dead_fraction[name].append(fraction)

    def on_batch_end(self, state: Any) -> None:
        if state.step % self.every:
            return
        self.steps.append(state.step)
        self.loss.append(state.batch_loss)
        for name, weight in self._layers:
            before = self._before.pop(name)
            size = _norm(before)
            self.update_ratios[name].append(_norm(weight.array - before) / size if size > 0 else math.inf)

    def on_train_end(self, state: Any) -> None:
        for handle in self._hooks:
            handle.remove()
        self._hooks.clear()

    # --- reading the record -----------------------------------------------------------------------

    def table(self) -> dict:
        """One row per layer: last gradient norm, median update ratio, last dead fraction (a document table)."""
        rows = []
        for name in self.grad_norms:
            norms, ratios = self.grad_norms[name], self.update_ratios[name]
            rows.append((name, [f"{name} (weights)", norms[-1] if norms else None,
                                float(np.median(ratios)) if ratios else None]))
        rows += [(name, [f"{name} (ReLU)", None, None, values[-1] if values else None])
                 for name, values in self.dead_fraction.items()]
        rows = [row for _, row in sorted(rows, key=lambda item: self._order.get(item[0], len(self._order)))]
        return {"title": "Diagnostics per layer", "intro": f"{len(self.steps)} recorded steps",
                "columns": ["layer", "last ‖∂L/∂W‖", "median ‖ΔW‖/‖W‖", "dead ReLU fraction"],
                "rows": [row + [None] * (4 - len(row)) for row in rows]}

    def plot(self, title: str = "training diagnostics") -> Any:
        """A matplotlib Figure with three panels: gradient norms, update ratios, dead ReLU fractions."""
        from matplotlib.figure import Figure

        figure = Figure(figsize=(12, 3.6))
        axes = figure.subplots(1, 3)
        figure.subplots_adjust(left=0.06, right=0.99, bottom=0.15, top=0.83, wspace=0.3)
        for name, norms in self.grad_norms.items():
            axes[0].plot(self.steps[:len(norms)], np.maximum(norms, 1e-30), label=f"layer {name}")
        axes[0].set(yscale="log", xlabel="step", ylabel="‖∂L/∂W‖", title="gradient norm per layer")
        for name, ratios in self.update_ratios.items():
            axes[1].plot(self.steps[:len(ratios)], np.maximum(ratios, 1e-30), label=f"layer {name}")
        axes[1].axhline(1e-3, color="grey", linestyle="--", linewidth=1, label="1e-3 (typical)")
        axes[1].set(yscale="log", xlabel="step", ylabel="‖ΔW‖ / ‖W‖", title="update-to-weight ratio")
        for name, fractions in self.dead_fraction.items():
            axes[2].plot(self.steps[:len(fractions)], fractions, label=f"ReLU {name}")
        axes[2].set(ylim=(-0.05, 1.05), xlabel="step", ylabel="fraction of units", title="dead ReLU units")
        for axis in axes:
            if axis.get_legend_handles_labels()[0]:
                axis.legend(fontsize=7)
        figure.suptitle(title)
        return figure
