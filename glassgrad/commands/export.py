"""``glassgrad export-torch MODEL``: the PyTorch source of a saved model (graduating to PyTorch).

Prints a PyTorch program that builds the same layers with the same arguments and loads the
saved weights into them (see :mod:`glassgrad.torch_export`); ``--weights OUT`` also writes the
model's tensors alone, under PyTorch's names, for ``model.load_state_dict(load_file(OUT))``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import CommandError
from .output_files import refuse_overwriting_an_input, reporting_write_errors
from .training_record import load_model_file


def export_torch(
    model_path: Path = typer.Argument(..., metavar="MODEL",
                                      help="a .safetensors file from `glassgrad train --save`"),
    weights: Optional[Path] = typer.Option(None, "--weights", metavar="OUT",
                                           help="also write the model's weights alone, as PyTorch names them, to OUT"),
) -> int:
    """Print the PyTorch source of a saved model: the same layers, loading the same weights."""
    import glassgrad as gg
    from glassgrad.torch_export import torch_source

    refuse_overwriting_an_input(weights, "--weights", {"the model file": model_path})
    saved = load_model_file(model_path)
    if not isinstance(saved, dict) or not isinstance(saved.get("architecture"), dict) \
            or not isinstance(saved.get("model"), dict):
        raise CommandError(f"{model_path} holds no architecture next to its weights: save it with `glassgrad train "
                           "--save` or gg.save({'model': model.state_dict(), 'architecture': "
                           "gg.nn.architecture(model)}, path)")
    try:  # the description and the weights must agree, and the source be written, before any file is
        gg.nn.from_architecture(saved["architecture"], saved["model"])
        source = torch_source(saved["architecture"], str(model_path if weights is None else weights),
                              prefix="model." if weights is None else "")
    except (ValueError, RuntimeError) as error:
        raise CommandError(f"{model_path}: {str(error).splitlines()[0]}") from None
    if weights is not None:
        with reporting_write_errors(weights, "--weights"):
            gg.save(saved["model"], weights)
    print(source)
    return 0


def register(app: typer.Typer) -> None:
    app.command("export-torch")(export_torch)
