"""PyTorch's ``torch.func`` names that glassgrad's engine can give: ``functional_call``, ``grad``,
``grad_and_value``.

* ``functional_call(model, {"0.weight": w, …}, args)`` runs ``model`` as if those tensors were its
  parameters and buffers, for this call only: the gradient then flows into the given tensors (a
  meta-learning inner step, weights computed by another network). The model's own tensors come back
  afterwards, also when the call raises.
* ``grad(f)(x, …)`` is the gradient of ``f`` (which returns one number) with respect to argument
  ``argnums``, made by one backward pass (:func:`glassgrad.autograd.grad`); ``grad_and_value`` also
  returns ``f``'s value (and, with ``has_aux=True``, ``f``'s second output, untouched).

>>> import glassgrad as gg
>>> gg.func.grad(lambda x: (x ** 2).sum())(gg.tensor([1.0, 3.0]))
tensor([2., 6.])

``vmap`` and the other transforms are not provided: the engine has no batching rule per op.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .gradients import grad as _gradients
from .tensor import Tensor


def functional_call(module: Any, parameter_and_buffer_dicts: Mapping[str, Tensor] | tuple, args: Any = (),
                    kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True, strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named tensors standing in for its parameters and buffers."""
    given: dict[str, Tensor] = {}
    for part in (parameter_and_buffer_dicts if isinstance(parameter_and_buffer_dicts, tuple)
                 else (parameter_and_buffer_dicts,)):
        for name, value in part.items():
            if name in given:
                raise ValueError(f"functional_call: {name!r} appears in more than one of the dicts; give it once")
            given[name] = value
    owners = {}
    for name, value in given.items():
        path, _, attribute = name.rpartition(".")
        owner = module.get_submodule(path)
        registry = owner._parameters if attribute in owner._parameters else owner._buffers
        if attribute not in registry:
            raise AttributeError(f"functional_call: {type(module).__name__} has no parameter or buffer {name!r}; "
                                 "its names are those of named_parameters() and named_buffers()")
        if not isinstance(value, Tensor):
            raise TypeError(f"functional_call: {name!r} must be a Tensor, got {type(value).__name__}")
        owners[name] = (owner, registry, attribute)
    if strict:
        missing = [name for name, _ in (*module.named_parameters(), *module.named_buffers()) if name not in given]
        if missing:
            raise RuntimeError(f"functional_call(strict=True): no tensor given for {', '.join(missing)}")
    originals = {name: registry[attribute] for name, (_, registry, attribute) in owners.items()}
    try:
        for name, (owner, registry, attribute) in owners.items():
            registry[attribute] = given[name]
            object.__setattr__(owner, attribute, given[name])  # the forward reads the attribute
        call_args = args if isinstance(args, tuple) else (args,)
        return module(*call_args, **(kwargs or {}))
    finally:
        for name, (owner, registry, attribute) in owners.items():
            registry[attribute] = originals[name]
            object.__setattr__(owner, attribute, originals[name])


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """A function returning ``(∂f/∂args[argnums], f(args))`` (with ``has_aux``: ``(gradient, (value, aux))``)."""
    def transformed(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        inputs = list(args)
        for position in positions:
            if not isinstance(inputs[position], Tensor):
                raise TypeError(f"grad: argument {position} must be a Tensor to differentiate with respect to it, "
                                f"got {type(inputs[position]).__name__}")
            inputs[position] = inputs[position].detach().requires_grad_()
        result = func(*inputs, **kwargs)
        value, aux = (result[0], result[1]) if has_aux else (result, None)
        if not isinstance(value, Tensor) or value.numel() != 1:
            raise RuntimeError("grad: the function must return one Tensor with a single element (a loss)"
                               + (", then the aux output" if has_aux else "; sum or average it first"))
        found = _gradients(value, [inputs[p] for p in positions], allow_unused=True, materialize_grads=True)
        gradient = found[0] if isinstance(argnums, int) else tuple(found)
        return gradient, ((value.detach(), aux) if has_aux else value.detach())

    return transformed


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """A function returning ``∂f/∂args[argnums]`` (with ``has_aux``: ``(gradient, aux)``)."""
    both = grad_and_value(func, argnums, has_aux)

    def transformed(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return transformed
