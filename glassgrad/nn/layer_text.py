"""How PyTorch 2.13 shows each layer in ``print(model)``: the text inside its parentheses (its ``extra_repr``).

One table, :data:`ROWS`, says for every layer that PyTorch also has which settings its line shows, in order:

* positional (``Conv2d(1, 8, ...)``) or as ``name=value`` (``kernel_size=(3, 3)``);
* always, or only when not at the value PyTorch leaves out (``Conv2d`` shows ``padding=`` only when it is not
  all zeros, ``ReLU`` shows ``inplace=True`` only when true);
* in the form PyTorch keeps it: some settings as the learner wrote them (``MaxPool2d(2)`` shows ``kernel_size=2``,
  ``MaxPool2d((2, 2))`` shows ``kernel_size=(2, 2)``), some made into tuples (``Conv2d(1, 8, 3)`` shows
  ``kernel_size=(3, 3)``), some into floats (``Upsample(scale_factor=2)`` shows ``scale_factor=2.0``).

Values are written with Python's ``str`` as PyTorch writes them (``eps=1e-05``, ``p=0.5``, tuples in
parentheses), quoted only where PyTorch quotes them (``approximate='none'``, ``mode='nearest'``).

A setting shown as written is read from the arguments the layer was built with, which a layer in the table keeps
(:func:`keep_arguments`, called for each such class as it is defined), or from its attribute once the learner
has set that (``layer.p = 0.1``); the others are read from the layer's attributes, so a layer changed after it
was built (a lazy layer that has seen its input) shows its present size.
``Module.extra_repr`` reads this table (:func:`layer_text`); a layer not in it (glassgrad's own, a learner's
module) shows its ``config()`` instead, and a learner's ``extra_repr`` override wins over both.

>>> import glassgrad as gg
>>> gg.nn.Conv2d(1, 8, 3, padding=1)
Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))  # 80 parameters
>>> gg.nn.MaxPool2d(2).extra_repr()
'kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False'
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from .module_utils import _ntuple

_SHOWN_ALWAYS = object()
"""The ``hidden_at`` of a setting every line shows."""

_UNSET = object()
"""A layer's instance attribute that does not exist."""

Reader = Callable[[Any, Mapping[str, Any]], Any]
"""Reads one setting from a layer and the arguments it was built with."""

Reading = tuple[Reader, tuple[str, ...]]
"""A reader and the constructor arguments it needs kept."""


class Shown(NamedTuple):
    """One setting on a layer's line."""

    label: str
    """``name`` as in ``name=value``; empty for a setting shown by position."""
    read: Reader
    hidden_at: Any = _SHOWN_ALWAYS
    """The value at which PyTorch leaves the setting out."""
    arguments: tuple[str, ...] = ()
    """The constructor arguments ``read`` needs kept as given (none when it reads attributes only)."""
    write: Callable[[Any], str] = str
    """How the value is written: ``str``, or ``repr`` where PyTorch quotes it."""


# --- the forms PyTorch keeps a setting in -----------------------------------------------------------------

def _as_written(value: Any) -> Any:
    return value


def _tuple_of(n: int) -> Callable[[Any], Any]:
    """PyTorch's ``_single``/``_pair``/``_triple`` (:mod:`glassgrad.nn.module_utils`), a string (``padding='same'``)
    kept as it is."""
    as_tuple = _ntuple(n)

    def form(value: Any) -> Any:
        return value if isinstance(value, str) else as_tuple(value)
    return form


def _scale_factor(value: Any) -> Any:
    """``Upsample``: a scale factor as floats (a tuple of them for a tuple), written with ``repr``."""
    if isinstance(value, tuple):
        return repr(tuple(float(factor) for factor in value))
    return repr(float(value) if value else None)


# --- the readers ------------------------------------------------------------------------------------------

def given(name: str, form: Callable[[Any], Any] = _as_written, *, none_means: str = "") -> Reading:
    """Argument ``name`` as the layer was built with it, in ``form`` (its attribute when not kept);
    ``none_means``: the argument a ``None`` stands for (a pool's ``stride`` defaults to its ``kernel_size``), as
    the layer was built with it: PyTorch fixes the stride then, so a ``kernel_size`` set later leaves it."""
    def read(layer: Any, arguments: Mapping[str, Any]) -> Any:
        value = arguments[name] if name in arguments else getattr(layer, name)
        if value is None and none_means:
            built_with = _kept(layer)
            value = built_with[none_means][0] if none_means in built_with else getattr(layer, none_means)
        return form(value)
    return read, (name,) if not none_means else (name, none_means)


def attribute(name: str, form: Callable[[Any], Any] = _as_written) -> Reading:
    """The layer's attribute ``name`` now, in ``form``."""
    return (lambda layer, arguments: form(getattr(layer, name))), ()


def _has_bias() -> Reading:
    return (lambda layer, arguments: layer.bias is not None), ()


def kw(name: str, reader: Reading | None = None, hidden_at: Any = _SHOWN_ALWAYS,
       write: Callable[[Any], str] = str) -> Shown:
    """``name=value``; read as given unless another ``reader`` is named."""
    read, arguments = reader or given(name)
    return Shown(name, read, hidden_at, arguments, write)


def pos(name: str, reader: Reading | None = None) -> Shown:
    """The value alone, always shown."""
    read, arguments = reader or given(name)
    return Shown("", read, _SHOWN_ALWAYS, arguments)


def _inplace_flag() -> Shown:
    return kw("inplace", hidden_at=False)


# --- the rows of families that share one -------------------------------------------------------------------

def _conv(n: int, transposed: bool) -> tuple[Shown, ...]:
    as_tuple = _tuple_of(n)
    zeros, ones = (0,) * n, (1,) * n
    return (pos("in_channels", attribute("in_channels")), pos("out_channels", attribute("out_channels")),
            kw("kernel_size", attribute("kernel_size", as_tuple)), kw("stride", attribute("stride", as_tuple)),
            kw("padding", attribute("padding", as_tuple), zeros), kw("dilation", attribute("dilation", as_tuple), ones),
            *((kw("output_padding", attribute("output_padding", as_tuple), zeros),) if transposed else ()),
            kw("groups", attribute("groups"), 1), kw("bias", _has_bias(), True),
            Shown("padding_mode", lambda layer, arguments: getattr(layer, "padding_mode", "zeros"), "zeros"))


def _batch_norm() -> tuple[Shown, ...]:
    return (pos("num_features", attribute("num_features")), kw("eps"), kw("momentum"),
            kw("affine", attribute("affine")), kw("bias", _has_bias()),
            kw("track_running_stats", attribute("track_running_stats")))


def _window(n: int) -> tuple[Shown, ...]:
    """``kernel_size``, ``stride`` (the kernel's when None), ``padding``: made n-tuples (n = 0: as written)."""
    form = _tuple_of(n) if n else _as_written
    return (kw("kernel_size", given("kernel_size", form)),
            kw("stride", given("stride", form, none_means="kernel_size")), kw("padding", given("padding", form)))


def _padding(n: int, *, value: bool) -> tuple[Shown, ...]:
    shown = given("padding", _tuple_of(2 * n))
    return (kw("padding", shown), kw("value")) if value else (pos("padding", shown),)


def _recurrent() -> tuple[Shown, ...]:
    return (pos("input_size", attribute("input_size")), pos("hidden_size", attribute("hidden_size")),
            kw("proj_size", attribute("proj_size"), 0), kw("num_layers", attribute("num_layers"), 1),
            kw("bias", attribute("bias"), True), kw("batch_first", attribute("batch_first"), False),
            kw("dropout", attribute("dropout", float), 0), kw("bidirectional", attribute("bidirectional"), False))


def _cell(nonlinearity: bool) -> tuple[Shown, ...]:
    return (pos("input_size", attribute("input_size")), pos("hidden_size", attribute("hidden_size")),
            kw("bias", attribute("bias"), True),
            *((kw("nonlinearity", attribute("nonlinearity"), "tanh"),) if nonlinearity else ()))


def _upsample() -> tuple[Shown, ...]:
    def read(layer: Any, arguments: Mapping[str, Any]) -> str:
        """``scale_factor=`` when one was given, else ``size=``; then the mode."""
        factor = arguments["scale_factor"]
        size = f"scale_factor={_scale_factor(factor)}" if factor is not None else f"size={arguments['size']!r}"
        return f"{size}, mode={arguments['mode']!r}"
    return (Shown("", read, _SHOWN_ALWAYS, ("scale_factor", "size", "mode")),)


def _parameters_listed(kind: Callable[[Any], str]) -> tuple[Shown, ...]:
    """``ParameterList``/``ParameterDict``: a line per parameter, ``(name): Parameter containing: [kind of size
    2x3]``, the kind being the dtype (a list) or the legacy type name (a dict), as PyTorch words them; an empty slot
    (None) is ``(name): Object of type: NoneType``."""
    def line(name: str, parameter: Any) -> str:
        if parameter is None:
            return f"  ({name}): Object of type: NoneType"
        return f"  ({name}): Parameter containing: [{kind(parameter)} of size {'x'.join(map(str, parameter.shape))}]"

    def read(layer: Any, arguments: Mapping[str, Any]) -> str:
        return "\n".join(line(name, parameter) for name, parameter in layer._parameters.items())
    return (Shown("", read),)


_SHOW_NOTHING = (
    "AdaptiveLogSoftmaxWithLoss", "BCELoss", "BCEWithLogitsLoss", "CTCLoss", "CosineEmbeddingLoss",
    "CosineSimilarity", "CrossEntropyLoss", "DataParallel", "FractionalMaxPool2d", "FractionalMaxPool3d",
    "GaussianNLLLoss", "Hardsigmoid", "Hardswish", "HingeEmbeddingLoss", "HuberLoss", "Identity", "KLDivLoss",
    "L1Loss", "LogSigmoid", "MSELoss", "MarginRankingLoss", "ModuleDict", "ModuleList",
    "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiheadAttention", "NLLLoss",
    "NLLLoss2d", "PairwiseDistance", "PoissonNLLLoss", "Sequential", "Sigmoid", "SmoothL1Loss", "SoftMarginLoss",
    "Softmax2d", "Softsign", "Tanh", "Tanhshrink", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
    "TransformerEncoder", "TransformerEncoderLayer", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
)
"""The layers PyTorch shows with empty parentheses (or, with children, only those)."""

ROWS: dict[str, tuple[Shown, ...]] = {
    **{name: () for name in _SHOW_NOTHING},
    # --- activations
    **{name: (_inplace_flag(),) for name in ("ReLU", "ReLU6", "SELU", "SiLU", "Mish")},
    "ELU": (kw("alpha"), _inplace_flag()),
    "CELU": (kw("alpha"), _inplace_flag()),
    "LeakyReLU": (kw("negative_slope"), _inplace_flag()),
    "Hardtanh": (kw("min_val"), kw("max_val"), _inplace_flag()),
    "RReLU": (kw("lower"), kw("upper"), _inplace_flag()),
    "Threshold": (kw("threshold"), kw("value"), _inplace_flag()),
    "Softplus": (kw("beta"), kw("threshold")),
    "Hardshrink": (pos("lambd"),),
    "Softshrink": (pos("lambd"),),
    "GELU": (kw("approximate", write=repr),),
    "GLU": (kw("dim"),),
    "PReLU": (kw("num_parameters"),),
    **{name: (kw("dim"),) for name in ("Softmax", "LogSoftmax", "Softmin")},
    # --- linear, convolution
    "Linear": (kw("in_features", attribute("in_features")), kw("out_features", attribute("out_features")),
               kw("bias", _has_bias())),
    "Bilinear": (kw("in1_features", attribute("in1_features")), kw("in2_features", attribute("in2_features")),
                 kw("out_features", attribute("out_features")), kw("bias", _has_bias())),
    **{f"{lazy}Conv{n}d": _conv(n, transposed=False) for n in (1, 2, 3) for lazy in ("", "Lazy")},
    **{f"{lazy}ConvTranspose{n}d": _conv(n, transposed=True) for n in (1, 2, 3) for lazy in ("", "Lazy")},
    # --- pooling
    **{f"MaxPool{n}d": (*_window(0), kw("dilation"), kw("ceil_mode")) for n in (1, 2, 3)},
    "AvgPool1d": _window(1),
    "AvgPool2d": _window(0),
    "AvgPool3d": _window(0),
    **{f"MaxUnpool{n}d": _window(n) for n in (1, 2, 3)},
    **{f"Adaptive{kind}Pool{n}d": (kw("output_size"),) for kind in ("Avg", "Max") for n in (1, 2, 3)},
    **{f"LPPool{n}d": (kw("norm_type"), kw("kernel_size"), kw("stride"), kw("ceil_mode")) for n in (1, 2, 3)},
    "Fold": (kw("output_size"), kw("kernel_size"), kw("dilation"), kw("padding"), kw("stride")),
    "Unfold": (kw("kernel_size"), kw("dilation"), kw("padding"), kw("stride")),
    # --- normalisation
    **{f"{lazy}{kind}Norm{n}d": _batch_norm() for kind in ("Batch", "Instance") for n in (1, 2, 3)
       for lazy in ("", "Lazy")},
    "LayerNorm": (pos("normalized_shape", attribute("normalized_shape")), kw("eps"),
                  kw("elementwise_affine", attribute("elementwise_affine")), kw("bias", _has_bias())),
    "GroupNorm": (pos("num_groups", attribute("num_groups")), pos("num_channels", attribute("num_channels")),
                  kw("eps"), kw("affine", attribute("affine")), kw("bias", _has_bias())),
    "RMSNorm": (pos("normalized_shape", attribute("normalized_shape")), kw("eps"),
                kw("elementwise_affine", attribute("elementwise_affine"))),
    "LocalResponseNorm": (pos("size"), kw("alpha"), kw("beta"), kw("k")),
    # --- dropout
    **{name: (kw("p"), kw("inplace")) for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                                    "AlphaDropout", "FeatureAlphaDropout")},
    # --- embeddings
    "Embedding": (pos("num_embeddings", attribute("num_embeddings")), pos("embedding_dim", attribute("embedding_dim")),
                  kw("padding_idx", attribute("padding_idx"), None), kw("max_norm", hidden_at=None),
                  kw("norm_type", hidden_at=2), kw("scale_grad_by_freq", hidden_at=False),
                  kw("sparse", hidden_at=False)),
    "EmbeddingBag": (pos("num_embeddings", attribute("num_embeddings")),
                     pos("embedding_dim", attribute("embedding_dim")),
                     kw("max_norm", hidden_at=None, write=repr), kw("norm_type", hidden_at=2, write=repr),
                     kw("scale_grad_by_freq", hidden_at=False, write=repr), kw("mode", write=repr),
                     kw("padding_idx", attribute("padding_idx"), None, repr)),
    # --- recurrent
    **{name: _recurrent() for name in ("RNNBase", "RNN", "LSTM", "GRU")},
    "RNNCell": _cell(nonlinearity=True),
    "LSTMCell": _cell(nonlinearity=False),
    "GRUCell": _cell(nonlinearity=False),
    # --- padding
    **{f"{kind}Pad{n}d": _padding(n, value=False) for kind in ("Zero", "Reflection", "Replication", "Circular")
       for n in (1, 2, 3)},
    **{f"ConstantPad{n}d": _padding(n, value=True) for n in (1, 2, 3)},
    # --- reshaping, upsampling
    "Flatten": (kw("start_dim"), kw("end_dim")),
    "Unflatten": (kw("dim"), kw("unflattened_size")),
    "PixelShuffle": (kw("upscale_factor"),),
    "PixelUnshuffle": (kw("downscale_factor"),),
    "ChannelShuffle": (kw("groups"),),
    **{name: _upsample() for name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d")},
    # --- containers of parameters
    "ParameterList": _parameters_listed(lambda parameter: f"torch.{parameter.dtype}"),
    "ParameterDict": _parameters_listed(lambda parameter: parameter.type()),
}
"""Layer class name → the settings its line shows, in PyTorch's order."""


def _hidden(value: Any, hidden_at: Any) -> bool:
    """Whether PyTorch leaves ``value`` out: it equals ``hidden_at`` (a flag only a flag: ``bias=1`` shows)."""
    return (hidden_at is not _SHOWN_ALWAYS and isinstance(value, bool) == isinstance(hidden_at, bool)
            and value == hidden_at)


def _row_of(layer: Any) -> tuple[Shown, ...] | None:
    """The row of the nearest glassgrad layer class ``layer`` is (a learner's subclass of ``Linear`` shows as
    ``Linear`` does); None for a module that is no such layer."""
    for cls in type(layer).__mro__:
        if cls.__module__.startswith("glassgrad.nn.") and cls.__name__ in ROWS:
            return ROWS[cls.__name__]
    return None


def layer_text(layer: Any) -> str | None:
    """PyTorch's ``extra_repr`` of ``layer``; None when PyTorch has no such layer."""
    row = _row_of(layer)
    if row is None:
        return None
    parts = []
    arguments = _settings(layer)
    for shown in row:
        value = shown.read(layer, arguments)
        if not _hidden(value, shown.hidden_at):
            text = shown.write(value)
            parts.append(f"{shown.label}={text}" if shown.label else text)
    return ", ".join(parts)


def _settings(layer: Any) -> dict[str, Any]:
    """The kept arguments, each as given or, where the learner has set its attribute since (``layer.p = 0.1``),
    as set: PyTorch keeps both as written."""
    settings = {}
    for name, (given, built) in _kept(layer).items():
        now = layer.__dict__.get(name, _UNSET)
        settings[name] = given if now is built or now is _UNSET else now
    return settings


_SIGNATURES: dict[type, tuple[inspect.Signature, frozenset[str]]] = {}
"""Each wrapped layer class's constructor signature and the arguments its row shows as written."""


def _kept(layer: Any) -> dict[str, tuple[Any, Any]]:
    """Each kept argument: (as given, the attribute as the constructors left it). The calls are bound here, when
    the layer is shown, not each time one is built; the outermost constructor's arguments win."""
    kept: dict[str, Any] = {}
    for cls, args, kwargs in layer.__dict__.get("_built_with", ()):
        signature, names = _SIGNATURES[cls]
        bound = signature.bind(layer, *args, **kwargs)
        bound.apply_defaults()
        kept |= {name: bound.arguments[name] for name in names if name in bound.arguments}
    built = layer.__dict__.get("_built_attributes", {})
    return {name: (value, built.get(name, _UNSET)) for name, value in kept.items()}


def keep_arguments(cls: type) -> None:
    """Make a glassgrad layer in :data:`ROWS` keep the constructor arguments its row shows as written (the call,
    in ``_built_with``, bound when shown: :func:`_kept`), with its attributes as the constructor left them (in
    ``_built_attributes``). The outermost constructor's arguments win over those it passed on to its base class's
    (``MaxPool1d(2)`` keeps 2, not the pair it builds)."""
    if not cls.__module__.startswith("glassgrad.nn.") or cls.__name__ not in ROWS:
        return
    names = frozenset(name for shown in ROWS[cls.__name__] for name in shown.arguments)
    if not names:
        return
    build = cls.__init__
    _SIGNATURES[cls] = (inspect.signature(build), names)

    @functools.wraps(build)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        build(self, *args, **kwargs)
        calls = self.__dict__.get("_built_with", ())
        shown = names.union(*(_SIGNATURES[inner][1] for inner, _, _ in calls))
        state = self.__dict__
        object.__setattr__(self, "_built_with", (*calls, (cls, args, kwargs)))
        object.__setattr__(self, "_built_attributes", {name: state.get(name, _UNSET) for name in shown})

    cls.__init__ = __init__  # type: ignore[misc]
