"""What each ``SummaryWriter.add_*`` writes: one TensorBoard ``Summary`` record, as PyTorch's writer makes it.

The records are TensorBoard's own protocol buffers (the ``tensorboard`` package): a scalar is a ``simple_value``
(or, ``new_style``, a one-number tensor for the scalars plugin); a histogram counts the values in PyTorch's
default buckets; an image is a PNG of 8-bit pixels; a text is a string tensor for the text plugin; hyperparameters
are the hparams plugin's three records (the experiment, the session's start, its end).

Histogram buckets (``bins='tensorflow'``, PyTorch's default): the edges ±10⁻¹² · 1.1ᵏ for every k with
10⁻¹² · 1.1ᵏ < 10²⁰, and 0 between the two halves, so a bucket is 10 % wider than its inner neighbour whatever
the values' scale. Any other ``bins`` is NumPy's (``'auto'``, ``'fd'``, a count, the edges). ``max_bins`` adds
neighbouring buckets together (each new bucket spans ``n // max_bins`` old ones). TensorBoard reads only each
bucket's right edge, so the record keeps the non-empty stretch of buckets plus the empty one to its left.

Image pixels: a uint8 array is taken as 0–255, anything else as 0–1 and multiplied by 255, then clipped to 0–255
and cut to whole numbers (``astype``, not rounded), as PyTorch does; 2-D or one-channel images become grey RGB;
a batch is laid out 8 to a row (``add_images``).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto

from ..tensor import Tensor


def numbers(value: Any, name: str = "add_scalar") -> np.ndarray:
    """A tensor's (detached), a NumPy array's or a Python number's values as a NumPy array; anything else is
    refused with PyTorch's exception type (a string: ValueError; a list, None, …: NotImplementedError)."""
    if isinstance(value, Tensor):
        return value.array
    if isinstance(value, (np.ndarray, np.generic, int, float)):
        return np.asarray(value)
    if isinstance(value, str):
        raise ValueError(f"{name}: the value is the string {value!r}, not a number; log float({value!r}) if it holds "
                         "one")
    raise NotImplementedError(f"{name}: got {type(value).__name__}, but a number, a NumPy array or a tensor is "
                              "expected (a list: torch.tensor(values))")


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Summary:
    """One number: ``simple_value`` (float32 in the file), or with ``new_style`` a float32 (``double_precision``:
    float64) tensor of the scalars plugin."""
    values = numbers(value).squeeze()
    if values.ndim != 0:
        raise AssertionError(f"add_scalar: the value must be one number, got {values.size} numbers in "
                             f"{values.ndim} dimensions; log one entry (loss.item()) or their mean")
    number = float(values)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    tensor = (TensorProto(dtype="DT_DOUBLE", double_val=[number]) if double_precision else
              TensorProto(dtype="DT_FLOAT", float_val=[number]))
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=metadata)])


def tensorflow_bins() -> list[float]:
    """PyTorch's default histogram edges (``bins='tensorflow'``): ±10⁻¹²·1.1ᵏ below 10²⁰, and 0."""
    edges, edge = [], 1e-12
    while edge < 1e20:  # each edge the last times 1.1 (as PyTorch rounds them: not 1.1ᵏ worked out afresh)
        edges.append(edge)
        edge *= 1.1
    return [-edge for edge in reversed(edges)] + [0.0] + edges


def histogram(tag: str, value: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Summary:
    """The values' counts in ``bins`` (see the module's notes), with their min, max, count, sum and sum of squares."""
    values = numbers(value, "add_histogram").astype(float).reshape(-1)
    if values.size == 0:
        raise ValueError("add_histogram: the values are empty; log a tensor with at least one entry")
    counts, edges = np.histogram(values, bins=tensorflow_bins() if bins == "tensorflow" else bins)
    if max_bins is not None and len(counts) > max_bins:
        width = len(counts) // max_bins  # each new bucket adds `width` old ones; the last is padded with empties
        counts = np.concatenate([counts, np.zeros(-len(counts) % width, counts.dtype)]).reshape(-1, width).sum(1)
        edges = np.append(edges[:-1:width], edges[-1])
    filled = np.flatnonzero(counts)  # (NaN and values beyond the edges fall in no bucket, as in PyTorch)
    if not filled.size:
        raise ValueError("add_histogram: no value falls in a bucket (all are NaN or beyond the edges); "
                         "log values[values.isfinite()]")
    first, last = int(filled[0]), int(filled[-1])
    kept_counts = counts[first - 1:last + 1] if first > 0 else np.concatenate([[0], counts[:last + 1]])
    return Summary(value=[Summary.Value(tag=tag, histo=HistogramProto(
        min=values.min(), max=values.max(), num=len(values), sum=values.sum(), sum_squares=values.dot(values),
        bucket_limit=edges[first:last + 2].tolist(), bucket=kept_counts.tolist()))])


def as_rgb(values: np.ndarray, dataformats: str) -> np.ndarray:
    """An image (``'CHW'``, ``'HWC'``, ``'HW'``, …) or a batch (``'NCHW'``, ``'NHWC'``) as one H×W×C array."""
    layout = dataformats.upper()
    if len(set(layout)) != len(layout) or len(layout) != values.ndim:
        raise AssertionError(f"dataformats={dataformats!r} does not describe an image of shape {values.shape}: "
                             "name each dimension once, e.g. 'CHW' for (3, H, W), 'HWC' for (H, W, 3)")
    if set(layout) != set({2: "HW", 3: "CHW"}.get(len(layout), "NCHW")):
        raise ValueError(f"dataformats={dataformats!r}: name the dimensions with N, C, H and W (e.g. 'CHW', 'HWC', "
                         "'HW', 'NCHW')")
    if len(layout) == 2:
        return np.stack([values.transpose([layout.find(d) for d in "HW"])] * 3, axis=2)
    if len(layout) == 3:
        image = values.transpose([layout.find(d) for d in "HWC"])
        if image.shape[2] > 4:  # Pillow's TypeError, as PyTorch gives it, in one line that names the likely fix
            raise TypeError(f"add_image: an image of shape {values.shape} read as {dataformats!r} has "
                            f"{image.shape[2]} channels (at most 4); an (H, W, 3) image needs dataformats='HWC'")
        return np.concatenate([image] * 3, axis=2) if image.shape[2] == 1 else image
    return grid(values.transpose([layout.find(d) for d in "NCHW"])).transpose(1, 2, 0)


def grid(batch: np.ndarray, per_row: int = 8) -> np.ndarray:
    """A batch (N, 1 or 3, H, W) laid out ``per_row`` to a row on a black canvas (3, H·rows, W·columns)."""
    if batch.shape[1] == 1:
        batch = np.concatenate([batch] * 3, axis=1)
    if batch.shape[1] != 3:
        raise AssertionError(f"add_images: a batch needs 1 or 3 channels, got {batch.shape[1]} "
                             f"(shape {batch.shape} as NCHW)")
    count, _, height, width = batch.shape
    columns = min(count, per_row)
    rows = -(-count // columns)
    canvas = np.zeros((3, height * rows, width * columns), batch.dtype)
    for number, image in enumerate(batch):
        row, column = divmod(number, columns)
        canvas[:, row * height:(row + 1) * height, column * width:(column + 1) * width] = image
    return canvas


def image(tag: str, value: Any, dataformats: str = "CHW") -> Summary:
    """An image (or a batch as a grid) as a PNG of 8-bit pixels (scaled as the module's notes say)."""
    from PIL import Image  # Pillow comes with matplotlib

    values = as_rgb(numbers(value, "add_image"), dataformats)
    scale = 1 if values.dtype == np.uint8 else 255
    pixels = (values.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    height, width, channels = pixels.shape
    png = io.BytesIO()
    Image.fromarray(pixels).save(png, format="PNG")
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(
        height=height, width=width, colorspace=channels, encoded_image_string=png.getvalue()))])


def figure_pixels(figure: Any, close: bool = True) -> np.ndarray:
    """A matplotlib figure drawn to RGB pixels (3, H, W), uint8; ``close`` closes the figure after."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = figure.canvas.get_width_height()
    rgba = np.frombuffer(canvas.buffer_rgba(), np.uint8).reshape(height, width, 4)
    if close:
        plt.close(figure)
    return np.moveaxis(rgba[:, :, :3], 2, 0)


def text(tag: str, words: str) -> Summary:
    """A string for the text plugin, under ``tag + '/text_summary'``."""
    from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

    if not isinstance(words, str):
        raise AttributeError(f"add_text: the text must be a string, got {type(words).__name__}; log str(value)")
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    tensor = TensorProto(dtype="DT_STRING", string_val=[words.encode("utf-8")],
                         tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=tensor)])


def hparams(hparam_dict: Any, metric_dict: Any, domains: Any = None) -> tuple[Summary, Summary, Summary]:
    """The hparams plugin's records: the experiment (each hyperparameter's name and type, the metrics' tags), the
    session's start (the values) and its end (success). Numbers (bools too, as PyTorch: a bool is an int) are
    float64s, strings strings; a one-entry tensor is its number; None is left out."""
    from google.protobuf import struct_pb2
    from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2

    for name, given in (("hparam_dict", hparam_dict), ("metric_dict", metric_dict), ("hparam_domain_discrete",
                                                                                   domains or {})):
        if not isinstance(given, dict):
            raise TypeError(f"add_hparams: {name} must be a dict of names and values, got {type(given).__name__}")
    domains = domains or {}
    for name, domain in domains.items():
        if name not in hparam_dict or not isinstance(domain, list) or \
                not all(isinstance(item, type(hparam_dict[name])) for item in domain):
            raise TypeError(f"add_hparams: hparam_domain_discrete[{name!r}] must be a list of values of the type of "
                            f"hparam_dict[{name!r}]")
    start = plugin_data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, Tensor):
            value = float(value.array.reshape(-1)[0])
        if isinstance(value, (int, float)):
            start.hparams[name].number_value = value
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(value, str):
            start.hparams[name].string_value = value
            kind, field = "DATA_TYPE_STRING", "string_value"
        else:
            raise ValueError(f"add_hparams: the value of {name!r} must be an int, float, str, bool or one-entry "
                             f"tensor, got {type(value).__name__}")
        domain = (struct_pb2.ListValue(values=[struct_pb2.Value(**{field: item}) for item in domains[name]])
                  if name in domains else None)
        infos.append(api_pb2.HParamInfo(name=name, type=api_pb2.DataType.Value(kind), domain_discrete=domain))
    experiment = api_pb2.Experiment(hparam_infos=infos,
                                    metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag))
                                                  for tag in metric_dict])
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.Status.Value("STATUS_SUCCESS"))

    def record(tag: str, **content: Any) -> Summary:
        data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content)
        plugin = SummaryMetadata.PluginData(plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString())
        return Summary(value=[Summary.Value(tag=tag, metadata=SummaryMetadata(plugin_data=plugin))])

    return (record(metadata.EXPERIMENT_TAG, experiment=experiment),
            record(metadata.SESSION_START_INFO_TAG, session_start_info=start),
            record(metadata.SESSION_END_INFO_TAG, session_end_info=end))


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Summary:
    """Precision and recall at ``num_thresholds`` thresholds (at most 127) for the PR-curves plugin.

    Each prediction p falls in bucket ⌊p·(T − 1)⌋ of T; counting each bucket's positives (label 1) and negatives,
    weighted, and adding them up from the top bucket down gives, at the threshold of bucket k, the true positives
    TP and false positives FP (predictions at or above it); TN = FP₀ − FP and FN = TP₀ − TP; precision =
    TP / max(10⁻⁷, TP + FP), recall = TP / max(10⁻⁷, TP + FN). The record is the 6 × T table of TP, FP, TN, FN,
    precision and recall, as float32.
    """
    from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData

    thresholds = min(num_thresholds, 127)
    truth = numbers(labels, "add_pr_curve").astype(np.float64)
    weight = 1.0 if weights is None else numbers(weights, "add_pr_curve")
    buckets = np.floor(numbers(predictions, "add_pr_curve") * (thresholds - 1)).astype(np.int32)
    counted = [np.histogram(buckets, bins=thresholds, range=(0, thresholds - 1), weights=share * weight)[0]
               for share in (truth, 1.0 - truth)]
    true_positives, false_positives = (np.cumsum(count[::-1])[::-1] for count in counted)
    false_negatives = true_positives[0] - true_positives
    table = np.stack([true_positives, false_positives, false_positives[0] - false_positives, false_negatives,
                      true_positives / np.maximum(1e-7, true_positives + false_positives),
                      true_positives / np.maximum(1e-7, true_positives + false_negatives)])
    metadata = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="pr_curves", content=PrCurvePluginData(version=0, num_thresholds=thresholds).SerializeToString()))
    tensor = TensorProto(dtype="DT_FLOAT", float_val=table.reshape(-1).tolist(), tensor_shape=TensorShapeProto(
        dim=[TensorShapeProto.Dim(size=size) for size in table.shape]))
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])
