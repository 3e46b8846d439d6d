"""Training commands: ``glassgrad train``, ``glassgrad evaluate MODEL``, ``glassgrad predict MODEL``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from ..cli import CommandError
from ..training import Callback

DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.003, "adamw": 0.003, "rmsprop": 0.001,
              "adagrad": 0.05}
ACTIVATIONS = ("relu", "leaky_relu", "sigmoid", "tanh")
LOSSES = ("auto", "cross-entropy", "bce", "mse")


def _parse_layers(text: Optional[str], n_features: int, n_outputs: int) -> list[int]:
    if text is None:
        return [n_features, 256, n_outputs]
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"--layers must be comma-separated integers such as 64,128,10, got {text!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise CommandError(f"--layers needs at least an input and an output size, all >= 1, got {text!r}")
    if max(sizes) > 100_000:
        raise CommandError(f"--layers: {max(sizes)} neurons in one layer is more than this tool allows (100000)")
    if sizes[0] != n_features:
        raise CommandError(f"--layers starts with {sizes[0]} but the data has {n_features} input features")
    return sizes


def _load_data(data: str, target: Optional[str], seed: int):
    from glassgrad import data as gg_data

    if data.endswith(".csv") or Path(data).suffix.lower() == ".csv":
        column: str | int = "label" if target is None else (int(target) if target.lstrip("-").isdigit() else target)
        return gg_data.load_csv(data, target=column)
    if data not in gg_data.DATASETS:
        known = ", ".join(gg_data.DATASETS)
        raise CommandError(f"unknown --data {data!r}: use one of {known}, or a path to a .csv file")
    return gg_data.load_dataset(data, seed=seed)


def _task(dataset, sizes_hint: Optional[str], loss: str) -> tuple[str, int]:
    """Decide the loss ('cross-entropy', 'bce' or 'mse') and the number of outputs."""
    import numpy as np

    features, targets = dataset.tensors[0], dataset.tensors[1]
    y = targets.data
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
        return loss, int(y.max()) + 1
    if loss == "bce":
        if not np.isin(y, (0, 1)).all():
            raise CommandError("--loss bce needs two classes labelled 0 and 1")
        return loss, 1
    del features
    return loss, (y.shape[1] if y.ndim == 2 else 1)


def _prepare_targets(dataset, loss: str):
    """Targets in the form each loss expects: indices for CE, float columns for BCE/MSE."""
    from glassgrad.data import TensorDataset

    features, targets = dataset.tensors[0], dataset.tensors[1]
    if loss == "cross-entropy":
        return dataset
    column = targets.float() if targets.ndim == 2 else targets.float().reshape(-1, 1)
    return TensorDataset(features, column.detach())


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
    activation: str = typer.Option("relu", help="relu, leaky_relu, sigmoid or tanh"),
    loss: str = typer.Option("auto", help="auto, cross-entropy, bce or mse"),
    optimizer: str = typer.Option("adam", help="sgd, momentum, nesterov, adam, adamw, rmsprop or adagrad"),
    lr: Optional[float] = typer.Option(None, help="learning rate (default depends on the optimizer)"),
    batch_size: int = typer.Option(32, help="samples per step (1 = SGD; the whole set = batch GD)"),
    epochs: int = typer.Option(30, help="passes over the training set"),
    seed: int = typer.Option(0, help="seed for data, initial weights and shuffling"),
    val_fraction: float = typer.Option(0.2, help="share of the data held out for validation"),
    clip: Optional[float] = typer.Option(None, help="clip the gradient norm to this value"),
    save: Optional[Path] = typer.Option(None, help="write the trained model to this .safetensors file"),
) -> int:
    """Train a multilayer perceptron and print a train/validation accuracy table."""
    import math

    import glassgrad as gg
    from glassgrad.data import DataLoader, train_val_split

    if activation not in ACTIVATIONS:
        raise CommandError(f"unknown --activation {activation!r}: use one of {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise CommandError(f"unknown --loss {loss!r}: use one of {', '.join(LOSSES)}")
    if optimizer not in DEFAULT_LR:
        raise CommandError(f"unknown --optimizer {optimizer!r}: use one of {', '.join(DEFAULT_LR)}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    if not (math.isfinite(lr) and lr > 0):
        raise CommandError(f"--lr must be a positive finite number, got {lr}")
    if batch_size < 1 or epochs < 1:
        raise CommandError("--batch-size and --epochs must be at least 1")
    if not 0 < val_fraction < 1:
        raise CommandError(f"--val-fraction must be between 0 and 1, got {val_fraction}")

    dataset = _load_data(data, target, seed)
    loss, n_outputs = _task(dataset, layers, loss)
    sizes = _parse_layers(layers, dataset.tensors[0].shape[1], n_outputs)
    if sizes[-1] != n_outputs:
        raise CommandError(f"--layers ends with {sizes[-1]} but this task needs {n_outputs} output(s) ({loss})")
    dataset = _prepare_targets(dataset, loss)
    train_set, val_set = train_val_split(dataset, val_fraction=val_fraction, seed=seed)
    model = gg.nn.mlp(sizes, activation=activation, seed=seed)
    loss_fn = _loss_module(loss)
    opt = _optimizer(optimizer, model.parameters(), lr)
    print(f"training {' → '.join(map(str, sizes))} ({activation}, {loss}, {optimizer} lr={lr:g}, "
          f"batch {batch_size}) on {data}: {len(train_set)} train / {len(val_set)} validation samples")
    history = gg.fit(
        model, loss_fn, opt, DataLoader(train_set, batch_size=batch_size, shuffle=True, seed=seed), epochs=epochs,
        val_loader=DataLoader(val_set, batch_size=max(batch_size, 256)), clip_grad_norm=clip,
        callbacks=[EpochPrinter()],
    )
    _print_summary(history)
    if history.diverged is not None:
        print(history.diverged.message)
        return 1
    if save is not None:
        gg.save({"model": model.state_dict(), "architecture": gg.nn.architecture(model),
                 "training": {"data": data, "target": target, "seed": seed, "val_fraction": val_fraction,
                              "loss": loss, "epochs": epochs}}, save)
        print(f"saved the model to {save}")
    return 0


class EpochPrinter(Callback):
    """One line per epoch when no progress bar is shown (logs, pipes)."""

    def on_epoch_end(self, state) -> None:
        if sys.stdout.isatty():
            return
        record = state.history.last
        parts = [f"epoch {record['epoch']:3d}", f"train loss {record['train_loss']:.4f}"]
        parts += [f"{key.replace('_', ' ')} {record[key]:.4f}" for key in
                  ("train_accuracy", "val_loss", "val_accuracy") if key in record]
        print("  ".join(parts), flush=True)


def _print_summary(history) -> None:
    from rich.console import Console
    from rich.table import Table

    if not history.records:
        return
    last = history.last
    table = Table(title=f"after {last['epoch']} epochs ({sum(history['seconds']):.1f} s)")
    table.add_column("set")
    table.add_column("loss", justify="right")
    table.add_column("accuracy", justify="right")
    for label, prefix in (("train", "train_"), ("validation", "val_")):
        accuracy = last.get(prefix + "accuracy")
        table.add_row(label, f"{last.get(prefix + 'loss', float('nan')):.4f}",
                      "—" if accuracy is None else f"{accuracy:.2%}")
    Console().print(table)


def _load_model(path: Path):
    import glassgrad as gg

    if not path.exists():
        raise CommandError(f"model file {path} does not exist")
    saved = gg.load(path)
    if "architecture" not in saved or "model" not in saved:
        raise CommandError(f"{path} holds weights but no architecture: save it with `glassgrad train --save`")
    model = gg.nn.from_architecture(saved["architecture"])
    model.load_state_dict(saved["model"])
    model.eval()
    return model, saved.get("training", {})


def evaluate(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="a .safetensors file from `glassgrad train --save`"),
    data: Optional[str] = typer.Option(None, help="dataset name or .csv (default: the one it was trained on)"),
    target: Optional[str] = typer.Option(None, help="CSV only: the target column"),
    split: str = typer.Option("val", help="val, train or all (val/train repeat the training split by seed)"),
) -> int:
    """Report loss and accuracy of a saved model on a dataset."""
    from glassgrad.data import DataLoader, train_val_split
    from glassgrad.training import evaluate as evaluate_model

    model, info = _load_model(model_path)
    if split not in ("val", "train", "all"):
        raise CommandError(f"--split must be val, train or all, got {split!r}")
    name = data or info.get("data")
    if name is None:
        raise CommandError("say which data to evaluate on with --data")
    seed = int(info.get("seed", 0))
    loss = info.get("loss", "cross-entropy")
    dataset = _prepare_targets(_load_data(name, target or info.get("target"), seed), loss)
    if split != "all":
        train_set, val_set = train_val_split(dataset, val_fraction=float(info.get("val_fraction", 0.2)), seed=seed)
        dataset = val_set if split == "val" else train_set
    result = evaluate_model(model, _loss_module(loss), DataLoader(dataset, batch_size=256))
    accuracy = result.get("accuracy")
    print(f"{model_path} on {name} ({split}, {len(dataset)} samples): loss {result['loss']:.4f}"
          + ("" if accuracy is None else f", accuracy {accuracy:.2%}"))
    return 0


def predict(
    model_path: Path = typer.Argument(..., metavar="MODEL", help="a .safetensors file from `glassgrad train --save`"),
    input: str = typer.Option(..., "--input", help="comma-separated feature values, or a .csv file of feature rows"),
) -> int:
    """Print the model's prediction (class and probabilities, or value) for each input row."""
    import numpy as np

    import glassgrad as gg

    model, info = _load_model(model_path)
    rows = _input_rows(input)
    expected = model.parameters().__next__().shape[1]
    if rows.shape[1] != expected:
        raise CommandError(f"--input has {rows.shape[1]} values per row but the model expects {expected}")
    with gg.no_grad():
        output = model(gg.tensor(rows))
    loss = info.get("loss", "cross-entropy")
    for values in output.data:
        if loss == "cross-entropy":
            probs = gg.tensor(values).softmax(-1).data
            print(f"class {int(np.argmax(probs))}  probabilities " + " ".join(f"{p:.3f}" for p in probs))
        elif loss == "bce":
            probability = float(gg.tensor(values).sigmoid().item())
            print(f"class {int(probability > 0.5)}  P(class 1) = {probability:.3f}")
        else:
            print("prediction " + " ".join(f"{v:.4f}" for v in values))
    return 0


def _input_rows(text: str):
    import numpy as np

    if text.lower().endswith(".csv"):
        path = Path(text)
        if not path.exists():
            raise CommandError(f"input file {path} does not exist")
        try:
            return np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
        except ValueError as error:
            raise CommandError(f"{path}: every cell must be a number ({error})") from None
    try:
        return np.array([[float(part) for part in text.split(",")]], dtype=np.float32)
    except ValueError:
        raise CommandError(f"--input must be comma-separated numbers or a .csv path, got {text!r}") from None


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(evaluate)
    app.command()(predict)
