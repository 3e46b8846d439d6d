"""``torch.utils.data``'s names (``Dataset``, ``TensorDataset``, ``DataLoader``, ``random_split``, ``Subset``).

The same classes as :mod:`glassgrad.data` (which also holds the ready-made datasets), under the
module name PyTorch code imports them from.
"""

from ..data import DataLoader, Dataset, Subset, TensorDataset, random_split

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "random_split"]
