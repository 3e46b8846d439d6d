"""The keywords PyTorch takes everywhere, as NumPy does: ``axis``/``keepdims`` for ``dim``/``keepdim``, and ``out=``.

PyTorch takes NumPy's names in every built-in function and Tensor method, so code written with NumPy
habits runs there: ``y_hat.argmax(axis=1)`` (d2l.ai's ``accuracy``), ``x.cumsum(axis=0)``,
``torch.cat((X, Y), axis=1)``, ``x.logsumexp(0, keepdims=True)``. Its top-level functions also write
their result into a given tensor: ``torch.matmul(a, b, out=c)`` (the "Tensors" tutorial).
:func:`accept_numpy_keywords` gives glassgrad both: it wraps each public function and method that has
a ``dim`` or a ``keepdim`` parameter (and no parameter of NumPy's name already, as ``sum`` and ``max``
have) so that the NumPy name reaches it as PyTorch's, and each top-level function so that it takes
``out=`` (:func:`write_out`). A call that passes no keyword pays one test.

>>> import glassgrad as gg
>>> x = gg.tensor([[1.0, 5.0], [7.0, 2.0]])
>>> x.argmax(axis=1).tolist(), gg.cat((x, x), axis=1).shape, x.cumsum(axis=0, dtype=gg.float64).tolist()
([1, 0], Size([2, 4]), [[1.0, 5.0], [8.0, 7.0]])
>>> c = gg.empty(2, 2)
>>> gg.matmul(x, x, out=c) is c, c.tolist()
(True, [[36.0, 15.0], [21.0, 39.0]])
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Iterable, MutableMapping
from types import FunctionType
from typing import Any

import numpy as np

from .arguments import resolve_dtype, shape_text
from .autograd import is_grad_enabled, no_grad
from .tensor import Tensor

NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}
"""NumPy's keyword → PyTorch's, as PyTorch's argument parser maps them."""

IN_OUTS_DTYPE = frozenset({"sum", "nansum", "prod", "cumsum", "cumprod"})
"""The reductions that, given ``out=``, compute in out's dtype as the factories do (the input cast to it first), as
PyTorch's: ``gg.sum(x, 1, out=int_tensor)`` sums x's entries cut to whole numbers, ``gg.prod(x, 1, out=mask)`` is
True where no entry is 0; a ``dtype=`` that is not out's is refused (:func:`factory_dtype`)."""

RESIZE_WARNS = frozenset({"arange", "range"})
"""The factories that warn, as PyTorch's, when ``out=`` of another shape with entries is resized (their length
comes from the numbers given); the others resize it without a word, as PyTorch's ``zeros``/``full``/``eye`` do."""


def _parameters(function: FunctionType) -> tuple[str, ...]:
    """``function``'s parameter names (for a function form of a method, ``gg.argmax(x, …)``, the method's)."""
    code = getattr(function, "method", function).__code__
    return code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]


def write_out(name: str, result: Any, out: Any, warn: bool = True) -> Any:
    """``result`` (a tensor, or a tuple of them) written into ``out`` (a tensor, or as many in a tuple), as PyTorch's
    ``out=``: cast to out's dtype where that keeps the kind (float into float32, int into float), out resized to the
    result's shape (with a warning, if ``warn``, when it had other entries), and out returned. Not in the graph:
    with an input or ``out`` that requires grad it is refused, as in PyTorch."""
    results = result if isinstance(result, tuple) else (result,)
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if len(outs) != len(results) or not all(isinstance(part, Tensor) for part in (*results, *outs)):
        raise TypeError(f"{name}: out= takes one tensor for each result ({len(results)} here), got {out!r}")
    if is_grad_enabled() and any(part._requires_grad for part in (*results, *outs)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, but "
                           "one of the arguments requires grad; call it under gg.no_grad(), or leave out= out")
    for target, value in zip(outs, results):
        if not np.can_cast(value.array.dtype, target.array.dtype, "same_kind"):
            raise RuntimeError(f"{name}: result type {value.array.dtype} can't be cast to the desired output type "
                               f"{target.array.dtype}; give out= a tensor of a dtype the result fits")
        if target.shape != value.shape:
            if warn and target.array.size:
                warnings.warn(f"{name}: an output with one or more elements was resized since it had shape "
                              f"{shape_text(target.shape)}, which does not match the required output shape "
                              f"{shape_text(value.shape)}", stacklevel=3)
            target.resize_(value.shape)
        with no_grad():
            target.copy_(value)
    return out


def factory_dtype(name: str, dtype: Any, out: Tensor) -> Any:
    """The dtype a factory (or a reduction of :data:`IN_OUTS_DTYPE`) given ``out=`` makes its result in: out's, as
    PyTorch's; a ``dtype`` given that is not out's is refused with PyTorch's RuntimeError
    (``zeros(2, dtype=gg.float64, out=float32_tensor)``)."""
    if dtype is not None and resolve_dtype(dtype) != out.dtype:
        raise RuntimeError(f"{name}: dtype {resolve_dtype(dtype)} does not match dtype of out parameter "
                           f"({out.dtype}); give one of them, or the same dtype to both")
    return out.dtype


def with_numpy_keywords(function: Any, takes_out: bool = False) -> Any:
    """``function``, taking ``axis=``/``keepdims=`` for its ``dim``/``keepdim`` and, if ``takes_out``, ``out=``
    (itself when it needs no change)."""
    if type(function) is not FunctionType:
        return function
    parameters = _parameters(function)
    pairs = tuple((numpy, torch) for numpy, torch in NUMPY_NAMES.items()
                  if torch in parameters and numpy not in parameters)
    takes_out = takes_out and "out" not in parameters
    if not pairs and not takes_out:
        return function
    # a factory (gg.zeros, gg.arange, gg.full …: made here, with a dtype= and no input tensor) makes its result in
    # out's dtype, as PyTorch's: gg.ones(2, out=int_tensor) is int64 ones, not a float result refused by the cast
    factory = takes_out and function.__module__ == "glassgrad.creation" and "dtype" in parameters and (
        "input" not in parameters)
    in_outs_dtype = factory or (takes_out and function.__name__ in IN_OUTS_DTYPE)
    warn = not factory or function.__name__ in RESIZE_WARNS

    @functools.wraps(function)
    def taking_numpy_keywords(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for numpy, torch in pairs:
                if numpy in kwargs:
                    if torch in kwargs:
                        raise TypeError(f"{function.__name__}: got both {torch}= and NumPy's name for it, {numpy}=; "
                                        "give one")
                    kwargs[torch] = kwargs.pop(numpy)
            if takes_out and "out" in kwargs:
                out = kwargs.pop("out")
                if out is not None:
                    if in_outs_dtype and isinstance(out, Tensor):
                        kwargs["dtype"] = factory_dtype(function.__name__, kwargs.get("dtype"), out)
                    return write_out(function.__name__, function(*args, **kwargs), out, warn)
        return function(*args, **kwargs)

    return taking_numpy_keywords


def accept_numpy_keywords(functions: Iterable[MutableMapping[str, Any]],
                          methods: Iterable[MutableMapping[str, Any] | type],
                          also: Iterable[Any] = (), without_out: Iterable[MutableMapping[str, Any]] = ()) -> None:
    """Replace each public function of ``functions`` (module dicts: PyTorch's top-level functions), of ``methods``
    (classes, and module dicts of functions PyTorch gives no ``out=``: ``nn.functional``) and of ``without_out``
    (top-level names that are such functions and take no ``out=`` in PyTorch either: ``torch.conv1d is
    F.conv1d``) by :func:`with_numpy_keywords` of it: all of them take NumPy's names, the other top-level functions
    ``out=`` too. A top-level function that is also a method gets one wrapper of each form: one taking ``out=`` for
    ``functions`` (``gg.sigmoid(x, out=y)``) and one without for ``methods`` (``x.sigmoid()``, ``F.sigmoid(x)``).
    A wrapper takes the function's place in the module that defines it (``gg.select_copy is
    glassgrad.copies.select_copy``), the form without ``out=`` where there are two (so the library's own calls
    there pay nothing more), and the top-level form takes it among the public names (``__all__``) of the modules in
    ``also`` (``torch.func.vmap is torch.vmap``; their other names, the functions they import for their own use,
    stay as they are: no wrapper on an internal call)."""
    functions, methods, without_out = list(functions), list(methods), list(without_out)
    no_out = {id(value) for namespace in without_out for value in namespace.values()}
    in_methods = no_out | {id(value) for namespace in methods
                           for value in (vars(namespace) if isinstance(namespace, type) else namespace).values()}
    wrapped: dict[tuple[int, bool], Callable] = {}  # (the function's id, whether this form takes out=) → its wrapper
    made: set[int] = set()  # the wrappers themselves: a namespace walked later may hold one already (its home)
    for top_level, namespaces in ((True, functions), (False, [*methods, *without_out])):
        for namespace in namespaces:
            entries = vars(namespace) if isinstance(namespace, type) else namespace
            for name, value in list(entries.items()):
                if name.startswith("_") or type(value) is not FunctionType or id(value) in made:
                    continue
                key = (id(value), top_level and id(value) not in no_out)
                if key not in wrapped:
                    wrapped[key] = wrapper = with_numpy_keywords(value, takes_out=key[1])
                    made.add(id(wrapper))
                    home = sys.modules.get(value.__module__)
                    if (wrapper is not value and getattr(home, value.__name__, None) is value
                            and not (key[1] and id(value) in in_methods)):
                        setattr(home, value.__name__, wrapper)
                if wrapped[key] is not value:
                    if isinstance(namespace, type):
                        setattr(namespace, name, wrapped[key])
                    else:
                        namespace[name] = wrapped[key]
    for module in also:
        for name in module.__all__:
            value = getattr(module, name)
            key = (id(value), id(value) not in no_out)
            if key in wrapped:
                setattr(module, name, wrapped[key])
