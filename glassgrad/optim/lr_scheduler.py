"""Learning-rate schedules (``gg.optim.lr_scheduler``): change η as training goes on.

A large learning rate makes fast early progress; a smaller one later settles into a minimum.
A scheduler rewrites ``group["lr"]`` of its optimizer each time you call ``scheduler.step()``,
usually once per epoch, after ``optimizer.step()``. The values match PyTorch's schedulers
step for step.

>>> import glassgrad as gg
>>> w = gg.zeros(2, requires_grad=True)
>>> opt = gg.optim.SGD([w], lr=0.1)
>>> schedule = gg.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
>>> lrs = []
>>> for epoch in range(5):
...     lrs.append(schedule.get_last_lr()[0])   # train one epoch with this lr, then:
...     schedule.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from ._checks import check_count, check_number
from .optimizer import Optimizer


class LRScheduler:
    """Base class: remembers each group's starting lr and sets a new lr on every ``step()``.

    ``last_epoch`` counts the ``step()`` calls (0 right after construction). Pass a
    ``last_epoch`` other than -1 only to resume a schedule: the optimizer's groups must then
    hold ``initial_lr`` (they do after loading the optimizer's state dict). Subclasses define
    ``get_lr()``, the new lr of every group.
    """

    _unsaved: tuple[str, ...] = ("optimizer",)

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise ValueError(
                        f"param 'initial_lr' is not specified in param_groups[{number}] when resuming a scheduler "
                        f"with last_epoch={last_epoch}; load the optimizer's state dict first, or use last_epoch=-1 "
                        "for a fresh schedule"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._is_initial = True  # the first step() only records the starting lrs
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of every parameter group for epoch ``last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    def step(self) -> None:
        """Move to the next epoch and write its lr into every parameter group."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest ``step()`` (one per parameter group)."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume the schedule (numbers and lists; not the optimizer)."""
        return {key: value for key, value in self.__dict__.items() if key not in self._unsaved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`'s output."""
        self.__dict__.update({key: value for key, value in state_dict.items() if key not in self._unsaved})


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs: ``ηₑ = η₀ · γ^⌊e / step_size⌋``.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = StepLR(opt, step_size=3, gamma=0.1)
    >>> for _ in range(3): schedule.step()
    >>> schedule.get_last_lr()
    [0.1]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_count("step_size", step_size)
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``ηₑ = η₀ · γᵉ``.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = ExponentialLR(opt, gamma=0.5)
    >>> schedule.step(); schedule.step()
    >>> schedule.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = check_number("gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]


class CosineAnnealingLR(LRScheduler):
    """Lower the lr along half a cosine from η₀ to ``eta_min`` over ``T_max`` epochs.

    The target is the closed form (SGDR, Loshchilov & Hutter 2017, without restarts)::

        ηₑ = η_min + (η₀ − η_min) · (1 + cos(π·e / T_max)) / 2

    computed, like PyTorch, recursively from the current lr so that changes made by others
    to ``group["lr"]`` carry on::

        ηₑ = η_min + (ηₑ₋₁ − η_min) · (1 + cos(π·e / T_max)) / (1 + cos(π·(e − 1) / T_max))

    except just after each bottom of the cosine (where that ratio would divide by 0), where
    ``ηₑ = ηₑ₋₁ + (η₀ − η_min) · (1 − cos(π / T_max)) / 2``. Past ``T_max`` the lr rises
    again along the same cosine.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = CosineAnnealingLR(opt, T_max=2)
    >>> schedule.step()
    >>> round(schedule.get_last_lr()[0], 6)   # (1 + cos(π/2)) / 2
    0.5
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = check_count("T_max", T_max)
        self.eta_min = check_number("eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (epoch - 1 - period) % (2 * period) == 0:  # just past a bottom: climb by the first step's drop
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base - low) * rise for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * epoch / period)) / (1 + math.cos(math.pi * (epoch - 1) / period))
        return [low + ratio * (lr - low) for lr in self._current_lrs()]


class LambdaLR(LRScheduler):
    """Set the lr to the starting lr times a function of the epoch: ``ηₑ = η₀ · f(e)``.

    ``lr_lambda`` is one function for all groups or a list with one per group. The functions
    are not part of :meth:`state_dict` (code cannot be saved in a state dict): pass the same
    ones again when resuming.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1)
    >>> warmup = LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 4))
    >>> warmup.get_last_lr()
    [0.025]
    """

    _unsaved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        groups = len(getattr(optimizer, "param_groups", ()))
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != groups:
                raise ValueError(
                    f"Expected {groups} lr_lambdas (one per parameter group), but got {len(lr_lambda)}"
                )
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * groups
        for function in self.lr_lambdas:
            if not callable(function):
                raise TypeError(f"lr_lambda must be a function of the epoch number, not {type(function).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch = self.last_epoch
        return [
            check_number(f"learning rate from lr_lambda at epoch {epoch}", base * function(epoch))
            for function, base in zip(self.lr_lambdas, self.base_lrs)
        ]


__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "StepLR"]
