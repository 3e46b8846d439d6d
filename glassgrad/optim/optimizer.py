"""``Optimizer``: what every gradient-descent rule shares (PyTorch's ``torch.optim.Optimizer``).

An optimizer holds the parameters to train, grouped into *parameter groups* that each carry
their own hyper-parameters (a smaller learning rate for a pretrained body, say), plus a
``state`` per parameter (momentum buffers, running averages, step counts). A training step is

>>> import glassgrad as gg
>>> w = gg.tensor([1.0, -2.0], requires_grad=True)
>>> opt = gg.optim.SGD([w], lr=0.1)
>>> opt.zero_grad()                  # forget the last step's gradients
>>> (w * w).sum().backward()         # ∂L/∂w = 2·w = [2, −4]
>>> opt.step()                       # w ← w − η·∂L/∂w = [1 − 0.2, −2 + 0.4]
>>> w
tensor([ 0.8000, -1.6000], requires_grad=True)

Each subclass supplies ``_update(param, grad, group)``, which changes ``param.array`` in place
(NumPy ``out=``, float32 stays float32), and ``formula_for(group)``: its rule as displayed,
with only the options that group uses. The state it keeps holds tensors, as PyTorch's does: the
running averages in the parameter's dtype, the step count a 0-d float tensor (:func:`scalar_state`);
``_update`` reads and writes their ``.array`` in place, so a tensor read out of ``state`` follows
the training.
Parameters whose ``.grad`` is ``None`` are skipped. When a tape is recording
(:func:`glassgrad.autograd.current_tape`), every update is reported to it with the old value,
the gradient, the learning rate and the new value. Each update counts as an in-place
change of the parameter: a graph made before ``step()`` that reads the parameter back
refuses ``backward()`` afterwards, as in PyTorch.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import bump_version, call_recorder, current_tape, enable_grad, zero_gradient
from ..dtypes import get_default_dtype
from ..handles import RemovableHandle, add_hook
from ..profiler import optimizer_range
from ..tensor import Tensor, writable
from ._checks import check_number


def scalar_dtype(fused: bool | None = None) -> np.dtype:
    """The dtype of a 0-d state entry (the step count, NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``), as
    PyTorch picks it: float64 while the default dtype is float64, else float32; always float32 for ``fused``."""
    return np.dtype(np.float64) if not fused and get_default_dtype() == np.float64 else np.dtype(np.float32)


def scalar_state(value: float, group: dict[str, Any]) -> Tensor:
    """A 0-d state tensor holding ``value`` in :func:`scalar_dtype` (``torch.tensor(0.0)`` in PyTorch's state)."""
    return Tensor._wrap(np.array(value, dtype=scalar_dtype(group.get("fused"))))


def zeros_state(param: Tensor) -> Tensor:
    """A state tensor of zeros shaped and typed as ``param`` (``torch.zeros_like(p)``)."""
    return Tensor._wrap(np.zeros_like(param.array))


def count_step(state: dict[str, Any]) -> float:
    """``state["step"] += 1``, in place (the same tensor after every step, as PyTorch's ``state_steps[i] += 1``);
    the new count as a Python number, for the step's scalar math (exact up to 2²⁴ steps in float32).

    Written as an assignment of ``count + 1`` (one rounding, as the tensor's own ``+= 1``): NumPy's in-place add on a
    0-d array allocates a kilobyte of scratch at every call."""
    count = state["step"].array
    count[()] = count.item() + 1
    return count.item()


class _RequiredParameter:
    """The type of :data:`required`."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()
"""A default meaning "every parameter group must give this option": ``Optimizer(params, {"lr": required})`` refuses a
group without an ``lr`` (PyTorch's ``torch.optim.optimizer.required``, for optimizers written against it)."""

_global_step_pre_hooks: dict[int, Callable[[Optimizer, tuple, dict], Any]] = {}
_global_step_post_hooks: dict[int, Callable[[Optimizer, tuple, dict], Any]] = {}


def arithmetic_dtype(array: np.ndarray) -> type:
    """The dtype PyTorch's CPU works an update of an array out in: float32 for float16 (its numbers, and a Python
    factor such as μ = 0.9, which NumPy would round to float16 first), each op rounded once; any other its own."""
    return np.float32 if array.dtype == np.float16 else array.dtype.type


def scaled_sum(a: np.ndarray, b: np.ndarray, alpha: float, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """``a + α·b`` into ``out``, as PyTorch's ``a.add(b, alpha=α)`` rounds it. In float16 its vector loop rounds α
    to float16, works the rest out in float32 and rounds once (α·b rounded to float16 before the sum drifted float16
    SGD with momentum 4 % off PyTorch by step 16); its scalar loop, for the last entries of a tensor that do not
    fill a vector (n mod 32 with AVX-512), rounds α·b to float16 first, which this does not follow.
    ``scratch`` holds α·b in the other dtypes; it must not be ``a``."""
    if out.dtype == np.float16:
        return np.add(a, np.multiply(b, np.float32(np.float16(alpha)), dtype=np.float32), out=out, dtype=np.float32)
    return np.add(a, np.multiply(b, alpha, out=scratch), out=out)


def lerp_into(start: np.ndarray, end: np.ndarray, weight: float, scratch: np.ndarray) -> np.ndarray:
    """``start ← start + w·(end − start)`` in place, as PyTorch's ``start.lerp_(end, w)`` rounds it: from the nearer
    end, ``start + w·(end − start)`` for ``|w| < 0.5`` and ``end − (end − start)·(1 − w)`` otherwise (the form of
    :func:`glassgrad.lerp`), so that ``w = 1`` (Adam's β₁ = 0, RMSprop's α = 0, Adafactor's ``beta2_decay = 0``)
    gives ``end`` exactly. (The first form alone lost a small ``end`` next to a large ``start``: Adafactor's float32
    row variance ``1e4 + 1·(2.5e-7 − 1e4)`` came out 0 where PyTorch's is 2.5e-7.) ``scratch`` holds ``end − start``;
    it must be neither ``start`` nor ``end``."""
    difference = np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        difference *= weight
        return np.add(start, difference, out=start)
    difference *= 1 - weight
    return np.subtract(end, difference, out=start)


def register_optimizer_step_pre_hook(hook: Callable[[Optimizer, tuple, dict], Any]) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` before the ``step`` of every optimizer (before each optimizer's own
    :meth:`Optimizer.register_step_pre_hook` hooks), as PyTorch's; it may return new ``(args, kwargs)``.
    ``handle.remove()`` takes it away."""
    return add_hook(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable[[Optimizer, tuple, dict], Any]) -> RemovableHandle:
    """Call ``hook(optimizer, args, kwargs)`` after the ``step`` of every optimizer (after each optimizer's own
    post hooks), as PyTorch's. ``handle.remove()`` takes it away."""
    return add_hook(_global_step_post_hooks, hook)


def with_step_hooks(step: Callable[..., Any]) -> Callable[..., Any]:
    """``step`` counted in ``_step_calls`` and wrapped in the hooks of :func:`register_optimizer_step_pre_hook`
    and ``register_step_pre_hook`` (the global ones first), then ``register_step_post_hook`` and
    :func:`register_optimizer_step_post_hook` (the global ones last), as PyTorch orders them; only around the
    outermost ``step``: a subclass's ``step`` that calls ``super().step()`` runs them once. A ``gg.compile``d step
    captures a plain ``step()`` as one kernel, the hooks with it, so that each replay runs them as eager does."""

    @functools.wraps(step)
    def hooked_step(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        plain = not kwargs and (not args or args == (None,))  # no closure (no generator: a step allocates nothing)
        recorder = call_recorder() if plain and not self._in_step else None
        if recorder is not None:  # a compiled step (glassgrad.compiler) replays it as one kernel, hooks and all: a
            return recorder.on_call(hooked_step, (self, *args))  # hook run outside it ran at the captures only
        span = None if self._in_step else optimizer_range(f"Optimizer.step#{type(self).__name__}.step")
        if span is None:
            return counted_step(self, *args, **kwargs)
        with span:  # a profile is recording (glassgrad.profiler): the step is a range of its own, as in PyTorch
            return counted_step(self, *args, **kwargs)

    def counted_step(self: Optimizer, *args: Any, **kwargs: Any) -> Any:
        if self._in_step:  # a subclass's step calling super().step(): counted, hooked and timed once, outside
            return step(self, *args, **kwargs)
        self._step_calls += 1
        before = [*_global_step_pre_hooks.values(), *self.__dict__.get("_step_pre_hooks", {}).values()]
        after = [*self.__dict__.get("_step_post_hooks", {}).values(), *_global_step_post_hooks.values()]
        args = (self, *args)  # as PyTorch hands them to the hooks: the optimizer first
        for hook in before:
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
                    raise RuntimeError(f"a step pre-hook must return None or a tuple (args, kwargs), got {result!r}")
                args, kwargs = result
        self._in_step = True
        try:
            loss = step(*args, **kwargs)
        finally:
            self._in_step = False
        for hook in after:
            hook(self, args, kwargs)
        return loss

    return hooked_step


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step``, ``zero_grad``, state dicts.

    ``params`` is an iterable of tensors, or of dicts ``{"params": [...], "lr": ..., ...}``
    (one per group; options a group leaves out come from ``defaults``).

    Each subclass also takes those of PyTorch's options for how a step runs (``foreach``: one loop per tensor or
    one over all; ``fused``: one kernel; ``capturable``: CUDA graphs; ``differentiable``: autograd through the step)
    that its PyTorch namesake takes (``AdamW(params, fused=False)``, as nanoGPT passes it), kept in every group with
    PyTorch's defaults. glassgrad has one way, NumPy in place, so ``foreach`` and ``fused`` change no number
    (PyTorch's fused kernel may round differently); ``capturable=True`` and ``differentiable=True`` are refused at
    the step, as PyTorch on a CPU refuses them (:meth:`_refuse_how_it_runs`).
    """

    _step_calls = 0
    """How many times ``step`` ran (a subclass's ``step`` that calls ``super().step()`` counts twice); a
    learning-rate scheduler reads it to warn when it is stepped before the optimizer."""
    _in_step = False
    _state_of_its_own = False
    """Whether a learner's ``step`` writes ``self.state`` (``state["buf"] = torch.zeros_like(p)``): a state dict loaded
    into it keeps the entries as saved (tensors copied into the parameter's dtype), with no rule of glassgrad's."""
    _scalar_state: tuple[str, ...] = ()
    """The names of the 0-d tensors in a parameter's state (:func:`scalar_state`); a state dict saved before they
    were tensors (a Python number there) is loaded as one."""
    state_symbols: dict[str, str] = {}
    """The letter :meth:`formula_for` writes for each state tensor it keeps, by PyTorch's key (SGD's
    ``{"momentum_buffer": "b"}``): a trace shows each one's numbers beside the rule under that letter."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None:  # a step of its own (LBFGS, a learner's optimizer): counted and hooked too
            cls.step = with_step_hooks(step)
            cls._state_of_its_own = not cls.__module__.startswith("glassgrad.")

    def __init__(self, params: Iterable[Tensor] | Iterable[dict], defaults: dict[str, Any]) -> None:
        asked = {key for key, value in defaults.items() if value is required}  # each group gives these
        checked = self._checked_options({key: value for key, value in defaults.items() if key not in asked})
        self.defaults = {key: required if key in asked else checked[key] for key in defaults} | checked
        # a parameter's state is an empty dict until its first step, as in PyTorch: a learner's own
        # optimizer writes `state = self.state[p]; if not state: state["buf"] = ...`
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        self._workspaces: dict[Tensor, tuple[np.ndarray, ...]] = {}
        self._flat_groups: dict[int, Any] = {}  # id(group) -> flat buffers, for optimizers that use them
        if isinstance(params, (Tensor, dict)):
            kind = type(params).__name__
            raise TypeError(
                f"params argument given to the optimizer should be an iterable of Tensors or dicts, but got a "
                f"{kind}; wrap it in a list: {type(self).__name__}([...], lr=...)"
            )
        groups = list(params)
        if not groups:
            raise ValueError(
                "optimizer got an empty parameter list; pass model.parameters() of a model that has parameters "
                "(a generator such as model.parameters() can be used only once)"
            )
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- parameter groups ----------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (e.g. to unfreeze layers while fine-tuning).

        Its ``params`` may be ``(name, tensor)`` pairs (``model.named_parameters()``, as PyTorch takes them): the
        group then keeps the names under ``"param_names"``, and every group must be named, or none.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict with a 'params' key, not {type(param_group).__name__}")
        if "params" not in param_group:
            raise KeyError("a parameter group needs a 'params' key: {'params': [tensors...], 'lr': ...}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs; pass a list")
        params = [params] if isinstance(params, Tensor) else list(params)
        names = [param[0] for param in params if isinstance(param, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names: some are (name, tensor) pairs "
                                 "and some plain tensors; pass model.named_parameters() or model.parameters()")
            params = [param[1] for param in params]
            param_group = {**param_group, "param_names": names}
        number = len(self.param_groups)
        if any(("param_names" in group) != ("param_names" in param_group) for group in self.param_groups):
            kind = "with names" if "param_names" in param_group else "without names"
            raise ValueError(f"all optimizer param groups should be with/without names: cannot add param group {kind} "
                             "to this optimizer; name every group's parameters, or none")
        seen: set[Tensor] = set()
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter group {number} holds a {type(param).__name__}"
                )
            if not (param.is_leaf or param.retains_grad):  # PyTorch takes a non-leaf that keeps its .grad
                raise ValueError(
                    "can't optimize a non-leaf Tensor (one computed from others); optimize the tensors it was "
                    "computed from, or detach it: t.detach().requires_grad_()"
                )
            if param in seen:  # PyTorch warns, then steps it twice with its own mix of the two momentum buffers
                raise ValueError(f"parameter group {number} holds the same tensor twice, so each step would update it "
                                 "twice (PyTorch only warns that this will become an error); list each parameter once")
            seen.add(param)
        if any(param in seen for group in self.param_groups for param in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group; put each in one group only")
        group = {**param_group, "params": params}  # PyTorch's order: the group's own keys, then the defaults
        for key, value in self.defaults.items():
            if value is required and key not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {key}; "
                                 f"give the group a {key!r} (or pass {key}=... to the optimizer)")
            group.setdefault(key, value)
        self.param_groups.append(self._checked_options(group))

    def _checked_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """``options`` with every hyper-parameter validated (subclasses extend this)."""
        if "lr" in options:  # a tensor lr is kept (read at each step: a change made to it in place counts)
            number = check_number("learning rate", options["lr"], why="a negative lr climbs the loss and an "
                                  "infinite one makes the stepped weights inf or NaN; pass e.g. lr=0.01")
            options["lr"] = options["lr"] if isinstance(options["lr"], Tensor) else number
        if "weight_decay" in options:
            options["weight_decay"] = check_number("weight_decay value", options["weight_decay"])
        if options.get("fused"):
            if options.get("foreach"):
                raise RuntimeError("`fused` and `foreach` cannot be `True` together; pass only one of them")
            if options.get("differentiable"):
                raise RuntimeError("`fused` does not support `differentiable`; pass fused=None with differentiable")
        return options

    # --- the step ------------------------------------------------------------------------

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient before the next ``backward``.

        ``backward`` *adds* into ``.grad``; without this, gradients of successive steps pile up.
        ``set_to_none=True`` (default) drops them (``p.grad is None``); ``False`` fills them with 0.
        """
        recorder = call_recorder()  # a compiled step (glassgrad.compiler) replays this call as one kernel
        if recorder is not None:
            return recorder.on_call(type(self).zero_grad, (self, set_to_none))
        span = optimizer_range(f"Optimizer.zero_grad#{type(self).__name__}.zero_grad")
        if span is not None:  # a profile is recording: a range of its own, as in PyTorch
            with span:
                return self._set_grads_to_zero(set_to_none)
        return self._set_grads_to_zero(set_to_none)

    def _set_grads_to_zero(self, set_to_none: bool) -> None:
        for group in self.param_groups:
            for param in group["params"]:
                if param._grad is None:
                    continue
                if set_to_none:
                    param._grad = None  # what `param.grad = None` does when no compiled step captures (returned above)
                else:
                    zero_gradient(param._grad)

    @with_step_hooks
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Apply the update rule once to every parameter that has a gradient.

        ``closure`` (optional) re-evaluates the model and returns the loss, which ``step``
        returns; it runs with gradient recording on.
        """
        held = self._tensor_options_as_numbers()
        try:
            loss = None
            if closure is not None:
                with enable_grad():
                    loss = closure()
            tape = current_tape()
            if not hasattr(tape, "on_update"):  # nobody, or a watcher with no use for updates (a profile)
                tape = None
            update = self._update if tape is None else functools.partial(self._update_and_record, tape)
            try:  # no cost on the way through: only a failed step looks for its cause
                for group in self.param_groups:
                    if group.get("capturable") or group.get("differentiable"):
                        self._refuse_how_it_runs(group)
                    if tape is None and self._update_group_at_once(group):
                        continue
                    for param in group["params"]:
                        grad = param.grad
                        if grad is not None:
                            update(param, grad.array, group)
                            bump_version(param.array)  # an in-place change, counted as PyTorch's p.add_(…) is
            except (ValueError, KeyError):  # NumPy's broadcasting error; Adafactor's missing row_var of a 1-D state
                self._refuse_state_of_another_shape()
                self._refuse_shared_places()
                raise
        finally:
            for group, key, value in held:
                group[key] = value
        return loss

    def _refuse_state_of_another_shape(self) -> None:
        """RuntimeError (PyTorch's class, from its in-place update; :meth:`_state_shape_error` says which) naming the
        first parameter whose state (a momentum buffer, a moment; a 0-d one of a 0-d parameter too, but not the
        ``_scalar_state`` counters) has another shape than :meth:`_saved_shape` gives for the parameter now: the
        parameter took a new shape after a step (``p.data = …`` of another shape, a parametrization's original given
        a value of another shape), and NumPy's broadcasting ValueError said nothing of that. Returns when there is
        none (the error was another's)."""
        for group in self.param_groups:
            for param in group["params"]:
                for key, value in (self.state.get(param) or {}).items():
                    if (isinstance(value, Tensor) and key not in self._scalar_state
                            and value.shape != self._saved_shape(param, key)):
                        raise self._state_shape_error(param.shape, value.shape)(
                            f"{type(self).__name__}: its state {key!r} has shape {shape_text(value.shape)} but its "
                            f"parameter now has shape {shape_text(param.shape)} (it changed shape after a step); "
                            f"build the optimizer again, or drop that parameter's state (del optimizer.state[p])"
                        ) from None

    @staticmethod
    def _state_shape_error(param_shape: tuple[int, ...], state_shape: tuple[int, ...]) -> type[Exception]:
        """The class PyTorch's step raises for a parameter of shape ``param_shape`` whose state has
        ``state_shape``: RuntimeError, from its in-place update of the state (Rprop says otherwise)."""
        return RuntimeError

    def _refuse_shared_places(self) -> None:
        """PyTorch's RuntimeError (from its in-place update) for a parameter whose entries share memory locations (a
        parameter made of ``x.expand(3, 2)``), where NumPy's ValueError said only 'output array is read-only'.
        Returns when there is none (the error was another's)."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is not None and not param.array.flags.writeable:
                    writable(f"{type(self).__name__}.step", param.array)

    def _refuse_how_it_runs(self, group: dict[str, Any]) -> None:
        """Refuse, as PyTorch on a CPU does at the step, a ``group`` with a parameter to update and
        ``capturable=True`` (not fused: an AssertionError, its parameters not on a GPU) or ``differentiable=True`` (a
        RuntimeError: the step would change a leaf that requires grad in place, recorded in the graph)."""
        if all(param.grad is None for param in group["params"]):
            return
        name = type(self).__name__
        if group.get("capturable") and not group.get("fused"):
            raise AssertionError(f"{name}: capturable=True needs the parameters and state steps on a GPU (CUDA "
                                 "graphs), and glassgrad runs on the CPU; leave capturable=False")
        if group.get("differentiable"):
            raise RuntimeError(f"{name}: differentiable=True runs the step in the graph, where a leaf Variable that "
                               "requires grad (a parameter) cannot be changed in place; leave differentiable=False")

    _exact_tensor_options = False
    """Whether a step computes with an option given as a tensor (an lr, Adam's betas) in the tensor's dtype, as
    PyTorch's step computes with the tensor (it then reads a NumPy number of that dtype: Adam, AdamW, Adamax,
    RAdam), rather than with the Python float the tensor holds (the others, whose steps then differ from PyTorch's
    in the last bits of float32 numbers: README, optimizers row)."""

    def _tensor_options_as_numbers(self) -> list[tuple[dict, str, Any]]:
        """Each group's lr and betas given as tensors (``SGD(p, lr=torch.tensor(0.01))``, ``betas=(torch.tensor(0.9),
        torch.tensor(0.999))``, or a loop's own schedule writing ``group["lr"] = base * cos(…)``), which PyTorch keeps
        and reads at every step, as the numbers they hold now (checked again), for the length of one step:
        ``[(group, key, its value)]``, to put back after it. One look per group where they are numbers."""
        held: list[tuple[dict, str, Any]] = []
        for group in self.param_groups:
            lr, betas = group["lr"], group.get("betas")
            if isinstance(lr, Tensor):
                held.append((group, "lr", lr))
                group["lr"] = self._number_held(lr, check_number("learning rate", lr))
            if betas is not None and (isinstance(betas[0], Tensor) or isinstance(betas[1], Tensor)):
                held.append((group, "betas", betas))
                group["betas"] = tuple(self._number_held(beta, check_number(f"beta parameter at index {index}", beta,
                                                                            0.0, 1.0))
                                       for index, beta in enumerate(betas))
        return held

    def _number_held(self, value: Any, number: float) -> Any:
        """``number``, what the option ``value`` holds, for a step to compute with: a tensor of a floating dtype gives
        a NumPy number of its dtype where :attr:`_exact_tensor_options`."""
        if self._exact_tensor_options and isinstance(value, Tensor) and value.array.dtype.kind == "f":
            return value.array.dtype.type(number)
        return number

    def _runs_users_code(self) -> bool:
        """Whether ``step()`` runs the user's code, which may change the groups' numbers (``g["lr"] *= 0.5``): a step
        hook (its own, or a global one), or a learner's own ``step``. A ``gg.compile``d step reading a group's number
        after such a ``step()`` runs eagerly (its guard looks as the step starts)."""
        return bool(self._state_of_its_own or _global_step_pre_hooks or _global_step_post_hooks
                    or self.__dict__.get("_step_pre_hooks") or self.__dict__.get("_step_post_hooks"))

    def register_step_pre_hook(self, hook: Callable[[Optimizer, tuple, dict], Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before every ``step``, ``args`` starting with the optimizer (as in
        PyTorch); it may return new ``(args, kwargs)`` for the step. ``handle.remove()`` takes it away."""
        return add_hook(self.__dict__.setdefault("_step_pre_hooks", {}), hook)

    def register_step_post_hook(self, hook: Callable[[Optimizer, tuple, dict], Any]) -> RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after every ``step``. ``handle.remove()`` takes it away."""
        return add_hook(self.__dict__.setdefault("_step_post_hooks", {}), hook)

    def _update_and_record(self, tape: Any, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        old_value, grad_value = param.array.copy(), grad.copy()
        kept = self.state.get(param) or {}
        before = {key: kept[key].array.copy() for key in self.state_symbols if kept.get(key) is not None}
        self._update(param, grad, group)
        kept = self.state.get(param) or {}  # each letter's numbers before and after the step (before: None at first)
        state = {letter: (key, before.get(key), kept[key].array.copy())
                 for key, letter in self.state_symbols.items() if kept.get(key) is not None}
        tape.on_update(
            type(self).__name__, self.formula_for(group), param, old_value, grad_value, group["lr"], param.array.copy(),
            state
        )

    def _update_group_at_once(self, group: dict[str, Any]) -> bool:
        """Update the whole group in one pass over flat buffers, if this optimizer can; else False.

        The result is the same, number for number, as updating parameter by parameter; only the
        number of NumPy calls changes (see ``Adam``). It counts each parameter's in-place change
        (:func:`~glassgrad.autograd.bump_version`) itself. Never used while a tape records.
        """
        return False

    def _update(self, param: Tensor, grad: np.ndarray, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _update(param, grad, group)")

    def formula_for(self, group: dict[str, Any]) -> str:
        """The update rule as applied to ``group``: only the options it uses (each optimizer writes its own)."""
        raise NotImplementedError(f"{type(self).__name__} must define formula_for(group)")

    def _state_for(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """``self.state[param]``, filled by ``_initial_state`` on the parameter's first step."""
        state = self.state.get(param)
        if not state:  # never stepped (absent, or an empty dict someone read through self.state[param])
            state = self.state[param] = self._initial_state(param, group)
        return state

    def _initial_state(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _workspace(self, param: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Two scratch arrays shaped like ``param``, made once and reused by every step.

        They hold intermediate results (``λ·w``, ``g²``, ``√v + ε``) so that a step makes no
        new arrays. They are not part of the optimizer's state.
        """
        data = param.array
        work = self._workspaces.get(param)
        if work is None or work[0].shape != data.shape or work[0].dtype != data.dtype:
            work = self._workspaces[param] = (np.empty_like(data), np.empty_like(data))
        return work

    @staticmethod
    def _effective_gradient(
        param: Tensor, grad: np.ndarray, weight_decay: float, maximize: bool, out: np.ndarray
    ) -> np.ndarray:
        """``g = ∇L(w) + λ·w`` (``−∇L(w) + λ·w`` when maximizing), written into ``out`` if it is not ∇L(w) itself.

        Adding ``λ·w`` to the gradient is L2 regularisation: it is the gradient of ``L + λ/2·‖w‖²``.
        """
        if weight_decay:  # PyTorch's grad.add(w, alpha=λ); maximizing, −(∇L(w) − λ·w), the same numbers
            g = scaled_sum(grad, param.array, -weight_decay if maximize else weight_decay, out=out, scratch=out)
            return np.negative(g, out=g) if maximize else g
        if maximize:
            return np.negative(grad, out=out)
        return grad

    # --- saving and resuming -------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state, PyTorch-shaped, with parameters numbered in group order.

        ``{"state": {index: {"step": tensor(3.), "exp_avg": tensor([...]), ...}},
        "param_groups": [{"params": [indices], "lr": ..., ...}]}``. The tensors are copies (PyTorch hands out
        its own state's: there a state dict kept while training goes on changes with it). The hooks of
        :meth:`register_state_dict_pre_hook` run first, those of :meth:`register_state_dict_post_hook` last.
        """
        for hook in self._hooks("_state_dict_pre_hooks"):
            hook(self)
        index: dict[Tensor, int] = {}
        groups = []
        for group in self.param_groups:
            saved = {key: value for key, value in group.items() if key != "params"}
            saved["params"] = [index.setdefault(param, len(index)) for param in group["params"]]
            groups.append(saved)  # "params" last, as in PyTorch's state dicts
        state = {
            number: {key: _copied(value) for key, value in self.state[param].items()}
            for param, number in index.items()
            if param in self.state
        }
        saved = {"state": state, "param_groups": groups}
        for hook in self._hooks("_state_dict_post_hooks"):
            saved = _replaced(saved, hook(self, saved))
        return saved

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume from :meth:`state_dict`'s output: same groups, same sizes, same shapes.

        Each group's options become the saved ones, as in PyTorch: an option the saved group lacks (a checkpoint of
        an older release) takes the class's default, not this optimizer's value, and a key only this optimizer's
        group has is dropped. They are copies, as PyTorch's: a schedule writing into a loaded tensor lr leaves the
        state dict as it was, to be loaded again.

        Everything is checked before anything changes, so a mismatch leaves the optimizer as it was. The hooks
        of :meth:`register_load_state_dict_pre_hook` see (and may replace) ``state_dict`` first, those of
        :meth:`register_load_state_dict_post_hook` run after it is loaded.
        """
        if isinstance(state_dict, dict):
            state_dict = dict(state_dict)  # a hook may change it: not the caller's
        for hook in self._hooks("_load_state_dict_pre_hooks"):
            state_dict = _replaced(state_dict, hook(self, state_dict))
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= state_dict.keys():
            raise ValueError(
                "not an optimizer state dict: it needs 'state' and 'param_groups' keys; "
                "pass what optimizer.state_dict() returned"
            )
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))  # the groups' own values (a tensor lr)
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups but this optimizer has "
                f"{len(self.param_groups)}; build the optimizer with the same groups it was saved with"
            )
        by_index: dict[int, Tensor] = {}
        group_of: dict[Tensor, dict[str, Any]] = {}
        groups = []
        for number, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group: group {number} has {len(saved['params'])} parameters saved, "
                    f"{len(group['params'])} here"
                )
            by_index.update(zip((int(i) for i in saved["params"]), group["params"]))
            options = {key: group["params"] if key == "params" else value for key, value in saved.items()}
            defaults = _constructor_defaults(type(self))
            for key, value in self.defaults.items():  # an option an older release did not save
                options.setdefault(key, defaults.get(key, value))
            options = {key: options[key] for key in group if key in options} | options  # in this group's order
            groups.append(self._checked_options(options))
            group_of.update(dict.fromkeys(group["params"], groups[-1]))
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            param = by_index.get(int(key))
            if param is None:
                raise ValueError(f"loaded state dict has state for parameter {key}, but no group lists that index")
            state[param] = {name: self._restored(value, param, name, key, group_of[param])
                            for name, value in values.items()}
        self.param_groups[:] = groups
        self.state = state
        for hook in self._hooks("_load_state_dict_post_hooks"):
            hook(self)

    def register_state_dict_pre_hook(self, hook: Callable[[Optimizer], None], prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` before every :meth:`state_dict` (first with ``prepend=True``), as PyTorch."""
        return add_hook(self.__dict__.setdefault("_state_dict_pre_hooks", {}), hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable[[Optimizer, dict], dict | None],
                                      prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` on what :meth:`state_dict` made; a dict it returns is returned
        instead."""
        return add_hook(self.__dict__.setdefault("_state_dict_post_hooks", {}), hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable[[Optimizer, dict], dict | None],
                                          prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer, state_dict)`` before :meth:`load_state_dict` loads it; a dict it returns is loaded
        instead."""
        return add_hook(self.__dict__.setdefault("_load_state_dict_pre_hooks", {}), hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable[[Optimizer], None],
                                           prepend: bool = False) -> RemovableHandle:
        """Call ``hook(optimizer)`` after every :meth:`load_state_dict`."""
        return add_hook(self.__dict__.setdefault("_load_state_dict_post_hooks", {}), hook, prepend)

    def _hooks(self, kind: str) -> list[Callable[..., Any]]:
        """The hooks registered under ``kind``, in their order (a copy: a hook may remove itself)."""
        return list(self.__dict__.get(kind, {}).values())

    def _restored(self, value: Any, param: Tensor, name: str, key: Any, group: dict[str, Any]) -> Any:
        """A saved state entry ``name`` made ready for ``param`` (of ``group``), as PyTorch's ``load_state_dict``
        makes it: a copy, a floating tensor in ``param``'s dtype, except the step count, kept as saved (float32 where
        the group is fused or capturable). glassgrad keeps its other 0-d entries (NAdam's ``mu_product``, ASGD's
        ``eta`` and ``mu``) as saved too, where PyTorch casts them to ``param``'s dtype: so a run resumed from a state
        dict goes on bit for bit as the unbroken run. A NumPy array or a Python number where glassgrad's state holds
        a tensor (a state dict saved by glassgrad before its state was tensors) becomes that tensor, as PyTorch turns
        an old integer step into one; a tensor's shape must be the parameter's (:meth:`_saved_shape`). A list, tuple
        or dict (LBFGS's history, a learner's optimizer's own records) is rebuilt around its restored items, as
        PyTorch rebuilds it: the optimizer appending to it leaves the state dict as it was."""
        if isinstance(value, (list, tuple)):
            return type(value)(self._restored(item, param, name, key, group) for item in value)
        if isinstance(value, dict):
            return {entry: self._restored(item, param, name, key, group) for entry, item in value.items()}
        if name in self._scalar_state and not isinstance(value, (Tensor, np.ndarray)):
            return scalar_state(value, group)
        if not isinstance(value, (Tensor, np.ndarray)):
            return value
        array = value.array if isinstance(value, Tensor) else value
        if name == "step" or name in self._scalar_state:
            fixed = name == "step" and (group.get("fused") or group.get("capturable")) and name in self._scalar_state
            return Tensor._wrap(array.astype(np.float32 if fixed else array.dtype, copy=True))
        if not self._state_of_its_own:
            if array.ndim == 0 and param.array.ndim != 0:  # a number glassgrad keeps as a number (LBFGS's H_diag)
                return array.item()
            shape = self._saved_shape(param, name)
            if array.shape != shape:
                whose = "the parameter has" if shape == param.shape else "it should have"
                raise ValueError(
                    f"loaded state '{name}' of parameter {key} has shape {shape_text(array.shape)} but {whose} shape "
                    f"{shape_text(shape)}; was it saved from a different model?"
                )
        cast = array.dtype.kind == "f" and param.array.dtype.kind == "f"
        return Tensor._wrap(array.astype(param.array.dtype if cast else array.dtype, copy=True))

    def _saved_shape(self, param: Tensor, name: str) -> tuple[int, ...]:
        """The shape a loaded array ``name`` of ``param``'s state must have: the parameter's (LBFGS: flat vectors)."""
        return param.shape

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Take back the attributes pickle and ``copy.deepcopy`` saved, as PyTorch's ``Optimizer.__setstate__``:
        an optimizer written against PyTorch that fills options of older checkpoints in its own ``__setstate__``
        (``super().__setstate__(state)``, then ``group.setdefault("amsgrad", False)`` for every group) is copied and
        unpickled as in PyTorch."""
        self.__dict__.update(state)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            if number:
                lines.append("")  # PyTorch leaves a blank line between groups
            lines.append(f"Parameter Group {number}")
            lines.extend(f"    {key}: {value}" for key, value in sorted(group.items()) if key != "params")
        return "\n".join([*lines, ")"])


def gradient_formula(weight_decay: float, maximize: bool) -> list[str]:
    """The line that defines ``g`` in a displayed rule (none when ``g`` is just ∇L(w))."""
    gradient = "−∇L(w)" if maximize else "∇L(w)"
    if weight_decay:
        return [f"g ← {gradient} + λ·w"]
    return [f"g ← {gradient}"] if maximize else []


def _replaced(state_dict: dict[str, Any], result: Any) -> dict[str, Any]:
    """What a state-dict hook leaves: the dict it returned, or ``state_dict`` (changed in place, or not) for None."""
    return state_dict if result is None else result


def _copied(value: Any) -> Any:
    """A state entry for a state dict: tensors and arrays copied (in a list too), anything else as it is."""
    if isinstance(value, Tensor):
        return Tensor._wrap(value.array.copy())
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


@functools.cache
def _constructor_defaults(kind: type) -> dict[str, Any]:
    """The defaults of ``kind``'s constructor's arguments (``Adam``: ``lr=0.001``, ``amsgrad=False``, …): what PyTorch's
    ``__setstate__`` gives a loaded group that lacks an option. An option the constructor does not take (AdamW's
    ``decoupled_weight_decay``, always True) keeps the optimizer's own value, and an argument that is no option (not
    in ``defaults``) is never added to a group."""
    parameters = inspect.signature(kind.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not p.empty and p.name != "params"}
