"""The rest of PyTorch's in-place methods, from two shared mechanisms (and ``gg.<name>_`` function forms).

* Values changed in place, ``x.sin_()``, ``x.tril_()``, ``x.eq_(y)``, ``x &= y`` …: ``x.copy_(x.op(…))``
  (:func:`glassgrad.tensor_methods.write_in_place`): the version counter goes up by one; inside a graph the
  gradient is that of the op followed by the copy; a leaf that requires grad is refused under grad mode, and a
  result of a higher kind than the tensor (floats into an integer tensor) is refused, as in PyTorch.
* Shape changed in place, ``x.t_()``, ``x.transpose_(0, 1)``, ``x.unsqueeze_(0)``, ``x.squeeze_()``,
  ``x.as_strided_(…)``: the tensor becomes what ``x.t()`` … would return, a view of its memory (``as_strided``:
  a gathered copy) (:func:`glassgrad.graph.become`): the version counter goes up by one, inside a graph the
  tensor's node is that op's, and a leaf that requires grad is refused, as in PyTorch.
* ``x.detach_()`` cuts the tensor from the graph in place (a leaf that no longer requires grad).

>>> import glassgrad as gg
>>> x = gg.tensor([[0.0, 1.0]])
>>> x.exp2_().tolist(), x.t_().shape, x._version
([[1.0, 2.0]], Size([2, 1]), 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import bump_version, is_grad_enabled, note_unreplayable
from .creation import tensor_argument
from .graph import become, check_in_place, cut, records_tangent
from .tensor import Tensor, refuse_inference, refuse_no_grad_view
from .tensor_methods import _in_place_form, add, write_in_place

VALUE_FORMS = (
    "acos", "acosh", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "asin", "asinh",
    "atan", "atan2", "atanh", "cosh", "sinh", "tan", "deg2rad", "rad2deg", "digamma", "erf", "erfc", "erfinv",
    "exp2", "expm1", "fix", "fmod", "remainder", "floor_divide", "hypot", "i0", "lgamma", "log10",
    "log1p", "log2", "logit", "mvlgamma", "nan_to_num", "polygamma", "sgn", "sinc", "xlogy", "copysign",
    "heaviside", "gcd", "lcm", "ldexp", "nextafter", "igamma", "igammac", "renorm", "cumsum", "cumprod", "addbmm",
    "addmm", "addmv", "addr", "baddbmm", "tril", "triu", "eq", "ne", "lt", "le", "gt", "ge", "greater",
    "greater_equal", "less", "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    "absolute", "negative", "multiply", "subtract", "divide", "true_divide", "put", "index_reduce", "conj_physical",
)
"""The methods whose ``name_`` form writes the result into the tensor (``copy_`` of the out-of-place result)."""

for _name in VALUE_FORMS:
    _in_place_form(_name)
def float_power_(self: Tensor, exponent: Any) -> Tensor:
    """``x = xᵉ`` computed in float64, for a float64 tensor only (another dtype would round the result, which
    PyTorch refuses)."""
    if self.array.dtype != np.float64:
        raise RuntimeError(f"float_power_: the result is float64 but this tensor is {self.array.dtype.name}; call "
                           "it on x.double(), or use the out-of-place float_power")
    return write_in_place(self, lambda source: source.float_power(exponent), "float_power_")


add("float_power_", float_power_)
# x &= y, x <<= 2, x //= 2, x **= 2 …: Python's in-place operators, the same tensor changed
for _dunder, _name in [("and", "bitwise_and"), ("or", "bitwise_or"), ("xor", "bitwise_xor"),
                       ("lshift", "bitwise_left_shift"), ("rshift", "bitwise_right_shift"),
                       ("floordiv", "floor_divide"), ("mod", "remainder"), ("pow", "pow")]:
    add(f"__i{_dunder}__", getattr(Tensor, f"{_name}_"))


def reshape_in_place(tensor: Tensor, name: str, view: Any) -> Tensor:
    """``tensor`` becomes ``view(tensor)``, a new view of its memory (``t``, ``transpose``, ``unsqueeze`` …),
    counted as an in-place change; recorded in the graph when the tensor is in one (a leaf that requires grad
    is refused there, as in PyTorch)."""
    if tensor._inference:
        refuse_inference(name)
    if tensor._no_grad_view and is_grad_enabled():
        refuse_no_grad_view(tensor, name)
    note_unreplayable(f"{name} gives a tensor a new shape in place, which a replay does not repeat")
    if tensor._requires_grad and (is_grad_enabled() or records_tangent(tensor)):
        check_in_place(tensor, name, new_shape=True)
        become(tensor, view)
        return tensor
    tensor.array = view(Tensor._wrap(tensor.array)).array
    bump_version(tensor.array)
    return tensor


def _shape_form(name: str) -> None:
    """``x.{name}_(…)``: ``x`` becomes ``x.{name}(…)`` (:func:`reshape_in_place`)."""
    def in_place(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return reshape_in_place(self, f"{name}_", lambda source: getattr(source, name)(*args, **kwargs))

    in_place.__name__ = in_place.__qualname__ = f"{name}_"
    in_place.__doc__ = f"``x`` reshaped in place to ``x.{name}(…)`` (returns x)."
    add(f"{name}_", in_place)


for _name in ("t", "transpose", "swapaxes", "swapdims", "unsqueeze", "squeeze", "as_strided"):
    _shape_form(_name)


def detach_(self: Tensor) -> Tensor:
    """Cut this tensor from the graph in place: it becomes a leaf that does not require grad; the ops made from
    it before keep their way back through it (:func:`glassgrad.graph.cut`)."""
    if getattr(self, "_view_of", None) is not None:
        raise RuntimeError("detach_: cannot detach a view (from reshape, transpose, expand or indexing) in place; "
                           "use y = y.detach()")
    cut(self)
    return self


add("detach_", detach_)


def function_form(name: str) -> Any:
    """``gg.name(x, …)``: the method ``x.name(…)`` as a function; a number or a list for ``x`` is PyTorch's
    one-line TypeError naming the argument (``abs_(): argument 'input' (position 1) must be Tensor, not float``)."""
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(tensor_argument(input, name, "input", 1), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``gg.{name}(x, …)`` is ``x.{name}(…)``."
    return function


FUNCTION_FORMS = {name: function_form(name) for name in (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_", "asin_",
    "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_",
    "detach_", "erf_", "erfc_", "exp2_", "exp_", "expm1_", "fix_", "floor_", "frac_", "gcd_", "i0_", "lcm_",
    "ldexp_", "log10_", "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
    "reciprocal_", "relu_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "fill_", "zero_", "addmv_", "index_put_", "as_strided_")}
"""``torch.sin_(x)`` …: PyTorch's top-level forms of the in-place methods (``gg.sin_(x)`` is ``x.sin_()``)."""
