"""A module's saved state: ``state_dict`` and ``load_state_dict``, with PyTorch's hooks around both.

The state dict holds, by dotted name, every parameter and persistent buffer of the module and of each
sub-module (``"0.weight"``, ``"1.running_mean"``), and the ``get_extra_state()`` of a module that defines it.
Both walk the modules as PyTorch does, each module with its *prefix* (``""`` for the model, ``"0."`` for its
first child, ``"0.attn."`` below that), and call each module's hooks with it:

* ``register_state_dict_pre_hook(hook)``: ``hook(module, prefix, keep_vars)`` before the module's entries go in;
* ``register_state_dict_post_hook(hook)``: ``hook(module, state_dict, prefix, local_metadata)`` after its entries
  and its children's are in; it edits ``state_dict`` in place and returns None (``_register_state_dict_hook``,
  the older spelling, may return a new dict instead, which the outermost call then returns);
* ``register_load_state_dict_pre_hook(hook)``: ``hook(module, state_dict, prefix, local_metadata, strict,
  missing_keys, unexpected_keys, error_msgs)`` before the module looks up its entries; it may rename or change
  entries of ``state_dict`` (a copy: the caller's dict is untouched), which the module's children then see
  (``_register_load_state_dict_pre_hook(hook)`` calls it without ``module``, unless ``with_module=True``);
* ``register_load_state_dict_post_hook(hook)``: ``hook(module, incompatible_keys)`` after the values are copied
  in; it may edit ``incompatible_keys.missing_keys`` / ``.unexpected_keys`` in place, and ``strict=True`` then
  judges what is left. A module's post-hooks run after its children's and see the keys found so far, as in
  PyTorch; but all of them run after all pre-hooks (PyTorch runs a child's before its next sibling's
  pre-hooks), since glassgrad checks the whole state dict before it copies anything.

Each returns a handle whose ``remove()`` takes the hook away. ``local_metadata`` is ``{"version": v}``, ``v`` the
module's ``_version`` as PyTorch's (1; BatchNorm's and InstanceNorm's 2); ``state_dict()._metadata`` maps each
prefix without its dot to it, and ``load_state_dict`` hands a module the entry of its prefix (``{}`` when the dict
has none, as after ``gg.load``).

>>> import glassgrad as gg
>>> layer = gg.nn.Linear(2, 1)
>>> def drop_bias(module, state, prefix, local_metadata):
...     del state[prefix + "bias"]
>>> handle = layer.register_state_dict_post_hook(drop_bias)
>>> list(layer.state_dict())
['weight']
>>> handle.remove()
"""

from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..arguments import shape_text
from ..autograd import copy_counted, recorded_call
from ..device import is_placeholder
from ..handles import RemovableHandle, add_hook
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from .parameter import Parameter, UninitializedTensorMixin

if TYPE_CHECKING:
    from .module import Module

_LOADING = threading.local()
"""``plan``: the :class:`LoadPlan` of the ``load_state_dict`` running in this thread, which each module's
``_load_from_state_dict`` (PyTorch's signature, without it) fills in."""

EXTRA_STATE = "_extra_state"
"""The state-dict name of a module's :meth:`SavedState.get_extra_state`, PyTorch's."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns: the keys it did not find and the ones it did not use."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        """``<All keys matched successfully>`` when nothing is missing or left over, else
        ``_IncompatibleKeys(missing_keys=[...], unexpected_keys=[...])``, as PyTorch shows it (the last line of a
        notebook cell that loads weights)."""
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


class ReturnsNone:
    """A state-dict post-hook registered by the public ``register_state_dict_post_hook``: it must return None."""

    __slots__ = ("hook",)

    def __init__(self, hook: Callable) -> None:
        self.hook = hook

    def __call__(self, *args: Any) -> Any:
        return self.hook(*args)


class LoadPlan:
    """What ``load_state_dict`` found before changing anything: the keys it misses and does not use, the
    problems, and the copies to make (``(key, target, value)``; a module as target: its extra state)."""

    def __init__(self, assign: bool, metadata: Mapping | None) -> None:
        self.assign, self.metadata = assign, metadata
        self.missing: list[str] = []
        self.unexpected: list[str] = []
        self.errors: list[str] = []
        self.copies: list[tuple[str, Any, Any]] = []
        self.visited: list[tuple[Module, int, int]] = []
        """Every module walked, in the order its post-hooks run (after its children's), with how many missing and
        unexpected keys were known when its walk ended: what PyTorch's post-hooks see then."""


class SavedState:
    """:class:`~glassgrad.nn.Module`'s saving and loading (mixed into it), with the hooks of this file's doc."""

    _version: int = 1
    """PyTorch's version number of a module's state-dict layout, handed to hooks as ``local_metadata["version"]``."""
    _may_be_missing: tuple[str, ...] = ()
    """Names of this module's own state entries that came with its current ``_version``: a state dict saved before
    it (its ``_metadata`` gives this module an older version, or none, as a plain dict does) may leave them out, and
    ``load_state_dict`` then keeps their values and does not count them missing (BatchNorm's
    ``num_batches_tracked``, new in its version 2, as PyTorch's); a state dict of the current version lacking one
    misses it."""

    # --- hooks ------------------------------------------------------------------------------------------

    def register_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, prefix, keep_vars)`` when ``state_dict`` reaches this module, before its entries."""
        return add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata)`` once this module's entries (its children's
        included) are in ``state_dict``; it edits ``state_dict`` in place and must return None."""
        return add_hook(self._state_dict_hooks, ReturnsNone(hook))

    def _register_state_dict_hook(self, hook: Callable) -> RemovableHandle:
        """:meth:`register_state_dict_post_hook`'s older spelling, which PyTorch's own code uses: a dict the hook
        returns replaces the state dict, in the module ``state_dict`` was called on."""
        return add_hook(self._state_dict_hooks, hook)

    def register_load_state_dict_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
        error_msgs)`` when ``load_state_dict`` reaches this module, before it looks up its entries."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook: Callable, with_module: bool = False) -> RemovableHandle:
        """:meth:`register_load_state_dict_pre_hook` whose hook is called without the module first, unless
        ``with_module=True``."""
        return add_hook(self._load_state_dict_pre_hooks, partial(hook, self) if with_module else hook)

    def register_load_state_dict_post_hook(self, hook: Callable) -> RemovableHandle:
        """Call ``hook(module, incompatible_keys)`` after ``load_state_dict`` copied the values in; it may edit
        the missing and unexpected keys in place (``strict=True`` judges what is left) and must return None."""
        return add_hook(self._load_state_dict_post_hooks, hook)

    # --- extra state ------------------------------------------------------------------------------------

    def get_extra_state(self) -> Any:
        """State that is neither a parameter nor a buffer (a count, a vocabulary) to save in the state dict, under
        ``"_extra_state"``: define it, and :meth:`set_extra_state` to take it back, in a module that has some (the
        value should be what ``gg.save`` stores: tensors and JSON values)."""
        raise RuntimeError(f"{type(self).__name__} has no extra state: define get_extra_state and set_extra_state "
                           "in it to save some")

    def set_extra_state(self, state: Any) -> None:
        """Take back what :meth:`get_extra_state` gave, when a state dict is loaded."""
        raise RuntimeError(f"{type(self).__name__} does not define set_extra_state, so the '_extra_state' of a state "
                           "dict cannot be loaded into it; define it beside get_extra_state")

    # --- saving -------------------------------------------------------------------------------------

    def _own_state(self) -> Iterator[tuple[str, Tensor | SavedState]]:
        """(name, tensor) for this module's own saved entries: its parameters, then its persistent buffers, then
        ``("_extra_state", module)`` if it defines :meth:`get_extra_state`."""
        for name, param in self._parameters.items():
            if param is not None:
                yield name, param
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers:
                yield name, buffer
        if type(self).get_extra_state is not SavedState.get_extra_state:
            yield EXTRA_STATE, self

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        """Put this module's own entries (not its children's) into ``destination``, each name after ``prefix``."""
        for name, tensor in self._own_state():
            if tensor is self:
                destination[prefix + name] = self.get_extra_state()
            else:
                destination[prefix + name] = (tensor if keep_vars or isinstance(tensor, UninitializedTensorMixin)
                                              else Tensor._wrap(tensor.array))

    def state_dict(self, *args: Any, destination: dict[str, Tensor] | None = None, prefix: str = "",
                   keep_vars: bool = False) -> dict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name (``"0.weight"``, ``"1.running_mean"``), and the
        ``get_extra_state()`` of a module that defines it (``"2._extra_state"``).

        As in PyTorch the values are *detached tensors sharing memory* with the model: they
        follow later training. Copy them (or save them with ``gg.save``) to keep a snapshot. A module
        registered under two names (``self.alias = self.encoder``) is saved under both, and so is a tied weight,
        as PyTorch does, so the keys match its checkpoints.
        ``keep_vars=True`` returns the parameters themselves, as it does a lazy module's uninitialised ones.
        ``prefix`` goes before every name (``prefix="model."`` gives ``"model.0.weight"``); ``destination``: a dict
        to put them in (and return) instead of a new ``OrderedDict``. The hooks of :mod:`this file's doc
        <glassgrad.nn.module_state>` run for each module. Given by position (PyTorch's older spelling, which it
        still takes with a ``FutureWarning``, as here), the arguments are ``destination, prefix, keep_vars``.
        """
        if args:
            destination, prefix, keep_vars = _positional_state_dict_arguments(args, destination, prefix, keep_vars)
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        local_metadata = {"version": self._version}
        if hasattr(destination, "_metadata"):
            destination._metadata[prefix[:-1]] = local_metadata
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, child in self._modules.items():
            if child is not None:
                child.state_dict(destination=destination, prefix=f"{prefix}{name}.", keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            replaced = hook(self, destination, prefix, local_metadata)
            if replaced is not None and type(hook) is ReturnsNone:
                raise RuntimeError("state_dict post-hook must return None: edit the state_dict in place")
            if replaced is not None:
                destination = replaced
        return destination

    # --- loading ------------------------------------------------------------------------------------

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy values from ``state_dict`` into this model's parameters and buffers, in place.

        All or nothing: every key, shape and value is checked first, and on any error
        (missing or unexpected keys with ``strict=True``, a shape mismatch always) a
        ``RuntimeError`` lists every problem and *nothing* is changed. The exceptions: when a module has a
        load-state-dict post-hook, which may forgive missing or unexpected keys, the values are copied and the
        hooks run before ``strict`` judges the keys (PyTorch's order); and a module whose class overrides
        ``_load_from_state_dict`` gets its own values as soon as its override calls ``super()``, as in PyTorch, so
        that the override's code after that call reads them or adjusts them.
        Returns the missing and unexpected keys (both empty after a strict load). A lazy module's
        uninitialised parameters and buffers take the checkpoint's shapes (as in PyTorch): no first call needed.
        ``assign=True`` puts the checkpoint's tensors themselves in the model instead (sharing their memory and
        keeping their dtype; a parameter stays a Parameter with its ``requires_grad``), as PyTorch's does.
        Tied weights stay tied: the one parameter takes its value from each of its names in turn.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"expected a mapping of names to tensors (a state_dict), got {type(state_dict).__name__}")
        metadata = getattr(state_dict, "_metadata", None)
        local = OrderedDict(state_dict)  # the hooks may change this copy, never the caller's dict
        if metadata is not None:
            local._metadata = metadata
        plan = LoadPlan(assign, metadata)
        outer, _LOADING.plan = getattr(_LOADING, "plan", None), plan  # what each _load_from_state_dict fills in
        try:
            self._plan_load(local, "", plan)
        finally:
            _LOADING.plan = outer
        key_errors = _key_errors(plan.missing, plan.unexpected) if strict else []
        post_hooks = any(module._load_state_dict_post_hooks for module, _, _ in plan.visited)
        if plan.errors or (key_errors and not post_hooks):
            _refuse_load(self, key_errors + plan.errors, NOTHING_LOADED if plan.errors else KEYS_ONLY)
        self._copy_planned(plan)
        keys = IncompatibleKeys([], [])
        handed = (0, 0)  # how many missing and unexpected keys the post-hooks were handed so far
        for module, missing, unexpected in plan.visited:  # the keys known by then join the lists the hooks may edit
            keys.missing_keys.extend(plan.missing[handed[0]:missing])
            keys.unexpected_keys.extend(plan.unexpected[handed[1]:unexpected])
            handed = (missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, keys) is not None:
                    raise AssertionError("a load_state_dict post-hook must return None: edit incompatible_keys in "
                                         "place instead")
        if strict and (keys.missing_keys or keys.unexpected_keys):
            _refuse_load(self, _key_errors(keys.missing_keys, keys.unexpected_keys),
                         "(left after the load_state_dict post-hooks; the values were copied before they ran, as in "
                         "PyTorch; strict=False returns the keys instead of raising)")
        return keys

    def _plan_load(self, state_dict: dict, prefix: str, plan: LoadPlan) -> None:
        """Walk this module and its children as PyTorch's ``load_state_dict`` does: this module's
        :meth:`_load_from_state_dict` on ``state_dict`` (the entries under ``prefix``), then each child with the
        entries under the child's prefix."""
        local_metadata = dict(plan.metadata.get(prefix[:-1], {})) if plan.metadata is not None else {}
        if plan.assign:
            local_metadata["assign_to_params_buffers"] = True
        self._load_from_state_dict(state_dict, prefix, local_metadata, True, plan.missing, plan.unexpected,
                                   plan.errors)
        for name, child in self._modules.items():
            if child is not None:
                child_prefix = f"{prefix}{name}."
                child._plan_load({key: value for key, value in state_dict.items() if key.startswith(child_prefix)},
                                 child_prefix, plan)
        plan.visited.append((self, len(plan.missing), len(plan.unexpected)))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict, strict: bool,
                              missing_keys: list[str], unexpected_keys: list[str], error_msgs: list[str]) -> None:
        """PyTorch's step of ``load_state_dict`` for one module (not its children), which a layer overrides to read
        an older layout (renaming keys of ``state_dict``, a copy, then calling this): run the module's pre-hooks,
        check its own entries, note the keys it misses and does not use. glassgrad copies the values once every
        module is checked (called on its own, outside ``load_state_dict``: at its end)."""
        plan = getattr(_LOADING, "plan", None)
        alone = plan is None
        if alone:
            plan = LoadPlan(False, None)
            plan.missing, plan.unexpected, plan.errors = missing_keys, unexpected_keys, error_msgs
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
        own = dict(self._own_state())
        planned, problems = len(plan.copies), len(plan.errors)
        for name, target in own.items():
            key = prefix + name
            if key in state_dict:
                _check_entry(key, target, state_dict[key], plan)
            elif name not in self._may_be_missing or (local_metadata.get("version") or 0) >= self._version:
                missing_keys.append(key)
        for key in state_dict:  # a key under a child slot left None (Inception's AuxLogits = None) is not unexpected,
            if key.startswith(prefix):  # nor missing, as in PyTorch: that child is not loaded
                head, dot, _ = key[len(prefix):].partition(".")
                if (head not in self._modules) if dot else head not in own:
                    unexpected_keys.append(key)
        if alone and not error_msgs:
            self._copy_planned(plan)
        elif type(self)._load_from_state_dict is not SavedState._load_from_state_dict and len(plan.errors) == problems:
            # called by an override (super()._load_from_state_dict): its values go in now, as in PyTorch, so that
            # the code after the call reads them (a scale worked out from the loaded weight) or adjusts them
            now, plan.copies = plan.copies[planned:], plan.copies[:planned]
            self._copy_planned(plan, [(key[len(prefix):], target, value) for key, target, value in now])

    def _copy_planned(self, plan: LoadPlan, copies: list | None = None) -> None:
        """Make the copies ``plan`` holds (after every check passed), or ``copies``."""
        for key, target, value in plan.copies if copies is None else copies:
            if isinstance(target, SavedState):
                target.set_extra_state(value)
                continue
            if isinstance(target, UninitializedTensorMixin):
                target.materialize(value.shape)
                value = value.array if isinstance(value, Tensor) else value
            elif plan.assign:
                self._assign(key, target, value)
                continue
            if is_placeholder(target.array):  # a model on 'meta' (glassgrad.nn.meta): nothing to copy into
                warn_at_learners_line(f"for {key}: copying from a non-meta parameter in the checkpoint to a meta "
                                      "parameter in the current model, which is a no-op (pass assign=True to "
                                      "load_state_dict to put the checkpoint's tensors in the model instead)")
                continue
            # a kernel of a compiled step (a target network's soft update inside the step): copied in Python, a
            # replay left the weights as they were
            recorded_call(copy_counted, target.array, value, "unsafe")

    def _assign(self, key: str, target: Tensor, value: Tensor | np.ndarray) -> None:
        """Put ``value`` itself (no copy) where the state dict's ``key`` points, in the place of ``target``: a
        Parameter as it is (taking ``target``'s requires_grad, as PyTorch's), another tensor or array wrapped in one
        for a parameter; a buffer the tensor itself."""
        path, _, name = key.rpartition(".")
        owner = self.get_submodule(path)
        if isinstance(target, Parameter):
            if isinstance(value, Parameter):
                value.requires_grad_(target.requires_grad)
            else:
                array = value.array if isinstance(value, Tensor) else value
                value = Parameter(Tensor._wrap(array), requires_grad=target.requires_grad)
            setattr(owner, name, value)
        else:
            owner._buffers[name] = value if isinstance(value, Tensor) else Tensor._wrap(value)


def _check_entry(key: str, target: Any, value: Any, plan: LoadPlan) -> None:
    """Check the checkpoint's ``value`` for the model's ``target``: a copy to make, or a problem."""
    if isinstance(target, SavedState):  # its extra state, handed to its set_extra_state as it is
        plan.copies.append((key, target, value))
        return
    if isinstance(value, UninitializedTensorMixin):
        if not isinstance(target, UninitializedTensorMixin):
            plan.errors.append(f'"{key}" is uninitialized in the checkpoint (a lazy module never called): call '
                               "that module on an example input before saving it")
        return
    array = value.array if isinstance(value, Tensor) else value
    if (isinstance(array, np.ndarray) and array.shape == (1,) and not isinstance(target, UninitializedTensorMixin)
            and target.array.shape == ()):  # an old checkpoint's number kept as (1,): PyTorch loads it into a 0-d
        array, value = array.reshape(()), None
    if not isinstance(array, (np.ndarray, np.generic)) or array.dtype.kind not in "fiub":
        kind = type(value)
        fix = "; give PyTorch's tensors as value.numpy()" if kind.__module__.startswith("torch") else ""
        plan.errors.append(f'While copying the parameter named "{key}", expected a glassgrad Tensor or a numeric '
                           f"NumPy array from checkpoint but received {kind.__module__}.{kind.__qualname__}{fix}.")
    elif not isinstance(target, UninitializedTensorMixin) and array.shape != target.array.shape:
        plan.errors.append(f"size mismatch for {key}: copying a param with shape {shape_text(array.shape)} "
                           f"from checkpoint, the shape in current model is {shape_text(target.array.shape)}.")
    else:  # with assign, the tensor itself goes in (a Parameter as it is, as PyTorch's)
        plan.copies.append((key, target, value if plan.assign and isinstance(value, Tensor) else array))


def _positional_state_dict_arguments(args: tuple, destination: Any, prefix: str,
                                     keep_vars: bool) -> tuple[Any, str, bool]:
    """``state_dict(destination, prefix, keep_vars)`` by position, read as PyTorch reads it (a keyword given too
    wins), with its ``FutureWarning``; a destination that is no dict (``state_dict(True)``, meaning keep_vars) is
    refused in one line instead of failing inside."""
    if len(args) > 3:
        raise TypeError(f"state_dict takes at most 3 positional arguments (destination, prefix, keep_vars), got "
                        f"{len(args)}")
    given = (*args, *(None, "", False)[len(args):])
    destination = given[0] if destination is None else destination
    prefix = given[1] if prefix == "" else prefix
    keep_vars = given[2] if keep_vars is False else keep_vars
    if destination is not None and not isinstance(destination, MutableMapping):
        raise TypeError(f"state_dict's first positional argument is destination, a dict to fill, as in PyTorch, "
                        f"but a {type(destination).__name__} was given; pass keep_vars=True by keyword")
    warnings.warn("Positional args are being deprecated, use kwargs instead: state_dict(destination=..., "
                  "prefix=..., keep_vars=...)", FutureWarning, stacklevel=3)
    return destination, prefix, keep_vars


KEYS_ONLY = ("(nothing was loaded; load_state_dict(state_dict, strict=False) loads the entries that match and "
             "returns the missing and unexpected keys)")
NOTHING_LOADED = ("(nothing was loaded; strict=False ignores missing and unexpected keys, but shapes must match: "
                  "build the model with the same layer sizes as the saved one)")


def _key_errors(missing: list[str], unexpected: list[str]) -> list[str]:
    """A strict load's lines for the keys it missed and did not use, as PyTorch writes them (none for none)."""
    lines = []
    if missing:
        lines.append("Missing key(s) in state_dict: " + ", ".join(f'"{key}"' for key in missing) + ".")
    if unexpected:
        lines.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{key}"' for key in unexpected) + ".")
    return lines


def _refuse_load(module: SavedState, errors: list[str], hint: str) -> None:
    raise RuntimeError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t" + "\n\t".join(errors)
                       + "\n" + hint)
