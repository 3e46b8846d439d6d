"""Attention: ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``, composed from rows.

Every query row asks "which keys match me?": its scores against all keys, scaled and masked,
become weights by a softmax, and the output is the weighted average of the values::

    S = Q·Kᵀ·s              (s = 1/√d by default)
    S′ = S + M               (M is 0 where a key may be seen, −∞ where not)
    A = softmax(S′)          (along the keys: each row of A sums to 1)
    O = A·V

There is no fused row: the formula is a matmul, a product, a sum, a softmax and a matmul, each
differentiated by its own row, and a trace shows each of them. While a trace records, the
tensors get the symbols above (``Q``, ``K``, ``V``, ``Kᵀ``, ``Q·Kᵀ``, ``S``, ``M``, ``S′``, ``A``,
``O``; ``W_Q``, ``b_Q``… for a layer's projections), so the attention step reads as on paper.
The backward is what the rows give, e.g.
``∂L/∂S = A ⊙ (∂L/∂A − Σ ∂L/∂A ⊙ A)`` (softmax) and ``∂L/∂V = Aᵀ·∂L/∂O`` (matmul).

A row whose keys are all masked has no weights to give: its output is 0 (and so is its
gradient), as in PyTorch's ``scaled_dot_product_attention``.

>>> import glassgrad as gg
>>> import glassgrad.nn.functional as F
>>> x = gg.tensor([[[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]]])
>>> F.scaled_dot_product_attention(x, x, x, is_causal=True)[0, 0].tolist()   # the first query sees only itself
[0.0, 1.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import current_tape
from ..creation import as_tensor
from ..device import check_device
from ..functions import cat, linear, softmax
from ..settings import warn_at_learners_line
from ..tensor import Tensor
from . import init
from .attention_backends import SDPBackend as SDPBackend  # torch.nn.attention's names
from .attention_backends import check_backend
from .attention_backends import sdpa_kernel as sdpa_kernel
from .dropout import _check_probability, dropout
from .linear import Linear, check_size, float_dtype
from .module import Module
from .parameter import Parameter


def _show_as(tensor: Tensor, symbol: str) -> Tensor:
    """Give ``tensor`` the symbol ``symbol`` in the trace being recorded, if any (a name given by the user wins)."""
    tape = current_tape()
    if tape is not None and tape.key(tensor) not in tape.labels:
        tape.name(tensor, symbol)
    return tensor


def _additive_mask(mask: Any, like: Tensor, masked_when: bool, name: str) -> Tensor:
    """A mask as the ``M`` that is added to the scores: a bool mask becomes 0 / −∞ (−∞ where an entry
    equals ``masked_when``); a float mask is added as it is."""
    mask = as_tensor(mask)
    if mask.dtype.kind == "b":
        blocked = mask.array if masked_when else ~mask.array
        return Tensor._wrap(np.where(blocked, -np.inf, 0.0).astype(like.dtype))
    if mask.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a bool or float mask, got {mask.dtype}")
    return mask if mask.dtype == like.dtype else mask.to(like.dtype)


def mixed_masks(padding: Any, mask: Any, padding_name: str, mask_name: str, like: Tensor) -> tuple[Any, Any]:
    """A padding mask and an attention mask as a layer passes them on: where one is bool and the other float (two
    dtypes), PyTorch's deprecation warning, and both made additive (0 / −∞) in ``like``'s dtype, so that the layers
    below get one kind and do not warn again; otherwise both as given."""
    if padding is None or mask is None or as_tensor(padding).dtype == as_tensor(mask).dtype:
        return padding, mask
    warn_at_learners_line(f"Support for mismatched {padding_name} and {mask_name} is deprecated. Use same type for "
                          "both instead.")
    return _additive_mask(padding, like, True, padding_name), _additive_mask(mask, like, True, mask_name)


def _attend(query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, dropout_p: float,
            scale: float) -> tuple[Tensor, Tensor]:
    """``O = softmax(Q·Kᵀ·s + M)·V`` and ``A``, for inputs of shape (…, L, E), (…, S, E), (…, S, Ev)."""
    distinct = {id(query), id(key), id(value)}
    for tensor, symbol in ((query, "Q"), (key, "K"), (value, "V")):
        if len(distinct) == 3:  # a tensor passed as two of them keeps its own symbol
            _show_as(tensor, symbol)
    scores = _show_as(_show_as(query @ _show_as(key.transpose(-2, -1), "Kᵀ"), "Q·Kᵀ") * scale, "S")
    dead = None
    if mask is not None:  # rows with every key masked: softmax of no scores, made 0 below (no gradient either)
        full = np.broadcast_shapes(mask.shape, scores.shape)
        dead = np.broadcast_to(np.isneginf(mask.array), full).all(axis=-1, keepdims=True)
        if dead.any():
            mask = mask.expand(full).masked_fill(Tensor._wrap(dead), 0.0)
        else:
            dead = None
        scores = _show_as(scores + _show_as(mask, "M"), "S′")
    weights = softmax(scores, -1)
    if dead is not None:
        weights = weights * Tensor._wrap((~dead).astype(weights.dtype))
    weights = _show_as(weights, "A")
    if dropout_p:
        weights = dropout(weights, dropout_p)
    return _show_as(weights @ value, "O"), weights


def _shared_heads(tensor: Tensor, name: str, heads: int) -> Tensor:
    """Grouped-query attention's keys or values: each of its ``h`` heads (dim −3) serves ``heads / h`` query heads
    in a row, so it is repeated that many times in place (head j serves query heads j·g … j·g + g − 1)."""
    if tensor.ndim < 3:
        raise IndexError(f"scaled_dot_product_attention: enable_gqa=True reads the heads at dim -3, but {name} has "
                         f"shape {shape_text(tensor.shape)}; give (…, heads, length, features)")
    own = tensor.shape[-3]
    if heads % own:
        raise RuntimeError(f"scaled_dot_product_attention: enable_gqa=True needs the {name}'s heads ({own}) to divide "
                           f"the query's ({heads})")
    return tensor if own == heads else tensor.repeat_interleave(heads // own, dim=-3)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None,
                                 dropout_p: float = 0.0, is_causal: bool = False,
                                 scale: float | None = None, enable_gqa: bool = False) -> Tensor:
    """``softmax(Q·Kᵀ·s + M)·V`` over the last two dims (``s = 1/√E`` unless ``scale`` is given).

    ``query`` (…, L, E), ``key`` (…, S, E), ``value`` (…, S, Ev) → (…, L, Ev). ``attn_mask``
    broadcasts to (…, L, S): bool (True: the query may attend to that key) or float (added to
    the scores). ``is_causal=True``: query i sees keys 0…i only (no ``attn_mask`` then, as PyTorch
    documents; its no-grad path applies both, its autograd path refuses the pair).
    ``enable_gqa=True``: key and value may have fewer heads (dim −3) than the query, a number that
    divides the query's; each is shared by that many query heads in a row (grouped-query attention).
    ``dropout_p`` drops attention weights (always: this function has no training flag).
    """
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    check_backend(query, key, value, attn_mask, dropout_p, enable_gqa)
    for tensor, name in ((query, "query"), (key, "key"), (value, "value")):
        if tensor.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: {name} must be a floating tensor of shape (…, length, "
                               f"features), got {shape_text(tensor.shape)}")
    if not query.dtype == key.dtype == value.dtype:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must have one dtype, got "
                           f"{query.dtype}, {key.dtype} and {value.dtype}; convert them with .to(query.dtype)")
    if attn_mask is not None:  # the checks in PyTorch's order, so that each input fails with its error type
        attn_mask = _additive_mask(attn_mask, query, False, "scaled_dot_product_attention")
    if enable_gqa:
        key, value = _shared_heads(key, "key", query.shape[-3]), _shared_heads(value, "value", query.shape[-3])
    if query.dtype.kind != "f":
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value must be floating tensors, got "
                           f"{query.dtype}; convert them with .float()")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {shape_text(query.shape)}, key "
                           f"{shape_text(key.shape)} and value {shape_text(value.shape)} do not fit: query and key "
                           "need the same last dim, key and value the same length (dim -2)")
    _check_probability(dropout_p)
    if is_causal and attn_mask is not None:
        raise RuntimeError("scaled_dot_product_attention: give either attn_mask or is_causal=True, not both (fold "
                           "the causal rule into the mask: mask & torch.ones(L, S, dtype=torch.bool).tril())")
    length, keys = query.shape[-2], key.shape[-2]
    if is_causal:
        attn_mask = np.tril(np.ones((length, keys), dtype=bool))
    mask = None
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, query, False, "scaled_dot_product_attention")
        try:
            np.broadcast_shapes(mask.shape, query.shape[:-1] + (keys,))
        except ValueError:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape {shape_text(mask.shape)} does not "
                               f"broadcast to the scores' shape {shape_text(query.shape[:-1] + (keys,))}") from None
    if scale is None:  # with no features (E = 0) every score is the empty sum 0, as in PyTorch: any s will do
        scale = 1 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    return _attend(query, key, value, mask, dropout_p, float(scale))[0]


class NonDynamicallyQuantizableLinear(Linear):
    """The ``Linear`` of ``MultiheadAttention.out_proj``, under the name PyTorch gives it (its ``print(model)``
    shows this name); it is a ``Linear`` in every other way."""


class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) with PyTorch's parameters, init and calling convention.

    Each of ``num_heads`` heads attends in its own ``embed_dim/num_heads``-wide slice of the
    projections ``Q = X_q·W_qᵀ + b_q``, ``K = X_k·W_kᵀ + b_k``, ``V = X_v·W_vᵀ + b_v`` (the three
    weights stacked in ``in_proj_weight``, (3E, E), and ``in_proj_bias``; with keys of ``kdim`` or
    values of ``vdim`` features, three weights ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim),
    ``v_proj_weight`` (E, vdim) instead, as in PyTorch); the heads' outputs,
    side by side, go through ``out_proj`` (a Linear E → E). ``forward(query, key, value)`` takes
    (L, N, E) inputs, or (N, L, E) with ``batch_first=True``, or unbatched (L, E), and returns
    ``(output, weights)``: the weights averaged over the heads (N, L, S), per head with
    ``average_attn_weights=False``, or None with ``need_weights=False``.

    Masks: ``key_padding_mask`` (N, S), True (or −∞) for keys to ignore (padding);
    ``attn_mask`` (L, S) or (N·heads, L, S), True (or −∞) where a query may *not* look: the
    opposite of a bool mask for ``F.scaled_dot_product_attention``, as in PyTorch. For a causal
    self-attention pass ``attn_mask=nn.Transformer.generate_square_subsequent_mask(L)``-style
    (−∞ above the diagonal) or a bool ``triu(ones, 1)``.

    Extra keys, as in PyTorch: ``add_bias_kv=True`` appends one learned key and value after the projections
    (``bias_k``, ``bias_v``, (1, 1, E), Xavier-normal), ``add_zero_attn=True`` one key and value of zeros to each
    head; every query may attend to them (both masks get a 0 column for each), and the weights returned have
    one column for each (S + 1 or S + 2).
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, dtype: Any = None,
                 generator: np.random.Generator | None = None, device: Any = None) -> None:
        check_device(device)
        super().__init__()
        self.embed_dim = check_size(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = check_size(num_heads, "num_heads", "MultiheadAttention")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads}): each head gets embed_dim/num_heads features")
        self.kdim = self.embed_dim if kdim is None else check_size(kdim, "kdim", "MultiheadAttention")
        self.vdim = self.embed_dim if vdim is None else check_size(vdim, "vdim", "MultiheadAttention")
        self.dropout = _check_probability(dropout)
        self.batch_first = bool(batch_first)
        self.head_dim = self.embed_dim // self.num_heads
        dtype = float_dtype(dtype, "MultiheadAttention")
        separate = (self.kdim, self.vdim) != (self.embed_dim, self.embed_dim)
        projections = ("q_proj_weight", "k_proj_weight", "v_proj_weight")
        if separate:  # PyTorch's names and order: three weights, and no stacked one
            for name, width in zip(projections, (self.embed_dim, self.kdim, self.vdim)):
                self.register_parameter(name, Parameter(np.empty((self.embed_dim, width), dtype=dtype)))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(np.empty((3 * self.embed_dim, self.embed_dim), dtype=dtype))
            for name in projections:
                self.register_parameter(name, None)
        if bias:
            self.in_proj_bias = Parameter(np.zeros(3 * self.embed_dim, dtype=dtype))
        else:
            self.register_parameter("in_proj_bias", None)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, self.embed_dim), dtype=dtype))
            self.bias_v = Parameter(np.empty((1, 1, self.embed_dim), dtype=dtype))
        else:
            self.register_parameter("bias_k", None)
            self.register_parameter("bias_v", None)
        self.add_zero_attn = bool(add_zero_attn)
        self.out_proj = NonDynamicallyQuantizableLinear(self.embed_dim, self.embed_dim, bias=bias, dtype=dtype,
                                                        generator=generator)
        for name in ("in_proj_weight", *projections):
            if self._parameters[name] is not None:
                init.xavier_uniform_(self._parameters[name], generator=generator)
        if bias:
            init.zeros_(self.out_proj.bias)
        if add_bias_kv:
            init.xavier_normal_(self.bias_k, generator=generator)
            init.xavier_normal_(self.bias_v, generator=generator)

    def config(self) -> dict[str, Any]:
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads, "dropout": self.dropout,
                "bias": self.in_proj_bias is not None, "kdim": self.kdim, "vdim": self.vdim,
                "batch_first": self.batch_first, "add_bias_kv": self.bias_k is not None,
                "add_zero_attn": self.add_zero_attn}

    def _projection(self, input: Tensor, part: int) -> Tensor:
        """``X·W_Qᵀ + b_Q`` (part 0), ``X·W_Kᵀ + b_K`` (1) or ``X·W_Vᵀ + b_V`` (2): rows of the stacked weights,
        or the part's own weight (read as an attribute, as PyTorch's layer does, so that a parametrized one is the
        weight used)."""
        rows, letter = slice(part * self.embed_dim, (part + 1) * self.embed_dim), "QKV"[part]
        bias = None if self.in_proj_bias is None else _show_as(self.in_proj_bias[rows], f"b_{letter}")
        own = getattr(self, ("q_proj_weight", "k_proj_weight", "v_proj_weight")[part])
        weight = self.in_proj_weight[rows] if own is None else own
        return linear(input, _show_as(weight, f"W_{letter}"), bias)

    def _heads(self, projected: Tensor) -> Tensor:
        """(N, L, E) → (N, heads, L, E/heads)."""
        batch, length, _ = projected.shape
        return projected.reshape(batch, length, self.num_heads, self.head_dim).transpose(1, 2)

    def _mask(self, attn_mask: Any, key_padding_mask: Any, like: Tensor, batch: int, length: int,
              keys: int) -> Tensor | None:
        """The two masks as one ``M`` of shape (N, heads, L, S) (or broadcasting to it). Masks of two dtypes (a
        bool key_padding_mask beside a float attn_mask) are still added, with PyTorch's deprecation warning."""
        key_padding_mask, attn_mask = mixed_masks(key_padding_mask, attn_mask, "key_padding_mask", "attn_mask", like)
        total = None
        if attn_mask is not None:
            mask = _additive_mask(attn_mask, like, True, "MultiheadAttention")
            if mask.shape == (length, keys):
                total = mask
            elif mask.shape == (batch * self.num_heads, length, keys):
                total = mask.reshape(batch, self.num_heads, length, keys)
            else:
                raise ValueError(f"MultiheadAttention: attn_mask must have shape ({length}, {keys}) or "
                                 f"({batch * self.num_heads}, {length}, {keys}), got {shape_text(mask.shape)}")
        if key_padding_mask is not None:
            padding = _additive_mask(key_padding_mask, like, True, "MultiheadAttention")
            if padding.shape != (batch, keys):
                raise ValueError(f"MultiheadAttention: key_padding_mask must have shape ({batch}, {keys}), "
                                 f"got {shape_text(padding.shape)}")
            padding = padding.reshape(batch, 1, 1, keys)
            total = padding if total is None else total + padding
        extra = (self.bias_k is not None) + self.add_zero_attn
        if total is not None and extra:  # every query may see the appended keys
            total = cat([total, total.new_zeros(total.shape[:-1] + (extra,))], -1)
        return total

    def _extra_keys(self, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values (N, heads, S, E/heads) with ``bias_k``/``bias_v`` and then a zero row appended, when
        ``add_bias_kv`` / ``add_zero_attn``."""
        batch = key.shape[0]
        if self.bias_k is not None:
            key = cat([key, self._heads(self.bias_k.expand(batch, 1, self.embed_dim))], 2)
            value = cat([value, self._heads(self.bias_v.expand(batch, 1, self.embed_dim))], 2)
        if self.add_zero_attn:
            key = cat([key, key.new_zeros(key.shape[:2] + (1, self.head_dim))], 2)
            value = cat([value, value.new_zeros(value.shape[:2] + (1, self.head_dim))], 2)
        return key, value

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True is a hint about attn_mask; pass the causal "
                             "attn_mask too (True above the diagonal)")
        unbatched = query.ndim == 2
        batch_dim = 0 if self.batch_first else 1  # where an unbatched input gets its batch of one
        if unbatched:
            query, key, value = query.unsqueeze(batch_dim), key.unsqueeze(batch_dim), value.unsqueeze(batch_dim)
            if key_padding_mask is not None:
                key_padding_mask = as_tensor(key_padding_mask).unsqueeze(0)
        for tensor, name, width in ((query, "query", self.embed_dim), (key, "key", self.kdim),
                                    (value, "value", self.vdim)):
            if tensor.ndim != 3 or tensor.shape[-1] != width:
                layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
                raise ValueError(f"MultiheadAttention: {name} must have shape {layout} or (L, E) with "
                                 f"E = {width}, got {shape_text(tensor.shape)}")
        if not self.batch_first:
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"MultiheadAttention: key {shape_text(key.shape)} and value {shape_text(value.shape)} "
                             f"must have the same batch and length, and the batch of query {shape_text(query.shape)}")
        batch, length, keys = query.shape[0], query.shape[1], key.shape[1]
        mask = self._mask(attn_mask, key_padding_mask, query, batch, length, keys)
        heads = [self._heads(self._projection(tensor, part)) for part, tensor in enumerate((query, key, value))]
        heads[1:] = self._extra_keys(*heads[1:])
        out, weights = _attend(*heads, mask, self.dropout if self.training else 0.0, 1 / math.sqrt(self.head_dim))
        if need_weights:  # before the output's last ops, so that a trace's step for this layer ends at its output
            weights = weights.mean(1) if average_attn_weights else weights
            weights = weights.squeeze(0) if unbatched else weights
        out = out.transpose(1, 2).reshape(batch, length, self.embed_dim)
        out = self.out_proj(out)
        if not self.batch_first:  # row-major in (L, N, E), as PyTorch's (which .view(...) may merge)
            out = out.transpose(0, 1).contiguous()
        if unbatched:
            out = out.squeeze(batch_dim)
        return out, weights if need_weights else None
