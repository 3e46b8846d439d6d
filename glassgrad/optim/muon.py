"""``Muon``: momentum whose update matrix is orthogonalized by a Newton–Schulz iteration (for 2-D weights).

A weight matrix's gradient is often dominated by a few directions (its largest singular values). Muon
(Jordan et al., 2024) keeps SGD's momentum but replaces the update ``U = P·Σ·Qᵀ`` (its SVD) by roughly
``P·Qᵀ``: every direction gets a step of about the same size. Computing ``P·Qᵀ`` exactly would need an SVD;
instead a few steps of an odd matrix polynomial push every singular value of ``U/‖U‖_F`` (all in [0, 1])
towards 1:

    X ← a·X + (b·X·Xᵀ + c·(X·Xᵀ)²)·X       (a, b, c) = (3.4445, −4.775, 2.0315)

a quintic chosen to grow fast near 0; it leaves the singular values in about [0.7, 1.2] rather than at 1
exactly, which trains as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..tensor import Tensor
from ._checks import as_given, check_count, check_number
from .optimizer import Optimizer, lerp_into, zeros_state

ADJUSTMENTS = (None, "original", "match_rms_adamw")
"""The learning-rate adjustments by shape ``adjust_lr_fn`` may name (None is ``'original'``)."""


def newton_schulz(update: np.ndarray, coefficients: tuple[float, float, float], steps: int,
                  eps: float) -> np.ndarray:
    """``update`` with its singular values pushed towards 1 (its singular vectors kept): ``X = U/max(‖U‖_F, ε)``,
    then ``steps`` times ``X ← a·X + (b·A + c·A²)·X`` with ``A = X·Xᵀ``, on the wide orientation of the matrix
    (a tall one is transposed and back, so that A is the smaller Gram matrix)."""
    a, b, c = coefficients
    tall = update.shape[0] > update.shape[1]
    x = update.T if tall else update
    x = x / max(float(np.linalg.norm(x)), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * (gram @ gram)) @ x
    return x.T if tall else x


def adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """The step size for a ``rows × cols`` weight: ``η·√max(1, rows/cols)`` (``'original'``, Keller Jordan's, the
    default) or ``0.2·η·√max(rows, cols)`` (``'match_rms_adamw'``, Moonshot's: an update as large, in root mean
    square, as AdamW's, so AdamW's η and λ carry over)."""
    rows, cols = shape[:2]
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    return lr * math.sqrt(max(1.0, rows / cols))


class Muon(Optimizer):
    """Muon, PyTorch's exact rule (``torch.optim.Muon``) for 2-D parameters (weight matrices).

    With η = ``lr``, λ = ``weight_decay``, μ = ``momentum``, (a, b, c) = ``ns_coefficients``, k = ``ns_steps``::

        B ← μ·B + (1 − μ)·g                       (B starts at 0)
        U ← (1 − μ)·g + μ·B if nesterov else B
        O ← k Newton–Schulz steps on U/max(‖U‖_F, ε)   (U's singular values pushed towards 1)
        w ← w − η·λ·w                              (decoupled weight decay)
        w ← w − η′·O,   η′ = η·√max(1, rows/cols)   (adjust_lr_fn='match_rms_adamw': η′ = 0.2·η·√max(rows, cols))

    PyTorch runs the Newton–Schulz steps in bfloat16 (a speed choice for GPUs); NumPy has no bfloat16, so
    glassgrad runs them in the parameter's own dtype: the updates agree with PyTorch's to bfloat16's precision
    (about 3 significant digits), and exactly with the same rule in float32 or float64. Biases, embeddings and
    other parameters that are not matrices are refused, as in PyTorch: train them with AdamW.

    >>> import glassgrad as gg
    >>> w = gg.tensor([[3.0, 0.0], [0.0, 0.1]], requires_grad=True)
    >>> opt = gg.optim.Muon([w], lr=0.1, weight_decay=0.0)
    >>> (w * w).sum().backward(); opt.step()     # g = 2w: singular values 6 and 0.2, yet both entries
    >>> [round(v, 2) for v in w.detach().diagonal().tolist()]   # move by about η
    [2.93, -0.01]
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
                    "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps,
                    "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """As :meth:`Optimizer.add_param_group`, refusing parameters that are not 2-D."""
        super().add_param_group(param_group)
        for param in self.param_groups[-1]["params"]:
            if param.ndim != 2:
                self.param_groups.pop()
                raise ValueError(f"Muon only supports 2-D parameters (weight matrices), got one of shape "
                                 f"{shape_text(param.shape)}; optimize biases and other parameters with AdamW")

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        options = super()._checked_options(options)
        options["momentum"] = check_number("momentum value", options["momentum"])
        options["eps"] = check_number("epsilon value", options["eps"])
        coefficients = options["ns_coefficients"]
        if isinstance(coefficients, (str, bytes)) or not hasattr(coefficients, "__len__") or len(coefficients) != 3:
            raise ValueError(f"ns_coefficients must be three numbers (a, b, c), not {coefficients!r}")
        numbers = tuple(check_number(f"ns_coefficients[{index}]", value, -math.inf)
                        for index, value in enumerate(coefficients))
        options["ns_coefficients"] = as_given(coefficients, numbers)
        options["ns_steps"] = check_count("ns_steps", options["ns_steps"], 0)
        if options["ns_steps"] >= 100:
            raise ValueError(f"Invalid ns_steps: {options['ns_steps']} (must be < 100; 5 is usual)")
        if options["adjust_lr_fn"] not in ADJUSTMENTS:
            raise ValueError(f"Invalid adjust_lr_fn: {options['adjust_lr_fn']!r} (must be None, 'original' or "
                             "'match_rms_adamw')")
        return options

    def formula_for(self, group: dict[str, Any]) -> str:
        lines = ["B ← μ·B + (1 − μ)·g", "U ← (1 − μ)·g + μ·B" if group["nesterov"] else "U ← B",
                 "X ← U/‖U‖;  k times: X ← a·X + (b·XXᵀ + c·(XXᵀ)²)·X;  O ← X"]
        if group["weight_decay"]:
            lines.append("w ← w − η·λ·w")
        scale = "0.2·η·√max(rows, cols)" if group["adjust_lr_fn"] == "match_rms_adamw" else "η·√max(1, rows/cols)"
        return "\n".join([*lines, f"w ← w − η′·O,  η′ = {scale}"])

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {"momentum_buffer": zeros_state(param)}

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        buffer = self._state_for(param, group)["momentum_buffer"].array
        momentum = group["momentum"]
        lerp_into(buffer, grad, 1 - momentum, np.empty_like(buffer))  # B ← B + (1 − μ)·(g − B), PyTorch's lerp_
        update = lerp_into(grad.copy(), buffer, momentum, np.empty_like(buffer)) if group["nesterov"] else buffer
        ortho = newton_schulz(update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        lr = group["lr"]
        if group["weight_decay"]:
            param.array *= 1 - lr * group["weight_decay"]
        param.array -= (adjusted_lr(lr, group["adjust_lr_fn"], param.shape) * ortho).astype(param.array.dtype)
