"""Training commands: ``glassgrad train``, ``glassgrad evaluate MODEL``, ``glassgrad predict MODEL``.

``train --save`` stores, next to the weights and the architecture, how the model was trained
(data, target column, seed, split, loss) and the names of its inputs and classes, so that
``evaluate`` repeats the same split and matches CSV columns and class labels by name, and
``predict`` answers with the class names.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import typer

from ..arguments import counted
from ..nn.architecture import ACTIVATION_NAMES
from ..terminal import terminal_width
from ..trace.numbers import DECIMALS, rounded_text, rounding_note
from ..training import Callback
from . import CommandError, CommandFailed, comma_separated, number_refusal, say_rounding, switch
from .output_files import refuse_overwriting_an_input, reporting_write_errors
from .train_checks import (
    MAX_PARAMETERS,
    MAX_WIDTH,
    MIN_VALIDATION,
    check_epochs,
    check_parameters,
    check_save_path,
    check_two_classes,
    check_validation_size,
    enough_validation,
    parse_layers,
)
from .training_record import LOSSES as RECORDED_LOSSES
from .training_record import load_model_file, read_training_record

DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.003, "adamw": 0.003, "rmsprop": 0.001,
              "adagrad": 0.05}
ACTIVATIONS = tuple(ACTIVATION_NAMES)
"""``--activation``: every activation layer of :mod:`glassgrad.nn.activation`, by :func:`gg.nn.mlp`'s names."""
LOSSES = ("auto", *RECORDED_LOSSES)
PERCENT_DECIMALS = 2
"""Accuracies are shown in % to this many decimals (losses and values to :data:`DECIMALS`)."""
PROBABILITY_DECIMALS = 3
"""``predict`` shows each class's probability to this many decimals."""
MAX_LOSS_GROWTH = 100.0
"""``train`` stops, explaining why, when a batch's loss exceeds this multiple of the first one's."""


def _load_data(data: str, target: Optional[str], seed: int, saved_target: Optional[str] = None, loss: str = "auto"):
    """The dataset ``--data`` names; ``--target`` (else the column a saved model was trained on) for a .csv, read as
    quantities for ``--loss mse`` (whole numbers too: ``-1, 0, 5`` are not class ids 0, 1, 2 there)."""
    from glassgrad import data as gg_data

    if Path(data).suffix.lower() == ".csv":
        target = saved_target if target is None else target
        column: str | int = "label" if target is None else _column_index(target)
        return gg_data.load_csv(data, target=column, task="regression" if loss == "mse" else "auto")
    if data not in gg_data.DATASETS:
        known = ", ".join(gg_data.DATASETS)
        raise CommandError(f"unknown --data {data!r}: use one of {known}, or a path to a .csv file")
    if target is not None:
        raise CommandError(f"--target picks a column of a .csv file, but --data {data} is a built-in dataset with its "
                           "own targets: leave --target out, or give a .csv file")
    return gg_data.load_dataset(data, seed=seed)


def _column_index(target: str) -> str | int:
    """``--target``: a whole number (``2``, ``-1``) is a column index, anything else a column name."""
    try:
        return int(target)
    except ValueError:  # '²' passes str.isdigit but not int(): a name
        return target


def _task(dataset, sizes_hint: Optional[str], loss: str) -> tuple[str, int]:
    """Decide the loss ('cross-entropy', 'bce' or 'mse') and the number of outputs."""
    import numpy as np

    y = dataset.tensors[1].array
    out_from_layers = int(sizes_hint.split(",")[-1]) if sizes_hint and sizes_hint.split(",")[-1].strip().isdigit() \
        else None
    if loss == "auto":
        if y.dtype.kind in "iu":
            loss = "bce" if out_from_layers == 1 else "cross-entropy"
        else:
            loss = "mse"
    if loss in ("cross-entropy", "bce") and y.dtype.kind not in "iu":
        raise CommandError(f"--loss {loss} needs class labels, but the targets are real numbers; use --loss mse")
    if loss == "cross-entropy":
        largest = int(y.max())
        if largest >= MAX_WIDTH:
            raise CommandError(f"the largest class label is {largest}, so the network would need {largest + 1} "
                               f"outputs (more than {MAX_WIDTH}); number the classes 0, 1, …, k−1, or use "
                               "--loss mse if the target is a quantity")
        return loss, largest + 1
    if loss == "bce":
        if not np.isin(y, (0, 1)).all():
            raise CommandError("--loss bce needs two classes labelled 0 and 1")
        return loss, 1
    return loss, (y.shape[1] if y.ndim == 2 else 1)


def _prepare_targets(dataset, loss: str):
    """Targets in the form each loss expects: indices for CE, float columns for BCE/MSE."""
    from glassgrad.data import TensorDataset

    if loss == "cross-entropy":
        return dataset
    features, targets = dataset.tensors
    column = targets.float() if targets.ndim == 2 else targets.float().reshape(-1, 1)
    return TensorDataset(features, column.detach(), feature_names=dataset.feature_names,
                         class_names=dataset.class_names)


def _loss_module(loss: str):
    from glassgrad import nn

    return {"cross-entropy": nn.CrossEntropyLoss, "bce": nn.BCEWithLogitsLoss, "mse": nn.MSELoss}[loss]()


def _optimizer(name: str, parameters, lr: float):
    from glassgrad import optim

    if name == "sgd":
        return optim.SGD(parameters, lr=lr)
    if name in ("momentum", "nesterov"):
        return optim.SGD(parameters, lr=lr, momentum=0.9, nesterov=name == "nesterov")
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "rmsprop": optim.RMSprop, "adagrad": optim.Adagrad}
    return classes[name](parameters, lr=lr)


def train(
    data: str = typer.Option("digits", help="digits, moons, circles, spirals, xor, diagonal-flip, linear-1d or a .csv"),
    target: Optional[str] = typer.Option(None, help="CSV only: the target column (name or index; default 'label')"),
    layers: Optional[str] = typer.Option(None, help="sizes from input to output, e.g. 64,128,10 (default in,256,out)"),
    activation: str = typer.Option("relu", help=f"{', '.join(ACTIVATIONS[:-1])} or {ACTIVATIONS[-1]}"),
    loss: str = typer.Option("auto", help="auto, cross-entropy, bce or mse"),
    optimizer: str = typer.Option("adam", help="sgd, momentum, nesterov, adam, adamw, rmsprop or adagrad"),
    lr: Optional[float] = typer.Option(None, help="learning rate (default depends on the optimizer)"),
    batch_size: int = typer.Option(32, help="samples per step (1 = SGD; the whole set = batch GD)"),
    epochs: int = typer.Option(30, help="passes over the training set"),
    seed: int = typer.Option(0, help="seed for data, initial weights and shuffling"),
    val_fraction: float = typer.Option(0.2, help="share of the data held out for validation"),
    clip: Optional[float] = typer.Option(None, help="clip the gradient norm to this value"),
    save: Optional[Path] = typer.Option(None, help="write the trained model to this .safetensors file"),
    max_parameters: int = typer.Option(MAX_PARAMETERS, help="refuse networks with more weights and biases"),
    compiled: bool = switch("--compile", "capture the training step once and replay it (gg.compile): the same "
                            "numbers, in less time"),
) -> int:
    """Train a multilayer perceptron and print a train/validation accuracy table."""
    import glassgrad as gg
    from glassgrad.data import DataLoader, train_val_split

    if activation not in ACTIVATIONS:
        raise CommandError(f"unknown --activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise CommandError(f"unknown --loss {loss!r}: use one of {', '.join(LOSSES)}")
    if optimizer not in DEFAULT_LR:
        raise CommandError(f"unknown --optimizer {optimizer!r}: use one of {', '.join(DEFAULT_LR)}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    checks = [("--lr", lr, math.isfinite(lr) and lr > 0), ("--batch-size", batch_size, batch_size >= 1),
              ("--epochs", epochs, epochs >= 1), ("--val-fraction", val_fraction, 0 < val_fraction < 1),
              ("--clip", clip, clip is None or (math.isfinite(clip) and clip > 0)), ("--seed", seed, seed >= 0),
              ("--max-parameters", max_parameters, max_parameters >= 1)]
    for option, value, allowed in checks:
        if not allowed:
            raise number_refusal(option, value)
    check_epochs(epochs)
    check_save_path(save)
    refuse_overwriting_an_input(save, "--save", {"the --data file": data})

    dataset = _load_data(data, target, seed, loss=loss)
    loss, n_outputs = _task(dataset, layers, loss)
    sizes = parse_layers(layers, dataset.tensors[0].shape[1], n_outputs)
    if sizes[-1] != n_outputs:
        raise CommandError(f"--layers ends with {sizes[-1]} but this task needs {n_outputs} output(s) ({loss})")
    check_parameters(sizes, max_parameters)
    check_validation_size(val_fraction, len(dataset))
    if loss != "mse":
        check_two_classes(dataset, data)
    dataset = _prepare_targets(dataset, loss)
    train_set, val_set = train_val_split(dataset, val_fraction=val_fraction, seed=seed)
    model = gg.nn.mlp(sizes, activation=activation, seed=seed)
    loss_fn = _loss_module(loss)
    opt = _optimizer(optimizer, model.parameters(), lr)
    print(f"training {' → '.join(map(str, sizes))} ({activation}, {loss}, {optimizer} lr={lr:g}, batch {batch_size})\n"
          f"on {data}: {len(train_set)} train / {len(val_set)} validation samples")  # two lines: 80 columns each
    interactive = terminal_width() is not None  # a progress bar in a terminal, one line per epoch otherwise
    history = gg.fit(
        model, loss_fn, opt, DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed), epochs=epochs,
        val_loader=DataLoader(val_set, batch_size=max(batch_size, 256)), clip_grad_norm=clip,
        callbacks=[] if interactive else [EpochPrinter()], progress=interactive, max_loss_growth=MAX_LOSS_GROWTH,
        compile=compiled,
    )
    if history.diverged is not None:
        if not interactive:  # under a progress bar, fit has printed it already
            print(history.diverged.message)
        if save is not None:
            print(f"nothing was saved to {save}")
        raise CommandFailed(f"training diverged at epoch {history.diverged.epoch}, step {history.diverged.step} "
                            f"(the reason is above): lower --lr (now {lr:g}) or add --clip 1.0"
                            + (f"; nothing was saved to {save}" if save is not None else ""))
    final = _print_summary(model, loss_fn, train_set, val_set, history)
    if len(val_set) < MIN_VALIDATION:
        enough = enough_validation(len(dataset))
        print(f"note: the validation set has only {len(val_set)} sample(s), too few to tell learning from chance; "
              + (f"--val-fraction {enough:g} holds out {MIN_VALIDATION} or more." if enough
                 else "the dataset is too small to hold out enough."))
    else:
        _warn_if_chance_level(final.get("accuracy"), val_set, lr)
    if save is not None:
        training = {"data": data, "target": target, "seed": seed, "val_fraction": val_fraction, "loss": loss,
                    "epochs": epochs, "feature_names": dataset.feature_names, "class_names": dataset.class_names}
        with reporting_write_errors(save, "--save"):
            gg.save({"model": model.state_dict(), "architecture": gg.nn.architecture(model), "training": training},
                    save)
        print(f"saved the model to {save}")
    return 0


class EpochPrinter(Callback):
    """One line per epoch, for logs and pipes (where no progress bar is shown): a table under one heading line,
    accuracy as a percentage as the final table writes it, so that a line fits 80 columns::

        epoch  train loss  train accuracy  val loss  val accuracy
            1      0.4085          77.38%    0.2516        88.00%
    """

    COLUMNS = {"train_loss": "train loss", "train_accuracy": "train accuracy", "val_loss": "val loss",
               "val_accuracy": "val accuracy"}

    def on_epoch_end(self, state) -> None:
        record = state.history.last
        keys = [key for key in self.COLUMNS if key in record]
        if record["epoch"] == 1:
            print("  ".join(["epoch", *(self.COLUMNS[key] for key in keys)]))
        cells = [str(record["epoch"]).rjust(len("epoch"))]
        cells += [(rounded_text(record[key], PERCENT_DECIMALS, "%") if key.endswith("accuracy")
                   else rounded_text(record[key], DECIMALS)).rjust(len(self.COLUMNS[key])) for key in keys]
        print("  ".join(cells), flush=True)


def _print_summary(model, loss_fn, train_set, val_set, history) -> dict[str, float]:
    """Print loss and accuracy of the final model on both sets (:func:`_rounding`); return val's."""
    from rich.console import Console
    from rich.table import Table

    from glassgrad.data import DataLoader
    from glassgrad.training import evaluate as evaluate_model

    epochs, seconds = len(history), sum(history["seconds"])
    table = Table(title=f"after {epochs} epoch{'s' if epochs != 1 else ''} ({rounded_text(seconds, 3, 'g')} s)")
    table.add_column("final model on")
    table.add_column("loss", justify="right")
    table.add_column("accuracy", justify="right")
    results = {}
    for label, subset in (("train", train_set), ("validation", val_set)):
        results[label] = evaluate_model(model, loss_fn, DataLoader(subset, batch_size=256))
        accuracy = results[label].get("accuracy")
        table.add_row(label, rounded_text(results[label]['loss'], DECIMALS),
                      "—" if accuracy is None else rounded_text(accuracy, PERCENT_DECIMALS, "%"))
    Console().print(table)
    say_rounding(_rounding(results["validation"].get("accuracy")))  # once, for the epoch lines above too
    return results["validation"]


def _rounding(accuracy: Optional[float]) -> str:
    """The note under the losses (and accuracies, in %, when the task has them) that ``train`` and ``evaluate``
    print."""
    return rounding_note(DECIMALS, None if accuracy is None else PERCENT_DECIMALS)


def _warn_if_chance_level(accuracy: Optional[float], val_set, lr: float) -> None:
    """Say so when the model does no better than always answering the most common class."""
    import numpy as np

    if accuracy is None:
        return
    labels = val_set.dataset.tensors[1].array[val_set.indices]
    _, counts = np.unique(labels.reshape(len(labels), -1), axis=0, return_counts=True)
    share = counts.max() / len(labels)
    if accuracy <= share:
        print(f"note: validation accuracy {rounded_text(accuracy, PERCENT_DECIMALS, '%')} is no better than always "
              f"answering the most common class ({rounded_text(share, PERCENT_DECIMALS, '%')}): the network has not "
              f"learned. If the loss jumped up early, the learning rate ({lr:g}) is too large; otherwise train longer "
              "or raise it.")


def _load_model(path: Path):
    """The model saved at ``path`` (in eval mode), its input and output sizes, and how it was trained.

    Refused in one line: a file without an architecture, weights that do not fit it or are not finite (NaN, ±∞),
    and a damaged training record (:func:`.training_record.read_training_record`).
    """
    import numpy as np

    import glassgrad as gg

    saved = load_model_file(path)
    if not isinstance(saved, dict) or "architecture" not in saved or "model" not in saved:
        raise CommandError(f"{path} holds weights but no architecture: save it with `glassgrad train --save`")
    if not isinstance(saved["model"], dict):
        raise CommandError(f"{path}: its 'model' entry is not a state dict of tensors; save it with "
                           "`glassgrad train --save`")
    try:  # the architecture is checked against the stored shapes before any layer is built
        model = gg.nn.from_architecture(saved["architecture"], saved["model"])
    except ValueError as error:
        raise CommandError(f"{path}: {error}") from None
    except RuntimeError as error:
        lines = str(error).splitlines()
        problem = lines[min(1, len(lines) - 1)].strip()  # the first line is a heading
        raise CommandError(f"{path}: its weights do not fit its architecture ({problem})") from None
    model.eval()
    for name, value in model.state_dict().items():  # a NaN weight would print NaN answers as if they were fine
        if value.is_floating_point() and not np.isfinite(value.array).all():
            raise CommandError(f"{path} holds non-finite weights in {name!r}; retrain or load another checkpoint")
    linears = [layer for layer in model.modules() if isinstance(layer, gg.nn.Linear)]
    if not linears:
        raise CommandError(f"{path}: the saved model has no Linear layer, so its input size is unknown")
    info = read_training_record(saved, path, linears[-1].out_features)
    return model, (linears[0].in_features, linears[-1].out_features), info


def _matched(dataset, info: dict, name: str):
    """``dataset`` with its input columns and class ids in the order the model was trained with."""
    import numpy as np

    from glassgrad.data import TensorDataset
    from glassgrad.data.files import columns_by_name

    X, y = (t.array for t in dataset.tensors)
    features, classes = dataset.feature_names, dataset.class_names
    trained_features, trained_classes = info.get("feature_names"), info.get("class_names")
    if features and trained_features and features != trained_features:
        missing = [column for column in trained_features if column not in features]
        if missing:
            listed = ", ".join(map(repr, missing[:3])) + (f" … ({len(missing)} in all)" if len(missing) > 3 else "")
            raise CommandError(f"{name} lacks input column(s) the model was trained with: {listed}")
        X = X[:, columns_by_name(name, features, trained_features)]
    if classes and trained_classes and classes != trained_classes:
        unknown = [label for label in classes if label not in trained_classes]
        if unknown:
            raise CommandError(f"{name} has labels {', '.join(map(repr, unknown))} that the model never saw; it "
                               f"knows {', '.join(map(repr, trained_classes))}")
        y = np.array([trained_classes.index(label) for label in classes])[y]
    return TensorDataset(X, y, feature_names=trained_features or features, class_names=trained_classes or classes)


def evaluate(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="a .safetensors file from `glassgrad train --save`"),
    data: Optional[str] = typer.Option(None, help="dataset name or .csv (default: the one it was trained on)"),
    target: Optional[str] = typer.Option(None, help="CSV only: the target column"),
    split: str = typer.Option("val", help="val, train or all (val/train repeat the training split by seed)"),
) -> int:
    """Report loss and accuracy of a saved model on a dataset."""
    from glassgrad.data import DataLoader, train_val_split
    from glassgrad.training import evaluate as evaluate_model

    if split not in ("val", "train", "all"):
        raise CommandError(f"--split must be val, train or all, got {split!r}")
    model, (n_inputs, n_outputs), info = _load_model(model_path)
    name = data or info.get("data")
    if name is None:
        raise CommandError("say which data to evaluate on with --data")
    seed = int(info.get("seed", 0))
    loss = info.get("loss", "cross-entropy")
    dataset = _matched(_load_data(name, target, seed, saved_target=info.get("target"), loss=loss), info, name)
    if dataset.tensors[0].shape[1] != n_inputs:
        raise CommandError(f"{name} has {dataset.tensors[0].shape[1]} input features but the model in {model_path} "
                           f"takes {n_inputs}")
    _, needed = _task(dataset, None, loss)
    if needed > n_outputs or (loss != "cross-entropy" and needed != n_outputs):
        what = f"class labels up to {needed - 1}" if loss == "cross-entropy" else f"{needed} target column(s)"
        raise CommandError(f"{name} has {what}, but the model in {model_path} has {n_outputs} output(s)")
    dataset = _prepare_targets(dataset, loss)
    if split != "all":
        val_fraction = float(info.get("val_fraction", 0.2))
        try:
            train_set, val_set = train_val_split(dataset, val_fraction=val_fraction, seed=seed)
        except ValueError:  # too few samples for the split the model was trained with
            raise CommandError(f"{name} has {len(dataset)} sample(s), too few to repeat the training split "
                               f"(validation fraction {val_fraction:g}) that --split {split} needs; use --split all "
                               "to evaluate on every sample") from None
        dataset = val_set if split == "val" else train_set
    result = evaluate_model(model, _loss_module(loss), DataLoader(dataset, batch_size=256))
    accuracy = result.get("accuracy")
    print(f"{model_path} on {name} ({split}, {len(dataset)} samples): loss {rounded_text(result['loss'], DECIMALS)}"
          + ("" if accuracy is None else f", accuracy {rounded_text(accuracy, PERCENT_DECIMALS, '%')}"))
    say_rounding(_rounding(accuracy))
    return 0


def predict(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="a .safetensors file from `glassgrad train --save`"),
    input: str = typer.Option(..., "--input", help="comma-separated feature values, or a .csv file of feature rows"),
) -> int:
    """Print the model's prediction (class and probabilities, or value) for each input row."""
    import numpy as np

    import glassgrad as gg

    model, (n_inputs, _), info = _load_model(model_path)
    rows = _input_rows(input, info.get("feature_names"))
    if rows.shape[1] != n_inputs:
        raise CommandError(f"--input has {counted(rows.shape[1], 'value')} per row but the model expects {n_inputs}")
    with gg.no_grad():
        output = model(gg.tensor(rows))
    loss = info.get("loss", "cross-entropy")
    names = info.get("class_names")
    for values in output.array:
        if loss == "cross-entropy":
            probs = gg.tensor(values).softmax(-1).array
            best = int(np.argmax(probs))
            shown = " ".join(rounded_text(p, PROBABILITY_DECIMALS) for p in probs)
            print(f"class {names[best] if names else best}  probabilities {shown}")
        elif loss == "bce":
            probability = float(gg.tensor(values).sigmoid().item())
            best = int(probability > 0.5)
            chance = rounded_text(probability, PROBABILITY_DECIMALS)
            print(f"class {names[best] if names else best}  P(class {names[1] if names else 1}) = {chance}")
        else:
            print("prediction " + " ".join(rounded_text(v, DECIMALS) for v in values))
    say_rounding(rounding_note(DECIMALS if loss == "mse" else PROBABILITY_DECIMALS))
    return 0


def _input_rows(text: str, feature_names: Optional[list]):
    """The rows to predict: comma-separated numbers (one row), or a CSV file's rows (picked by header names)."""
    import numpy as np

    from glassgrad.data import load_csv_features

    if Path(text).suffix.lower() == ".csv":
        return load_csv_features(text, feature_names)
    values = comma_separated(text, float, "--input must be comma-separated numbers or a .csv path")
    with np.errstate(over="ignore"):
        row = np.array([values], dtype=np.float32)
    for position, (value, stored) in enumerate(zip(values, row[0]), 1):
        if not np.isfinite(stored):
            raise CommandError(f"--input value {position} ({value:g}) is not a finite float32 number; give real "
                               "numbers within ±3.4e38")
    return row


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
    app.command()(predict)
