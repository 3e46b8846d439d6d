"""Checking hyper-parameters before they reach an update rule.

A negative learning rate climbs the loss instead of descending it, ``eps = 0`` can divide
by zero, ``beta = 1`` freezes Adam's averages forever: each of these is refused up front
with a ``ValueError`` that names the value and the range it must lie in.

>>> check_number("learning rate", 0.1)
0.1
>>> check_number("learning rate", -0.1)
Traceback (most recent call last):
...
ValueError: Invalid learning rate: -0.1 (must be a finite number >= 0)
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..arguments import shown
from ..tensor import Tensor


def _range_text(low: float, high: float | None, low_included: bool, high_included: bool) -> str:
    low_text = f"{low:g}"
    if high is None:
        return (">= " if low_included else "> ") + low_text
    return "in " + ("[" if low_included else "(") + f"{low_text}, {high:g}" + ("]" if high_included else ")")


def check_number(
    label: str,
    value: Any,
    low: float = 0.0,
    high: float | None = None,
    *,
    low_included: bool = True,
    high_included: bool = False,
    why: str = "",
) -> float:
    """``value``, after checking it is a finite number in the allowed range.

    The range is ``[low, ∞)`` by default; ``high`` closes it, ``low_included`` /
    ``high_included`` choose ``[`` or ``(`` at either end. Raises ``TypeError`` for a
    non-number and ``ValueError`` for a number out of range (NaN and ±inf included). A bool is the number Python
    makes it (``True`` is 1), as PyTorch computes with it.
    A Python number comes back as given, as PyTorch keeps it (``print(optimizer)`` shows ``weight_decay: 0`` for
    the default ``0``, ``lr: 1`` for ``lr=1``); another number (NumPy's, whose type would set the dtype of the
    arithmetic it enters) comes back as a float. A one-element tensor counts as the number it holds (PyTorch takes
    ``lr=torch.tensor(0.01)``); the option then holds that number as a float. ``why`` (what goes wrong outside the
    range, and the fix) is added to the ``ValueError``'s message.
    """
    allowed = _range_text(low, high, low_included, high_included)
    if isinstance(value, Tensor):
        if value.array.size != 1:
            raise ValueError(f"Invalid {label}: a tensor of shape {tuple(value.shape)} (a tensor given as "
                             f"{label} must hold one number); pass a float")
        value = value.item()
    if not isinstance(value, numbers.Real):  # a bool is Python's 0 or 1, as PyTorch takes it (lr=True steps by 1)
        raise TypeError(f"Invalid {label}: {shown(value)} (must be a finite number {allowed})")
    number = float(value)
    above_low = number >= low if low_included else number > low
    below_high = high is None or (number <= high if high_included else number < high)
    if not (math.isfinite(number) and above_low and below_high):
        raise ValueError(f"Invalid {label}: {value} (must be a finite number {allowed})" + (f"; {why}" if why else ""))
    return value if type(value) in (int, float, bool) else number


def check_count(label: str, value: Any, low: int | None = 1, *, whole_floats: bool = False,
                fraction_error: type[Exception] = TypeError) -> int:
    """``value`` if it is a whole number ``>= low`` (a step count, a period; any whole number for ``low=None``), else
    an error: a ``ValueError`` below ``low``, a ``TypeError`` for what is no number, and ``fraction_error`` for a
    number that is not an int (``1.5``, ``2.0``): ``ValueError`` where PyTorch checks ``isinstance(value, int)`` and
    raises that (``CosineAnnealingWarmRestarts``'s ``T_0``, ``OneCycleLR``'s ``total_steps``).

    A bool is the whole number it is (``True``: 1), as PyTorch's ``isinstance(value, int)`` takes it.

    ``whole_floats=True`` also takes a float holding a whole number (``1.0``) as that number, where PyTorch only
    computes with the value (``StepLR(optimizer, 1.0, gamma=0.95)`` in the transformer tutorial).
    """
    if isinstance(value, bool):  # an int in Python, and PyTorch's checks take it: True counts 1
        value = int(value)
    if whole_floats and isinstance(value, numbers.Real) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, numbers.Integral):
        number = isinstance(value, numbers.Real)
        raise (fraction_error if number else TypeError)(f"Invalid {label}: {shown(value)} (must be a whole number"
                        + ("" if low is None else f" >= {low}") + ")")
    if low is not None and value < low:
        raise ValueError(f"Invalid {label}: {value} (must be a whole number >= {low})")
    return int(value)


def check_steps(label: str, value: Any, low: float = 0.0, *, low_included: bool = False) -> int | float:
    """A number of steps or epochs that PyTorch only computes with (a period, a milestone, an iteration cap),
    after checking it is a finite number in ``[low, ∞)`` (``(low, ∞)`` by default): a whole number as an ``int``, a
    fraction kept as it is (``CosineAnnealingLR(T_max=len(loader) * epochs / 2)`` gives ``7.5``; the schedule then
    computes with 7.5, as PyTorch's does). Negative, NaN and infinite values and non-numbers are refused.
    """
    number = check_number(label, value, low, low_included=low_included)
    return int(number) if float(number).is_integer() else number


def check_eps(value: Any, typical: float) -> float:
    """The ``eps`` of a denominator ``√v + ε`` (Adam, AdamW, Adagrad, RMSprop), checked to be > 0.

    PyTorch takes ``eps = 0``, but then a parameter whose gradient has been 0 so far has ``v = 0`` and its step is
    ``0 / (0 + 0)`` = NaN: a silent NaN weight, so 0 is refused, and the message says why and what to pass
    (``typical``, the optimizer's default).
    """
    return check_number("epsilon value", value, low_included=False,
                        why=f"with eps = 0 a parameter whose gradient is 0 gets 0/0 = NaN; use a small eps such as "
                            f"{typical:g}")


def check_pair(value: Any, what: str) -> None:
    """``value`` is a sequence of two entries (``betas``, Rprop's ``etas``/``step_sizes``, Adafactor's ``eps``);
    otherwise a TypeError whose message ``what`` says what the pair holds, e.g. "betas must be a pair of …"."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise TypeError(f"{what}, not {shown(value)}")


BETAS_PAIR = "betas must be a pair of numbers (beta1, beta2) such as (0.9, 0.999)"
"""What :func:`check_pair` says of ``betas`` that are no pair."""


def as_given(given: Any, numbers: tuple[Any, ...], tensors: bool = False) -> Any:
    """``given`` (a pair or triple of options, already checked into ``numbers``) as the user passed it, as PyTorch
    keeps it (``etas=[0.5, 1.2]`` stays a list in ``param_groups`` and ``state_dict()``), where each entry is the
    number :func:`check_number` returned for it (a Python number), or a tensor with ``tensors=True`` (read at each
    step, as a tensor ``lr``); else ``numbers`` (a NumPy number as a float, a tensor as the number it holds)."""
    kept = all(number is value or (tensors and isinstance(value, Tensor)) for value, number in zip(given, numbers))
    return given if kept else numbers


def check_betas(betas: Any) -> Any:
    """``betas`` checked to be a pair of numbers in [0, 1) (Adam's family: the decay of the two running averages),
    returned as given (:func:`as_given`: a list stays a list, a tensor stays a tensor, read at each step)."""
    check_pair(betas, BETAS_PAIR)
    numbers = tuple(check_number(f"beta parameter at index {index}", beta, 0.0, 1.0)
                    for index, beta in enumerate(betas))
    return as_given(betas, numbers, tensors=True)


def check_betas_and_eps(options: dict[str, Any]) -> dict[str, Any]:
    """Adam's family (Adamax, NAdam, RAdam): ``betas`` a pair in [0, 1) and ``eps`` >= 0, checked in ``options``."""
    options["betas"] = check_betas(options["betas"])
    options["eps"] = check_number("epsilon value", options["eps"])
    return options
