"""``checkpoint(function, *args)`` (PyTorch's ``torch.utils.checkpoint``): memory for time.

Backward needs what the forward saved (a ReLU's output, a product's inputs), and a deep network
keeps all of it until ``backward()``. A checkpointed segment keeps none of its own: the forward
runs ``function`` once and keeps only what goes in and what comes out; ``backward`` runs it
again, with the same random stream (a dropout mask comes out the same), and sends ∂L/∂out
through the graph of that second run to every tensor θ the segment reads that requires grad
(its arguments, the parameters it closes over, tensors made before it)::

    ∂L/∂θ = (∂out/∂θ)ᵀ · ∂L/∂out        (the segment's graph, made again)

So the memory a segment holds between forward and backward is its outputs, and the backward
costs one more forward of each segment.

>>> import glassgrad as gg
>>> from glassgrad.utils.checkpoint import checkpoint
>>> layer = gg.nn.Linear(3, 3, seed=0)
>>> x = gg.ones(2, 3, requires_grad=True)
>>> y = checkpoint(lambda h: layer(h).tanh(), x, use_reentrant=False)
>>> y.grad_fn.name
'checkpoint'
>>> y.sum().backward(); layer.weight.grad.shape
Size([3, 3])

Checked, not assumed: the second run must give the very numbers of the first (a draw from a
generator other than glassgrad's own, or an input changed in place since, would not); if not,
backward stops with a one-line error instead of a wrong gradient, and a tensor that requires grad
changed in place is refused as for any saved tensor. ``use_reentrant=True`` keeps PyTorch's
quirk: when no argument requires grad the segment gets no gradient at all (PyTorch warns, and so
does glassgrad); ``use_reentrant=False`` (PyTorch's advice) has none. Left out, it is True, with PyTorch's
warning that it should be given (the two differ, as above). Both work with
``autograd.grad`` and ``create_graph``. While a trace records (``gg.trace``), the segment runs
plainly, so that the trace shows its ops; a compiled step containing one runs eagerly.

``context_fn`` (``use_reentrant=False`` only, as PyTorch) is called once per call and returns two context
managers: the forward runs inside the first, the second run in backward inside the second. ``debug`` is taken and
changes nothing (the check above already names the problem). ``saved_tensors_hooks`` around a checkpoint are
not handed what the segment's ops save in its first run (the segment keeps none of it); PyTorch hands them the
segment's tensor inputs instead (one pack per input), which glassgrad's node keeps as they are, unpacked. With
``use_reentrant=False`` an output the segment did not make (an argument returned as it is) comes back as that very
tensor, as PyTorch's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numpy as np

from ..autograd import (
    BACKWARD_PASS,
    TICKS,
    current_tape,
    enable_grad,
    is_grad_enabled,
    no_grad,
    note_unreplayable,
    watched_by,
)
from ..creation import default_generator
from ..gradient_walk import gradients
from ..graph import record
from ..ops import Op, register
from ..saved_tensors import outer_hooks_paused
from ..settings import warn_at_learners_line
from ..tensor import Tensor

__all__ = ["checkpoint", "checkpoint_sequential"]


class _Segment:
    """What a checkpointed call keeps: how to run it again, and what the first run gave."""

    def __init__(self, function: Callable, args: tuple, kwargs: dict, boundary: tuple, outputs: list,
                 random_state: Any, recompute_context: AbstractContextManager) -> None:
        self.function, self.args, self.kwargs = function, args, kwargs
        self.recompute_context = recompute_context  # context_fn's second context: the second run runs inside it
        self.boundary = boundary  # the tensors it reads that require grad, made before it: the node's parents
        self.values = [output.array if isinstance(output, Tensor) else None for output in outputs]
        self.random_state = random_state
        self.rerun: tuple[int, list] | None = None  # (the backward pass it served last, the second run's outputs)

    def again(self, position: int, up: Any, create_graph: bool) -> list:
        """∂(up · output ``position``)/∂(each boundary tensor), from a second run of the segment: one run per
        backward pass, as PyTorch's, however many of its outputs get a gradient (each output is a node; the second
        run, made for the first of them, is kept for the others of the same pass, which follow it with no other
        backward pass in between; a BatchNorm inside updates its statistics once)."""
        kept = self.rerun
        outputs = kept[1] if kept is not None and kept[0] == BACKWARD_PASS[0] else self._run_again()
        output = outputs[position]
        if not isinstance(output, Tensor) or not np.array_equal(output.array, self.values[position], equal_nan=True):
            raise RuntimeError(
                "checkpoint: running the segment again in backward gave other numbers than its forward (a random "
                "draw from a generator other than glassgrad's own, or a tensor it reads changed since); keep its "
                "inputs unchanged until backward, draw from the default generator, or do not checkpoint it")
        seed = up if create_graph else np.asarray(up)
        found = gradients((output,), (seed,), self.boundary, create_graph, True)  # the run's graph kept for the others
        self.rerun = (BACKWARD_PASS[0], outputs)  # the pass number after this one's own walk of the run's graph
        return found

    def _run_again(self) -> list:
        """The segment's outputs, computed again with the random stream of its first run."""
        generator = default_generator.numpy_generator
        now = generator.bit_generator.state
        try:
            with watched_by(None):  # the second run is the engine's own work, not the learner's steps
                if self.random_state is not None:
                    generator.bit_generator.state = self.random_state
                with enable_grad(), self.recompute_context:
                    return _flat(self.function(*self.args, **self.kwargs))
        finally:
            generator.bit_generator.state = now


def _checkpoint_forward(*args: Any) -> tuple:  # never called: a checkpoint's node is made by checkpoint() itself
    raise RuntimeError("checkpoint's row has no forward of its own; call glassgrad.utils.checkpoint.checkpoint")


def _checkpoint_back(up: np.ndarray, saved: tuple) -> tuple:
    segment, position = saved
    return tuple(segment.again(position, up, create_graph=False))


def _checkpoint_vjp(up: Any, inputs: tuple, out: Any, saved: tuple) -> tuple:
    segment, position = saved
    return tuple(segment.again(position, up, create_graph=True))


CHECKPOINT = register(Op(
    "checkpoint", "out = f(inputs), f's intermediates not kept: recomputed in backward",
    ("(∂out/∂{inputs})ᵀ·{up}, through f run again",), _checkpoint_forward, _checkpoint_back, kind="custom",
    roles=("inputs",), written="f({inputs})", vjp_tensors=_checkpoint_vjp,
    saves=lambda saved: tuple((position,) for position in range(len(saved[0].boundary))),
))


_REENTRANT_BY_DEFAULT = ("Left out, it is True here, as in PyTorch 2.13 (which will raise in a later version): "
                         "use_reentrant=False is recommended")


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None, context_fn: Any = None,
               determinism_check: str = "default", debug: bool = False, preserve_rng_state: bool = True,
               **kwargs: Any) -> Any:
    """``function(*args, **kwargs)``, its intermediates recomputed in backward instead of kept (see the module).

    ``function`` returns a tensor, or a tuple or list of them (other values pass through).
    """
    if use_reentrant is None:
        warn_at_learners_line(f"torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
                              f"{_REENTRANT_BY_DEFAULT}")
        use_reentrant = True
    if use_reentrant and kwargs:
        raise ValueError(f"checkpoint: keyword arguments for the function ({', '.join(kwargs)}) need "
                         "use_reentrant=False, as in PyTorch")
    if use_reentrant and (context_fn is not None or debug):
        raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False (as in PyTorch): "
                         "pass use_reentrant=False")
    if determinism_check not in ("default", "none"):
        raise ValueError(f"checkpoint: determinism_check must be 'default' or 'none', got {determinism_check!r}")
    forward_context, recompute_context = _contexts(context_fn)
    with forward_context:
        return _checkpointed(function, args, kwargs, use_reentrant, preserve_rng_state, recompute_context)


def _contexts(context_fn: Callable | None) -> tuple[AbstractContextManager, AbstractContextManager]:
    """``context_fn()``'s two context managers (the forward's, the second run's), checked; two plain ones if None."""
    if context_fn is None:
        return nullcontext(), nullcontext()
    contexts = context_fn()
    if not (isinstance(contexts, tuple) and len(contexts) == 2
            and all(hasattr(context, "__enter__") and hasattr(context, "__exit__") for context in contexts)):
        raise TypeError("checkpoint: context_fn must return a pair of context managers (the forward's, the "
                        f"recomputation's), got {type(contexts).__name__}: return e.g. (nullcontext(), nullcontext())")
    return contexts


def _checkpointed(function: Callable, args: tuple, kwargs: dict, use_reentrant: bool, preserve_rng_state: bool,
                  recompute_context: AbstractContextManager) -> Any:
    """:func:`checkpoint` once its arguments are checked: the segment run, and its outputs' node made."""
    if not is_grad_enabled():
        return function(*args, **kwargs)
    if use_reentrant and not any(isinstance(arg, Tensor) and arg.requires_grad for arg in args):
        warn_at_learners_line("None of the inputs have requires_grad=True. Gradients will be None (checkpoint with "
                              "use_reentrant=True gives the segment no gradient then, as in PyTorch); pass "
                              "use_reentrant=False")
        with no_grad():
            return function(*args, **kwargs)
    if current_tape() is not None:  # a trace shows the segment's ops; a compiled step cannot replay the rerun
        note_unreplayable("checkpoint runs its segment again in backward")
        return function(*args, **kwargs)
    random_state = default_generator.numpy_generator.bit_generator.state if preserve_rng_state else None
    start = next(TICKS)
    with enable_grad(), outer_hooks_paused():  # what the run saves is dropped: not for the hooks around it
        result = function(*args, **kwargs)
    outputs = _flat(result)
    boundary = _boundary([output for output in outputs if isinstance(output, Tensor)], start)
    if not boundary:
        return result
    segment = _Segment(function, args, kwargs, boundary, outputs, random_state, recompute_context)
    made = [output if not (isinstance(output, Tensor) and output._requires_grad)
            or (not use_reentrant and (output._op is None or output._clock < start)) else  # not the segment's own
            record(output._plain(output.array), CHECKPOINT, boundary, (segment, position), ())
            for position, output in enumerate(outputs)]
    return made[0] if isinstance(result, Tensor) else type(result)(made)


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """``functions`` (an ``nn.Sequential`` or a list of callables) applied in turn to ``input``, cut into
    ``segments`` runs of ``len(functions) // segments`` steps; each run but the last is a :func:`checkpoint`
    (the last one, whose outputs backward needs at once, runs plainly), as PyTorch cuts them.

    ``kwargs``: ``preserve_rng_state`` (the only other keyword PyTorch's takes) and the rest of :func:`checkpoint`'s.
    """
    if use_reentrant is None:
        warn_at_learners_line(f"torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be "
                              f"passed explicitly. {_REENTRANT_BY_DEFAULT}")
        use_reentrant = True
    unexpected = set(kwargs) - {"preserve_rng_state", "determinism_check", "context_fn", "debug"}
    if unexpected:
        raise ValueError(f"Unexpected keyword arguments: {','.join(sorted(unexpected))} (checkpoint_sequential takes "
                         "preserve_rng_state and checkpoint's own options, not the functions' keywords)")
    steps = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not isinstance(segments, int):
        raise TypeError(f"checkpoint_sequential: segments must be an int, got {type(segments).__name__}")
    if not 1 <= segments <= max(len(steps), 1):
        raise ValueError(f"checkpoint_sequential: segments must be a whole number from 1 to the number of "
                         f"functions ({len(steps)}), got {segments!r}")
    size = len(steps) // segments

    def run(first: int, end: int) -> Callable:
        def segment(value: Any) -> Any:
            for step in steps[first:end]:
                value = step(value)
            return value

        return segment

    for start in range(0, size * (segments - 1), size):
        input = checkpoint(run(start, start + size), input, use_reentrant=use_reentrant, **kwargs)
    last = size * (segments - 1)
    return run(last, len(steps))(input)


def _flat(result: Any) -> list:
    """The function's outputs: itself if a tensor, the items of a tuple or list."""
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _boundary(outputs: list, start: int) -> tuple:
    """The tensors that require grad, made before tick ``start`` (leaves included), that ``outputs`` were made from."""
    found, seen, stack = [], set(), list(outputs)
    while stack:
        tensor = stack.pop()
        if id(tensor) in seen or not tensor._requires_grad:
            continue
        seen.add(id(tensor))
        if tensor._op is None or tensor._clock < start:
            found.append(tensor)
        else:
            stack.extend(tensor._parents)
    return tuple(found)
