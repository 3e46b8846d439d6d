"""``torch.utils.data``'s names: datasets, samplers, ``DataLoader``, ``random_split``, ``default_collate``.

The same classes as :mod:`glassgrad.data` (which also holds the ready-made datasets), under the
module name PyTorch code imports them from; its submodules ``dataset``, ``sampler`` and ``dataloader`` are
:mod:`glassgrad.data.dataset`, :mod:`glassgrad.data.samplers` and this module (:mod:`glassgrad.torch_names`).
"""

from typing import Any

from ..data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    Sampler,
    SequentialSampler,
    StackDataset,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    dataset,
    random_split,
)
from ..data import collate as default_collate
from ..data import convert as default_convert
from ..data import samplers as sampler


def get_worker_info() -> Any:
    """None: glassgrad loads every batch in the calling process (PyTorch's answer outside a worker)."""
    return None


__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
    "WeightedRandomSampler", "dataset", "default_collate", "default_convert", "get_worker_info", "random_split",
    "sampler",
]
