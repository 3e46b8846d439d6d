"""The Transformer (Vaswani et al., 2017): encoder and decoder layers, their stacks, and the whole model.

Built from layers glassgrad already has (``MultiheadAttention``, ``Linear``, ``LayerNorm``,
``Dropout``), with PyTorch's arguments, submodule names and order, so a PyTorch model's
``state_dict`` loads as it is. An encoder layer is two residual blocks; with ``norm_first=False``
(post-norm, the paper's and PyTorch's default)::

    x = LayerNorm₁(x + Dropout₁(SelfAttention(x, x, x)))
    x = LayerNorm₂(x + Dropout₂(FeedForward(x)))        FeedForward(x) = W₂·Dropout(act(W₁·x + b₁)) + b₂

and with ``norm_first=True`` (pre-norm) ``x = x + Dropout₁(SelfAttention(LayerNorm₁(x)))``,
``x = x + Dropout₂(FeedForward(LayerNorm₂(x)))``. A decoder layer adds, between the two, a block
that attends from the target to the encoder's output (``memory``): ``CrossAttention(x, memory,
memory)`` with ``norm2`` and ``dropout2``, its feed-forward block then using ``norm3`` and
``dropout3``. Backward is what the rows give; a trace shows each attention step and layer.

>>> import glassgrad as gg
>>> layer = gg.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, batch_first=True)
>>> layer(gg.ones(3, 5, 8)).shape
Size([3, 5, 8])
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..arguments import float_argument, shape_text
from ..autograd import is_grad_enabled, recorded_call
from ..creation import as_tensor, full, pick_generator
from ..device import check_device
from ..settings import warn_at_learners_line, warn_once
from ..tensor import Tensor
from . import functional as F
from . import init
from .activation import GELU, ReLU
from .attention import MultiheadAttention, mixed_masks
from .dropout import Dropout
from .linear import Linear, check_size, float_dtype
from .lists import ModuleList
from .module import Module
from .normalization import LayerNorm

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {"relu": F.relu, "gelu": F.gelu}
"""The activations the feed-forward block takes by name (any callable, e.g. ``nn.GELU()``, works too)."""


def _activation(activation: Any, owner: str) -> Callable[[Tensor], Tensor]:
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise RuntimeError(f"{owner}: activation should be 'relu' or 'gelu' (or a callable), not {activation!r}")
        return ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"{owner}: activation must be 'relu', 'gelu' or a callable, got {type(activation).__name__}")
    return activation


def _activation_name(activation: Callable[[Tensor], Tensor]) -> str:
    named = [name for name, function in ACTIVATIONS.items() if function is activation]
    return named[0] if named else getattr(activation, "__name__", type(activation).__name__)


class TransformerLayerBase(Module):
    """What the encoder and decoder layers share: the feed-forward block and the settings."""

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int, dropout: float, activation: Any,
                 layer_norm_eps: float, batch_first: bool, norm_first: bool, bias: bool, dtype: Any,
                 seed: int | None, generator: np.random.Generator | None, cross_attention: bool) -> None:
        super().__init__()
        owner = type(self).__name__
        self.d_model = check_size(d_model, "d_model", owner)
        self.dim_feedforward = check_size(dim_feedforward, "dim_feedforward", owner)
        self.layer_norm_eps = float_argument(layer_norm_eps, type(self).__name__, "layer_norm_eps")
        dtype = float_dtype(dtype, owner)
        generator = pick_generator(seed, generator)
        options = {"dropout": dropout, "bias": bias, "batch_first": batch_first, "dtype": dtype, "generator": generator}
        self.self_attn = MultiheadAttention(d_model, nhead, **options)
        if cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, **options)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype, generator=generator)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype, generator=generator)
        self.norm_first = bool(norm_first)
        blocks = 3 if cross_attention else 2
        for number in range(1, blocks + 1):
            self.add_module(f"norm{number}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for number in range(1, blocks + 1):
            self.add_module(f"dropout{number}", Dropout(dropout))
        self.activation = _activation(activation, owner)

    @property
    def batch_first(self) -> bool:
        return self.self_attn.batch_first

    def config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "nhead": self.self_attn.num_heads, "dim_feedforward": self.dim_feedforward,
                "dropout": self.dropout.p, "activation": _activation_name(self.activation),
                "layer_norm_eps": self.layer_norm_eps, "batch_first": self.batch_first, "norm_first": self.norm_first,
                "bias": self.linear1.bias is not None}

    def _check_input(self, input: Any, name: str) -> Tensor:
        input = as_tensor(input)
        if input.ndim not in (2, 3) or input.shape[-1] != self.d_model:
            layout = "(N, L, d_model)" if self.batch_first else "(L, N, d_model)"
            # PyTorch's attention asserts, but memory of the right dims reaches its key projection's matmul
            wide = name == "memory" and input.ndim in (2, 3)
            raise (RuntimeError if wide else AssertionError)(
                f"{type(self).__name__}: {name} must have shape {layout} or (L, d_model) with "
                f"d_model = {self.d_model}, got {shape_text(input.shape)}")
        return input

    def _feed_forward(self, x: Tensor, dropout: Dropout) -> Tensor:
        """``Dropout(W₂·Dropout(act(W₁·x + b₁)) + b₂)``."""
        return dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    @staticmethod
    def _attend(attention: MultiheadAttention, x: Tensor, source: Tensor, mask: Any, padding: Any, is_causal: bool,
                dropout: Dropout) -> Tensor:
        """``Dropout(Attention(x, source, source))`` (the weights are not needed)."""
        return dropout(attention(x, source, source, attn_mask=mask, key_padding_mask=padding, need_weights=False,
                                 is_causal=is_causal)[0])


class TransformerEncoderLayer(TransformerLayerBase):
    """Self-attention, then a feed-forward block, each inside a residual connection with LayerNorm.

    ``forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)``: ``src`` (L, N, E),
    (N, L, E) with ``batch_first=True``, or (L, E); masks as :class:`MultiheadAttention` takes them
    (``src_mask`` (L, L) or (N·nhead, L, L), True or −∞ where a position may not look;
    ``src_key_padding_mask`` (N, L), True for padding). ``is_causal=True`` is a hint that
    ``src_mask`` is the causal mask (which must be given, as in PyTorch).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                         bias, dtype, seed, generator, cross_attention=False)

    def forward(self, src: Tensor, src_mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool = False) -> Tensor:
        x = self._check_input(src, "src")
        src_key_padding_mask, src_mask = mixed_masks(src_key_padding_mask, src_mask, "src_key_padding_mask",
                                                     "src_mask", x)
        if self.norm_first:
            normed = self.norm1(x)
            x = x + self._attend(self.self_attn, normed, normed, src_mask, src_key_padding_mask, is_causal,
                                 self.dropout1)
            return x + self._feed_forward(self.norm2(x), self.dropout2)
        x = self.norm1(x + self._attend(self.self_attn, x, x, src_mask, src_key_padding_mask, is_causal,
                                        self.dropout1))
        return self.norm2(x + self._feed_forward(x, self.dropout2))


class TransformerDecoderLayer(TransformerLayerBase):
    """Masked self-attention, attention to the encoder's output (``memory``), then a feed-forward block.

    ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)``: ``tgt`` (T, N, E)
    and ``memory`` (S, N, E) (batch first with ``batch_first=True``); ``tgt_mask`` (T, T),
    ``memory_mask`` (T, S), padding masks (N, T) and (N, S).
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: Any = "relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None, dtype: Any = None,
                 seed: int | None = None, generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first, norm_first,
                         bias, dtype, seed, generator, cross_attention=True)

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        x, memory = self._check_input(tgt, "tgt"), self._check_input(memory, "memory")
        if self.norm_first:
            normed = self.norm1(x)
            x = x + self._attend(self.self_attn, normed, normed, tgt_mask, tgt_key_padding_mask, tgt_is_causal,
                                 self.dropout1)
            x = x + self._attend(self.multihead_attn, self.norm2(x), memory, memory_mask, memory_key_padding_mask,
                                 memory_is_causal, self.dropout2)
            return x + self._feed_forward(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._attend(self.self_attn, x, x, tgt_mask, tgt_key_padding_mask, tgt_is_causal,
                                        self.dropout1))
        x = self.norm2(x + self._attend(self.multihead_attn, x, memory, memory_mask, memory_key_padding_mask,
                                        memory_is_causal, self.dropout2))
        return self.norm3(x + self._feed_forward(x, self.dropout3))


def _clones(layer: Module, num_layers: int, owner: str) -> ModuleList:
    """``num_layers`` independent copies of ``layer`` (each starts with the same weights, as in PyTorch)."""
    check_size(num_layers, "num_layers", owner, leads=False)
    return ModuleList([copy.deepcopy(layer) for _ in range(num_layers)])


def _check_norm(norm: Any, owner: str) -> Module | None:
    if norm is not None and not isinstance(norm, Module):
        raise TypeError(f"{owner}: norm must be a layer (e.g. nn.LayerNorm(d_model)) or None, "
                        f"got {type(norm).__name__}")
    return norm


def _no_fast_path_reason(layer: Module) -> str:
    """Why PyTorch's nested-tensor fast path would not take ``layer`` (empty where it would): its first reason."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    if layer.norm_first:
        return "encoder_layer.norm_first was True"
    if not layer.batch_first:
        return "encoder_layer.self_attn.batch_first was not True(use batch_first for better inference performance)"
    if layer.self_attn.in_proj_bias is None:
        return "encoder_layer.self_attn was passed bias=False"
    if not (layer.activation in (F.relu, F.gelu) or isinstance(layer.activation, (ReLU, GELU))):
        return "encoder_layer.activation_relu_or_gelu was not True"
    if layer.self_attn.num_heads % 2:
        return "encoder_layer.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` (if given).

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)`` passes the masks to every layer.
    glassgrad has no nested tensors; ``enable_nested_tensor=True`` (the default) with a layer PyTorch would not
    run on them warns as PyTorch does, saying why (``batch_first=False``, ``norm_first=True``, …). Where PyTorch's
    would run on them (evaluation with neither ``src`` nor the first layer requiring grad, a padding mask alone,
    each row's padding at its end) the padded positions come out 0 before ``norm``, as PyTorch's nested tensors
    give them.
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = len(self.layers)
        self.norm = _check_norm(norm, "TransformerEncoder")
        reason = _no_fast_path_reason(encoder_layer)
        self.enable_nested_tensor = enable_nested_tensor  # as given, as PyTorch keeps it; use_nested_tensor decides
        self.use_nested_tensor, self.mask_check = bool(enable_nested_tensor and not reason), bool(mask_check)
        if enable_nested_tensor and reason:  # glassgrad has no nested tensors; PyTorch's warning, word for word
            warn_at_learners_line(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {reason}")

    def config(self) -> dict[str, Any]:
        return {"num_layers": self.num_layers}

    def forward(self, src: Tensor, mask: Any = None, src_key_padding_mask: Any = None,
                is_causal: bool | None = None) -> Tensor:
        x = src
        src_key_padding_mask, mask = mixed_masks(src_key_padding_mask, mask, "src_key_padding_mask", "mask",
                                                 as_tensor(src))
        padded = self._nested_padding(as_tensor(src), mask, src_key_padding_mask)
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        if padded is not None:
            x = x.masked_fill(padded, 0.0)
        return x if self.norm is None else self.norm(x)

    def _nested_padding(self, src: Tensor, mask: Any, padding_mask: Any) -> Tensor | None:
        """Where PyTorch's encoder would run on nested tensors, the padded positions (N, S, 1), which come out 0;
        else None. Its conditions: the layers PyTorch takes (:attr:`use_nested_tensor`), evaluation, a batch
        (N, S, E), a padding mask and no other, and while grad mode is on neither ``src`` nor the first layer's
        parameters requiring grad (PyTorch looks at those only: a trainable final ``norm`` or later layer does not
        stop it); then each row's padding at its end (``mask_check``), looked at in a kernel
        (:func:`_trailing_padding`: none are zeroed where it fails), so that a compiled step replays it with each
        call's mask."""
        if (not self.use_nested_tensor or self.layers[0].training or src.ndim != 3 or padding_mask is None
                or mask is not None):
            return None
        if is_grad_enabled() and (src.requires_grad or any(p.requires_grad for p in self.layers[0].parameters())):
            return None
        given = padding_mask.array if isinstance(padding_mask, Tensor) else np.asarray(padding_mask)
        return Tensor._wrap(recorded_call(_trailing_padding, given, self.mask_check))


NESTED_PROTOTYPE_WARNING = (
    "The PyTorch API of nested tensors is in prototype stage and will change in the near future. We recommend "
    "specifying layout=torch.jagged when constructing a nested tensor, as this layout receives active development, "
    "has better operator coverage, and works with torch.compile.")
"""PyTorch's warning, once per process, where its encoder runs on nested tensors (glassgrad zeroes the padding)."""


def _trailing_padding(given: np.ndarray, mask_check: bool) -> np.ndarray:
    """The padded positions (N, S, 1) of a padding mask (True or nonzero: padding), none where ``mask_check`` finds
    a row padded before a kept position (PyTorch's encoder then leaves its nested tensors: nothing is zeroed). One
    kernel of a compiled step (:func:`~glassgrad.autograd.recorded_call`), so that a replay looks at each call's
    mask: filling no position gives the encoder's output as it is, bit for bit. Where the nested path is taken,
    PyTorch's once-per-process warning that nested tensors are a prototype, word for word (:func:`warn_once`)."""
    pad = given != 0
    if mask_check and np.any(pad[:, 1:] < pad[:, :-1]):
        return np.zeros_like(pad)[:, :, None]
    warn_once(NESTED_PROTOTYPE_WARNING)
    return pad[:, :, None]


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn (each attending to ``memory``), then ``norm``."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = len(self.layers)
        self.norm = _check_norm(norm, "TransformerDecoder")

    def config(self) -> dict[str, Any]:
        return {"num_layers": self.num_layers}

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Any = None, memory_mask: Any = None,
                tgt_key_padding_mask: Any = None, memory_key_padding_mask: Any = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask, tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=bool(tgt_is_causal),
                      memory_is_causal=memory_is_causal)
        return x if self.norm is None else self.norm(x)


class Transformer(Module):
    """The encoder–decoder model: ``memory = encoder(src)``, ``output = decoder(tgt, memory)``.

    The encoder and decoder stacks end with a LayerNorm each (``encoder.norm``, ``decoder.norm``);
    every weight matrix starts Xavier-uniform, as in PyTorch. ``forward(src, tgt, src_mask, tgt_mask,
    memory_mask, src_key_padding_mask, tgt_key_padding_mask, memory_key_padding_mask, …)``:
    ``src`` (S, N, E) and ``tgt`` (T, N, E) (batch first with ``batch_first=True``) → (T, N, E).
    For a decoder that must not look ahead, pass ``tgt_mask=Transformer.generate_square_subsequent_mask(T)``.
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1, activation: Any = "relu",
                 custom_encoder: Module | None = None, custom_decoder: Module | None = None,
                 layer_norm_eps: float = 1e-5, batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None, seed: int | None = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        generator = pick_generator(seed, generator)
        options = {"dim_feedforward": dim_feedforward, "dropout": dropout, "activation": activation,
                   "layer_norm_eps": layer_norm_eps, "batch_first": batch_first, "norm_first": norm_first,
                   "bias": bias, "dtype": dtype, "generator": generator}
        norm = {"eps": layer_norm_eps, "bias": bias, "dtype": dtype}
        if custom_encoder is None:
            custom_encoder = TransformerEncoder(TransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers,
                                                LayerNorm(d_model, **norm))
        if custom_decoder is None:
            custom_decoder = TransformerDecoder(TransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers,
                                                LayerNorm(d_model, **norm))
        self.encoder = custom_encoder
        self.decoder = custom_decoder
        self.d_model = check_size(d_model, "d_model", "Transformer")
        self.nhead = nhead
        self.batch_first = bool(batch_first)
        for parameter in self.parameters():
            if parameter.ndim > 1:
                init.xavier_uniform_(parameter, generator=generator)

    def config(self) -> dict[str, Any]:
        return {"d_model": self.d_model, "nhead": self.nhead, "batch_first": self.batch_first}

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Any = None, tgt_mask: Any = None, memory_mask: Any = None,
                src_key_padding_mask: Any = None, tgt_key_padding_mask: Any = None,
                memory_key_padding_mask: Any = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        src, tgt = as_tensor(src), as_tensor(tgt)
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim:batch_dim + 1] != tgt.shape[batch_dim:batch_dim + 1]:
            raise RuntimeError(f"Transformer: the batch number of src {shape_text(src.shape)} and tgt "
                               f"{shape_text(tgt.shape)} must be equal (dim {batch_dim})")
        if src.shape[-1:] != (self.d_model,) or tgt.shape[-1:] != (self.d_model,):
            raise RuntimeError(f"Transformer: the feature number of src {shape_text(src.shape)} and tgt "
                               f"{shape_text(tgt.shape)} must be equal to d_model = {self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
        """The causal mask for ``sz`` positions: 0 on and below the diagonal, −∞ above (position i sees 0…i);
        with ``dtype=bool`` False and True (the −∞ cast to bool, as PyTorch's), a bool mask the layers take.

        PyTorch's ``triu(full((sz, sz), −∞, dtype=dtype, device=device), diagonal=1)``, so ``full`` reads the
        arguments as PyTorch's does: ``sz`` an int or a 0-d integer tensor (RuntimeError below 0), ``dtype``
        the default float dtype when None (an integer dtype, which cannot hold −∞, a RuntimeError)."""
        return full((sz, sz), -math.inf, dtype=dtype, device=device).triu(1)
