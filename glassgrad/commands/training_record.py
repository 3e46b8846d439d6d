"""The training record that ``glassgrad train --save`` stores beside the weights, checked when it is read back.

``evaluate`` and ``predict`` use the record (data, target column, seed, split, loss, input and class names) to
repeat the training split and to name classes. The file may have been edited by hand or damaged, so each entry
is checked for the type and range ``train`` writes; a bad one is a one-line error naming the file and the
entry, never a Python message such as ``'int' object is not subscriptable`` from deep inside a command.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Callable

from . import CommandError

LOSSES = ("cross-entropy", "bce", "mse")
"""The losses ``train`` records (``--loss auto`` is recorded as the one it chose)."""


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_seed(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_fraction(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < 1


def _is_names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(name, str) for name in value)


ENTRIES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "data": (_is_text, "a dataset name or a .csv path"),
    "target": (_is_text, "a column name"),
    "seed": (_is_seed, "a whole number >= 0"),
    "val_fraction": (_is_fraction, "a number between 0 and 1"),
    "loss": (lambda value: value in LOSSES, f"one of {', '.join(LOSSES)}"),
    "feature_names": (_is_names, "a list of column names"),
    "class_names": (_is_names, "a list of class names"),
}
"""Each entry the commands read: a test of its value (``None`` or absent always passes) and what it should be."""


def load_model_file(path: Path) -> Any:
    """What ``gg.load`` reads from the model file of ``evaluate``, ``predict`` or ``export-torch``.

    A file that is not there is refused in one line that also says how to make one, since a learner trying
    ``glassgrad evaluate model.safetensors`` first has none.
    """
    import glassgrad as gg  # NumPy and the engine load only when a command runs (see commands/__init__.py)

    try:
        return gg.load(path)
    except FileNotFoundError as error:
        if Path(path).exists():  # a folder: the message already says so
            raise
        raise CommandError(f"{error}; `glassgrad train --data digits --save {path}` makes one") from None


def read_training_record(saved: dict, path: Path, n_outputs: int) -> dict:
    """The checked training record of the model file at ``path`` (``{}`` when it has none).

    ``n_outputs`` is the model's number of outputs: a class name is needed for each (two for ``bce``).
    Raises :class:`~glassgrad.commands.CommandError` naming the file and the damaged entry.
    """
    record = saved.get("training")
    if record is None:
        return {}
    fix = "train and save it again with `glassgrad train --save`"
    if not isinstance(record, dict):
        raise CommandError(f"{path}: its training record is damaged (not a dict); {fix}")
    for name, (valid, wanted) in ENTRIES.items():
        value = record.get(name)
        if value is not None and not valid(value):
            raise CommandError(f"{path}: its training record is damaged ({name} is {_shown(value)}, expected "
                               f"{wanted}); {fix}")
    names, loss = record.get("class_names"), record.get("loss", "cross-entropy")
    needed = 2 if loss == "bce" else n_outputs
    if names is not None and loss != "mse" and len(names) < needed:
        raise CommandError(f"{path}: its training record is damaged (class_names lists {len(names)} name(s) for "
                           f"{needed} classes); {fix}")
    return record


def _shown(value: Any) -> str:
    """``value`` as the message shows it: its repr, cut to 40 characters (a float as ``%g``)."""
    text = f"{value:g}" if isinstance(value, float) and math.isfinite(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
