"""PyTorch's ``torch.func``: functions that turn a function into its gradient, Jacobian, Hessian or batched form.

* ``functional_call(model, {"0.weight": w, …}, args)`` runs ``model`` as if those tensors were its
  parameters and buffers, for this call only: the gradient then flows into the given tensors (a
  meta-learning inner step, weights computed by another network). The model's own tensors come back
  afterwards, also when the call raises.
* ``grad(f)(x, …)`` is ``∂f/∂args[argnums]`` for an ``f`` giving one number, made by one backward pass
  (:func:`glassgrad.autograd.grad`); ``grad_and_value`` also returns ``f``'s value.
* ``jacrev(f)(x)`` and ``jacfwd(f)(x)``: every ``∂yᵢ/∂xⱼ``, shape ``y.shape + x.shape``: ``jacrev`` one backward
  pass per entry of ``y`` (rows ``eᵢᵀJ``), ``jacfwd`` one column ``J·eⱼ`` per entry of ``x`` by the double-backward
  trick (:mod:`glassgrad.jacobians`), so each gives PyTorch's numbers also where the function is not
  differentiable (``sqrt(x·x)`` at an entry x₀ = 0: forward mode gives NaN along the Jacobian's row 0, reverse
  mode down its column 0) and where forward mode's rule is not the backward's transpose (a write at a repeated
  index).
* ``hessian(f)(x)``: ``∂²f/∂xᵢ∂xⱼ``, the Jacobian of the Jacobian (``jacfwd(jacrev(f))``, as in PyTorch).
* ``vjp(f, x)`` gives ``(f(x), vjp_fn)`` with ``vjp_fn(v) = (vᵀJ,)``; ``jvp(f, (x,), (v,))`` gives
  ``(f(x), J·v)`` (by the double-backward trick of :func:`glassgrad.jacobians.jvp`).
* ``linearize(f, x)`` gives ``(f(x), jvp_fn)`` with ``jvp_fn(v) = J·v`` at ``x`` (each call one ``jvp``).
* ``vmap(f)``: ``f`` run over a batch (:mod:`glassgrad.batching`); ``stack_module_state(models)`` stacks the
  parameters of several models of one class, to run them as an ensemble under ``vmap``;
  ``replace_all_batch_norm_modules_(model)`` makes its batch norm layers keep no running statistics, for ``vmap``.

>>> import glassgrad as gg
>>> gg.func.grad(lambda x: (x ** 2).sum())(gg.tensor([1.0, 3.0]))
tensor([2., 6.])
>>> gg.func.jacrev(lambda x: x ** 2)(gg.tensor([1.0, 3.0]))
tensor([[2., 0.],
        [0., 6.]])

As in PyTorch: the argument at ``argnums`` (an int, or a tuple giving a tuple of results) may be a tensor or a
tuple/list/dict of tensors (a model's parameters, for ``functional_call``), and the result has its structure;
a function returning several outputs (a tuple/list/dict) gets one Jacobian per output; ``has_aux=True`` means
``f`` returns ``(output, aux)`` and the transform returns ``aux`` alongside (detached as the results are, see
below: PyTorch's aux is outside the transform's graph too). The transforms compose
(``grad(grad(f))``, ``jacrev(jacrev(f))``, ``vmap(grad(f))``): when an argument already requires grad, or ``f``
reads another tensor that does (the weights of a network it closes over), the result stays in the graph
(computed with ``create_graph=True``) so an outer transform or ``backward`` can differentiate it again;
otherwise results are plain tensors. ``f`` runs with gradient tracking on, also under ``no_grad``; a
``backward()`` inside ``f`` is refused, as PyTorch refuses it (the transform differentiates ``f`` itself).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any

from .autograd import differentiated_twice, enable_grad, is_grad_enabled, running_transform, topological_order
from .batching import RANDOMNESS, vmap
from .creation import zeros_like
from .custom_function import tangents_by_jvp
from .forward_ad import check_floating
from .functions import stack
from .gradient_walk import Outputs
from .jacobians import _inputs, _jacobian_of, _product, _tangents, jacobian_by_columns
from .nn.utils.parametrize import is_parametrized
from .pytree import describe, flatten, unflatten
from .tensor import Tensor

__all__ = ["functional_call", "grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "jvp", "linearize",
           "replace_all_batch_norm_modules_", "stack_module_state", "vjp", "vmap"]


def functional_call(module: Any, parameter_and_buffer_dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
                    args: Any = (), kwargs: dict[str, Any] | None = None, *, tie_weights: bool = True,
                    strict: bool = False) -> Any:
    """``module(*args, **kwargs)`` with the named tensors standing in for its parameters, buffers and tensor
    attributes (a dict, or a list or tuple of dicts). With ``tie_weights`` (the default, as PyTorch's) a tensor
    given for a tied parameter (``dec.weight = enc.weight``, listed once by ``named_parameters()``) stands in
    wherever the module holds that parameter. ``strict=True`` wants a tensor for every name of
    ``named_parameters(remove_duplicate=False)`` and ``named_buffers(remove_duplicate=False)`` and no other.

    As in PyTorch, a tensor the forward puts in place of a given one (``self.count = self.count + 1``, where an
    in-place ``+=`` would change the given tensor itself) is written back into the dict given, when one dict is.

    A name the module has nowhere is refused, also when ``strict=False``: PyTorch would set it as a new attribute
    for this call, so a misspelt name would leave the module's own tensor in use without a word."""
    given = _merged(parameter_and_buffer_dicts)
    if tie_weights:
        given = _untied(module, given)
    if strict:
        _check_every_name_given(module, given)
    swaps = {name: _place(module, name, value) for name, value in given.items()}
    try:
        for place, attribute, value, _ in swaps.values():
            _put(place, attribute, value)
        call_args = args if isinstance(args, tuple) else (args,)
        return module(*call_args, **(kwargs or {}))
    finally:
        after = {name: _get(place, attribute) for name, (place, attribute, _, _) in swaps.items()}
        for place, attribute, _, original in swaps.values():
            _put(place, attribute, original)
        if isinstance(parameter_and_buffer_dicts, MutableMapping):
            parameter_and_buffer_dicts.update({name: after[name] for name in parameter_and_buffer_dicts})


def _merged(dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]]) -> dict[str, Tensor | None]:
    """The name → tensor pairs of one dict, or of a list or tuple of dicts (a name may come in one of them)."""
    parts = dicts if isinstance(dicts, (list, tuple)) else (dicts,)
    given: dict[str, Tensor | None] = {}
    for part in parts:
        if not isinstance(part, Mapping):  # PyTorch's class for this: ValueError
            raise ValueError("functional_call: give the tensors as a dict of name → tensor, or a list or tuple of "
                             f"such dicts, got {type(part).__name__}")
        for name, value in part.items():
            if name in given:
                raise ValueError(f"functional_call: {name!r} appears in more than one of the dicts; give it once")
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"functional_call: {name!r} must be a Tensor (or None), got {type(value).__name__}")
            given[name] = value
    return given


def _named_tensors(module: Any) -> list[tuple[str, Tensor]]:
    """Every name under which ``module`` holds a parameter or a buffer, a tied one under each of its names."""
    return [*module.named_parameters(remove_duplicate=False), *module.named_buffers(remove_duplicate=False)]


def _untied(module: Any, given: dict[str, Tensor | None]) -> dict[str, Tensor | None]:
    """``given`` with each tensor also under the other names of the tensor it stands for (a tied weight); two
    names given different tensors for one tied tensor are refused, as PyTorch refuses them."""
    names_of: dict[int, list[str]] = {}  # id of a tensor of the module → every name it is held under
    for name, tensor in _named_tensors(module):
        names_of.setdefault(id(tensor), []).append(name)
    tied = {name: names for names in names_of.values() if len(names) > 1 for name in names}
    untied = dict(given)
    for name in given:
        for other in tied.get(name, ()):
            if other in given and given[other] is not given[name]:
                raise ValueError(f"functional_call got different tensors for {name!r} and {other!r}, which are "
                                 "tied (one tensor in the module); give one of them, or pass tie_weights=False")
            untied[other] = given[name]
    return untied


def _check_every_name_given(module: Any, given: dict[str, Tensor | None]) -> None:
    """``strict=True``: a tensor for every name the module holds a parameter or buffer under, and for no other."""
    names = {name for name, _ in _named_tensors(module)}
    missing, unexpected = sorted(names - set(given)), sorted(set(given) - names)
    problems = ([f"no tensor given for {', '.join(missing)}"] if missing else []) + \
        ([f"{', '.join(unexpected)}: no parameter or buffer of {type(module).__name__}"] if unexpected else [])
    if problems:
        raise RuntimeError(f"functional_call(strict=True): {'; '.join(problems)}")


def _place(module: Any, name: str, value: Tensor | None) -> tuple[Any, str, Tensor | None, Any]:
    """Where ``name`` lives, as ``(registry or submodule, attribute, value, the tensor there now)``: the
    submodule's parameters or buffers, or else the submodule itself (a plain tensor attribute)."""
    path, _, attribute = name.rpartition(".")
    owner = module.get_submodule(path)
    for registry in (owner._parameters, owner._buffers):
        if attribute in registry:
            return registry, attribute, value, registry[attribute]
    if is_parametrized(owner, attribute):
        where = f"{path}.parametrizations.{attribute}" if path else f"parametrizations.{attribute}"
        raise RuntimeError(f"functional_call: {name!r} is computed by a parametrization of {type(owner).__name__}, so "
                           f"no tensor can stand in for it; pass {where}.original (original0, original1, ... for "
                           "several), which the parametrization is applied to")
    if attribute not in vars(owner):
        raise AttributeError(f"functional_call: {type(module).__name__} has no parameter, buffer or tensor attribute "
                             f"{name!r}; its names are those of named_parameters() and named_buffers() (glassgrad "
                             "refuses a name PyTorch would quietly add for the call: a misspelt one)")
    original = vars(owner)[attribute]
    if original is not None and not isinstance(original, Tensor):
        raise TypeError(f"functional_call: {name!r} is a {type(original).__name__} attribute of "
                        f"{type(owner).__name__}, not a tensor, so no tensor can stand in for it")
    return owner, attribute, value, original


def _get(place: Any, attribute: str) -> Tensor | None:
    """What a registry or a plain attribute holds now (the forward may have put another tensor there)."""
    return place[attribute] if isinstance(place, dict) else vars(place).get(attribute)


def _put(place: Any, attribute: str, value: Tensor | None) -> None:
    """``value`` into a registry (whose entries are also the module's attributes) or a plain attribute."""
    if isinstance(place, dict):
        place[attribute] = value
    else:
        object.__setattr__(place, attribute, value)


def stack_module_state(models: Sequence[Any]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """The parameters and the buffers of ``M`` models of one class, each name's tensors stacked into one of shape
    ``(M, *shape)``: with ``vmap(lambda p, b, x: functional_call(model, (p, b), (x,)), in_dims=(0, 0, None))`` an
    ensemble of models runs in one call. The stacked parameters are new leaves (requiring grad when the models'
    parameters do), so an optimizer can train them; they are not linked to the models' own tensors."""
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: give at least one model")
    if len({model.training for model in models}) > 1:
        raise RuntimeError("stack_module_state: the models must all be in training mode or all in eval mode; call "
                           ".train() or .eval() on each")
    if len({type(model) for model in models}) > 1:
        classes = ", ".join(sorted({type(model).__name__ for model in models}))
        raise RuntimeError(f"stack_module_state: the models must be of one class, got {classes}")
    return (_stacked_by_name([dict(model.named_parameters()) for model in models]),
            _stacked_by_name([dict(model.named_buffers()) for model in models]))


def replace_all_batch_norm_modules_(root: Any) -> Any:
    """``root`` with every batch norm layer in it (``root`` too) keeping no running statistics, in place, as
    PyTorch's: ``running_mean``, ``running_var`` and ``num_batches_tracked`` become None and ``track_running_stats``
    False, so each call normalises by its own batch's statistics, in training and in evaluation alike. ``vmap``
    over such a model then changes no buffer once per item."""
    from .nn.normalization import BatchNorm1d  # BatchNorm2d and 3d are its subclasses

    for module in root.modules():
        if isinstance(module, BatchNorm1d) and module.track_running_stats:
            module.running_mean = module.running_var = module.num_batches_tracked = None
            module.track_running_stats = False
    return root


def _stacked_by_name(states: list[dict[str, Tensor]]) -> dict[str, Tensor]:
    stacked = {}
    for name in states[0]:
        if any(name not in state for state in states):
            raise RuntimeError(f"stack_module_state: {name} is missing from some of the models; they must have the "
                               "same parameters and buffers")
        tensors = [state[name] for state in states]
        requiring = {tensor.requires_grad for tensor in tensors}
        if len(requiring) > 1:
            raise RuntimeError(f"stack_module_state: {name} requires grad in some models and not in others; make "
                               "them agree with requires_grad_()")
        together = stack([tensor.detach() for tensor in tensors])
        stacked[name] = together.requires_grad_() if requiring == {True} else together
    return stacked


def grad_and_value(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """A function returning ``(∂f/∂args[argnums], f(args))`` (with ``has_aux``: ``(gradient, (value, aux))``)."""
    def transformed(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        inputs, leaves, groups, tracked = _leaves_for(args, argnums, "grad")
        with enable_grad(), running_transform("grad"):
            value, aux = _split(func(*inputs, **kwargs), has_aux, "grad")
            if not isinstance(value, Tensor) or value.numel() != 1:
                raise RuntimeError("grad: the function must return one Tensor with a single element (a loss)"
                                   + (", then the aux output" if has_aux else "; sum or average it first"))
        tracked = _recorded([value], leaves, tracked)
        gradients = _product((value,), tuple(leaves), None, tracked, False, "grad")
        gradient = _regrouped(gradients, groups, isinstance(argnums, int))
        value = _kept(value, tracked)
        return gradient, ((value, _kept(aux, tracked)) if has_aux else value)

    return transformed


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """A function returning ``∂f/∂args[argnums]`` (with ``has_aux``: ``(gradient, aux)``)."""
    both = grad_and_value(func, argnums, has_aux)

    def transformed(*args: Any, **kwargs: Any) -> Any:
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return transformed


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """A function returning ``∂f/∂args[argnums]``, shape ``output.shape + input.shape``: one backward pass per
    entry of the output. ``chunk_size`` is checked and changes nothing (the rows are computed one at a time)."""
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"jacrev: chunk_size must be None or a positive int, got {chunk_size!r}")
    return _jacobian(func, argnums, has_aux, "jacrev")


def jacfwd(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """A function returning ``∂f/∂args[argnums]`` as forward mode builds it, one column ``J·eᵢ`` per input entry
    (:func:`glassgrad.jacobians.jacobian_by_columns`: by the double-backward trick, one shared first pass, then one
    pass per input entry), so forward mode's rules give the numbers where they are not the backward's transpose (a
    write at a repeated index: the last wins), as in PyTorch. ``randomness`` is checked as ``vmap`` does and
    changes nothing."""
    if randomness not in RANDOMNESS:
        raise RuntimeError(f"jacfwd: randomness must be 'error', 'different' or 'same', got {randomness!r}")
    return _jacobian(func, argnums, has_aux, "jacfwd")


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """A function returning ``∂²f/∂xᵢ∂xⱼ`` for ``x = args[argnums]``: ``jacfwd(jacrev(f))``, so its shape is
    ``output.shape + x.shape + x.shape`` (``x.shape + x.shape`` for an ``f`` giving one number)."""
    return jacfwd(jacrev(func, argnums), argnums)


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(*primals), vjp_fn)``: ``vjp_fn(v)`` is ``vᵀJ`` for each primal (a tuple), ``v`` shaped like the output;
    one backward pass per call of ``vjp_fn``, which can be called again. With ``has_aux``: ``(output, vjp_fn, aux)``."""
    if not primals:
        raise RuntimeError("vjp: give at least one primal (the inputs to differentiate with respect to)")
    inputs, leaves, groups, tracked = _leaves_for(primals, tuple(range(len(primals))), "vjp")
    with enable_grad(), running_transform("vjp"):
        output, aux = _split(func(*inputs), has_aux, "vjp")
    flat_outputs, structure = _outputs(output, "vjp")
    tracked = _recorded(flat_outputs, leaves, tracked)

    def vjp_fn(cotangents: Any, *, retain_graph: bool = True, create_graph: bool | None = None) -> tuple:
        """``vᵀJ`` for ``v = cotangents``; ``create_graph=False`` gives it outside any graph (None: as recorded),
        ``retain_graph`` is PyTorch's keyword (the graph is kept either way, so vjp_fn can be called again)."""
        flat_cotangents, given = flatten(cotangents)
        if given != structure or any(not isinstance(cotangent, Tensor) or cotangent.shape != out.shape
                                     for cotangent, out in zip(flat_cotangents, flat_outputs)):
            expected = ", ".join(str(tuple(out.shape)) for out in flat_outputs)
            received = ", ".join(str(tuple(getattr(cotangent, "shape", ()))) for cotangent in flat_cotangents)
            raise RuntimeError(f"vjp: the cotangents must have the output's structure {describe(structure)} and "
                               f"shapes ({expected}); got {describe(given)} with shapes ({received})")
        with enable_grad():
            products = _product(tuple(flat_outputs), tuple(leaves), tuple(flat_cotangents),
                                tracked and create_graph is not False, False, "vjp")
        return _regrouped(products, groups, single=False)

    kept = _kept(output, tracked)
    return (kept, vjp_fn, _kept(aux, tracked)) if has_aux else (kept, vjp_fn)


def jvp(func: Callable, primals: tuple, tangents: tuple, *, has_aux: bool = False) -> tuple:
    """``(f(*primals), J·tangents)``, the Jacobian-vector product (with ``has_aux``: ``(output, J·v, aux)``).

    glassgrad has no forward mode: ``J·v`` is computed by :func:`glassgrad.jacobians.jvp`'s double-backward trick,
    in which a custom Function with a ``jvp`` gives its own (``autograd.functional.jvp`` differentiates its
    ``backward``, as PyTorch's).
    """
    flat_primals, structure = flatten(primals)
    flat_tangents, given = flatten(tangents)
    if not isinstance(primals, tuple) or not all(isinstance(primal, Tensor) for primal in flat_primals):
        raise RuntimeError("jvp: primals must be a tuple of Tensors, so that f(*primals) is the call; got "
                           f"{type(primals).__name__}")
    if not isinstance(tangents, tuple) or given != structure or not all(
            isinstance(tangent, Tensor) for tangent in flat_tangents):
        raise RuntimeError(f"jvp: tangents must be a tuple of Tensors shaped like primals, {describe(structure)}; "
                           f"got {describe(given) if isinstance(tangents, tuple) else type(tangents).__name__}")
    for tangent in flat_tangents:
        check_floating(tangent, "tangent", "jvp")
    tracked = is_grad_enabled() and any(tensor.requires_grad for tensor in (*flat_primals, *flat_tangents))
    leaves = _inputs(tuple(flat_primals), "jvp", tracked, forward=True)[1]
    with enable_grad(), running_transform("jvp"), differentiated_twice("jvp"):
        output, aux = _split(func(*unflatten(list(leaves), structure)), has_aux, "jvp")
        flat_outputs, out_structure = _outputs(output, "jvp")
    tracked = _recorded(flat_outputs, leaves, tracked)
    floating = tuple(out for out in flat_outputs if out.dtype.kind == "f")
    with enable_grad(), tangents_by_jvp():  # forward mode: a custom Function's own jvp, as PyTorch's torch.func
        moved = iter(_tangents(floating, leaves, tuple(flat_tangents), tracked, False) if floating else ())
    products = [next(moved) if out.dtype.kind == "f" else zeros_like(out) for out in flat_outputs]  # ints: tangent 0
    result = (_kept(unflatten(flat_outputs, out_structure), tracked), _kept(unflatten(products, out_structure),
                                                                          tracked))
    return (*result, _kept(aux, tracked)) if has_aux else result


def linearize(func: Callable, *primals: Any) -> tuple:
    """``(f(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is ``J·tangents`` at ``primals``, shaped like the output.

    Each call of ``jvp_fn`` is one :func:`jvp` (``f`` runs again; PyTorch keeps the linearised graph instead,
    with the same numbers).
    """
    flat_primals, structure = flatten(primals)
    at_zero = unflatten([zeros_like(primal) if isinstance(primal, Tensor) else primal for primal in flat_primals],
                        structure)
    output = jvp(func, primals, at_zero)[0]  # checks the primals as jvp does

    def jvp_fn(*tangents: Any) -> Any:
        for position, (primal, tangent) in enumerate(zip(flat_primals, flatten(tangents)[0])):
            if isinstance(tangent, Tensor) and tangent.dtype != primal.dtype:  # PyTorch's RuntimeError
                raise RuntimeError(f"linearize: tangent {position} has dtype {tangent.dtype}, its primal "
                                   f"{primal.dtype}; give tangents of the primals' dtypes (tangent.to(primal.dtype))")
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


# --- the pieces ------------------------------------------------------------------------------

def _leaves_for(args: tuple, argnums: Any, name: str) -> tuple[list, list, list, bool]:
    """The arguments with those at ``argnums`` made of fresh graph leaves; those leaves; each differentiated
    argument's structure and leaf count; and whether results stay in the graph (an argument requires grad)."""
    if not (isinstance(argnums, int) or isinstance(argnums, tuple) and all(isinstance(n, int) for n in argnums)):
        hint = f"; write argnums={tuple(argnums)!r}" if isinstance(argnums, list) else ""
        raise RuntimeError(f"{name}: argnums must be an int or a tuple of ints, got {argnums!r}{hint}")
    positions = (argnums,) if isinstance(argnums, int) else argnums
    for position in positions:
        if not -len(args) <= position < len(args):
            raise RuntimeError(f"{name}: argnums={argnums!r} names argument {position}, but the function was given "
                               f"{len(args)} positional argument(s)")
    positions = tuple(position % len(args) for position in positions)
    if not positions or len(set(positions)) != len(positions):
        raise RuntimeError(f"{name}: argnums must name each argument once and at least one, got {argnums!r}")
    tracked = is_grad_enabled() and any(isinstance(leaf, Tensor) and leaf.requires_grad for leaf in flatten(args)[0])
    inputs, leaves, groups = list(args), [], []
    for position in positions:
        flat, structure = flatten(args[position])
        if not flat or not all(isinstance(tensor, Tensor) for tensor in flat):
            raise ValueError(f"{name}: argument {position} must be a Tensor (or a tuple/list/dict of Tensors) to "
                            f"differentiate with respect to it, got {type(args[position]).__name__}")
        fresh = list(_inputs(tuple(flat), name, tracked, forward=name == "jacfwd")[1])
        inputs[position] = unflatten(fresh, structure)
        leaves.extend(fresh)
        groups.append((structure, len(fresh)))
    return inputs, leaves, groups, tracked


def _recorded(outputs: list, leaves: list, tracked: bool) -> bool:
    """Whether the results stay in the graph: an argument requires grad (``tracked``), or, gradients being recorded
    where the transform is called, the function read another tensor that does, such as the weights of a network it
    closes over (``vmap(grad(u))(xs)`` of a physics-informed net, then backward into the weights), as PyTorch's
    transforms keep theirs in its graph."""
    if tracked or not is_grad_enabled():
        return tracked
    own = set(leaves)
    return any(tensor.is_leaf and tensor not in own for tensor in topological_order(Outputs(tuple(outputs)))[1:])


def _jacobian(func: Callable, argnums: Any, has_aux: bool, name: str) -> Callable:
    """``jacrev``/``jacfwd``'s function: per output, ``∂output/∂args[argnums]`` in the arguments' structure."""
    def transformed(*args: Any, **kwargs: Any) -> Any:
        inputs, leaves, groups, tracked = _leaves_for(args, argnums, name)
        with enable_grad(), running_transform(name), differentiated_twice(name, name == "jacfwd"):
            output, aux = _split(func(*inputs, **kwargs), has_aux, name)
            flat_outputs, structure = _outputs(output, name)
        tracked = _recorded(flat_outputs, leaves, tracked)
        blocks = [_regrouped(jacobian_by_columns(out, tuple(leaves), tracked, name) if name == "jacfwd" else
                             _jacobian_of(out, tuple(leaves), tracked, False, name), groups, isinstance(argnums, int))
                  for out in flat_outputs]
        jacobians = unflatten(blocks, structure)
        return (jacobians, _kept(aux, tracked)) if has_aux else jacobians

    return transformed


def _regrouped(per_leaf: Any, groups: list, single: bool) -> Any:
    """One result per differentiated argument, in its structure: that one result for an int ``argnums``."""
    results, start = [], 0
    for structure, count in groups:
        results.append(unflatten(list(per_leaf[start:start + count]), structure))
        start += count
    return results[0] if single else tuple(results)


def _split(result: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise RuntimeError(f"{name}(f, ..., has_aux=True): f must return a pair (output, aux), got "
                           f"{type(result).__name__}")
    return result[0], result[1]


def _outputs(output: Any, name: str) -> tuple[list, Any]:
    flat, structure = flatten(output)
    if not flat or not all(isinstance(tensor, Tensor) for tensor in flat):
        kinds = sorted({type(leaf).__name__ for leaf in flat if not isinstance(leaf, Tensor)}) or ["nothing"]
        raise RuntimeError(f"{name}: the function must return a Tensor or a tuple/list/dict of Tensors, got "
                           f"{', '.join(kinds)}")
    return flat, structure


def _kept(tree: Any, tracked: bool) -> Any:
    """``tree`` with its tensors detached, unless the results stay in the graph."""
    if tracked:
        return tree
    leaves, structure = flatten(tree)
    return unflatten([leaf.detach() if isinstance(leaf, Tensor) else leaf for leaf in leaves], structure)
