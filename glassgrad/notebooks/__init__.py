"""The lesson notebooks: one Jupyter notebook per course chapter, to run and change.

The notebooks ship inside the package (``NN-name.ipynb``, written by ``tools/build_notebooks.py``)
and are never edited in place: :func:`copy_notebooks` copies them into a folder the learner owns,
keeping any copy already there (the learner's edits and answers), and ``glassgrad notebook`` opens
the copies in JupyterLab. Each exercise cell grades the typed answer with
:func:`glassgrad.course.check`.

>>> [path.name for path in notebook_paths()][:2]
['01-gradient.ipynb', '02-gradient-descent.ipynb']
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..io import write_atomically


def notebook_paths() -> list[Path]:
    """The packaged notebooks, in chapter order."""
    folder = Path(str(resources.files("glassgrad.notebooks")))
    return sorted(folder.glob("[0-9][0-9]-*.ipynb"))


def find_notebook(name: str) -> Path:
    """The packaged notebook named by its chapter number (``5``, ``05``) or name (``05-diagonal-flip``,
    ``diagonal-flip``); a ValueError lists the names when none matches."""
    paths = notebook_paths()
    key = name.strip().removesuffix(".ipynb")
    for path in paths:
        number, _, rest = path.stem.partition("-")
        if key in (path.stem, rest) or (key.isdigit() and int(key) == int(number)):
            return path
    names = ", ".join(path.stem for path in paths)
    raise ValueError(f"there is no notebook {name!r}: choose a chapter number (1 to {len(paths)}) or one of {names}")


def copy_notebooks(folder: str | Path) -> tuple[list[Path], list[Path]]:
    """Copy every packaged notebook into ``folder`` (made if missing); a notebook already there is kept
    as it is. Returns (copied, kept).

    Each copy is written whole or not at all (:func:`glassgrad.io.write_atomically`): a copy cut short (the
    process killed, the disk full) would be kept as it is by every later run, a notebook JupyterLab cannot open.
    """
    target = Path(folder).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for source in notebook_paths():
        destination = target / source.name
        if destination.exists():
            kept.append(destination)
        else:
            write_atomically(destination, source.read_bytes())
            copied.append(destination)
    return copied, kept
