"""A convolution's gradients as functions (``gg.nn.grad``, PyTorch's ``torch.nn.grad``).

For ``Y = conv(X, W)`` (stride ``s``, padding, dilation ``d``, groups) and an upstream gradient ``∂L/∂Y``:

* ``∂L/∂X`` is the **transposed convolution** of ``∂L/∂Y`` with the same ``W``: each ``∂L/∂Y[n,c,i]`` is
  spread back, weighted by ``W[c,k,u]``, onto the input entry ``X[n,k,i·s+u·d]`` its window read
  (``conv1d_input``, ``conv2d_input``, ``conv3d_input``, given the input's size);
* ``∂L/∂W`` is the **correlation** of ``X`` with ``∂L/∂Y``: ``∂L/∂W[c,k,u] = Σ_{n,i} ∂L/∂Y[n,c,i]·X̃[n,k,i·s+u·d]``
  (``X̃``: ``X`` padded with zeros; ``conv1d_weight``, … given the weight's size).

(1-d indices shown; 2-d and 3-d add one offset per spatial dim.) All six are the engine's own convolution
backward (the rows ``conv1d``/``conv2d``/``conv3d`` of :mod:`glassgrad.ops`): a convolution of a zero tensor of
the given size, differentiated with :func:`glassgrad.autograd.grad`. A convolution is linear in each operand, so
the zeros change nothing, and the result keeps a graph to ``weight``/``input`` and ``grad_output`` when they
require grad.

>>> import glassgrad as gg
>>> x = gg.arange(5.0).reshape(1, 1, 5)             # 0 1 2 3 4, a kernel of 3: Y has 3 entries
>>> gg.nn.grad.conv1d_weight(x, (1, 1, 3), gg.ones(1, 1, 3)).tolist()    # Σ_i X[i+u] for u = 0, 1, 2
[[[3.0, 6.0, 9.0]]]
"""

from __future__ import annotations

from typing import Any

from ..arguments import shape_text
from ..autograd import enable_grad
from ..creation import zeros
from ..gradients import grad
from ..tensor import Tensor
from .conv import Padding, convolution


def _sizes(size: Any, dims: int, owner: str, what: str) -> tuple[int, ...]:
    """``size`` as ``dims + 2`` positive ints, or a one-line ValueError."""
    try:
        values = tuple(int(v) for v in size)
    except (TypeError, ValueError):
        values = ()
    if len(values) != dims + 2 or any(v < 1 for v in values):
        raise ValueError(f"{owner}: {what} must be {dims + 2} positive sizes (N, C, … for the input; out, in/groups, "
                         f"… for the weight), got {size!r}")
    return values


def _convolution_gradient(dims: int, operand: str, input: Any, weight: Any, grad_output: Tensor, stride: Any,
                          padding: Padding, dilation: Any, groups: int) -> Tensor:
    """``∂L/∂operand`` (``operand`` 'input' or 'weight', whose argument is a size) of ``conv{dims}d(input, weight)``
    for ``∂L/∂Y = grad_output``."""
    owner = f"conv{dims}d_{operand}"
    given, given_name = (weight, "weight") if operand == "input" else (input, "input")
    for name, value in ((given_name, given), ("grad_output", grad_output)):
        if not isinstance(value, Tensor):
            raise TypeError(f"{owner}: {name} must be a gg.Tensor, got {type(value).__name__}")
    if grad_output.dtype != given.dtype:
        raise TypeError(f"{owner}: grad_output has dtype {grad_output.dtype} but the {given_name} has {given.dtype}; "
                        "convert one with .to()")
    size = _sizes(input if operand == "input" else weight, dims, owner, f"{operand}_size")
    with enable_grad():
        unknown = zeros(*size, dtype=given.dtype, requires_grad=True)
        output = convolution(*((unknown, given) if operand == "input" else (given, unknown)), None, stride, padding,
                             dilation, groups, dims)
        if output.shape != grad_output.shape:
            raise ValueError(f"{owner}: grad_output has shape {shape_text(grad_output.shape)} but the convolution "
                             f"with these sizes and settings gives {shape_text(output.shape)}; check {operand}_size, "
                             "stride, padding and dilation")
        (gradient,) = grad(output, unknown, grad_output,
                           create_graph=given.requires_grad or grad_output.requires_grad)
    return gradient


def conv1d_input(input_size: Any, weight: Tensor, grad_output: Tensor, stride: Any = 1, padding: Padding = 0,
                 dilation: Any = 1, groups: int = 1) -> Tensor:
    """``∂L/∂X`` of ``conv1d(X, weight)`` for an ``X`` of ``input_size`` (N, C, L): the transposed convolution of
    ``grad_output`` with ``weight``."""
    return _convolution_gradient(1, "input", input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input: Tensor, weight_size: Any, grad_output: Tensor, stride: Any = 1, padding: Padding = 0,
                  dilation: Any = 1, groups: int = 1) -> Tensor:
    """``∂L/∂W`` of ``conv1d(input, W)`` for a ``W`` of ``weight_size`` (out, C/groups, kL): the correlation of
    ``input`` with ``grad_output``."""
    return _convolution_gradient(1, "weight", input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size: Any, weight: Tensor, grad_output: Tensor, stride: Any = 1, padding: Padding = 0,
                 dilation: Any = 1, groups: int = 1) -> Tensor:
    """``∂L/∂X`` of ``conv2d(X, weight)`` for an ``X`` of ``input_size`` (N, C, H, W): the transposed convolution of
    ``grad_output`` with ``weight``."""
    return _convolution_gradient(2, "input", input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input: Tensor, weight_size: Any, grad_output: Tensor, stride: Any = 1, padding: Padding = 0,
                  dilation: Any = 1, groups: int = 1) -> Tensor:
    """``∂L/∂W`` of ``conv2d(input, W)`` for a ``W`` of ``weight_size`` (out, C/groups, kH, kW): the correlation of
    ``input`` with ``grad_output``."""
    return _convolution_gradient(2, "weight", input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size: Any, weight: Tensor, grad_output: Tensor, stride: Any = 1, padding: Padding = 0,
                 dilation: Any = 1, groups: int = 1) -> Tensor:
    """``∂L/∂X`` of ``conv3d(X, weight)`` for an ``X`` of ``input_size`` (N, C, D, H, W): the transposed convolution
    of ``grad_output`` with ``weight``."""
    return _convolution_gradient(3, "input", input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input: Tensor, weight_size: Any, grad_output: Tensor, stride: Any = 1, padding: Padding = 0,
                  dilation: Any = 1, groups: int = 1) -> Tensor:
    """``∂L/∂W`` of ``conv3d(input, W)`` for a ``W`` of ``weight_size`` (out, C/groups, kD, kH, kW): the correlation
    of ``input`` with ``grad_output``."""
    return _convolution_gradient(3, "weight", input, weight_size, grad_output, stride, padding, dilation, groups)
