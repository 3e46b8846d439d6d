"""Weight averaging (``gg.optim.swa_utils``, PyTorch's ``torch.optim.swa_utils``): SWA and EMA models.

Late in training the weights W₁, W₂, … wander around a minimum; their average usually sits nearer its
centre and generalises better. :class:`AveragedModel` keeps that average in a copy of the model:

* SWA (stochastic weight averaging, the default): the equal-weight mean of the n models seen so far,
  updated as ``W̄ ← W̄ + (W − W̄)/(n + 1)``;
* EMA (exponential moving average, :func:`get_ema_multi_avg_fn`): ``W̄ ← d·W̄ + (1 − d)·W``, which
  forgets old weights at rate ``1 − d``.

The first ``update_parameters`` copies the model. :class:`SWALR` anneals the learning rate to a constant
``swa_lr`` for the averaging phase, and :func:`update_bn` recomputes BatchNorm's running statistics for the
averaged weights (averaging weights does not average the activations' statistics).

>>> import glassgrad as gg
>>> model = gg.nn.Linear(1, 1, bias=False)
>>> swa = gg.optim.swa_utils.AveragedModel(model)
>>> for w in (1.0, 2.0, 6.0):
...     with gg.no_grad():
...         _ = model.weight.fill_(w)
...     swa.update_parameters(model)
>>> swa.module.weight.item(), swa.n_averaged.item()
(3.0, 3)
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..autograd import call_recorder, no_grad
from ..creation import tensor
from ..nn.module import Module
from ..nn.normalization import BatchNorm1d
from ..tensor import Tensor
from .lr_scheduler import LRScheduler, _per_group
from .optimizer import Optimizer

__all__ = ["SWALR", "AveragedModel", "get_ema_avg_fn", "get_ema_multi_avg_fn", "get_swa_avg_fn",
           "get_swa_multi_avg_fn", "update_bn"]

AverageFn = Callable[[Tensor, Tensor, Any], Tensor]
MultiAverageFn = Callable[[Sequence[Tensor], Sequence[Tensor], Any], None]


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def get_ema_avg_fn(decay: float = 0.999) -> AverageFn:
    """The EMA step of one tensor: ``(W̄, W, n) ↦ d·W̄ + (1 − d)·W``."""
    _check_decay(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AverageFn:
    """The SWA step of one tensor: ``(W̄, W, n) ↦ W̄ + (W − W̄)/(n + 1)``, the mean of n + 1 models."""

    def swa_update(averaged_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        with no_grad():
            return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _in_place(average: AverageFn) -> MultiAverageFn:
    """The in-place form of ``average`` over lists of tensors (an integer tensor keeps its dtype, truncated)."""

    def update(averaged: Sequence[Tensor], current: Sequence[Tensor], num_averaged: Any) -> None:
        with no_grad():
            for kept, new in zip(averaged, current):
                kept.copy_(average(kept, new, num_averaged))

    return update


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAverageFn:
    """The EMA step in place over lists: every ``W̄ ← W̄ + (1 − d)·(W − W̄)``, a ``lerp`` as PyTorch's.

    Not ``d·W̄ + (1 − d)·W``: in float32 the two weights round to numbers that sum to 1 + 6·10⁻⁸ (d = 0.999), and
    that bias piles up, about 10⁻⁵ of the weights after a few hundred updates. An integer buffer
    (``use_buffers=True``) has no lerp: it gets ``d·W̄ + (1 − d)·W``, truncated, as in PyTorch."""
    _check_decay(decay)
    blend = get_ema_avg_fn(decay)

    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Any) -> Tensor:
        if ema_param.is_floating_point():
            return ema_param.lerp(current_param, 1 - decay)
        return blend(ema_param, current_param, num_averaged)

    return _in_place(ema_update)


def get_swa_multi_avg_fn() -> MultiAverageFn:
    """The SWA step in place over lists: every ``W̄ ← W̄ + (W − W̄)/(n + 1)``."""
    return _in_place(get_swa_avg_fn())


class AveragedModel(Module):
    """A copy of ``model`` holding the running average of the weights given to :meth:`update_parameters`.

    ``avg_fn(W̄, W, n)`` returns one averaged tensor, ``multi_avg_fn(W̄s, Ws, n)`` updates lists of them in
    place (give at most one; neither: SWA's equal-weight mean). ``use_buffers=True`` averages the buffers
    (BatchNorm's running statistics) too; otherwise they are copied from the model. Calling the averaged
    model runs the copy; ``n_averaged`` (a buffer) counts the models averaged.
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: AverageFn | None = None,
                 multi_avg_fn: MultiAverageFn | None = None, use_buffers: bool = False) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: expected an nn.Module to average, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", tensor(0))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _averaged_tensors(self, model: Module) -> tuple[list[Tensor], list[Tensor]]:
        """This copy's tensors and ``model``'s, pair by pair: the parameters (and buffers with ``use_buffers``)."""
        if self.use_buffers:
            return (list(itertools.chain(self.module.parameters(), self.module.buffers())),
                    list(itertools.chain(model.parameters(), model.buffers())))
        return list(self.module.parameters()), list(model.parameters())

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current weights into the average (the first call copies them).

        Inside a ``gg.compile``d step it is captured as one kernel, as an optimizer's step is: each replay runs it
        again (it reads ``n_averaged`` in Python), so an EMA updated after every ``optimizer.step()`` replays."""
        recorder = call_recorder()
        if recorder is not None:
            recorder.on_call(AveragedModel.update_parameters, (self, model))
            return
        mine, theirs = self._averaged_tensors(model)
        theirs = [t.detach() for t in theirs]
        with no_grad():
            if int(self.n_averaged.item()) == 0:
                for kept, new in zip(mine, theirs):
                    kept.copy_(new)
            elif self.avg_fn is not None:
                for kept, new in zip(mine, theirs):
                    kept.copy_(self.avg_fn(kept.detach(), new, self.n_averaged))
            else:
                update = self.multi_avg_fn or get_swa_multi_avg_fn()
                by_dtype: dict[Any, tuple[list[Tensor], list[Tensor]]] = {}
                for kept, new in zip(mine, theirs):
                    group = by_dtype.setdefault(kept.dtype, ([], []))
                    group[0].append(kept.detach())
                    group[1].append(new)
                for kept_group, new_group in by_dtype.values():
                    update(kept_group, new_group, self.n_averaged)
            if not self.use_buffers:
                for kept, new in zip(self.module.buffers(), model.buffers()):
                    kept.copy_(new.detach())
            self.n_averaged.add_(1)


def update_bn(loader: Iterable[Any], model: Module, device: Any = None) -> None:
    """Recompute every BatchNorm layer's running mean and variance in one pass over ``loader``.

    Each layer's statistics are reset and its momentum set to ``None`` for the pass, so they become the
    plain average over all batches; a batch that is a list or tuple gives its first item to the model.
    """
    layers = {layer: layer.momentum for layer in model.modules() if isinstance(layer, BatchNorm1d)}
    if not layers:
        return
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None
    was_training = model.training
    model.train()
    with no_grad():
        for batch in loader:
            inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
            model(inputs.to(device) if device is not None else inputs)
    for layer, momentum in layers.items():
        layer.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's lr from where it is to ``swa_lr`` over ``anneal_epochs`` steps, then keep it there.

    With ``α(t)`` rising from 0 to 1 (``'cos'``: ``(1 − cos πt)/2``, ``'linear'``: t) at ``t = step/anneal_epochs``,
    ``ηₜ = α(t)·swa_lr + (1 − α(t))·η₀``, where η₀ is the lr the annealing started from (recovered from the
    previous step's lr, so another scheduler may have set it).
    """

    _renamed = {"anneal_strategy": "_anneal_strategy"}

    def __init__(self, optimizer: Optimizer, swa_lr: float | Sequence[float], anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        for group, lr in zip(optimizer.param_groups, _per_group("swa_lr", optimizer, swa_lr)):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy!r}")
        if isinstance(anneal_epochs, bool) or not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self._anneal_strategy = anneal_strategy  # PyTorch's name: its state dicts carry it, and loading restores it
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _alpha(self, step: int) -> float:
        """How far the annealing is at ``step``: α(t) with t = step/anneal_epochs clipped to [0, 1]."""
        t = max(0.0, min(1.0, step / max(1, self.anneal_epochs)))
        return t if self._anneal_strategy == "linear" else (1 - math.cos(math.pi * t)) / 2

    def get_lr(self) -> list[float]:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        before, now = self._alpha(step - 1), self._alpha(step)
        lrs = []
        for group in self.optimizer.param_groups:
            swa_lr = group["swa_lr"]
            # the lr before annealing: the previous lr was before·swa_lr + (1 − before)·start
            start = swa_lr if before == 1 else (group["lr"] - before * swa_lr) / (1 - before)
            lrs.append(swa_lr * now + start * (1 - now))
        return lrs
