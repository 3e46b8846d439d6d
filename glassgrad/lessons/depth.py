"""Depth: vanishing and exploding gradients, what fixes them, and gradient clipping.

Backprop multiplies one factor per layer on the way down: ``∂L/∂A_{k−1} = Wₖᵀ·(∂L/∂Aₖ ⊙ f'(Zₖ))``.
The sigmoid's derivative is at most 1/4, so through many sigmoid layers the gradient
shrinks geometrically and the first layers barely learn (*vanishing gradients*). ReLU's
derivative is 1 where it is active, but the weights matter too: PyTorch's default
initialisation (uniform in ±1/√fan_in, variance 1/(3·fan_in)) scales the signal's second
moment by fan_in · 1/(3·fan_in) · ½ = 1/6 per ReLU layer, so a deep ReLU net still fades.
He initialisation (normal, variance 2/fan_in) makes that factor 1. BatchNorm rescales each
layer's output to unit variance, and a residual connection ``x + block(x)`` adds an identity
path (``∂/∂x = 1 + …``) that carries the gradient past the block. Clipping (``clip_grad_norm_``)
caps the step when gradients spike (*exploding gradients*), so one bad batch cannot wreck
the weights.

>>> result = depth(layers=3, width=8, epochs=1, clip_epochs=1)
>>> sorted(result.data["architectures"])
['ReLU', 'ReLU + BatchNorm', 'ReLU + He init', 'ReLU + residual', 'sigmoid']
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..trace.numbers import rounded_text
from .experiments import Experiment, new_figure

ARCHITECTURES = {
    "sigmoid": {"activation": "sigmoid"},
    "ReLU": {},
    "ReLU + He init": {"he_init": True},
    "ReLU + BatchNorm": {"batch_norm": True},
    "ReLU + residual": {"residual": True},
}
"""The networks compared: options of :func:`glassgrad.nn.mlp`, and ``he_init`` (see :func:`network`)."""


def network(sizes: list[int], seed: int, he_init: bool = False, **options: Any) -> Any:
    """``gg.nn.mlp(sizes, seed=seed, **options)``; with ``he_init`` every weight is drawn again from
    ``N(0, 2/fan_in)`` (``kaiming_normal_`` for ReLU) and every bias set to 0."""
    from ..nn import Linear, init, mlp

    model = mlp(sizes, seed=seed, **options)
    if he_init:
        generator = np.random.default_rng(seed)
        for module in model.modules():
            if isinstance(module, Linear):
                init.kaiming_normal_(module.weight, nonlinearity="relu", generator=generator)
                init.zeros_(module.bias)
    return model


def layer_gradient_norms(model: Any, inputs: Any, targets: Any) -> list[float]:
    """``‖∂L/∂Wₖ‖`` for every weight matrix, first layer first, after one cross-entropy backward."""
    from ..nn.functional import cross_entropy

    model.zero_grad()
    cross_entropy(model(inputs), targets).backward()
    return [float(np.linalg.norm(module.weight.grad.array)) for _, module in model.named_modules()
            if getattr(getattr(module, "weight", None), "ndim", 0) == 2]


def _times(ratio: float) -> str:
    """A gradient ratio in words: ``0.031 times``."""
    return f"{rounded_text(ratio, 2, 'g')} times"


def depth(layers: int = 8, width: int = 32, epochs: int = 3, clip: float = 1.0, clip_lr: float = 1.0,
          clip_epochs: int = 3, seed: int = 0) -> Experiment:
    """Per-layer gradient norms of deep networks on the digits data, then training with and without clipping."""
    from ..data import DataLoader, load_digits
    from ..nn import CrossEntropyLoss
    from ..optim import SGD
    from ..training import fit
    from .diagnostics import Diagnostics

    if layers < 2:
        raise ValueError(f"depth: layers must be at least 2 hidden layers to compare depths, got {layers}")
    data = load_digits()
    inputs, targets = (t[:256] for t in data.tensors)
    sizes = [64] + [width] * layers + [10]
    figure, axes = new_figure(2)
    rows, found = [], {}
    for name, options in ARCHITECTURES.items():
        norms = layer_gradient_norms(network(sizes, seed, **options), inputs, targets)
        model = network(sizes, seed, **options)
        history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1),
                      DataLoader(data, batch_size=64, shuffle=True, seed=seed), epochs=epochs, progress=False)
        found[name] = {"norms": norms, "loss": history["train_loss"]}
        found[name]["ratio"] = norms[0] / norms[-1] if norms[-1] else math.inf
        rows.append([name, norms[0], norms[-1], rounded_text(found[name]["ratio"], 2, "g"), history["train_loss"][-1]])
        axes[0].plot(range(1, len(norms) + 1), np.maximum(norms, 1e-30), marker="o", label=name)
    axes[0].set(yscale="log", xlabel="layer (1 = next to the input)", ylabel="‖∂L/∂W‖ at the start",
                title=f"{layers} hidden layers of {width}: gradient per layer")
    axes[0].legend()

    clipping_rows, clipping = [], {}
    for max_norm in (None, clip):
        model = network(sizes, seed, residual=True)
        diagnostics = Diagnostics()
        with np.errstate(over="ignore", invalid="ignore"):
            history = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=clip_lr),
                          DataLoader(data, batch_size=64, shuffle=True, seed=seed), epochs=clip_epochs,
                          clip_grad_norm=max_norm, callbacks=[diagnostics], progress=False)
        per_step = zip(*diagnostics.grad_norms.values())
        totals = [math.sqrt(sum(norm * norm for norm in norms)) for norms in per_step]
        label = "no clipping" if max_norm is None else f"clip_grad_norm = {max_norm:g}"
        clipping[label] = {"losses": diagnostics.loss, "grad_norms": totals,
                           "final_loss": history["train_loss"][-1] if len(history) else math.nan}
        clipping_rows.append([label, max(totals), clipping[label]["final_loss"],
                              history.diverged.message if history.diverged else "finished"])
        axes[1].plot(diagnostics.steps, diagnostics.loss, label=label, linewidth=1)
    axes[1].set(xlabel="step (mini-batch of 64)", ylabel="loss", title=f"residual net, η = {clip_lr:g}")
    axes[1].legend()
    return Experiment(
        "depth", "Depth: vanishing gradients, and what helps",
        [f"{len(ARCHITECTURES)} networks with {layers} hidden layers of {width} units, same data (the 8×8 digits), "
         "one backward pass each: the left panel shows how large the gradient of each layer's weights is, and "
         "'first / last' compares the layer next to the input with the output layer.",
         f"Through sigmoid layers the gradient shrinks at every layer (σ' ≤ 1/4): the first layer's gradient is "
         f"{_times(found['sigmoid']['ratio'])} the last layer's, so it hardly learns. That is the "
         "vanishing-gradient problem.",
         f"ReLU's derivative is 1 where it is active, yet with PyTorch's default initialisation (weights uniform in "
         f"±1/√fan_in) every layer shrinks the signal, and the first layer's gradient is still only "
         f"{_times(found['ReLU']['ratio'])} the last layer's. He initialisation (weights with variance "
         f"2/fan_in, made for ReLU) keeps the scale: {_times(found['ReLU + He init']['ratio'])}. BatchNorm "
         f"rescales every layer ({_times(found['ReLU + BatchNorm']['ratio'])}) and residual connections add an "
         f"identity path around each block ({_times(found['ReLU + residual']['ratio'])}). Compare the losses "
         "after training: the networks whose first layers get a gradient learn.",
         f"Right: a residual network trained with a large learning rate (η = {clip_lr:g}). Early gradients "
         f"spike; without clipping those steps throw the weights far away. clip_grad_norm_ rescales all "
         f"gradients together when their norm exceeds {clip:g}, so a spike gives a bounded step."],
        [{"title": "Gradient per layer at the start, and loss after training",
          "intro": f"‖∂L/∂W‖ of the first and last weight matrix; SGD η = 0.1 for {epochs} epochs",
          "columns": ["network", "first layer", "last layer", "first / last", "loss after training"],
          "rows": rows},
         {"title": "Gradient clipping", "intro": f"residual network, SGD η = {clip_lr:g}, {clip_epochs} epochs",
          "columns": ["run", "largest ‖∂L/∂W‖ seen (before clipping)", "final epoch loss", "outcome"],
          "rows": clipping_rows}],
        figure, {"architectures": found, "clipping": clipping})
