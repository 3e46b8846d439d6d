"""``print(model)`` shows each layer as PyTorch 2.13 does (glassgrad.nn.layer_text), with glassgrad's parameter
counts added: the text before each ``  # N parameters`` comment and without the ``Total parameters`` line is
PyTorch's ``repr``, for constructor arguments hypothesis draws (defaults and others, written as ints, floats,
tuples or lists)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

import glassgrad as gg

COUNT_COLUMN = re.compile(r"  +# [\d,]+ parameters?.*$")


def pytorch_text(model: Any) -> str:
    """glassgrad's ``repr`` without its additions: the parameter-count comments and the total line."""
    lines = [COUNT_COLUMN.sub("", line) for line in repr(model).split("\n")]
    return "\n".join(line for line in lines if not line.startswith("Total parameters: "))


# --- the constructor arguments drawn for each layer -----------------------------------------------------

flag = st.booleans()
number = st.sampled_from([0, 1, 2, 0.5, 0.25, 1e-05, 1e-3, 0.1, 3.0, 1.0, 2.5])
positive = st.sampled_from([1, 2, 0.5, 1e-05, 1e-3, 0.1, 3.0, 1.0])
probability = st.sampled_from([0, 0.5, 0.25, 1, 0.0, 1.0, 0.1])
reduction = st.sampled_from(["mean", "sum", "none"])


def sized(n: int, values: st.SearchStrategy[int]) -> st.SearchStrategy[Any]:
    """One number, or n of them as a tuple or a list (as a learner may write either)."""
    return st.one_of(values, st.tuples(*[values] * n), st.lists(values, min_size=n, max_size=n))


def arguments(**drawn: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments: each one either left at its default or drawn."""
    return st.fixed_dictionaries({}, optional=drawn)


def needing(required: dict[str, st.SearchStrategy[Any]], **drawn: st.SearchStrategy[Any]):
    return st.fixed_dictionaries(required, optional=drawn)


def conv(n: int, transposed: bool, lazy: bool) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw_conv(draw: st.DrawFn) -> dict[str, Any]:
        groups = draw(st.integers(1, 2))
        stride = draw(st.integers(1, 3))
        padding = st.one_of(sized(n, st.integers(0, 2)),
                            st.sampled_from(["valid", "same"] if stride == 1 and not transposed else ["valid"]))
        out = {"out_channels": groups * draw(st.integers(1, 3)), "kernel_size": draw(sized(n, st.integers(1, 3))),
               "stride": draw(st.sampled_from([stride, (stride,) * n, [stride] * n])), "groups": groups}
        if not lazy:
            out["in_channels"] = groups * draw(st.integers(1, 3))
        out |= draw(arguments(padding=padding if not transposed else sized(n, st.integers(0, 2)),
                              dilation=sized(n, st.integers(1, 2)), bias=flag,
                              **({"output_padding": st.just(0)} if transposed else
                                 {"padding_mode": st.sampled_from(["zeros", "reflect", "replicate", "circular"])})))
        if transposed and draw(flag):  # output_padding must be below the stride or the dilation
            out["output_padding"] = 0 if stride == 1 else stride - 1
        return out
    return draw_conv()


def window(n: int, **more: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A pool's kernel, stride and padding (at most half the kernel, as PyTorch requires)."""
    @st.composite
    def draw_window(draw: st.DrawFn) -> dict[str, Any]:
        kernel = draw(st.integers(2, 4))
        out = {"kernel_size": draw(st.one_of(st.just(kernel), st.just((kernel,) * n), st.just([kernel] * n)))}
        return out | draw(arguments(stride=st.one_of(st.none(), sized(n, st.integers(1, 3))),
                                    padding=sized(n, st.integers(0, kernel // 2)), **more))
    return draw_window()


def padding(n: int) -> st.SearchStrategy[Any]:
    return sized(2 * n, st.integers(0, 3))


def normalized_shape() -> st.SearchStrategy[Any]:
    return st.one_of(st.integers(1, 5), st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
                     st.lists(st.integers(1, 4), min_size=1, max_size=3))


def recurrent(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw_recurrent(draw: st.DrawFn) -> dict[str, Any]:
        hidden = draw(st.integers(2, 5))
        more = {"proj_size": st.integers(0, hidden - 1)} if kind == "LSTM" else {}
        more |= {"nonlinearity": st.sampled_from(["tanh", "relu"])} if kind == "RNN" else {}
        return {"input_size": draw(st.integers(1, 5)), "hidden_size": hidden} | draw(arguments(
            num_layers=st.integers(1, 3), bias=flag, batch_first=flag, dropout=st.sampled_from([0, 0.0, 0.5, 1]),
            bidirectional=flag, **more))
    return draw_recurrent()


def embedding(bag: bool) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw_embedding(draw: st.DrawFn) -> dict[str, Any]:
        count = draw(st.integers(2, 8))
        more = ({"mode": st.sampled_from(["sum", "mean", "max"]), "include_last_offset": flag} if bag
                else {})  # sparse=True: glassgrad has no sparse gradients, and refuses it
        return {"num_embeddings": count, "embedding_dim": draw(st.integers(1, 4))} | draw(arguments(
            padding_idx=st.one_of(st.none(), st.integers(-count, count - 1)),
            max_norm=st.one_of(st.none(), positive), norm_type=st.sampled_from([2, 2.0, 1, 1.5, 3.0]),
            scale_grad_by_freq=flag, **more))
    return draw_embedding()


@st.composite
def upsample(draw: st.DrawFn, fixed_mode: bool) -> dict[str, Any]:
    if draw(flag):
        out = {"size": draw(st.one_of(st.integers(1, 6), st.tuples(st.integers(1, 6), st.integers(1, 6))))}
    else:
        out = {"scale_factor": draw(st.one_of(st.sampled_from([2, 2.0, 0.5, 3, 1.5]),
                                              st.tuples(st.sampled_from([2, 1.5]), st.sampled_from([3, 0.5]))))}
    if not fixed_mode:
        mode = draw(st.sampled_from(["nearest", "bilinear", "bicubic", "nearest-exact"]))
        out["mode"] = mode
        if mode in ("bilinear", "bicubic") and draw(flag):
            out["align_corners"] = draw(flag)
    return out


def norm(affine_default: bool, lazy: bool) -> st.SearchStrategy[dict[str, Any]]:
    required = {} if lazy else {"num_features": st.integers(1, 6)}
    return needing(required, eps=positive, momentum=st.one_of(st.none(), probability), affine=flag,
                   track_running_stats=flag, bias=flag)


def group_norm() -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def draw_group_norm(draw: st.DrawFn) -> dict[str, Any]:
        groups = draw(st.integers(1, 3))
        return {"num_groups": groups, "num_channels": groups * draw(st.integers(1, 3))} | draw(
            arguments(eps=positive, affine=flag, bias=flag))
    return draw_group_norm()


def with_inplace(**drawn: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return arguments(inplace=flag, **drawn)


def losses(*names: str, **drawn: st.SearchStrategy[Any]) -> dict[str, st.SearchStrategy[dict[str, Any]]]:
    return {name: arguments(reduction=reduction, **drawn) for name in names}


NOTHING = arguments()

LAYERS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    # activations
    **{name: with_inplace() for name in ("ReLU", "ReLU6", "SELU", "SiLU", "Mish")},
    **{name: NOTHING for name in ("Sigmoid", "Tanh", "Hardsigmoid", "Hardswish", "LogSigmoid", "Softsign",
                                  "Tanhshrink", "Softmax2d", "Identity")},
    "ELU": with_inplace(alpha=number),
    "CELU": with_inplace(alpha=positive),
    "LeakyReLU": with_inplace(negative_slope=number),
    "Hardtanh": with_inplace(min_val=st.sampled_from([-1, -1.0, -2, -0.5]), max_val=st.sampled_from([1, 2.0, 0.5])),
    "RReLU": with_inplace(lower=st.sampled_from([0, 0.125, 0.1]), upper=st.sampled_from([1 / 3, 0.5, 1])),
    "Threshold": needing({"threshold": number, "value": number}, inplace=flag),
    "Softplus": arguments(beta=positive, threshold=st.sampled_from([20, 20.0, 10, 0.5])),
    "Hardshrink": arguments(lambd=st.sampled_from([0.5, 1, 0.25, 2.0, 0])),
    "Softshrink": arguments(lambd=st.sampled_from([0.5, 1, 0.25, 2.0, 0])),
    "GELU": arguments(approximate=st.sampled_from(["none", "tanh"])),
    "GLU": arguments(dim=st.integers(-3, 2)),
    "PReLU": arguments(num_parameters=st.integers(1, 4), init=number),
    **{name: arguments(dim=st.one_of(st.none(), st.integers(-3, 2))) for name in ("Softmax", "LogSoftmax",
                                                                                  "Softmin")},
    # linear, convolution
    "Linear": needing({"in_features": st.integers(0, 5), "out_features": st.integers(1, 5)}, bias=flag),
    "LazyLinear": needing({"out_features": st.integers(1, 5)}, bias=flag),
    "Bilinear": needing({"in1_features": st.integers(1, 4), "in2_features": st.integers(1, 4),
                         "out_features": st.integers(1, 4)}, bias=flag),
    **{f"{'Lazy' if lazy else ''}Conv{'Transpose' if transposed else ''}{n}d": conv(n, transposed, lazy)
       for n in (1, 2, 3) for transposed in (False, True) for lazy in (False, True)},
    # pooling
    **{f"MaxPool{n}d": window(n, dilation=sized(n, st.integers(1, 2)), ceil_mode=flag, return_indices=flag)
       for n in (1, 2, 3)},
    "AvgPool1d": window(1, ceil_mode=flag, count_include_pad=flag),
    **{f"AvgPool{n}d": window(n, ceil_mode=flag, count_include_pad=flag,
                              divisor_override=st.one_of(st.none(), st.integers(1, 4))) for n in (2, 3)},
    **{f"MaxUnpool{n}d": window(n) for n in (1, 2, 3)},
    **{f"AdaptiveAvgPool{n}d": needing({"output_size": sized(n, st.integers(1, 4)) if n == 1 else
                                        sized(n, st.one_of(st.none(), st.integers(1, 4)))}) for n in (1, 2, 3)},
    **{f"AdaptiveMaxPool{n}d": needing({"output_size": sized(n, st.integers(1, 4)) if n == 1 else
                                        sized(n, st.one_of(st.none(), st.integers(1, 4)))}, return_indices=flag)
       for n in (1, 2, 3)},
    **{f"LPPool{n}d": needing({"norm_type": st.sampled_from([1, 2, 2.0, 3.5]),
                               "kernel_size": sized(n, st.integers(1, 3))},
                              stride=st.one_of(st.none(), sized(n, st.integers(1, 3))), ceil_mode=flag)
       for n in (1, 2, 3)},
    **{f"FractionalMaxPool{n}d": needing({"kernel_size": sized(n, st.integers(1, 3)), "output_ratio": st.just(0.5)},
                                         return_indices=flag) for n in (2, 3)},
    "Fold": needing({"output_size": sized(2, st.integers(4, 6)), "kernel_size": sized(2, st.integers(1, 3))},
                    dilation=sized(2, st.integers(1, 2)), padding=sized(2, st.integers(0, 1)),
                    stride=sized(2, st.integers(1, 2))),
    "Unfold": needing({"kernel_size": sized(2, st.integers(1, 3))}, dilation=sized(2, st.integers(1, 2)),
                      padding=sized(2, st.integers(0, 1)), stride=sized(2, st.integers(1, 2))),
    # normalisation
    **{f"{lazy}{kind}Norm{n}d": norm(kind == "Batch", bool(lazy)) for kind in ("Batch", "Instance")
       for n in (1, 2, 3) for lazy in ("", "Lazy")},
    "LayerNorm": needing({"normalized_shape": normalized_shape()}, eps=positive, elementwise_affine=flag, bias=flag),
    "RMSNorm": needing({"normalized_shape": normalized_shape()}, eps=st.one_of(st.none(), positive),
                       elementwise_affine=flag),
    "GroupNorm": group_norm(),
    "LocalResponseNorm": needing({"size": st.integers(1, 5)}, alpha=positive, beta=positive, k=positive),
    # dropout
    **{name: arguments(p=probability, inplace=flag) for name in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
                                                                  "AlphaDropout", "FeatureAlphaDropout")},
    # embeddings, recurrent
    "Embedding": embedding(bag=False),
    "EmbeddingBag": embedding(bag=True),
    **{kind: recurrent(kind) for kind in ("RNN", "LSTM", "GRU")},
    "RNNBase": st.builds(lambda mode, drawn: {"mode": mode} | drawn, st.sampled_from(["RNN_TANH", "LSTM", "GRU"]),
                         recurrent("GRU")),
    "RNNCell": needing({"input_size": st.integers(1, 4), "hidden_size": st.integers(1, 4)}, bias=flag,
                       nonlinearity=st.sampled_from(["tanh", "relu"])),
    **{name: needing({"input_size": st.integers(1, 4), "hidden_size": st.integers(1, 4)}, bias=flag)
       for name in ("LSTMCell", "GRUCell")},
    # padding
    **{f"{kind}Pad{n}d": needing({"padding": padding(n)}) for kind in ("Zero", "Reflection", "Replication",
                                                                        "Circular") for n in (1, 2, 3)},
    **{f"ConstantPad{n}d": needing({"padding": padding(n), "value": number}) for n in (1, 2, 3)},
    # reshaping, upsampling
    "Flatten": arguments(start_dim=st.integers(-2, 2), end_dim=st.integers(-1, 3)),
    "Unflatten": needing({"dim": st.integers(-2, 2), "unflattened_size": st.one_of(
        st.tuples(st.integers(1, 3), st.integers(1, 3)), st.lists(st.integers(1, 3), min_size=1, max_size=3))}),
    "PixelShuffle": needing({"upscale_factor": st.integers(1, 3)}),
    "PixelUnshuffle": needing({"downscale_factor": st.integers(1, 3)}),
    "ChannelShuffle": needing({"groups": st.integers(1, 3)}),
    "Upsample": upsample(fixed_mode=False),
    "UpsamplingNearest2d": upsample(fixed_mode=True),
    "UpsamplingBilinear2d": upsample(fixed_mode=True),
    # distances and losses: PyTorch shows none of their settings
    "CosineSimilarity": arguments(dim=st.integers(-1, 1), eps=positive),
    "PairwiseDistance": arguments(p=positive, eps=positive, keepdim=flag),
    **losses("L1Loss", "MSELoss", "BCELoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss",
             "MultiLabelMarginLoss", "BCEWithLogitsLoss"),
    **losses("CrossEntropyLoss", label_smoothing=st.sampled_from([0.0, 0.1]), ignore_index=st.integers(-100, 0)),
    **losses("NLLLoss", "NLLLoss2d", ignore_index=st.integers(-100, 0)),
    **losses("KLDivLoss", log_target=flag),
    **losses("HuberLoss", delta=positive),
    **losses("SmoothL1Loss", beta=positive),
    **losses("PoissonNLLLoss", log_input=flag, full=flag),
    **losses("GaussianNLLLoss", full=flag, eps=positive),
    **losses("HingeEmbeddingLoss", "MarginRankingLoss", "CosineEmbeddingLoss", margin=number),
    **losses("MultiMarginLoss", p=st.sampled_from([1, 2]), margin=number),
    **losses("TripletMarginLoss", margin=number, p=positive, swap=flag),
    **losses("TripletMarginWithDistanceLoss", margin=number, swap=flag),
    **losses("CTCLoss", blank=st.integers(0, 2), zero_infinity=flag),
}


def both(torch: Any, name: str, kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """The layer ``name`` built from ``kwargs`` in PyTorch and in glassgrad (a draw PyTorch refuses is dropped)."""
    try:
        theirs = getattr(torch.nn, name)(**kwargs)
    except (ValueError, TypeError, RuntimeError, AssertionError):
        reject()
    return getattr(gg.nn, name)(**kwargs), theirs


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name", sorted(LAYERS))
@settings(max_examples=20)
@given(data=st.data())
def test_each_layer_prints_as_pytorch_prints_it(torch, name, data):
    kwargs = data.draw(LAYERS[name], label="arguments")
    ours, theirs = both(torch, name, kwargs)
    assert pytorch_text(ours) == repr(theirs)


def test_every_layer_pytorch_shares_is_drawn(torch):
    """The table above covers every layer class glassgrad and PyTorch both have (bar the containers and the
    multi-layer blocks, compared whole below)."""
    whole = {"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "DataParallel",
             "RNNCellBase", "MultiheadAttention", "Transformer", "TransformerEncoder",
             "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
             "AdaptiveLogSoftmaxWithLoss"}
    shared = {name for name in dir(gg.nn) if isinstance(getattr(gg.nn, name), type)
              and issubclass(getattr(gg.nn, name), gg.nn.Module) and hasattr(torch.nn, name)}
    assert shared - whole - set(LAYERS) == set()


# --- models with children ----------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore")
@settings(max_examples=10)
@given(d_model=st.sampled_from([4, 8]), heads=st.sampled_from([1, 2]), feedforward=st.integers(1, 8),
       dropout=probability, batch_first=flag, norm_first=flag, bias=flag)
def test_transformer_parts_print_as_pytorch_prints_them(torch, d_model, heads, feedforward, dropout, batch_first,
                                                        norm_first, bias):
    for name in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
        kwargs = {"d_model": d_model, "nhead": heads, "dim_feedforward": feedforward, "dropout": dropout,
                  "batch_first": batch_first, "norm_first": norm_first, "bias": bias}
        ours, theirs = getattr(gg.nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
        assert pytorch_text(ours) == repr(theirs)
    ours = gg.nn.TransformerEncoder(gg.nn.TransformerEncoderLayer(d_model, heads, feedforward), num_layers=2,
                                    enable_nested_tensor=False)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(d_model, heads, feedforward),
                                         num_layers=2, enable_nested_tensor=False)
    assert pytorch_text(ours) == repr(theirs)
    ours = gg.nn.Transformer(d_model, heads, 1, 1, feedforward, dropout)
    theirs = torch.nn.Transformer(d_model, heads, 1, 1, feedforward, dropout)
    assert pytorch_text(ours) == repr(theirs)


@settings(max_examples=10)
@given(embed=st.sampled_from([4, 6]), heads=st.sampled_from([1, 2]), bias=flag, add_bias_kv=flag,
       kdim=st.one_of(st.none(), st.integers(1, 5)), batch_first=flag)
def test_multihead_attention_prints_as_pytorch_prints_it(torch, embed, heads, bias, add_bias_kv, kdim, batch_first):
    kwargs = {"embed_dim": embed, "num_heads": heads, "bias": bias, "add_bias_kv": add_bias_kv, "kdim": kdim,
              "vdim": kdim, "batch_first": batch_first}
    ours, theirs = gg.nn.MultiheadAttention(**kwargs), torch.nn.MultiheadAttention(**kwargs)
    assert pytorch_text(ours) == repr(theirs)


def test_adaptive_log_softmax_prints_as_pytorch_prints_it(torch):
    ours = gg.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 6], div_value=2.0)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 6], div_value=2.0)
    assert pytorch_text(ours) == repr(theirs)


@settings(max_examples=15)
@given(shapes=st.lists(st.lists(st.integers(1, 4), max_size=3), max_size=4),
       dtypes=st.lists(st.sampled_from(["float32", "float64", "float16"]), min_size=4, max_size=4),
       keys=st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=4, max_size=4, unique=True))
def test_parameter_lists_and_dicts_print_as_pytorch_prints_them(torch, shapes, dtypes, keys):
    """A line per parameter inside the parentheses, its dtype (a list) or legacy type name (a dict) and size."""
    def made(library: Any) -> list[Any]:
        return [library.nn.Parameter(library.zeros(tuple(shape), dtype=getattr(library, dtype)))
                for shape, dtype in zip(shapes, dtypes)]

    for kind, entries in (("ParameterList", lambda made: made), ("ParameterDict", lambda made: dict(zip(keys, made)))):
        ours, theirs = getattr(gg.nn, kind)(entries(made(gg))), getattr(torch.nn, kind)(entries(made(torch)))
        assert pytorch_text(ours) == repr(theirs)
        assert pytorch_text(gg.nn.Sequential(ours)) == repr(torch.nn.Sequential(theirs))


SET_AFTERWARDS = {
    "Dropout": ("p", probability), "LeakyReLU": ("negative_slope", number), "ELU": ("alpha", number),
    "BatchNorm2d": ("momentum", st.one_of(st.none(), probability)), "MaxPool2d": ("ceil_mode", flag),
    "AvgPool2d": ("padding", st.sampled_from([0, 1, (1, 0)])), "Softmax": ("dim", st.integers(-2, 1)),
    "Threshold": ("value", number), "Hardtanh": ("max_val", st.sampled_from([1, 2.0])),
}


@pytest.mark.parametrize("name", sorted(SET_AFTERWARDS))
@settings(max_examples=10)
@given(data=st.data())
def test_a_setting_changed_after_building_shows_as_set(torch, name, data):
    """``layer.p = 0.1`` after building: the line shows 0.1, as written, as PyTorch's does."""
    setting, values = SET_AFTERWARDS[name]
    ours, theirs = both(torch, name, data.draw(LAYERS[name], label="arguments"))
    value = data.draw(values, label=setting)
    setattr(ours, setting, value)
    setattr(theirs, setting, value)
    assert pytorch_text(ours) == repr(theirs)


def _network(nn: Any) -> Any:
    """A course-notebook CNN plus a recurrent tail, in a Sequential with a nested Sequential and ModuleList."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Sequential(nn.Conv2d(8, 16, kernel_size=(3, 5), stride=2, bias=False), nn.AdaptiveAvgPool2d((1, 1))),
        nn.Flatten(), nn.ModuleList([nn.Linear(16, 16) for _ in range(3)] + [nn.Linear(16, 10)]),
        nn.LogSoftmax(dim=1), nn.Embedding(100, 8, padding_idx=0), nn.LSTM(8, 16, batch_first=True),
        nn.LayerNorm(16), nn.GELU(), nn.LeakyReLU(0.2, inplace=True), nn.ConvTranspose2d(16, 8, 4, 2, 1),
        nn.Upsample(scale_factor=2), nn.CrossEntropyLoss(), nn.Identity(), nn.TransformerEncoderLayer(16, 2, 32))


def test_a_nested_model_prints_as_pytorch_prints_it_with_the_counts_added(torch):
    ours, theirs = _network(gg.nn), _network(torch.nn)
    assert pytorch_text(ours) == repr(theirs)
    text = repr(ours).split("\n")
    assert text[1].endswith("# 80 parameters") and text[-1] == f"Total parameters: {ours.num_parameters():,}"
    assert ours.num_parameters() == sum(p.numel() for p in theirs.parameters())
    assert pytorch_text(gg.nn.DataParallel(ours[0])) == repr(torch.nn.DataParallel(theirs[0]))


def test_a_learners_module_with_settings_and_children_prints_as_pytorch_prints_it(torch):
    """A learner's ``extra_repr`` wins over the table; with children, it goes on its own lines at the top."""
    def block(nn: Any) -> Any:
        class Scaled(nn.Linear):
            def extra_repr(self) -> str:
                return f"scale=2\n{super().extra_repr()}"

        class Block(nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner, self.plain = Scaled(3, 2), nn.Linear(2, 2)

            def extra_repr(self) -> str:
                return "width=2"

        class Wide(nn.Linear):  # a subclass of a layer shows as that layer does, under its own name
            pass

        return nn.Sequential(Block(), Wide(4, 5, bias=False), nn.Module())

    assert pytorch_text(block(gg.nn)) == repr(block(torch.nn))


def test_a_lazy_layer_shows_its_size_once_it_has_seen_its_input(torch):
    ours, theirs = gg.nn.LazyConv2d(4, 3), torch.nn.LazyConv2d(4, 3)
    assert pytorch_text(ours) == repr(theirs)
    ours(gg.ones(1, 2, 5, 5))
    theirs(torch.ones(1, 2, 5, 5))
    assert pytorch_text(ours) == repr(theirs)


def test_config_still_rebuilds_the_layer(torch):
    """``print`` follows PyTorch; ``config()``, the JSON-friendly rebuild recipe (lists, every setting), rebuilds
    a layer that prints as PyTorch's built from the same recipe."""
    recipe = gg.nn.MaxPool2d(2).config()
    assert isinstance(recipe["kernel_size"], list)
    assert pytorch_text(gg.nn.MaxPool2d(**recipe)) == repr(torch.nn.MaxPool2d(**recipe))


def test_a_glassgrad_only_module_still_shows_its_config():
    model = gg.nn.Residual(gg.nn.Linear(2, 2))
    assert model.extra_repr() == ", ".join(f"{key}={value!r}" for key, value in model.config().items())


@pytest.mark.parametrize("name", ["MaxPool1d", "MaxPool2d", "AvgPool2d", "AvgPool3d"])
@pytest.mark.parametrize("stride", [None, 1])
def test_a_kernel_size_set_after_building_leaves_the_stride_it_was_built_with(torch, name, stride):
    """PyTorch fixes ``stride = kernel_size`` when built without one: ``pool.kernel_size = 3`` later keeps it."""
    ours, theirs = getattr(gg.nn, name)(2, stride=stride), getattr(torch.nn, name)(2, stride=stride)
    ours.kernel_size = theirs.kernel_size = 3
    assert pytorch_text(ours) == repr(theirs)
