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
...     opt.step()                              # the optimizer first (PyTorch warns otherwise)
...     schedule.step()
>>> lrs
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import math
import types
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from numbers import Real
from typing import Any

from ..arguments import shown
from ..autograd import call_recorder, note_unreplayable
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from ._checks import check_count, check_number, check_steps
from .optimizer import Optimizer

UNREPLAYABLE_STEP = ("a learning-rate scheduler's step given a value (an epoch, a metric) works the new lr out of it "
                     "in Python, which a replay would not do again: call it outside the compiled function")

EPOCH_ARGUMENT_WARNING = (
    "scheduler.step(epoch) is deprecated (in PyTorch too): call scheduler.step() once per epoch instead; with an "
    "epoch, the lr comes from the schedule's closed form where it has one"
)


def _replayed_whole(step: Callable[..., None]) -> Callable[..., None]:
    """``step`` that a ``gg.compile``d function captures as one kernel (:func:`glassgrad.autograd.call_recorder`):
    each replay runs the schedule's Python again (``last_epoch += 1``, the new lr into every group), as an optimizer's
    step runs, so a step that calls ``scheduler.step()`` after ``optimizer.step()`` (OneCycleLR, a warm-up, once per
    batch) replays. Given a value (``step(epoch)``, ``ReduceLROnPlateau.step(loss)``) it runs as written: Python that
    reads a value, which makes the compiled function run eagerly, saying so."""

    @functools.wraps(step)
    def replayed(self: LRScheduler, *args: Any, **kwargs: Any) -> None:
        recorder = call_recorder()
        if recorder is None or args or kwargs:
            return step(self, *args, **kwargs)
        return recorder.on_call(step, (self,))

    return replayed


def _warned_outside_step(get_lr: Callable[[LRScheduler], list[float]]) -> Callable[[LRScheduler], list[float]]:
    """``get_lr`` that warns, as PyTorch's schedules do, when called outside ``step()``: it computes the *next*
    epoch's lrs from the current ones (a StepLR at a multiple of its step size lowers them once more), and some
    schedules move the momentum while at it; the lrs in use are ``get_last_lr()``."""

    @functools.wraps(get_lr)
    def checked(self: LRScheduler) -> list[float]:
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`: "
                          "get_lr() outside step() computes the next epoch's", UserWarning, stacklevel=2)
        return get_lr(self)

    return checked


def _write_lr(group: dict, lr: Any) -> None:
    """Set a group's lr; a tensor given as the lr is written into (``fill_``), as PyTorch's schedules do, so that
    the program's own ``lr`` tensor follows the schedule."""
    if isinstance(group["lr"], Tensor):
        group["lr"].fill_(float(lr))
    else:
        group["lr"] = lr


class LRScheduler:
    """Base class: remembers each group's starting lr and sets a new lr on every ``step()``.

    ``last_epoch`` counts the ``step()`` calls (0 right after construction). Pass a
    ``last_epoch`` other than -1 only to resume a schedule: the optimizer's groups must then
    hold ``initial_lr`` (they do after loading the optimizer's state dict). Subclasses define
    ``get_lr()``, the new lr of every group.
    """

    _unsaved: tuple[str, ...] = ("optimizer", "_optimizer_steps_at_start")
    """Attributes that are not numbers of the schedule, left out of :meth:`state_dict`."""
    _renamed: dict[str, str] = {}
    """Keys an older glassgrad saved under another name → the name saved now (PyTorch's), for :meth:`load_state_dict`:
    the one place where old checkpoints' spellings are read."""
    _get_lr_called_within_step = False
    """True inside ``step()``: PyTorch's name, which a schedule written against PyTorch reads in its own ``get_lr``
    to warn when called outside ``step()`` (pl_bolts' ``LinearWarmupCosineAnnealingLR``)."""
    _functions: tuple[str, ...] = ()
    """The attributes holding the program's functions (``lr_lambdas``): :meth:`state_dict` keeps, for each callable
    object among them, its attributes (its own state), as PyTorch's does; a plain function gives None (code is not
    saved: pass the same functions again when resuming)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # a schedule's own step (a user's too): replayed as one kernel
            cls.step = _replayed_whole(cls.__dict__["step"])
        get_lr = cls.__dict__.get("get_lr")
        if get_lr is not None and cls.__module__.startswith("glassgrad."):  # glassgrad's schedules, as PyTorch's
            cls.get_lr = _warned_outside_step(get_lr)

    @contextlib.contextmanager
    def _stepping(self) -> Iterator[None]:
        """Inside ``step``: ``get_lr()`` computes the next epoch's lrs without a warning. Inside a ``gg.compile``d
        step it makes the step run eagerly: the new lr is Python's work, which a replay would not do again."""
        note_unreplayable(UNREPLAYABLE_STEP)
        self._get_lr_called_within_step = True
        try:
            yield
        finally:
            self._get_lr_called_within_step = False

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:  # a tensor lr's own copy: the schedule writes into the tensor
                lr = group["lr"]
                group.setdefault("initial_lr", lr.clone() if isinstance(lr, Tensor) else lr)
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:  # KeyError, as PyTorch's
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{number}] when resuming a scheduler "
                        f"with last_epoch={last_epoch}; load the optimizer's state dict first, or use last_epoch=-1 "
                        "for a fresh schedule"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._optimizer_steps_at_start = optimizer._step_calls
        self._is_initial = True  # the first step() only records the starting lrs
        self.step()
        self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of every parameter group for epoch ``last_epoch``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_lr()")

    @_replayed_whole
    def step(self, epoch: float | None = None) -> None:
        """Move to the next epoch and write its lr into every parameter group.

        ``step(epoch)``, PyTorch's older form (it warns that it is deprecated; so does glassgrad), jumps
        to ``epoch`` instead, and takes its lr from the schedule's closed form in ``base_lrs`` where
        there is one (see :meth:`_get_closed_form_lr`).
        """
        self._warn_if_optimizer_not_stepped()
        self._step_count += 1
        with self._stepping():
            if epoch is None:
                self.last_epoch += 1
                lrs = self.get_lr()
            else:
                warnings.warn(EPOCH_ARGUMENT_WARNING, UserWarning, stacklevel=3)
                self.last_epoch = epoch
                lrs = self._get_closed_form_lr()
        self._set_lrs(lrs)

    def _set_lrs(self, lrs: list[float]) -> None:
        """Write one lr into each parameter group, and remember them as the last lrs.

        A schedule that computes its lrs from what it held when built (``base_lrs``, one function per group)
        has fewer lrs than groups once a group was added to the optimizer after it: refused, as PyTorch does,
        instead of leaving the new group's lr unscheduled.
        """
        groups = self.optimizer.param_groups
        if len(lrs) != len(groups):
            raise ValueError(f"{type(self).__name__} has {len(lrs)} learning rates for the optimizer's {len(groups)} "
                             "parameter groups: a group was added after the schedule was built; build the schedule "
                             "after the last add_param_group")
        for group, lr in zip(groups, lrs):
            _write_lr(group, lr)
        self._last_lr = [lr.clone() if isinstance(lr, Tensor) else lr for lr in (group["lr"] for group in groups)]

    def _get_closed_form_lr(self) -> list[float]:
        """The lr of every group at epoch ``last_epoch`` from ``base_lrs`` alone, for ``step(epoch)``.

        A schedule whose lrs each build on the last has none: it uses :meth:`get_lr`, as PyTorch does. PyTorch's
        name, so that a schedule written against PyTorch that defines its own closed form has it used here too.
        """
        return self.get_lr()

    def _warn_if_optimizer_not_stepped(self) -> None:
        """On the first ``step()``, warn (as PyTorch does) if ``optimizer.step()`` has not run since this
        scheduler was built: the loop then skips the schedule's first lr."""
        if self._step_count == 1 and self.optimizer._step_calls == self._optimizer_steps_at_start:
            warn_at_learners_line("Detected call of `lr_scheduler.step()` before `optimizer.step()`: the first lr of "
                                  "the schedule is skipped. Call `optimizer.step()` first, then `lr_scheduler.step()`")

    def get_last_lr(self) -> list[float]:
        """The lrs set by the latest ``step()`` (one per parameter group)."""
        return list(self._last_lr)

    def _current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume the schedule (numbers and lists; not the optimizer; of a function, the
        attributes of a callable object, :attr:`_functions`)."""
        state = {key: value for key, value in self.__dict__.items() if key not in self._unsaved}
        for name in self._functions:
            functions = getattr(self, name)
            state[name] = ([_function_state(function) for function in functions] if isinstance(functions, list)
                           else _function_state(functions))
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`'s output (a callable object among the functions gets its attributes back;
        a key an older glassgrad spelled otherwise, :attr:`_renamed`, is read under its name now)."""
        self.__dict__.update({self._renamed.get(key, key): value for key, value in state_dict.items()
                              if key not in self._unsaved and key not in self._functions})
        for name in self._functions:
            functions, saved = getattr(self, name), state_dict.get(name)
            pairs = zip(functions, saved or ()) if isinstance(functions, list) else [(functions, saved)]
            for function, attributes in pairs:
                if attributes is not None:
                    function.__dict__.update(attributes)

    def _lrs_at_start(self) -> list[float]:
        """The lrs of epoch 0 from the starting lrs alone (``SequentialLR`` restarts a schedule with them)."""
        return list(self.base_lrs)


class StepLR(LRScheduler):
    """Multiply the lr by ``gamma`` every ``step_size`` epochs: ``ηₑ = η₀ · γ^⌊e / step_size⌋``.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = StepLR(opt, step_size=3, gamma=0.1)
    >>> opt.step()   # optimizer.step() comes before the first schedule.step()
    >>> for _ in range(3): schedule.step()
    >>> schedule.get_last_lr()
    [0.1]
    """

    def __init__(self, optimizer: Optimizer, step_size: float, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = check_steps("step_size", step_size)
        self.gamma = _checked_gamma(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the lr by ``gamma`` every epoch: ``ηₑ = η₀ · γᵉ``.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = ExponentialLR(opt, gamma=0.5)
    >>> opt.step()   # optimizer.step() comes before the first schedule.step()
    >>> schedule.step(); schedule.step()
    >>> schedule.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _checked_gamma(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** self.last_epoch for base in self.base_lrs]


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
    >>> opt.step()   # optimizer.step() comes before the first schedule.step()
    >>> schedule.step()
    >>> round(schedule.get_last_lr()[0], 6)   # (1 + cos(π/2)) / 2
    0.5
    """

    def __init__(self, optimizer: Optimizer, T_max: float, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = check_steps("T_max", T_max)
        self.eta_min = _checked_eta_min(eta_min)
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

    def _get_closed_form_lr(self) -> list[float]:
        share = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * share for base in self.base_lrs]


class LambdaLR(LRScheduler):
    """Set the lr to the starting lr times a function of the epoch: ``ηₑ = η₀ · f(e)``.

    ``lr_lambda`` is one function for all groups or a list with one per group. The functions
    are not part of :meth:`state_dict` (code cannot be saved in a state dict): pass the same
    ones again when resuming; a callable object's attributes are saved, as PyTorch saves them.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1)
    >>> warmup = LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 4))
    >>> warmup.get_last_lr()
    [0.025]
    """

    _unsaved = (*LRScheduler._unsaved, "lr_lambdas")
    _functions = ("lr_lambdas",)

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

    def _lrs_at_start(self) -> list[float]:
        return self.get_lr()


# --- issue 11: LinearLR, SequentialLR, OneCycleLR, ReduceLROnPlateau ---------------------------


def _checked_gamma(gamma: Any) -> float:
    """A schedule's multiplier ``gamma``: a finite number >= 0 (a negative one would make the lr negative)."""
    return check_number("gamma", gamma, why="a negative gamma makes the lr negative at every other decay, so the step "
                        "climbs the loss; use a gamma >= 0 (below 1 to decay)")


def _checked_eta_min(eta_min: Any) -> float:
    """A cosine schedule's floor ``eta_min``: a finite number >= 0."""
    return check_number("eta_min", eta_min, why="a negative eta_min takes the lr below 0 near the bottom of the "
                        "cosine, where the step climbs the loss; use eta_min >= 0")


def _share_done(schedule: Any) -> float:
    """``min(e, total_iters) / total_iters``, the share of a ``LinearLR`` or ``PolynomialLR`` done at epoch e, for
    ``step(epoch)``; with ``total_iters = 0`` there is none (PyTorch raises ZeroDivisionError there too)."""
    if schedule.total_iters == 0:
        raise ZeroDivisionError(f"{type(schedule).__name__}.step(epoch) with total_iters=0 divides by total_iters; "
                                "call step() without an epoch")
    return min(schedule.total_iters, schedule.last_epoch) / schedule.total_iters


class LinearLR(LRScheduler):
    """Scale the lr linearly from ``start_factor``·η₀ to ``end_factor``·η₀ over ``total_iters`` epochs.

    ``ηₑ = η₀ · (f₀ + (f₁ − f₀)·min(e, total_iters)/total_iters)``, the usual warm-up; computed,
    like PyTorch, as a ratio to the current lr so that other changes to ``group["lr"]`` carry on.
    With ``end_factor=0`` that ratio rounds to about −2·10⁻¹⁶ at the last epoch; the lr is kept at 0
    there (PyTorch keeps the tiny negative lr, which the optimizer's ``load_state_dict`` would refuse).

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> warmup = LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> lrs = [warmup.get_last_lr()[0]]
    >>> for _ in range(4):
    ...     opt.step()
    ...     warmup.step()
    ...     lrs.append(round(warmup.get_last_lr()[0], 6))
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        self.start_factor = check_number("start_factor", start_factor, 0.0, 1.0, low_included=False,
                                         high_included=True)
        self.end_factor = check_number("end_factor", end_factor, 0.0, 1.0, high_included=True)
        self.total_iters = check_count("total_iters", total_iters, 0, whole_floats=True)
        if self.total_iters == 0 and self.start_factor != self.end_factor:
            warnings.warn(f"LinearLR with total_iters=0 holds the lr at start_factor·lr ({self.start_factor:g}·lr) "
                          "forever, as PyTorch's does: it never reaches end_factor; pass total_iters >= 1 to warm up, "
                          "or drop the scheduler", UserWarning, stacklevel=2)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current_lrs()
        change = self.end_factor - self.start_factor
        ratio = 1 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [max(lr * ratio, 0.0) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        done = _share_done(self)
        return [base * (self.start_factor + (self.end_factor - self.start_factor) * done) for base in self.base_lrs]

    def _lrs_at_start(self) -> list[float]:
        return [base * self.start_factor for base in self.base_lrs]


class _Schedules(LRScheduler):
    """A schedule made of other schedules on one optimizer (:class:`SequentialLR`, :class:`ChainedScheduler`):
    they are checked once, and saved and restored with it."""

    _unsaved = (*LRScheduler._unsaved, "_schedulers")

    @staticmethod
    def _checked(name: str, schedulers: Sequence[LRScheduler], optimizer: Optimizer) -> list[LRScheduler]:
        schedulers = list(schedulers)
        if not schedulers:
            raise ValueError(f"{name} expects at least one scheduler, but got none")
        for position, scheduler in enumerate(schedulers):
            if isinstance(scheduler, ReduceLROnPlateau) or not isinstance(scheduler, LRScheduler):
                # PyTorch's errors: a ValueError for ReduceLROnPlateau, a TypeError for what is no schedule
                raise (ValueError if isinstance(scheduler, ReduceLROnPlateau) else TypeError)(
                    f"{name}: the scheduler at index {position} is a {type(scheduler).__name__}; it takes schedules "
                    "stepped without arguments (not ReduceLROnPlateau)")
            if scheduler.optimizer is not optimizer:
                raise ValueError(f"{name}: the scheduler at index {position} belongs to another optimizer; "
                                 "build every scheduler on the same optimizer")
        return schedulers

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "_schedulers": [scheduler.state_dict() for scheduler in self._schedulers]}

    def _lrs_at_start(self) -> list[float]:
        """A schedule of schedules has no lrs of its own to restart from: ``SequentialLR`` cannot start one afresh
        at a milestone (PyTorch's raises NotImplementedError there too)."""
        raise NotImplementedError(f"SequentialLR cannot restart a {type(self).__name__} at a milestone: it has no "
                                  "lrs of its own to start from; list its schedules in the SequentialLR itself, "
                                  "or put it first (before every milestone)")

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict({key: value for key, value in state_dict.items() if key != "_schedulers"})
        for scheduler, saved in zip(self._schedulers, state_dict["_schedulers"]):
            scheduler.load_state_dict(saved)


class SequentialLR(_Schedules):
    """Run ``schedulers`` one after another, switching at the epochs in ``milestones``.

    ``SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, T_max=45)],
    milestones=[5])``: five epochs of warm-up, then a cosine decay that starts again from the
    starting lr (each scheduler is restarted at its milestone, as in PyTorch).
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        schedulers = self._checked("SequentialLR", schedulers, optimizer)
        milestones = [check_count("milestone", milestone, 0) for milestone in milestones]
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one milestone fewer than schedulers, but got {len(schedulers)} "
                             f"schedulers and {len(milestones)} milestones")
        self.optimizer = optimizer
        self._schedulers, self._milestones = schedulers, milestones
        self.last_epoch = last_epoch + 1
        for group in optimizer.param_groups:  # undo what building the schedulers did
            _write_lr(group, group["initial_lr"])
        for scheduler in schedulers:
            _undo_first_step(scheduler)
        first = schedulers[bisect.bisect_right(milestones, 0)]
        first._step_count, first._is_initial = 0, True
        first.step()
        first._is_initial = False
        self._last_lr = first.get_last_lr()  # no base_lrs of its own, as PyTorch's: each schedule has its own

    def step(self) -> None:
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:  # its first epoch: start it afresh
            scheduler.last_epoch = 0
            with scheduler._stepping():
                scheduler._set_lrs(scheduler._lrs_at_start())
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _undo_first_step(scheduler: LRScheduler) -> None:
    """Take back the step ``scheduler`` took when it was built, as PyTorch's ``SequentialLR`` does: a schedule of
    schedules (``SequentialLR``, ``ChainedScheduler``) is looked into, down to the schedules themselves, and its own
    count is left as it is."""
    inner = getattr(scheduler, "_schedulers", None)
    if inner is None:
        scheduler.last_epoch -= 1
        return
    for each in inner:
        _undo_first_step(each)


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[float]:
    """One number per parameter group: ``value`` itself for all, or a list with one per group (each kept as given,
    :func:`check_number`: PyTorch's ``min_lr=0`` stays the int 0 in ``min_lrs``)."""
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(f"expected {groups} values for {name} (one per parameter group), got {len(value)}")
        return [check_number(name, item) for item in value]
    return [check_number(name, value)] * groups


def _checked_pct_start(pct_start: Any) -> float:
    """OneCycleLR's ``pct_start``, the share of the steps spent rising: a float in [0, 1]. PyTorch takes only a
    ``float`` there, so an int (``pct_start=1``), a bool or a tensor is refused with its ``ValueError``."""
    if isinstance(pct_start, (Real, Tensor)) and not isinstance(pct_start, float):
        fix = (f"pct_start={float(f'{float(pct_start):.7g}')!r}" if isinstance(pct_start, Real)  # float32's 7 digits
               else "a Python float such as 0.3")
        raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start} (PyTorch takes only a "
                         f"float here); pass {fix}")
    return check_number("pct_start", pct_start, 0.0, 1.0, high_included=True)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018): warm up to ``max_lr``, then anneal far below the start.

    Step it after every *batch* (``total_steps`` = epochs × batches per epoch). The lr starts at
    ``max_lr/div_factor``, rises to ``max_lr`` over the first ``pct_start`` of the steps, then
    falls to ``start/final_div_factor``; with ``three_phase=True`` it first comes back down to the
    start symmetrically, then falls. Each phase anneals by half a cosine (``"cos"``:
    ``end + (start − end)·(1 + cos(π·p))/2``) or a straight line (``"linear"``), ``p`` the fraction
    of the phase done. With ``cycle_momentum`` the momentum (SGD, RMSprop) or β₁ (Adam family)
    moves the opposite way, between ``max_momentum`` and ``base_momentum``.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    >>> schedule = OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> round(schedule.get_last_lr()[0], 6), opt.param_groups[0]["momentum"]   # max_lr / 25, max_momentum
    (0.04, 0.95)
    """

    _renamed = {"anneal_strategy": "_anneal_func_type", "_phases": "_schedule_phases"}

    def __init__(self, optimizer: Optimizer, max_lr: float | Sequence[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True,
                 base_momentum: float | Sequence[float] = 0.85, max_momentum: float | Sequence[float] = 0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4, three_phase: bool = False,
                 last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        if total_steps is not None:
            self.total_steps = check_count("total_steps", total_steps, fraction_error=ValueError)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = (check_count("epochs", epochs, fraction_error=ValueError)
                                * check_count("steps_per_epoch", steps_per_epoch, fraction_error=ValueError))
        else:
            raise ValueError("OneCycleLR: give either total_steps or both epochs and steps_per_epoch")
        pct_start = _checked_pct_start(pct_start)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy  # PyTorch's names: its state dicts carry them, loading restores them
        rise_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            phases = [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum",
                       "max_momentum"),
                      (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            phases = [(rise_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                      (self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        self._schedule_phases = _phase_dicts(phases)
        if last_epoch == -1:
            for group, peak in zip(optimizer.param_groups, _per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = peak / check_number("div_factor", div_factor, low_included=False)
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / check_number("final_div_factor", final_div_factor,
                                                                     low_included=False)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: {type(optimizer).__name__} has no momentum or betas to cycle; "
                                 "pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                for group, high, low in zip(optimizer.param_groups,
                                            _per_group("max_momentum", optimizer, max_momentum),
                                            _per_group("base_momentum", optimizer, base_momentum)):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict[str, Any], value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, done: float) -> float:
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * done) + 1)
        return (end - start) * done + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"Tried to step {step} times. The specified number of total steps is "
                             f"{self.total_steps}; build OneCycleLR with the number of batches you train on")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for number, phase in enumerate(self._schedule_phases):
                end = phase["end_step"]
                if step <= end or number == len(self._schedule_phases) - 1:
                    done = (step - start) / (end - start)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], done))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[phase["start_momentum"]],
                                                               group[phase["end_momentum"]], done))
                    break
                start = end
        return lrs

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from a state dict: PyTorch's or glassgrad's, or one an older glassgrad saved (its phases tuples)."""
        super().load_state_dict(state_dict)
        self._schedule_phases = _phase_dicts(self._schedule_phases)

    def _lrs_at_start(self) -> list[float]:
        return self.get_lr()


_PHASE_KEYS = ("end_step", "start_lr", "end_lr", "start_momentum", "end_momentum")


def _phase_dicts(phases: list[Any]) -> list[dict[str, Any]]:
    """OneCycleLR's phases as PyTorch keeps them, one dict per phase (:data:`_PHASE_KEYS`: the phase's last step, and
    the group keys its lr and momentum anneal from and to); a phase given as a tuple in that order (an older
    glassgrad's state dict) becomes one."""
    return [dict(phase) if isinstance(phase, dict) else dict(zip(_PHASE_KEYS, phase, strict=True))
            for phase in phases]


def _worst(mode: str) -> float:
    """The metric worse than any other for ``ReduceLROnPlateau``'s ``mode``: +∞ when lower is better ("min")."""
    return math.inf if mode == "min" else -math.inf


class ReduceLROnPlateau(LRScheduler):
    """Lower the lr when a watched number (the validation loss) stops improving.

    Call ``scheduler.step(val_loss)`` after each epoch. An epoch is *better* when the metric beats
    the best so far by ``threshold`` (``mode="min"``: below ``best·(1 − threshold)`` with
    ``threshold_mode="rel"``, below ``best − threshold`` with ``"abs"``; ``"max"`` the other way).
    After more than ``patience`` epochs in a row that are not better, every lr becomes
    ``max(lr·factor, min_lr)`` (changes smaller than ``eps`` are skipped), then ``cooldown`` epochs
    pass before bad epochs count again.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> plateau = ReduceLROnPlateau(opt, factor=0.5, patience=1)
    >>> for loss in [3.0, 2.0, 2.0, 2.0, 1.0]:
    ...     plateau.step(loss)
    >>> plateau.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | Sequence[float] = 0, eps: float = 1e-8) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        self.factor = check_number("factor", factor, 0.0, 1.0)
        self.optimizer = optimizer
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else self.min_lrs[0]
        self.patience = check_count("patience", patience, None, whole_floats=True)  # < 0: lower at every epoch
        self.cooldown = check_count("cooldown", cooldown, 0, whole_floats=True)
        self.eps = check_number("eps", eps)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.mode, self.threshold, self.threshold_mode = mode, check_number("threshold", threshold), threshold_mode
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.mode_worse = _worst(mode)
        self._reset()

    def _reset(self) -> None:
        """Start watching afresh, as PyTorch's method of this name: no best yet (:attr:`mode_worse`), no bad epochs,
        no cooldown."""
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`'s output; :attr:`mode_worse` follows the loaded ``mode`` (a state saved
        without it, by an older glassgrad, loads too)."""
        super().load_state_dict(state_dict)
        self.mode_worse = _worst(self.mode)

    def _is_better(self, value: float) -> bool:
        best = self.best
        if self.threshold_mode == "rel":
            return value < best * (1 - self.threshold) if self.mode == "min" else value > best * (1 + self.threshold)
        return value < best - self.threshold if self.mode == "min" else value > best + self.threshold

    def step(self, metrics: Any, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record one epoch's ``metrics`` (a number, or a one-element tensor) and lower the lr if it has plateaued.

        ``epoch`` (deprecated, as in PyTorch: it warns) only sets ``last_epoch``."""
        note_unreplayable(UNREPLAYABLE_STEP)
        try:
            current = float(metrics)
        except (TypeError, ValueError) as error:  # PyTorch's float(metrics) raises: its class (a tensor of 2: Value)
            raise type(error)(f"ReduceLROnPlateau.step needs the watched number (e.g. the validation loss), got "
                              f"{shown(metrics)}; pass one number, such as val_loss.item()") from None
        if epoch is None:
            self.last_epoch += 1
        else:
            warnings.warn(EPOCH_ARGUMENT_WARNING, UserWarning, stacklevel=3)
            self.last_epoch = epoch
        if self._is_better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._fit_min_lrs()
            for group, low in zip(self.optimizer.param_groups, self.min_lrs):
                new_lr = max(group["lr"] * self.factor, low)
                if group["lr"] - new_lr > self.eps:
                    _write_lr(group, new_lr)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()


    @property
    def in_cooldown(self) -> bool:
        """Whether the epochs after a lowering are still passing, in which bad epochs do not count."""
        return self.cooldown_counter > 0

    def _fit_min_lrs(self) -> None:
        """One ``min_lr`` per group again after ``add_param_group``: the one ``min_lr`` given for all, or an error
        when one was given per group (PyTorch's rule), rather than a new group whose lr is never lowered."""
        groups = len(self.optimizer.param_groups)
        if len(self.min_lrs) == groups:
            return
        if self.default_min_lr is None:
            raise RuntimeError(f"The number of param groups in the optimizer ({groups}) differs from when "
                               f"ReduceLROnPlateau was initialized ({len(self.min_lrs)}), usually due to a new param "
                               f"group being added to the optimizer; set scheduler.min_lrs to {groups} values")
        self.min_lrs = [self.default_min_lr] * groups


_LRScheduler = LRScheduler
"""The base class's older name: custom schedules written before PyTorch 2.0 subclass it."""

__all__ = ["CosineAnnealingLR", "ExponentialLR", "LRScheduler", "LambdaLR", "LinearLR", "OneCycleLR",
           "ReduceLROnPlateau", "SequentialLR", "StepLR"]


# --- more of PyTorch's schedules: MultiStepLR, ConstantLR, MultiplicativeLR, PolynomialLR, -------------
# --- CosineAnnealingWarmRestarts, CyclicLR, ChainedScheduler ---------------------------------------


class MultiStepLR(LRScheduler):
    """Multiply the lr by ``gamma`` at each epoch listed in ``milestones``: ``ηₑ = η₀·γ^(milestones ≤ e)``.

    ``milestones`` is kept as PyTorch keeps it, a ``Counter`` of epoch → times listed (a milestone listed twice
    multiplies twice), so that either library's state dict loads into the other.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = MultiStepLR(opt, milestones=[1, 3], gamma=0.5)
    >>> opt.step()   # optimizer.step() comes before the first schedule.step()
    >>> [schedule.get_last_lr()[0]] + [(schedule.step(), schedule.get_last_lr()[0])[1] for _ in range(3)]
    [1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer: Optimizer, milestones: Sequence[float], gamma: float = 0.1,
                 last_epoch: int = -1) -> None:
        self.milestones = Counter(check_steps("milestone", milestone, low_included=True) for milestone in milestones)
        self.gamma = _checked_gamma(gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        times = self.milestones[self.last_epoch]
        return [lr * self.gamma ** times for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base * self.gamma ** passed for base in self.base_lrs]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from a state dict; its milestones a ``Counter`` (PyTorch's and glassgrad's) or the sorted list an
        older glassgrad saved."""
        super().load_state_dict(state_dict)
        self.milestones = Counter(self.milestones)


class ConstantLR(LRScheduler):
    """Hold the lr at ``factor``·η₀ for the first ``total_iters`` epochs, then at η₀.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = ConstantLR(opt, factor=0.5, total_iters=2)
    >>> opt.step()   # optimizer.step() comes before the first schedule.step()
    >>> [schedule.get_last_lr()[0]] + [(schedule.step(), schedule.get_last_lr()[0])[1] for _ in range(3)]
    [0.5, 0.5, 1.0, 1.0]
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1) -> None:
        self.factor = check_number("factor", factor, 0.0, 1.0, high_included=True)
        self.total_iters = check_count("total_iters", total_iters, 0, whole_floats=True)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr / self.factor for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        factor = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base * factor for base in self.base_lrs]

    def _lrs_at_start(self) -> list[float]:
        return [base * self.factor for base in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """Multiply the lr by ``lr_lambda(e)`` at every epoch e ≥ 1 (one function, or one per group): the factors
    compound, unlike :class:`LambdaLR`'s."""

    _unsaved = (*LRScheduler._unsaved, "lr_lambdas")
    _functions = ("lr_lambdas",)

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
                 last_epoch: int = -1) -> None:
        groups = len(getattr(optimizer, "param_groups", ()))
        functions = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * groups
        if len(functions) != groups or not all(callable(function) for function in functions):
            raise ValueError(f"MultiplicativeLR: lr_lambda must be a function of the epoch, or a list of {groups} "
                             "(one per parameter group)")
        self.lr_lambdas = functions
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return self._multiplied(self.last_epoch)

    def _multiplied(self, epoch: int) -> list[float]:
        return [check_number(f"learning rate from lr_lambda at epoch {epoch}", lr * function(epoch))
                for lr, function in zip(self._current_lrs(), self.lr_lambdas)]

    def _lrs_at_start(self) -> list[float]:
        """Restarted by ``SequentialLR``: the lr it finds times ``lr_lambda(0)``, as PyTorch's."""
        return self._multiplied(0)


class PolynomialLR(LRScheduler):
    """Decay the lr to 0 over ``total_iters`` epochs along ``(1 − e/total_iters)^power``, then hold it.

    >>> import glassgrad as gg
    >>> opt = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    >>> schedule = PolynomialLR(opt, total_iters=4, power=1.0)
    >>> opt.step()   # optimizer.step() comes before the first schedule.step()
    >>> [round((schedule.step(), schedule.get_last_lr()[0])[1], 6) for _ in range(5)]
    [0.75, 0.5, 0.25, 0.0, 0.0]
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1) -> None:
        self.total_iters = check_count("total_iters", total_iters, 0, whole_floats=True)  # 0: the lr is kept
        self.power = check_number("power", power, why="a negative power makes the lr grow without bound toward "
                                  "total_iters and divide by 0 there; use power >= 0 such as 1.0")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        epoch = self.last_epoch
        if self._is_initial or epoch > self.total_iters:  # built (or resumed with last_epoch): the lrs as they are
            return self._current_lrs()
        ratio = ((1 - epoch / self.total_iters) / (1 - (epoch - 1) / self.total_iters)) ** self.power
        return [lr * ratio for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        left = 1 - _share_done(self)
        return [base * left ** self.power for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR's cosine with restarts: within each run of ``Tᵢ`` epochs,
    ``η = η_min + (η₀ − η_min)·(1 + cos(π·T_cur/Tᵢ))/2``; the first run lasts ``T_0`` epochs, each next one
    ``T_mult`` times longer. ``step(epoch)`` may also be given a fractional epoch (stepping per batch)."""

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1) -> None:
        self.T_0 = check_count("T_0", T_0, fraction_error=ValueError)  # PyTorch: "Expected positive integer T_0"
        self.T_mult = check_count("T_mult", T_mult, fraction_error=ValueError)
        self.eta_min = _checked_eta_min(eta_min)
        self.T_i, self.T_cur = self.T_0, last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        share = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * share for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Move to the next epoch, or to ``epoch`` (fractional for a step per batch). Before epoch 0
        (``last_epoch < 0``, as ``SequentialLR`` leaves a first schedule it starts) the next epoch is 0 and its run
        starts afresh, as PyTorch's: counting on from ``T_cur`` would start the cosine one step down."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:  # a remainder, as PyTorch: resumed with last_epoch, T_cur starts there
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, got {epoch}")
            self.T_cur, self.T_i = self._position(epoch)
        self.last_epoch = math.floor(epoch)  # _step_count stays 0, as PyTorch's (its step counts nothing)
        with self._stepping():
            self._set_lrs(self.get_lr())

    def _position(self, epoch: float) -> tuple[float, int]:
        """Where ``epoch`` falls: the epochs into its run, and that run's length."""
        if epoch < self.T_0:
            return epoch, self.T_0
        if self.T_mult == 1:
            return epoch % self.T_0, self.T_0
        runs = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
        return (epoch - self.T_0 * (self.T_mult ** runs - 1) / (self.T_mult - 1),
                self.T_0 * self.T_mult ** runs)


class CyclicLR(LRScheduler):
    """Cycle the lr between ``base_lr`` and ``max_lr`` (Smith, 2017), stepped after every *batch*: up over
    ``step_size_up`` steps, down over ``step_size_down`` (the same by default). ``mode``: ``'triangular'``
    (every cycle the same), ``'triangular2'`` (the height halves each cycle), ``'exp_range'`` (it shrinks by
    ``gamma`` per step); or ``scale_fn`` with ``scale_mode`` ``'cycle'``/``'iterations'``. With
    ``cycle_momentum`` the momentum (or β₁) moves the other way, between ``max_momentum`` and ``base_momentum``.
    """

    _unsaved = (*LRScheduler._unsaved, "_scale_fn_custom")
    _functions = ("_scale_fn_custom",)  # PyTorch's name, so that either library loads the other's state dict

    def __init__(self, optimizer: Optimizer, base_lr: float | Sequence[float], max_lr: float | Sequence[float],
                 step_size_up: float = 2000, step_size_down: float | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | Sequence[float] = 0.8,
                 max_momentum: float | Sequence[float] = 0.9, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer; pass e.g. gg.optim.SGD(...)")
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range', got {mode!r}")
        up = check_steps("step_size_up", step_size_up)
        down = up if step_size_down is None else check_steps("step_size_down", step_size_down, low_included=True)
        self.total_size, self.step_ratio = float(up + down), up / (up + down)
        self.mode, self.gamma = mode, _checked_gamma(gamma)
        self._scale_fn_custom, self.scale_mode = scale_fn, scale_mode if scale_fn is not None else (
            "iterations" if mode == "exp_range" else "cycle")
        lows = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, low in zip(optimizer.param_groups, lows):  # initial_lr: the group's, if it has one
                _write_lr(group, low)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"CyclicLR: {type(optimizer).__name__} has no momentum or betas to cycle; "
                                 "pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:  # the bounds written into each group too, as PyTorch's
                for group, high, low in zip(optimizer.param_groups, self.max_momentums, self.base_momentums):
                    OneCycleLR._set_momentum(self, group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = lows

    def _scale(self, x: float) -> float:
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / 2.0 ** (x - 1)
        return self.gamma ** x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        rise = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [low + (high - low) * rise * scale for low, high in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                OneCycleLR._set_momentum(self, group, high - (high - low) * rise * scale)
        return lrs


class ChainedScheduler(_Schedules):
    """Step several schedules together at every ``step()``: their changes to the lr compound (e.g. a
    ``ConstantLR`` warm-up and an ``ExponentialLR`` decay)."""

    def __init__(self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None) -> None:
        schedulers = list(schedulers)
        owner = optimizer if optimizer is not None or not schedulers else schedulers[0].optimizer
        self._schedulers = self._checked("ChainedScheduler", schedulers, owner)
        self.optimizer = owner
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


def _function_state(function: Any) -> dict | None:
    """What a state dict keeps of one of a schedule's functions: a callable object's attributes; None for a plain
    function (or None), whose code is not saved."""
    if function is None or isinstance(function, types.FunctionType):
        return None
    return dict(function.__dict__)
