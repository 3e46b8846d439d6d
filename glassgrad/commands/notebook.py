"""``glassgrad notebook``: copy the lesson notebooks into a folder of your own and open them in JupyterLab.

The packaged notebooks are never edited: the copies are, and a copy already in the folder is kept (your
answers and changes stay). JupyterLab is optional (``pip install "glassgrad[notebook]"``); without it the
command says how to install it and exits with code 2 (``--copy-only`` copies without it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import CommandError, switch
from .output_files import output_folder, reporting_write_errors

INSTALL_HINT = 'JupyterLab is not installed: pip install "glassgrad[notebook]" (or use --copy-only)'


def notebook(
    name: Optional[str] = typer.Argument(None, help=(
        "The notebook to open: a chapter number (5) or name (diagonal-flip); all of them when left out.")),
    folder: Path = typer.Option(Path("glassgrad-notebooks"), "--folder", help=(
        "Where your copies go (made if missing; a notebook already there is kept as it is).")),
    copy_only: bool = switch("--copy-only", "copy the notebooks and stop, without starting JupyterLab"),
) -> None:
    """Open the lesson notebooks in JupyterLab: one per chapter, with exercises graded in the notebook.
    They are copied into --folder first and the copies are what you edit. JupyterLab is optional:
    pip install "glassgrad\\[notebook]"."""
    # the help is rich markup, where [notebook] would vanish as a tag: \\[ keeps the bracket
    import subprocess
    import sys

    from ..notebooks import copy_notebooks, find_notebook

    chosen = find_notebook(name) if name is not None else None
    if not copy_only:
        try:
            import jupyterlab  # noqa: F401  (only whether it is there)
        except ImportError:
            raise CommandError(INSTALL_HINT) from None
    with reporting_write_errors(output_folder(folder, "--folder"), "--folder", "a folder"):
        copied, kept = copy_notebooks(folder)
    typer.echo(f"{len(copied)} notebooks copied to {folder.resolve()}"
               + (f" ({len(kept)} already there, kept as they are)" if kept else ""))
    if copy_only:
        return
    target = folder / chosen.name if chosen is not None else folder
    code = subprocess.call([sys.executable, "-m", "jupyterlab", str(target)])
    if code:
        raise CommandError(f"JupyterLab stopped with exit code {code}")


def register(app: typer.Typer) -> None:
    app.command()(notebook)
