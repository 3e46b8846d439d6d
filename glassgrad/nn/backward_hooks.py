"""Module backward hooks: a layer's gradients, in and out, as ``backward`` computes them.

``module.register_full_backward_hook(hook)`` calls ``hook(module, grad_input, grad_output)``
during each backward pass through a call of that module: ``grad_output`` holds ∂L/∂output,
``grad_input`` holds ∂L/∂input for each positional argument: zeros for another tensor beside the one that
requires grad (a mask), None for one that is no tensor, and all None when no input requires grad (the data fed
to the first layer), as PyTorch gives them. A returned tuple replaces ``grad_input``.
``register_full_backward_pre_hook(hook)`` calls ``hook(module, grad_output)`` before that; a
returned tuple replaces ``grad_output``. Both are PyTorch's; learners use them to watch gradients
shrink or blow up layer by layer.

How: each call of a hooked module gets a :class:`BackwardWatch`. The input that requires grad
enters the module through a view of itself, so the view's gradient is exactly what flows back
*through this module* (the input may be used elsewhere too); tensor hooks (:mod:`glassgrad.tensor_hooks`) on
the output and on that view see the two gradients; the output's runs after the hooks the caller adds to it, so
``grad_output`` is their result, as in PyTorch. Where the output is already another watched call's (a
``Sequential`` and its last layer) or the input handed back (``Identity``), the call returns a view of it, as
PyTorch returns a new tensor, so that each call's hooks sit on an output of its own. A module
watched this way takes one tensor output and at most one input that requires grad (every
built-in layer): anything else is refused in one line.
"""

from __future__ import annotations

from typing import Any

from ..autograd import is_grad_enabled
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from ..tensor_hooks import HOOKS, NodeHook, register


class BackwardWatch:
    """One call of a module with backward hooks: finds its input, then hooks its output (:meth:`watch_output`)."""

    def __init__(self, module: Any, inputs: tuple) -> None:
        self.module = module
        self.name = type(module).__name__
        needing = [position for position, value in enumerate(inputs)  # under no_grad() nothing is recorded:
                   if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled()]  # nothing to watch
        if len(needing) > 1:
            raise RuntimeError(f"{self.name}: a full backward hook in glassgrad takes a module with at most one input "
                               f"that requires grad, and this call has {len(needing)}; hook the tensors themselves "
                               "(tensor.register_hook) instead")
        self.size = len(inputs)
        self.position = needing[0] if needing else None
        self.grad_output: tuple = ()
        self.inputs = inputs
        if self.position is not None:
            watched = inputs[self.position].view_as(inputs[self.position])
            watched.register_hook(self._input_ready)
            self.inputs = inputs[:self.position] + (watched,) + inputs[self.position + 1:]

    def watch_output(self, output: Any) -> Any:
        """Hook the call's output, once the forward has made it; the output the call returns. Where the output
        already has hooks (another watched call's) or is the input handed back, the call returns a view of it, as
        PyTorch returns a new tensor there, so that the hooks run in PyTorch's order: a ``Sequential`` and its last
        layer (the outer call's first), a module that hands its input back (``Identity``, ``Dropout`` in
        evaluation: the output's hooks before the input's, with ∂L/∂output in hand)."""
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{self.name}: a full backward hook in glassgrad takes a module that returns one "
                               f"tensor, and this one returned {type(output).__name__}; hook the output tensors "
                               "themselves (tensor.register_hook) instead")
        if output.requires_grad:
            if id(output) in HOOKS:  # hooked already: another call's output, or the input view handed back
                output = output.view_as(output)  # an output of its own
            register(output, NodeHook(self._output_ready), HOOKS)  # after hooks the caller adds to it
        return output

    def _output_ready(self, grad: Tensor) -> Tensor:
        grad_output = (grad,)
        for hook in list(self.module._backward_pre_hooks.values()):
            replaced = hook(self.module, grad_output)
            if replaced is not None:
                grad_output = self._checked(hook, replaced, 1, "grad_output")
        self.grad_output = grad_output
        if self.position is None:  # nothing flows into an input: the hooks learn that now, as PyTorch says
            warn_at_learners_line("Full backward hook is firing when gradients are computed with respect to module "
                                  "outputs since no inputs require gradients. See the documentation of "
                                  "torch.nn.Module.register_full_backward_hook for more details.")
            self._call_hooks([None] * self.size)
        return _or_zeros(grad_output[0], grad)

    def _input_ready(self, grad: Tensor) -> Tensor:
        grads = [value.new_zeros(value.shape) if isinstance(value, Tensor) else None for value in self.inputs]
        grads[self.position] = grad
        return _or_zeros(self._call_hooks(grads)[self.position], grad)

    def _call_hooks(self, grads: list) -> list:
        for hook in list(self.module._backward_hooks.values()):
            replaced = hook(self.module, tuple(grads), self.grad_output)
            if replaced is not None:
                grads = list(self._checked(hook, replaced, self.size, "grad_input"))
        return grads

    def _checked(self, hook: Any, replaced: Any, size: int, what: str) -> tuple:
        replaced = replaced if isinstance(replaced, tuple) else (replaced,)
        if len(replaced) != size:
            name = getattr(hook, "__name__", type(hook).__name__)
            raise RuntimeError(f"{self.name}: backward hook '{name}' returned {len(replaced)} {what} entries, but "
                               f"expected {size}; return a tuple with one entry per {what} (None keeps it)")
        return replaced


def _or_zeros(replaced: Tensor | None, grad: Tensor) -> Tensor:
    """The gradient a hook's entry leaves: a None entry replaces it by nothing, as in PyTorch, which here is zeros
    (a tensor hook's None would keep the gradient as it was)."""
    return grad.new_zeros(grad.shape) if replaced is None else replaced
