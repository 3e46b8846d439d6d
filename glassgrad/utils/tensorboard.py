"""``SummaryWriter``: PyTorch's TensorBoard logger (``torch.utils.tensorboard``), writing the same event files.

>>> from glassgrad.utils.tensorboard import SummaryWriter        # doctest: +SKIP
>>> with SummaryWriter("runs/first") as writer:                    # doctest: +SKIP
...     for step in range(100):
...         writer.add_scalar("loss/train", loss.item(), step)

then ``tensorboard --logdir runs`` shows the curves. Each ``add_*`` call appends one event (a ``Summary`` record
from :mod:`glassgrad.utils.tensorboard_summaries`, the step and the time) to the run's event file, through
TensorBoard's own file writer, which flushes every ``flush_secs`` seconds, every ``max_queue`` events, and at
``flush()``/``close()``. The file format is TensorBoard's, so this needs the ``tensorboard`` package (``pip install
tensorboard``), as PyTorch's writer does; nothing is downloaded or served.

Not provided (each refused in one line): ``add_video``, ``add_audio``, ``add_mesh``, ``add_custom_scalars``.
``add_graph`` draws glassgrad's own record of a forward pass (PyTorch's draws a TorchScript trace).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np

try:
    from tensorboard.compat.proto.event_pb2 import Event, SessionLog
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
except ImportError:
    raise ImportError("TensorBoard logging needs the tensorboard package: pip install tensorboard "
                      "(or pip install 'glassgrad[tensorboard]')") from None

from . import tensorboard_summaries as summaries

__all__ = ["SummaryWriter"]


def _tag(tag: Any) -> str:
    """A summary's tag, which must be a string (TensorBoard's record refuses anything else in a raw line)."""
    if not isinstance(tag, str):
        raise TypeError(f"the tag must be a string naming the curve or picture, such as 'Loss/train', got "
                        f"{type(tag).__name__} {tag!r}")
    return tag


class _RunFile:
    """One run folder's event file: summaries appended as events with their step and time."""

    def __init__(self, log_dir: str, max_queue: int, flush_secs: int, filename_suffix: str) -> None:
        self.log_dir = str(log_dir)
        self.events = EventFileWriter(self.log_dir, max_queue, flush_secs, filename_suffix)

    def add(self, summary: Any, global_step: Any = None, walltime: float | None = None) -> None:
        event = Event(summary=summary, wall_time=time.time() if walltime is None else walltime)
        if global_step is not None:
            try:
                event.step = int(global_step)
            except (TypeError, ValueError):
                raise ValueError(f"global_step must be a whole number (the step the value belongs to, the x of a "
                                 f"curve), got {global_step!r}") from None
        self.events.add_event(event)


class SummaryWriter:
    """PyTorch's ``SummaryWriter(log_dir=None, comment='', purge_step=None, max_queue=10, flush_secs=120,
    filename_suffix='')``: events for TensorBoard in ``log_dir`` (by default ``runs/<month><day>_<time>_<host>``
    followed by ``comment``). ``purge_step``: TensorBoard hides the events of an earlier run of this folder from
    that step on (a run restarted from a checkpoint)."""

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: int = 120, filename_suffix: str = "") -> None:
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname()
                                   + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue, self.flush_secs, self.filename_suffix = max_queue, flush_secs, filename_suffix
        self.file_writer: _RunFile | None = None
        self.all_writers: dict[str, _RunFile] = {}
        self._projector_config: Any = None  # the embeddings logged so far (add_embedding)
        self._get_file_writer()

    def _get_file_writer(self) -> _RunFile:
        """The run's own event file, opened again after ``close()`` (as PyTorch's writer does)."""
        if self.file_writer is None:
            self.file_writer = _RunFile(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.log_dir: self.file_writer}
            if self.purge_step is not None:
                self.file_writer.events.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.events.add_event(Event(step=self.purge_step,
                                                        session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        """The folder the events are written in."""
        return self.log_dir

    # --- what can be logged -------------------------------------------------------------------------------------

    def add_scalar(self, tag: str, scalar_value: Any, global_step: Any = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One number (a Python number or a one-entry tensor) under ``tag`` at ``global_step``: a point of a curve."""
        self._get_file_writer().add(summaries.scalar(_tag(tag), scalar_value, new_style, double_precision),
                                    global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict[str, Any], global_step: Any = None,
                    walltime: float | None = None) -> None:
        """Several curves in one chart: each ``tag`` is a run of its own, in the folder
        ``<log_dir>/<main_tag>_<tag>`` (``/`` in ``main_tag`` written ``_``), its points under ``main_tag``."""
        if not isinstance(tag_scalar_dict, dict):
            raise AttributeError(f"add_scalars: tag_scalar_dict must be a dict of curve names and numbers, such as "
                                 f"{{'train': 0.5, 'test': 0.7}}, got {type(tag_scalar_dict).__name__}")
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().log_dir
        for tag, value in tag_scalar_dict.items():
            folder = base + "/" + main_tag.replace("/", "_") + "_" + tag
            run = self.all_writers.get(folder)
            if run is None:
                run = self.all_writers[folder] = _RunFile(folder, self.max_queue, self.flush_secs,
                                                          self.filename_suffix)
            run.add(summaries.scalar(_tag(main_tag), value), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: Any = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """The distribution of ``values`` (a weight, its gradient, activations) at ``global_step``."""
        self._get_file_writer().add(summaries.histogram(_tag(tag), values, bins, max_bins), global_step, walltime)

    def add_image(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """An image: floats in [0, 1] or uint8 in [0, 255], laid out as ``dataformats`` says."""
        self._get_file_writer().add(summaries.image(_tag(tag), img_tensor, dataformats), global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: Any = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch of images, shown as one grid of 8 to a row."""
        self.add_image(tag, img_tensor, global_step, walltime, dataformats)

    def add_figure(self, tag: str, figure: Any, global_step: Any = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them, as a grid), drawn to an image; ``close`` closes it after."""
        if isinstance(figure, list):
            pixels = [summaries.figure_pixels(one, close) for one in figure]
            self.add_image(tag, np.stack(pixels), global_step, walltime, "NCHW")
        else:
            self.add_image(tag, summaries.figure_pixels(figure, close), global_step, walltime, "CHW")

    def add_text(self, tag: str, text_string: str, global_step: Any = None, walltime: float | None = None) -> None:
        """A text (Markdown) under ``tag``, shown by TensorBoard's text tab."""
        self._get_file_writer().add(summaries.text(_tag(tag), text_string), global_step, walltime)

    def add_hparams(self, hparam_dict: dict[str, Any], metric_dict: dict[str, Any],
                    hparam_domain_discrete: dict[str, list] | None = None, run_name: str | None = None,
                    global_step: Any = None) -> None:
        """One trial's hyperparameters and final metrics for TensorBoard's HParams tab, in a run of its own
        (``<log_dir>/<run_name>``, by default the time): the metrics are logged there as scalars."""
        experiment, start, end = summaries.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        folder = os.path.join(self._get_file_writer().log_dir, run_name or str(time.time()))
        with SummaryWriter(log_dir=folder) as trial:
            for record in (experiment, start, end):
                trial.file_writer.add(record, global_step)
            for tag, value in metric_dict.items():
                trial.add_scalar(tag, value, global_step)

    def _not_provided(self, name: str, instead: str) -> None:
        raise NotImplementedError(f"SummaryWriter.{name}: not provided by glassgrad; {instead}")

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """The model's graph for TensorBoard's Graphs tab: one forward pass on ``input_to_model`` (a tensor, or a
        tuple of the forward's arguments), each op a node grouped by layer, with its output's shape and its rule's
        formula (:mod:`glassgrad.utils.tensorboard_graph`). ``verbose`` prints the nodes; ``use_strict_trace``
        changes nothing (no TorchScript here)."""
        from .tensorboard_graph import graph_def

        graph = graph_def(model, input_to_model)
        if verbose:
            print(graph)
        self._get_file_writer().events.add_event(Event(graph_def=graph.SerializeToString(), wall_time=time.time()))

    def add_embedding(self, mat: Any, metadata: Any = None, label_img: Any = None, global_step: Any = None,
                      tag: str = "default", metadata_header: Any = None) -> None:
        """Points (one row of ``mat`` each) for TensorBoard's projector, with a label (``metadata``) and an image
        (``label_img``, N×C×H×W) per point (:mod:`glassgrad.utils.tensorboard_projector`)."""
        from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

        from .tensorboard_projector import write_embedding

        if self._projector_config is None:
            self._projector_config = ProjectorConfig()
        write_embedding(self._get_file_writer().log_dir, self._projector_config, mat, metadata, label_img,
                        global_step, _tag(tag), metadata_header)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any, global_step: Any = None,
                     num_thresholds: int = 127, weights: Any = None, walltime: float | None = None) -> None:
        """A precision–recall curve: ``labels`` (0 or 1 per example) against ``predictions`` (the probability of
        1), at ``num_thresholds`` thresholds (see :func:`glassgrad.utils.tensorboard_summaries.pr_curve`)."""
        self._get_file_writer().add(summaries.pr_curve(_tag(tag), labels, predictions, num_thresholds, weights),
                                    global_step, walltime)

    def add_video(self, *args: Any, **kwargs: Any) -> None:
        """Refused (no video records)."""
        self._not_provided("add_video", "log frames with add_images")

    def add_audio(self, *args: Any, **kwargs: Any) -> None:
        """Refused (no audio records)."""
        self._not_provided("add_audio", "plot the waveform with matplotlib and log it with add_figure")

    def add_mesh(self, *args: Any, **kwargs: Any) -> None:
        """Refused (no mesh records)."""
        self._not_provided("add_mesh", "render the mesh with matplotlib and log it with add_figure")

    def add_custom_scalars(self, *args: Any, **kwargs: Any) -> None:
        """Refused (no custom chart layouts)."""
        self._not_provided("add_custom_scalars", "add_scalars draws several curves in one chart")

    # --- the files ----------------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every queued event to disk now."""
        for run in self.all_writers.values():
            run.events.flush()

    def close(self) -> None:
        """Write everything and close the files (a later ``add_*`` opens the run's file again)."""
        for run in self.all_writers.values():
            run.events.flush()
            run.events.close()
        self.file_writer, self.all_writers = None, {}

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
