"""The training loop: ``gg.fit`` repeats forward → loss → backward → update, epoch after epoch.

>>> import glassgrad as gg
>>> data = gg.data.make_moons(n_samples=200, seed=0)
>>> model = gg.nn.mlp([2, 16, 16, 2], seed=0)
>>> history = gg.fit(model, gg.nn.CrossEntropyLoss(), gg.optim.Adam(model.parameters(), lr=0.01),
...                  gg.data.DataLoader(data, batch_size=32, shuffle=True, seed=0), epochs=2, progress=False)
>>> len(history["train_loss"])
2

Each step: ``optimizer.zero_grad()``, ``loss = loss_fn(model(x), y)``, ``loss.backward()``,
optional gradient clipping, ``optimizer.step()``. The loop stops with an explanation — not a
crash — when the loss becomes NaN or infinite (or, with ``max_loss_growth=k``, when it grows to
more than ``k`` times the first step's loss): it names the step, the parameter whose gradient
blew up first, and what to try (a lower learning rate, gradient clipping). A NaN or infinity
in the batch itself is no divergence: ``fit`` raises a ``ValueError`` saying where it is.

Callbacks (subclasses of :class:`Callback`) see a :class:`TrainState` at each stage; the glass
box's diagnostics use ``on_after_backward`` (gradients ready, before the update).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .autograd import no_grad, recorded_call
from .cores import usable_cores
from .nn.utils import clip_grad_norm_
from .settings import warn_at_learners_line
from .tensor import Tensor
from .terminal import terminal_width
from .trace.numbers import rounded_text, rounding_note

SHOWN_DIGITS = 4
"""Significant digits of the loss and gradient norm in a divergence message (:func:`_divergence` says so)."""

BLOWUP_FACTOR = 1e3
"""A gradient 'blew up' when its norm reached this multiple of its norm at the first step (or inf/NaN)."""

ONE_THREAD_PRODUCT = 1 << 24
""":func:`fit` runs NumPy's matrix products on one BLAS thread when batch size × largest weight is at most this.

That is the number of multiply-adds of the step's largest product (a ``Linear``'s; a convolution's
is larger, times its output positions), 16.8 M. Measured on a 2-core machine: up to ~8 M
multiply-adds a second OpenBLAS thread gains nothing even at quiet moments (0.97–1.7× the time of
one thread), and while other programs hold the cores each product waits for the second thread to
be scheduled (a digits epoch took 700 ms instead of 12 ms). Larger products keep NumPy's threads:
at quiet moments two took 0.73–0.83× the time at 25 M (784→256 at batch 128), 0.44× at 100 M;
under load they lose there too (15,000 samples of the 784→256→256→10 MLP: 1.7–6.9 s against
0.44–0.88 s), so when the cores are busy already (:func:`_cores_busy`) every size gets one thread.
"""


class Callback:
    """Hooks into :func:`fit`; override the stages you need. ``state`` is a :class:`TrainState`."""

    def on_train_begin(self, state: TrainState) -> None: ...

    def on_after_backward(self, state: TrainState) -> None: ...

    def on_batch_end(self, state: TrainState) -> None: ...

    def on_epoch_end(self, state: TrainState) -> None: ...

    def on_train_end(self, state: TrainState) -> None: ...


@dataclass
class Divergence:
    """Why training stopped early: where the numbers stopped being finite, and what to try."""

    epoch: int
    step: int
    loss: float
    parameter: str | None
    message: str


@dataclass
class History:
    """Per-epoch records (``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``,
    ``seconds``); ``history["train_loss"]`` lists one key over the epochs."""

    records: list[dict[str, float]] = field(default_factory=list)
    diverged: Divergence | None = None

    def __getitem__(self, key: str) -> list[float]:
        return [record[key] for record in self.records if key in record]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> dict[str, float]:
        return self.records[-1] if self.records else {}

    def _repr_html_(self) -> str:
        """Jupyter's view: the loss per epoch as a chart, and the first and last records."""
        from .notebook_display import history_html

        return history_html(self)

    def _repr_svg_(self) -> str:
        from .notebook_display import history_svg

        return history_svg(self)


@dataclass
class TrainState:
    """What callbacks see: the objects being trained and where the loop is."""

    model: Any
    optimizer: Any
    loss_fn: Callable[..., Tensor]
    history: History
    epoch: int = 0
    step: int = 0
    batch_loss: float = float("nan")
    stop_training: bool = False


def accuracy(output: Tensor, target: Tensor, loss_fn: Any = None) -> float | None:
    """Fraction of correct predictions, or ``None`` when the task is not classification.

    Class indices: ``argmax`` of the scores. One output column with 0/1 targets: the score's
    sign for logits (``…WithLogits`` losses), 0.5 for probabilities (``BCELoss``).
    """
    out, y = output.array, target.array
    if y.dtype.kind in "iu" and out.ndim == 2 and out.shape[1] > 1:
        return np.count_nonzero(out.argmax(axis=1) == y) / len(y)
    if y.dtype.kind == "f" and out.shape == y.shape and np.isin(y, (0.0, 1.0)).all():
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__).lower()
        threshold = 0.0 if "logits" in name else 0.5 if ("bce" in name or "binary" in name) else None
        if threshold is not None:
            return np.count_nonzero((out > threshold) == (y > 0.5)) / y.size
    return None


def evaluate(model: Any, loss_fn: Callable[..., Tensor], loader: Iterable) -> dict[str, float]:
    """Mean loss (and accuracy, for classification) over ``loader``, in eval mode, without a graph."""
    was_training = getattr(model, "training", False)
    model.eval()
    tally = _Tally(loss_fn)
    try:
        with no_grad():
            for inputs, targets in loader:
                output = model(inputs)
                tally.add(float(loss_fn(output, targets).item()), output, targets)
    finally:
        model.train(was_training)
    if tally.count == 0:
        raise ValueError("evaluate: the loader yielded no batches (is the dataset empty?)")
    return tally.means()


class _Tally:
    """Sample-weighted mean loss over batches, and accuracy while every batch has one (classification)."""

    def __init__(self, loss_fn: Any) -> None:
        self.loss_fn = loss_fn
        self.loss_sum = self.correct = 0.0
        self.count = 0
        self.classification = True

    def add(self, loss_value: float, output: Tensor, targets: Tensor) -> None:
        batch = len(targets)
        self.loss_sum += loss_value * batch
        batch_accuracy = accuracy(output, targets, self.loss_fn) if self.classification else None
        self.classification = batch_accuracy is not None
        self.correct += (batch_accuracy or 0.0) * batch
        self.count += batch

    def means(self) -> dict[str, float]:
        result = {"loss": self.loss_sum / self.count}
        if self.classification:
            result["accuracy"] = self.correct / self.count
        return result


class _BlowupWatch:
    """Remembers gradients cheaply so that, when training diverges, it can say which one blew up first.

    Each step keeps *references* to the gradients (no copy: the optimizer's ``zero_grad`` replaces
    them) and the norms of the very first step; norms are computed only when something went wrong.
    """

    def __init__(self, named_parameters: Sequence[tuple[str, Tensor]]) -> None:
        self.named = list(named_parameters)
        self.parameters = [param for _, param in self.named]
        self.first_norms: dict[str, float] | None = None
        self.earlier: tuple[int, list[Tensor | None]] | None = None  # the step before the latest: (step, gradients)
        self.latest: tuple[int, list[Tensor | None]] | None = None

    def keep(self, step: int) -> None:
        grads = [param.grad for param in self.parameters]
        if self.first_norms is None:
            self.first_norms = {name: _norm(grad) for (name, _), grad in zip(self.named, grads)}
        self.earlier, self.latest = self.latest, (step, grads)

    def first_blowup(self) -> tuple[str, int, float] | None:
        """(name, step, norm) of the earliest kept gradient that is not finite or grew the most."""
        for step, grads in (kept for kept in (self.earlier, self.latest) if kept is not None):
            growth = []
            for (name, _), grad in zip(self.named, grads):
                norm = _norm(grad)
                reference = (self.first_norms or {}).get(name) or 0.0
                ratio = math.inf if not math.isfinite(norm) else (norm / reference if reference > 0 else 0.0)
                growth.append((ratio, name, norm))
            ratio, name, norm = max(growth, default=(0.0, "", 0.0))
            if ratio >= BLOWUP_FACTOR:
                return name, step, norm
        return None


def _norm(grad: Tensor | None) -> float:
    if grad is None:
        return 0.0
    flat = grad.array.reshape(-1).astype(np.float64)
    return math.sqrt(float(np.dot(flat, flat)))


def _divergence(state: TrainState, loss_value: float, watch: _BlowupWatch, what: str, updated: bool) -> Divergence:
    """Why training stopped; the learning rate is blamed only when an update has run."""
    culprit = watch.first_blowup()
    lr = ", ".join(f"{group['lr']:g}" for group in getattr(state.optimizer, "param_groups", []))
    blame = ""
    if culprit:
        name, step, norm = culprit
        shown = rounded_text(norm, SHOWN_DIGITS, 'g')
        blame = f" The gradient of '{name}' blew up first (norm {shown} at step {step})."
    advice = (
        f"The updates were too large for this loss surface: lower the learning rate (now {lr or '?'}) "
        "or clip gradients (clip_grad_norm=1.0 in gg.fit; --clip 1.0 for glassgrad train)."
        if updated else
        "No update had run yet, so the learning rate is not the cause: the model's starting weights (or "
        "the loss function) already give this; check the weights it was given."
    )
    rounded = culprit or math.isfinite(loss_value)  # a finite loss stopped training by its rise, shown rounded
    note = rounding_note(SHOWN_DIGITS, significant=True)
    message = (f"Training stopped at epoch {state.epoch}, step {state.step}: {what}.{blame} {advice}"
               + (f" {note[0].upper()}{note[1:]}." if rounded else ""))
    return Divergence(state.epoch, state.step, loss_value, culprit[0] if culprit else None, message)


def _non_finite_data(inputs: Any, targets: Any) -> str | None:
    """Where a batch's inputs (or else its targets) hold a NaN or an infinity, or None."""
    for role, batch in (("inputs", inputs), ("targets", targets)):
        values = batch.array if isinstance(batch, Tensor) else batch
        if isinstance(values, np.ndarray) and values.dtype.kind == "f" and not np.isfinite(values).all():
            position = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
            where = f"sample {position[0]} of the batch" + (f", column {position[1]}" if len(position) == 2 else "")
            return f"the batch's {role} hold {values[position]} at index {list(position)} ({where})"
    return None


def _check_checkpoint_dir(folder: Path) -> None:
    """Refuse up front a checkpoint_dir that cannot be a folder (it, or a folder above it, is a file)."""
    for place in (folder, *folder.parents):
        if place.exists():
            if not place.is_dir():
                raise ValueError(f"fit: checkpoint_dir {folder} cannot be a folder: {place} is a file; "
                                 "give another checkpoint_dir (or move the file)")
            return


def _progress_bar(enabled: bool | None, epochs: int, batches: int):
    if enabled is None:
        enabled = terminal_width() is not None
    if not enabled:
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    progress = Progress(
        TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(),
    )
    progress.start()
    progress.add_task("train", total=epochs * max(batches, 1), epoch=1, epochs=epochs, loss="-")
    return progress


def fit(
    model: Any,
    loss_fn: Callable[..., Tensor],
    optimizer: Any,
    train_loader: Iterable,
    epochs: int = 1,
    val_loader: Iterable | None = None,
    callbacks: Sequence[Callback] = (),
    clip_grad_norm: float | None = None,
    checkpoint_every: int | None = None,
    checkpoint_dir: str | Path | None = None,
    progress: bool | None = None,
    max_loss_growth: float | None = None,
    compile: bool = False,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return the per-epoch :class:`History`.

    ``progress=None`` shows a rich progress bar only when standard output is a terminal.
    ``checkpoint_every=N`` saves model and optimizer state every N epochs into ``checkpoint_dir``.
    Training stops, with ``history.diverged`` explaining why, when a batch's loss is NaN or
    infinite, or, if ``max_loss_growth = k`` is given, when it exceeds ``k`` × the first step's
    loss: a finite loss can explode too (a too-large learning rate throws ReLU networks far
    off, where they die without ever overflowing).

    ``compile=True`` runs each step through :func:`glassgrad.compile` (captured on its first
    calls, replayed after): the same history and the same model, bit for bit, in less time. A
    callback with ``on_after_backward`` needs the step split in two, so it trains eagerly then
    (with a warning).

    While it trains a small model (batch size × largest weight ≤ :data:`ONE_THREAD_PRODUCT`, 16.8 M),
    or any model on a machine whose cores are busy already (load average ≥ cores), NumPy's matrix
    products run on one BLAS thread: a second one gains nothing on small products and, on a busy
    machine, makes every product wait for a core.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive integer such as 10, got {epochs!r}")
    if clip_grad_norm is not None and (isinstance(clip_grad_norm, bool)  # True is no norm: say which one
                                       or not (clip_grad_norm > 0 and math.isfinite(clip_grad_norm))):
        raise ValueError("fit: clip_grad_norm must be a positive finite number, the largest gradient norm kept (e.g. "
                         f"1.0; None: no clipping), got {clip_grad_norm!r}")
    if checkpoint_every is not None and (checkpoint_every < 1 or checkpoint_dir is None):
        raise ValueError("fit: checkpoint_every needs a positive number of epochs and a checkpoint_dir")
    if checkpoint_dir is not None:
        _check_checkpoint_dir(Path(checkpoint_dir))
    if max_loss_growth is not None and not (max_loss_growth > 1 and math.isfinite(max_loss_growth)):
        raise ValueError(f"fit: max_loss_growth must be a finite number > 1 (e.g. 100), got {max_loss_growth!r}")
    history = History()
    state = TrainState(model, optimizer, loss_fn, history)
    steps = _Steps(state, callbacks, clip_grad_norm, max_loss_growth,
                   _progress_bar(progress, epochs, _safe_len(train_loader)), compile)
    for callback in callbacks:
        callback.on_train_begin(state)
    try:
        # overflow on the way to inf/NaN is reported by the divergence explanation, not as NumPy warnings
        with np.errstate(over="ignore", invalid="ignore"), _blas_threads(model, train_loader):
            for epoch in range(1, epochs + 1):
                state.epoch = epoch
                started = time.perf_counter()
                model.train()
                tally = steps.run_epoch(train_loader)
                if history.diverged is not None:
                    break
                if tally.count == 0:
                    raise ValueError("fit: the training loader yielded no batches (is the dataset empty, or "
                                     "drop_last=True with batch_size larger than the dataset?)")
                record = {"epoch": epoch, **{f"train_{key}": value for key, value in tally.means().items()}}
                if val_loader is not None:
                    record.update({f"val_{key}": value for key, value in evaluate(model, loss_fn, val_loader).items()})
                record["seconds"] = time.perf_counter() - started
                history.records.append(record)
                for callback in callbacks:
                    callback.on_epoch_end(state)
                if checkpoint_every is not None and epoch % checkpoint_every == 0:
                    save_checkpoint(model, optimizer,
                                    Path(checkpoint_dir) / f"checkpoint-epoch{epoch:03d}.safetensors", epoch=epoch)
                if state.stop_training:
                    break
    finally:
        if steps.bar is not None:
            steps.bar.stop()
        for callback in callbacks:  # also when the loop raised, so callbacks can clean up
            callback.on_train_end(state)
    if history.diverged is not None and steps.bar is not None:
        print(history.diverged.message)
    return history


def _blas_threads(model: Any, loader: Iterable) -> contextlib.AbstractContextManager:
    """One BLAS thread while training, if the step's largest matrix product is small (:data:`ONE_THREAD_PRODUCT`)
    or the cores are busy already (:func:`_cores_busy`).

    The batch size is the loader's ``batch_size``; without one (or without ``threadpoolctl``)
    NumPy keeps its threads. The previous setting comes back when training ends.
    """
    batch = getattr(loader, "batch_size", None)
    weights = [param.array.size for param in model.parameters() if param.array.ndim >= 2]
    if not isinstance(batch, int) or not weights:
        return contextlib.nullcontext()
    if batch * max(weights) > ONE_THREAD_PRODUCT and not _cores_busy():
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # scikit-learn brings it; without it, NumPy keeps its threads
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _cores_busy() -> bool:
    """Whether other work already holds every core: the last minute's load average is at least their number."""
    load_average = getattr(os, "getloadavg", None)  # Unix only: Windows has none
    if load_average is None:
        return False
    try:
        return load_average()[0] >= usable_cores()
    except OSError:  # no load average readable here
        return False


class _Stop(Exception):
    """Raised inside a step whose loss says training must stop (before its backward and update)."""

    def __init__(self, loss_value: float, trouble: str) -> None:
        super().__init__(trouble)
        self.loss_value, self.trouble = loss_value, trouble


class _Steps:
    """The inner loop of :func:`fit`: one training step per batch, watching for divergence."""

    def __init__(self, state: TrainState, callbacks: Sequence[Callback], clip_grad_norm: float | None,
                 max_loss_growth: float | None, bar: Any, compile: bool = False) -> None:
        self.state, self.callbacks, self.bar = state, callbacks, bar
        self.clip_grad_norm, self.max_loss_growth = clip_grad_norm, max_loss_growth
        self.watch = _BlowupWatch(list(state.model.named_parameters()))
        self.parameters = self.watch.parameters
        self.first_loss: float | None = None
        self.loss_value = math.nan
        self.updated = False
        self.after_backward = [callback for callback in callbacks
                               if type(callback).on_after_backward is not Callback.on_after_backward]
        self.step = self.train_step
        if compile:
            if self.after_backward:
                warn_at_learners_line(f"fit(compile=True): {type(self.after_backward[0]).__name__}.on_after_backward "
                                      "runs between backward and the update, inside the step; training eagerly")
            else:
                from .compiler import compile as compile_step

                self.step = compile_step(self.train_step)

    def train_step(self, inputs: Any, targets: Any) -> tuple[Tensor, Tensor]:
        """One step: ``zero_grad``, forward, loss (checked: :class:`_Stop`), backward, clipping, update."""
        state = self.state
        state.optimizer.zero_grad()
        output = state.model(inputs)
        loss = state.loss_fn(output, targets)
        recorded_call(self.check_loss, loss.array)  # one kernel of a compiled step: it reads the value at each call
        loss.backward()
        if self.after_backward:
            state.batch_loss = self.loss_value
            self.watch.keep(state.step)
            for callback in self.after_backward:
                callback.on_after_backward(state)
        if self.clip_grad_norm is not None:
            clip_grad_norm_(self.parameters, self.clip_grad_norm)
        state.optimizer.step()
        return output, loss

    def check_loss(self, loss: np.ndarray) -> None:
        """Keep the step's loss; raise :class:`_Stop` (before backward) when training must stop."""
        self.loss_value = float(loss.item())
        trouble = self.trouble(self.loss_value)
        if trouble is not None:
            raise _Stop(self.loss_value, trouble)

    def run_epoch(self, loader: Iterable) -> _Tally:
        """Train on every batch of ``loader``; stops early (``history.diverged`` set) on divergence."""
        state = self.state
        tally = _Tally(state.loss_fn)
        for inputs, targets in loader:
            state.step += 1
            try:
                output, _ = self.step(inputs, targets)
            except _Stop as stop:
                loss_value = stop.loss_value
                bad_data = None if math.isfinite(loss_value) else _non_finite_data(inputs, targets)
                if bad_data is not None:
                    raise ValueError(f"fit: at epoch {state.epoch}, step {state.step} {bad_data}, so the loss is "
                                     f"{loss_value} whatever the model does; remove or fill in those values") from None
                state.history.diverged = _divergence(state, loss_value, self.watch, stop.trouble, self.updated)
                break
            loss_value = state.batch_loss = self.loss_value
            if not self.after_backward:
                self.watch.keep(state.step)
            self.updated = True
            tally.add(loss_value, output, targets)
            for callback in self.callbacks:
                callback.on_batch_end(state)
            if self.bar is not None:
                self.bar.update(self.bar.task_ids[0], advance=1, epoch=state.epoch, loss=rounded_text(loss_value, 4))
            if state.stop_training:
                break
        return tally

    def trouble(self, loss_value: float) -> str | None:
        """Why training must stop at this loss, or None: NaN/inf, or (if asked) a runaway rise."""
        if not math.isfinite(loss_value):
            return f"the loss became {loss_value}"
        if self.first_loss is None:
            self.first_loss = loss_value
        limit = self.max_loss_growth
        if limit is not None and loss_value > limit * self.first_loss > 0:
            return (f"the loss rose from {rounded_text(self.first_loss, SHOWN_DIGITS, 'g')} at step 1 to "
                    f"{rounded_text(loss_value, SHOWN_DIGITS, 'g')}, more than "
                    f"{limit:g} times its first value")
        return None


def save_checkpoint(model: Any, optimizer: Any, path: str | Path, **extra: Any) -> Path:
    """Save model and optimizer state (and the architecture, when known) with :func:`glassgrad.save`; a compiled
    model (``gg.compile(model)``) is saved as its model, without the wrapper's ``_orig_mod.`` in the keys, so that
    the checkpoint loads into the model and ``glassgrad export`` rebuilds it (as Lightning and Hugging Face save one
    of ``torch.compile``)."""
    from .compiler.optimized_module import original_module
    from .io import save
    from .nn import architecture

    model = original_module(model)
    payload: dict[str, Any] = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), **extra}
    try:
        payload["architecture"] = architecture(model)
    except (TypeError, ValueError):
        pass  # a custom module: its weights are still saved; rebuilding it is the user's code
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save(payload, path)
    return path


def _safe_len(loader: Iterable) -> int:
    try:
        return len(loader)  # type: ignore[arg-type]
    except TypeError:
        return 0
