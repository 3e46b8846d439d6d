"""Jacobians, Hessians and their products with a vector (PyTorch's ``torch.autograd.functional``).

For ``y = f(x)`` the Jacobian ``J`` holds every ``∂yᵢ/∂xⱼ``; backpropagation never builds it, it
multiplies by it from the left: ``backward`` with upstream ``u`` gives ``uᵀJ`` (a vector-Jacobian
product) in one pass, whatever the sizes. Everything here is made of that one product
(:func:`glassgrad.autograd.grad`):

* ``vjp(f, x, v)``: ``vᵀJ``, one backward pass;
* ``jacobian(f, x)``: one backward pass per entry of ``y`` (row ``i`` is ``eᵢᵀJ``);
* ``jvp(f, x, v)``: ``J·v`` by the double-backward trick: ``g(u) = uᵀJ`` is linear in ``u``, and the
  gradient of ``g(u)·v`` with respect to ``u`` is ``J·v`` (so it needs second derivatives, which every row has);
* ``hessian(f, x)``: the Jacobian of the gradient, ``H = ∂(∇f)/∂x`` (``f`` gives one number);
* ``vhp(f, x, v)``: ``vᵀH``, and ``hvp(f, x, v)``: ``H·v`` (the same numbers where ``H`` is symmetric).

>>> import glassgrad as gg
>>> jacobian, hessian = gg.autograd.functional.jacobian, gg.autograd.functional.hessian
>>> jacobian(lambda x: x ** 2, gg.tensor([1.0, 3.0]))          # diag(2x)
tensor([[2., 0.],
        [0., 6.]])
>>> hessian(lambda x: (x ** 3).sum(), gg.tensor([1.0, 2.0]))   # diag(6x)
tensor([[ 6.,  0.],
        [ 0., 12.]])

As in PyTorch: ``inputs`` is a tensor or a tuple of tensors, and so is what ``f`` returns; the
results are nested the same way (``jacobian(f, (a, b))`` gives ``(∂y/∂a, ∂y/∂b)``). Without
``create_graph=True`` the results are plain tensors, outside any graph. ``strict=True`` refuses
an input the output does not depend on (otherwise its part is zeros), and, with ``create_graph=True``, a
result that does not depend on the inputs (the Jacobian of a linear function: its derivative would be a silent
0). ``vectorize=True`` is accepted and changes nothing (rows are computed one by one, as ``gg.vmap`` computes
its items). They differentiate with grad mode on, inside ``no_grad()`` too, as PyTorch's.
``strategy="forward-mode"`` (``outer_jacobian_strategy`` of ``hessian``) is accepted where PyTorch accepts it
(with ``vectorize=True``, without ``create_graph`` or ``strict``) and builds the Jacobian by columns ``J·eᵢ``
(:func:`jacobian_by_columns`), as :func:`glassgrad.func.jacfwd` does: forward mode's numbers, where a rule's
differ from its backward's transpose (a write at a repeated index), by the double-backward trick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .autograd import differentiated_twice, enable_grad
from .creation import ones_like, zeros_like
from .custom_function import tangents_by_jvp
from .functions import stack
from .gradients import grad
from .tensor import Tensor


@enable_grad()  # as PyTorch's: they differentiate inside no_grad() too (an evaluation loop)
def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(f(inputs), vᵀ·J)``: the vector-Jacobian product, one backward pass."""
    single_in, inputs = _inputs(inputs, "vjp", create_graph)
    single_out, outputs = _outputs(func(*inputs), "vjp")
    v = _vectors(v, outputs, "vjp", "the outputs")
    products = _product(outputs, inputs, v, create_graph, strict, "vjp")
    return _shaped(outputs, single_out, create_graph), _shaped(products, single_in, create_graph)


@enable_grad()  # as PyTorch's: they differentiate inside no_grad() too (an evaluation loop)
def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(f(inputs), J·v)``: the Jacobian-vector product, by differentiating ``uᵀJ`` with respect to ``u``."""
    single_in, inputs = _inputs(inputs, "jvp", create_graph)
    with differentiated_twice("jvp"):
        single_out, outputs = _outputs(func(*inputs), "jvp")
    products = _tangents(outputs, inputs, v, create_graph, strict)
    return _shaped(outputs, single_out, create_graph), _shaped(products, single_out, create_graph)


@enable_grad()  # as PyTorch's: they differentiate inside no_grad() too (an evaluation loop)
def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """Every ``∂yᵢ/∂xⱼ``: shape ``y.shape + x.shape`` for each output and input, one backward pass per entry of y."""
    _check_strategy(strategy, vectorize, create_graph, strict, "jacobian")
    single_in, inputs = _inputs(inputs, "jacobian", create_graph)
    with differentiated_twice("jacobian", strategy == "forward-mode"):
        single_out, outputs = _outputs(func(*inputs), "jacobian")
    blocks = [jacobian_by_columns(output, inputs, False, "jacobian") if strategy == "forward-mode" else
              _jacobian_of(output, inputs, create_graph, strict, "jacobian") for output in outputs]
    if single_out:
        return _shaped(blocks[0], single_in, create_graph)
    return tuple(_shaped(row, single_in, create_graph) for row in blocks)


@enable_grad()  # as PyTorch's: they differentiate inside no_grad() too (an evaluation loop)
def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """``∂²f/∂xᵢ∂xⱼ`` of a function giving one number: the Jacobian of its gradient."""
    _check_strategy(outer_jacobian_strategy, vectorize, create_graph, strict, "hessian")
    single_in, inputs = _inputs(inputs, "hessian", True)
    gradients = _product(_one_number(func, inputs, "hessian"), inputs, None, True, strict, "hessian")
    blocks = [jacobian_by_columns(gradient, inputs, False, "hessian") if outer_jacobian_strategy == "forward-mode"
              else _jacobian_of(gradient, inputs, create_graph, strict, "hessian") for gradient in gradients]
    if single_in:
        return _detached(blocks[0][0], create_graph)
    return tuple(tuple(_detached(block, create_graph) for block in row) for row in blocks)


@enable_grad()  # as PyTorch's: they differentiate inside no_grad() too (an evaluation loop)
def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(f(inputs), vᵀ·H)`` for a function giving one number: the gradient's vector-Jacobian product."""
    single_in, inputs = _inputs(inputs, "vhp", True)
    (value,) = outputs = _one_number(func, inputs, "vhp")
    v = _vectors(v, inputs, "vhp", "the inputs")
    gradients = _product(outputs, inputs, None, True, strict, "vhp")
    products = _product(gradients, inputs, v, create_graph, strict, "vhp")
    return _detached(value, create_graph), _shaped(products, single_in, create_graph)


@enable_grad()  # as PyTorch's: they differentiate inside no_grad() too (an evaluation loop)
def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(f(inputs), H·v)`` for a function giving one number: the Jacobian-vector product of its gradient, with
    ``H[i, j] = ∂(∇f)ᵢ/∂xⱼ``, by the double-backward trick (as PyTorch's). The numbers are :func:`vhp`'s wherever
    ``H`` is symmetric, as it is for every twice-differentiable f; a custom Function whose backward is not the
    gradient of its forward can make them differ, and then this is ``H·v``, not ``vᵀH``."""
    single_in, inputs = _inputs(inputs, "hvp", True)
    (value,) = outputs = _one_number(func, inputs, "hvp")
    v = _vectors(v, inputs, "hvp", "the inputs")
    gradients = _product(outputs, inputs, None, True, strict, "hvp")
    products = _tangents(gradients, inputs, v, create_graph, strict)
    return _detached(value, create_graph), _shaped(products, single_in, create_graph)


# --- the pieces ------------------------------------------------------------------------------

def _inputs(inputs: Any, name: str, create_graph: bool, forward: bool = False) -> tuple[bool, tuple]:
    """Whether one tensor was given, and the inputs as fresh graph leaves (views of the given tensors when the
    result is recorded, so that it stays connected to them). An integer input is refused with PyTorch's type:
    ValueError for the primal of a ``forward`` (forward-mode) transform, RuntimeError for a leaf to require grad."""
    single = isinstance(inputs, Tensor)
    given = (inputs,) if single else tuple(inputs) if isinstance(inputs, (tuple, list)) else None
    if given is None or not all(isinstance(tensor, Tensor) for tensor in given):
        raise TypeError(f"{name}: inputs must be a Tensor or a tuple of Tensors, got {type(inputs).__name__}")
    for position, tensor in enumerate(given):
        if tensor.dtype.kind != "f":
            error = ValueError if forward else RuntimeError
            raise error(f"{name}: input {position} is {tensor.dtype}; only floating tensors have derivatives "
                        "(convert it with .double())")
    leaves = tuple(tensor.view_as(tensor) if create_graph and tensor.requires_grad
                   else tensor.detach().requires_grad_() for tensor in given)
    return single, leaves


def _outputs(result: Any, name: str) -> tuple[bool, tuple]:
    single = isinstance(result, Tensor)
    outputs = (result,) if single else tuple(result) if isinstance(result, (tuple, list)) else None
    if outputs is None or not all(isinstance(tensor, Tensor) for tensor in outputs):
        raise TypeError(f"{name}: the function must return a Tensor or a tuple of Tensors, got "
                        f"{type(result).__name__}")
    return single, outputs


def _one_number(func: Callable, inputs: tuple, name: str) -> tuple:
    """``func(*inputs)``, one number, whose graph ``name`` (a Hessian's product) differentiates twice."""
    with differentiated_twice(name):
        _, outputs = _outputs(func(*inputs), name)
    if len(outputs) != 1 or outputs[0].numel() != 1:
        shapes = ", ".join(str(tuple(output.shape)) for output in outputs)
        raise RuntimeError(f"{name}: the function must return one Tensor with a single element (a loss), got "
                           f"shape(s) {shapes}; sum or average it first")
    return outputs


def _vectors(v: Any, like: tuple, name: str, what: str) -> tuple:
    """``v`` as a tuple matching ``like`` in shapes (None: allowed when ``like`` is one single-element tensor)."""
    if v is None:
        if len(like) != 1 or like[0].numel() != 1:
            raise RuntimeError(f"{name}: v can be left out only when {what} are a single one-element Tensor; "
                               "give v with their shapes")
        return (Tensor._wrap(np.ones(like[0].shape, dtype=like[0].dtype)),)
    given = (v,) if isinstance(v, Tensor) else tuple(v) if isinstance(v, (tuple, list)) else None
    if given is None or not all(isinstance(tensor, Tensor) for tensor in given):
        raise TypeError(f"{name}: v must be a Tensor or a tuple of Tensors, got {type(v).__name__}")
    if len(given) != len(like) or any(tuple(a.shape) != tuple(b.shape) for a, b in zip(given, like)):
        expected = ", ".join(str(tuple(t.shape)) for t in like)
        received = ", ".join(str(tuple(getattr(t, "shape", ()))) for t in given)
        raise RuntimeError(f"{name}: v must have the shapes of {what}, ({expected}); got ({received})")
    return given


def _product(outputs: tuple, inputs: tuple, v: Any, create_graph: bool, strict: bool, name: str,
             outputs_are: str = "output") -> tuple:
    """``vᵀ·∂outputs/∂inputs`` per input: zeros where an input does not reach (``strict``: refused)."""
    needing = [position for position, output in enumerate(outputs) if output.requires_grad]
    if not needing:
        found = (None,) * len(inputs)
    else:
        found = grad(tuple(outputs[p] for p in needing), inputs,
                     None if v is None else tuple(v[p] for p in needing),
                     retain_graph=True, create_graph=create_graph, allow_unused=True)
    if strict and any(gradient is None for gradient in found):
        position = next(p for p, gradient in enumerate(found) if gradient is None)
        raise RuntimeError(f"{name}: the {outputs_are} is independent of input {position}, which strict=True "
                           "does not allow; drop that input, or pass strict=False to get zeros for it")
    if strict and create_graph and not all(gradient.requires_grad for gradient in found):
        position = next(p for p, gradient in enumerate(found) if not gradient.requires_grad)
        raise RuntimeError(f"{name}: the derivative with respect to input {position} does not depend on the inputs "
                           "(its own derivative would be 0), which strict=True with create_graph=True does not allow "
                           "(as in PyTorch); pass strict=False")
    return tuple(zeros_like(tensor) if gradient is None else gradient for tensor, gradient in zip(inputs, found))


def jvp_seed(output: Tensor) -> Tensor:
    """The seed ``u`` of the double-backward trick, ones: ``J·v = ∂(uᵀJ)/∂u · v`` holds at any ``u`` where the
    backward is linear in its upstream, and a rule whose stable form sums the upstream's signs apart
    (``logcumsumexp``: logs of ``|u|``) is linear only away from ``u = 0``, where its derivative reads 0 (PyTorch's
    ``autograd.functional.jvp`` seeds zeros and gives NaN there)."""
    return ones_like(output).requires_grad_()


def _tangents(outputs: tuple, inputs: tuple, v: Any, create_graph: bool, strict: bool) -> tuple:
    """``J·v`` per output: the derivative of ``uᵀJ`` (one backward pass from the outputs with a seed ``u``) with
    respect to ``u``, in the direction ``v`` (a second pass)."""
    v = _vectors(v, inputs, "jvp", "the inputs")
    dummies = tuple(jvp_seed(output) for output in outputs)
    back = _product(outputs, inputs, dummies, True, strict, "jvp")
    return _product(back, dummies, v, create_graph, strict, "jvp", outputs_are="vector-Jacobian products")


def _jacobian_of(output: Tensor, inputs: tuple, create_graph: bool, strict: bool, name: str) -> list:
    """``∂output/∂input`` for each input, of shape ``output.shape + input.shape``: one backward pass per entry."""
    rows = []
    for entry in range(output.numel()):
        basis = np.zeros(output.numel(), dtype=output.dtype)
        basis[entry] = 1
        rows.append(_product((output,), inputs, (Tensor._wrap(basis.reshape(output.shape)),), create_graph,
                             strict, name))
    shapes = [tuple(output.shape) + tuple(tensor.shape) for tensor in inputs]  # () for a number of a number
    return [stack([row[position] for row in rows], 0).reshape(shape) if rows else tensor.new_zeros(shape)
            for position, (tensor, shape) in enumerate(zip(inputs, shapes))]


def jacobian_by_columns(output: Tensor, inputs: tuple, create_graph: bool, name: str) -> list:
    """``∂output/∂input`` for each input, shaped ``output.shape + input.shape``, as forward mode builds it: one
    column ``J·eᵢ`` per entry ``i`` of the inputs, each the derivative of ``uᵀJ`` (one first backward pass with a
    seed ``u``, shared by all) along ``eᵢ``: forward mode's own rules where they are not the backward's transpose
    (:data:`glassgrad.ops.TANGENTS`), and a custom Function's ``jvp``, as PyTorch's ``jacfwd``."""
    if output.dtype.kind != "f":  # no tangent: zeros of its dtype, as PyTorch's
        return [output.new_zeros(tuple(output.shape) + tuple(tensor.shape)) for tensor in inputs]
    seed = jvp_seed(output)
    with tangents_by_jvp():
        back = _product((output,), inputs, (seed,), True, False, name)
    blocks = []
    for tensor, row in zip(inputs, back):
        columns = []
        for entry in range(tensor.numel()):
            basis = np.zeros(tensor.numel(), dtype=tensor.dtype)
            basis[entry] = 1
            columns.append(_product((row,), (seed,), (Tensor._wrap(basis.reshape(tensor.shape)),), create_graph,
                                    False, name)[0])
        shape = tuple(output.shape) + tuple(tensor.shape)
        blocks.append(stack(columns, -1).reshape(shape) if columns else output.new_zeros(shape))
    return blocks


def _check_strategy(strategy: str, vectorize: bool, create_graph: bool, strict: bool, name: str) -> None:
    """Refuse what PyTorch refuses of a Jacobian's strategy, with its exception types."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(f"{name}: the strategy must be 'forward-mode' or 'reverse-mode', got {strategy!r}")
    if strategy == "reverse-mode":
        if strict and vectorize:
            raise RuntimeError(f"{name}: strict=True and vectorize=True do not go together (as in PyTorch); pass "
                               "strict=False or vectorize=False")
        return
    if create_graph:  # PyTorch's order of checks: create_graph, then strict, then vectorize
        raise NotImplementedError(f"{name}: the strategy 'forward-mode' does not record a graph (as in PyTorch); "
                                  "pass create_graph=False or use 'reverse-mode'")
    if strict:
        raise RuntimeError(f"{name}: strict=True does not go with the strategy 'forward-mode' (as in PyTorch); "
                           "pass strict=False or use 'reverse-mode'")
    if not vectorize:
        raise NotImplementedError(f"{name}: the strategy 'forward-mode' needs vectorize=True (as in PyTorch)")


def _detached(tensor: Tensor, create_graph: bool) -> Tensor:
    return tensor if create_graph else tensor.detach()


def _shaped(tensors: Any, single: bool, create_graph: bool) -> Any:
    """The results nested as the caller gave them: one tensor, or a tuple."""
    tensors = tuple(_detached(tensor, create_graph) for tensor in tensors)
    return tensors[0] if single else tensors
