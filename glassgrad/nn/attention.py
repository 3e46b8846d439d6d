"""Attention: ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention`` and its functional form
``F.multi_head_attention_forward``, composed from rows.

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
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..autograd import call_recorder, current_tape, recorded_call
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


def _additive_mask(mask: Any, like: Tensor, masked_when: bool, name: str,
                   refusal: type[Exception] = RuntimeError) -> Tensor:
    """A mask as the ``M`` that is added to the scores: a bool mask becomes 0 / −∞ (−∞ where an entry
    equals ``masked_when``); a float mask is added as it is. A mask of another dtype raises ``refusal``, named
    ``name``: RuntimeError from ``scaled_dot_product_attention``, AssertionError from the layers (an assert in
    PyTorch's ``_canonical_mask``)."""
    mask = as_tensor(mask)
    if mask.dtype.kind == "b":
        return Tensor._wrap(recorded_call(_blocked_scores, mask.array, masked_when, like.dtype))
    if mask.dtype.kind != "f":
        raise refusal(f"{name}: expected a bool or float mask, got {mask.dtype}; give a bool mask (mask.bool())")
    return mask if mask.dtype == like.dtype else mask.to(like.dtype)


def _blocked_scores(mask: np.ndarray, masked_when: bool, dtype: np.dtype) -> np.ndarray:
    """−∞ where a bool mask says blocked (equals ``masked_when``), else 0: one kernel of a compiled step, worked out
    again from each call's mask."""
    return np.where(mask if masked_when else ~mask, -np.inf, 0.0).astype(dtype)


def _dead_rows(mask: np.ndarray, shape: tuple) -> np.ndarray:
    """The rows of scores whose every key is masked (−∞ throughout): one kernel of a compiled step."""
    return np.broadcast_to(np.isneginf(mask), shape).all(axis=-1, keepdims=True)


def _alive(dead: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """1 for a row with some key unmasked, 0 for a dead one: one kernel of a compiled step."""
    return (~dead).astype(dtype)


def mixed_masks(padding: Any, mask: Any, padding_name: str, mask_name: str, like: Tensor) -> tuple[Any, Any]:
    """A padding mask and an attention mask as a layer passes them on: where one is bool and the other float (two
    dtypes), PyTorch's deprecation warning, and both made additive (0 / −∞) in ``like``'s dtype, so that the layers
    below get one kind and do not warn again; otherwise both as given."""
    if padding is None or mask is None or as_tensor(padding).dtype == as_tensor(mask).dtype:
        return padding, mask
    warn_at_learners_line(f"Support for mismatched {padding_name} and {mask_name} is deprecated. Use same type for "
                          "both instead.")
    return (_additive_mask(padding, like, True, padding_name, AssertionError),
            _additive_mask(mask, like, True, mask_name, AssertionError))


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
        dead = recorded_call(_dead_rows, mask.array, full)
        if dead.any() or call_recorder() is not None:  # a compiled step keeps the fill (the same numbers without
            mask = mask.expand(full).masked_fill(Tensor._wrap(dead), 0.0)  # dead rows), for a later mask with some
        else:
            dead = None
        scores = _show_as(scores + _show_as(mask, "M"), "S′")
    weights = softmax(scores, -1)
    if dead is not None:
        weights = weights * Tensor._wrap(recorded_call(_alive, dead, weights.dtype))
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


def _projection(input: Tensor, part: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                own_weight: Tensor | None) -> Tensor:
    """``X·W_Qᵀ + b_Q`` (part 0), ``X·W_Kᵀ + b_K`` (1) or ``X·W_Vᵀ + b_V`` (2): rows of the stacked weights
    (3E, E), or the part's own weight."""
    embed_dim = in_proj_weight.shape[0] // 3 if own_weight is None else own_weight.shape[0]
    rows, letter = slice(part * embed_dim, (part + 1) * embed_dim), "QKV"[part]
    bias = None if in_proj_bias is None else _show_as(in_proj_bias[rows], f"b_{letter}")
    weight = in_proj_weight[rows] if own_weight is None else own_weight
    return linear(input, _show_as(weight, f"W_{letter}"), bias)


def _heads(projected: Tensor, num_heads: int) -> Tensor:
    """(N, L, E) → (N, heads, L, E/heads)."""
    batch, length, width = projected.shape
    return projected.reshape(batch, length, num_heads, width // num_heads).transpose(1, 2)


def _combined_mask(attn_mask: Any, key_padding_mask: Any, like: Tensor, num_heads: int, batch: int, length: int,
                   keys: int, extra: int, owner: str) -> Tensor | None:
    """The two masks as one ``M`` of shape (N, heads, L, S + extra) (or broadcasting to it), a 0 column for each of
    the ``extra`` keys appended (``bias_k``, the zero key). Masks of two dtypes (a bool key_padding_mask beside a
    float attn_mask) are still added, with PyTorch's deprecation warning."""
    key_padding_mask, attn_mask = mixed_masks(key_padding_mask, attn_mask, "key_padding_mask", "attn_mask", like)
    total = None
    if key_padding_mask is not None:  # PyTorch's order: the padding mask's dtype first (AssertionError)
        padding = _additive_mask(key_padding_mask, like, True, f"{owner}: key_padding_mask", AssertionError)
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, like, True, f"{owner}: attn_mask", AssertionError)
        if mask.shape == (length, keys):
            total = mask
        elif mask.shape == (batch * num_heads, length, keys):
            total = mask.reshape(batch, num_heads, length, keys)
        else:  # RuntimeError, as PyTorch's
            raise RuntimeError(f"{owner}: attn_mask must have shape ({length}, {keys}) or "
                               f"({batch * num_heads}, {length}, {keys}), got {shape_text(mask.shape)}")
    if key_padding_mask is not None:
        if padding.shape != (batch, keys):  # AssertionError, as PyTorch's (an assert there)
            raise AssertionError(f"{owner}: key_padding_mask must have shape ({batch}, {keys}), "
                                 f"got {shape_text(padding.shape)}")
        padding = padding.reshape(batch, 1, 1, keys)
        total = padding if total is None else total + padding
    if total is not None and extra:  # every query may see the appended keys
        total = cat([total, total.new_zeros(total.shape[:-1] + (extra,))], -1)
    return total


def _extra_keys(key: Tensor, value: Tensor, bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                num_heads: int) -> tuple[Tensor, Tensor]:
    """Keys and values (N, heads, S, E/heads) with ``bias_k``/``bias_v`` (1, 1, E) and then a zero row appended,
    when given / ``add_zero_attn``."""
    batch = key.shape[0]
    if bias_k is not None:
        key = cat([key, _heads(bias_k.expand(batch, 1, bias_k.shape[-1]), num_heads)], 2)
        value = cat([value, _heads(bias_v.expand(batch, 1, bias_v.shape[-1]), num_heads)], 2)
    if add_zero_attn:
        key = cat([key, key.new_zeros(key.shape[:2] + (1, key.shape[-1]))], 2)
        value = cat([value, value.new_zeros(value.shape[:2] + (1, value.shape[-1]))], 2)
    return key, value


def _batched(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any, attn_mask: Any, num_heads: int,
             owner: str) -> bool:
    """Whether the call is batched (a 3-D query) or not (2-D), and that the other inputs agree: key and value of
    the query's dims, a padding mask of one dim fewer, an attn_mask of 2 or 3 (a 3-D one beside an unbatched
    query of shape (num_heads, L, S)). AssertionError otherwise, as PyTorch's ``_mha_shape_check`` (asserts
    there)."""
    if query.ndim not in (2, 3):
        raise AssertionError(f"{owner}: query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    kind = f"{'batched (3-D)' if batched else 'unbatched (2-D)'} query"
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"{owner}: for a {kind}, expected key and value to be {query.ndim}-D but found "
                             f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and as_tensor(key_padding_mask).ndim != query.ndim - 1:
        raise AssertionError(f"{owner}: for a {kind}, expected key_padding_mask to be None or "
                             f"{query.ndim - 1}-D but found {as_tensor(key_padding_mask).ndim}-D tensor instead")
    if attn_mask is not None and as_tensor(attn_mask).ndim not in (2, 3):
        raise AssertionError(f"{owner}: for a {kind}, expected attn_mask to be None, 2-D or 3-D but found "
                             f"{as_tensor(attn_mask).ndim}-D tensor instead")
    heads_mask, given = (num_heads, query.shape[0], key.shape[0]), None if attn_mask is None else as_tensor(attn_mask)
    if not batched and given is not None and given.ndim == 3 and given.shape != heads_mask:
        raise AssertionError(f"{owner}: for an unbatched (2-D) query, expected a 3-D attn_mask of shape "
                             f"{shape_text(heads_mask)} (num_heads, L, S), got {shape_text(given.shape)}")
    return batched


def _multi_head_attention(query: Any, key: Any, value: Any, num_heads: int, in_proj_weight: Tensor | None,
                          in_proj_bias: Tensor | None, own_weights: tuple[Tensor, Tensor, Tensor] | None,
                          bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
                          out_projection: Callable[[Tensor], Tensor], key_padding_mask: Any, need_weights: bool,
                          attn_mask: Any, average_attn_weights: bool, is_causal: bool, batch_first: bool,
                          owner: str) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention, the layer's and the functional form's: project, split into heads, append the extra
    keys, attend (:func:`_attend`), join the heads and project out. ``own_weights``: W_Q, W_K, W_V of their own
    widths (else rows of ``in_proj_weight``)."""
    query, key, value = as_tensor(query), as_tensor(key), as_tensor(value)
    unbatched = not _batched(query, key, value, key_padding_mask, attn_mask, num_heads, owner)
    if is_causal and attn_mask is None:  # RuntimeError, as PyTorch's
        raise RuntimeError(f"{owner}: is_causal=True is a hint about attn_mask; pass the causal attn_mask too (True "
                           "above the diagonal, e.g. nn.Transformer.generate_square_subsequent_mask(L))")
    widths = [in_proj_weight.shape[1]] * 3 if own_weights is None else [weight.shape[1] for weight in own_weights]
    for tensor, name, width in zip((query, key, value), ("query", "key", "value"), widths):
        if tensor.shape[-1] != width:  # PyTorch asserts, but a key and value of one shape reach its matmul
            same = name != "query" and own_weights is None and key.shape == value.shape
            layout = "(N, L, E)" if batch_first else "(L, N, E)"
            raise (RuntimeError if same else AssertionError)(
                f"{owner}: {name} must have shape {layout} or (L, E) with E = {width}, got {shape_text(tensor.shape)}")
    if key.shape[:-1] != value.shape[:-1]:  # AssertionError, as PyTorch's
        raise AssertionError(f"{owner}: key {shape_text(key.shape)} and value {shape_text(value.shape)} must have "
                             "the same batch and length")
    batch_dim = 0 if batch_first else 1  # where an unbatched input gets its batch of one
    if unbatched:
        query, key, value = query.unsqueeze(batch_dim), key.unsqueeze(batch_dim), value.unsqueeze(batch_dim)
        if key_padding_mask is not None:
            key_padding_mask = as_tensor(key_padding_mask).unsqueeze(0)
    if not batch_first:
        query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
    if key.shape[0] != query.shape[0]:  # RuntimeError, as PyTorch's (from its reshape)
        raise RuntimeError(f"{owner}: query {shape_text(query.shape)} and key {shape_text(key.shape)} must have the "
                           "same batch (batch first)")
    batch, length, keys = query.shape[0], query.shape[1], key.shape[1]
    mask = _combined_mask(attn_mask, key_padding_mask, query, num_heads, batch, length, keys,
                          (bias_k is not None) + bool(add_zero_attn), owner)
    heads = [_heads(_projection(tensor, part, in_proj_weight, in_proj_bias,
                                None if own_weights is None else own_weights[part]), num_heads)
             for part, tensor in enumerate((query, key, value))]
    heads[1:] = _extra_keys(*heads[1:], bias_k, bias_v, add_zero_attn, num_heads)
    out, weights = _attend(*heads, mask, dropout_p, 1 / math.sqrt(heads[0].shape[-1]))
    if need_weights:  # before the output's last ops, so that a trace's step for this layer ends at its output
        weights = weights.mean(1) if average_attn_weights else weights
        weights = weights.squeeze(0) if unbatched else weights
    out = out_projection(out.transpose(1, 2).reshape(batch, length, num_heads * out.shape[-1]))
    if not batch_first:  # row-major in (L, N, E), as PyTorch's (which .view(...) may merge)
        out = out.transpose(0, 1).contiguous()
    if unbatched:
        out = out.squeeze(batch_dim)
    return out, weights if need_weights else None


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
                                 bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float,
                                 out_proj_weight: Tensor, out_proj_bias: Tensor | None, training: bool = True,
                                 key_padding_mask: Any = None, need_weights: bool = True, attn_mask: Any = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Any = None, static_v: Any = None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """``F.multi_head_attention_forward``: :class:`MultiheadAttention`'s computation with the weights passed in.

    ``query`` (L, N, E), ``key`` (S, N, kdim), ``value`` (S, N, vdim), or unbatched (L, E), … (sequence first,
    always); ``in_proj_weight`` (3E, E) stacks W_Q, W_K, W_V, or with ``use_separate_proj_weight=True`` they are
    ``q_proj_weight`` (E, E), ``k_proj_weight`` (E, kdim), ``v_proj_weight`` (E, vdim); ``in_proj_bias`` (3E,) stacks
    b_Q, b_K, b_V; the joined heads go through ``out_proj_weight`` (E_out, E) and ``out_proj_bias``, so
    ``output`` is (L, N, E_out). Masks, ``bias_k``/``bias_v`` and the returned weights as the layer's; ``dropout_p``
    acts only with ``training=True``. ``static_k``/``static_v`` (precomputed key/value heads) are not supported.
    """
    owner = "multi_head_attention_forward"
    query = as_tensor(query)
    if query.shape[-1:] != (embed_dim_to_check,) or embed_dim_to_check % num_heads:  # asserts in PyTorch
        raise AssertionError(f"{owner}: query must have embed_dim_to_check = {embed_dim_to_check} features, a "
                             f"multiple of num_heads = {num_heads}, got shape {shape_text(query.shape)}")
    if static_k is not None or static_v is not None:
        raise NotImplementedError(f"{owner}: static_k and static_v (precomputed key and value heads) are not "
                                  "supported in glassgrad; pass the keys and values and their projection weights")
    own_weights = (q_proj_weight, k_proj_weight, v_proj_weight) if use_separate_proj_weight else None
    if in_proj_weight is None if own_weights is None else any(weight is None for weight in own_weights):
        needed = "q_proj_weight, k_proj_weight and v_proj_weight" if own_weights else "in_proj_weight"
        raise ValueError(f"{owner}: {needed} must be given (use_separate_proj_weight={use_separate_proj_weight})")
    return _multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias, own_weights, bias_k,
                                 bias_v, add_zero_attn, dropout_p if training else 0.0,
                                 partial(linear, weight=out_proj_weight, bias=out_proj_bias), key_padding_mask,
                                 need_weights, attn_mask, average_attn_weights, is_causal, False, owner)


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
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None,
                 generator: np.random.Generator | None = None) -> None:
        check_device(device)
        super().__init__()
        self.embed_dim = check_size(embed_dim, "embed_dim", "MultiheadAttention")
        self.num_heads = check_size(num_heads, "num_heads", "MultiheadAttention", leads=False)
        if self.embed_dim % self.num_heads:  # AssertionError, as PyTorch's (an assert there)
            raise AssertionError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by num_heads "
                                 f"({num_heads}): each head gets embed_dim/num_heads features")
        self.kdim = self.embed_dim if kdim is None else check_size(kdim, "kdim", "MultiheadAttention", leads=False)
        self.vdim = self.embed_dim if vdim is None else check_size(vdim, "vdim", "MultiheadAttention", leads=False)
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

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any = None,
                need_weights: bool = True, attn_mask: Any = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """The layer's attention (:func:`multi_head_attention_forward` with its parameters), its ``q/k/v_proj_weight``
        read as attributes, as PyTorch's layer reads them, so that a parametrized one is the weight used."""
        return _multi_head_attention(
            query, key, value, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            None if self.in_proj_weight is not None else (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight),
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout if self.training else 0.0, self.out_proj,
            key_padding_mask, need_weights, attn_mask, average_attn_weights, is_causal, self.batch_first,
            "MultiheadAttention")
