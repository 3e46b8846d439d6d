"""What every distribution shares: its shapes, ``sample``/``rsample``, ``expand``, and the parameter checks.

A distribution's **batch shape** is how many independent distributions it holds (one per entry of
``loc``, say); its **event shape** is the shape of one draw (``()`` for a number, ``(n,)`` for a
vector). ``sample(sample_shape)`` returns ``sample_shape + batch_shape + event_shape`` numbers and
``log_prob(x)`` one log density per batch entry.

``rsample`` is the *reparameterised* draw: noise ε from a fixed distribution pushed through a
differentiable map of the parameters (``x = μ + σ·ε``), so ``∂x/∂θ`` exists and a loss of ``x``
trains θ. ``sample()`` is the same draw with no gradient. The noise comes from glassgrad's generator
(:func:`glassgrad.manual_seed` repeats it); the numbers differ from PyTorch's for one seed.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from ..arguments import Size, broadcast_error, shape_text
from ..autograd import enable_grad, recorded_call
from ..creation import as_tensor, drawn
from ..tensor import Tensor


class lazy_property:  # noqa: N801 (PyTorch's name, used as a decorator)
    """A method read as an attribute, computed the first time (gradients recorded, even under ``no_grad``) and then
    stored on the instance, so later reads cost nothing."""

    def __init__(self, wrapped: Callable[[Any], Any]) -> None:
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)  # type: ignore[arg-type]

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def as_float(value: Any) -> Tensor:
    """A parameter as a float tensor (a Python number becomes a float32 0-d tensor, as PyTorch's default)."""
    t = as_tensor(value)
    return t if t.dtype.kind == "f" else t.float()


def as_scored_float(value: Tensor, like: Tensor) -> Tensor:
    """A value to score against the parameter ``like``: an integer or bool tensor (counts, classes) in ``like``'s
    float dtype, a float tensor as it is, so a float64 value scored against float32 parameters gives a float64 score,
    as PyTorch's type promotion does (casting it to ``like``'s dtype rounded it to float32)."""
    return value if value.dtype.kind == "f" else value.to(like.dtype)


def broadcast_all(*values: Any) -> list[Tensor]:
    """The parameters as float tensors of one shape; a Python number takes the dtype of the tensors given."""
    tensors = [as_float(v) for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else None
    floats = [as_float(v) if isinstance(v, Tensor) else as_tensor(float(v), dtype=dtype) for v in values]
    shapes = [tuple(t.shape) for t in floats]
    try:
        shape = tuple(np.broadcast_shapes(*shapes))
    except ValueError:  # PyTorch's class and a line naming the shapes, not NumPy's ValueError
        if (error := broadcast_error("broadcast_all", *shapes)) is None:
            raise
        raise error from None
    return [expand_to(t, shape) for t in floats]


def expand_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``t`` expanded to ``shape`` (itself when it has that shape already)."""
    return t if tuple(t.shape) == tuple(shape) else t.expand(shape)


def as_shape(sample_shape: Any) -> tuple[int, ...]:
    """``sample_shape`` (a tuple, a Size, a list or one int) as a tuple, refused with PyTorch's RuntimeError if a
    size is negative (NumPy's ValueError came from deep inside the draw)."""
    shape = tuple(sample_shape) if not isinstance(sample_shape, int) else (sample_shape,)
    if any(size < 0 for size in shape):
        raise RuntimeError(f"sample shape {shape_text(shape)} has a negative size; sizes must be >= 0")
    return shape


def listed(values: Tensor) -> str:
    """The first entries of ``values`` on one line, for an error message."""
    return listed_array(values.detach().numpy())


def listed_array(array: np.ndarray) -> str:
    """:func:`listed` of an array."""
    flat = np.asarray(array).ravel()
    return np.array2string(flat[:8], separator=", ") + (" …" if flat.size > 8 else "")


def refuse_unless(holds: Tensor, before: str, shown: Tensor | None = None, after: str = "") -> None:
    """``ValueError(before + the first entries of shown + after)`` unless every entry of ``holds`` is true. One kernel
    of a compiled step (:mod:`glassgrad.compiler`), so a replay checks each call's values, as eager does; read in
    Python, they would be the captures' only."""
    recorded_call(_all_or_refuse, holds.array, before, None if shown is None else shown.array, after)


def _all_or_refuse(holds: np.ndarray, before: str, shown: np.ndarray | None, after: str) -> None:
    if not np.all(holds):
        raise ValueError(before + ("" if shown is None else listed_array(shown)) + after)


def refuse_outside(constraint: Any, value: Tensor, before: str, after: str) -> None:
    """``ValueError(before + the constraint + ", got " + the first entries of value + after)`` unless ``value``
    satisfies ``constraint``: one kernel of a compiled step, as :func:`refuse_unless`. A constraint whose bounds are
    tensors (a Uniform's support from its low and high) is shown with the bounds of the call that failed: the kernel
    gets its text with a mark for each tensor (:func:`_marked`), and the tensors, so a replay prints its own values,
    as eager does."""
    holds = constraint.check(value).detach()
    bounds: list[Tensor] = []
    template = str(_marked(constraint, bounds))
    recorded_call(_inside_or_refuse, holds.array, before, template, value.array, after,
                  tuple((bound.requires_grad, bound._op) for bound in bounds), *(bound.array for bound in bounds))


def _mark(number: int) -> str:
    """Where the tensor bound ``number`` stands in a constraint's text handed to :func:`_inside_or_refuse`."""
    return f"\x00{number}\x00"


def _marked(part: Any, bounds: list[Tensor]) -> Any:
    """``part`` (a constraint, a list of them, a bound) with each tensor it holds (in its attributes, and in the
    constraints it holds) appended to ``bounds`` and replaced by its :func:`_mark`: a copy when it holds one."""
    if isinstance(part, Tensor):
        bounds.append(part)
        return _mark(len(bounds) - 1)
    if type(part) in (list, tuple):
        return type(part)(_marked(inner, bounds) for inner in part)
    if not hasattr(part, "check") or not hasattr(part, "__dict__"):
        return part
    marked = {name: _marked(inner, bounds) for name, inner in vars(part).items()}
    if all(marked[name] is inner for name, inner in vars(part).items()):
        return part
    changed = copy.copy(part)
    vars(changed).update(marked)
    return changed


def _inside_or_refuse(holds: np.ndarray, before: str, template: str, shown: np.ndarray, after: str,
                      looks: tuple, *bounds: np.ndarray) -> None:
    """:func:`refuse_outside`'s kernel: the constraint's text is ``template`` with each mark replaced by its bound,
    the array of this call printed as its tensor was (``looks``: its ``requires_grad`` and the op that made it), on
    one line."""
    if not np.all(holds):
        text = template
        for number, ((requires_grad, op), array) in enumerate(zip(looks, bounds, strict=True)):
            printed = Tensor._wrap(array, requires_grad)
            printed._op = op
            text = text.replace(_mark(number), f"{printed}")  # as the constraint writes it: a 0-d one as its number
        _all_or_refuse(holds, f"{before}{' '.join(text.split())}, got ", shown, after)


def validating(validate_args: bool | None) -> bool:
    """Whether a distribution made with ``validate_args`` checks its parameters and the values it scores: as
    asked, or (``None``) as :meth:`Distribution.set_default_validate_args` last set (True at first)."""
    return Distribution.validates if validate_args is None else bool(validate_args)


def check_positive(owner: str, name: str, value: Tensor, validate_args: bool | None) -> None:
    """PyTorch's check of a scale or rate: every entry > 0 (``validate_args=False`` skips it)."""
    if validating(validate_args):
        refuse_unless(value.detach() > 0, f"{owner}: {name} must be positive, got ", value)


def check_real(owner: str, name: str, value: Tensor, validate_args: bool | None) -> None:
    """PyTorch's check of a real parameter (a location, logits, a covariance factor): no NaN (±inf is allowed, as
    in its ``Real()`` constraint). A NaN that a network put in ``loc`` is caught where the distribution is made, as
    PyTorch's "Expected parameter loc … to satisfy the constraint Real()", not as a NaN loss later."""
    if validating(validate_args):
        x = value.detach()
        refuse_unless(x == x, f"{owner}: {name} must be a real number, got NaN in ", value,
                      "; look for the step that computed it (a division by 0, a log of a negative number, a diverging "
                      "loss)")


def check_probs(owner: str, probs: Tensor, validate_args: bool | None, closed: bool = True) -> None:
    """Probabilities in ``[0, 1]`` (``closed=False``: in ``(0, 1]``, as a geometric's chance of success)."""
    if validating(validate_args):
        p = probs.detach()
        low_ok = (p >= 0) if closed else (p > 0)
        interval = "[0, 1]" if closed else "(0, 1]"
        refuse_unless(low_ok.logical_and(p <= 1), f"{owner}: probs must lie in {interval}, got ", probs)


def defined_where(value: Tensor, defined: Tensor, stand_in: float, formula: Any, otherwise: float = math.nan) -> Tensor:
    """``formula(value)`` where ``defined`` holds and ``otherwise`` (NaN, or +inf for a diverging moment) elsewhere;
    the formula reads ``stand_in`` there, so no inf or NaN of the entries left out reaches the gradient."""
    outside = defined.logical_not()
    return formula(value.masked_fill(outside, stand_in)).masked_fill(outside, otherwise)


def noise(like: Tensor, shape: tuple[int, ...], draw: str, *args: float) -> Tensor:
    """``shape`` numbers from NumPy's ``draw`` (``standard_normal``, ``random``, …) of glassgrad's generator,
    as a tensor of ``like``'s dtype: the ε of a reparameterised sample. Drawn in a kernel
    (:func:`~glassgrad.creation.drawn`), so a compiled step draws them again at each replay, from the same stream."""
    return Tensor._wrap(recorded_call(drawn, draw, None, None, shape, like.dtype, *args))


class Distribution:
    """The shared part of the distributions: shapes, ``sample``, ``rsample``, ``expand``.

    A subclass keeps its parameters in the attributes named by ``params`` (name → how many of the
    parameter's trailing dims belong to one event, e.g. a covariance matrix's 2) and its batch shape
    in ``_batch``.
    """

    has_rsample = False
    has_enumerate_support = False
    arg_constraints: dict[str, Any] = {}  # parameter name → the constraint it satisfies ({}: a wrapper's)
    validates = True  # validate_args: check parameters at construction and values in log_prob (the default here)
    params: dict[str, int] = {}
    _batch: tuple[int, ...] = ()
    _event: tuple[int, ...] = ()

    def __init__(self, batch_shape: Any = (), event_shape: Any = (), validate_args: bool | None = None) -> None:
        """PyTorch's constructor, for a distribution written as PyTorch's are (``super().__init__(batch_shape,
        event_shape, validate_args)`` once its parameters are set): the shapes, and, when validating, each parameter
        named in ``arg_constraints`` checked (:meth:`check_parameters`). glassgrad's own distributions set
        ``_batch`` and check their parameters themselves."""
        self._batch, self._event = as_shape(batch_shape), as_shape(event_shape)
        if validate_args is not None:
            self.validates = bool(validate_args)
        if self.validates:
            self.check_parameters()

    def check_parameters(self) -> None:
        """Each parameter named in ``arg_constraints`` satisfies its constraint, as PyTorch checks at construction;
        a dependent constraint (:func:`constraints.is_dependent`) and a ``lazy_property`` not yet computed are
        skipped. A subclass that names no ``arg_constraints`` is warned, as in PyTorch."""
        from .constraints import is_dependent  # here: constraints imports this module

        if type(self).arg_constraints is Distribution.arg_constraints:
            warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` or "
                          "initialize the distribution with `validate_args=False` to turn off validation.",
                          stacklevel=3)
        for name, constraint in self.arg_constraints.items():
            if is_dependent(constraint) or (name not in vars(self)
                                            and isinstance(getattr(type(self), name, None), lazy_property)):
                continue
            value = as_tensor(getattr(self, name))
            refuse_outside(constraint, value, f"{type(self).__name__}: parameter {name} must satisfy the constraint ",
                           "; pass validate_args=False to skip the check")

    @property
    def _validate_args(self) -> bool:
        """Whether this distribution validates (PyTorch's name for :attr:`validates`)."""
        return self.validates

    @_validate_args.setter
    def _validate_args(self, value: bool) -> None:
        self.validates = bool(value)

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Whether distributions made from now on with ``validate_args=None`` check their parameters and the values
        they score (PyTorch's switch, turned off for speed once a model is known to be right)."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: expected True or False, got {value!r}")
        Distribution.validates = value

    @property
    def batch_shape(self) -> Size:
        return Size(self._batch)

    @property
    def event_shape(self) -> Size:
        return Size(self._event)

    @property
    def support(self) -> Any:
        """The constraint the values lie in (a subclass sets it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define support")

    @property
    def stddev(self) -> Tensor:
        return self.variance.sqrt()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no mean here")

    @property
    def mode(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no mode here")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no variance here")

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no entropy here")

    def log_prob(self, value: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no log_prob here")

    def cdf(self, value: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no cdf here (nor in PyTorch); estimate P(X <= x) "
                                  "from draws: (d.sample((n,)) <= x).float().mean(0)")

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample (rsample); use sample(), "
                                  "which carries no gradient, or a score-function estimator (log_prob)")

    def sample(self, sample_shape: Any = ()) -> Tensor:
        return self.rsample(sample_shape).detach()

    def sample_n(self, n: int) -> Tensor:
        """``sample((n,))``, by its older name (PyTorch warns that it goes)."""
        warnings.warn("`sample_n(n)` will be deprecated. Use `sample((n,))` instead.", FutureWarning, stacklevel=2)
        return self.sample((n,))

    def perplexity(self) -> Tensor:
        """``exp(entropy)``: how many equally likely outcomes would be as uncertain."""
        return self.entropy().exp()

    def icdf(self, value: Any) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no icdf (a discrete or multivariate distribution "
                                  "has no inverse cdf); draw with sample() instead")

    def enumerate_support(self, expand: bool = True) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no enumerate_support: only a distribution of finitely "
                                  "many values has one (has_enumerate_support says which)")

    def in_support(self, value: Any, method: str = "log_prob", support: Any = None) -> Tensor:
        """``value`` (a tensor, as PyTorch requires), refused in one line when its shape does not fit
        (:meth:`check_shape`) or some entry lies outside ``support`` (where the density is 0 and the formula would
        give a wrong finite number: a cdf below 0 or above 1); ``validate_args=False`` skips these checks.
        ``method``: the one that scores it (``log_prob``, ``cdf``), named in the message; ``support``: the set the
        value must lie in, when not the distribution's own (a cdf also takes the bound 0 of an open support)."""
        if not self.validates:
            return as_tensor(value)
        self._validate_sample(value, method, support)
        return value

    def _validate_sample(self, value: Any, method: str = "log_prob", support: Any = None) -> None:
        """The checks of :meth:`in_support`, made whatever ``validate_args`` says (PyTorch's name, which a subclass
        calls under ``if self._validate_args:``): ``value`` is a tensor of a fitting shape in ``support`` (the
        distribution's own when None). A subclass with no ``support`` is warned and its values' range left
        unchecked, as in PyTorch."""
        if not isinstance(value, Tensor):
            raise ValueError(f"{type(self).__name__}: the value argument to {method} must be a Tensor, got "
                             f"{type(value).__name__}; wrap it: torch.tensor(value)")
        self.check_shape(tuple(value.shape))
        try:
            support = self.support if support is None else support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample validation. Please initialize "
                          "the distribution with `validate_args=False` to turn off validation.", stacklevel=3)
            return
        refuse_outside(support, value, f"{type(self).__name__}.{method}: the value must lie in the support ",
                       "; pass validate_args=False to score it anyway")

    def check_shape(self, shape: tuple[int, ...]) -> None:
        """PyTorch's check of a value to score: its last dims are the event shape, and the dims before them
        broadcast with the batch shape (``Normal(torch.zeros(2), 1).log_prob(torch.zeros(3))`` is refused, where a
        broadcast would fail deep inside the formula or, for a vector distribution, silently score the wrong
        numbers)."""
        name, event = type(self).__name__, tuple(self.event_shape)
        wanted = tuple(self.batch_shape) + event
        if shape[max(len(shape) - len(event), 0):] != event:
            raise ValueError(f"{name}.log_prob: the right-most size of value must match event_shape "
                             f"{shape_text(event)}, got a value of shape {shape_text(shape)}")
        if any(have not in (1, want) and want != 1 for have, want in zip(reversed(shape), reversed(wanted))):
            raise ValueError(f"{name}.log_prob: a value of shape {shape_text(shape)} is not broadcastable with "
                             f"batch_shape + event_shape {shape_text(wanted)}; give one value per distribution "
                             "(or a dim of 1 to share it)")

    def enumerated(self, values: Tensor, expand: bool) -> Tensor:
        """``values`` (every possible draw, stacked along the first dim) with a dim of 1 for each batch dim
        between, expanded to the batch shape when ``expand`` — ``enumerate_support``'s layout."""
        event = tuple(values.shape[1:])
        laid_out = values.reshape(values.shape[0], *(1,) * len(self.batch_shape), *event)
        return laid_out.expand(values.shape[0], *self.batch_shape, *event) if expand else laid_out

    def _draw_shape(self, sample_shape: Any) -> tuple[int, ...]:
        return as_shape(sample_shape) + self.batch_shape + self.event_shape

    def _extended_shape(self, sample_shape: Any = ()) -> Size:
        """``sample_shape + batch_shape + event_shape``, the shape of ``sample(sample_shape)`` (PyTorch's name)."""
        return Size(self._draw_shape(sample_shape))

    def expand(self, batch_shape: Any, _instance: Any = None) -> Distribution:
        """The same distribution repeated over a larger ``batch_shape`` (its parameters are expanded, not copied)."""
        shape = as_shape(batch_shape)
        try:
            np.broadcast_shapes(self.batch_shape, shape)
            if len(shape) < len(self.batch_shape) or np.broadcast_shapes(self.batch_shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"{type(self).__name__}.expand: cannot expand batch shape "
                               f"{shape_text(self.batch_shape)} to {shape_text(shape)}") from None
        expanded = copy.copy(self)
        for name, event_dims in self.params.items():
            value = getattr(self, name)
            event = tuple(value.shape[value.ndim - event_dims:]) if event_dims else ()
            setattr(expanded, name, expand_to(value, shape + event))
        expanded._batch = shape
        return expanded

    def shown_parameters(self) -> list[str]:
        """The parameters :meth:`__repr__` shows: those of ``arg_constraints`` the distribution holds."""
        return [name for name in self.arg_constraints if name in vars(self)]

    def _get_checked_instance(self, cls: type, _instance: Any = None) -> Any:
        """A blank instance of ``type(self)`` for an ``expand`` written as PyTorch's (``new =
        self._get_checked_instance(MyDist, _instance)``, then its parameters set and ``__init__`` of
        ``Distribution`` called on it), or ``_instance`` when a subclass's ``expand`` passes one. A subclass of
        ``cls`` with its own ``__init__`` is refused: its parameters would not be set."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        """PyTorch's: each parameter by its value when it is one number, else by its shape
        (``Normal(loc: 0.0, scale: 1.0)``, ``Categorical(logits: Size([4]))``)."""
        values = [(name, getattr(self, name)) for name in self.shown_parameters()]
        shown = ", ".join(f"{name}: {value if value.numel() == 1 else value.size()}" for name, value in values)
        return f"{type(self).__name__}({shown})"
