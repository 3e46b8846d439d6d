"""Round 81: the Transformer stack against PyTorch 2.13, fuzzed: layers, stacks and the whole model.

Each case builds the PyTorch module, loads its ``state_dict`` into glassgrad's with ``strict=True`` (the keys
must be PyTorch's), runs both on the same numbers with drawn sizes, ``batch_first``, ``norm_first``,
activation, ``layer_norm_eps``, ``bias`` and masks (bool, −∞/0, arbitrary floats, 3-D per head, padding
masks, ``is_causal``), and compares the output and the gradients of the inputs and of every parameter in
float64. The misuse tests check PyTorch's exception class.

Found and fixed in this round: ``Transformer.generate_square_subsequent_mask`` refused a 0-d integer tensor
``sz`` (PyTorch's ``full`` takes it) and raised ValueError/TypeError where PyTorch raises RuntimeError (a
negative ``sz``, an integer dtype, which cannot hold −∞); ``Transformer`` given a batched ``src`` and an
unbatched ``tgt`` raised an AssertionError from attention instead of PyTorch's RuntimeError about the batch;
an unbatched query with a 3-D ``attn_mask`` not of shape (num_heads, L, S) raised RuntimeError where
PyTorch's shape check asserts.

PyTorch's own quirks seen and not copied (README): a ``TransformerDecoder``'s clones of a layer built with an
activation *layer* run ReLU in PyTorch (its ``__setstate__``); PyTorch's per-layer fast kernel under
``no_grad`` gives NaN for an all-padded row and reads a float padding mask's nonzero entries as padding.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
              pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors:UserWarning")]


def _activation(library, name):
    if name == "F.gelu":
        return library.nn.functional.gelu
    if name == "lambda":
        return lambda x: library.nn.functional.relu(x) * 0.5 + x.tanh()
    return library.nn.GELU() if name == "GELU layer" else name


def _build(library, kind, d_model, nhead, dim_feedforward, activation, num_layers=2, final_norm=False,
           dropout=0.0, enable_nested_tensor=False, **options):
    options = {"dim_feedforward": dim_feedforward, "dropout": dropout,
               "activation": _activation(library, activation), **options}
    if library is gg:
        options["dtype"] = gg.float64
    nn = library.nn
    eps = options.get("layer_norm_eps", 1e-5)
    norm = (nn.LayerNorm(d_model, eps=eps, dtype=options.get("dtype")) if final_norm else None)
    if kind == "TransformerEncoderLayer":
        return nn.TransformerEncoderLayer(d_model, nhead, **options)
    if kind == "TransformerDecoderLayer":
        return nn.TransformerDecoderLayer(d_model, nhead, **options)
    if kind == "TransformerEncoder":
        return nn.TransformerEncoder(nn.TransformerEncoderLayer(d_model, nhead, **options), num_layers, norm=norm,
                                     enable_nested_tensor=enable_nested_tensor)
    if kind == "TransformerDecoder":
        return nn.TransformerDecoder(nn.TransformerDecoderLayer(d_model, nhead, **options), num_layers, norm=norm)
    return nn.Transformer(d_model, nhead, num_layers, num_layers, **options)


def _pair(torch, kind, *args, **options):
    """PyTorch's module (float64) and glassgrad's with PyTorch's weights, loaded strictly by PyTorch's keys."""
    torch.manual_seed(0)
    theirs = _build(torch, kind, *args, **options).double()
    ours = _build(gg, kind, *args, **options)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()}, strict=True)
    return ours, theirs


def _run(library, module, inputs, upstream, masks):
    tensors = [library.tensor(array, requires_grad=True) for array in inputs]
    masks = {name: library.tensor(value) if isinstance(value, np.ndarray) else value for name, value in masks.items()}
    out = module(*tensors, **masks)
    (out * library.tensor(upstream)).sum().backward()
    return ([out.detach().numpy()] + [tensor.grad.numpy() for tensor in tensors]
            + [parameter.grad.numpy() for parameter in module.parameters()])


def _compare(ours, theirs, rtol=1e-9, atol=1e-11):
    assert len(ours) == len(theirs)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=rtol, atol=atol)


def _mask(rng, kind, length, keys, batch, nhead):
    """An attention mask of ``kind`` (the first key never masked, so no row is empty), or ``(mask, is_causal)``."""
    if kind == "bool":
        mask = rng.random((length, keys)) < 0.4
    elif kind == "-inf/0":
        mask = np.where(rng.random((length, keys)) < 0.4, -np.inf, 0.0)
    elif kind == "floats":
        return rng.normal(size=(length, keys))
    elif kind == "3-D bool":
        mask = rng.random((batch * nhead, length, keys)) < 0.4
    else:
        return None
    mask[..., 0] = 0
    return mask


def _padding(rng, kind, batch, keys, unbatched):
    if kind == "none":
        return None
    padded = rng.random((batch, keys)) < 0.4
    padded[:, 0] = False
    mask = {"bool": padded, "-inf/0": np.where(padded, -np.inf, 0.0), "floats": rng.normal(size=(batch, keys))}[kind]
    return mask[0] if unbatched else mask


KINDS = ["TransformerEncoderLayer", "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder",
         "Transformer"]


@given(kind=st.sampled_from(KINDS), nhead=st.sampled_from([1, 2, 3]), head_width=st.sampled_from([1, 2, 4]),
       dim_feedforward=st.sampled_from([1, 5]), activation=st.sampled_from(["relu", "gelu", "F.gelu", "lambda"]),
       eps=st.sampled_from([1e-5, 0.5]), batch_first=st.booleans(), norm_first=st.booleans(), bias=st.booleans(),
       final_norm=st.booleans(), batch=st.sampled_from([1, 3]), lengths=st.sampled_from([(1, 2), (3, 4), (4, 1)]),
       unbatched=st.booleans(), causal=st.sampled_from(["none", "mask", "mask and is_causal", "bool mask"]),
       other_mask=st.sampled_from(["none", "bool", "-inf/0", "floats", "3-D bool"]),
       padding=st.sampled_from(["none", "bool", "-inf/0", "floats"]), seed=st.integers(0, 2**16))
def test_the_stack_gives_pytorchs_numbers_and_gradients(torch, kind, nhead, head_width, dim_feedforward, activation,
                                                        eps, batch_first, norm_first, bias, final_norm, batch,
                                                        lengths, unbatched, causal, other_mask, padding, seed):
    """The fuzzer's core: any drawn configuration and masks give PyTorch's output and every gradient (float64)."""
    d_model, (source, target) = nhead * head_width, lengths
    ours, theirs = _pair(torch, kind, d_model, nhead, dim_feedforward, activation, final_norm=final_norm,
                         layer_norm_eps=eps, batch_first=batch_first, norm_first=norm_first, bias=bias)
    rng = np.random.default_rng(seed)
    other_mask = "none" if unbatched and other_mask == "3-D bool" else other_mask

    def shape(length):
        return (length, d_model) if unbatched else (batch, length, d_model) if batch_first else (length, batch,
                                                                                                   d_model)

    def causal_masks(length, mask_name, causal_name):
        if causal == "none":
            return {}
        mask = np.triu(np.full((length, length), -np.inf), 1)
        masks = {mask_name: np.isinf(mask) if causal == "bool mask" else mask}
        return {**masks, causal_name: True} if causal == "mask and is_causal" else masks

    encoder = kind in ("TransformerEncoderLayer", "TransformerEncoder")
    if encoder:
        inputs = [rng.normal(size=shape(source))]
        mask_name = "src_mask" if kind == "TransformerEncoderLayer" else "mask"
        masks = causal_masks(source, mask_name, "is_causal")
        if mask_name not in masks and other_mask != "none":
            masks[mask_name] = _mask(rng, other_mask, source, source, batch, nhead)
        masks["src_key_padding_mask"] = _padding(rng, padding, batch, source, unbatched)
    else:
        decoder = kind != "Transformer"
        inputs = [rng.normal(size=shape(target)), rng.normal(size=shape(source))]
        inputs = inputs if decoder else inputs[::-1]
        masks = causal_masks(target, "tgt_mask", "tgt_is_causal")
        cross = _mask(rng, other_mask, target, source, batch, nhead)
        masks.update({"memory_mask": cross, "tgt_key_padding_mask": _padding(rng, padding, batch, target, unbatched),
                      "memory_key_padding_mask": _padding(rng, padding, batch, source, unbatched)})
        if not decoder:
            masks.update({"src_mask": _mask(rng, other_mask, source, source, batch, nhead),
                          "src_key_padding_mask": masks["memory_key_padding_mask"]})
    masks = {name: value for name, value in masks.items() if value is not None}
    out_length = source if encoder else target
    upstream = rng.normal(size=shape(out_length))
    _compare(_run(gg, ours, inputs, upstream, masks), _run(torch, theirs, inputs, upstream, masks))


# --- the defects of this round (each failed before its fix) ---

@pytest.mark.parametrize("sz", [0, 1, 5])
def test_square_subsequent_mask_takes_a_0d_integer_tensor_as_pytorch(torch, sz):
    """``generate_square_subsequent_mask(lengths.max())``: PyTorch's ``full`` takes a 0-d integer tensor as its
    size; glassgrad refused it with a TypeError."""
    ours = gg.nn.Transformer.generate_square_subsequent_mask(gg.tensor(sz))
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(torch.tensor(sz), dtype=torch.float32)
    assert ours.dtype == gg.float32 and ours.shape == (sz, sz)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call", ["negative sz", "int64", "uint8"])
def test_square_subsequent_mask_refuses_as_pytorch(torch, call):
    """A negative size and an integer dtype (which cannot hold −∞) are PyTorch's RuntimeError (glassgrad raised
    ValueError and TypeError)."""
    for library in (torch, gg):
        mask = library.nn.Transformer.generate_square_subsequent_mask
        with pytest.raises(RuntimeError) as caught:
            mask(-1) if call == "negative sz" else mask(3, dtype=getattr(library, call))
        if library is gg:
            assert "\n" not in str(caught.value) and ("non-negative" in str(caught.value)
                                                      or "overflow" in str(caught.value))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_batched_src_with_unbatched_tgt_is_a_batch_error(torch, batch_first):
    """PyTorch compares the batch of a 3-D ``src`` with ``tgt``'s size there, a RuntimeError naming the batch;
    glassgrad raised an AssertionError from attention about 2-D and 3-D tensors."""
    src, tgt = (torch.ones(2, 3, 8), torch.ones(4, 8))
    for library in (torch, gg):
        model = library.nn.Transformer(8, 2, 1, 1, 16, batch_first=batch_first)
        with pytest.raises(RuntimeError, match="batch number") as caught:
            model(library.tensor(src.numpy()), library.tensor(tgt.numpy()))
        assert "\n" not in str(caught.value)


@pytest.mark.parametrize("module", ["MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer"])
def test_unbatched_query_with_a_3d_mask_of_other_heads_asserts_as_pytorch(torch, module):
    """An unbatched (L, E) input with a 3-D mask must give (num_heads, L, S); PyTorch asserts (AssertionError),
    glassgrad raised RuntimeError. A mask of the right shape works and gives PyTorch's numbers."""
    rng = np.random.default_rng(0)
    x, bad = rng.normal(size=(3, 8)), rng.random((4, 3, 3)) < 0.3
    good = bad[:2].copy()
    good[..., 0] = False
    results = []
    for library in (torch, gg):
        torch.manual_seed(0)
        if module == "MultiheadAttention":
            layer = library.nn.MultiheadAttention(8, 2, dtype=library.float64)
            call = lambda mask, layer=layer, library=library: layer(*[library.tensor(x)] * 3, attn_mask=mask)[0]  # noqa: E731
        else:
            layer = getattr(library.nn, module)(8, 2, 16, dropout=0.0, dtype=library.float64)
            args = (library.tensor(x),) * (2 if module == "TransformerDecoderLayer" else 1)
            name = "tgt_mask" if module == "TransformerDecoderLayer" else "src_mask"
            call = lambda mask, layer=layer, args=args, name=name: layer(*args, **{name: mask})  # noqa: E731
        if library is torch:
            weights = {name: value.numpy() for name, value in layer.state_dict().items()}
        else:
            layer.load_state_dict(weights, strict=True)
        with pytest.raises(AssertionError) as caught:
            call(library.tensor(bad))
        assert "\n" not in str(caught.value)
        results.append(call(library.tensor(good)).detach().numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-9, atol=1e-12)


# --- pinning tests: what already agreed ---

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias", [True, False])
def test_state_dict_keys_and_strict_load(torch, kind, bias):
    """PyTorch's keys in PyTorch's order; a PyTorch state dict loads with strict=True and reads back equal."""
    ours, theirs = _pair(torch, kind, 8, 2, 16, "relu", final_norm=True, bias=bias)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[name].numpy(), value.numpy())


@pytest.mark.parametrize("kind", ["TransformerEncoder", "TransformerDecoder"])
def test_layers_are_independent_clones(kind):
    """The stack's layers start with the same weights (deep copies, as PyTorch's) but share none: editing layer
    0's weight leaves layer 1's, and a step moves each by its own gradient."""
    stack = _build(gg, kind, 8, 2, 16, "GELU layer", num_layers=3)
    first, second = stack.layers[0], stack.layers[1]
    np.testing.assert_array_equal(first.linear1.weight.numpy(), second.linear1.weight.numpy())
    assert first.activation is not second.activation
    before = second.linear1.weight.numpy().copy()
    with gg.no_grad():
        first.linear1.weight.fill_(1.0)
        first.self_attn.in_proj_weight.mul_(2.0)
    np.testing.assert_array_equal(second.linear1.weight.numpy(), before)
    assert not np.shares_memory(first.self_attn.in_proj_weight.numpy(), second.self_attn.in_proj_weight.numpy())
    assert len({id(p) for p in stack.parameters()}) == len(list(stack.parameters()))


def test_repr_is_pytorchs_with_parameter_counts(torch):
    """Each module's repr is PyTorch's line for line, glassgrad's parameter counts as comments beside it."""
    for kind in KINDS:
        ours = _build(gg, kind, 8, 2, 16, "F.gelu", final_norm=True)
        theirs = _build(torch, kind, 8, 2, 16, "F.gelu", final_norm=True)
        lines = [re.sub(r"\s+# [\d,]+ parameters$", "", line) for line in repr(ours).splitlines()
                 if not line.startswith("Total parameters")]
        assert lines == repr(theirs).splitlines()


@pytest.mark.parametrize("call", ["d_model % nhead", "src features", "tgt features", "memory features",
                                  "mask shape", "3-D mask heads", "padding shape", "integer mask",
                                  "batch mismatch", "is_causal without mask", "layer is_causal without mask",
                                  "bad activation"])
def test_misuse_gets_pytorchs_exception_class_in_one_line(torch, call):
    """Each misuse raises PyTorch's class on both, glassgrad's message on one line."""
    def attempt(library):
        nn = library.nn
        if call == "d_model % nhead":
            return nn.TransformerEncoderLayer(10, 3)
        if call == "bad activation":
            return nn.TransformerDecoderLayer(8, 2, activation="tanh")
        model = nn.Transformer(8, 2, 1, 1, 16)
        src, tgt = library.ones(3, 2, 8), library.ones(4, 2, 8)
        arguments = {
            "src features": ((library.ones(3, 2, 6), tgt), {}),
            "tgt features": ((src, library.ones(4, 2, 6)), {}),
            "mask shape": ((src, tgt), {"tgt_mask": library.zeros(3, 3)}),
            "3-D mask heads": ((src, tgt), {"src_mask": library.zeros(3, 3, 3)}),
            "padding shape": ((src, tgt), {"src_key_padding_mask": library.zeros(3, 2, dtype=library.bool)}),
            "batch mismatch": ((src, library.ones(4, 3, 8)), {}),
            "is_causal without mask": ((src, tgt), {"tgt_is_causal": True}),
        }
        if call == "memory features":
            return model.decoder(tgt, library.ones(3, 2, 6))
        if call == "layer is_causal without mask":
            return model.encoder.layers[0](src, is_causal=True)
        if call == "integer mask":  # the layer: PyTorch's stacks first compare it with a float causal mask
            return model.decoder.layers[0](tgt, src, tgt_mask=library.zeros(4, 4, dtype=library.int64))
        args, kwargs = arguments[call]
        return model(*args, **kwargs)

    with pytest.raises(Exception) as expected:
        attempt(torch)
    with pytest.raises(expected.type) as caught:
        attempt(gg)
    assert "\n" not in str(caught.value) and str(caught.value)


def _encoder_pair(torch, dropout=0.1):
    return _pair(torch, "TransformerEncoder", 8, 2, 16, "relu", dropout=dropout, final_norm=True, batch_first=True,
                 enable_nested_tensor=True)


@pytest.mark.parametrize("lengths", [(4, 2, 3), (0, 4, 1), (4, 4, 4)])
def test_nested_tensor_path_zeros_padded_positions_as_pytorch(torch, lengths):
    """Evaluation under no_grad with a trailing padding mask: PyTorch's nested tensors give 0 at padded positions
    (before ``norm``), an all-padded row (length 0) included; glassgrad gives the same numbers."""
    ours, theirs = _encoder_pair(torch)
    ours.eval(), theirs.eval()
    x = np.random.default_rng(1).normal(size=(3, 4, 8))
    padding = np.arange(4)[None] >= np.array(lengths)[:, None]
    outs = []
    for library, module in ((gg, ours), (torch, theirs)):
        with library.no_grad():
            outs.append(module(library.tensor(x), src_key_padding_mask=library.tensor(padding)).numpy())
        module.norm = None
        with library.no_grad():
            raw = module(library.tensor(x), src_key_padding_mask=library.tensor(padding)).numpy()
        assert np.all(raw[padding] == 0) and np.all(raw[~padding] != 0)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("case", ["padding not trailing", "training", "with grad", "with a mask"])
def test_no_nested_tensor_path_computes_padded_positions_as_pytorch(torch, case):
    """Where PyTorch leaves the nested path (padding before a kept position, training (dropout 0), grad
    enabled with parameters requiring it, a mask beside the padding) both compute the padded positions."""
    ours, theirs = _encoder_pair(torch, dropout=0.0 if case == "training" else 0.1)
    x = np.random.default_rng(2).normal(size=(2, 4, 8))
    padding = np.array([[False, True, False, False], [False, False, True, True]] if case == "padding not trailing"
                       else [[False, False, True, True], [False, False, False, True]])
    outs = []
    for library, module in ((gg, ours), (torch, theirs)):
        module.train() if case == "training" else module.eval()
        masks = {"src_key_padding_mask": library.tensor(padding)}
        if case == "with a mask":
            masks["mask"] = library.nn.Transformer.generate_square_subsequent_mask(4, dtype=library.bool)
        if case == "with grad":
            outs.append(module(library.tensor(x), **masks).detach().numpy())
        else:
            with library.no_grad():
                outs.append(module(library.tensor(x), **masks).numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-9, atol=1e-11)
    assert not np.any(np.all(outs[0] == 0, axis=-1))


def test_decoder_of_an_activation_layer_runs_it_in_every_clone(torch):
    """PyTorch 2.13's quirk, noted and not copied (README): its decoder's deep copies of a layer built with
    ``nn.GELU()`` run ReLU (``__setstate__`` sets ``activation = F.relu``); glassgrad's clones run GELU, which
    is what PyTorch's stack of ``activation='gelu'`` gives."""
    ours, theirs = _pair(torch, "TransformerDecoder", 8, 2, 16, "GELU layer")
    _, named = _pair(torch, "TransformerDecoder", 8, 2, 16, "gelu")
    assert theirs.layers[0].activation is torch.nn.functional.relu  # PyTorch's quirk, still there
    assert isinstance(ours.layers[0].activation, gg.nn.GELU)
    x, memory = np.random.default_rng(3).normal(size=(4, 2, 8)), np.random.default_rng(4).normal(size=(3, 2, 8))
    upstream = np.random.default_rng(5).normal(size=(4, 2, 8))
    _compare(_run(gg, ours, [x, memory], upstream, {}), _run(torch, named, [x, memory], upstream, {}))


@pytest.mark.parametrize("kind", ["TransformerEncoder", "Transformer"])
def test_eval_mode_turns_dropout_off_as_pytorch(torch, kind):
    """dropout=0.3 in evaluation: no dropout, PyTorch's numbers and gradients."""
    ours, theirs = _pair(torch, kind, 8, 2, 16, "gelu", dropout=0.3, final_norm=True)
    ours.eval(), theirs.eval()
    rng = np.random.default_rng(6)
    inputs = [rng.normal(size=(3, 2, 8))] + ([rng.normal(size=(4, 2, 8))] if kind == "Transformer" else [])
    upstream = rng.normal(size=(4 if kind == "Transformer" else 3, 2, 8))
    _compare(_run(gg, ours, inputs, upstream, {}), _run(torch, theirs, inputs, upstream, {}))


def test_float_masks_requiring_grad_get_pytorchs_gradients(torch):
    """A learned float attention bias passed as ``src_mask``/``tgt_mask`` and a float padding mask: their
    gradients are PyTorch's."""
    ours, theirs = _pair(torch, "Transformer", 8, 2, 16, "relu")
    rng = np.random.default_rng(7)
    arrays = [rng.normal(size=shape) for shape in [(4, 3, 8), (5, 3, 8), (4, 4), (5, 5), (3, 4)]]
    results = []
    for library, module in ((gg, ours), (torch, theirs)):
        src, tgt, src_mask, tgt_mask, padding = [library.tensor(a, requires_grad=True) for a in arrays]
        out = module(src, tgt, src_mask, tgt_mask, None, padding, None, padding)
        (out ** 2).sum().backward()
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in (src, tgt, src_mask, tgt_mask, padding)])
    _compare(*results)


def test_float32_model_within_float32_rounding(torch):
    """A float32 Transformer (PyTorch's default dtype) gives PyTorch's numbers within float32 rounding."""
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
    ours = gg.nn.Transformer(16, 4, 2, 2, 32, dropout=0.0, batch_first=True, norm_first=True)
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()}, strict=True)
    rng = np.random.default_rng(8)
    src, tgt = rng.normal(size=(2, 5, 16)).astype(np.float32), rng.normal(size=(2, 4, 16)).astype(np.float32)
    results = []
    for library, module in ((gg, ours), (torch, theirs)):
        mask = library.nn.Transformer.generate_square_subsequent_mask(4)
        assert mask.dtype == library.float32
        a, b = library.tensor(src, requires_grad=True), library.tensor(tgt, requires_grad=True)
        out = module(a, b, tgt_mask=mask, tgt_is_causal=True)
        out.square().mean().backward()
        results.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()]
                       + [p.grad.numpy() for p in module.parameters()])
    assert results[0][0].dtype == np.float32
    _compare(*results, rtol=2e-4, atol=2e-5)


def test_translation_tutorial_trains_and_decodes_as_pytorch(torch):
    """PyTorch's translation tutorial (Seq2SeqTransformer): token embeddings, a bool ``src_mask`` of zeros, a float
    ``tgt_mask`` made by ``masked_fill``, bool padding masks from the pad index, cross-entropy ignoring the pad; then
    greedy decoding through ``encoder``/``decoder`` with a bool causal mask. Loss, every gradient and the decoded
    tokens are PyTorch's."""
    def model(library):
        nn = library.nn

        class Seq2Seq(nn.Module):
            def __init__(self):
                super().__init__()
                self.transformer = nn.Transformer(8, 2, 2, 2, 16, dropout=0.1)
                self.generator = nn.Linear(8, 11)
                self.src_tok_emb, self.tgt_tok_emb = nn.Embedding(11, 8), nn.Embedding(11, 8)

            def forward(self, src, trg, src_mask, tgt_mask, src_padding, tgt_padding, memory_padding):
                outs = self.transformer(self.src_tok_emb(src) * math.sqrt(8), self.tgt_tok_emb(trg), src_mask,
                                        tgt_mask, None, src_padding, tgt_padding, memory_padding)
                return self.generator(outs)

        return Seq2Seq().double() if library is torch else Seq2Seq().to(gg.float64)

    rng = np.random.default_rng(9)
    src, tgt = rng.integers(2, 11, (6, 3)), rng.integers(2, 11, (5, 3))
    src[4:, 0], tgt[3:, 1] = 1, 1
    torch.manual_seed(0)
    theirs, ours = model(torch), model(gg)
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()}, strict=True)
    results = []
    for library, module in ((gg, ours), (torch, theirs)):
        s, t = library.tensor(src), library.tensor(tgt)
        mask = (library.triu(library.ones((5, 5))) == 1).transpose(0, 1)
        tgt_mask = mask.double().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)
        src_mask = library.zeros((6, 6)).type(library.bool)
        module.eval()
        logits = module(s, t, src_mask, tgt_mask, (s == 1).transpose(0, 1), (t == 1).transpose(0, 1),
                        (s == 1).transpose(0, 1))
        loss = library.nn.functional.cross_entropy(logits.reshape(-1, 11), t.reshape(-1), ignore_index=1)
        loss.backward()
        with library.no_grad():
            memory = module.transformer.encoder(module.src_tok_emb(s), src_mask)
            ys = library.ones(1, 3, dtype=library.long) * 2
            for _ in range(4):
                causal = library.nn.Transformer.generate_square_subsequent_mask(ys.size(0)).type(library.bool)
                out = module.transformer.decoder(module.tgt_tok_emb(ys), memory, causal)
                ys = library.cat([ys, module.generator(out[-1]).argmax(dim=1)[None]], 0)
        results.append([logits.detach().numpy(), loss.detach().numpy(), memory.numpy()]
                       + [p.grad.numpy() for p in module.parameters()])
        results[-1].append(ys.numpy().astype(np.float64))
    _compare(*results)


def test_nested_path_looks_at_the_first_layers_grad_only_as_pytorch(torch):
    """Evaluation with grad on, the encoder frozen but its final ``norm`` trainable: PyTorch checks only ``src``
    and the first layer's parameters, so it takes the nested path and padded positions come out 0 before
    ``norm`` (its bias after it). glassgrad looked at every parameter and computed them: other numbers, silently.
    With the last layer trainable instead PyTorch raises an AssertionError from its nested tensors; glassgrad
    runs (padded positions 0, gradients for the last layer)."""
    ours, theirs = _pair(torch, "TransformerEncoder", 8, 2, 16, "relu", num_layers=2, final_norm=True,
                         dropout=0.1, batch_first=True, enable_nested_tensor=True)
    x = np.random.default_rng(10).normal(size=(2, 4, 8))
    padding = np.array([[False, False, True, True], [False, False, False, False]])
    outs = []
    for library, module in ((gg, ours), (torch, theirs)):
        module.eval()
        for name, parameter in module.named_parameters():
            parameter.requires_grad_(name.startswith("norm"))
        out = module(library.tensor(x), src_key_padding_mask=library.tensor(padding))
        out.square().sum().backward()
        outs.append([out.detach().numpy()] + [p.grad.numpy() for p in module.parameters() if p.requires_grad])
    _compare(*outs)
    np.testing.assert_allclose(outs[0][0][0, 2:], np.broadcast_to(ours.norm.bias.numpy(), (2, 8)), atol=1e-12)
    for module in (ours, theirs):
        for name, parameter in module.named_parameters():
            parameter.requires_grad_(name.startswith("layers.1"))
    with pytest.raises(AssertionError, match="NestedTensor"):
        theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(padding))
    ours.norm = None
    out = ours(gg.tensor(x), src_key_padding_mask=gg.tensor(padding))
    out.sum().backward()
    assert np.all(out.detach().numpy()[padding] == 0) and ours.layers[1].linear1.weight.grad is not None


@pytest.mark.parametrize("options", [{}, {"batch_first": True}, {"batch_first": True, "norm_first": True}])
@pytest.mark.parametrize("enable_nested_tensor", [True, False])
def test_encoder_keeps_pytorchs_settings(torch, options, enable_nested_tensor):
    """``enable_nested_tensor`` as given (PyTorch keeps it; glassgrad had no such attribute), ``use_nested_tensor``
    (whether the nested path may run), ``mask_check`` and ``num_layers`` as PyTorch's encoder has them."""
    settings = []
    for library in (torch, gg):
        encoder = library.nn.TransformerEncoder(library.nn.TransformerEncoderLayer(8, 2, 16, **options), 2,
                                                enable_nested_tensor=enable_nested_tensor, mask_check=False)
        settings.append((encoder.enable_nested_tensor, encoder.use_nested_tensor, encoder.mask_check,
                         encoder.num_layers))
    assert settings[1] == settings[0]
