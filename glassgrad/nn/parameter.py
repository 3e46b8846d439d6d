"""``Parameter``: a tensor that a module learns.

Design choice (as in PyTorch): a ``Parameter`` is a :class:`~glassgrad.tensor.Tensor`
*subclass*. Assigning one to a :class:`~glassgrad.nn.Module` attribute registers it; a
plain tensor assigned to a module, even one that requires grad, stays an ordinary attribute.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from ..arguments import resolve_dtype
from ..autograd import STATE
from ..device import check_device
from ..dtypes import get_default_dtype
from ..reading import as_array
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a :class:`Module` learns: registered on assignment, ``requires_grad=True``.

    ``Parameter(t)`` shares ``t``'s memory (no copy) and is always a leaf; its
    ``.grad`` is a plain :class:`~glassgrad.tensor.Tensor`.

    >>> import glassgrad as gg
    >>> w = gg.nn.Parameter(gg.zeros(2, 3))
    >>> w.requires_grad, w.is_leaf, isinstance(w, gg.Tensor)
    (True, True, True)
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            array = np.empty(0, dtype=get_default_dtype())  # as PyTorch: an empty tensor of the default dtype
        elif isinstance(data, Tensor):
            array = data.array
        else:
            array = as_array(data, None)
        self._init_leaf(array)
        if data._inference if isinstance(data, Tensor) else STATE.inference:  # as PyTorch's: a layer made inside
            self._inference = True  # inference_mode() has inference parameters
        self.requires_grad = requires_grad

    def __deepcopy__(self, memo: dict) -> Parameter:
        """``copy.deepcopy`` (of a module too: an EMA model made by ``copy.deepcopy(model)``): a new Parameter with
        a copy of the numbers and the same ``requires_grad``, and nothing else, as PyTorch's: no ``.grad`` (the
        copy starts without one, whatever the original has accumulated) and no attributes set on the original."""
        if id(self) not in memo:
            memo[id(self)] = self._fresh_copy()
        return memo[id(self)]

    def _fresh_copy(self) -> Parameter:
        return type(self)(self.detach().clone(), self.requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


_HELD = Tensor.__dict__["array"]  # the slot under Tensor's ``array``: an uninitialised tensor's empty array


class UninitializedTensorMixin:
    """What :class:`UninitializedParameter` and :class:`UninitializedBuffer` share: a lazy module's tensor whose
    shape is not known yet. It holds no numbers (only its dtype) until :meth:`materialize` gives it a shape, in
    place: the same object becomes a ``cls_to_become``, so an optimizer or module holding it sees the result.
    Reading its shape or numbers before then raises, in one line, and so does any op given it: every op reads a
    tensor's ``array``, which this class answers with the refusal (its dtype is kept in the same slot)."""

    __slots__ = ()

    @property
    def array(self) -> NoReturn:
        self._refuse("reading its numbers (an op, a save)")

    @array.setter
    def array(self, value: np.ndarray) -> None:
        _HELD.__set__(self, value)

    @property
    def dtype(self) -> np.dtype:
        return _HELD.__get__(self).dtype

    cls_to_become: type[Tensor]
    """What the tensor becomes once materialised."""

    def materialize(self, shape: tuple[int, ...], device: Any = None, dtype: Any = None) -> None:
        """Become an ordinary ``cls_to_become`` of ``shape``, in ``dtype`` (default: the one it holds, e.g. after
        ``module.to``); its numbers are uninitialised: the owner then fills them."""
        check_device(device)
        self.array = np.empty(tuple(shape), dtype=resolve_dtype(dtype) or self.dtype)
        self.__class__ = self.cls_to_become

    def __reduce_ex__(self, protocol: Any) -> tuple[type, tuple[bool, None, np.dtype]]:
        """``copy.deepcopy`` (and copy) make a new uninitialised tensor of the same kind, dtype and requires_grad."""
        return type(self), (self.requires_grad, None, self.dtype)

    def _fresh_copy(self) -> Any:
        """What ``copy.deepcopy`` of an :class:`UninitializedParameter` makes (:meth:`Parameter.__deepcopy__`)."""
        kind, arguments = self.__reduce_ex__(2)
        return kind(*arguments)

    def _refuse(self, what: str) -> NoReturn:
        raise RuntimeError(f"{what}: this {type(self).__name__} has no shape or numbers yet; call the lazy module "
                           "on an example input (or load_state_dict) first to give it its shapes")

    @property
    def shape(self) -> NoReturn:
        self._refuse(".shape")

    @property
    def ndim(self) -> NoReturn:
        self._refuse(".ndim")

    @property
    def data(self) -> NoReturn:
        self._refuse(".data")

    @data.setter
    def data(self, value: Any) -> NoReturn:
        self._refuse(".data = …")

    def size(self, dim: int | None = None) -> NoReturn:
        self._refuse(".size()")

    def numel(self) -> NoReturn:
        self._refuse(".numel()")

    def dim(self) -> NoReturn:
        self._refuse(".dim()")

    def numpy(self) -> NoReturn:
        self._refuse(".numpy()")

    def __array__(self, dtype: Any = None, copy: Any = None) -> NoReturn:
        self._refuse("np.asarray")

    def tolist(self) -> NoReturn:
        self._refuse(".tolist()")

    def item(self) -> NoReturn:
        self._refuse(".item()")

    def __len__(self) -> NoReturn:
        self._refuse("len()")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A parameter whose shape is not known yet (a lazy layer's, before its first call); :meth:`materialize`
    turns it into an ordinary :class:`Parameter`, in place, so an optimizer given it beforehand trains it afterwards.

    >>> import glassgrad as gg
    >>> w = gg.nn.UninitializedParameter()
    >>> w.materialize((2, 3))
    >>> type(w).__name__, w.shape
    ('Parameter', Size([2, 3]))
    """

    __slots__ = ()
    cls_to_become = Parameter

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        check_device(device)
        super().__init__(np.empty(0, dtype=resolve_dtype(dtype) or get_default_dtype()), requires_grad)


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet (a lazy norm layer's running statistics, before its first call):
    assigned to a module it is registered as a buffer; :meth:`materialize` turns it into an ordinary tensor, in
    place. PyTorch's ``persistent=`` argument is left out (a materialised tensor has nowhere to keep it): register
    one that should stay out of ``state_dict`` with ``register_buffer(name, buffer, persistent=False)``."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        check_device(device)
        self._init_leaf(np.empty(0, dtype=resolve_dtype(dtype) or get_default_dtype()))
        self.requires_grad = requires_grad


class Buffer(Tensor):
    """A tensor marked to become a module's *buffer* when assigned to it (PyTorch 2.x): ``self.stats =
    nn.Buffer(t)`` does what ``self.register_buffer("stats", t)`` does; ``persistent=False`` keeps it out of
    ``state_dict``. The module keeps a plain tensor sharing ``t``'s memory (detached, as PyTorch does).

    >>> import glassgrad as gg
    >>> class Counter(gg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.count = gg.nn.Buffer(gg.zeros(1))
    >>> list(Counter().state_dict())
    ['count']
    """

    __slots__ = ("persistent",)

    def __init__(self, data: Any = None, *, persistent: bool = True) -> None:
        if data is None:
            array = np.empty(0, dtype=get_default_dtype())
        elif isinstance(data, Tensor):
            array = data.array
        else:
            array = as_array(data, None)
        self._init_leaf(array)
        self.requires_grad = isinstance(data, Tensor) and data.requires_grad
        self.persistent = bool(persistent)
