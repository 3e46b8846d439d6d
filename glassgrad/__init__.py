"""glassgrad: backpropagation you can see through.

A reverse-mode autodiff engine over NumPy with PyTorch's names, plus the tools to
show, explain and check every number it computes.

>>> import glassgrad as gg
>>> x = gg.tensor([1.0, 0.0, 1.0, 1.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
tensor([2., 0., 2., 2.])
"""

from . import _memory, custom_function, gradients
from . import autograd as autograd
from . import data as data
from . import nn as nn
from . import optim as optim
from . import training as training
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .creation import (
    arange,
    as_tensor,
    default_generator,
    eye,
    from_numpy,
    full,
    manual_seed,
    ones,
    ones_like,
    rand,
    randint,
    randn,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .functions import (
    abs,
    add,
    argmax,
    argmin,
    cat,
    clamp,
    cos,
    div,
    exp,
    flatten,
    leaky_relu,
    linear,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    permute,
    pow,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from .gradcheck import GradcheckError, GradcheckReport, gradcheck
from .gradcheck import autograd_gradcheck as _autograd_gradcheck
from .gradcheck import gradgradcheck as _gradgradcheck
from .io import load, save
from .ops import RULES
from .tensor import Tensor, bool_, float16, float32, float64, int32, int64
from .trace import trace
from .training import fit
from .version import __version__


def __getattr__(name: str):
    """``gg.lessons`` and ``gg.practice`` load on first use (keeps ``import glassgrad`` fast)."""
    if name in ("lessons", "practice"):  # import_module, not ``from . import``: that asks this hook again, forever
        from importlib import import_module

        return import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'glassgrad' has no attribute {name!r}")

_memory.tune_allocator()

# PyTorch's torch.autograd.Function and torch.autograd.grad, found on the engine's module (gg.autograd) as there;
# they are defined in modules above it, which use Tensor
autograd.Function, autograd.FunctionCtx = custom_function.Function, custom_function.FunctionCtx
autograd.grad = gradients.grad
autograd.gradcheck, autograd.gradgradcheck = _autograd_gradcheck, _gradgradcheck

__all__ = [
    "RULES", "GradcheckError", "GradcheckReport", "Tensor", "__version__", "abs", "add", "arange", "argmax",
    "argmin", "as_tensor", "bool_", "cat", "clamp", "cos", "default_generator", "div", "enable_grad", "exp", "eye",
    "fit", "flatten", "float16", "float32", "float64", "from_numpy", "full", "gradcheck", "int32", "int64",
    "is_grad_enabled", "leaky_relu", "linear", "load", "log", "log_softmax", "logsumexp", "manual_seed", "matmul",
    "max", "maximum", "mean", "min", "minimum", "mul", "neg", "no_grad", "ones", "ones_like", "permute", "pow",
    "rand", "randint", "randn", "randperm", "relu", "reshape", "save", "set_grad_enabled", "sigmoid", "sin",
    "softmax", "sqrt", "squeeze", "stack", "std", "sub", "sum", "tanh", "tensor", "trace", "transpose", "unsqueeze",
    "var", "where", "zeros", "zeros_like",
]
