"""``torch.version`` and ``torch.__version__`` under :mod:`glassgrad.torch_names`.

glassgrad implements PyTorch 2.13's API, so a PyTorch program that checks the version
(``if torch.__version__ >= "2.0":``, ``version.parse(torch.__version__) >= version.parse("1.12")``,
``tuple(map(int, torch.__version__.split(".")[:2])) >= (2, 0)``) should take its PyTorch-2.13 branch. Yet the
string must not pretend to be PyTorch when printed. Both hold for a PEP 440 version whose public part is the API's
and whose local label (after ``+``, where PyTorch writes ``+cpu``) names glassgrad and its own version::

    torch.__version__                  # '2.13.0+glassgrad.0.1.0'
    torch.__version__ >= (2, 0)        # True, compared as versions (PyTorch's TorchVersion does so too)
    torch.__version__.split("+")[0]    # '2.13.0'

By PEP 440, 2.13.0+glassgrad.0.1.0 > 2.13.0 and ≠ 2.13 (a local label sorts after the public version), as
PyTorch's own '2.13.0+cpu' does. ``import glassgrad; glassgrad.__version__`` stays the package's own version.
``cuda``, ``hip`` … are None as in CPU builds of PyTorch.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from .version import __version__ as _glassgrad_version

#: the PyTorch release whose API glassgrad implements
API_VERSION = "2.13.0"


class TorchVersion(str):
    """A version string that also compares as a version with strings, tuples and ``packaging`` versions.

    ``"2.13.0" > "2.2"`` is False as text but True as versions; PyTorch's ``__version__`` compares as versions,
    so this does too. Anything that is not a version (``"parrot"``) compares as text.
    """

    __slots__ = ()

    def _compare(self, other: object, compare: str) -> bool:
        from packaging.version import InvalidVersion, Version

        try:
            if isinstance(other, Version):
                version = other
            elif isinstance(other, str):
                version = Version(other)
            elif isinstance(other, Iterable):
                version = Version(".".join(str(part) for part in other))  # (2, 0) → 2.0
            else:
                return NotImplemented
            return getattr(Version(self), compare)(version)
        except InvalidVersion:
            return getattr(str(self), compare)(other)

    __eq__ = functools.partialmethod(_compare, compare="__eq__")
    __ne__ = functools.partialmethod(_compare, compare="__ne__")
    __lt__ = functools.partialmethod(_compare, compare="__lt__")
    __le__ = functools.partialmethod(_compare, compare="__le__")
    __gt__ = functools.partialmethod(_compare, compare="__gt__")
    __ge__ = functools.partialmethod(_compare, compare="__ge__")
    __hash__ = str.__hash__  # defining __eq__ would otherwise make it unhashable


__version__ = TorchVersion(f"{API_VERSION}+glassgrad.{_glassgrad_version}")
cuda: str | None = None
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
debug = False
git_version = "Unknown"  # PyTorch's commit; glassgrad is not a build of PyTorch
