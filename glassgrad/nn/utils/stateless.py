"""PyTorch's first home of ``functional_call`` (``torch.nn.utils.stateless``), deprecated since PyTorch 2.0.

``gg.nn.utils.stateless.functional_call`` warns and calls :func:`glassgrad.func.functional_call`: run a module
with the given tensors standing in for its parameters and buffers.
"""

from __future__ import annotations

from ... import func
from ...renamed import renamed

functional_call = renamed(func.functional_call, "gg.nn.utils.stateless.functional_call", "gg.func.functional_call")
