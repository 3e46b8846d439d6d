"""PyTorch's ``torch.utils`` names: ``glassgrad.utils.data`` is :mod:`glassgrad.data`'s batching part;
``glassgrad.utils.checkpoint`` recomputes a segment in backward instead of keeping it."""

from . import checkpoint as checkpoint
from . import data as data
