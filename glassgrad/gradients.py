"""``gg.autograd.grad``: gradients returned as values, as PyTorch's ``torch.autograd.grad`` returns them
(and ``gg.autograd.backward``, its counterpart that stores them in ``.grad``).

``grad(outputs, inputs)`` is ``∂outputs/∂inputs`` without touching any ``.grad``: the
gradients come back as a tuple, one per input, in order. With ``grad_outputs`` (one ``v`` per
output, shaped like it) it is the vector-Jacobian product ``∂(Σ v·out)/∂input``, the same
``∂L/∂out`` a ``backward(gradient)`` starts from. With ``create_graph=True`` the computation of
the gradient is itself recorded, so the result can be differentiated again:

>>> import glassgrad as gg
>>> x = gg.tensor(2.0, requires_grad=True)
>>> y = x ** 3
>>> (dy,) = gg.autograd.grad(y, x, create_graph=True)     # 3x² = 12
>>> (d2y,) = gg.autograd.grad(dy, x)                       # 6x = 12
>>> dy.item(), d2y.item()
(12.0, 12.0)

The walk is :mod:`glassgrad.gradient_walk`'s; this module checks the arguments, as PyTorch does.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .arguments import shape_text
from .autograd import call_recorder, copied_seed, recorded_call, refuse_backward_in_transform
from .functions import stack
from .gradient_walk import backward_into, gradients
from .tensor import Tensor, _backward_inputs


def _as_tuple(value: Tensor | Sequence[Tensor], name: str, caller: str = "grad") -> tuple[Tensor, ...]:
    """``value`` as a tuple of tensors; an entry that is not one is refused with PyTorch's class: RuntimeError
    among the inputs, AssertionError (PyTorch's ``assert``) among the outputs."""
    values = (value,) if isinstance(value, Tensor) else tuple(value)
    for position, item in enumerate(values):
        if not isinstance(item, Tensor):
            error = RuntimeError if name == "inputs" else AssertionError
            raise error(f"{caller}: {name}[{position}] must be a Tensor, got {type(item).__name__}")
    return values


def _check_differentiable(outputs: tuple[Tensor, ...]) -> None:
    for position, output in enumerate(outputs):
        if not output.requires_grad:
            raise RuntimeError(
                f"element {position} of tensors does not require grad and does not have a grad_fn: nothing it was "
                "computed from requires grad (create the inputs with requires_grad=True, outside no_grad)"
            )


def _seeds(outputs: tuple[Tensor, ...], grad_outputs, create_graph: bool, caller: str = "grad",
           argument: str = "grad_outputs") -> tuple:
    """One starting gradient per output: the given one (a Tensor, shaped like it) or 1 for a one-number output.

    ``caller`` and ``argument`` name the function and its argument in the errors."""
    if grad_outputs is None:
        given: tuple = (None,) * len(outputs)
    else:
        given = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    for position, seed in enumerate(given):  # the types first, as PyTorch (a NumPy array is not split into rows)
        if seed is not None and not isinstance(seed, Tensor):
            raise TypeError(f"{caller}: {argument}[{position}] must be a Tensor or None, got {type(seed).__name__}")
    if len(given) != len(outputs):
        raise RuntimeError(
            f"{caller}: {argument} has {len(given)} entries but there are {len(outputs)} outputs; give one "
            "per output (None for a one-number output)"
        )
    seeds = []
    for position, (output, seed) in enumerate(zip(outputs, given)):
        if seed is None:
            if output.array.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but output[{position}] has shape "
                    f"{shape_text(output.shape)}: pass {argument} with that shape, or reduce it first (.sum())"
                )
            seed = Tensor._wrap(np.ones(output.shape, dtype=output.dtype))
        elif seed.shape != output.shape:
            raise RuntimeError(
                f"Mismatch in shape: {argument}[{position}] has a shape of {shape_text(seed.shape)} and "
                f"output[{position}] has a shape of {shape_text(output.shape)}"
            )
        elif seed.dtype != output.dtype:
            seed = seed.to(output.dtype)  # also an integer or bool one, as PyTorch casts it
        seeds.append(seed if create_graph else copied_seed(seed.array))
    return tuple(seeds)


def grad(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor],
         grad_outputs: Tensor | Sequence[Tensor | None] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is left alone).

    ``grad_outputs``: ∂L/∂output for each output (may be left out for one-number outputs);
    ``retain_graph``: keep the graph for another backward (default: ``create_graph``);
    ``create_graph``: record the gradient's computation, for higher derivatives;
    ``allow_unused``: give ``None`` for an input the outputs do not depend on (else an error);
    ``materialize_grads``: give zeros there instead of ``None``; ``is_grads_batched``: each entry of
    ``grad_outputs`` is a batch of them along dim 0, and each result the batch of gradients, one per row
    (PyTorch vmaps the backward pass; here it runs once per row, with the same numbers). (``only_inputs``
    is accepted and ignored, as in PyTorch, where it is deprecated: ``only_inputs=False`` warns, as there.)
    """
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). To accumulate "
                      "gradient for other parts of the graph, please use torch.autograd.backward.", FutureWarning,
                      stacklevel=2)
    if is_grads_batched:
        return _grads_batched(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused,
                              materialize_grads)
    outputs, inputs = _as_tuple(outputs, "outputs"), _as_tuple(inputs, "inputs")
    if not inputs:
        raise RuntimeError("grad requires non-empty inputs")
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: allow_unused=False."
        )
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    _check_differentiable(outputs)
    for position, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad: inputs[{position}] (set "
                "requires_grad=True on it before computing the outputs)"
            )
    seeds = _seeds(outputs, grad_outputs, create_graph)
    recorder = call_recorder()  # a compiled step capturing (glassgrad.compiler) follows the walk
    if recorder is not None:
        recorder.on_grad_start(outputs, create_graph)
    found = gradients(outputs, seeds, inputs, create_graph, create_graph if retain_graph is None else retain_graph)
    if recorder is not None:
        recorder.on_grad_end(inputs, found)
    results: list[Tensor | None] = []
    returned: set[int] = set()
    for position, (tensor, value) in enumerate(zip(inputs, found)):
        if value is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors appears to not have been used in the graph: inputs[{position}] "
                    "does not lead to the outputs. Set allow_unused=True if this is the desired behavior."
                )
            if not materialize_grads:
                results.append(None)
                continue
            zeros = Tensor._wrap(recorded_call(np.zeros, tensor.shape, tensor.dtype))  # a kernel of a compiled step
            results.append(zeros.requires_grad_(create_graph))  # as PyTorch's: differentiable again with create_graph
            continue
        if not create_graph:
            if id(value) in returned:  # two inputs never share one array (a copy: a kernel of a compiled step)
                value = recorded_call(np.copy, value)
            value = Tensor._wrap(value)
            returned.add(id(value.array))
        results.append(value)
    return tuple(results)


def _grads_batched(outputs: Tensor | Sequence[Tensor], inputs: Tensor | Sequence[Tensor], grad_outputs: Any,
                   retain_graph: bool | None, create_graph: bool, allow_unused: bool | None,
                   materialize_grads: bool) -> tuple[Tensor | None, ...]:
    """``grad(…, is_grads_batched=True)``: one :func:`grad` per row of the batched ``grad_outputs``, stacked."""
    given = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs or ())
    sizes = {seed.shape[0] if isinstance(seed, Tensor) and seed.ndim else None for seed in given}
    if not given or len(sizes) != 1 or None in sizes or 0 in sizes:
        raise RuntimeError("grad(is_grads_batched=True): give grad_outputs as tensors that all hold the same "
                           "number (at least one) of rows along dim 0, one output's ∂L/∂output per row")
    (rows,) = sizes
    per_row = [grad(outputs, inputs, [seed[row] for seed in given], retain_graph if row == rows - 1 else True,
                    create_graph, allow_unused=allow_unused, materialize_grads=materialize_grads)
               for row in range(rows)]
    return tuple(None if found[0] is None else stack(found) for found in zip(*per_row))


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors: Tensor | Sequence[Tensor | None] | None = None,
             retain_graph: bool | None = None, create_graph: bool = False, grad_variables: None = None,
             inputs: Tensor | Sequence[Tensor] | None = None) -> None:
    """``torch.autograd.backward``: ``tensors[i].backward(grad_tensors[i])`` for every i, in one pass.

    The leaves' ``.grad`` receive ∂(Σ vᵢ·tensorᵢ)/∂leaf, with ``vᵢ = grad_tensors[i]`` (1 for a
    one-number tensor); a graph the tensors share is walked once, and freed after it unless
    ``retain_graph=True``. ``create_graph`` and ``inputs`` as in :meth:`Tensor.backward`; no tensors (an empty
    list of losses) is a pass that does nothing, as in PyTorch.
    (``grad_variables`` is PyTorch's old name of ``grad_tensors``: deprecated there, and it warns, as there.)
    """
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.", FutureWarning, stacklevel=2)
        if grad_tensors is not None:
            raise RuntimeError("backward: give grad_tensors or its old name grad_variables, not both")
        grad_tensors = grad_variables
    tensors = _as_tuple(tensors, "tensors", "backward")
    if not tensors:
        return
    if grad_tensors is None:
        given: tuple = (None,) * len(tensors)
    else:
        given = (grad_tensors,) if isinstance(grad_tensors, Tensor) else tuple(grad_tensors)
    if len(tensors) == 1 and len(given) == 1:  # the plain tensor.backward, with its checks
        tensors[0].backward(given[0], retain_graph, create_graph, inputs)
        return
    refuse_backward_in_transform()
    _check_differentiable(tensors)
    seeds = _seeds(tensors, given, create_graph, "backward", "grad_tensors")
    chosen = None if inputs is None else _backward_inputs(inputs)
    backward_into(tensors, seeds, chosen, create_graph, create_graph if retain_graph is None else retain_graph)
