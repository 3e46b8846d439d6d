"""Attention and Transformer layers against PyTorch 2.13 (round 48): a differential fuzzer's core and its findings.

``F.scaled_dot_product_attention`` (bool/float masks that broadcast, ``is_causal`` with L ≠ S, ``scale``,
``enable_gqa``, extra batch dims), ``nn.MultiheadAttention`` (``batch_first``, ``kdim``/``vdim``, ``bias``,
``add_bias_kv``, ``add_zero_attn``, both masks, per-head weights, unbatched inputs, PyTorch's state dicts) and the
Transformer layers and stacks give PyTorch's values and gradients. Misuse raises PyTorch's exception class:
AssertionError where PyTorch's attention asserts (``_mha_shape_check``, ``_canonical_mask``, the embedding
dims), RuntimeError where it raises one (an attn_mask of the wrong shape, ``is_causal`` without a mask); glassgrad
raised ValueError (and RuntimeError for a mask's dtype) there, so ``except AssertionError`` missed them.

Left as they are (see the report): a query whose keys are all masked gets 0 from ``MultiheadAttention`` where
PyTorch's gives NaN when it returns the weights (documented in the README); PyTorch's ``is_causal`` hint with
``need_weights=False`` replaces the mask by its own causal one over the keys with ``bias_k``/the zero key appended
(glassgrad uses the mask given); PyTorch's ``TransformerDecoder`` copies of a layer with an activation *module*
compute ReLU (its ``__setstate__`` finds no ``activation`` in ``__dict__``), glassgrad's keep the module.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _library_F(library):
    return library.nn.functional


def _loaded_mha(torch, embed_dim, num_heads, **options):
    """PyTorch's layer (float64) and glassgrad's with its state dict copied in."""
    theirs = torch.nn.MultiheadAttention(embed_dim, num_heads, dtype=torch.float64, **options)
    ours = gg.nn.MultiheadAttention(embed_dim, num_heads, dtype=gg.float64, **options)
    ours.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    return theirs, ours


def _grads(tensors):
    return [None if t.grad is None else t.grad.detach().numpy() for t in tensors]


def _assert_close(theirs, ours, rtol=1e-10, atol=1e-12):
    assert len(theirs) == len(ours)
    for expected, got in zip(theirs, ours):
        assert (expected is None) == (got is None)
        if expected is not None:
            np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=rtol, atol=atol)


# ------------------------------------------------------------------------------------------------ misuse: classes
X3 = np.random.default_rng(0).normal(size=(3, 2, 4))  # (L, N, E)
Y5 = np.random.default_rng(1).normal(size=(5, 2, 4))  # (S, N, E)


def _mha_call(T, *arrays, options=None, **call):
    layer = T.nn.MultiheadAttention(4, 2, dtype=T.float64, **(options or {}))
    return layer(*[T.tensor(a) for a in arrays], **{k: v(T) if callable(v) else v for k, v in call.items()})


MISUSE = {
    "embed_dim not divisible by num_heads": lambda T: T.nn.MultiheadAttention(5, 2),
    "key and value of different lengths": lambda T: _mha_call(T, X3, Y5, Y5[:4]),
    "key and value of different batches": lambda T: _mha_call(T, X3, Y5, Y5[:, :1]),
    "query of the wrong width": lambda T: _mha_call(T, X3[..., :3], Y5, Y5),
    "key of the wrong width (kdim)": lambda T: _mha_call(T, X3, Y5, Y5, options={"kdim": 3}),
    "a 1-d query": lambda T: _mha_call(T, X3[0, 0], Y5, Y5),
    "a 4-d query": lambda T: _mha_call(T, X3[None], Y5[None], Y5[None]),
    "an unbatched query with batched keys": lambda T: _mha_call(T, X3[:, 0], Y5, Y5),
    "an unbatched query with a 2-d padding mask": lambda T: _mha_call(
        T, X3[:, 0], Y5[:, 0], Y5[:, 0], key_padding_mask=lambda T: T.zeros(1, 5, dtype=T.bool)),
    "a 4-d attn_mask": lambda T: _mha_call(T, X3, Y5, Y5, attn_mask=lambda T: T.zeros(2, 2, 3, 5, dtype=T.bool)),
    "an int64 attn_mask": lambda T: _mha_call(T, X3, Y5, Y5, attn_mask=lambda T: T.zeros(3, 5, dtype=T.int64)),
    "a uint8 key_padding_mask": lambda T: _mha_call(
        T, X3, Y5, Y5, key_padding_mask=lambda T: T.zeros(2, 5, dtype=T.uint8)),
    "a key_padding_mask of the wrong shape": lambda T: _mha_call(
        T, X3, Y5, Y5, key_padding_mask=lambda T: T.zeros(5, 2, dtype=T.bool)),
    "a 2-d attn_mask of the wrong shape": lambda T: _mha_call(
        T, X3, Y5, Y5, attn_mask=lambda T: T.zeros(3, 4, dtype=T.bool)),
    "a 3-d attn_mask of the wrong shape": lambda T: _mha_call(
        T, X3, Y5, Y5, attn_mask=lambda T: T.zeros(2, 3, 5, dtype=T.bool)),
    "is_causal without a mask": lambda T: _mha_call(T, X3, X3, X3, is_causal=True),
    "is_causal without a mask, no weights": lambda T: _mha_call(T, X3, X3, X3, is_causal=True, need_weights=False),
    "an encoder layer given the wrong d_model": lambda T: T.nn.TransformerEncoderLayer(4, 2, 8)(T.zeros(3, 2, 5)),
    "an encoder layer's is_causal without a mask": lambda T: T.nn.TransformerEncoderLayer(4, 2, 8)(
        T.zeros(3, 2, 4), is_causal=True),
    "a decoder's tgt_is_causal without a mask": lambda T: T.nn.TransformerDecoder(
        T.nn.TransformerDecoderLayer(4, 2, 8), 1)(T.zeros(3, 2, 4), T.zeros(3, 2, 4), tgt_is_causal=True),
    "a decoder layer given memory of the wrong d_model": lambda T: T.nn.TransformerDecoderLayer(4, 2, 8)(
        T.zeros(3, 2, 4), T.zeros(3, 2, 6)),
    "multi_head_attention_forward's embed_dim_to_check": lambda T: T.nn.functional.multi_head_attention_forward(
        T.zeros(3, 2, 4), T.zeros(3, 2, 4), T.zeros(3, 2, 4), 6, 2, T.zeros(12, 4), None, None, None, False, 0.0,
        T.zeros(4, 4), None),
}


@pytest.mark.torch
@pytest.mark.parametrize("case", list(MISUSE))
def test_misuse_raises_pytorchs_exception_class_in_one_line(torch, case):
    """glassgrad raised ValueError (or RuntimeError for a mask's dtype, ValueError for is_causal without a mask)
    where PyTorch raises AssertionError (or RuntimeError): ``except AssertionError`` around a learner's check,
    or ``pytest.raises(RuntimeError)`` written against PyTorch, missed them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as expected:
            MISUSE[case](torch)
        with pytest.raises(Exception) as caught:
            MISUSE[case](gg)
    assert type(caught.value) is type(expected.value), (case, expected.value, caught.value)
    assert "\n" not in str(caught.value) and str(caught.value)


def test_unbatched_misuse_names_the_shapes_given():
    """An unbatched query's check reported the shape after glassgrad added the batch dim ((5, 1, 2, 4) for a key
    given as (5, 2, 4)); now it says which dims were expected, as PyTorch's check."""
    with pytest.raises(AssertionError, match="unbatched \\(2-D\\) query, expected key and value to be 2-D but "
                                             "found 3-D and 3-D"):
        _mha_call(gg, X3[:, 0], Y5, Y5)
    with pytest.raises(AssertionError, match="with E = 4, got \\(5, 3\\)"):
        _mha_call(gg, X3[:, 0], Y5[:, 0, :3], Y5[:, 0])


@pytest.mark.torch
@pytest.mark.parametrize("size", [0, 1, 4])
def test_generate_square_subsequent_mask_as_bool_is_pytorchs(torch, size):
    """``generate_square_subsequent_mask(sz, dtype=torch.bool)`` gives PyTorch's −∞ cast to bool (True above the
    diagonal: a mask the layers take); glassgrad refused it with TypeError."""
    expected = torch.nn.Transformer.generate_square_subsequent_mask(size, dtype=torch.bool)
    got = gg.nn.Transformer.generate_square_subsequent_mask(size, dtype=gg.bool)
    assert got.dtype == gg.bool
    np.testing.assert_array_equal(got.numpy(), expected.numpy())


@pytest.mark.torch
def test_a_bool_causal_mask_from_generate_square_subsequent_mask_runs_the_layer_as_pytorch(torch):
    theirs, ours = _loaded_mha(torch, 4, 2)
    outs = []
    for T, layer in ((torch, theirs), (gg, ours)):
        mask = T.nn.Transformer.generate_square_subsequent_mask(3, dtype=T.bool)
        outs.append([t.detach().numpy() for t in layer(T.tensor(X3), T.tensor(X3), T.tensor(X3), attn_mask=mask)])
    _assert_close(outs[0], outs[1])


# ------------------------------------------------------------------------------------------------ property tests
@pytest.mark.torch
@given(batch=st.lists(st.integers(1, 2), max_size=2), heads=st.integers(1, 3), groups=st.integers(1, 2),
       length=st.integers(1, 4), keys=st.integers(1, 4), features=st.integers(1, 3), value_features=st.integers(1, 3),
       mask=st.sampled_from(["none", "causal", "bool", "float"]), broadcast=st.lists(st.booleans(), min_size=3,
                                                                                     max_size=3),
       scale=st.sampled_from([None, 0.3]), dtype=st.sampled_from(["float64", "float32"]), seed=st.integers(0, 999))
def test_sdpa_with_broadcast_masks_and_grouped_heads_matches_pytorch(torch, batch, heads, groups, length, keys,
                                                                     features, value_features, mask, broadcast, scale,
                                                                     dtype, seed):
    """The fuzzer's core for SDPA: masks broadcast over the batch and head dims, grouped-query heads, is_causal
    with L ≠ S (top-left aligned), every input's gradient. A mask leaves each query a key (the first), so no row is
    fully masked here (both give 0 there, pinned below)."""
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(*batch, heads * groups, length, features)).astype(dtype)
    key = rng.normal(size=(*batch, heads, keys, features)).astype(dtype)
    value = rng.normal(size=(*batch, heads, keys, value_features)).astype(dtype)
    mask_shape = tuple(1 if drop else size for size, drop in zip((*batch, heads * groups), broadcast[::-1]))
    mask_shape = mask_shape + (length, keys)
    options = {"scale": scale, "enable_gqa": groups > 1}
    if mask == "causal":
        options["is_causal"] = True
    elif mask != "none":
        allowed = rng.random(mask_shape) > 0.4
        allowed[..., 0] = True
        options["attn_mask"] = allowed if mask == "bool" else np.where(allowed, rng.normal(size=mask_shape),
                                                                       -np.inf).astype(dtype)
    upstream = rng.normal(size=(*batch, heads * groups, length, value_features)).astype(dtype)
    results = []
    for T in (torch, gg):
        tensors = [T.tensor(a, requires_grad=True) for a in (query, key, value)]
        call = {k: T.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
        out = _library_F(T).scaled_dot_product_attention(*tensors, **call)
        out.backward(T.tensor(upstream))
        results.append([out.detach().numpy(), *_grads(tensors)])
    tolerance = {"rtol": 1e-10, "atol": 1e-12} if dtype == "float64" else {"rtol": 2e-5, "atol": 2e-6}
    _assert_close(results[0], results[1], **tolerance)


@pytest.mark.torch
@given(heads=st.integers(1, 3), width=st.integers(1, 2), kdim=st.sampled_from([None, 3]),
       vdim=st.sampled_from([None, 2]), bias=st.booleans(), add_bias_kv=st.booleans(), add_zero_attn=st.booleans(),
       batch_first=st.booleans(), unbatched=st.booleans(), padding=st.sampled_from([None, "bool", "float"]),
       attn_mask=st.sampled_from([None, "2d bool", "3d float"]), need_weights=st.booleans(),
       average=st.booleans(), seed=st.integers(0, 999))
def test_multihead_attention_matches_pytorch_values_weights_and_gradients(torch, heads, width, kdim, vdim, bias,
                                                                         add_bias_kv, add_zero_attn, batch_first,
                                                                         unbatched, padding, attn_mask, need_weights,
                                                                         average, seed):
    """The fuzzer's core for MultiheadAttention, PyTorch's state dict loaded: output, returned weights and the
    gradients of the inputs and of every parameter. Every query keeps a visible key (the first), so PyTorch gives
    no NaN (its weights-returning path's NaN for a fully masked query is a documented difference)."""
    rng = np.random.default_rng(seed)
    embed_dim, length, keys, batch = heads * width, 3, 4, 2
    theirs, ours = _loaded_mha(torch, embed_dim, heads, kdim=kdim, vdim=vdim, bias=bias, add_bias_kv=add_bias_kv,
                               add_zero_attn=add_zero_attn, batch_first=batch_first)
    assert list(theirs.state_dict()) == list(ours.state_dict())

    def layout(count, dims):
        return (count, dims) if unbatched else ((batch, count, dims) if batch_first else (count, batch, dims))

    arrays = [rng.normal(size=layout(length, embed_dim)), rng.normal(size=layout(keys, kdim or embed_dim)),
              rng.normal(size=layout(keys, vdim or embed_dim))]
    masks = {}
    if padding:
        padded = rng.random((keys,) if unbatched else (batch, keys)) < 0.4
        padded[..., 0] = False
        masks["key_padding_mask"] = padded if padding == "bool" else np.where(padded, -np.inf, 0.0)
    if attn_mask == "2d bool":
        blocked = rng.random((length, keys)) < 0.4
        blocked[:, 0] = False
        masks["attn_mask"] = blocked
    elif attn_mask == "3d float":
        masks["attn_mask"] = rng.normal(size=((1 if unbatched else batch) * heads, length, keys))
    results = []
    for T, layer in ((torch, theirs), (gg, ours)):
        tensors = [T.tensor(a, requires_grad=True) for a in arrays]
        out, weights = layer(*tensors, need_weights=need_weights, average_attn_weights=average,
                             **{name: T.tensor(m) for name, m in masks.items()})
        loss = (out * T.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum()
        if weights is not None:
            loss = loss + (weights * weights).sum()
        loss.backward()
        results.append([out.detach().numpy(), None if weights is None else weights.detach().numpy(), *_grads(tensors),
                        *_grads([p for _, p in layer.named_parameters()])])
    _assert_close(results[0], results[1])


# ------------------------------------------------------------------------------------------------ pinning tests
@pytest.mark.torch
def test_sdpa_fully_masked_rows_give_pytorchs_zero_and_zero_gradient(torch):
    rng = np.random.default_rng(3)
    arrays = [rng.normal(size=(2, 2, 3, 4)), rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(2, 2, 5, 2))]
    mask = np.zeros((2, 1, 3, 5))
    mask[0, :, 1] = -np.inf
    results = []
    for T in (torch, gg):
        tensors = [T.tensor(a, requires_grad=True) for a in arrays]
        additive = T.tensor(mask, requires_grad=True)
        out = _library_F(T).scaled_dot_product_attention(*tensors, attn_mask=additive)
        (out * out).sum().backward()
        results.append([out.detach().numpy(), *_grads(tensors), additive.grad.numpy()])
    _assert_close(results[0], results[1])
    assert not np.isnan(results[1][0]).any() and (results[1][0][0, :, 1] == 0).all()


@pytest.mark.torch
def test_multihead_attention_fully_masked_query_without_weights_is_pytorchs_zero(torch):
    """need_weights=False: PyTorch's layer runs its SDPA, which gives 0 for a query whose keys are all padding, as
    glassgrad does; with the weights returned PyTorch gives NaN there and glassgrad still 0 (documented)."""
    theirs, ours = _loaded_mha(torch, 4, 2, batch_first=True)
    padding = np.array([[True] * 5, [False, False, True, False, True]])
    outs = []
    for T, layer in ((torch, theirs), (gg, ours)):
        out, _ = layer(*(T.tensor(a.transpose(1, 0, 2)) for a in (X3, Y5, Y5)), need_weights=False,
                       key_padding_mask=T.tensor(padding))
        outs.append([out.detach().numpy()])
    _assert_close(outs[0], outs[1])
    ours_with_weights, weights = ours(*(gg.tensor(a.transpose(1, 0, 2)) for a in (X3, Y5, Y5)),
                                      key_padding_mask=gg.tensor(padding))
    assert not np.isnan(ours_with_weights.numpy()).any() and (weights.numpy()[0] == 0).all()


@pytest.mark.torch
def test_is_causal_hint_with_the_causal_mask_matches_pytorch_also_when_l_differs_from_s(torch):
    theirs, ours = _loaded_mha(torch, 4, 2)
    outs = []
    for T, layer in ((torch, theirs), (gg, ours)):
        mask = T.ones(3, 5, dtype=T.bool).triu(1)
        for need_weights in (True, False):
            out, _ = layer(T.tensor(X3), T.tensor(Y5), T.tensor(Y5), attn_mask=mask, is_causal=True,
                           need_weights=need_weights)
            outs.append(out.detach().numpy())
    _assert_close(outs[:2], outs[2:])


def _transformer_pair(torch, kind, **options):
    def build(T):
        nn = T.nn
        layer_options = {"dim_feedforward": 8, "dropout": 0.0, "dtype": T.float64, **options}
        if layer_options.get("activation") == "silu":  # a callable of the library's own
            layer_options["activation"] = T.nn.functional.silu
        if kind == "encoder":
            return nn.TransformerEncoder(nn.TransformerEncoderLayer(4, 2, **layer_options), 2,
                                         norm=nn.LayerNorm(4, dtype=T.float64), enable_nested_tensor=False)
        if kind == "decoder":
            return nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, **layer_options), 2)
        return nn.Transformer(4, 2, 2, 1, **layer_options)

    theirs, ours = build(torch), build(gg)
    assert list(theirs.state_dict()) == list(ours.state_dict())
    assert [name for name, _ in theirs.named_parameters()] == [name for name, _ in ours.named_parameters()]
    ours.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    return theirs, ours


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["encoder", "decoder", "transformer"])
@pytest.mark.parametrize("options", [{}, {"norm_first": True, "activation": "gelu", "batch_first": True},
                                     {"bias": False, "activation": "silu"}])
def test_transformer_stacks_load_pytorchs_state_dict_and_match_values_and_gradients(torch, kind, options):
    theirs, ours = _transformer_pair(torch, kind, **options)
    rng = np.random.default_rng(7)
    batch_first = options.get("batch_first", False)
    source = rng.normal(size=(2, 4, 4) if batch_first else (4, 2, 4))
    target = rng.normal(size=(2, 3, 4) if batch_first else (3, 2, 4))
    padding = np.array([[False, False, True, True], [False, False, False, False]])
    results = []
    for T, model in ((torch, theirs), (gg, ours)):
        model.eval()
        src, tgt = T.tensor(source, requires_grad=True), T.tensor(target, requires_grad=True)
        causal = T.nn.Transformer.generate_square_subsequent_mask(3, dtype=T.float64)
        if kind == "encoder":
            out = model(src, src_key_padding_mask=T.tensor(padding))
        elif kind == "decoder":
            out = model(tgt, src, tgt_mask=causal, tgt_is_causal=True, memory_key_padding_mask=T.tensor(padding))
        else:
            out = model(src, tgt, tgt_mask=causal, src_key_padding_mask=T.tensor(padding),
                        memory_key_padding_mask=T.tensor(padding))
        (out * T.tensor(np.linspace(-1, 1, out.numel()).reshape(tuple(out.shape)))).sum().backward()
        used = [src] if kind == "encoder" else [src, tgt]
        results.append([out.detach().numpy(), *_grads(used), *_grads(list(model.parameters()))])
    _assert_close(results[0], results[1], rtol=1e-9, atol=1e-11)


@pytest.mark.torch
def test_encoder_nested_tensor_fast_path_zeroes_trailing_padding_as_pytorch(torch):
    """Evaluation with nothing requiring grad, batch_first, a padding mask alone: PyTorch runs nested tensors and
    the padded positions come out 0; glassgrad gives the same numbers."""
    models = [T.nn.TransformerEncoder(T.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True,
                                                                   dtype=T.float64), 2) for T in (torch, gg)]
    models[1].load_state_dict({k: gg.tensor(v.numpy()) for k, v in models[0].state_dict().items()})
    outs = []
    for T, model in zip((torch, gg), models):
        model.eval()
        padding = T.tensor([[False, False, False, True], [False, True, True, True]])
        with T.no_grad():
            outs.append([model(T.tensor(np.random.default_rng(2).normal(size=(2, 4, 4))),
                               src_key_padding_mask=padding).numpy()])
    _assert_close(outs[0], outs[1])
    assert (outs[1][0][1, 1:] == 0).all()


def test_decoder_copies_keep_an_activation_module():
    """PyTorch 2.13's TransformerDecoder copies a decoder layer with ``activation=nn.GELU(...)`` into layers whose
    activation is ``F.relu`` (TransformerDecoderLayer.__setstate__ looks for ``activation`` in ``__dict__``, where a
    module is not): a PyTorch bug, not copied. glassgrad's copies compute what the layer given computes."""
    layer = gg.nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0, activation=gg.nn.GELU(approximate="tanh"),
                                          dtype=gg.float64)
    decoder = gg.nn.TransformerDecoder(layer, 1)
    assert isinstance(decoder.layers[0].activation, gg.nn.GELU)
    target, memory = gg.tensor(X3), gg.tensor(Y5)
    np.testing.assert_array_equal(decoder(target, memory).numpy(), layer(target, memory).numpy())
