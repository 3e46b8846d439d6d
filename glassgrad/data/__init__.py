"""Data for training (``gg.data``): datasets, batching, ready-made sets and your own files.

>>> import glassgrad as gg
>>> train, val = gg.data.train_val_split(gg.data.load_dataset("moons", n_samples=200), seed=0)
>>> loader = gg.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
>>> X, y = next(iter(loader))
>>> X.shape, y.shape
(Size([32, 2]), Size([32]))
"""

from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
    train_val_split,
)
from .datasets import (
    DATASETS,
    diagonal_flip,
    linear_regression_1d,
    load_dataset,
    load_digits,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
)
from .files import load_csv, load_csv_features, load_idx, load_idx_dataset
from .loader import DataLoader, collate, convert
from .samplers import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "DATASETS", "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset",
    "RandomSampler", "Sampler", "SequentialSampler", "StackDataset", "Subset", "SubsetRandomSampler", "TensorDataset",
    "WeightedRandomSampler", "collate", "convert", "diagonal_flip",
    "linear_regression_1d", "load_csv", "load_csv_features", "load_dataset", "load_digits", "load_idx",
    "load_idx_dataset", "make_circles", "make_moons", "make_spirals", "make_xor", "random_split", "train_val_split",
]
