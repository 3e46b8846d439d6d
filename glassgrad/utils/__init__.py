"""PyTorch's ``torch.utils`` names: ``glassgrad.utils.data`` is :mod:`glassgrad.data`'s batching part."""

from . import data as data
