"""``Tensor``: a NumPy array that remembers how it was made, so gradients can flow back.

>>> import glassgrad as gg
>>> w = gg.tensor([[2.0, -1.0]], requires_grad=True)
>>> x = gg.tensor([[1.0], [3.0]])
>>> z = (w @ x).sum()          # z = 2·1 + (−1)·3 = −1
>>> z.backward()
>>> w.grad                     # ∂z/∂w = xᵀ
tensor([[1., 3.]])

Names and meanings follow PyTorch: ``data``, ``grad``, ``requires_grad``, ``is_leaf``,
``backward()``, ``detach()``, ``retain_grad()``, reductions with ``dim``/``keepdim``.
Differences, all deliberate: ``data`` is the NumPy array itself, ``numpy()`` works on a
tensor that requires grad (it returns the array, shared), and ``grad_fn`` is the
:class:`~glassgrad.ops.Op` row that made the tensor.

In-place changes (``+=``, ``t[i] = v``, ``add_``, ``copy_``, …) follow PyTorch's rule (see
:mod:`glassgrad.autograd`): each counts a new version of the tensor's memory, shared with its
views and ``detach()``; ``backward`` refuses a value that changed after the forward saved it;
on a tensor in the graph (``out += bias``, ``h[h < 0] = 0``) the change is recorded, and the
tensors sharing its memory follow (:func:`glassgrad.graph.rebase`): the tensor a view was taken of
(by reshape, permute or basic indexing), as PyTorch's ``CopySlices`` does, and the tensor's views.
A change PyTorch refuses (through an ``expand``, or a piece of ``split``) is refused in one line, and
so is one through a ``diagonal``.

Further methods (the trig and rounding functions, ``gather``/``scatter``, ``sort``/``topk``,
``cumsum``, ``tril``, ``repeat``, ``int()``/``bool()``, ``cpu()``, …) are defined in
:mod:`glassgrad.tensor_methods` and :mod:`glassgrad.tensor_indexing` beside the rows they use, and attached
to this class on import.

Dtypes follow PyTorch too: Python numbers and lists become float32 (or int64 / bool),
a NumPy array keeps its dtype, an integer tensor mixed with a float one becomes float,
and only floating tensors can require grad.
"""

from __future__ import annotations

import copy
import math
import numbers
import operator
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops, ops_index, return_types, tensor_hooks
from .arguments import (
    Size,
    broadcast_error,
    broadcastable,
    broadcasts_to,
    check_alpha,
    check_dim,
    common_dtype,
    distinct_dims,
    int_argument,
    is_floating,
    keyword_sizes,
    new_size,
    number_argument,
    promote,
    promote_to_float,
    resolve_dtype,
    shape_arg,
    shape_text,
    shown,
    written_number,
)
from .autograd import (
    OTHER_MEMORY,
    STATE,
    bump_version,
    copied_seed,
    note_kernel,
    note_read,
    note_unreplayable,
    recorded_call,
    recorded_cast,
    refuse_backward_in_transform,
    run_backward,
    same_view,
    version_of,
)
from .device import CPU, META, is_placeholder
from .dtypes import bool_, can_cast, float16, float32, float64, get_default_dtype, int32, int64  # noqa: F401 (re-exported)
from .grad_fn import Node
from .graph import FORWARD_MODE, as_view, check_in_place, rebase, record, records_tangent
from .handles import RemovableHandle
from .memory_formats import astype_in_order, check_memory_format, copy_strides, preserve_format, strides_of, suggested
from .number_first import number_first
from .printing import array_text, edges_hidden, with_settings
from .reading import as_array, refuse_backward_strides
from .settings import warn_at_learners_line, warn_once

_new = object.__new__


def legacy_array(args: tuple, dtype: np.dtype, name: str) -> np.ndarray:
    """What PyTorch's legacy constructors (``torch.Tensor(…)``, ``torch.FloatTensor(…)``) make of their arguments,
    in ``dtype``: nothing → an empty vector; whole numbers or one ``Size`` → zeros of that shape (PyTorch leaves
    the memory uninitialised); one sequence or array → its numbers, converted; a tensor of ``dtype`` → its own
    memory, shared (another dtype is refused, as PyTorch does)."""
    if len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    if args and not isinstance(args[0], bool) and all(isinstance(size, (int, np.integer)) for size in args):
        if any(size < 0 for size in args):  # a bool after the first size is 0 or 1, as shape_arg reads it
            raise RuntimeError(f"{name}({', '.join(map(str, args))}): sizes must be >= 0")
        return np.zeros(tuple(map(int, args)), dtype)
    if len(args) > 1:
        raise TypeError(f"{name}{args!r}: give the sizes as whole numbers, or one sequence of numbers as data")
    if not args:
        return np.empty(0, dtype)
    data = args[0]
    if isinstance(data, Tensor):
        if data.dtype != dtype:
            raise TypeError(f"{name}(t): t is {data.dtype}, but {name} makes {np.dtype(dtype)}; convert t first "
                            f"(t.to(gg.{np.dtype(dtype)})) or use gg.tensor(t, dtype=…)")
        return data.array
    if isinstance(data, (str, bytes)):
        raise TypeError(f"{name}({data!r}): the data must be numbers, not text")
    refuse_backward_strides(data)
    if not isinstance(data, (np.ndarray, list, tuple)) and np.ndim(data) == 0:
        raise TypeError(f"{name}({data!r}): the data must be a sequence of numbers (a single number is a size only "
                        f"when whole); for a 0-d tensor use gg.tensor({data!r})")
    return numbers_array(data, dtype)


def tensors_as_numbers(data: Any) -> Any:
    """``data``, a list or tuple, with each tensor in it read as the one number it holds, in its dtype, as PyTorch
    reads them: ``tensor([loss_a, loss_b])`` is 1-d even where each loss has shape (1,) (NumPy would read them as
    lists, and make it 2-d). A tensor of more numbers is refused. Other data, and lists whose first entry is not a
    tensor (the common case, found by looking down the first entries only), are left as they are. Read by
    ``gg.tensor`` and the legacy constructors (``torch.Tensor([...])``) alike. A tensor that requires grad among
    them warns as ``float(t)`` does (its number leaves the graph)."""
    first = data
    while type(first) in (list, tuple) and first:
        first = first[0]
    if first is data or not isinstance(first, Tensor):
        return data
    in_a_graph: list[Tensor] = []
    numbers = _entries_as_numbers(data, in_a_graph)
    if in_a_graph:
        warn_number_leaves_graph()
    return numbers


def numbers_array(data: Any, dtype: Any) -> np.ndarray:
    """A new array of ``data`` (:func:`~glassgrad.reading.as_array`), each tensor in a list read as its one number
    (:func:`tensors_as_numbers`). Where tensors are read, the array is made as one kernel of a compiled step, from
    their arrays (:func:`~glassgrad.autograd.recorded_call`): made in Python, ``gg.tensor([a.sum(), b.mean()])`` was
    a constant to the replay, the captures' numbers for every later call."""
    numbers = tensors_as_numbers(data)  # the checks, and the warning for a tensor in a graph
    if numbers is data:
        return as_array(data, dtype)
    entries, read = _tensor_places(data)
    return recorded_call(_array_of_entries, entries, read, dtype)


def _tensor_places(data: Any) -> tuple[Any, Any]:
    """``data`` (lists, tuples) with each tensor as its array, and alike nested lists of which entries were one."""
    if isinstance(data, (list, tuple)):
        pairs = [_tensor_places(entry) for entry in data]
        return [entry for entry, _ in pairs], [read for _, read in pairs]
    return (data.array, True) if isinstance(data, Tensor) else (data, False)


def _array_of_entries(entries: Any, read: Any, dtype: Any) -> np.ndarray:
    """:func:`numbers_array`'s kernel: each array where ``read`` holds True taken as its one number."""
    def numbers(entry: Any, is_tensor: Any) -> Any:
        if isinstance(is_tensor, list):
            return [numbers(part, flag) for part, flag in zip(entry, is_tensor)]
        return entry.reshape(()) if is_tensor else entry
    return as_array(numbers(entries, read), dtype)


def _entries_as_numbers(data: Any, in_a_graph: list[Tensor]) -> Any:
    """``data`` with each tensor read as its one number; the tensors that require grad are added to
    ``in_a_graph``."""
    if isinstance(data, (list, tuple)):
        return [_entries_as_numbers(entry, in_a_graph) for entry in data]
    if isinstance(data, Tensor):
        if data.array.size != 1:
            raise ValueError(f"tensor(): a tensor inside a list is read as one number, but this one has shape "
                             f"{shape_text(data.shape)}; join tensors with gg.stack(tensors) (or gg.cat) instead")
        if data._requires_grad:
            in_a_graph.append(data)
        return data.array.reshape(())
    return data


def warn_number_leaves_graph() -> None:
    """PyTorch's warning, once in a process, when a tensor that requires grad becomes a plain number
    (``float(loss)``, ``torch.tensor([loss_a, loss_b])``): the number is no longer part of the graph, so no
    gradient reaches the tensor through it (``torch.stack`` keeps a list of tensors in the graph)."""
    warn_once("Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior.\n"
              "Consider using tensor.detach() first.")


_NOT_COPIED = ("__weakref__", "__dict__", "_view_of", "_view_how", "_viewed")
"""The slots of a :class:`Tensor` that a copy leaves out (:meth:`Tensor.__getstate__`)."""

_NODE_ONLY = ("_clock", "_before", "_private")
"""The slots only a graph node has (see :class:`Tensor`), which the copy of one, a leaf, leaves out."""

_MODE_MARKS = ("_inference", "_detached_inference")
"""The marks of an inference tensor, which its copy does not inherit: a copy is made in the mode of the moment (an
inference tensor only inside ``inference_mode()``, as PyTorch's ``deepcopy``). (A view taken under ``no_grad()``
keeps its mark: PyTorch refuses its copy's in-place changes too.)"""


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    Build tensors with :func:`glassgrad.tensor` and friends; ops on tensors that
    require grad record a graph, and ``backward()`` fills ``.grad`` of the leaves.
    """

    __slots__ = ("array", "_grad", "_requires_grad", "_op", "_parents", "_ctx", "_retains_grad", "_clock",
                 "_before", "_private", "_view_of", "_view_how", "_viewed",
                 "__weakref__", "__dict__")
    # _clock: the in-place clock's tick when the node was made; _before: (tick, hidden tensor with the
    # node it had before an in-place change re-based it); _private: (position, value) of an input whose
    # old value the node copied for itself; _view_of / _viewed: this tensor is / has a view, in the graph or
    # of a plain tensor (_viewed: weak references to its views, or True: a view that cannot follow a change of it),
    # _view_how: the view's (op, arguments) of its base. Unset until used. __dict__: attributes a program sets on
    # a tensor, as PyTorch allows (fast.ai's backprop by hand: inp.g = out.g @ w.t()); made when the first one is set.
    _inference = False
    """True for an inference tensor: one made inside ``inference_mode()``, or a view of one. Outside that mode it
    is not saved for backward (:func:`glassgrad.graph.record`) nor changed in place (:func:`refuse_inference`), as
    in PyTorch. A class default, set on the few tensors it is True for: reading it costs no more than a slot."""
    _detached_inference = False
    """True for ``detach()`` or ``.data`` of an inference tensor: PyTorch's ``is_inference()`` is True for it, yet it
    may be changed in place."""
    _no_grad_view: str | bool = False
    """For a view taken under ``no_grad()`` (or ``inference_mode()``) of a tensor that requires grad, and for a view
    of such a view: that mode's name. Such a view is not changed in place with grad mode on
    (:func:`refuse_no_grad_view`), as in PyTorch: the change would be made to a tensor of the graph behind its back,
    and its gradient would silently leave it out."""

    __array_priority__ = 1000
    """PyTorch's: above an ndarray's, so that NumPy leaves ``array ⊕ t`` to the tensor (here
    :meth:`__array_ufunc__` already does)."""

    def __getstate__(self) -> tuple:
        """What pickle and ``copy.copy`` keep (and ``copy.deepcopy``, which adds ``.grad``): the fields that are
        set, except the links between a view and its tensor, and ``.grad``, as PyTorch's (a copy or an unpickled
        tensor starts without one: ``copy.copy`` shared the original's, into which a backward of either added);
        the copy's memory is its own, so it is no view, and the views of the original are not its. The
        pickled copy of a graph tensor is a leaf with the same ``requires_grad`` (as PyTorch's; the graph's rules
        are code, not data); ``deepcopy`` refuses one (:meth:`__deepcopy__`). The copy is an inference tensor when
        made inside ``inference_mode()``, whatever the original was (PyTorch's)."""
        fields = {name: getattr(self, name) for name in Tensor.__slots__
                  if name not in _NOT_COPIED and hasattr(self, name)}
        fields["_grad"] = None
        if self._op is not None:
            fields.update(_op=None, _parents=(), _ctx=None, _retains_grad=False)
            for name in _NODE_ONLY:
                fields.pop(name, None)
        attributes = self.__dict__
        if attributes and not attributes.keys().isdisjoint(_MODE_MARKS):
            attributes = {name: value for name, value in attributes.items() if name not in _MODE_MARKS}
        if STATE.inference:
            attributes = attributes | {"_inference": True}
        return attributes or None, fields  # (the attributes a program set on it, the slots)

    def __deepcopy__(self, memo: dict) -> Tensor:
        """``copy.deepcopy``: a tensor of its own holding what pickle keeps (:meth:`__getstate__`) and a copy of
        ``.grad``, as PyTorch's. As in PyTorch, only a leaf is copied: a tensor made by an op in a graph (a
        forward's output kept as a model's attribute, the weight the old ``nn.utils.weight_norm`` computes) is
        refused, naming the way out."""
        if self._op is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                               f"protocol: this one was made by {self._op.name} in a graph; copy t.detach() instead "
                               "(a module holding one, such as the old nn.utils.weight_norm's weight, cannot be "
                               "copied either: use nn.utils.parametrizations.weight_norm)")
        rebuild, arguments, *rest = self.__reduce_ex__(4)
        copied = memo[id(self)] = rebuild(*arguments)
        if rest and rest[0] is not None:
            attributes, fields = copy.deepcopy(rest[0], memo)
            for name, value in fields.items():
                setattr(copied, name, value)
            if attributes:
                copied.__dict__.update(attributes)
        if self._grad is not None:
            copied._grad = copy.deepcopy(self._grad, memo)
        return copied

    def __init__(self, *data: Any, requires_grad: bool = False) -> None:
        """PyTorch's legacy constructor: ``Tensor(2, 3)`` zeros of that shape, ``Tensor([1, 2])`` a copy of the
        numbers, both in the default float dtype (see :func:`legacy_array`); ``gg.tensor`` is the usual way."""
        self._init_leaf(legacy_array(data, get_default_dtype(), "Tensor"))
        self.requires_grad = requires_grad

    def _init_leaf(self, array: np.ndarray, requires_grad: bool = False) -> None:
        """Hold ``array`` (a NumPy number becomes a 0-d array) as a leaf: no op, no parents."""
        self.array = array if type(array) is np.ndarray else np.asarray(array)
        self._grad = None
        self._requires_grad = requires_grad
        self._op = None
        self._parents = ()
        self._ctx = None
        self._retains_grad = False

    @classmethod
    def _wrap(cls, array: np.ndarray, requires_grad: bool = False) -> Tensor:
        """A leaf around ``array`` (no copy, no checks): the engine's fast constructor."""
        tensor = _new(cls)
        tensor._init_leaf(array, requires_grad)
        return tensor

    @staticmethod
    def _plain(array: np.ndarray) -> Tensor:
        """A plain ``Tensor`` leaf around ``array`` (gradients are never Parameters).

        Written out rather than through ``Tensor._wrap``: every stored gradient is made here.
        """
        tensor = _new(Tensor)
        tensor._init_leaf(array)
        return tensor

    # --- attributes -------------------------------------------------------------------

    @property
    def shape(self) -> Size:
        """The sizes of the dims as a :class:`Size` (a tuple, as PyTorch's ``torch.Size``); glassgrad's own code
        reads ``tensor.array.shape``, a plain tuple, which costs nothing to make."""
        return new_size(Size, self.array.shape)

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def dtype(self) -> np.dtype:
        return self.array.dtype

    @property
    def device(self):
        """Where the tensor lives: ``device(type='cpu')`` (glassgrad computes with NumPy), or ``'meta'`` for a
        parameter or buffer of a model moved there (:mod:`glassgrad.nn.meta`)."""
        return META if self.is_meta else CPU

    @property
    def is_meta(self) -> bool:
        """Whether this is a parameter or buffer of a model on the 'meta' device: a shape and no numbers."""
        return is_placeholder(self.array)

    is_cuda = False

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by an op that records a graph)."""
        return self._op is None

    @property
    def grad_fn(self) -> Node | None:
        """The step that made this tensor (``None`` for a leaf): its op's row, and ``next_functions``
        (:mod:`glassgrad.grad_fn`)."""
        return None if self._op is None else Node(self)

    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        value = bool(value)
        if value and not is_floating(self.dtype):
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, but this one is "
                f"{self.dtype}: convert it first, e.g. t.float()"
            )
        if self._op is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables; "
                "use t.detach() to get a tensor without a graph"
            )
        if value and self._inference and not STATE.inference:
            raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed "
                               "(it was made inside inference_mode()); use a copy: t = t.clone().requires_grad_()")
        self._requires_grad = value

    @property
    def grad(self) -> Tensor | None:
        """∂L/∂self after ``L.backward()``: summed over every backward call until reset.

        Only leaves (and tensors that called ``retain_grad()``) get one: reading it on another tensor warns,
        as in PyTorch (often the learner meant a leaf, e.g. ``w = (torch.randn(3) * 0.1).requires_grad_()``).
        """
        if self._grad is None and self._op is not None and not self._retains_grad:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed: it stays None "
                          "in backward(). Call .retain_grad() on it before backward to keep its gradient, or read "
                          "the .grad of the leaf it was computed from", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if STATE.switches[1] is not None:  # a compiled step (glassgrad.compiler) replays the assignment as one kernel
            recorded_call(Tensor._assign_grad, self, value)
        elif value is None:  # `p.grad = None` in every update step: nothing to check
            self._grad = None
        else:
            self._assign_grad(value)

    def _assign_grad(self, value: Tensor | None) -> None:
        """``tensor.grad = value``, checked (``None`` forgets the gradient)."""
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, not {type(value).__name__}")
            if value is self:  # the next backward would add its gradient into the tensor's own values
                raise RuntimeError("can't assign a tensor as its own grad: assign a copy, t.grad = t.detach().clone()")
            if value.array.shape != self.array.shape:
                raise RuntimeError(
                    f"assigned grad has shape {shape_text(value.shape)} but the tensor has shape "
                    f"{shape_text(self.shape)}"
                )
            if value.dtype != self.dtype:  # backward adds into it in the tensor's dtype, as PyTorch checks here
                raise RuntimeError(f"assigned grad has dtype {value.dtype} but the tensor has dtype {self.dtype}; "
                                   f"convert it first: tensor.grad = grad.to({self.dtype})")
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place and return ``self``. A non-leaf (made by an op) already requires grad:
        ``requires_grad_()`` leaves it so, as PyTorch; only the attribute setter and ``requires_grad_(False)``
        refuse it."""
        if requires_grad and self._op is not None:
            return self
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor too (leaves always keep theirs)."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self._op is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` with ∂L/∂self in every backward pass; a tensor it returns replaces the gradient.

        See :mod:`glassgrad.tensor_hooks`. ``handle.remove()`` takes the hook away.
        """
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient; "
                               "call .requires_grad_() on it first (a leaf), or hook a tensor that requires grad")
        return tensor_hooks.register(self, hook, tensor_hooks.HOOKS)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(self)`` after each backward pass has added to this leaf's ``.grad``."""
        if self._op is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors; "
                               "register it on the leaf (a parameter), or use register_hook here")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient; "
                               "call .requires_grad_() on it first")
        return tensor_hooks.register(self, hook, tensor_hooks.POST_ACCUMULATE_HOOKS)

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor's memory has had (shared with its views), as in PyTorch."""
        return version_of(self.array)

    # --- conversion -------------------------------------------------------------------

    @property
    def data(self) -> Tensor:
        """PyTorch's ``.data``: the same memory as a new tensor outside the graph (no gradient).

        ``p.data += -lr * p.grad`` and ``p.data.normal_()`` change ``p`` itself. Unlike PyTorch,
        changes made through ``.data`` still count as in-place changes of the memory, so a backward
        that needs the old value raises instead of silently using the new one. ``numpy()`` (or
        ``.array``) is the NumPy array itself.
        """
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"t.data = … needs a Tensor, got {type(value).__name__}; wrap it first: t.data = gg.tensor(value)"
            )
        if STATE.switches[1] is not None and value.array is not self.array:  # capturing a compiled step:
            note_unreplayable(OTHER_MEMORY.format(how="t.data = …"))  # p.grad.data = g * 0.5 (p.data += v: its own)
        self.array = value.array

    def numpy(self, *, force: bool = False) -> np.ndarray:
        """The underlying NumPy array (shared, not copied); also ``t.array``. ``force=True`` is PyTorch's way to
        get the numbers of a tensor that requires grad (its ``numpy()`` refuses one); glassgrad's ``numpy()`` gives
        them anyway (a deliberate difference, see the README), so ``force`` changes nothing: the array is shared."""
        if STATE.switches[1] is not None:
            note_read(".numpy()")
        return self.array

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """NumPy's array protocol (NumPy 2): the shared array, or a new one for another ``dtype``
        or ``copy=True``; ``copy=False`` refuses a conversion that would need a copy."""
        if STATE.switches[1] is not None:
            note_read("np.asarray(tensor)")
        array = self.array
        if dtype is not None and np.dtype(dtype) != array.dtype:
            if copy is False:
                raise ValueError(
                    f"np.asarray(tensor, dtype={np.dtype(dtype)}, copy=False): converting this {array.dtype} "
                    "tensor needs a copy; leave out copy=False"
                )
            return array.astype(dtype)
        return array.copy() if copy else array

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy's ufuncs given a tensor, as PyTorch takes them.

        An operator's ufunc (``np.float32(2) * t``, ``array + t``, ``np.add(t, 1)``, ``array < t``) is the tensor's
        own operator, in the graph. Any other (``np.exp(t)``, ``np.maximum(t, 0)``, ``np.add.reduce(t)``) runs on
        the numbers and gives a tensor of NumPy's result (``np.exp`` of int64 is float64, as in PyTorch), or with
        ``out=`` NumPy's arrays; of a tensor that requires grad it is refused, as PyTorch refuses it: NumPy's
        function is no op of the graph, so no gradient would flow through it.
        """
        names = _OPERATOR_UFUNCS.get(ufunc) if method == "__call__" and not kwargs and len(inputs) == 2 else None
        # (NumPy's functions that are no ufuncs, np.clip or np.round, come back through __array_wrap__)
        if names is not None:
            first, second = inputs
            tensor, other, name = (first, second, names[0]) if isinstance(first, Tensor) else (second, first, names[1])
            operator_method = getattr(tensor, name, None)
            found = NotImplemented if operator_method is None else operator_method(other)
            if found is not NotImplemented:
                return found
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        for value in (*inputs, *kwargs.get("out", ())):
            if isinstance(value, Tensor) and value._requires_grad:
                raise _left_the_graph(name, ufunc.__name__)
        if any(isinstance(value, Tensor) for value in kwargs.get("out", ())):
            raise TypeError(f"np.{name}(..., out=tensor): NumPy does not write into a tensor's memory here; compute "
                            "the result and copy it in, t.copy_(torch.as_tensor(result))")
        if method == "at" and isinstance(inputs[0], Tensor):  # it writes into its first operand, unseen by the graph
            raise TypeError(f"np.{name}(tensor, ...): first operand must be array, as in PyTorch; for a tensor use "
                            "t.index_put_((indices,), values, accumulate=True) or t.index_add_(0, indices, values)")
        if STATE.switches[1] is not None:
            note_read(f"np.{name}(tensor)")
        with warnings.catch_warnings(record=True) as caught:  # NumPy's warnings are the learner's call's, not
            warnings.simplefilter("always")  # glassgrad's (whose lines the float_errors filter silences)
            found = getattr(ufunc, method)(*(value.array if isinstance(value, Tensor) else value for value in inputs),
                                           **kwargs)
        for warning in caught:
            warn_at_learners_line(str(warning.message), warning.category)
        if "out" in kwargs or found is None:
            return found
        return tuple(untracked(np.asarray(part)) for part in found) if isinstance(found, tuple) else \
            untracked(np.asarray(found))

    def __array_wrap__(self, array: np.ndarray, context: Any = None, return_scalar: bool = False) -> Tensor:
        """The result of one of NumPy's functions that read this tensor as an array (``np.clip(t, 0, 1)``,
        ``np.round(t, 2)``): a tensor, as PyTorch gives; refused, as above, when this tensor requires grad."""
        if self._requires_grad:
            raise _left_the_graph("function", "")
        return untracked(np.asarray(array))

    def item(self) -> float | int | bool:
        if STATE.switches[1] is not None:
            note_read(".item()")
        if self.array.size != 1:
            raise RuntimeError(
                f"item() needs a tensor with exactly one element, but this one has shape "
                f"{shape_text(self.shape)} ({self.array.size} elements); index it first"
            )
        return self.array.item()

    def tolist(self) -> Any:
        if STATE.switches[1] is not None:
            note_read(".tolist()")
        return self.array.tolist()

    def __float__(self) -> float:
        """``float(t)`` (and ``math.exp(t)``, which calls it). On a tensor that requires grad, while grad mode is
        on, it warns once in a process, as PyTorch does: the number is cut off from the graph (``float(loss)``
        in a sum kept for printing is fine; ``w = float(w) * 2`` silently stops training ``w``)."""
        if self._requires_grad and STATE.switches[0]:
            warn_number_leaves_graph()
        return float(self._one_number("float"))

    def __int__(self) -> int:
        return int(self._one_number("int"))

    def _one_number(self, name: str) -> float | int | bool:
        """The number of a one-element tensor for Python's ``float(t)``, ``int(t)`` (and ``math.exp(t)``, which
        call them): ValueError otherwise, PyTorch's type there (``item()`` raises RuntimeError, as PyTorch's)."""
        if self.array.size != 1:
            raise ValueError(f"{name}(tensor) needs a tensor with exactly one element, but this one has shape "
                             f"{shape_text(self.shape)} ({self.array.size} elements); index it first")
        return self.item()

    def __format__(self, spec: str) -> str:
        """``f"{loss:.4f}"``: a 0-d tensor formats as its number, as PyTorch's; another prints as ``str`` does."""
        if self.array.ndim and not spec:
            return str(self)
        if self.array.ndim:
            raise TypeError(f"format spec {spec!r} needs a tensor of one number (0-d), but this one has shape "
                            f"{shape_text(self.shape)}: format t.item() or t.tolist() instead")
        return format(self.item(), spec)

    def __bool__(self) -> bool:
        if STATE.switches[1] is not None:
            note_read("bool(tensor) (an `if` or `while` on a tensor)")
        if self.array.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self.array.size} elements is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.array.item())

    def __len__(self) -> int:
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        """The tensor's entries along dim 0 (``for row in x``, ``a, b = x``): views, in the graph."""
        shape = self.array.shape
        if not shape:
            raise TypeError("iteration over a 0-d tensor: it holds one number, t.item(); reshape it to iterate "
                            "(t.reshape(1))")
        return (self[i] for i in range(shape[0]))

    def __reversed__(self) -> Tensor:
        """``reversed(t)``, as PyTorch's: a tensor, ``t.flip(0)`` (in the graph), not an iterator; a 0-d tensor
        is itself."""
        return self if not self.array.ndim else self.flip(0)

    def __contains__(self, element: Any) -> bool:
        """``element in t``, as PyTorch's: whether ``element == t`` anywhere (a number, or a tensor compared by
        broadcasting: ``row in matrix`` asks whether any entry of ``row == matrix`` holds, not whether a row is
        equal). Anything else (a string, None, a list, an array) is refused, as there. Without it Python iterated
        ``t`` and took each row's truth value, refused for a tensor of more than one dim (0-d: not iterable)."""
        if not isinstance(element, (Tensor, numbers.Number)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                               f"{type(element).__name__}; convert it first (torch.tensor(value) in t)")
        return bool((self == element).any())

    __hash__ = object.__hash__

    def detach(self) -> Tensor:
        """The same numbers, cut from the graph (shares memory)."""
        detached = Tensor._wrap(self.array)
        if self._inference:
            detached._detached_inference = True
        return detached

    def clone(self, memory_format: Any = None) -> Tensor:
        """A copy that stays in the graph (gradient flows back unchanged), laid out in ``memory_format`` with
        PyTorch's strides (by default this tensor's: :func:`glassgrad.memory_formats.new_strides`)."""
        check_memory_format(memory_format, "clone", self.ndim)
        return apply(ops.CAST, (self,), self.array, self.array.dtype, copy_strides(self.array, memory_format))

    def _tied_to(self, *others: Tensor) -> Tensor:
        """This tensor's numbers, recorded as made from ``others`` too, which get no gradient from it
        (:data:`glassgrad.ops.TIED`): a recorded gradient that PyTorch computes from them in one op."""
        return apply(ops.TIED, (self, *others), self.array, len(others))

    def _holding(self, value: np.ndarray) -> Tensor:
        """A tensor of ``value`` in this one's place in the graph (recorded as a cast of it: gradient flows back
        unchanged): the old value of a tensor an in-place change overwrote, for a differentiable backward."""
        return apply(ops.CAST, (self,), value, value.dtype)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor in another dtype (differentiable between float dtypes), called as in PyTorch.

        ``t.to(gg.float64)``, ``t.to("cpu")``, ``t.to("cpu", gg.float64)``, ``t.to(device="cpu",
        dtype=…)``, ``t.to(other)`` (other's dtype); ``copy=True`` always returns a new tensor.
        glassgrad runs on the CPU: another device ('cuda', 'mps') is refused, saying so.
        """
        from .device import to_arguments

        dtype, copy, _, memory_format = to_arguments("Tensor", args, kwargs, self.ndim)
        dtype = self.array.dtype if dtype is None else resolve_dtype(dtype)
        if dtype == self.array.dtype and not copy and (  # PyTorch's rule: itself unless another layout is asked for
                memory_format in (None, preserve_format)
                or suggested(self.array.shape, strides_of(self.array)) == memory_format.name):
            return self
        strides = copy_strides(self.array, memory_format)
        if dtype != self.array.dtype and not is_floating(dtype):  # no gradient: a kernel of a compiled step
            return Tensor._wrap(recorded_call(astype_in_order, self.array, dtype, strides))  # a mask.long()
        return apply(ops.CAST, (self,), self.array, dtype, strides)

    def float(self, memory_format: Any = None) -> Tensor:
        return self.to(float32, memory_format=memory_format)

    def double(self, memory_format: Any = None) -> Tensor:
        return self.to(float64, memory_format=memory_format)

    def long(self, memory_format: Any = None) -> Tensor:
        return self.to(int64, memory_format=memory_format)

    def size(self, dim: int | None = None) -> Size | int:
        """The shape (a :class:`Size`), or with ``dim`` the size of that dim (an int)."""
        if dim is None:
            return new_size(Size, self.array.shape)
        if self.array.ndim == 0:
            raise IndexError(f"size: dim {dim} was asked for, but a 0-d tensor has no dims (its size is ())")
        return self.array.shape[check_dim(self, dim, "size")]

    def numel(self) -> int:
        return self.array.size

    def dim(self) -> int:
        return self.array.ndim

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """This tensor if its entries already sit in row-major order (:meth:`is_contiguous`), else a row-major copy
        that stays in the graph (gradient flows back unchanged), as in PyTorch: an in-place change of the copy
        leaves the original alone. ``memory_format=torch.channels_last`` (``_3d``): in that order instead."""
        check_memory_format(memory_format, "contiguous", self.ndim)
        if self.is_contiguous(memory_format):
            return self
        if memory_format is preserve_format:  # a copy in the order it has: PyTorch's RuntimeError
            raise RuntimeError("contiguous: preserve memory format is unsupported by the contiguous operator (as in "
                               "PyTorch); pass torch.contiguous_format or torch.channels_last")
        if memory_format is not None and memory_format.name.startswith("channels_last"):
            return self.clone(memory_format)
        return apply(ops.CONTIGUOUS, (self,), self.array)

    def __repr__(self) -> str:
        if STATE.switches[1] is not None:
            note_read("printing a tensor")
        body = "tensor(" + array_text(self.array, len("tensor("))
        extras = []
        empty = self.array.size == 0  # "[]" shows neither the shape nor an int64 or bool dtype: PyTorch adds them
        if (empty and self.array.shape != (0,)) or (edges_hidden() and not empty):
            extras.append(f"size={shape_text(self.array.shape)}")
        if self.array.dtype != get_default_dtype() and (empty or self.array.dtype not in (int64, bool_)):
            extras.append(f"dtype={self.array.dtype}")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return with_settings(body, extras, len("tensor("))

    def _repr_html_(self) -> str:
        """Jupyter's view: shape, dtype, values and grad, signs coloured (see :mod:`glassgrad.notebook_display`)."""
        from .notebook_display import tensor_html

        return tensor_html(self)

    # --- backward ---------------------------------------------------------------------

    def backward(self, gradient: Tensor | Any = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Tensor | Any = None) -> None:
        """Compute ∂self/∂leaf for every leaf that requires grad, adding it to ``leaf.grad``.

        ``gradient`` is ∂L/∂self; it may be left out only when self holds one number
        (then it is 1). The graph is freed afterwards unless ``retain_graph=True``.
        ``create_graph=True`` records the backward pass itself, so ``leaf.grad`` can be
        differentiated again (:mod:`glassgrad.gradient_walk`); ``retain_graph`` then defaults to True.
        ``inputs``: the tensors whose ``.grad`` gets the gradient (default: every leaf); a non-leaf among them
        retains its grad from then on (:func:`_backward_inputs`), as in PyTorch.
        """
        refuse_backward_in_transform()
        if not self._requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "nothing upstream of this tensor requires grad (create the inputs with "
                "requires_grad=True, and do not compute it under no_grad)"
            )
        if gradient is None:
            if self.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but this tensor has "
                    f"shape {shape_text(self.shape)}: pass backward(gradient) with that shape, "
                    "or reduce it first (e.g. .sum() or .mean())"
                )
            seed = np.array(1, dtype=self.array.dtype)  # np.ones is a slower Python-level function
            if self.array.ndim:
                seed = seed.reshape(self.array.shape)
        else:
            seed = copied_seed(gradient.array) if isinstance(gradient, Tensor) else np.array(gradient, copy=True)
            if seed.shape != self.array.shape:
                raise RuntimeError(
                    f"backward: gradient has shape {shape_text(seed.shape)} but the tensor has shape "
                    f"{shape_text(self.shape)}; they must match"
                )
            seed = recorded_cast(seed, self.array.dtype)  # also an integer or bool one, as PyTorch casts it
        if create_graph or inputs is not None:
            from .gradient_walk import backward_into

            if create_graph:
                given = isinstance(gradient, Tensor) and gradient.array.dtype == seed.dtype
                seed = gradient if given else Tensor._wrap(seed)  # a given gradient keeps its own graph
            retain = create_graph if retain_graph is None else retain_graph
            backward_into((self,), (seed,), None if inputs is None else _backward_inputs(inputs), create_graph,
                          retain)
            return
        run_backward(self, seed, bool(retain_graph))

    # --- in-place updates -----------------------------------------------------------------
    # Each one counts a new version of the memory (see glassgrad.autograd). Where PyTorch records
    # it (grad mode on, and this tensor or the value requires grad), the tensor is re-based.

    def _in_place(self, name: str, ufunc: np.ufunc, op: ops.Op, other: Any) -> Tensor:
        if self._inference:
            refuse_inference(name)
        grad_enabled, tape = STATE.switches
        if grad_enabled and self._no_grad_view:
            refuse_no_grad_view(self, name)
        if grad_enabled and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)) or (
                FORWARD_MODE and not grad_enabled and records_tangent(self, other)):
            return _record_in_place(self, name, op, other)
        if isinstance(other, Tensor):
            value = other.array
            if value.dtype is not self.array.dtype and op.refuses_bool:  # x -= mask
                _check_bool_operand(op, self.array.dtype, value)
        else:
            value = other
            if isinstance(value, (list, tuple)):  # x += [1, 2]: NumPy would broadcast it
                raise sequence_error(value)
            if op.refuses_bool:  # x -= True
                _check_bool_operand(op, self.array.dtype, value)
        change = _change_in_place
        try:
            ufunc(self.array, value, self.array)  # out given by position (parsed faster); casting "same_kind"
        except TypeError:
            if op.refuses_bool and self.array.dtype == bool_:  # mask -= mask: NumPy's TypeError, PyTorch's RuntimeError
                raise RuntimeError(op.refuses_bool) from None
            try:
                made = ufunc(self.array, value)
            except ValueError as error:  # int /= a tensor of another shape: NumPy's broadcast ValueError
                raise _shape_error(name, self, value, error) from None
            if made.shape != self.array.shape:  # uint8 += int8 of more dims: PyTorch's RuntimeError, not NumPy's
                raise _shape_error(name, self, value, f"the result would have shape {shape_text(made.shape)}") from None
            if not can_cast(made.dtype, self.array.dtype):  # PyTorch's rule: a kind casts within itself (uint8 += int8)
                raise _cast_error(name, made.dtype, self) from None
            self.array[...] = made
            change = _change_in_place_cast
        except ValueError as error:
            if self.array.flags.writeable:
                raise _shape_error(name, self, value, error) from None
            target = writable(name, self.array)  # e[0] of an expand e: written where PyTorch writes it
            try:
                ufunc(target, value, target)
            except ValueError as error:
                raise _shape_error(name, self, value, error) from None
        except OverflowError:  # x *= 300 of int8: the number wraps to the dtype first, as PyTorch's does (to 44)
            value = wrapped_int(value, self.array.dtype, name)
            ufunc(self.array, value, self.array)
        bump_version(self.array)
        if tape is not None:
            note_kernel(change, (ufunc, self.array, value))
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._in_place("+=", np.add, ops.ADD, other)

    def __isub__(self, other: Any) -> Tensor:
        return self._in_place("-=", np.subtract, ops.SUB, other)

    def __imul__(self, other: Any) -> Tensor:
        return self._in_place("*=", np.multiply, ops.MUL, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._in_place("/=", ops.quiet_true_divide, ops.DIV, other)

    @number_first("add_")
    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        return self._in_place("add_", np.add, ops.ADD, _scaled("add_", self, other, alpha))

    @number_first("sub_")
    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        if type(alpha) is not int or alpha != 1:  # alpha·mask is a number: refused as x -= mask is, before that
            _check_bool_operand(ops.SUB, self.array.dtype, other)
        return self._in_place("sub_", np.subtract, ops.SUB, _scaled("sub_", self, other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return self._in_place("mul_", np.multiply, ops.MUL, other)

    def copy_(self, other: Any, non_blocking: bool = False) -> Tensor:
        """``self[...] = other``, broadcasting ``other`` to this shape (``other`` is PyTorch's keyword, its docs'
        ``src``; ``non_blocking`` has no effect: one CPU). A source with more dims than ``self`` is refused, as in
        PyTorch, rather than having its leading 1s dropped."""
        if (isinstance(other, (Tensor, np.ndarray)) and other.ndim > self.ndim
                and broadcastable(self.shape, other.shape)):
            raise grown_shape_error("copy_", self.shape, np.broadcast_shapes(self.shape, other.shape))
        self._set("copy_", ..., False, other)
        return self

    def fill_(self, value: float) -> Tensor:
        """Every entry set to ``value``: a number or a 0-d tensor (whose gradient is the sum of ∂L/∂self's entries).
        A tensor with dims is refused, as PyTorch refuses it (it was copied entry by entry, as ``copy_`` does)."""
        if getattr(value, "ndim", 0):
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions; give a number or a 0-d tensor (v.reshape(())), or copy a tensor with copy_")
        self._set("fill_", ..., False, written_number(value, self.array.dtype, "fill_"))  # None, 'a', [..]: refused
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``self[index] = value``, read as PyTorch reads it: ``value``'s leading 1-dims are dropped first (``x[0] = v``
        with ``v`` of shape (1, n) fills a row of n, or a 0-d entry with (1,)); ``x[True] = v`` writes every entry
        (``x[...] = v``, any dtype) and ``x[False] = v`` writes nothing."""
        if index is False:  # PyTorch's own shortcut: nothing written, nothing checked
            return
        if index is True:
            index = ...
        value = _without_leading_ones(value)
        index, advanced = _plain_index(index)
        split = _numbers_first(index) if advanced else None
        if split is not None:  # x[1, :, [0, 2]] = v: into the view x[1, :, :], as PyTorch reads it
            self[split[0]]._set("item assignment", split[1], True, value)
            return
        self._set("item assignment", index, advanced, value)

    def _set(self, name: str, index: Any, advanced: bool, value: Any) -> None:
        if self._inference:
            refuse_inference(name)
        value = written_number(value, self.array.dtype, name)
        if advanced and isinstance(value, Tensor) and value.array.dtype != self.array.dtype:
            if not (value.array.size == 1 and _mask_alone(index)):  # PyTorch's index put; a mask and one value fill
                raise written_dtype_error(name, value.array.dtype, self.array.dtype)
            if not value._requires_grad:  # the fill reads the one value as a number, checked as one (300. into uint8)
                value = written_number(value.item(), self.array.dtype, f"{name} through a mask")
        grad_enabled, tape = STATE.switches
        if grad_enabled and self._no_grad_view:
            refuse_no_grad_view(self, name)
        if self.array.dtype is float16 or value.__class__ is not float and _cast_from(value, self.array.dtype):
            with np.errstate(over="ignore", invalid="ignore"):  # cast as PyTorch casts it: no NumPy warning
                self._write(name, index, advanced, value, grad_enabled, tape)
        else:
            self._write(name, index, advanced, value, grad_enabled, tape)

    def _write(self, name: str, index: Any, advanced: bool, value: Any, grad_enabled: bool, tape: Any) -> None:
        """:meth:`_set`'s write of its checked ``value``: recorded in the graph, or into the array."""
        try:
            if grad_enabled and (self._requires_grad or (isinstance(value, Tensor) and value._requires_grad)) or (
                    FORWARD_MODE and not grad_enabled and records_tangent(self, value)):
                _record_set(self, name, index, advanced, value)
                return
            value = _data(value)
            if self.array.flags.writeable:
                self.array[index] = value
            else:  # PyTorch tests the entries written: x.expand(3, 2)[0] = v is written, x.expand(3, 2)[:, 0] = v not
                written = self.array if advanced else self.array[index]
                writable(name, self.array, written, name == "fill_")[index] = value
        except (ValueError, TypeError) as error:  # NumPy's words for a value that does not fit (or is no number,
            raise _unfitting_value_error(name, self, index, value) or error from None  # x[0] = ...): PyTorch's type
        except IndexError as error:  # an index that does not fit: PyTorch's words, as t[index] says them
            raise ops.indexing_error(self.array.shape, error) from None
        bump_version(self.array)
        if tape is not None:
            note_kernel(_set_in_place, (self.array, index, value))

    # --- arithmetic (rows of ops.py) -------------------------------------------------------

    def __add__(self, other: Any) -> Tensor:
        return _binary(ops.ADD, self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _binary(ops.ADD, lift(other, self), self)

    def __sub__(self, other: Any) -> Tensor:
        return _binary(ops.SUB, self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _binary(ops.SUB, lift(other, self), self)

    def __mul__(self, other: Any) -> Tensor:
        """``self * other``; a list or tuple is left to Python (:func:`sequence_error`), which repeats it
        ``int(self)`` times, as PyTorch leaves it."""
        try:  # free unless raised: not a cost on this hot path
            return _binary(ops.MUL, self, other)
        except TypeError:
            if type(other) in _REPEATED:
                return NotImplemented
            raise

    def __rmul__(self, other: Any) -> Tensor:
        """``other * self``; a list, tuple or string is left to Python, which repeats it ``int(self)`` times
        (``[pad] * (n - length)``, ``"#" * count``), as PyTorch leaves it."""
        if type(other) in _REPEATED:
            return NotImplemented
        return _binary(ops.MUL, lift(other, self), self)

    def __truediv__(self, other: Any) -> Tensor:
        other = other if type(other) is Tensor else lift(other, self, exact=True)
        return _binary(ops.DIV, self, other, (self._requires_grad, other._requires_grad))

    def __rtruediv__(self, other: Any) -> Tensor:  # other is a Tensor only when called by name: a.__rtruediv__(b)
        other = lift(other, self, exact=True)
        return _binary(ops.DIV, other, self, (other._requires_grad, self._requires_grad))

    def __pow__(self, exponent: Any) -> Tensor:
        if type(exponent) is int or type(exponent) is float:
            return apply(ops.POW_SCALAR, (self,), self.array, exponent)
        if isinstance(exponent, np.generic):  # a NumPy number is the Python number it holds, as in PyTorch
            return self ** exponent.item()
        if isinstance(exponent, bool) and self.array.dtype == bool_:  # PyTorch: mask ** True is mask, ** False ones
            return self.clone() if exponent else Tensor._wrap(np.ones(self.shape, bool_))
        return _binary(ops.POW, self, exponent)

    def __rpow__(self, base: Any) -> Tensor:
        return _binary(ops.POW, lift(base, self), self)

    def __neg__(self) -> Tensor:
        return apply(ops.NEG, (self,), self.array)

    def __pos__(self) -> Tensor:
        """The tensor itself; a bool tensor is refused, as in PyTorch (it has no sign)."""
        if self.array.dtype == bool_:
            raise RuntimeError("+: a bool tensor has no sign (PyTorch refuses +mask); convert it with .long() or "
                               ".float() first")
        return self

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(lift(other, self), self)

    @number_first("add")
    def add(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self + alpha·other``."""
        return _binary(ops.ADD, self, _scaled("add", self, other, alpha))

    @number_first("sub")
    def sub(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self − alpha·other``; a bool operand is refused as by ``-`` (checked before alpha makes it a number)."""
        _check_bool_operand(ops.SUB, self.array.dtype, other)
        return _binary(ops.SUB, self, _scaled("sub", self, other, alpha))

    def mul(self, other: Any) -> Tensor:
        return _binary(ops.MUL, self, other)

    pow = __pow__
    neg = __neg__
    matmul = __matmul__

    def maximum(self, other: Any) -> Tensor:
        return _binary(ops.MAXIMUM, self, other)

    def minimum(self, other: Any) -> Tensor:
        return _binary(ops.MINIMUM, self, other)

    # --- comparisons: plain bool tensors, outside the graph ------------------------------

    def _compare(self, ufunc: np.ufunc, other: Any) -> Tensor:
        if other is None or isinstance(other, (str, bytes)):
            raise TypeError(f"{ufunc.__name__}: cannot compare a tensor with {other!r}; compare with a number or a "
                            "tensor")
        other = lift(other, self).array
        try:  # broadcast_call's rule, written out on this hot path (as in _binary): no function made per call
            return untracked(recorded_call(_compared, ufunc, self.array, other))  # a kernel of a compiled step
        except ValueError:
            if (error := broadcast_error(ufunc.__name__, self.array.shape, other.shape)) is None:
                raise
            raise error from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(np.greater_equal, other)

    def _equality(self, ufunc: np.ufunc, other: Any) -> Any:
        """``==`` or ``!=`` (``ufunc``) as :meth:`_compare`; for an object that is no number, no tensor and no array of
        numbers (None, a string, a module, a dict, a list or a tuple) NotImplemented, so that Python compares
        identities: ``x == None`` and ``x == [1, 2]`` are False and ``x != None`` True, as in PyTorch (``x in [module,
        x]`` and ``list.index`` compare a tensor with anything)."""
        if other is None or isinstance(other, (str, bytes)):
            return NotImplemented
        try:
            return self._compare(ufunc, other)
        except TypeError:  # lift's refusal of an object that is no number: not for a number or an array
            if isinstance(other, _COMPARED):
                raise
            return NotImplemented

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        """``self == other``, a bool tensor (:meth:`_equality`)."""
        return self._equality(np.equal, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        """``self != other``, a bool tensor (:meth:`_equality`)."""
        return self._equality(np.not_equal, other)

    def __index__(self) -> int:
        """A one-number integer tensor used as a Python index (``data[i:i + n]`` for each ``i`` of a tensor)."""
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError(f"only integer tensors of a single element can be converted to an index, but this one is "
                            f"{self.array.dtype} of shape {shape_text(self.shape)}")
        return int(self.item())

    def __abs__(self) -> Tensor:
        return self.abs()  # abs(x), Python's built-in

    # --- elementwise functions -------------------------------------------------------------

    def exp(self) -> Tensor:
        return apply(ops.EXP, (self,), _float_data(self))

    def log(self) -> Tensor:
        return apply(ops.LOG, (self,), _float_data(self))

    def sqrt(self) -> Tensor:
        return apply(ops.SQRT, (self,), _float_data(self))

    def abs(self) -> Tensor:
        return apply(ops.ABS, (self,), self.array)

    def sin(self) -> Tensor:
        return apply(ops.SIN, (self,), _float_data(self))

    def cos(self) -> Tensor:
        return apply(ops.COS, (self,), _float_data(self))

    def relu(self) -> Tensor:
        return apply(ops.RELU, (self,), self.array)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        slope = number_argument(negative_slope, "leaky_relu", "negative_slope")
        return apply(ops.LEAKY_RELU, (self,), self.array, slope)

    def sigmoid(self) -> Tensor:
        return apply(ops.SIGMOID, (self,), _float_data(self))

    def tanh(self) -> Tensor:
        return apply(ops.TANH, (self,), _float_data(self))

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must be given")
        x = _clamped_dtype(self, min, max)
        wider = [bound.array.shape for bound in (min, max)
                 if isinstance(bound, Tensor) and not broadcasts_to(bound.array.shape, x.array.shape)]
        if wider:  # bounds with more (or longer) dims: x broadcast to them, as in PyTorch
            if not broadcastable(x.array.shape, *wider):
                raise RuntimeError(f"clamp: the bounds' shapes {', '.join(map(shape_text, wider))} do not broadcast "
                                   f"with the tensor's {shape_text(x.shape)}")
            x = x.expand(np.broadcast_shapes(x.array.shape, *wider))
        if STATE.switches[0] and any(isinstance(bound, Tensor) and bound._requires_grad for bound in (min, max)):
            return _clamp_by_picks(x, min, max)
        return apply(ops.CLAMP, (x,), x.array, _bound(min, x.array), _bound(max, x.array))

    clip = clamp

    # --- reductions ------------------------------------------------------------------------

    def sum(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
        """``Σ a`` over ``dim`` (every dim by default), in ``dtype`` if given; integers and bools sum in int64,
        as in PyTorch."""
        return _reduce(ops.SUM, _summed(self, dtype), dim, keepdim, axis, keepdims)

    def mean(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
        """``Σ a / n`` over ``dim`` (every dim by default), in ``dtype`` if given (a float dtype)."""
        x = self if dtype is None else self.to(resolve_dtype(dtype))
        x = _floating_only(x, "mean", " or t.mean(dtype=gg.float32)")
        return _reduce(ops.MEAN, x, dim, keepdim, axis, keepdims)

    def var(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None,
            axis=None, keepdims=None) -> Tensor:
        """Variance ``Σ(a − ā)² / (n − correction)``; PyTorch's default ``correction=1``. As in PyTorch, a bool
        after ``dim`` (or alone: ``x.var(False)``) is ``unbiased``, and ``keepdim`` comes third."""
        dim, correction = variance_arguments(dim, unbiased, correction)
        return _reduce(ops.VAR, _floating_only(self, "var"), dim, keepdim, axis, keepdims, correction)

    def std(self, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction: int | None = None,
            axis=None, keepdims=None) -> Tensor:
        """Standard deviation ``√(Σ(a − ā)² / (n − correction))``; PyTorch's default ``correction=1``, and its
        positions of ``unbiased`` and ``keepdim``, as in :meth:`var`."""
        dim, correction = variance_arguments(dim, unbiased, correction)
        return _reduce(ops.STD, _floating_only(self, "std"), dim, keepdim, axis, keepdims, correction)

    def max(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Largest entry; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
        return _extreme(ops.MAX, np.argmax, self, dim, keepdim, axis, keepdims)

    def min(self, dim=None, keepdim: bool = False, *, axis=None, keepdims=None):
        """Smallest entry; with ``dim``, a ``(values, indices)`` pair as in PyTorch."""
        return _extreme(ops.MIN, np.argmin, self, dim, keepdim, axis, keepdims)

    def logsumexp(self, dim, keepdim: bool = False) -> Tensor:
        axis = _axis_arg(self, dim, None, "logsumexp", every_if_empty=True)
        return apply(ops.LOGSUMEXP, (self,), _float_data(self), axis, bool(keepdim))  # integers: the default float

    def softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """``eᶻ / Σ eᶻ`` along ``dim``, in ``dtype`` if given (the tensor converted first). ``dim`` must be given,
        as in PyTorch (only the older ``F.softmax`` picks one, with a warning)."""
        x = _floating_only(self if dtype is None else self.to(resolve_dtype(dtype)), "softmax",
                           error=NotImplementedError)
        return apply(ops.SOFTMAX, (x,), x.array, check_dim(x, dim, "softmax"))

    def log_softmax(self, dim: int, dtype: Any = None) -> Tensor:
        """``z − log Σ eᶻ`` along ``dim``, in ``dtype`` if given (the tensor converted first)."""
        x = _floating_only(self if dtype is None else self.to(resolve_dtype(dtype)), "log_softmax",
                           error=NotImplementedError)
        return apply(ops.LOG_SOFTMAX, (x,), x.array, check_dim(x, dim, "log_softmax"))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        axis = _nonempty_reduction(self, dim, "argmax")
        return untracked(recorded_call(_position, np.argmax, self.array, axis, keepdim))

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        axis = _nonempty_reduction(self, dim, "argmin")
        return untracked(recorded_call(_position, np.argmin, self.array, axis, keepdim))

    def all(self, dim=None, keepdim: bool = False) -> Tensor:
        """Whether every entry (along ``dim``: an int or a tuple of them) is non-zero: a bool tensor (uint8 for a
        uint8 tensor, as in PyTorch)."""
        return _truth(self, np.logical_and, dim, keepdim, "all")

    def any(self, dim=None, keepdim: bool = False) -> Tensor:
        """Whether some entry (along ``dim``: an int or a tuple of them) is non-zero: a bool tensor (uint8 for a
        uint8 tensor, as in PyTorch)."""
        return _truth(self, np.logical_or, dim, keepdim, "any")

    # --- shapes -----------------------------------------------------------------------------

    def reshape(self, *sizes, shape=None) -> Tensor:
        """The same entries in a new shape: ``x.reshape(2, 3)``, ``x.reshape((2, 3))`` or ``x.reshape(shape=(2, 3))``,
        one size -1 worked out from the others; a view where the memory allows, else a copy."""
        if shape is not None or not sizes:
            sizes = keyword_sizes(sizes, shape, "reshape", "shape")
        shape = shape_arg(sizes, "reshape")
        below = [(position, n) for position, n in enumerate(shape) if n < -1]
        if below:  # NumPy read any negative size as -1: x.reshape(-2, 3) was x.reshape(-1, 3)
            raise RuntimeError(f"reshape: invalid shape dimension {below[0][1]} at index {below[0][0]} of shape "
                               f"{shape_text(shape)}; a size is -1 (worked out from the others) or >= 0")
        try:
            return view_of(self, ops.RESHAPE, shape)
        except ValueError:
            if _fits(shape, self.array.size):
                raise  # not a shape problem: let the real error through
            open_size = "; its -1 could be any size, as another size is 0: write that size out" if (
                -1 in shape and 0 in shape) else ""
            raise RuntimeError(
                f"reshape: shape {shape_text(shape)} is invalid for a tensor of shape "
                f"{shape_text(self.shape)} ({self.array.size} elements){open_size}"
            ) from None

    def view(self, *shape, size=None, dtype=None) -> Tensor:
        """``reshape`` that must share memory, as PyTorch's: a tensor whose entries the new shape cannot step through
        in memory (a strided view as ``x.t()`` or ``x[:, :2]``, or ``x.t() * 2``, which keeps its input's order) is
        refused, where ``reshape`` would copy. (The results PyTorch lays out row-major whatever their inputs' order,
        a reduction's or an index's, are laid out so here too: :func:`glassgrad.ops.row_major`.)
        ``view(dtype)`` reads the same bytes as another dtype (:func:`_reinterpreted`). PyTorch's keywords work too:
        ``view(size=(2, 3))``, ``view(dtype=gg.int32)``."""
        if size is not None or not shape:
            if dtype is not None and size is None and not shape:
                return _reinterpreted(self, resolve_dtype(dtype))
            shape = keyword_sizes(shape, size, "view", "size")
        elif len(shape) == 1 and isinstance(shape[0], np.dtype):
            return _reinterpreted(self, shape[0])
        shape = shape_arg(shape, "view")
        if not self.array.flags.c_contiguous and _fits(shape, self.array.size):
            try:
                np.reshape(self.array, shape, copy=False)
            except ValueError:
                raise RuntimeError(
                    f"view: shape {shape_text(shape)} cannot be a view of this tensor of shape "
                    f"{shape_text(self.shape)} and stride {self.stride()} (a dimension would span two separate "
                    "runs of its memory); use .reshape(...), or .contiguous().view(...)") from None
        return self.reshape(shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        start = check_dim(self, start_dim, "flatten")  # a 0-d tensor takes 0 and -1, as PyTorch's
        end = check_dim(self, end_dim, "flatten")
        if self.array.ndim == 0:
            return self.reshape(1)
        if start > end:
            raise RuntimeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (dims {start} and {end} "
                               f"of a {self.array.ndim}-d tensor); give start_dim <= end_dim")
        shape = self.array.shape  # the joined size written out: -1 cannot be worked out when another dim is 0
        return self.reshape(shape[:start] + (math.prod(shape[start:end + 1]),) + shape[end + 1:])

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        axes = list(range(self.array.ndim))
        dim0, dim1 = check_dim(self, dim0, "transpose"), check_dim(self, dim1, "transpose")
        if not axes:  # a 0-d tensor: dims 0 and -1 name the number itself, as in PyTorch
            return self
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
        return view_of(self, ops.PERMUTE, tuple(axes))

    def permute(self, *order, dims=None) -> Tensor:
        """The dims reordered: ``x.permute(2, 0, 1)``, ``x.permute((2, 0, 1))`` or ``x.permute(dims=(2, 0, 1))``
        (dim ``i`` of the result is dim ``order[i]`` of ``x``); a view."""
        if dims is not None or not order:
            order = keyword_sizes(order, dims, "permute", "dims")
        order = shape_arg(order, "permute")  # PyTorch counts the dims first: permute(0, 1, 2) of a matrix is this
        dims = tuple(check_dim(self, d, "permute") for d in order) if len(order) == self.array.ndim else order
        if sorted(dims) != list(range(self.array.ndim)):
            raise RuntimeError(f"permute: dims {dims} must list each of the {self.array.ndim} dims once")
        return view_of(self, ops.PERMUTE, dims)

    @property
    def T(self) -> Tensor:
        """All dims reversed (for a matrix: the transpose). On other than 2 dims PyTorch deprecates it, and so it
        warns as PyTorch does, once in a process: ``x.mT`` transposes a batch of matrices."""
        if self.array.ndim != 2:
            warn_once("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
                      if self.array.ndim == 0 else
                      "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and "
                      "it will throw an error in a future release. Consider `x.mT` to transpose batches of matrices "
                      "or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.")
        if self.array.ndim < 2:
            return self
        return view_of(self, ops.PERMUTE, tuple(reversed(range(self.array.ndim))))

    def unsqueeze(self, dim: int) -> Tensor:
        dim = int_argument(dim, "unsqueeze", "dim")
        if not -self.array.ndim - 1 <= dim <= self.array.ndim:
            raise IndexError(f"unsqueeze: dim {dim} is out of range for a {self.array.ndim}-d tensor")
        dim = dim if dim >= 0 else dim + self.array.ndim + 1
        return self.reshape(self.array.shape[:dim] + (1,) + self.array.shape[dim:])

    def squeeze(self, dim: int | tuple[int, ...] | None = None, *more: int) -> Tensor:
        """The dims of size 1 taken out: all of them, or those among ``dim`` (an int or a tuple, or the dims one by
        one, ``x.squeeze(0, 1)``, as PyTorch's method takes them)."""
        if more:
            dim = (dim, *more)
        if dim is None:
            return self.reshape(tuple(n for n in self.array.shape if n != 1))
        dims = distinct_dims(self, dim if isinstance(dim, (tuple, list)) else (dim,), "squeeze")
        if self.array.ndim == 0:  # dims 0 and -1 of a 0-d tensor: itself, as in PyTorch
            return self
        return self.reshape(tuple(n for i, n in enumerate(self.array.shape) if n != 1 or i not in dims))

    def expand(self, *sizes, size=None) -> Tensor:
        """A view of size-1 dims repeated (without copying) to ``sizes`` (-1 keeps a dim; extra leading sizes add
        dims): ``x.expand(4, 3)``, ``x.expand((4, 3))`` or ``x.expand(size=(4, 3))``."""
        if size is not None or not sizes:
            sizes = keyword_sizes(sizes, size, "expand", "size")
        sizes = shape_arg(sizes, "expand")
        offset = len(sizes) - self.array.ndim
        if offset < 0:
            raise RuntimeError(f"expand: cannot expand shape {shape_text(self.shape)} to fewer dims {sizes}")
        target = tuple(self.array.shape[i - offset] if n == -1 and i >= offset else n for i, n in enumerate(sizes))
        if not broadcastable(self.array.shape, target) or np.broadcast_shapes(self.array.shape, target) != target:
            raise RuntimeError(
                f"expand: the shape {shape_text(self.shape)} cannot be expanded to {shape_text(target)} "
                "(only size-1 dims can grow)"
            )
        return view_of(self, ops.EXPAND, target)

    def expand_as(self, other: Tensor) -> Tensor:
        shape = getattr(other, "shape", None)
        if shape is None:  # a number or a tuple: PyTorch's TypeError, not a raw AttributeError
            tensor_argument(other, "expand_as", "other")
        return self.expand(shape)

    def __getitem__(self, index: Any) -> Tensor:
        index, advanced = _plain_index(index)
        try:
            if advanced:
                split = _numbers_first(index)
                if split is not None:
                    return self[split[0]][split[1]]
                return apply(ops.GETITEM, (self,), self.array, index, advanced)
            if not any(part is Ellipsis for part in (index if isinstance(index, tuple) else (index,))):
                index = (*index, ...) if isinstance(index, tuple) else (index, ...)  # x[0] of a vector: a 0-d view
            return view_of(self, ops.GETITEM, index, advanced)
        except IndexError as error:
            if str(error).startswith("indexing a tensor of shape"):  # the kernel's own (ops.INDEXING)
                raise
            raise ops.indexing_error(self.array.shape, error) from None


def _left_the_graph(name: str, op: str) -> RuntimeError:
    """PyTorch's refusal of NumPy's ``np.<name>`` on a tensor that requires grad, with the fix."""
    own = f"torch.{op}(t) where it exists" if op else "torch's function of the same name"
    return RuntimeError(f"np.{name} of a tensor that requires grad: NumPy's function is no op of the graph, so no "
                        f"gradient would flow through it; use the tensor's own op ({own}) to keep the gradient, or "
                        f"call NumPy on t.detach()")


_OPERATOR_UFUNCS = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"), np.multiply: ("__mul__", "__rmul__"),
    np.true_divide: ("__truediv__", "__rtruediv__"), np.floor_divide: ("__floordiv__", "__rfloordiv__"),
    np.remainder: ("__mod__", "__rmod__"), np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"), np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"), np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
    np.bitwise_and: ("__and__", "__rand__"), np.bitwise_or: ("__or__", "__ror__"),
    np.bitwise_xor: ("__xor__", "__rxor__"), np.left_shift: ("__lshift__", "__rlshift__"),
    np.right_shift: ("__rshift__", "__rrshift__"),
}
"""The ufuncs Python's operators stand for: NumPy's ufunc on a tensor is the tensor's operator (the second name: the
tensor on the right, ``array − t`` as ``t.__rsub__(array)``, ``array < t`` as ``t > array``)."""


# --- how methods become graph nodes ------------------------------------------------------


def apply(op: ops.Op, parents: tuple, *args: Any) -> Tensor:
    """Run ``op.forward(*args)`` and wrap its result in a tensor, a node of the graph if it is recorded.

    Every op of glassgrad comes through here: ``x * y`` is ``apply(ops.MUL, (x, y), x.array, y.array)``.
    What a node remembers, and when, is :func:`glassgrad.graph.record`'s business.
    """
    try:
        out, saved = op.forward(*args)
    except TypeError:  # NumPy's refusal of a bool operand (``mask − mask``), told as PyTorch tells it
        if op.refuses_bool:
            raise RuntimeError(op.refuses_bool) from None
        raise
    result = _new(Tensor)
    result.array = out if type(out) is np.ndarray else np.asarray(out)  # NumPy hands back a 0-d result as a scalar
    result._grad = None
    result._retains_grad = False
    return record(result, op, parents, saved, args)


def untracked(array: np.ndarray) -> Tensor:
    """A new tensor no gradient flows through (a comparison, an index, a factory's), around ``array``: made inside
    ``inference_mode()``, an inference tensor (``is_inference()``), as PyTorch's; op results get that mark in
    :func:`glassgrad.graph.record`."""
    result = _new(Tensor)
    result._init_leaf(array)
    if STATE.inference:
        result._inference = True
    return result


def view_of(base: Tensor, op: ops.Op, *args: Any) -> Tensor:
    """``op`` of ``base`` with ``args`` (reshape, permute, expand, basic indexing, diagonal): a view of its memory,
    known as one (:func:`glassgrad.graph.as_view`), so that an in-place change of either reaches the other."""
    return as_view(base, apply(op, (base,), base.array, *args), args, op)


def refuse_no_grad_view(view: Tensor, name: str) -> None:
    """PyTorch's refusal of an in-place change (``name``) with grad mode on of a view taken under ``no_grad()``
    (or ``inference_mode()``) of a tensor that requires grad: whether the graph should see it is ambiguous."""
    raise RuntimeError(f"A view was created in {view._no_grad_view} mode and is being modified in place ({name}) with "
                       "grad mode enabled, which PyTorch refuses as ambiguous: take the view and change it both inside "
                       f"`with {view._no_grad_view}():` (the change is not tracked) or both outside it (it is)")


def refuse_inference(name: str) -> None:
    """PyTorch's refusal of an in-place change (``name``) of an inference tensor outside ``inference_mode()``."""
    if not STATE.inference:
        raise RuntimeError(f"Inplace update to inference tensor outside InferenceMode is not allowed ({name}; the "
                           "tensor was made inside inference_mode()): change a copy, t = t.clone(), or make it under "
                           "no_grad() instead")


def _position(find: Callable, array: np.ndarray, axis: int | None, keepdim: bool) -> np.ndarray:
    """``argmax``/``argmin`` as int64 indices: one call, so that a compiled step replays it as one kernel."""
    return np.asarray(find(array, axis=axis, keepdims=keepdim), dtype=np.int64)


def grown_shape_error(name: str, shape: tuple, broadcast: tuple) -> RuntimeError:
    """PyTorch's refusal to write a result of a larger (broadcast) shape into a tensor in place: one message."""
    return RuntimeError(f"{name}: output with shape {shape_text(shape)} doesn't match the broadcast shape "
                        f"{shape_text(broadcast)}; an in-place op keeps its tensor's shape (use the out-of-place form)")


def written_dtype_error(name: str, values: np.dtype, tensor: np.dtype) -> RuntimeError:
    """PyTorch writes no other dtype by index (``x[[0, 1]] = v``, index_add, index_copy, scatter, …): one message."""
    return RuntimeError(f"{name}: the values written ({values}) must have the tensor's dtype ({tensor}) when writing "
                        f"by index, as in PyTorch; convert them with .to({tensor})")


def _change_in_place(ufunc: np.ufunc, array: np.ndarray, value: Any) -> None:
    """``array op= value`` outside the graph, counted as a change: what a compiled step replays (glassgrad.compiler).

    A compiled program writes it out for a parameter, with the memory's version record found once.
    """
    ufunc(array, value, array)  # out by position, as Tensor._in_place
    bump_version(array)


def _change_in_place_cast(ufunc: np.ufunc, array: np.ndarray, value: Any) -> None:
    """:func:`_change_in_place` where NumPy's same-kind rule refuses what PyTorch casts (uint8 += int8 is int16,
    written back as uint8): the result made, then written in, as :meth:`Tensor._in_place` does (the cast was checked
    at capture)."""
    array[...] = ufunc(array, value)
    bump_version(array)


def _reinterpreted(tensor: Tensor, dtype: np.dtype) -> Tensor:
    """``tensor.view(dtype)``: its bytes read as ``dtype``, a view of its memory outside the graph (as PyTorch's,
    it has no gradient). A dtype of another size makes the last dim longer or shorter: its entries must be
    side by side in memory, and its size and the other dims' strides fill whole entries of the new dtype."""
    array, old = tensor.array, tensor.array.dtype
    if dtype.itemsize != old.itemsize:
        if array.ndim == 0 or array.strides[-1] != old.itemsize:
            raise RuntimeError(f"view: the last dim must have stride 1 to view {old} as {dtype} (different element "
                               f"sizes), got strides {tensor.stride()}; call .contiguous() first")
        if array.shape[-1] * old.itemsize % dtype.itemsize or any(step % dtype.itemsize for step in array.strides[:-1]):
            raise RuntimeError(f"view: the last dim's size ({array.shape[-1]}) and the other strides "
                               f"({tensor.stride()[:-1]}) must hold whole {dtype} entries to view {old} as {dtype} "
                               "(different element sizes)")
    return as_view(tensor, Tensor._wrap(array.view(dtype)))


GIVEN_READ_ONLY: weakref.WeakValueDictionary[int, np.ndarray] = weakref.WeakValueDictionary()
"""Read-only NumPy arrays a tensor was made to share (:func:`glassgrad.creation.from_numpy`, ``as_tensor``: a
``np.broadcast_to`` of the learner's, pandas' ``to_numpy()``), by ``id``: never written through, whatever their
memory would allow (glassgrad's warning at their sharing says an in-place change raises). Filled only there."""


def given_read_only(array: np.ndarray) -> bool:
    """Whether ``array`` lies in the memory of a read-only array a tensor was made to share
    (:data:`GIVEN_READ_ONLY`): a view of it, or of its views (NumPy's ``base`` skips views of views, so memory
    bounds decide, conservatively: an array sharing memory with one counts too)."""
    return any(np.may_share_memory(array, given) for given in GIVEN_READ_ONLY.values())


def writable(name: str, array: np.ndarray, written: Any = None, fills: bool = False) -> np.ndarray:
    """``array`` (read-only) made writable where PyTorch writes into it: a writable alias of the same memory when
    ``array`` is read-only only as a view of an ``expand`` (NumPy's ``broadcast_to``) and either no dim of the entries
    ``written`` (``array[index]``; default all of it) repeats an entry (no stride 0 over a size > 1, PyTorch's test
    of the written-to tensor: ``e[0]`` of ``x.expand(3, 2)``; an empty one repeats none) or ``fills`` (one number
    written everywhere: ``fill_``, ``zero_``, ``nn.init.constant_``, which PyTorch does not test). Otherwise
    PyTorch's refusal (:func:`_shared_places_error`)."""
    written = array if written is None else written
    if given_read_only(array):
        raise _shared_places_error(name, array)
    if fills or not written.size or not any(stride == 0 and size > 1 for size, stride in zip(written.shape,
                                                                                          written.strides)):
        alias = array.view()
        try:
            alias.flags.writeable = True  # NumPy refuses where the memory itself is read-only
            return alias
        except ValueError:
            pass
    raise _shared_places_error(name, array)


def _shared_places_error(name: str, array: np.ndarray) -> RuntimeError:
    """Why ``array`` (not writeable) cannot be written, in PyTorch's class: its memory is read-only (``frombuffer``
    of ``bytes``, a read-only NumPy array; PyTorch writes into such memory), or else it is a view whose entries share
    memory locations (an ``expand``: PyTorch's own refusal); a 'meta' placeholder has no memory to write (PyTorch's
    in-place op on 'meta' does nothing)."""
    if is_placeholder(array):
        return RuntimeError(f"{name}: the tensor is on 'meta', a shape with no numbers to write into; give the model "
                            "numbers first (model.to_empty(device='cpu'))")
    owner = array
    while isinstance(owner.base, np.ndarray):  # the array that holds the memory: read-only there, read-only here
        owner = owner.base
    if not owner.flags.writeable or given_read_only(array):
        return RuntimeError(f"{name}: the tensor's memory is read-only (frombuffer of bytes, or a read-only NumPy "
                            "array); clone() it and write into the copy, or give frombuffer a writable buffer "
                            "(bytearray(b))")
    return RuntimeError(f"{name}: unsupported operation: more than one element of the written-to tensor refers to a "
                        "single memory location (a view from expand); clone() it first, or write into the tensor "
                        "before expanding it")


def _without_leading_ones(value: Any) -> Any:
    """``value`` (a tensor or an array) without its leading dims of size 1, as PyTorch's ``t[index] = value`` takes
    it: NumPy refused them where the part written is one entry or picked by a mask, and a gradient of the value came
    back a dim short (the setitem rule's ``up[index]``)."""
    shape = getattr(value, "shape", ())
    ones = next((k for k, size in enumerate(shape) if size != 1), len(shape))
    return value.reshape(tuple(shape[ones:])) if ones and isinstance(value, (Tensor, np.ndarray)) else value


def _set_in_place(array: np.ndarray, index: Any, value: Any) -> None:
    """``array[index] = value`` outside the graph, counted as a change: what a compiled step replays."""
    if array.dtype is float16 or _cast_from(value, array.dtype):
        with np.errstate(over="ignore", invalid="ignore"):  # cast as PyTorch casts it: no NumPy warning
            array[index] = value
    else:
        array[index] = value
    bump_version(array)


def _cast_from(value: Any, dtype: np.dtype) -> bool:
    """Whether writing ``value`` (a tensor or an array) into an array of ``dtype`` casts it to another dtype, which
    PyTorch does silently (1e300 into float32 is inf, NaN into an integer its dtype's lowest; past float16's 65504,
    a number too, is ±inf) where NumPy warns ("overflow encountered in cast")."""
    data = value.array if isinstance(value, Tensor) else value
    return isinstance(data, np.ndarray) and data.dtype is not dtype


def _backward_inputs(inputs: Any) -> tuple:
    """``backward(inputs=…)``'s tensors, checked as PyTorch checks them. A non-leaf among them retains its grad from
    then on, as PyTorch's ``backward`` makes it (``retains_grad`` turns True, and a later plain ``backward`` adds into
    its ``.grad`` too)."""
    tensors = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if not tensors:
        raise RuntimeError("backward: the inputs argument cannot be empty; leave it out to reach every leaf")
    for position, tensor in enumerate(tensors):
        if not isinstance(tensor, Tensor) or not tensor._requires_grad:
            raise RuntimeError(
                f"backward: inputs[{position}] must be a tensor that requires grad (the gradient goes to its .grad)"
            )
    for tensor in tensors:
        tensor.retain_grad()
    return tensors


def _record_in_place(tensor: Tensor, name: str, op: ops.Op, other: Any) -> Tensor:
    """``tensor op= other`` recorded in the graph: ``tensor`` becomes ``op(old tensor, other)``."""
    check_in_place(tensor, name)
    other = other if isinstance(other, Tensor) else lift(other, tensor)
    if np.may_share_memory(tensor.array, other.array) and (
            op.saves or other is not tensor and not same_view(tensor.array, other.array)):
        # y += y (or y.add_(y[:])) is y = old y + old y; a rule that reads an operand back (y *= y) would read the new
        # y, and an operand overlapping only some entries (y[1:] += y[:-1]) is read as it is written: PyTorch refuses
        raise RuntimeError(
            f"in-place {name} of a tensor in the graph with an operand that shares memory with it is not "
            "supported: clone() the operand first"
        )
    # the rule may read the old value back (mul, div: for other's gradient); it is about to be overwritten
    private = any(0 in needs for needs, part in zip(op.saves, (tensor, other)) if part._requires_grad)
    a, b = (recorded_call(private_copy, tensor.array) if private else tensor.array), other.array
    if a.dtype is not b.dtype:
        a, b = recorded_call(promote, a, b)  # a kernel of a compiled step: b is cast at each call
    try:
        out, saved = op.forward(a, b)
    except ValueError as error:
        raise _shape_error(name, tensor, b, error) from None
    if out.shape != tensor.array.shape:
        raise _shape_error(name, tensor, b, f"the result would have shape {shape_text(out.shape)}")
    try:
        np.copyto(tensor.array, out, casting="same_kind")
    except TypeError:
        raise _cast_error(name, out.dtype, tensor) from None
    rebase(tensor, op, other, saved, 0 if private else None, (a, b))
    return tensor


def private_copy(array: np.ndarray) -> np.ndarray:
    """The old value of a tensor changed in place whose rule reads it back (``h *= w``): the node's own copy (a kernel
    of a compiled step, which writes the product into the tensor's memory from it: :mod:`glassgrad.compiler`)."""
    return array.copy()


def _record_set(tensor: Tensor, name: str, index: Any, advanced: bool, value: Any) -> None:
    """``tensor[index] = value`` recorded in the graph (``copy_`` is ``tensor[...] = value``)."""
    check_in_place(tensor, name)
    value = value if isinstance(value, Tensor) else lift(value, tensor)
    if advanced:  # keep the index as it is now: the rule reads it back (copied by a kernel of a compiled step)
        parts = index if isinstance(index, tuple) else (index,)
        parts = tuple(recorded_call(np.copy, part) if isinstance(part, np.ndarray) else part for part in parts)
        index = parts if isinstance(index, tuple) else parts[0]
    _, saved = ops.SETITEM.forward(tensor.array, value.array, index)
    rebase(tensor, ops.SETITEM, value, saved, None, (index,))


def _scaled(name: str, tensor: Tensor, other: Any, alpha: float) -> Any:
    """``alpha · other`` for ``add``/``sub`` and their in-place forms (recorded when ``other`` is a tensor in the
    graph), in the result's dtype; ``alpha`` checked against the operands' dtypes (:func:`check_alpha`)."""
    if type(alpha) is int and alpha == 1:  # the default: nothing to check or scale
        return other
    if type(alpha) is not float or tensor.array.dtype.kind in "biu":  # a float alpha on a float tensor (SGD by
        check_alpha(name, tensor.array.dtype, other, alpha)  # hand, p.data.add_(g, alpha=-lr)): nothing to check
    if alpha == 1:
        return other
    if not isinstance(other, Tensor):
        return np.multiply(_data(other), alpha)
    if other.array.dtype is not tensor.array.dtype:  # scaled in the result's dtype: a uint8 other times −1 must not
        common = common_dtype(tensor.array, other.array)  # wrap around
        other = other if other.array.dtype == common else other.to(common)
    return other * (bool(alpha) if other.array.dtype is bool_ else alpha)  # a bool result reads alpha as a bool


def _cast_error(name: str, result_dtype: np.dtype, tensor: Tensor) -> RuntimeError:
    return RuntimeError(
        f"{name}: result type {result_dtype} can't be cast to this tensor's dtype {tensor.array.dtype}"
    )


def _check_bool_operand(op: ops.Op, dtype: np.dtype, other: Any) -> None:
    """PyTorch refuses a bool operand of subtraction on either side (``op.refuses_bool``, its words): RuntimeError
    for a tensor of ``dtype`` and ``other`` (a tensor, an array or a Python number) where either is bool."""
    if op.refuses_bool and (dtype == bool_ or isinstance(other, (bool, np.bool_)) or
                            getattr(other, "dtype", None) == bool_):
        raise RuntimeError(op.refuses_bool)


def _unfitting_value_error(name: str, tensor: Tensor, index: Any, value: Any) -> Exception | None:
    """The error for ``tensor[index] = value`` (or ``copy_``) where ``value``'s shape does not broadcast to the
    part it writes, RuntimeError as in PyTorch; where it is no number (:func:`_unwritable_value_error`), or a list
    NumPy writes without dropping its leading 1s (``x[0] = [1]``; PyTorch refuses every list), TypeError as
    PyTorch's; None where it does fit (the ValueError had another cause)."""
    if (unwritable := _unwritable_value_error(name, tensor, value)) is not None:
        return unwritable
    part, given = np.shape(tensor.array[index]), np.shape(_data(value))
    extra = max(0, len(given) - len(part))  # leading 1s of the value are dropped, as in PyTorch
    if all(size == 1 for size in given[:extra]) and broadcasts_to(given[extra:], part):
        if extra and isinstance(value, (list, tuple)):
            return TypeError(f"{name}: a {type(value).__name__} of shape {shape_text(given)} cannot be written to a "
                             f"part of shape {shape_text(part)}; give a number or a tensor (torch.tensor(value)), "
                             "whose leading 1s are dropped")
        return None
    return RuntimeError(f"{name}: a value of shape {shape_text(given)} does not fit the part it writes, of shape "
                        f"{shape_text(part)} (it must broadcast to it)")


def _unwritable_value_error(name: str, tensor: Tensor, value: Any) -> TypeError | None:
    """PyTorch's TypeError for ``tensor[index] = value`` where ``value`` holds no numbers glassgrad writes
    (``...``, a complex number, strings in a list or an array, a ragged list), in one line instead of NumPy's
    words from its conversion; None for a value of numbers (the error had another cause)."""
    try:
        kind = np.asarray(_data(value)).dtype.kind
    except (ValueError, TypeError):  # a ragged list
        kind = "O"
    if kind in "biuf":
        return None
    return TypeError(f"{name}: can't assign {shown(value)} to a {tensor.array.dtype} tensor; give a number, a "
                     "tensor, or numbers in an array or a rectangular list")


def _shape_error(name: str, tensor: Tensor, value: Any, reason: Any) -> RuntimeError:
    return RuntimeError(
        f"{name}: cannot update a tensor of shape {shape_text(tensor.shape)} in place with a "
        f"value of shape {shape_text(np.shape(value))} ({reason})"
    )


def _float_data(tensor: Tensor) -> np.ndarray:
    """The tensor's array, in the default float dtype if it holds integers (PyTorch's result dtype for exp, log, …)."""
    data = tensor.array
    return data if data.dtype.kind == "f" else recorded_call(np.ndarray.astype, data, get_default_dtype())


def _compared(ufunc: np.ufunc, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A comparison in the two operands' common dtype, as PyTorch: an int64 tensor meets a float32 one (or a
    Python float) in float32, where 2²⁴ + 1 equals 2²⁴ (NumPy compares the exact numbers). Always an array (NumPy
    gives a 0-d comparison as a bool scalar), so that a compiled step keeps it in a buffer, not as a constant."""
    return np.asarray(ufunc(*promote(a, b)))


def _data(value: Any) -> Any:
    return value.array if isinstance(value, Tensor) else value


def _clamp_by_picks(x: Tensor, low: Any, high: Any) -> Tensor:
    """``clamp`` when a bound requires grad, as two picks: ``where(x ≥ low, x, low)``, then ``where(· ≤ high, ·,
    high)``. Each entry's gradient goes to what it was taken from, as in PyTorch: x inside the bounds, ``low`` where
    x is below it, ``high`` where above (the clamp row itself has no gradient for its bounds). Where x or a bound
    is NaN the result is NaN, and none of them gets a gradient there, as PyTorch (a pick would take one of them;
    PyTorch still sends it to ``high`` where ``x > high`` beside a NaN ``low``: to a NaN, glassgrad sends none).
    Where ``x < low = high`` the gradient goes to ``low``; PyTorch sends it to neither bound, losing it."""
    out, arrays = x, [x.array]
    for bound, keeps in ((low, np.greater_equal), (high, np.less_equal)):
        if bound is not None:
            bound = bound if isinstance(bound, Tensor) else lift(bound, out)
            arrays.append(bound.array)
            a, b = recorded_call(promote, out.array, bound.array)
            out = apply(ops.WHERE, (out, bound), recorded_call(keeps, a, b), a, b)  # a kernel of a compiled step
    nan = out.new_tensor(np.nan)
    known = recorded_call(_none_nan, out.array.shape, *arrays)
    return apply(ops.WHERE, (out, nan), known, out.array, nan.array)


def _none_nan(shape: tuple, *arrays: np.ndarray) -> np.ndarray:
    """Where none of ``arrays`` (broadcast to ``shape``) is NaN."""
    known = np.ones(shape, dtype=bool)
    for array in arrays:
        known &= ~np.isnan(array)
    return known


def _clamped_dtype(tensor: Tensor, *bounds: Any) -> Tensor:
    """``tensor`` in the dtype PyTorch clamps it in: an integer tensor bounded by a float (a number, or a tensor)
    becomes a float, the default float for a number (``int_tensor.clamp(0.5)`` is float32; NumPy gave float64)."""
    data = tensor.array
    if is_floating(data.dtype):
        return tensor
    for bound in bounds:
        if isinstance(bound, (float, np.floating)) or isinstance(bound, Tensor) and is_floating(bound.array.dtype):
            data = promote(data, lift(bound, tensor).array)[0]
    return tensor if data.dtype == tensor.array.dtype else tensor.to(data.dtype)


def _bound(value: Any, array: np.ndarray) -> Any:
    """A clamp bound: an integer tensor bounding a float one takes its dtype, by :func:`promote` (PyTorch keeps
    float32 there; NumPy would promote to float64)."""
    bound = _data(value)
    if bound is None:
        return None
    if isinstance(bound, np.ndarray):
        return recorded_call(promote, array, bound)[1]  # a kernel of a compiled step: cast at each call
    return written_number(bound, array.dtype, "clamp")


_COMPARED = (Tensor, numbers.Number, np.ndarray, np.generic)
"""What ``==`` compares entry by entry, refusing it when it holds no numbers (:meth:`Tensor.__eq__`)."""

def sequence_error(value: list | tuple) -> TypeError:
    """PyTorch's refusal of a Python list or tuple where a tensor's operand goes: its operators leave it to Python
    (``t == [1, 2]`` is False and ``t != [1, 2]`` True, identities compared; ``t + [1, 2]`` and ``t < (1, 2)`` raise
    TypeError; ``n * [0]`` with a one-number integer ``n`` repeats the list), its functions refuse it
    (``t.add([1, 2])``)."""
    return TypeError(f"a tensor cannot be combined with a {type(value).__name__}, as in PyTorch; make it a tensor "
                     "first: gg.tensor(values)")


_REPEATED = frozenset((list, tuple, str, bytes))
"""The types Python repeats with ``*`` by an integer (``[0] * n``): ``Tensor.__rmul__`` leaves them to it."""

_LIFTED: dict[tuple[float, np.dtype], Tensor] = {}


def _holds(dtype: np.dtype, number: int) -> bool:
    limits = np.iinfo(dtype)
    return limits.min <= number <= limits.max


def lift(value: Any, like: Tensor, exact: bool = False) -> Tensor:
    """``value`` as a tensor; a Python number takes ``like``'s float dtype (as in PyTorch), and a Python int a 0-d
    integer ``like``'s dtype (a number does not raise the dtype within a kind: 0-d int32 + 1 is int32, and 0-d int32
    + 2**40 wraps the number to int32 first, 2**40 + 5 being 5 there, as PyTorch and as int32 with dims do).
    Otherwise an int stays an exact int64 0-d tensor, which :func:`promote` casts for ``+``; ``exact``: the op's
    result is a float (a true division), which takes the int as it is (0-d uint8 / 256 divides by 256). A tuple or
    list holding tensors is refused, as PyTorch refuses it: it is most often ``x.max(dim)``'s (values, indices)
    where ``.values`` was meant, which NumPy would otherwise stack into a tensor with a dim too many. Any other tuple
    or list is refused too (:func:`sequence_error`), as PyTorch refuses ``t + [1, 2]`` and ``t.add([1, 2])``.

    A number becomes a read-only constant leaf, made once per number and dtype and then shared
    (``p - lr * p.grad`` every step makes no new tensor for ``lr``). Zero is made afresh each
    time: ``0.0`` and ``-0.0`` are equal as keys, yet ``x * -0.0`` must keep its signs.
    """
    if type(value) is float and value:  # the common case (a learning rate): one lookup
        lifted = _LIFTED.get((value, like.array.dtype))
        if lifted is not None:
            return lifted
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (int, float)):  # np.float64 too: a float
        dtype = like.array.dtype
        if type(value) is bool:  # a bool stays a bool, as PyTorch's: x + True is x + 1, x - True is refused
            return Tensor._wrap(np.array(value))
        if dtype.kind != "f":
            if not isinstance(value, float):
                number = as_array(value, None)
                converted = like.ndim == 0 and dtype.kind in "iu" and (not exact or _holds(dtype, value))
                return Tensor._wrap(number.astype(dtype) if converted else number)
            dtype = get_default_dtype()
        if not value:
            return Tensor._wrap(np.array(value, dtype=dtype))
        key = (value, dtype)
        lifted = _LIFTED.get(key)
        if lifted is None:
            if len(_LIFTED) >= ops.MAX_CONSTANTS:  # e.g. a learning rate that changes every step
                _LIFTED.clear()
            lifted = _LIFTED[key] = Tensor._wrap(ops.constant(value, dtype))  # read-only
        return lifted
    if isinstance(value, np.generic):  # a NumPy number is the Python number it holds, as in PyTorch (np.int64(3)
        return lift(value.item(), like, exact)  # does not raise an int16 tensor to int64, nor np.float32 an int one)
    if isinstance(value, (tuple, list)):
        if any(isinstance(item, Tensor) for item in value):
            raise TypeError(f"a tensor cannot be combined with a {type(value).__name__} of tensors; x.max(dim), "
                            "x.min(dim), x.sort() and x.topk(k) give (values, indices): take .values, as in "
                            "x.max(1, keepdim=True).values")
        raise sequence_error(value)
    if type(value) is np.ndarray:  # x * mask: one kernel of a compiled step, which copies the array as it is then
        return Tensor._wrap(recorded_call(as_array, value, None))
    try:
        return Tensor._wrap(as_array(value, None))
    except RuntimeError as error:  # an object with no dtype to infer (tensor(None)'s class): no operand, Python's class
        raise TypeError(str(error)) from None


def _binary(op: ops.Op, a: Tensor, b: Any, *settings: Any) -> Tensor:
    """``op(a, b)`` with ``b`` lifted to a tensor and both in their common dtype; ``settings`` follow the arrays
    (which inputs need a gradient, for ``div``)."""
    if type(b) is not Tensor:
        b = lift(b, a, op.float_result)
    a_data, b_data = a.array, b.array
    if a_data.dtype is not b_data.dtype:
        if op.refuses_bool:
            _check_bool_operand(op, a_data.dtype, b_data)
        # a kernel of a compiled step
        a_data, b_data = recorded_call(promote_to_float if op.float_result else promote, a_data, b_data)
    try:  # broadcast_call's rule, written out on this hot path
        if settings:  # div's alone: without them the call is written without the star, for which Python builds
            return apply(op, (a, b), a_data, b_data, *settings)  # a list and a tuple (~70 ns of every + − ×)
        return apply(op, (a, b), a_data, b_data)
    except ValueError:
        if (error := broadcast_error(op.name, a.shape, b.shape)) is None:
            raise  # not a shape problem: let the real error through
        raise error from None


def _fits(shape: tuple, size: int) -> bool:
    """Whether ``size`` elements can take ``shape`` (one -1 may stand for the rest, unless another size is 0 and
    leaves it open)."""
    known = int(np.prod([n for n in shape if n != -1]))
    if list(shape).count(-1) > 1 or any(n < -1 for n in shape):
        return False
    return known > 0 and size % known == 0 if -1 in shape else known == size


def tensor_argument(value: Any, function: str, name: str, position: int | None = None, optional: bool = False) -> Any:
    """``value`` itself when it is a tensor (or None, for an ``optional`` one); else PyTorch's one-line TypeError
    naming the argument: ``linear(): argument 'weight' (position 2) must be Tensor, not int``. For the arguments
    PyTorch takes only as tensors (a layer's weight, bias, running statistics), where a number, a list or a NumPy
    array failed deep inside with an AttributeError."""
    if isinstance(value, Tensor) or optional and value is None:
        return value
    where = "" if position is None else f" (position {position})"
    raise TypeError(f"{function}(): argument '{name}'{where} must be Tensor, not {type(value).__name__}")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product ``input @ other`` with NumPy's rules for 1-D and batched operands."""
    a, b = input, lift(other, input)
    try:
        scalar = a.array.ndim == 0 or b.array.ndim == 0
    except AttributeError:  # gg.matmul(2.5, w): PyTorch's one-line TypeError, where .array failed
        tensor_argument(input, "matmul", "input", 1)
        raise
    if scalar:
        raise RuntimeError("matmul: both operands need at least one dimension (use * for scalars)")
    inner_a = a.array.shape[-1]
    inner_b = b.array.shape[-2] if b.array.ndim > 1 else b.array.shape[0]
    if inner_a != inner_b:
        raise RuntimeError(
            f"matmul: shapes {shape_text(a.shape)} and {shape_text(b.shape)} cannot be multiplied: "
            f"the first's last dim ({inner_a}) must equal the second's "
            f"{'second-to-last' if b.array.ndim > 1 else 'only'} dim ({inner_b})"
        )
    if a.array.dtype != b.array.dtype:
        raise RuntimeError(
            f"matmul: expected both operands to have the same dtype, but got {a.array.dtype} and "
            f"{b.array.dtype}; convert one with .float() or .double()"
        )
    try:
        return apply(ops.MATMUL, (a, b), a.array, b.array, (a._requires_grad, b._requires_grad))
    except ValueError:
        if broadcastable(a.shape[:-2], b.shape[:-2]):
            raise  # not a shape problem: let the real error through
        raise RuntimeError(
            f"matmul: batch dims of {shape_text(a.shape)} and {shape_text(b.shape)} cannot be broadcast"
        ) from None


def _axis_arg(tensor: Tensor, dim: Any, axis: Any, name: str, every_if_empty: bool = False):
    """The checked dims of a reduction; ``every_if_empty``: PyTorch's ``dim=()`` of a sum, a mean, a variance or
    logsumexp reduces every dim (NumPy's ``axis=()`` none). A 0-d tensor's ``dim=(0,)`` or ``(-1,)`` is its one
    entry, as in PyTorch: ``None`` (NumPy refuses a tuple axis of a 0-d array)."""
    dim = axis if axis is not None else None if every_if_empty and isinstance(dim, (tuple, list)) and not dim else dim
    if dim is None:
        return None
    if isinstance(dim, (tuple, list)):
        dims = distinct_dims(tensor, dim, name)  # NumPy's raw "duplicate value in 'axis'" otherwise
        return dims if tensor.array.ndim else None
    return check_dim(tensor, dim, name)


def _summed(tensor: Tensor, dtype: Any) -> Tensor:
    """The tensor a sum adds up: in ``dtype`` if given, else integers and bools in int64 (NumPy would sum uint8
    in uint64)."""
    if dtype is not None:
        return tensor.to(resolve_dtype(dtype))
    if tensor.array.dtype.kind in "biu" and tensor.array.dtype != np.int64:
        return tensor.to(np.int64)
    return tensor


def _reduce(op: ops.Op, tensor: Tensor, dim, keepdim, axis, keepdims, *extra) -> Tensor:
    axis = _axis_arg(tensor, dim, axis, op.name, every_if_empty=True)
    keep = bool(keepdims) if keepdims is not None else bool(keepdim)
    return apply(op, (tensor,), tensor.array, axis, *extra, keep)


def _floating_only(tensor: Tensor, name: str, other_fix: str = "",
                   error: type[Exception] = RuntimeError) -> Tensor:
    """``tensor``, if it holds floats; integers and bools are refused, as PyTorch refuses them (mean, var, softmax
    …); ``other_fix`` names another way out (``mean(dtype=…)``); ``error`` is PyTorch's type for that op
    (NotImplementedError where PyTorch has no integer kernel, as for softmax)."""
    if not is_floating(tensor.array.dtype):
        raise error(f"{name}: needs a floating tensor, got {tensor.array.dtype}; use t.float().{name}(...)"
                    f"{other_fix}")
    return tensor


def variance_arguments(dim: Any, unbiased: Any, correction: Any) -> tuple[Any, Any]:
    """``(dim, correction)`` from PyTorch's spellings of a variance: a bool alone is ``unbiased``
    (``x.var(False)``), ``unbiased`` is correction 1 (True) or 0 (False), no correction at all is 1."""
    if isinstance(dim, (bool, np.bool_)):
        if unbiased is not None:
            raise TypeError(f"var/std: dim={dim} is a bool; give the dims as ints, or unbiased={dim} alone")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise TypeError("var/std: give unbiased or correction, not both (unbiased=False is correction=0)")
    if unbiased is not None:
        return dim, int(unbiased)
    return dim, 1 if correction is None else correction


def _extreme(op: ops.Op, arg_function, tensor: Tensor, dim, keepdim, axis, keepdims):
    if isinstance(dim, Tensor):  # gg.max(a, b) is the elementwise maximum, as in PyTorch
        return tensor.maximum(dim) if op is ops.MAX else tensor.minimum(dim)
    chosen = axis if axis is not None else dim
    chosen_axis = _nonempty_reduction(tensor, chosen, op.name)
    if chosen is None:  # over all entries: ties share the gradient, as PyTorch's max()
        return _reduce(op, tensor, dim, keepdim, axis, keepdims)
    keep = bool(keepdims) if keepdims is not None else bool(keepdim)
    indices = recorded_call(_position, arg_function, tensor.array, chosen_axis, keep)
    # along a dim the gradient goes to the index returned, as PyTorch's (not shared between ties)
    row = ops_index.MAX_DIM if op is ops.MAX else ops_index.MIN_DIM
    named = return_types.max if op is ops.MAX else return_types.min
    return named(apply(row, (tensor,), tensor.array, chosen_axis, indices, keep), untracked(indices))


def _nonempty_reduction(tensor: Tensor, dim: Any, name: str, several: bool = False):
    """The checked axis of a ``max``/``min``/``argmax``/``argmin``/``amax``/``amin``, which needs a value to pick.

    As in PyTorch: over all elements of an empty tensor is a ``RuntimeError`` (an ``IndexError``
    for ``argmax``/``argmin``); over a dim of size 0 an ``IndexError``; over another dim of an
    empty tensor an empty result. Only ``amax``/``amin`` (``several``) take a tuple or list of dims; the others
    one int, else PyTorch's TypeError.
    """
    if not several and isinstance(dim, (tuple, list)):
        raise TypeError(f"{name}(): argument 'dim' must be int, not {type(dim).__name__} ({dim!r}); it reduces "
                        "over one dim (every dim with dim=None); for several use amax/amin")
    axis = _axis_arg(tensor, dim, None, name)
    extreme = name.removeprefix("arg").removeprefix("a") + "imum"
    if axis is None:
        if tensor.array.size == 0:
            raise (IndexError if name.startswith("arg") else RuntimeError)(
                f"{name}: the tensor of shape {shape_text(tensor.shape)} is empty, so it has no "
                f"{extreme}; reduce over a dim of non-zero size with dim=..."
            )
        return None
    for reduced in axis if isinstance(axis, tuple) else (axis,):
        if tensor.array.ndim and tensor.array.shape[reduced] == 0:
            raise IndexError(
                f"{name}: dim {reduced} of the tensor of shape {shape_text(tensor.shape)} has size 0, so it has "
                f"no {extreme}; reduce over a dim of non-zero size"
            )
    return axis


def _is_number(part: Any) -> bool:
    return isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_))


def _numbers_first(index: Any) -> tuple[tuple, tuple] | None:
    """An index that mixes whole numbers with index arrays, split as PyTorch reads it: the numbers pick first (as
    ``x[1]``), then the arrays index what is left. NumPy counts the numbers among the arrays, which differs where
    they are not side by side: ``x[1, :, [0, 2]]`` has the arrays' dim first in NumPy, last in PyTorch. A ``True``
    or ``False`` is an array there (a new dim of 1 or 0 entries, indexed), as in PyTorch: ``x[0, :, True]`` of a
    (2, 3, 4) tensor is (3, 1, 4). None where both read it alike."""
    if not isinstance(index, tuple) or not any(_is_number(part) for part in index):
        return None
    advanced = [k for k, part in enumerate(index) if _is_number(part) or isinstance(part, (np.ndarray, bool))]
    if advanced[-1] - advanced[0] + 1 == len(advanced):
        return None
    numbers, arrays = [], []
    for part in index:
        if isinstance(part, bool):  # a new dim of 1 (True) or 0 (False) indexed by an array, after the numbers
            arrays.append(part)
        elif isinstance(part, np.ndarray):
            numbers += [slice(None)] * (part.ndim if part.dtype == bool else 1)
            arrays.append(part)
        elif _is_number(part):
            numbers.append(part)
        else:  # a slice, None (a new dim) or ...: taken with the numbers; what it leaves is taken whole after
            numbers.append(part)
            arrays.append(... if part is Ellipsis else slice(None))
    return tuple(numbers), tuple(arrays)


def _truth(tensor: Tensor, logical: np.ufunc, dim: Any, keepdim: bool, name: str) -> Tensor:
    """``all``/``any``: ``logical`` (and, or) over ``dim``; PyTorch keeps a uint8 tensor's dtype (its masks before
    bool existed)."""
    axis = _axis_arg(tensor, dim, None, name)  # a 0-d tensor's dim: 0 or -1, its one entry
    return Tensor._wrap(recorded_call(_truth_of, tensor.array, logical, axis if tensor.array.ndim else None, keepdim))


def _truth_of(array: np.ndarray, logical: np.ufunc, axis: Any, keepdim: bool) -> np.ndarray:
    """``all``/``any``'s reduction (uint8 for a uint8 array): one kernel of a compiled step."""
    found = ops.row_major(np.asarray(logical.reduce(array, axis=axis, keepdims=keepdim)))
    return found.astype(np.uint8) if array.dtype == np.uint8 else found


def _mask_alone(index: Any) -> bool:
    """Whether a plain index picks by one bool mask and no other array (``x[mask] = v``, ``x[:, mask] = v``,
    ``x[0, mask, None] = v``: numbers, slices, None and ... beside it), which PyTorch fills with a one-entry ``v`` of
    any dtype (its ``index_put_`` of one mask is a ``masked_fill_``). A ``True`` or ``False`` (or a 0-d bool tensor)
    is an index array of 0s there, no mask."""
    parts = index if isinstance(index, tuple) else (index,)
    arrays = [part for part in parts if isinstance(part, (np.ndarray, bool))]
    return len(arrays) == 1 and isinstance(arrays[0], np.ndarray) and arrays[0].dtype == bool and arrays[0].ndim > 0


def wrapped_int(value: int, dtype: np.dtype, name: str) -> np.ndarray:
    """A Python int outside ``dtype``'s range as PyTorch takes it into an integer op: its int64 bits cut to
    ``dtype`` (300 in int8 is 44); one outside int64's range is refused in one line, as PyTorch refuses it."""
    try:
        return np.array(value, dtype=np.int64).astype(dtype)
    except OverflowError:
        raise RuntimeError(f"{name}: the value {value} cannot be converted to int64 without overflow") from None


TENSOR_NUMBER_INDEX = ("x[i] with a 0-d integer tensor i reads i's number in Python (x[i] is a view, as in PyTorch), "
                       "which a replay would take as it was; x[i.view(1)][0] picks the same entry as a kernel")
"""Why a compiled step that indexes by a 0-d integer tensor runs eagerly (:func:`_plain_index`)."""


def _plain_index(index: Any) -> tuple[Any, bool]:
    """Turn tensors inside an index into arrays; report whether NumPy's advanced indexing is used. A slice's step
    must be positive, as in PyTorch (NumPy's ``x[::-1]`` reverses); a short list holding sequences, tensors, slices,
    None or ... is a tuple of indices, as PyTorch reads it (with its deprecation warning).

    A uint8 tensor is a mask, as in PyTorch (old code's masks: comparisons gave uint8 before PyTorch 1.2), with
    PyTorch's deprecation warning; NumPy would read its 0s and 1s as positions.
    """
    if isinstance(index, list) and len(index) < 32 and any(
            isinstance(part, (list, tuple, Tensor, np.ndarray, slice)) or part is None or part is Ellipsis
            for part in index):
        warnings.warn("indexing with a list of indices (x[[rows, columns]]) reads it as x[rows, columns], as PyTorch "
                      "does, which deprecates it too; write x[tuple(seq)]", UserWarning, stacklevel=3)
        index = tuple(index)  # x[[rows, columns]] is x[rows, columns], as PyTorch (and older NumPy) read it
    parts = index if isinstance(index, tuple) else (index,)
    plain = []
    advanced = False
    for part in parts:
        if isinstance(part, slice) and any(isinstance(end, Tensor) for end in (part.start, part.stop, part.step)):
            part = slice(*(operator.index(end) if isinstance(end, Tensor) else end  # x[i:] with a 0-d i: its
                           for end in (part.start, part.stop, part.step)))  # number now (a later i += 1 is not it)
        if isinstance(part, slice) and part.step is not None and part.step <= 0:
            raise ValueError(f"step must be greater than zero, got {part.step} (PyTorch has no negative steps); "
                             "reverse a dim with x.flip(dim)")
        if isinstance(part, Tensor) and part.array.ndim == 0 and part.array.dtype.kind == "i":
            note_unreplayable(TENSOR_NUMBER_INDEX)  # the view's place is a Python number
            part = int(part.array)  # x[t] with a 0-d integer t is x[1]: a view, as in PyTorch
        if isinstance(part, Tensor):
            part = part.array
            if part.dtype == np.uint8:
                warnings.warn("indexing with a uint8 tensor is deprecated (in PyTorch too): it is read as a mask; "
                              "use mask.bool()", UserWarning, stacklevel=3)
                part = part.astype(bool)
        if isinstance(part, np.ndarray) and part.ndim == 0 and part.dtype.kind in "iu":
            part = part.item()  # a 0-d NumPy int is a number (x[np.array(1)]: a view), as in PyTorch
        if isinstance(part, bool):  # x[..., True]: a new dim indexed by an array (a copy), as PyTorch and NumPy read it
            advanced = True
        if isinstance(part, (list, range, np.ndarray)):  # a range too (d2l's y_hat[range(n), y]): NumPy reads it
            advanced = True  # as the array of its numbers, which a compiled step's kernel takes as it takes any index
            part = np.arange(part.start, part.stop, part.step) if isinstance(part, range) else np.asarray(part)
            if part.size == 0 and part.dtype.kind == "f":  # x[[]]: no positions (NumPy's [] is a float array)
                part = part.astype(np.intp)
        plain.append(part)
    return (tuple(plain) if isinstance(index, tuple) else plain[0]), advanced

