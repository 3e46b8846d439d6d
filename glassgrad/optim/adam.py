"""``Adam`` and ``AdamW``: momentum plus a per-weight step size from the gradient's recent size.

Adam keeps two running averages per weight: ``m`` of the gradient (a momentum direction) and
``v`` of the squared gradient (how large gradients there usually are). Dividing ``m`` by ``√v``
gives every weight a step of roughly η, whatever the scale of its gradient. Both averages start
at 0, so early on they are too small; dividing by ``1 − βᵗ`` (bias correction) undoes that.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import bump_version
from ..tensor import Tensor
from ._checks import BETAS_PAIR, check_betas, check_eps, check_pair
from ._pieces import in_pieces
from ._scalars import tensor_power, tensor_quotient
from .optimizer import Optimizer, count_step, gradient_formula, lerp_into, scalar_dtype, scalar_state, zeros_state

_FOLDS_FROM = {np.dtype(name): 1 / math.sqrt(float(np.finfo(name).max)) for name in ("float16", "float32", "float64")}
"""``η·√(1 − β₂ᵗ) / (1 − β₁ᵗ)`` at least this (``a ≤ √max``): ``√v·a`` stays finite, so the step folds ``η`` in."""


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch's exact rule (``torch.optim.Adam``).

    With η = ``lr``, (β₁, β₂) = ``betas``, ε = ``eps``, λ = ``weight_decay`` and t the step
    number of this parameter (1, 2, ...)::

        g ← ∇L(w) + λ·w                     (−∇L(w) + λ·w when maximize=True)
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        v_max ← max(v_max, v)               (amsgrad=True only; then v_max replaces v below)
        m̂ ← m / (1 − β₁ᵗ),   v̂ ← v / (1 − β₂ᵗ)
        w ← w − η·m̂ / (√v̂ + ε)

    ``decoupled_weight_decay=True`` shrinks the weight instead of adding ``λ·w`` to g: :class:`AdamW`'s rule.
    ``foreach`` and ``fused`` (True or False) change no number here: one NumPy rule runs them all (PyTorch's fused
    kernel may round the last bit differently); ``capturable=True`` and ``differentiable=True`` are refused at the
    step, as PyTorch on a CPU refuses them.
    Computed as ``w ← w − m / (√v·a + b)`` with ``a = (1 − β₁ᵗ) / (η·√(1 − β₂ᵗ))`` and
    ``b = ε·(1 − β₁ᵗ) / η``: the same value up to rounding, with one NumPy pass fewer than PyTorch's order
    ``w ← w − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)``. An ``lr`` or ``betas`` given as tensors (kept in the
    group, read at each step) are computed with as PyTorch computes with them, in their dtype and its order
    (:func:`_pytorch_order`): a float32 ``torch.tensor(0.9)`` makes β₁ᵗ a float32 number, as there.

    >>> import glassgrad as gg
    >>> w = gg.tensor([1.0, -3.0], requires_grad=True)
    >>> opt = gg.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> w                        # the first step is ≈ η·sign(g) for every weight
    tensor([ 0.9000, -2.9000], requires_grad=True)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_pair(betas, BETAS_PAIR)  # PyTorch's constructor (not add_param_group) makes them a tuple, a tensor 0-d
        betas = tuple(beta.squeeze() if isinstance(beta, Tensor) and beta.ndim else beta for beta in betas)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,  # AdamW's rule (see AdamW), as PyTorch's option
        }
        super().__init__(params, defaults)
        # PyTorch's Adam and AdamW constructors (not add_param_group, nor the rest of Adam's family) refuse a pair
        # that mixes kinds, an int among them: betas=(0, 0.99)
        if not any(all(isinstance(beta, kind) for beta in betas) for kind in (float, Tensor)):
            raise ValueError(f"betas must be either both floats or both Tensors, got {tuple(betas)!r}; write them as "
                             "floats, e.g. betas=(0.0, 0.99)")

    _scalar_state = ("step",)
    _exact_tensor_options = True

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        if isinstance(options["lr"], Tensor) and options.get("foreach") and not options.get("capturable"):
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True; pass lr as a "
                             "float, or leave foreach None")
        options = super()._checked_options(options)
        options["betas"] = check_betas(options["betas"])
        options["eps"] = check_eps(options["eps"], 1e-8)
        return options

    state_symbols = {"exp_avg": "m", "exp_avg_sq": "v", "max_exp_avg_sq": "v_max"}

    def formula_for(self, group: dict[str, Any]) -> str:
        decay, maximize = group["weight_decay"], group["maximize"]
        if group["decoupled_weight_decay"]:
            lines = (["w ← w − η·λ·w"] if decay else []) + gradient_formula(0.0, maximize)
        else:
            lines = gradient_formula(decay, maximize)
        lines += ["m ← β₁·m + (1 − β₁)·g", "v ← β₂·v + (1 − β₂)·g²"]
        if group["amsgrad"]:
            lines += ["v_max ← max(v_max, v)", "m̂ ← m / (1 − β₁ᵗ),  v̂ ← v_max / (1 − β₂ᵗ)"]
        else:
            lines += ["m̂ ← m / (1 − β₁ᵗ),  v̂ ← v / (1 − β₂ᵗ)"]
        return "\n".join([*lines, "w ← w − η·m̂ / (√v̂ + ε)"])

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": scalar_state(0.0, group), "exp_avg": zeros_state(param), "exp_avg_sq": zeros_state(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(param)
        return state

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        state = self._state_for(param, group)
        work, scratch = self._workspace(param)
        if group["decoupled_weight_decay"]:
            if group["weight_decay"]:  # w ← w − η·λ·w
                factor = 1 - group["lr"] * group["weight_decay"]
                if isinstance(factor, np.generic):  # a tensor lr's number: rounded to the parameter's dtype first,
                    factor = param.array.dtype.type(factor)  # as PyTorch's mul_ by a 0-d tensor
                np.multiply(param.array, factor, out=param.array)
            decay = 0.0
        else:
            decay = group["weight_decay"]
        moments = (state["exp_avg"].array, state["exp_avg_sq"].array,
                   state["max_exp_avg_sq"].array if group["amsgrad"] else None)
        if not decay and param.array.size > CHUNK and _all_contiguous(grad, work, scratch, *moments):
            self._update_in_pieces(param, grad, group, state, moments, work, scratch)
            return
        g = self._effective_gradient(param, grad, decay, group["maximize"], out=work)
        step = count_step(state)
        np.subtract(param.array, self._step_size_times_direction(g, step, moments, group, scratch), out=param.array)

    def _update_in_pieces(self, param: Tensor, grad: np.ndarray, group: dict[str, Any], state: dict[str, Any],
                          moments: tuple[np.ndarray | None, ...], work: np.ndarray, scratch: np.ndarray) -> None:
        """The update of a large parameter, a cache-sized piece (``CHUNK`` numbers) at a time.

        Each of the rule's NumPy passes then reads the piece from cache instead of the whole
        arrays from memory (−13 % at width 2048), and the pieces are shared among the free cores
        (:func:`glassgrad.optim._pieces.in_pieces`); the numbers are the same, entry by entry.
        """
        step = count_step(state)
        flat = [None if moment is None else moment.reshape(-1) for moment in moments]
        weight, grad, work, scratch = (array.reshape(-1) for array in (param.array, grad, work, scratch))

        def update_piece(number: int) -> None:
            part = slice(number * CHUNK, (number + 1) * CHUNK)
            piece = tuple(None if moment is None else moment[part] for moment in flat)
            g = self._effective_gradient(param, grad[part], 0.0, group["maximize"], out=work[part])
            np.subtract(weight[part], self._step_size_times_direction(g, step, piece, group, scratch[part]),
                        out=weight[part])

        in_pieces(update_piece, -(-weight.size // CHUNK))

    @staticmethod
    def _step_size_times_direction(g: np.ndarray, step: float, moments: tuple[np.ndarray | None, ...],
                                   group: dict[str, Any], scratch: np.ndarray) -> np.ndarray:
        """Update ``moments`` (m, v and, with amsgrad, v_max; else None) in place at step ``step`` and return
        ``η·m̂/(√v̂ + ε)`` (in ``scratch``): what w loses.

        Eleven NumPy passes (the caller's ``w −= …`` is the twelfth), each into an array that exists
        already: m as PyTorch's ``lerp`` rounds it (:func:`lerp_into`); v as its ``addcmul``,
        ``β₂·v + ((1 − β₂)·g)·g``; then the three constants η, 1 − β₁ᵗ and √(1 − β₂ᵗ) folded into
        two, so that the step is one division: ``η·m̂/(√v̂ + ε) = m / (√v·a + b)`` with
        ``a = (1 − β₁ᵗ) / (η·√(1 − β₂ᵗ))`` and ``b = ε·(1 − β₁ᵗ) / η``. (With η = 0 nothing moves.) Where ``a``
        would pass ``√(largest number)`` of the dtype (η below about 10⁻¹⁹ in float32), ``√v·a`` could overflow to
        ∞ and ``0·∞`` give NaN: the step is then PyTorch's ``(η/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε)``, one pass more.
        """
        lr, (beta1, beta2) = group["lr"], group["betas"]
        if isinstance(lr, np.generic) or isinstance(beta1, np.generic) or isinstance(beta2, np.generic):
            return _pytorch_order(g, step, moments, lr, beta1, beta2, group["eps"], scratch)
        mean, square_mean, peak = moments
        lerp_into(mean, g, 1 - beta1, scratch)  # m ← m + (1 − β₁)·(g − m)
        np.multiply(g, 1 - beta2, out=scratch)  # v ← β₂·v + ((1 − β₂)·g)·g
        scratch *= g
        square_mean *= beta2
        square_mean += scratch
        if peak is not None:  # amsgrad
            square_mean = np.maximum(peak, square_mean, out=peak)
        if not lr:
            scratch.fill(0)
            return scratch
        correction1, correction2 = 1 - beta1**step, math.sqrt(1 - beta2**step)
        denominator = np.sqrt(square_mean, out=scratch)  # √v·a + b
        if lr * correction2 >= correction1 * _FOLDS_FROM[scratch.dtype]:
            denominator *= correction1 / (lr * correction2)
            denominator += group["eps"] * correction1 / lr
            return np.divide(mean, denominator, out=scratch)
        denominator /= correction2  # an η so small that a or b would overflow: PyTorch's order, η last
        denominator += group["eps"]
        change = np.divide(mean, denominator, out=scratch)
        change *= lr / correction1
        return change

    def _update_group_at_once(self, group: dict[str, Any]) -> bool:
        """A small group (≤ ``ONE_PASS_LIMIT`` numbers, no weight decay) is updated as one flat vector.

        For a digits-sized network the rule costs a dozen NumPy calls per tensor, mostly call
        overhead; on one flat vector of all the group's numbers it is a dozen calls in all, plus
        one gather of the gradients and one subtraction per tensor. Each parameter's step, m and v
        are tensors over views into the flat buffers, so ``state`` and ``state_dict`` look as
        before, and every number is the same.
        """
        flat = self._flat_group(group)
        if flat is None:
            return False
        grads = np.concatenate([param.grad.array for param in flat.params], axis=None, out=flat.grads)
        g = self._effective_gradient(flat.params[0], grads, 0.0, group["maximize"], out=flat.work)
        flat.steps += 1  # every parameter's state["step"] at once
        flat.count = flat.steps[0].item()
        self._step_size_times_direction(g, flat.count, (flat.mean, flat.square_mean, None), group, flat.scratch)
        for param, change in zip(flat.params, flat.changes):
            np.subtract(param.array, change, out=param.array)
            bump_version(param.array)  # an in-place change, counted as PyTorch's p.add_(…) is
        return True

    def _flat_group(self, group: dict[str, Any]) -> _FlatGroup | None:
        """The group's flat buffers, or None where it must go parameter by parameter."""
        params = group["params"]
        if group["amsgrad"] or group["weight_decay"] or len(params) < 2:
            return None
        flat = self._flat_groups.get(id(group))
        if flat is not None and flat.still_linked(params, self.state):
            return flat  # the usual step: nothing changed since the last one
        if any(p.grad is None for p in params):
            return None
        if len({p.array.dtype for p in params}) != 1 or sum(p.array.size for p in params) > ONE_PASS_LIMIT:
            return None
        if not _all_contiguous(*(p.array for p in params)):  # PyTorch's state of a channels-last parameter is
            return None  # zeros_like(p, memory_format=preserve_format): laid out as p, which a flat view is not
        states = [self.state.get(p) for p in params]
        steps = {state["step"].item() if state else 0 for state in states}  # an empty state: not stepped yet
        if len(steps) > 1:
            return None  # parameters at different steps (some had no gradient once): one by one
        if flat is None or flat.params != tuple(params) or not flat.fits(params):
            flat = self._flat_groups[id(group)] = _FlatGroup(params, scalar_dtype(group["fused"]))
        flat.count = steps.pop()
        flat.steps.fill(flat.count)
        flat.link_state(self.state)
        return flat


def _pytorch_order(g: np.ndarray, step: float, moments: tuple[np.ndarray | None, ...], lr: Any, beta1: Any,
                   beta2: Any, eps: float, scratch: np.ndarray) -> np.ndarray:
    """:meth:`Adam._step_size_times_direction` where lr or betas were given as tensors (each then a NumPy number of
    its tensor's dtype, :meth:`Optimizer._tensor_options_as_numbers`): PyTorch's own order, whose constants it works
    out with the tensors, so in their dtype (a float32 β₁ᵗ rounded to float32), then rounds to the parameter's::

        m ← lerp(m, g, 1 − β₁)             (1 − β₁ in the parameter's dtype, β₁ rounded to it first)
        v ← β₂·v + ((1 − β₂)·g)·g
        c₁ = 1 − β₁ᵗ,  c₂ = 1 − β₂ᵗ,  s = η / c₁   (in the options' dtypes; (1 / c₁)·η for a float η)
        change = (s·m) / (√v / √c₂ + ε)

    ``βᵗ`` and ``η / c₁`` as PyTorch's ``pow`` and ``/`` of 0-d tensors (:func:`tensor_power`,
    :func:`tensor_quotient`): each constant is PyTorch's, bit for bit; the elementwise ops are NumPy's, which
    PyTorch's vector loops can round apart in the last bit (a fused multiply-add in ``lerp``, Sleef's ``sqrt``).
    """
    kind = scratch.dtype.type
    mean, square_mean, peak = moments
    weight = 1 - kind(beta1) if isinstance(beta1, np.generic) else kind(1 - beta1)
    lerp_into(mean, g, weight, scratch)
    np.multiply(g, kind(1 - beta2), out=scratch)
    scratch *= g
    square_mean *= kind(beta2)
    square_mean += scratch
    if peak is not None:  # amsgrad
        square_mean = np.maximum(peak, square_mean, out=peak)
    correction2 = 1 - tensor_power(beta2, step)
    step_size = tensor_quotient(lr, 1 - tensor_power(beta1, step))
    denominator = np.sqrt(square_mean, out=scratch)
    denominator /= kind(np.sqrt(correction2) if isinstance(correction2, np.generic) else correction2**0.5)
    denominator += eps
    return np.divide(mean * kind(step_size), denominator, out=scratch)


CHUNK = 1 << 16
"""A parameter with more numbers than this is updated in pieces of this size (``Adam._update``)."""


def _all_contiguous(*values: Any) -> bool:
    """Whether every array among ``values`` is C-contiguous (its flat view needs no copy)."""
    return all(value.flags.c_contiguous for value in values if isinstance(value, np.ndarray))


ONE_PASS_LIMIT = 1 << 17
"""Groups with at most this many numbers are updated in one pass (``Adam._update_group_at_once``)."""


class _FlatGroup:
    """One flat vector per quantity (step, m, v, g) for all parameters of a small group (one step per parameter)."""

    def __init__(self, params: list[Tensor], step_dtype: np.dtype) -> None:
        self.params = tuple(params)
        self.shapes = [p.array.shape for p in params]
        ends = np.cumsum([p.array.size for p in params])
        self.slices = [slice(int(end) - p.array.size, int(end)) for p, end in zip(params, ends)]
        self.dtype, size = params[0].array.dtype, int(ends[-1])
        self.grads, self.work, self.scratch = (np.empty(size, self.dtype) for _ in range(3))
        self.steps = np.zeros(len(params), step_dtype)
        self.count = 0.0  # the step all of them are at
        self.mean, self.square_mean = np.zeros(size, self.dtype), np.zeros(size, self.dtype)
        self.changes = [self.scratch[part].reshape(shape) for part, shape in zip(self.slices, self.shapes)]
        self.linked: list[dict[str, Any]] = []  # each parameter's state, as link_state left it

    def fits(self, params: list[Tensor]) -> bool:
        """Whether ``params`` still have the shapes and dtype the buffers were made for."""
        return all(p.array.shape == shape and p.array.dtype == self.dtype for p, shape in zip(params, self.shapes))

    def link_state(self, state: dict[Tensor, dict[str, Any]]) -> None:
        """Make each parameter's step, m and v tensors over views into the flat buffers, carrying over what they
        held (a tensor already in the state stays the same object: its ``.array`` becomes the view)."""
        for number, (param, part, shape) in enumerate(zip(self.params, self.slices, self.shapes)):
            mine = state.setdefault(param, {})
            for key, buffer, piece in (("step", self.steps, slice(number, number + 1)), ("exp_avg", self.mean, part),
                                       ("exp_avg_sq", self.square_mean, part)):
                held = mine.get(key)
                if held is None or held.array.base is not buffer:
                    view = buffer[piece].reshape(() if key == "step" else shape)
                    if held is not None and held.shape != view.shape:  # the parameter changed shape after a step:
                        raise ValueError("state of another shape")  # Optimizer.step names it (a 0-d m would broadcast)
                    if key != "step":  # the step is the same for all, filled by the caller
                        view[...] = 0 if held is None else held.array
                    if held is None:
                        mine[key] = Tensor._wrap(view)
                    else:
                        held.array = view
        self.linked = [state[param] for param in self.params]
        self.views = [(mine["step"], mine["exp_avg"], mine["exp_avg_sq"]) for mine in self.linked]

    def still_linked(self, params: list[Tensor], state: dict[Tensor, dict[str, Any]]) -> bool:
        """Whether the last :meth:`link_state` still holds: the same parameters (shapes, dtype), each with a
        gradient, and each one's state the same dict, with the same step, m and v, at the flat step (a step taken
        one parameter at a time, where some had no gradient, moves only theirs)."""
        if len(params) != len(self.params) or not self.linked:
            return False
        dtype, count = self.dtype, self.count
        for param, own, shape, mine, (step, mean, square) in zip(params, self.params, self.shapes, self.linked,
                                                                 self.views):
            array = param.array  # one loop, every check: this runs at every step
            if (param is not own or param.grad is None or array.shape != shape or array.dtype != dtype
                    or state.get(param) is not mine or mine["step"] is not step or step.array.item() != count
                    or mine["exp_avg"] is not mean or mine["exp_avg_sq"] is not square):
                return False
        return True


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), like ``torch.optim.AdamW``.

    Instead of adding ``λ·w`` to the gradient (which Adam then rescales, weakening the decay
    of weights with large gradients), the weight itself shrinks first::

        w ← w − η·λ·w
        g ← ∇L(w)                           (−∇L(w) when maximize=True)
        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        v_max ← max(v_max, v)               (amsgrad=True only; then v_max replaces v below)
        m̂ ← m / (1 − β₁ᵗ),   v̂ ← v / (1 − β₂ᵗ)
        w ← w − η·m̂ / (√v̂ + ε)

    The default ``weight_decay`` is 0.01 (PyTorch's). ``Adam(..., decoupled_weight_decay=True)`` is the same rule.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
