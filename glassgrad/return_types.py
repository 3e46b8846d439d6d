"""The named results of the functions that return a pair of tensors, as PyTorch's ``torch.return_types``.

``values, indices = x.max(1)`` and ``x.max(1).indices`` both work (a named tuple), and ``print(x.max(1))`` shows what
PyTorch shows, less the ``torch.`` before it (as glassgrad's dtypes and sizes)::

    return_types.max(
    values=tensor([3., 4.]),
    indices=tensor([1, 0]))
"""

from __future__ import annotations

from collections import namedtuple


def _shown(result: tuple) -> str:
    """PyTorch's text for a ``torch.return_types`` result: its name, then one ``field=repr`` line per field."""
    fields = ",\n".join(f"{name}={value!r}" for name, value in zip(result._fields, result))
    return f"return_types.{type(result).__name__}(\n{fields})"


def _named(name: str, fields: tuple[str, ...]) -> type:
    """A named tuple called ``name`` (PyTorch's ``torch.return_types.<name>``) with PyTorch's printout."""
    return type(name, (namedtuple(name, fields),), {"__slots__": (), "__repr__": _shown, "__module__": __name__})


max = _named("max", ("values", "indices"))  # noqa: A001 (PyTorch's name for it)
min = _named("min", ("values", "indices"))  # noqa: A001 (PyTorch's name for it)
sort = _named("sort", ("values", "indices"))
topk = _named("topk", ("values", "indices"))
kthvalue = _named("kthvalue", ("values", "indices"))
median = _named("median", ("values", "indices"))
nanmedian = _named("nanmedian", ("values", "indices"))
mode = _named("mode", ("values", "indices"))
cummax = _named("cummax", ("values", "indices"))
cummin = _named("cummin", ("values", "indices"))
aminmax = _named("aminmax", ("min", "max"))
