"""Nested arguments taken apart and put back: what ``torch.func``'s transforms do to "a tuple of dicts of tensors".

A *tree* is a tuple, list, dict, namedtuple (put back as its own type: ``x.max(0)``'s ``(values, indices)``, as
PyTorch's ``torch.return_types``) or shape (a ``gg.Size``, put back as a plain tuple, as in PyTorch) whose entries
are trees, or a *leaf* (a tensor, a number, anything else; ``None`` is an empty tree, as in PyTorch).
:func:`flatten` lists the leaves in order (dicts by insertion order) and returns the tree's *structure*;
:func:`unflatten` puts new leaves into that structure.

>>> leaves, structure = flatten(({"w": 1, "b": 2}, [3]))
>>> leaves
[1, 2, 3]
>>> unflatten([10, 20, 30], structure)
({'w': 10, 'b': 20}, [30])

A *prefix* of a tree (``vmap``'s ``in_dims``, ``out_dims``) has the same containers down to some depth and a
leaf where the tree may go on: that leaf stands for every leaf below it. :func:`broadcast_prefix` gives it once
per leaf of the tree.
"""

from __future__ import annotations

from typing import Any

from .arguments import Size

#: the structure of a leaf
LEAF = "*"


def flatten(tree: Any) -> tuple[list, Any]:
    """The leaves of ``tree`` in order, and its structure: ``LEAF``, or ``(type, keys, [children's structures])``."""
    leaves: list = []
    return leaves, _take_apart(tree, leaves)


def _take_apart(tree: Any, leaves: list) -> Any:
    if tree is None:
        return None
    if isinstance(tree, dict):
        return (dict, tuple(tree), [_take_apart(value, leaves) for value in tree.values()])
    if isinstance(tree, (tuple, list)) and (type(tree) in (tuple, list, Size) or _is_namedtuple(type(tree))):
        kind = tuple if type(tree) is Size else type(tree)  # its leaves may become tensors: a tuple holds them
        return (kind, len(tree), [_take_apart(value, leaves) for value in tree])
    leaves.append(tree)
    return LEAF


def unflatten(leaves: list, structure: Any) -> Any:
    """``leaves`` put into ``structure`` (as :func:`flatten` returned it): the inverse of :func:`flatten`."""
    remaining = iter(leaves)

    def build(part: Any) -> Any:
        if part is None:
            return None
        if part == LEAF:
            return next(remaining)
        kind, keys, children = part
        built = [build(child) for child in children]
        if kind is dict:
            return dict(zip(keys, built))
        return kind(*built) if _is_namedtuple(kind) else kind(built)

    return build(structure)


def _is_namedtuple(kind: type) -> bool:
    """A namedtuple class (``x.max(0)``'s ``(values, indices)``): a node kept as its own type, as PyTorch keeps
    its ``torch.return_types``."""
    return issubclass(kind, tuple) and hasattr(kind, "_fields")


def broadcast_prefix(prefix: Any, structure: Any) -> list | None:
    """``prefix``'s leaf for each leaf of the tree with ``structure``; None when ``prefix`` is not a prefix of it."""
    found: list = []

    def walk(part: Any, shape: Any) -> bool:
        if not isinstance(part, (tuple, list, dict)):
            found.extend([part] * _count_leaves(shape))
            return True
        if shape is None or shape == LEAF:
            return False
        kind, keys, children = shape
        if type(part) is not kind or len(part) != len(children):
            return False
        if kind is dict:
            if set(part) != set(keys):
                return False
            return all(walk(part[key], child) for key, child in zip(keys, children))
        return all(walk(entry, child) for entry, child in zip(part, children))

    return found if walk(prefix, structure) else None


def _count_leaves(structure: Any) -> int:
    if structure is None:
        return 0
    if structure == LEAF:
        return 1
    return sum(_count_leaves(child) for child in structure[2])


def describe(structure: Any) -> str:
    """A structure in one short line for error messages: ``(*, {w: *, b: *})``."""
    if structure is None:
        return "None"
    if structure == LEAF:
        return LEAF
    kind, keys, children = structure
    inner = [describe(child) for child in children]
    if kind is dict:
        return "{" + ", ".join(f"{key}: {part}" for key, part in zip(keys, inner)) + "}"
    text = ", ".join(inner) + ("," if kind is tuple and len(inner) == 1 else "")
    if _is_namedtuple(kind):
        return f"{kind.__name__}({text})"
    return f"({text})" if kind is tuple else f"[{text}]"
