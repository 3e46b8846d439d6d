"""Module backward hooks: a layer's gradients, in and out, as ``backward`` computes them.

``module.register_full_backward_hook(hook)`` calls ``hook(module, grad_input, grad_output)``
during each backward pass through a call of that module: ``grad_output`` holds ∂L/∂output,
``grad_output`` holds ∂L/∂output for each entry of the output (one tensor, or a tuple: None for an entry that is
no tensor or got no gradient), ``grad_input`` ∂L/∂input for each positional argument: zeros for a tensor that
needs no gradient beside one that does (a mask), None for one that is no tensor, and all None when no input
requires grad (the data fed to the first layer), as PyTorch gives them. A returned tuple replaces ``grad_input``
(there: only None entries, else PyTorch's RuntimeError, as the gradients would go nowhere).
``register_full_backward_pre_hook(hook)`` calls ``hook(module, grad_output)`` before that; a
returned tuple replaces ``grad_output``. Both are PyTorch's; learners use them to watch gradients
shrink or blow up layer by layer.

How: each call of a hooked module gets a :class:`BackwardWatch`. An input that requires grad enters the module
through a view of itself, so the view's gradient is exactly what flows back *through this module* (the input may
be used elsewhere too); tensor hooks (:mod:`glassgrad.tensor_hooks`) on the output and on that view see the two
gradients; the output's runs after the hooks the caller adds to it, so ``grad_output`` is their result, as in
PyTorch. Where the output is already another watched call's (a ``Sequential`` and its last layer) or the input
handed back (``Identity``), the call returns a view of it, as PyTorch returns a new tensor, so that each call's
hooks sit on an output of its own. Where several inputs require grad (attention's query, key and value), or
several output tensors do (a GRU's output and last state), they pass through one :class:`_Watched` step instead,
whose backward has all their gradients at once, as PyTorch's ``BackwardHookFunction``. An output that is neither
a tensor nor a tuple (a list, a dict) is not watched, and the hooks are not called, with PyTorch's warning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..autograd import is_grad_enabled
from ..creation import zeros
from ..custom_function import Function
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from ..tensor_hooks import HOOKS, NodeHook, register


class BackwardWatch:
    """One call of a module with backward hooks: finds its inputs, then hooks its outputs (:meth:`watch_output`)."""

    def __init__(self, module: Any, inputs: tuple) -> None:
        self.module = module
        self.name = type(module).__name__
        self.needing = [position for position, value in enumerate(inputs)  # under no_grad() nothing is recorded:
                        if isinstance(value, Tensor) and value.requires_grad and is_grad_enabled()]  # nothing to watch
        self.grad_output: tuple | None = None  # until the output's gradients come (if they ever do)
        self.output_size = 1
        # what the hooks need of the inputs, never the tensors: a hook on the watched input holds this watch, and
        # through it the input would hold itself (in HOOKS, a global table: kept, with its graph, for good)
        self.blanks = [(value.shape, value.dtype) if isinstance(value, Tensor) else None for value in inputs]
        self.arguments: tuple | None = inputs  # for the forward, given once (arguments_for_forward)
        if len(self.needing) == 1:
            watched = (inputs[self.needing[0]].view_as(inputs[self.needing[0]]),)
            watched[0].register_hook(lambda grad: self._inputs_ready((grad,))[0])
        elif self.needing:
            watched = _Watched.apply(self._inputs_ready, True, *(inputs[position] for position in self.needing))
        else:
            return
        arguments = list(inputs)
        for position, value in zip(self.needing, watched):
            arguments[position] = value
        self.arguments = tuple(arguments)

    def arguments_for_forward(self) -> tuple:
        """The call's arguments, the watched inputs in place of the given ones: handed over, not kept."""
        arguments, self.arguments = self.arguments, None
        return arguments

    def watch_output(self, output: Any) -> Any:
        """Hook the call's output (a tensor, or a tuple: its tensors that require grad), once the forward has made
        it; the output the call returns. The hooks run after those the caller adds to what it got, as PyTorch runs
        them. One tensor is hooked itself; where it already has hooks (another watched call's) or is the input
        handed back, the call returns a view of it, as PyTorch returns a new tensor there, so that the hooks run in
        PyTorch's order: a ``Sequential`` and its last layer (the outer call's first), a module that hands its input
        back (``Identity``, ``Dropout`` in evaluation: the output's hooks before the input's, with ∂L/∂output in
        hand). Several go through one :class:`_Watched` step, whose backward has all their gradients at once."""
        if not isinstance(output, (Tensor, tuple)):  # a list, a dict: not hooked, and the hooks are not called
            warn_at_learners_line("For backward hooks to be called, module output should be a Tensor or a tuple of "
                                  f"Tensors but received {type(output)}")
        outputs = output if isinstance(output, tuple) else (output,)
        self.output_size = len(outputs)
        self.output_positions = [position for position, value in enumerate(outputs)
                                 if isinstance(value, Tensor) and value.requires_grad]
        if len(self.output_positions) == 1:
            hooked = outputs[self.output_positions[0]]
            if id(hooked) in HOOKS or hooked._op is None:  # hooked already: another call's output, or the input
                hooked = hooked.view_as(hooked)  # view handed back; or a leaf (a walk runs no NodeHook of a leaf)
            register(hooked, NodeHook(lambda grad: self._outputs_ready((grad,))[0]), HOOKS)  # after the caller's
            watched: Any = (hooked,)
        elif self.output_positions:
            watched = _Watched.apply(self._outputs_ready, False, *(outputs[p] for p in self.output_positions))
        else:
            return output
        returned = list(outputs)
        for position, value in zip(self.output_positions, watched):
            returned[position] = value
        return tuple(returned) if isinstance(output, tuple) else returned[0]

    def _outputs_ready(self, grads: tuple) -> tuple:
        """The pre-hooks and, when no input requires grad, the full hooks, given ∂L/∂output of each output that
        requires grad (None for one that got none); the gradients they leave."""
        grad_output = tuple(_packed(grads, self.output_positions, [None] * self.output_size))
        for hook in list(self.module._backward_pre_hooks.values()):
            replaced = hook(self.module, grad_output)
            if replaced is not None:
                grad_output = self._checked(hook, replaced, self.output_size, "grad_output")
        self.grad_output = grad_output
        if not self.needing:  # nothing flows into an input: the hooks learn that now, as PyTorch says
            warn_at_learners_line("Full backward hook is firing when gradients are computed with respect to module "
                                  "outputs since no inputs require gradients. See the documentation of "
                                  "torch.nn.Module.register_full_backward_hook for more details.")
            self._call_hooks([None] * len(self.blanks))
        return tuple(_or_zeros(grad_output[position], grad) for position, grad in zip(self.output_positions, grads))

    def _inputs_ready(self, grads: tuple) -> tuple:
        """The full hooks, given ∂L/∂input of each input that requires grad; the gradients they leave (the ones
        given, the hooks not called, where no gradient came through the call's outputs, as in PyTorch)."""
        if self.grad_output is None:
            return grads
        others = [None if blank is None else zeros(blank[0], dtype=blank[1]) for blank in self.blanks]
        found = self._call_hooks(_packed(grads, self.needing, others))
        return tuple(_or_zeros(found[position], grad) for position, grad in zip(self.needing, grads))

    def _call_hooks(self, grads: list) -> list:
        for hook in list(self.module._backward_hooks.values()):
            replaced = hook(self.module, tuple(grads), self.grad_output)
            if replaced is not None:
                grads = list(self._checked(hook, replaced, len(self.blanks), "grad_input"))
                if not self.needing and any(grad is not None for grad in grads):  # nowhere for them to go
                    raise RuntimeError(f"{self.name}: a full backward hook returned gradients for the inputs, but no "
                                       "input of this call requires grad; return None (or a tuple of None) there")
        return grads

    def _checked(self, hook: Any, replaced: Any, size: int, what: str) -> tuple:
        """A hook's non-None return as a tuple of ``size`` gradients: a tuple or a list (PyTorch takes any sequence
        of the right length), or a lone tensor for a one-entry ``what``."""
        replaced = tuple(replaced) if isinstance(replaced, (tuple, list)) else (replaced,)
        if len(replaced) != size:
            name = getattr(hook, "__name__", type(hook).__name__)
            raise RuntimeError(f"{self.name}: backward hook '{name}' returned {len(replaced)} {what} entries, but "
                               f"expected {size}; return a tuple with one entry per {what} (None keeps it)")
        return replaced


class _Watched(Function):
    """Several tensors of one call (its inputs, or its outputs, that require grad), passed on as they are; its
    backward hands all their gradients at once to ``ready`` (the call's hooks) and passes on what it returns, as
    PyTorch's ``BackwardHookFunction``. ``materialize``: zeros for a tensor that got no gradient (an input), else
    None (an output the loss does not use, as PyTorch's ``grad_output`` has it)."""

    @staticmethod
    def forward(ctx: Any, ready: Callable[[tuple], tuple], materialize: bool, *tensors: Tensor) -> tuple:
        ctx.ready = ready
        ctx.set_materialize_grads(materialize)
        return tensors

    @staticmethod
    def backward(ctx: Any, *grads: Tensor | None) -> tuple:
        return (None, None, *ctx.ready(grads))


def _packed(grads: tuple, positions: list[int], others: list) -> list:
    """``others`` (one entry per input, or per output) with ``grads`` put at ``positions``."""
    packed = list(others)
    for position, grad in zip(positions, grads):
        packed[position] = grad
    return packed


def _or_zeros(replaced: Tensor | None, grad: Tensor | None) -> Tensor | None:
    """The gradient a hook's entry leaves: a None entry replaces it by nothing, as in PyTorch, which here is zeros
    (a tensor hook's None would keep the gradient as it was); None where there was no gradient."""
    return grad.new_zeros(grad.shape) if replaced is None and grad is not None else replaced
