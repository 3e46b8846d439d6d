"""Pruning: set a layer's least important weights to zero and keep them there as it trains (``torch.nn.utils.prune``).

Pruning parameter ``w`` of a layer writes it as the product of the numbers it learns and a fixed 0/1 mask::

    w = w_mask ⊙ w_orig              (made again before every forward, by a forward pre-hook)
    ∂L/∂w_orig = w_mask ⊙ ∂L/∂w      (a pruned entry gets gradient 0: it stays pruned)

``w_orig`` is the parameter the optimizer updates and ``w_mask`` a buffer, so both are in the state dict
(``weight_orig``, ``weight_mask``); ``w`` itself is a plain attribute. The methods differ in which entries
the mask zeroes:

* :func:`l1_unstructured`: the entries with the smallest ``|w|`` (or smallest ``importance_scores``);
* :func:`random_unstructured`: entries drawn at random (glassgrad's generator: ``gg.manual_seed``);
* :func:`ln_structured`: whole slices along ``dim`` (``dim=0``: output rows or channels) with the smallest
  Lₙ norm, the norm taken over every other dim; :func:`random_structured`: slices drawn at random;
* :func:`global_unstructured`: the smallest entries of several parameters ranked together;
* :func:`custom_from_mask`: a mask you give; :func:`identity`: a mask of ones.

``amount`` is a whole number of entries (slices for the structured methods) or a fraction in [0, 1] of them,
rounded to the nearest whole number (a Python or a NumPy number: ``np.int64(3)`` is 3 entries, as in PyTorch).
Pruning the same parameter again prunes what is still kept: the new method sees only the entries (slices) the
mask keeps, and the masks multiply (a :class:`PruningContainer` holds the methods in order). :func:`remove` makes
it permanent: ``w_mask ⊙ w_orig`` becomes the parameter ``w`` again (the same Parameter object as
``w_orig``), and the mask and the hook go.

Where several entries tie for the smallest, the one that comes first in the flat order is pruned first
(glassgrad's ``topk``); PyTorch does not promise an order among ties. A layer with a pruning hook inside a
``gg.compile``d step replays: the product is recorded as the forward's ops are, and the mask is a buffer, guarded (a
new prune, or ``remove``, between calls: captured again); a subclass overriding ``__call__`` or ``apply_mask`` runs its
own Python, so the step runs eagerly, as with any user's hook.

>>> import glassgrad as gg
>>> layer = gg.nn.Linear(2, 2, seed=0)
>>> with gg.no_grad():
...     _ = layer.weight.copy_(gg.tensor([[0.5, -0.1], [2.0, 0.3]]))
>>> _ = gg.nn.utils.prune.l1_unstructured(layer, "weight", amount=0.5)
>>> layer.weight_mask
tensor([[1., 0.],
        [1., 0.]])
>>> sorted(layer.state_dict())
['bias', 'weight_mask', 'weight_orig']
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any, ClassVar

from ...autograd import no_grad
from ...creation import ones_like, rand, zeros_like
from ...functions import norm
from ...tensor import Tensor
from ..hooks import bind_weight, replayed_hook
from ..module import Module
from .convert_parameters import parameters_to_vector

__all__ = [
    "BasePruningMethod", "CustomFromMask", "Identity", "L1Unstructured", "LnStructured", "PruningContainer",
    "RandomStructured", "RandomUnstructured", "custom_from_mask", "global_unstructured", "identity", "is_pruned",
    "l1_unstructured", "ln_structured", "random_structured", "random_unstructured", "remove",
]


class BasePruningMethod:
    """A way to choose a mask; its instances are the forward pre-hooks that make ``w = w_mask ⊙ w_orig``.

    A subclass sets ``PRUNING_TYPE`` ("unstructured", "structured" or "global": which entries a later
    method in a :class:`PruningContainer` may still look at) and defines ``compute_mask(t, default_mask)``.
    """

    PRUNING_TYPE: ClassVar[str] = "unstructured"
    _tensor_name: str | None = None

    @property
    def bound_name(self) -> str | None:
        """The attribute this hook binds (:func:`~glassgrad.nn.hooks.bound_by_hooks`)."""
        return self._tensor_name

    @replayed_hook("apply_mask")
    def __call__(self, module: Module, inputs: tuple) -> None:
        bind_weight(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        """The new mask for ``t``, given the mask already applied (``default_mask``)."""
        raise NotImplementedError(f"{type(self).__name__} must define compute_mask(t, default_mask)")

    @replayed_hook()
    def apply_mask(self, module: Module) -> Tensor:
        """``w_mask ⊙ w_orig``: the pruned tensor, in the graph of ``w_orig``."""
        if self._tensor_name is None:
            raise RuntimeError(f"{type(self).__name__}: it has not been applied to a module yet; call "
                               f"{type(self).__name__}.apply(module, name, ...) first")
        original = getattr(module, self._tensor_name + "_orig")
        return getattr(module, self._tensor_name + "_mask").to(dtype=original.dtype) * original

    @classmethod
    def apply(cls, module: Module, name: str, *args: Any, importance_scores: Tensor | None = None,
              **kwargs: Any) -> BasePruningMethod:
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``, on top of any pruning it has already.

        The mask is worked out before the module changes: a method that refuses leaves it as it was.
        """
        earlier, method = _joined_with_earlier(module, name, cls(*args, **kwargs))
        original = getattr(module, name)
        if earlier is None and module._parameters.get(name) is None:  # (bias=False: a None has nothing to prune)
            held = ", ".join(key for key, value in module._parameters.items() if value is not None)
            raise ValueError(f"prune: {name!r} of {type(module).__name__} is not a parameter; name one it has "
                             f"({held or 'none'})")
        if importance_scores is None:
            importance_scores = original
        elif tuple(importance_scores.shape) != tuple(original.shape):  # PyTorch's class: its check is an assert
            raise AssertionError(f"importance_scores should have the same shape as parameter {name} of "
                                 f"{type(module).__name__}, got {tuple(importance_scores.shape)} vs "
                                 f"{tuple(original.shape)}")
        default_mask = ones_like(original) if earlier is None else getattr(module, name + "_mask").detach().clone()
        with no_grad():
            mask = method.compute_mask(importance_scores.detach(), default_mask=default_mask)
        if earlier is None:  # w becomes w_orig, a parameter; w itself is made by the hook
            delattr(module, name)
            module.register_parameter(name + "_orig", original)
            module.register_buffer(name + "_mask", mask)
        else:  # the mask changes in its place among the buffers, as PyTorch's (the state dict's order stays)
            del module._forward_pre_hooks[earlier]
            module._buffers[name + "_mask"] = mask
        object.__setattr__(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def prune(self, t: Tensor, default_mask: Tensor | None = None, importance_scores: Tensor | None = None) -> Tensor:
        """``t`` with this method's mask applied (the mask chosen from ``importance_scores``, else from ``t``)."""
        scores = t if importance_scores is None else importance_scores
        default = ones_like(t) if default_mask is None else default_mask
        with no_grad():
            mask = self.compute_mask(scores.detach(), default_mask=default)
        return t * mask

    def remove(self, module: Module) -> None:
        """Make the pruning permanent: ``w_orig`` takes the numbers of ``w_mask ⊙ w_orig`` and is ``w`` again."""
        if self._tensor_name is None:
            raise ValueError(f"{type(module).__name__} has to be pruned before pruning can be removed")
        name = self._tensor_name
        with no_grad():
            pruned = self.apply_mask(module)
        original = module._parameters[name + "_orig"]
        original.data = pruned.detach()
        module.__dict__.pop(name, None)
        delattr(module, name + "_orig")
        delattr(module, name + "_mask")
        module.register_parameter(name, original)


def _joined_with_earlier(module: Module, name: str, method: BasePruningMethod) -> tuple[Any, BasePruningMethod]:
    """The key of the pruning hook ``module.<name>`` has already (None if none), and ``method`` joined after it
    in one container."""
    method._tensor_name = name
    earlier = [(key, hook) for key, hook in module._forward_pre_hooks.items()
               if isinstance(hook, BasePruningMethod) and hook._tensor_name == name]
    if len(earlier) > 1:
        raise RuntimeError(f"prune: {name!r} of {type(module).__name__} has {len(earlier)} pruning hooks; "
                           "a parameter takes one (a PruningContainer holds several methods)")
    if not earlier:
        return None, method
    key, old = earlier[0]
    return key, PruningContainer(*(old if isinstance(old, PruningContainer) else (old,)), method)


class PruningContainer(BasePruningMethod):
    """Pruning methods applied one after another to the same parameter: each prunes what the others kept.

    A method sees only the part of the tensor still kept: the entries where the mask is 1 (unstructured),
    the slices along its ``dim`` not all zero (structured), or the whole tensor (global); its mask is
    written there, and the entries pruned before stay pruned.
    """

    def __init__(self, *methods: BasePruningMethod | Iterable[BasePruningMethod]) -> None:
        self._pruning_methods: tuple[BasePruningMethod, ...] = ()
        if len(methods) == 1 and not isinstance(methods[0], BasePruningMethod):
            methods = tuple(methods[0])
        if len(methods) == 1:
            self._tensor_name = methods[0]._tensor_name
            self._pruning_methods = (methods[0],)
        else:
            for method in methods:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: BasePruningMethod) -> None:
        """Add ``method`` last; it must act on the parameter the others act on."""
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named '{self._tensor_name}' "
                             f"to PruningContainer {self}. Found '{method._tensor_name}'")
        self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, index: int) -> BasePruningMethod:
        return self._pruning_methods[index]

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        method = self._pruning_methods[-1]
        mask = default_mask
        if method.PRUNING_TYPE == "unstructured":
            kept: Any = mask == 1
        elif method.PRUNING_TYPE == "structured":
            dim = _dim_of(t, method.dim)
            kept = [slice(None)] * t.ndim
            kept[dim] = mask.sum(dim=[d for d in range(t.ndim) if d != dim]) != 0
            kept = tuple(kept)
        elif method.PRUNING_TYPE == "global":
            kept = (slice(None),) * t.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        new_mask = mask.clone().to(dtype=t.dtype)
        new_mask[kept] = method.compute_mask(t[kept], default_mask=mask[kept]).to(dtype=new_mask.dtype)
        return new_mask


class Identity(BasePruningMethod):
    """Prunes nothing: the mask is all ones (what is already pruned stays pruned)."""

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        return default_mask

    @classmethod
    def apply(cls, module: Module, name: str) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name)


class _ByAmount(BasePruningMethod):
    """A method that prunes ``amount`` entries; a subclass says which (``chosen``)."""

    def __init__(self, amount: int | float) -> None:
        self.amount = _check_amount(amount)

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        count = _count_to_prune(self.amount, t.numel())
        mask = default_mask.clone()
        if count:
            mask.view(-1)[self.chosen(t, count)] = 0
        return mask

    def chosen(self, t: Tensor, count: int) -> Tensor:
        """The flat positions of the ``count`` entries of ``t`` to prune."""
        raise NotImplementedError


class RandomUnstructured(_ByAmount):
    """Prunes ``amount`` entries drawn at random (each entry equally likely)."""

    def chosen(self, t: Tensor, count: int) -> Tensor:
        return rand(t.numel()).topk(count).indices

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount)


class L1Unstructured(_ByAmount):
    """Prunes the ``amount`` entries of smallest absolute value (of ``importance_scores``, if given)."""

    def chosen(self, t: Tensor, count: int) -> Tensor:
        return t.abs().reshape(-1).topk(count, largest=False).indices

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float,  # type: ignore[override]
              importance_scores: Tensor | None = None) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class _BySlices(BasePruningMethod):
    """A method that prunes ``amount`` whole slices along ``dim``; a subclass says which are kept (``kept``)."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: int | float, dim: int = -1) -> None:
        self.amount, self.dim = _check_amount(amount), dim

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        dim = _dim_of(t, self.dim)
        slices = t.shape[dim]
        scores = self.scores(t, dim)
        count = _count_to_prune(self.amount, slices)
        if not count:
            return default_mask
        kept = [slice(None)] * t.ndim
        kept[dim] = self.kept(scores, slices, count)
        mask = zeros_like(t)
        mask[tuple(kept)] = 1
        return mask * default_mask.to(dtype=mask.dtype)

    def scores(self, t: Tensor, dim: int) -> Tensor | None:
        """What ranks the slices along ``dim``, worked out before the amount is checked (None: nothing)."""
        return None

    def kept(self, scores: Tensor | None, slices: int, count: int) -> Tensor:
        """The slices kept (their positions, or a mask over them) when ``count`` of ``slices`` are pruned."""
        raise NotImplementedError


class RandomStructured(_BySlices):
    """Prunes ``amount`` whole slices along ``dim``, drawn at random."""

    def kept(self, scores: Tensor | None, slices: int, count: int) -> Tensor:
        draws = rand(slices)
        return draws > draws.kthvalue(count).values

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, dim: int = -1) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(_BySlices):
    """Prunes the ``amount`` slices along ``dim`` of smallest Lₙ norm (over all the other dims).

    ``n``: any order ``gg.norm`` takes (1, 2, ``float('inf')``, ``float('-inf')``, ``'fro'``, ``'nuc'``).
    """

    def __init__(self, amount: int | float, n: int | float | str, dim: int = -1) -> None:
        super().__init__(amount, dim)
        self.n = n

    def scores(self, t: Tensor, dim: int) -> Tensor:
        return norm(t, p=self.n, dim=[d for d in range(t.ndim) if d != dim])

    def kept(self, scores: Tensor | None, slices: int, count: int) -> Tensor:
        return scores.topk(slices - count).indices

    @classmethod
    def apply(cls, module: Module, name: str, amount: int | float, n: int | float | str,  # type: ignore[override]
              dim: int, importance_scores: Tensor | None = None) -> BasePruningMethod:
        return super().apply(module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores)


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Tensor) -> None:
        self.mask = mask

    def compute_mask(self, t: Tensor, default_mask: Tensor) -> Tensor:
        if tuple(default_mask.shape) != tuple(self.mask.shape):  # PyTorch's class: its check is an assert
            raise AssertionError(f"custom_from_mask: the mask has shape {tuple(self.mask.shape)} but the parameter "
                                 f"has shape {tuple(default_mask.shape)}; give a mask of the parameter's shape")
        return default_mask * self.mask.to(dtype=default_mask.dtype)

    @classmethod
    def apply(cls, module: Module, name: str, mask: Tensor) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name, mask=mask)


# --- the functions a program calls ---------------------------------------------------------------

def identity(module: Module, name: str) -> Module:
    """Put ``module.<name>`` under a mask of ones (the bookkeeping of pruning, nothing pruned)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Module, name: str, amount: int | float) -> Module:
    """Prune ``amount`` entries of ``module.<name>`` drawn at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Module, name: str, amount: int | float, importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` entries of ``module.<name>`` of smallest absolute value."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Module, name: str, amount: int | float, dim: int) -> Module:
    """Prune ``amount`` slices of ``module.<name>`` along ``dim``, drawn at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Module, name: str, amount: int | float, n: int | float | str, dim: int,
                  importance_scores: Tensor | None = None) -> Module:
    """Prune the ``amount`` slices of ``module.<name>`` along ``dim`` of smallest Lₙ norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable[tuple[Module, str]], pruning_method: type[BasePruningMethod],
                        importance_scores: dict | None = None, **kwargs: Any) -> None:
    """Prune several parameters ranked together: ``global_unstructured(params, L1Unstructured, amount=0.2)``
    prunes the 20 % smallest of all their entries, however they fall among the layers.

    ``parameters``: ``(module, name)`` pairs; ``importance_scores``: ``{(module, name): scores}`` where the
    ranking is not by the values themselves.
    """
    if not isinstance(parameters, Iterable):
        raise TypeError("global_unstructured(): parameters is not an Iterable")
    parameters = tuple(parameters)
    if importance_scores is None:
        importance_scores = {}
    if not isinstance(importance_scores, dict):
        raise TypeError("global_unstructured(): importance_scores must be of type dict")
    if not parameters:
        raise ValueError("global_unstructured(): parameters is empty; give (module, name) pairs to prune")
    scores = parameters_to_vector([importance_scores.get((module, name), getattr(module, name)).detach()
                                   for module, name in parameters])
    masks = parameters_to_vector([getattr(module, name + "_mask") if hasattr(module, name + "_mask")
                                  else ones_like(getattr(module, name)) for module, name in parameters])
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    method._tensor_name = "all of them"
    container = PruningContainer(method)
    with no_grad():
        mask = container.compute_mask(scores, masks)
    start = 0
    for module, name in parameters:
        size = getattr(module, name).numel()
        custom_from_mask(module, name, mask=mask[start:start + size].view_as(getattr(module, name)))
        start += size


def custom_from_mask(module: Module, name: str, mask: Tensor) -> Module:
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask=mask)
    return module


def remove(module: Module, name: str) -> Module:
    """Make the pruning of ``module.<name>`` permanent: its pruned numbers become the parameter again."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {type(module).__name__} has to be pruned before pruning can "
                     "be removed")


def is_pruned(module: Module) -> bool:
    """Whether ``module`` or a module inside it has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for part in module.modules() for hook in part._forward_pre_hooks.values())


# --- amounts and dims ----------------------------------------------------------------------------

def _check_amount(amount: Any) -> int | float:
    """An amount is a whole number ≥ 0 or a fraction in [0, 1]; returned as a Python int or float.

    As PyTorch (``numbers.Integral``/``numbers.Real``), a NumPy number counts: ``np.int64(2)`` is a whole
    number of entries and ``np.float32(0.5)`` a fraction. A bool is refused (PyTorch fails on it later).
    """
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    amount = int(amount) if isinstance(amount, numbers.Integral) else float(amount)
    if (isinstance(amount, int) and amount < 0) or (isinstance(amount, float) and not 0.0 <= amount <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a non-negative integer")
    return amount


def _count_to_prune(amount: int | float, size: int) -> int:
    """How many of ``size`` entries (slices) ``amount`` (checked by :func:`_check_amount`) prunes: an int as it
    is, a fraction rounded."""
    if isinstance(amount, int) and amount > size:
        raise ValueError(f"amount={amount} should be smaller than the number of parameters to prune={size}")
    return amount if isinstance(amount, int) else round(amount * size)


def _dim_of(t: Tensor, dim: int) -> int:
    """``dim`` of ``t`` counted from 0; structured pruning needs slices, so ``t`` needs ≥ 2 dims."""
    if t.ndim <= 1:
        raise ValueError(f"Structured pruning can only be applied to multidimensional tensors. Found tensor of "
                         f"shape {tuple(t.shape)} with {t.ndim} dims")
    if not -t.ndim <= dim < t.ndim:
        raise IndexError(f"Invalid index {dim} for tensor of size {tuple(t.shape)}")
    return dim % t.ndim
