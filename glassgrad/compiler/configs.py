"""PyTorch's compiler settings, ``torch._dynamo.config`` and ``torch._inductor.config``, as learner code sets them.

Notebooks and scripts set a few of them before compiling (``torch._dynamo.config.suppress_errors = True``,
``cache_size_limit = 64``, gpt-fast's ``torch._inductor.config.coordinate_descent_tuning = True``). glassgrad's
compiler generates no kernels and has its own limits (:data:`~glassgrad.compiler.compiled.MAX_PROGRAMS` programs per
function), so each setting is kept and read back with PyTorch 2.13's default, and changes nothing; a name PyTorch has
not is refused as PyTorch refuses it (``AttributeError: torch._dynamo.config.foo does not exist``), so a typo is seen.

>>> import glassgrad as gg
>>> gg._dynamo.config.cache_size_limit
8
>>> gg._dynamo.config.suppres_errors = True
Traceback (most recent call last):
...
AttributeError: torch._dynamo.config.suppres_errors does not exist
"""

from __future__ import annotations

import os
from typing import Any


class Config:
    """A set of named settings with PyTorch's defaults; setting or reading another name raises AttributeError."""

    def __init__(self, name: str, defaults: dict[str, Any]) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_values", dict(defaults))

    def __getattr__(self, key: str) -> Any:
        values = self.__dict__["_values"]
        if key not in values:
            raise AttributeError(f"{self._name}.{key} does not exist")
        return values[key]

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self._values or isinstance(self._values[key], Config):
            raise AttributeError(f"{self._name}.{key} does not exist")
        self._values[key] = value

    def __repr__(self) -> str:
        return f"<{self._name}: {', '.join(f'{key}={value!r}' for key, value in self._values.items())}>"


DYNAMO = Config("torch._dynamo.config", {
    "cache_size_limit": 8, "recompile_limit": 8, "accumulated_cache_size_limit": 256,
    "accumulated_recompile_limit": 256, "suppress_errors": False, "verbose": False, "capture_scalar_outputs": False,
    "capture_dynamic_output_shape_ops": False, "automatic_dynamic_shapes": True, "assume_static_by_default": True,
    "optimize_ddp": True, "specialize_int": False, "error_on_recompile": False,
})
"""``torch._dynamo.config``: the settings learner code sets, at PyTorch 2.13's defaults."""

INDUCTOR = Config("torch._inductor.config", {
    "coordinate_descent_tuning": False, "max_autotune": False, "max_autotune_gemm": False, "freezing": False,
    "epilogue_fusion": True, "aggressive_fusion": False, "fx_graph_cache": True, "force_disable_caches": False,
    "compile_threads": min(32, os.cpu_count() or 1), "debug": False,
    "triton": Config("torch._inductor.config.triton", {"cudagraphs": False, "unique_kernel_names": True}),
    "cpp": Config("torch._inductor.config.cpp", {"simdlen": None}),
})
"""``torch._inductor.config``: the settings learner code sets, at PyTorch 2.13's defaults (``compile_threads``: the
machine's cores, up to 32)."""
