"""``gg.autograd.Function``: an op of your own, its forward beside its backward, with PyTorch's protocol.

>>> import glassgrad as gg
>>> class Exp(gg.autograd.Function):
...     '''out = eˣ'''
...     @staticmethod
...     def forward(ctx, x):
...         out = x.exp()
...         ctx.save_for_backward(out)
...         return out
...
...     @staticmethod
...     def backward(ctx, grad_out):       # ∂L/∂x = ∂L/∂out · eˣ
...         (out,) = ctx.saved_tensors
...         return grad_out * out
>>> x = gg.tensor([0.0, 1.0], requires_grad=True)
>>> Exp.apply(x).sum().backward()
>>> [round(value, 4) for value in x.grad.tolist()]      # e⁰, e¹
[1.0, 2.7183]

``forward(ctx, *args)`` runs with gradients off and returns a tensor (or a tuple of them);
``backward(ctx, *grad_outputs)`` gets ``∂L/∂output`` for each output and returns ``∂L/∂input``
for each argument of ``forward`` (``None`` for one that is no tensor, or needs no gradient); PyTorch's other name
for it, ``vjp``, works too (one of the two, not both).
``ctx`` carries what ``forward`` keeps: ``ctx.save_for_backward(*tensors)`` /
``ctx.saved_tensors`` (changing one in place before ``backward`` raises, as for a built-in
op), any attribute you set, ``ctx.needs_input_grad``, ``ctx.mark_non_differentiable(*outputs)``,
``ctx.set_materialize_grads(False)`` and ``ctx.mark_dirty(*inputs)`` for inputs ``forward`` changed in place
and returns (the output is that tensor itself, now standing for the function of its old value, as an in-place
built-in op's; ops made from the old value before still use it). ``forward(*args)`` with a separate
``setup_context(ctx, inputs, output)`` works too.

Forward mode, optional: ``jvp(ctx, *tangents)`` returns ``J·t`` for each output, given a tangent per argument of
``forward`` (None for one that is no tensor), reading what ``ctx.save_for_forward(*tensors)`` kept as
``ctx.saved_tensors``. ``forward_ad`` and ``func.jvp`` use it: their double-backward trick differentiates this
class's ``uᵀJ`` with respect to ``u``, and that derivative is taken to be ``jvp`` (:class:`_ThroughJvp`), so a class
with a ``jvp`` and no ``backward`` works in forward mode, as in PyTorch.

The class becomes a row of the op table on first use (:class:`glassgrad.ops.Op`, kind
``"custom"``), so the engine and the glass box treat it as a built-in: its node's rule is the
class, a trace shows the step as ``Y = Exp(X)`` with the formula from the ``formula`` class
attribute or the docstring's first line, and each input's derivative from a ``derivatives``
class attribute (one text per tensor argument, ``{up}`` standing for ∂L/∂out, the argument
names for the inputs) or, without one, ``Exp.backward(∂L/∂out)``. A gradient of the wrong shape
is refused naming the class, the input and both shapes; a backward written with tensor ops
also gives second derivatives (``create_graph=True``).

A function with several outputs is one call, as in PyTorch: each output is a node of the graph, and
the walk takes them together (:attr:`glassgrad.ops.Op.joint`), so ``backward`` runs once per backward
pass with every output's gradient (zeros for one that got none, or ``None`` after
``set_materialize_grads(False)``), after each output's hooks.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import ops
from .arguments import is_floating
from .autograd import JOINT_CALLS, STATE, bump_version, is_grad_enabled, modified_error, no_grad, version_of, watched_by
from .graph import follow_change, hide_changed, record
from .saved_packing import PACKING, Packed
from .saved_tensors import pack_tensors
from .tensor import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors, flags, and any attribute you set."""

    def __init__(self, name: str, needs_input_grad: tuple[bool, ...], inputs: tuple) -> None:
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._name = name
        self._inputs = inputs
        self._saved: tuple = ()
        self._versions: tuple[int, ...] = ()
        self._outputs: tuple = ()
        self._non_differentiable: tuple = ()
        self._dirty: tuple = ()
        self._for_jvp: tuple = ()
        self._in_jvp = False

    def save_for_backward(self, *tensors: Tensor | None) -> None:
        """Keep tensors (inputs, outputs or others) for ``backward``; read them back with :attr:`saved_tensors`."""
        for position, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(
                    f"save_for_backward can only save tensors (or None), but argument {position} is of type "
                    f"{type(tensor).__name__}; keep other values as attributes of ctx (ctx.scale = 2.0)"
                )
        self._saved = tensors

    def save_for_forward(self, *tensors: Tensor | None) -> None:
        """Keep tensors for ``jvp`` (forward mode); inside ``jvp``, :attr:`saved_tensors` gives them back."""
        for position, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, Tensor):
                raise TypeError(f"save_for_forward expects all arguments to be tensors or None, but argument "
                                f"{position} is of type {type(tensor).__name__}; keep other values as attributes "
                                "of ctx (ctx.scale = 2.0)")
        self._for_jvp = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to :meth:`save_for_backward` (inside ``jvp``: to :meth:`save_for_forward`); refused if
        one was changed in place since ``forward`` (unless ``saved_tensors_hooks`` packed them: then
        ``unpack_hook``'s tensors, unchecked, as in PyTorch)."""
        if self._in_jvp:
            return self._for_jvp
        if type(self._saved) is Packed:
            return self._saved.unpacked(is_grad_enabled())
        for position, (tensor, expected) in enumerate(zip(self._saved, self._versions)):
            if tensor is not None and version_of(tensor.array) != expected:
                raise modified_error(tensor.shape, self._name, self._which(tensor, position),
                                     version_of(tensor.array), expected)
        return self._saved

    def _which(self, tensor: Tensor, position: int) -> str:
        """How an error names a saved tensor: an input, an output, or the k-th saved one."""
        for index, item in enumerate(self._inputs):
            if item is tensor:
                return f"its input {index}"
        if any(item is tensor for item in self._outputs):
            return "its output"
        return f"its saved tensor {position}"

    def mark_non_differentiable(self, *outputs: Tensor) -> None:
        """These outputs get no gradient (indices, masks): they do not require grad. A later call replaces the
        tensors an earlier one named, as in PyTorch; a tensor that is not returned changes nothing."""
        self._non_differentiable = _tensors_only("mark_non_differentiable", outputs)

    def set_materialize_grads(self, value: bool) -> None:
        """``False``: an output that gets no gradient passes ``None`` to ``backward`` instead of zeros."""
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors: Tensor) -> None:
        """``forward`` changed these inputs in place (and returns them): each output is then the input itself, its
        node this function of the input's old value, as after a built-in in-place op. A later call replaces the
        tensors an earlier one named, as in PyTorch."""
        self._dirty = _tensors_only("mark_dirty", tensors)


def _tensors_only(method: str, tensors: tuple) -> tuple:
    """``tensors``, given to ``ctx.method``, after checking each is a Tensor (PyTorch's RuntimeError otherwise)."""
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor):
            raise RuntimeError(f"ctx.{method} only accepts tensors (outputs or inputs of forward), but argument "
                               f"{position} is of type {type(tensor).__name__}")
    return tensors


class Function:
    """Subclass with ``@staticmethod forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)``; call ``apply``.

    Optional class attributes for the glass box: ``formula`` (else the docstring's first line)
    and ``derivatives`` (one text per tensor argument, e.g. ``("{up}·{out}",)``).
    """

    formula: str | None = None
    derivatives: tuple[str, ...] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"a custom Function is called through its class: {type(self).__name__}.apply(...), not "
            f"{type(self).__name__}()(...) (forward and backward are staticmethods)"
        )

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("a custom Function must define @staticmethod forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD: @staticmethod "
                                  "backward(ctx, *grad_outputs)")

    vjp = backward  # PyTorch's other name for it: a class defines one of the two

    @staticmethod
    def jvp(ctx: FunctionCtx, *grad_inputs: Tensor | None) -> Any:
        """Forward mode's rule, optional: ``J·t`` for each output, given a tangent ``t`` per argument of forward
        (None for one that is no tensor)."""
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it with "
                                  "forward mode AD: @staticmethod jvp(ctx, *grad_inputs)")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run ``forward`` (gradients off) and make its outputs nodes of the graph whose rule is this class."""
        described = _described(cls)
        if kwargs or described.fills_defaults:
            args = described.bind(args, kwargs)
        is_tensor = tuple(isinstance(arg, Tensor) for arg in args)
        tensors = tuple(arg for arg, tensor in zip(args, is_tensor) if tensor)
        ctx = FunctionCtx(cls.__name__, tuple(tensor and arg._requires_grad for arg, tensor in zip(args, is_tensor)),
                          tensors)
        switches = STATE.switches
        STATE.switches = (False, None)  # forward runs without recording; its insides are no steps
        try:
            if described.setup_context:
                result = cls.forward(*args)
                cls.setup_context(ctx, args, result)
            else:
                result = cls.forward(ctx, *args)
        finally:
            STATE.switches = switches
        single = not isinstance(result, tuple)
        returned = (result,) if single else result
        dirty = _check_dirty(cls.__name__, ctx._dirty, tensors, returned, switches[0])
        outputs = tuple(value if any(value is t for t in dirty) else _output_tensor(value, tensors)
                        for value in returned)
        ctx._outputs = outputs
        settings = tuple(arg for arg in args if not isinstance(arg, Tensor))
        recorded = dirty and switches[0] and any(t._requires_grad for t in tensors)
        parents = hide_changed(dirty, tensors) if recorded else tensors
        skipped = ctx._non_differentiable  # by what forward returned: an input returned as is is a new tensor now
        nodes = [index for index, (value, output) in enumerate(zip(returned, outputs))
                 if isinstance(output, Tensor) and is_floating(output.dtype) and not any(value is t for t in skipped)
                 and (recorded or not any(output is t for t in dirty))]  # unrecorded, a changed input keeps its node
        row = described.row(is_tensor, len(nodes) > 1)
        for index in nodes:
            record(outputs[index], row, parents, (ctx, index), settings)
        for tensor in dirty:  # one change more than forward's, as PyTorch counts a dirty tensor
            if recorded:
                follow_change(tensor)
            else:
                bump_version(tensor.array)
        ctx._versions = tuple(0 if t is None else version_of(t.array) for t in ctx._saved)
        if PACKING and any(isinstance(output, Tensor) and output._op is row for output in outputs):
            ctx._saved = pack_tensors(ctx._saved)  # inside saved_tensors_hooks, for a node of the graph
        return outputs[0] if single else outputs


class _Described:
    """What ``apply`` needs to know of a Function class, read once: its signature and its rows."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        self.setup_context = callable(getattr(cls, "setup_context", None))
        self.signature = inspect.signature(cls.forward)
        parameters = list(self.signature.parameters.values())[0 if self.setup_context else 1:]  # after ctx
        self.fills_defaults = self.setup_context and any(p.default is not inspect.Parameter.empty for p in parameters)
        self.names = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        self.has_jvp = cls.jvp is not Function.jvp
        defined = [rule for rule, base in ((cls.backward, Function.backward), (cls.vjp, Function.vjp))
                   if rule is not base]  # backward or vjp: two names for one rule
        self.backward = defined[0] if len(defined) == 1 else _both_defined if defined else Function.backward
        self.rows: dict[tuple[tuple[bool, ...], bool], ops.Op] = {}

    def bind(self, args: tuple, kwargs: dict) -> tuple:
        """``forward``'s arguments in order, keywords in their places, as PyTorch binds them: the defaults of those
        left out are filled in only with ``setup_context``; otherwise ``forward`` fills them itself and they are
        no inputs (``BatchNorm.apply(x)`` of ``forward(ctx, X, eps=1e-3)`` has one, and backward gives one gradient)."""
        bound = self.signature.bind(*args, **kwargs) if self.setup_context else self.signature.bind(None, *args,
                                                                                                   **kwargs)
        if self.setup_context:
            bound.apply_defaults()
        return tuple(bound.args if self.setup_context else bound.args[1:])

    def argument_names(self, count: int) -> list[str]:
        return [self.names[k] if k < len(self.names) else f"arg{k}" for k in range(count)]

    def row(self, is_tensor: tuple[bool, ...], joint: bool) -> ops.Op:
        """The op-table row of the class called with tensors at ``is_tensor``'s positions, made on first use;
        ``joint``: a call with several outputs in the graph (:attr:`glassgrad.ops.Op.joint`)."""
        found = self.rows.get((is_tensor, joint))
        if found is None:
            found = self.rows[is_tensor, joint] = _make_row(self, is_tensor, joint)
            if joint and not JOINT_CALLS:
                JOINT_CALLS.append(True)
        return found


def _both_defined(ctx: FunctionCtx, *grad_outputs: Tensor) -> Any:
    """The backward of a class that defines both ``backward`` and ``vjp`` (two names for one rule): refused, as
    PyTorch refuses it when the backward pass reaches it."""
    raise RuntimeError(f"{ctx._name}: Implementing both 'backward' and 'vjp' for a custom Function is not allowed. "
                       "You should only implement one of them.")


def _described(cls: type) -> _Described:
    """The class's description, kept on the class itself (a subclass gets its own)."""
    found = cls.__dict__.get("_described")
    if found is None:
        found = _Described(cls)
        cls._described = found  # type: ignore[attr-defined]
    return found


def _check_dirty(name: str, dirty: tuple, inputs: tuple, outputs: tuple, recording: bool) -> tuple:
    """The inputs ``ctx.mark_dirty`` named, after checking each is returned and, when grad mode is on
    (``recording``), no leaf requiring grad (under ``no_grad`` it may be, as in PyTorch: a parameter clamped in
    place); a tensor that is no input is left out with a warning, as PyTorch does."""
    if any(not any(tensor is item for item in inputs) for tensor in dirty):
        warnings.warn(f"{name}: ctx.mark_dirty() received a tensor that was not an input; only input tensors that "
                      "forward changed in place should be passed to it", UserWarning, stacklevel=3)
        dirty = tuple(tensor for tensor in dirty if any(tensor is item for item in inputs))
    for tensor in dirty:
        if not any(tensor is item for item in outputs):
            raise RuntimeError(f"{name}: Some elements marked as dirty during the forward method were not returned "
                               "as output. The inputs that are modified inplace must all be outputs of the Function.")
        if recording and tensor._requires_grad and tensor._op is None:
            raise RuntimeError(f"{name}: a leaf Variable that requires grad has been used in an in-place operation "
                               "(ctx.mark_dirty); change a copy (x.clone()) or a tensor made from it instead")
    return dirty


def _output_tensor(value: Any, inputs: tuple) -> Any:
    """An output of ``forward`` ready to be a node: a new tensor where it is an input or already in a graph."""
    if not isinstance(value, Tensor):
        return value
    if value._op is not None or value._requires_grad or any(value is tensor for tensor in inputs):
        return Tensor._wrap(value.array)  # the same memory, as PyTorch returns a view of an input returned as is
    return value


def once_differentiable(backward: Any) -> Any:
    """Decorate a Function's ``backward`` that is not itself differentiable (it computes with NumPy, say): it runs
    without recording, so its gradients are right and hold no graph, as PyTorch's decorator of that name. Where a
    gradient it is given is in a graph (``create_graph=True`` through a step that needs it again, ``(y * y)``), each
    gradient it returns comes out of a :class:`_DelayedError` step, so that differentiating it again is refused,
    as in PyTorch, instead of leaving this function's part out of the second derivative."""
    @functools.wraps(backward)
    def unrecorded(ctx: Any, *grad_outputs: Any) -> Any:
        with no_grad():
            grads = backward(ctx, *grad_outputs)
        if not is_grad_enabled() or not any(isinstance(grad, Tensor) and grad.requires_grad for grad in grad_outputs):
            return grads
        refused = functools.partial(_DelayedError.apply, backward.__qualname__)
        if isinstance(grads, tuple):
            return tuple(refused(grad.detach().requires_grad_()) if isinstance(grad, Tensor) and is_floating(
                grad.dtype) else grad for grad in grads)
        return refused(grads.detach().requires_grad_()) if isinstance(grads, Tensor) else grads

    return unrecorded


class _DelayedError(Function):
    """``g`` itself, a gradient a ``@once_differentiable`` backward returned in a graph; its own backward refuses."""

    @staticmethod
    def forward(ctx: FunctionCtx, name: str, grad: Tensor) -> Tensor:
        ctx.name = name
        return grad

    @staticmethod
    def backward(ctx: FunctionCtx, upstream: Tensor) -> tuple:
        raise RuntimeError(f"trying to differentiate twice a function that was marked with @once_differentiable "
                           f"({ctx.name}); differentiate it once (no create_graph=True), or write its backward "
                           "with tensor ops and without the decorator")


def _make_row(described: _Described, is_tensor: tuple[bool, ...], joint: bool) -> ops.Op:
    cls = described.cls
    name = cls.__name__
    names = described.argument_names(len(is_tensor))
    roles = tuple(n for n, tensor in zip(names, is_tensor) if tensor)
    positions = tuple(k for k, tensor in enumerate(is_tensor) if tensor)
    doc = (cls.__doc__ or "").strip()
    formula = cls.formula or (doc.splitlines()[0] if doc else f"out = {name}({', '.join(roles)})")
    if cls.derivatives is not None:
        derivatives = tuple(cls.derivatives)
    elif len(is_tensor) == 1:
        derivatives = (f"{name}.backward({{up}})",)
    else:
        derivatives = tuple(f"{name}.backward({{up}})[{k}]" for k in positions)

    def forward(*arrays_and_settings: Any) -> tuple[Any, Any]:
        """The row's forward on NumPy arrays (the engine calls :meth:`Function.apply` instead)."""
        args = tuple(Tensor._wrap(v) if tensor else v for v, tensor in zip(arrays_and_settings, is_tensor))
        ctx = FunctionCtx(name, (False,) * len(args), ())
        with no_grad():
            result = cls.forward(*args) if described.setup_context else cls.forward(ctx, *args)
        if isinstance(result, tuple):
            return tuple(v.array if isinstance(v, Tensor) else v for v in result), ctx
        return result.array, ctx

    def backward(upstream: Any, saved: tuple) -> tuple:
        given = [None if up is None else Tensor._wrap(up) for up in upstream] if joint else Tensor._wrap(upstream)
        with no_grad():
            grads = _call_backward(described, is_tensor, saved, given)
        return tuple(None if grad is None else grad.array for grad in grads)

    def vjp_tensors(upstream: Any, inputs: tuple, out: Tensor, saved: tuple) -> tuple:
        if ops.TANGENTS and described.has_jvp:
            upstreams = upstream if joint else [upstream]
            return _ThroughJvp.apply((described, is_tensor, saved, joint), *upstreams)
        return _call_backward(described, is_tensor, saved, upstream)  # recorded: the caller has gradients on

    return ops.Op(name, formula, derivatives, forward, backward, kind="custom", roles=roles,
                  settings=tuple(n for n, tensor in zip(names, is_tensor) if not tensor), vjp_tensors=vjp_tensors,
                  joint=joint)


@contextlib.contextmanager
def tangents_by_jvp() -> Iterator[None]:
    """Around the first backward pass of the double-backward trick (``J·v``: forward mode, ``jvp``): a Function with
    a ``jvp`` gives its ``uᵀJ`` as :class:`_ThroughJvp`, so the second pass meets the class's own ``jvp``, and a row
    whose forward-mode rule is not its backward's transpose gives that rule's (:data:`glassgrad.ops.TANGENTS`)."""
    ops.TANGENTS.append(True)
    try:
        yield
    finally:
        ops.TANGENTS.pop()


class _ThroughJvp(Function):
    """``g = uᵀJ`` of a Function with a ``jvp``, as a function of ``u`` whose derivative is that ``jvp``:
    ``∂g/∂u · c = J·c``. Its value is zeros: forward mode reads only the derivative, so the class's ``backward``
    is not called (as in PyTorch, whose forward mode never runs it: one that raises, or gives ``None`` for an input,
    leaves the tangents alone)."""

    @staticmethod
    def forward(ctx: FunctionCtx, plan: tuple, *upstreams: Tensor | None) -> tuple:
        described, is_tensor, saved, joint = ctx.plan = plan
        ctx.given = tuple(upstream is not None for upstream in upstreams)
        function_ctx = saved[0]
        needed = (need for need, tensor in zip(function_ctx.needs_input_grad, is_tensor) if tensor)
        return tuple(value.new_zeros(value.shape) if need else None
                     for value, need in zip(function_ctx._inputs, needed))

    @staticmethod
    def backward(ctx: FunctionCtx, *cotangents: Tensor | None) -> tuple:
        described, is_tensor, (function_ctx, index), joint = ctx.plan
        inputs, given = iter(function_ctx._inputs), iter(cotangents)  # one cotangent per tensor input
        tangents = []
        for tensor in is_tensor:  # one tangent per argument of forward: None for one that is no tensor
            value, cotangent = (next(inputs), next(given)) if tensor else (None, None)
            tangents.append(value.new_zeros(value.shape) if tensor and cotangent is None else cotangent)
        function_ctx._in_jvp = True
        try:
            found = described.cls.jvp(function_ctx, *tangents)
        finally:
            function_ctx._in_jvp = False
        found = found if isinstance(found, tuple) else (found,)
        if len(found) != len(function_ctx._outputs):
            raise RuntimeError(f"{function_ctx._name}'s jvp returned an invalid number of forward gradients (expected "
                               f"{len(function_ctx._outputs)} but got {len(found)}): return one tangent per output of "
                               "forward")
        if not joint:
            return None, found[index]
        return (None, *(tangent if given else None for tangent, given in zip(found, ctx.given)))


def _call_backward(described: _Described, is_tensor: tuple[bool, ...], saved: tuple, upstream: Any) -> tuple:
    """The class's ``backward`` given ∂L/∂out: of output ``index`` (``saved`` is ``(ctx, index)``), or a list of
    every output's (None for one without) for a joint row; one gradient (or None) per tensor input. A gradient that
    is a tensor the call holds (an input, a saved tensor, an output: ``return x``) comes back as a clone, so that the
    ``.grad`` it may become is not that tensor (zeroing ``x.grad`` would zero ``x``), as PyTorch clones a gradient
    another owner still refers to."""
    cls = described.cls
    ctx, index = saved
    upstreams = upstream if isinstance(upstream, list) else [upstream if position == index else None
                                                             for position in range(len(ctx._outputs))]
    grad_outputs = []
    for output, grad in zip(ctx._outputs, upstreams):
        if grad is None and isinstance(output, Tensor) and ctx.materialize_grads:
            grad = Tensor._wrap(np.zeros(output.shape, dtype=output.dtype))
        grad_outputs.append(grad)
    with watched_by(None):
        grads = described.backward(ctx, *grad_outputs)
    grads = grads if isinstance(grads, tuple) else (grads,)
    expected = len(is_tensor)
    if len(grads) < expected or any(grad is not None for grad in grads[expected:]):
        raise RuntimeError(
            f"function {cls.__name__}.backward returned an incorrect number of gradients (expected {expected}, "
            f"got {len(grads)}): one per argument of forward, None for those that need none"
        )
    for position, (grad, tensor) in enumerate(zip(grads, is_tensor)):
        if grad is None or (tensor and isinstance(grad, Tensor)):
            continue
        names = described.argument_names(expected)
        if not tensor:
            raise RuntimeError(
                f"function {cls.__name__}.backward returned a gradient different than None for argument "
                f"{position} ({names[position]}), but the corresponding forward input was not a tensor: return None"
            )
        if not isinstance(grad, Tensor):
            raise RuntimeError(
                f"function {cls.__name__}.backward returned a {type(grad).__name__} for argument {position} "
                f"({names[position]}); return a Tensor (or None)"
            )
    held = (*ctx._inputs, *(ctx._saved if type(ctx._saved) is tuple else ()), *ctx._outputs)
    return tuple(grad.clone() if any(grad is tensor for tensor in held) else grad
                 for grad, tensor in zip(grads, is_tensor) if tensor)
