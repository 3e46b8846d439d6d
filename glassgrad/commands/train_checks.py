"""What ``glassgrad train`` is asked for, checked before any network is built or trained.

Sizes come with caps stated in the message (and ``--max-parameters`` to raise the one on the
network): a typo such as ``--layers 2,100000,100000,2`` (10 billion weights, 40 GB) is refused
in a line instead of ending in a MemoryError.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Optional

from ..io import missing_folder_problem
from . import CommandError, comma_separated

MAX_WIDTH = 100_000
"""Neurons in one layer (and classes of a task) that ``train`` accepts."""
MAX_PARAMETERS = 50_000_000
"""Default of ``--max-parameters``: 200 MB of float32 weights, about 1 GB while training with Adam."""
MAX_EPOCHS = 100_000
"""The most ``--epochs`` ``train`` runs: hours even for the smallest dataset, while a typo of many digits
(``--epochs 300000000``) would otherwise train for ever, as ``experiment --steps`` and ``landscape --steps`` cap."""
MIN_VALIDATION = 10
"""Fewer validation samples than this cannot tell learning from chance."""


def parse_layers(text: Optional[str], n_features: int, n_outputs: int) -> list[int]:
    """The --layers sizes from input to output (left out: one hidden layer of 256), each checked."""
    if text is None:
        return [n_features, 256, n_outputs]
    sizes = comma_separated(text, int, "--layers must be comma-separated integers such as 64,128,10")
    if len(sizes) < 2 or min(sizes) < 1:
        raise CommandError(f"--layers needs at least an input and an output size, all >= 1, got {text!r}")
    if max(sizes) > MAX_WIDTH:
        raise CommandError(f"--layers: {max(sizes)} neurons in one layer is more than this tool allows ({MAX_WIDTH})")
    if sizes[0] != n_features:
        raise CommandError(f"--layers starts with {sizes[0]} but the data has {n_features} input features")
    return sizes


def check_epochs(epochs: int) -> None:
    """Refuse more than :data:`MAX_EPOCHS` passes (fewer than one is refused with the other numbers)."""
    if epochs > MAX_EPOCHS:
        raise CommandError(f"--epochs {epochs} is more than this tool runs ({MAX_EPOCHS:,} passes, already hours): "
                           "give fewer, e.g. --epochs 30")


def check_parameters(sizes: list[int], limit: int) -> None:
    """Refuse, before allocating anything, a network with more than ``limit`` weights and biases."""
    count = sum(fan_in * fan_out + fan_out for fan_in, fan_out in zip(sizes[:-1], sizes[1:]))
    if count > limit:
        raise CommandError(f"{','.join(map(str, sizes))} has {count:,} parameters ({4 * count / 1e9:.3g} GB as "
                           f"float32, several times that while training), more than --max-parameters {limit:,}; "
                           "use smaller layers, or raise --max-parameters if you have the memory")


def enough_validation(total: int) -> Optional[float]:
    """The smallest --val-fraction (in hundredths) holding out MIN_VALIDATION of ``total`` samples; None if too few."""
    return math.ceil(MIN_VALIDATION / total * 100) / 100 if total >= 2 * MIN_VALIDATION else None


def check_validation_size(val_fraction: float, total: int) -> None:
    """Refuse data and a --val-fraction that leave the validation or the training set empty (as train_val_split
    rounds it: ``round(val_fraction · total)`` samples held out), with advice that works.

    One sample cannot be split at all; from two on, ``--val-fraction 0.5`` holds out at least one and keeps one.
    """
    if total < 2:
        raise CommandError(f"the data has only {total} sample(s): training needs at least 2, one to learn from and "
                           f"one to validate on; add rows ({2 * MIN_VALIDATION} or more give a validation set "
                           "large enough to tell learning from chance)")
    held_out = round(val_fraction * total)
    if held_out < 1:
        raise CommandError(f"--val-fraction {val_fraction:g} of {total} samples leaves the validation set empty; "
                           f"use --val-fraction {enough_validation(total) or 0.5:g} or more")
    if held_out >= total:
        raise CommandError(f"--val-fraction {val_fraction:g} of {total} samples leaves nothing to train on; "
                           "use --val-fraction 0.5 or less")


def check_two_classes(dataset: Any, data: str) -> None:
    """Refuse to train a classifier on labels of a single class: it would learn nothing (its loss is 0 at once)."""
    import numpy as np

    classes = np.unique(dataset.tensors[1].array)
    if len(classes) < 2:
        label = dataset.class_names[classes[0]] if dataset.class_names else int(classes[0])
        raise CommandError(f"{data} has one class only (every label is {label!r}): a classifier needs at "
                           "least 2 classes; add rows of another class, or use --loss mse if the target is a "
                           "quantity")


def check_save_path(save: Optional[Path]) -> None:
    """Refuse, before any training, a --save path that cannot be written."""
    if save is None:
        return
    folder = save.parent
    if save.is_dir():
        raise CommandError(f"--save {save} is a folder; give a file name such as {save / 'model.safetensors'}")
    if not folder.is_dir():
        raise CommandError(f"--save {save}: {missing_folder_problem(folder)}")
    if not os.access(folder, os.W_OK):
        raise CommandError(f"--save {save}: cannot write into the folder {folder} (permission denied)")
