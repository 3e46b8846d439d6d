"""The ``gg.`` function forms of tensor methods (``gg.exp(x)`` is ``x.exp()``), and the ops
that take several tensors: ``cat``, ``stack``, ``where``.

>>> import glassgrad as gg
>>> gg.cat([gg.ones(2), gg.zeros(1)]).tolist()
[1.0, 1.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import linalg, ops
from . import tensor_indexing as tensor_indexing  # attaches Tensor methods that the forms at the end wrap
from . import tensor_methods as tensor_methods  # and these too
from .arguments import check_dim, joined_dtype, promote, shape_text, sizes_tuple, written_number
from .autograd import recorded_call
from .creation import as_tensor, tensor_argument
from .numpy_keywords import write_out
from .tensor import Tensor, apply, lift
from .tensor import matmul as matmul
from .type_names import tensor_input

_NUMBERS = (int, float, np.generic)


def norm(input: Any, p: Any = "fro", dim: Any = None, keepdim: bool = False, out: Tensor | None = None,
         dtype: Any = None) -> Tensor:
    """``torch.norm``: ``input.norm(p, dim, keepdim, dtype)``, written into ``out`` where given. PyTorch's top-level
    form takes ``out`` fifth, where the method takes ``dtype``.

    >>> import glassgrad as gg
    >>> gg.norm(gg.tensor([[3.0, 4.0]]), 2, 1).tolist()
    [5.0]
    """
    result = as_tensor(input).norm(p, dim, keepdim, dtype)
    return result if out is None else write_out("norm", result, out)


def _function_form(name: str, tensor_only: bool = False) -> Callable[..., Any]:
    """``gg.name(x, …)``, calling ``x.name(…)``. A list, NumPy array or number given for ``x`` is read as a tensor;
    for the ``tensor_only`` forms (the activations) it is PyTorch's TypeError, as ``torch.relu([1.0])`` raises
    (:func:`~glassgrad.type_names.tensor_input`)."""
    method = getattr(Tensor, name)

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        if type(input) is not Tensor:  # the converting path only: a tensor pays one type check
            if tensor_only:
                input = tensor_input(input, name, "input", 1, TypeError)
            elif args and isinstance(args[0], Tensor) and isinstance(input, _NUMBERS):
                exact = name == "div" and kwargs.get("rounding_mode") is None  # lift's rule for a true division
                return method(lift(input, args[0], exact), *args, **kwargs)  # gg.sub(1, t): the number as in 1 - t
            else:
                input = as_tensor(input)
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__ or f"``gg.{name}(x, …)`` is ``x.{name}(…)``."
    function.method = method  # what it calls: its parameters are the method's (glassgrad.numpy_keywords reads them)
    return function


def one_tuple_form(name: str, label: str) -> Callable[..., Any]:
    """The function form of method ``name`` whose PyTorch function takes its sizes or dims as one tuple
    (``torch.reshape(x, (4,))``, ``torch.flip(x, (0,))``): a bare int there is PyTorch's TypeError
    (:func:`~glassgrad.arguments.sizes_tuple`), though the method takes the ints one by one (``x.flip(0)``)."""
    form = _function_form(name)

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        if args:
            sizes_tuple(args[0], name, label)
        return form(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__, function.method = form.__doc__, form.method
    return function


add = _function_form("add")
sub = _function_form("sub")
mul = _function_form("mul")
div = _function_form("div")
pow = _function_form("pow")
neg = _function_form("neg")
exp = _function_form("exp")
log = _function_form("log")
sqrt = _function_form("sqrt")
abs = _function_form("abs")
sin = _function_form("sin")
cos = _function_form("cos")
relu = _function_form("relu", tensor_only=True)
leaky_relu = _function_form("leaky_relu", tensor_only=True)
sigmoid = _function_form("sigmoid", tensor_only=True)
tanh = _function_form("tanh", tensor_only=True)
clamp = _function_form("clamp")
maximum = _function_form("maximum")
minimum = _function_form("minimum")
sum = _function_form("sum")
mean = _function_form("mean")
var = _function_form("var")
std = _function_form("std")
max = _function_form("max")
min = _function_form("min")
argmax = _function_form("argmax")
argmin = _function_form("argmin")
logsumexp = _function_form("logsumexp")
softmax = _function_form("softmax", tensor_only=True)
log_softmax = _function_form("log_softmax", tensor_only=True)
reshape = one_tuple_form("reshape", "shape")
flatten = _function_form("flatten")
transpose = _function_form("transpose")
permute = one_tuple_form("permute", "dims")
unsqueeze = _function_form("unsqueeze")
squeeze = _function_form("squeeze")

# forms of the methods of glassgrad.tensor_methods and glassgrad.tensor_indexing
tan, asin, acos, atan = (_function_form(n) for n in ("tan", "asin", "acos", "atan"))
arcsin, arccos, arctan = (_function_form(n) for n in ("arcsin", "arccos", "arctan"))
sinh, cosh, asinh, acosh, atanh = (_function_form(n) for n in ("sinh", "cosh", "asinh", "acosh", "atanh"))
arcsinh, arccosh, arctanh = (_function_form(n) for n in ("arcsinh", "arccosh", "arctanh"))
atan2, arctan2 = _function_form("atan2"), _function_form("arctan2")
log10, log2, log1p, expm1 = (_function_form(n) for n in ("log10", "log2", "log1p", "expm1"))
rsqrt, square, reciprocal = (_function_form(n) for n in ("rsqrt", "square", "reciprocal"))
floor, ceil, trunc, fix, round, sign = (_function_form(n) for n in ("floor", "ceil", "trunc", "fix", "round", "sign"))
lerp, clip = _function_form("lerp"), _function_form("clip")
eq, ne, lt, le, gt, ge = (_function_form(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
greater, less, greater_equal, less_equal, not_equal = (
    _function_form(n) for n in ("greater", "less", "greater_equal", "less_equal", "not_equal"))
isclose, allclose, any, all = (_function_form(n) for n in ("isclose", "allclose", "any", "all"))
numel, clone, t, mm, bmm = (_function_form(n) for n in ("numel", "clone", "t", "mm", "bmm"))
masked_fill, masked_select, nonzero = (_function_form(n) for n in ("masked_fill", "masked_select", "nonzero"))
gather, scatter, scatter_add, index_select = (_function_form(n) for n in ("gather", "scatter", "scatter_add",
                                                                          "index_select"))
sort, argsort, topk = (_function_form(n) for n in ("sort", "argsort", "topk"))
cumsum, cumprod, logcumsumexp, prod = (_function_form(n) for n in ("cumsum", "cumprod", "logcumsumexp", "prod"))
roll, tril, triu, diag, diagonal = (_function_form(n) for n in ("roll", "tril", "triu", "diag", "diagonal"))
flip = one_tuple_form("flip", "dims")
amax, amin, erf = (_function_form(n) for n in ("amax", "amin", "erf"))
remainder, fmod, floor_divide = (_function_form(n) for n in ("remainder", "fmod", "floor_divide"))
unflatten, chunk = (_function_form(n) for n in ("unflatten", "chunk"))
unbind = _function_form("unbind")
lgamma, digamma, erfinv, i0 = (_function_form(n) for n in ("lgamma", "digamma", "erfinv", "i0"))


def polygamma(n: int, input: Any) -> Tensor:
    """``ψ⁽ⁿ⁾(x)``, the n-th derivative of digamma: ``gg.polygamma(n, x)`` is ``x.polygamma(n)``."""
    return as_tensor(input).polygamma(n)


def is_tensor(obj: Any) -> bool:
    """True for a glassgrad tensor (``torch.is_tensor``)."""
    return isinstance(obj, Tensor)


def _same_shapes_except(tensors: Sequence[Tensor], dim: int | None, name: str) -> None:
    first = tensors[0].array.shape
    for other in tensors[1:]:
        shape = other.array.shape
        a = first if dim is None else first[:dim] + first[dim + 1:]
        b = shape if dim is None else shape[:dim] + shape[dim + 1:]
        if a != b or len(first) != len(shape):
            where = "" if dim is None else f" except in dim {dim}"
            raise RuntimeError(
                f"{name}: tensors must have the same shape{where}, but got {shape_text(first)} "
                f"and {shape_text(shape)}"
            )


def _tensor_list(tensors: Sequence[Any], name: str, empty: type[Exception] = RuntimeError) -> list[Tensor]:
    """The tensors joined by ``name`` (cat, stack, hstack…). One tensor instead of a list is PyTorch's TypeError; an
    empty list its RuntimeError ("expects a non-empty TensorList"), or ``empty`` where PyTorch's differs (cat's
    ValueError)."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name} expects a non-empty list or tuple of tensors, got one tensor")
    if not len(tensors):
        raise empty(f"{name} expects a non-empty list of tensors, got an empty one")
    for position, t in enumerate(tensors):
        if not isinstance(t, Tensor):  # PyTorch's TypeError: a list or array is not read as a tensor here
            raise TypeError(f"{name}: expected a tensor at position {position}, but got {type(t).__name__}; make it "
                            "one first (gg.tensor(...))")
    return list(tensors)


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim: shapes must agree everywhere else. An empty 1-D tensor (shape (0,)) is
    left out, as in PyTorch (``out = gg.cat([out, row])`` from ``out = gg.tensor([])``); its dtype still counts, and
    one that requires grad joins as an empty block (so that it gets its empty gradient, as PyTorch's)."""
    tensors = _tensor_list(tensors, "cat", ValueError)
    for position, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(
                f"cat: the tensor at position {position} is 0-d (one number, no dim to join along); "
                "use gg.stack to make a new dim, or t.reshape(1) first"
            )
    tensors = _joined(tensors)
    kept = [t for t in tensors if t.array.shape != (0,)]
    if kept and len(kept) < len(tensors):
        dim = check_dim(kept[0], dim, "cat")
        block = kept[0].shape[:dim] + (0,) + kept[0].shape[dim + 1:]
        tensors = [t if t.array.shape != (0,) else t.reshape(block) for t in tensors
                   if t.array.shape != (0,) or t._requires_grad]
    dim = check_dim(tensors[0], dim, "cat")
    _same_shapes_except(tensors, dim, "cat")
    return apply(ops.CAT, tuple(tensors), *[t.array for t in tensors], dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stack equal-shaped tensors along a new dim."""
    tensors = _tensor_list(tensors, "stack")
    _same_shapes_except(tensors, None, "stack")
    ndim = tensors[0].ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(f"stack: dim {dim} is out of range for the result's {ndim} dims")
    tensors = _joined(tensors)
    return apply(ops.STACK, tuple(tensors), *[t.array for t in tensors], dim % ndim)


def _joined(tensors: list[Tensor]) -> list[Tensor]:
    """The tensors to join, each in their joined dtype (:func:`glassgrad.arguments.joined_dtype`; a recorded cast)."""
    dtype = joined_dtype(t.array.dtype for t in tensors)
    return [t if t.array.dtype == dtype else t.to(dtype) for t in tensors]


def where(condition: Any, input: Any = None, other: Any = None) -> Any:
    """``input`` where ``condition`` is true, else ``other`` (broadcasting all three). With the condition alone, the
    positions of its non-zero entries, one index tensor per dim: ``condition.nonzero(as_tuple=True)``."""
    condition = as_tensor(condition)
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if condition.dtype.kind != "b":
        raise RuntimeError(f"where: condition must be a bool tensor, got {condition.dtype}; compare first "
                           "(x > 0) or use cond.bool()")
    if isinstance(input, Tensor) or isinstance(other, Tensor):
        like = input if isinstance(input, Tensor) else other
        # an int beside an integer tensor is written into its dtype, as PyTorch: 300 beside uint8 is refused
        input, other = (lift(written_number(value, like.array.dtype, "where") if isinstance(value, (int, np.integer))
                             else value, like) for value in (input, other))
    else:  # two numbers: each its own dtype (where(c, 1, 0) is int64, as in PyTorch)
        input, other = as_tensor(input), as_tensor(other)
    a, b = recorded_call(promote, input.array, other.array)  # a kernel of a compiled step: cast at each call
    try:
        return apply(ops.WHERE, (input, other), condition.array, a, b)
    except ValueError:
        raise RuntimeError(
            f"where: shapes {shape_text(condition.shape)}, {shape_text(input.shape)} and "
            f"{shape_text(other.shape)} cannot be broadcast together"
        ) from None


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input · weightᵀ + bias``, one fused op (a row per sample, as ``nn.Linear`` computes it).

    For one column sample this is the lessons' ``z = W·x + b``. Its backward is
    ``∂L/∂X = ∂L/∂Z·W``, ``∂L/∂W = ∂L/∂Zᵀ·X``, ``∂L/∂b = Σ_rows ∂L/∂Z``, and it skips the
    products for inputs that need no gradient (the data batch).
    """
    x = as_tensor(input)  # a NumPy batch is taken, as by every layer (PyTorch refuses it)
    tensor_argument(weight, "linear", "weight", 2)
    tensor_argument(bias, "linear", "bias", 3, optional=True)
    x_array, w_array = x.array, weight.array  # checked on the arrays: this runs for every layer, every step
    if x_array.ndim == 0 or w_array.ndim == 0:
        raise RuntimeError(f"both arguments to linear need to be at least 1D, but they are {x_array.ndim}D and "
                           f"{w_array.ndim}D; reshape the 0-d one (t.reshape(1))")
    if x_array.shape[-1] != w_array.shape[-1]:
        raise RuntimeError(
            f"linear: input of shape {shape_text(x.shape)} does not fit a weight of shape "
            f"{shape_text(weight.shape)} (out_features, in_features): the input's last dim must be "
            f"{weight.shape[-1]}"
        )
    if x_array.dtype is not w_array.dtype and x_array.dtype != w_array.dtype:
        raise RuntimeError(
            f"linear: input dtype {x.dtype} and weight dtype {weight.dtype} differ; convert the input "
            f"with .to(gg.{weight.dtype})"
        )
    if w_array.ndim != 2 or (bias is not None and bias.array.ndim > 1):  # a vector of weights, or a bias of rows:
        out = x @ (weight.t() if w_array.ndim == 2 else weight)          # the same sums, as ops of their own
        return out if bias is None else out + bias
    if bias is not None and bias.array.size != 1 and bias.array.shape != (w_array.shape[0],):
        raise RuntimeError(
            f"linear: bias of shape {shape_text(bias.shape)} does not fit a weight of shape "
            f"{shape_text(weight.shape)} (out_features, in_features): the bias must have {weight.shape[0]} entries"
        )
    if bias is None:
        return apply(ops.LINEAR, (x, weight), x_array, w_array, None,
                      (x._requires_grad, weight._requires_grad, False))
    return apply(ops.LINEAR, (x, weight, bias), x_array, w_array, bias.array,
                  (x._requires_grad, weight._requires_grad, bias._requires_grad))


def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """``input.repeat_interleave(repeats, dim)``; given counts alone, ``gg.repeat_interleave(counts)`` counts out
    the positions: ``[2, 0, 1] → [0, 0, 2]`` (position i, ``counts[i]`` times), as in PyTorch."""
    x = as_tensor(input)
    if repeats is not None:
        return x.repeat_interleave(repeats, dim, output_size=output_size)
    if x.ndim != 1:
        raise RuntimeError(f"repeat_interleave: counts given alone must be a 1-D tensor, got shape "
                           f"{shape_text(x.shape)}")
    positions = Tensor._wrap(np.arange(x.shape[0], dtype=x.array.dtype))
    return positions.repeat_interleave(x, output_size=output_size)


def split(tensor: Any, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """``gg.split(x, …)`` is ``x.split(…)``, with PyTorch's keyword names for this form
    (``gg.split(tensor=x, split_size_or_sections=2)``)."""
    return as_tensor(tensor).split(split_size_or_sections, dim)


def _input_named(function: Callable[[Tensor], Any]) -> Callable[[Tensor], Any]:
    """``function`` of ``A`` (its name in ``torch.linalg``) as PyTorch's top-level form, whose argument is named
    ``input``: ``gg.det(input=a)`` is ``gg.linalg.det(a)``."""
    def top_level(input: Tensor) -> Any:
        return function(input)

    top_level.__name__ = top_level.__qualname__ = function.__name__
    top_level.__doc__ = function.__doc__
    return top_level


det, slogdet, inverse = (_input_named(function) for function in (linalg.det, linalg.slogdet, linalg.inv))
