"""The Transformer layers against PyTorch 2.13: a PyTorch model's ``state_dict`` loads as it is and gives its numbers.

Each case builds the PyTorch module in float64, loads its weights into the glassgrad one (the keys
must be the same), runs both in eval mode (dropout off) and compares the output and the gradients
of the inputs and of every parameter after a backward.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

# PyTorch's notes about its own fast paths, and about a bool padding mask next to a float attention mask
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
              pytest.mark.filterwarnings("ignore:Support for mismatched:UserWarning")]

ACTIVATIONS = ["relu", "gelu", "a GELU layer", "F.gelu"]
MASKS = ["none", "causal", "causal bool with is_causal", "padding", "causal and padding", "float"]


def _activation(library, name):
    if name == "F.gelu":
        return library.nn.functional.gelu
    return library.nn.GELU() if name == "a GELU layer" else name


def _load(ours, theirs):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    return ours.eval(), theirs.eval()


def _layer_pair(torch, kind, d_model, nhead, dim_feedforward, activation, **options):
    theirs = getattr(torch.nn, kind)(d_model, nhead, dim_feedforward, activation=_activation(torch, activation),
                                     **options).double()
    ours = getattr(gg.nn, kind)(d_model, nhead, dim_feedforward, activation=_activation(gg, activation), **options,
                                dtype=gg.float64)
    return _load(ours, theirs)


def _masks(kind, rng, batch, length, keys, unbatched):
    """``(attn_mask, key_padding_mask, is_causal)`` as NumPy arrays; the first key is never masked (no empty row)."""
    causal = np.triu(np.full((length, keys), -np.inf), 1)
    padding = rng.random((batch, keys)) < 0.4
    padding[:, 0] = False
    padding = padding[0] if unbatched else padding
    if kind == "causal":
        return causal, None, False
    if kind == "causal bool with is_causal":
        return np.isinf(causal), None, True
    if kind == "padding":
        return None, padding, False
    if kind == "causal and padding":
        return causal, padding, False
    if kind == "float":
        return rng.normal(size=(length, keys)), None, False
    return None, None, False


def _run(library, module, inputs, upstream, **options):
    tensors = [library.tensor(array, requires_grad=True) for array in inputs]
    options = {name: library.tensor(value) if isinstance(value, np.ndarray) else value
               for name, value in options.items()}
    out = module(*tensors, **options)
    (out * library.tensor(upstream)).sum().backward()
    return ([out.detach().numpy()] + [tensor.grad.numpy() for tensor in tensors]
            + [parameter.grad.numpy() for parameter in module.parameters()])


def _compare(ours, theirs):
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-9, atol=1e-11)


def _sequence(rng, batch, length, d_model, batch_first, unbatched):
    shape = (length, d_model) if unbatched else (batch, length, d_model) if batch_first else (length, batch, d_model)
    return rng.normal(size=shape)


SIZES = {"batch": st.integers(1, 3), "length": st.integers(1, 5), "nhead": st.integers(1, 3),
         "head_dim": st.integers(1, 3), "dim_feedforward": st.integers(1, 6), "norm_first": st.booleans(),
         "activation": st.sampled_from(ACTIVATIONS), "batch_first": st.booleans(), "bias": st.booleans(),
         "unbatched": st.booleans(), "mask": st.sampled_from(MASKS), "seed": st.integers(0, 10_000)}


@pytest.mark.torch
@given(**SIZES)
def test_encoder_layer_matches_pytorch(torch, batch, length, nhead, head_dim, dim_feedforward, norm_first, activation,
                                       batch_first, bias, unbatched, mask, seed):
    d_model = nhead * head_dim
    ours, theirs = _layer_pair(torch, "TransformerEncoderLayer", d_model, nhead, dim_feedforward, activation,
                               norm_first=norm_first, batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(seed)
    src = _sequence(rng, batch, length, d_model, batch_first, unbatched)
    src_mask, padding, is_causal = _masks(mask, rng, batch, length, length, unbatched)
    options = {"src_mask": src_mask, "src_key_padding_mask": padding, "is_causal": is_causal}
    upstream = rng.normal(size=src.shape)
    _compare(_run(gg, ours, [src], upstream, **options), _run(torch, theirs, [src], upstream, **options))


@pytest.mark.torch
@given(memory_length=st.integers(1, 5), memory_mask=st.booleans(), **SIZES)
def test_decoder_layer_matches_pytorch(torch, memory_length, memory_mask, batch, length, nhead, head_dim,
                                       dim_feedforward, norm_first, activation, batch_first, bias, unbatched, mask,
                                       seed):
    d_model = nhead * head_dim
    ours, theirs = _layer_pair(torch, "TransformerDecoderLayer", d_model, nhead, dim_feedforward, activation,
                               norm_first=norm_first, batch_first=batch_first, bias=bias)
    rng = np.random.default_rng(seed)
    tgt = _sequence(rng, batch, length, d_model, batch_first, unbatched)
    memory = _sequence(rng, batch, memory_length, d_model, batch_first, unbatched)
    tgt_mask, tgt_padding, tgt_is_causal = _masks(mask, rng, batch, length, length, unbatched)
    cross = rng.random((length, memory_length)) < 0.3
    cross[:, 0] = False
    memory_padding = _masks("padding", rng, batch, length, memory_length, unbatched)[1]
    options = {"tgt_mask": tgt_mask, "tgt_key_padding_mask": tgt_padding, "tgt_is_causal": tgt_is_causal,
               "memory_mask": cross if memory_mask else None,
               "memory_key_padding_mask": memory_padding if memory_mask else None}
    upstream = rng.normal(size=tgt.shape)
    _compare(_run(gg, ours, [tgt, memory], upstream, **options),
             _run(torch, theirs, [tgt, memory], upstream, **options))


def _stacks(library, d_model, nhead, norm, batch_first, norm_first, dtype=None):
    options = {"dim_feedforward": 7, "batch_first": batch_first, "norm_first": norm_first}
    if dtype is not None:
        options["dtype"] = dtype
    final = (lambda: library.nn.LayerNorm(d_model, **({} if dtype is None else {"dtype": dtype}))) if norm else None
    encoder = library.nn.TransformerEncoder(library.nn.TransformerEncoderLayer(d_model, nhead, **options), 2,
                                            final() if final else None, enable_nested_tensor=False)
    decoder = library.nn.TransformerDecoder(library.nn.TransformerDecoderLayer(d_model, nhead, **options), 3,
                                            final() if final else None)
    return encoder, decoder


STACKS = [(norm, batch_first, norm_first) for norm in (True, False) for batch_first in (True, False)
          for norm_first in (True, False)]


@pytest.mark.torch
@pytest.mark.parametrize("norm, batch_first, norm_first", STACKS)
def test_encoder_and_decoder_stacks_match_pytorch(torch, norm, batch_first, norm_first):
    their_encoder, their_decoder = (module.double() for module in _stacks(torch, 6, 2, norm, batch_first, norm_first))
    our_encoder, our_decoder = _stacks(gg, 6, 2, norm, batch_first, norm_first, dtype=gg.float64)
    _load(our_encoder, their_encoder)
    _load(our_decoder, their_decoder)
    rng = np.random.default_rng(0)
    src, tgt = _sequence(rng, 3, 5, 6, batch_first, False), _sequence(rng, 3, 4, 6, batch_first, False)
    src_padding = _masks("padding", rng, 3, 5, 5, False)[1]
    upstream = rng.normal(size=src.shape)
    options = {"mask": np.triu(np.full((5, 5), -np.inf), 1), "src_key_padding_mask": src_padding}
    _compare(_run(gg, our_encoder, [src], upstream, **options), _run(torch, their_encoder, [src], upstream, **options))
    upstream = rng.normal(size=tgt.shape)
    options = {"tgt_mask": np.triu(np.ones((4, 4), dtype=bool), 1), "memory_key_padding_mask": src_padding}
    _compare(_run(gg, our_decoder, [tgt, src], upstream, **options),
             _run(torch, their_decoder, [tgt, src], upstream, **options))


@pytest.mark.torch
@pytest.mark.parametrize("batch_first, norm_first, activation", [(False, False, "relu"), (True, True, "gelu"),
                                                                 (True, False, "F.gelu")])
def test_transformer_matches_pytorch(torch, batch_first, norm_first, activation):
    options = {"d_model": 6, "nhead": 3, "num_encoder_layers": 2, "num_decoder_layers": 2, "dim_feedforward": 5,
               "batch_first": batch_first, "norm_first": norm_first}
    theirs = torch.nn.Transformer(**options, activation=_activation(torch, activation)).double()
    ours = gg.nn.Transformer(**options, activation=_activation(gg, activation), dtype=gg.float64)
    _load(ours, theirs)
    rng = np.random.default_rng(1)
    src, tgt = _sequence(rng, 2, 5, 6, batch_first, False), _sequence(rng, 2, 3, 6, batch_first, False)
    masks = {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64).numpy(),
             "src_key_padding_mask": _masks("padding", rng, 2, 5, 5, False)[1],
             "tgt_key_padding_mask": _masks("padding", rng, 2, 3, 3, False)[1]}
    masks["memory_key_padding_mask"] = masks["src_key_padding_mask"]
    upstream = rng.normal(size=tgt.shape)
    _compare(_run(gg, ours, [src, tgt], upstream, **masks), _run(torch, theirs, [src, tgt], upstream, **masks))


@pytest.mark.torch
def test_a_decoder_stack_runs_the_activation_layer_it_was_given(torch):
    """glassgrad's clones of a decoder layer built with ``nn.GELU()`` run GELU: PyTorch's built with ``F.gelu``.

    (PyTorch 2.13's ``TransformerDecoderLayer.__setstate__`` puts ``F.relu`` in front of an activation
    *layer* when ``TransformerDecoder`` deep-copies it, so its clones run ReLU: a difference the README lists.)
    """
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(6, 3, 5, activation=torch.nn.functional.gelu),
                                         2).double()
    ours = gg.nn.TransformerDecoder(gg.nn.TransformerDecoderLayer(6, 3, 5, activation=gg.nn.GELU(), dtype=gg.float64),
                                    2)
    _load(ours, theirs)
    rng = np.random.default_rng(4)
    tgt, memory = rng.normal(size=(3, 2, 6)), rng.normal(size=(5, 2, 6))
    upstream = rng.normal(size=tgt.shape)
    _compare(_run(gg, ours, [tgt, memory], upstream), _run(torch, theirs, [tgt, memory], upstream))


@pytest.mark.torch
def test_state_dict_keys_and_shapes_are_pytorchs(torch):
    def keys(module):
        return [(name, tuple(value.shape)) for name, value in module.state_dict().items()]

    for library_options in ({}, {"bias": False}):
        for kind in ("TransformerEncoderLayer", "TransformerDecoderLayer"):
            assert keys(getattr(gg.nn, kind)(8, 2, 16, **library_options)) == \
                keys(getattr(torch.nn, kind)(8, 2, 16, **library_options))
        assert keys(gg.nn.Transformer(8, 2, 2, 1, 16, **library_options)) == \
            keys(torch.nn.Transformer(8, 2, 2, 1, 16, **library_options))
    ours, theirs = _stacks(gg, 4, 2, True, True, False), _stacks(torch, 4, 2, True, True, False)
    assert [keys(module) for module in ours] == [keys(module) for module in theirs]
    names = [name for name, _ in gg.nn.TransformerDecoderLayer(8, 2).named_modules()]
    assert names == [name for name, _ in torch.nn.TransformerDecoderLayer(8, 2).named_modules()]


@pytest.mark.torch
def test_the_square_subsequent_mask_is_pytorchs(torch):
    for size in (1, 2, 5):
        np.testing.assert_array_equal(gg.nn.Transformer.generate_square_subsequent_mask(size).numpy(),
                                      torch.nn.Transformer.generate_square_subsequent_mask(size).numpy())
    assert gg.nn.Transformer.generate_square_subsequent_mask(3, dtype=gg.float64).dtype == gg.float64


def test_transformer_weights_start_xavier_uniform_and_the_stacks_start_equal():
    model = gg.nn.Transformer(16, 4, 2, 2, 32, seed=0)
    for name, parameter in model.named_parameters():
        if parameter.ndim > 1:
            fan_out, fan_in = parameter.shape
            assert np.abs(parameter.numpy()).max() <= math.sqrt(6 / (fan_in + fan_out)), name
    layer = gg.nn.TransformerEncoderLayer(16, 4, seed=1)
    encoder = gg.nn.TransformerEncoder(layer, 3)
    first, *others = encoder.layers
    for other in others:  # copies of the layer given, as PyTorch's clones are
        for a, b in zip(first.parameters(), other.parameters()):
            assert a is not b and np.array_equal(a.numpy(), b.numpy())
    again = gg.nn.Transformer(16, 4, 2, 2, 32, seed=0)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(model.parameters(), again.parameters()))


def test_dropout_acts_in_training_and_not_in_eval():
    layer = gg.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, seed=0)
    x = gg.randn(4, 2, 8, seed=1)
    evaluated = layer.eval()(x).numpy()
    np.testing.assert_array_equal(layer(x).numpy(), evaluated)
    gg.manual_seed(0)
    assert not np.allclose(layer.train()(x).numpy(), evaluated)


def test_a_trace_shows_the_attention_inside_the_layer():
    layer = gg.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True, seed=0)
    with gg.trace() as tape:
        tape.watch(layer)
        layer(gg.randn(1, 3, 4, seed=1)).sum().backward()
    steps = tape.describe()["forward"]
    modules = [step["formula"].split(" = ")[1].split("(")[0] for step in steps if step["kind"] == "module"]
    assert modules == ["MultiheadAttention", "TransformerEncoderLayer"]
    norms = [step["formula"].split(" = ")[0] for step in steps if "= LayerNorm(" in step["formula"]]
    assert norms == ["N₁", "N₂"]  # each LayerNorm one fused step, lettered as a normalization
    assert [step["kind"] for step in steps].count("linear") == 3  # out_proj, linear1, linear2
    attention = steps[0]["ops"]
    assert "A = softmax(S)" in attention and any(formula.endswith("= X·W_Qᵀ + b_Q") for formula in attention)
    own = next(step for step in steps if "TransformerEncoderLayer" in step["formula"])["ops"]
    assert any("ReLU" in formula for formula in own)  # the feed-forward block's activation, between the two linears


@pytest.mark.parametrize("call, message", [
    (lambda: gg.nn.TransformerEncoderLayer(8, 2)(gg.zeros(3, 2, 6)),
     "src must have shape .* d_model = 8, got \\(3, 2, 6\\)"),
    (lambda: gg.nn.TransformerDecoderLayer(8, 2)(gg.zeros(3, 2, 8), gg.zeros(3, 2, 5)),
     "memory must have shape .* d_model = 8, got \\(3, 2, 5\\)"),
    (lambda: gg.nn.TransformerEncoderLayer(8, 3), "embed_dim \\(8\\) must be divisible by num_heads \\(3\\)"),
    (lambda: gg.nn.TransformerEncoderLayer(8, 2, activation="tanh"), "activation should be 'relu' or 'gelu'"),
    (lambda: gg.nn.TransformerEncoderLayer(8, 2, activation=3), "activation must be 'relu', 'gelu' or a callable"),
    (lambda: gg.nn.TransformerEncoderLayer(8, 2, dropout=2.0), "dropout probability has to be between 0 and 1"),
    (lambda: gg.nn.TransformerEncoderLayer(8, 2)(gg.zeros(3, 2, 8), is_causal=True), "is_causal=True is a hint"),
    (lambda: gg.nn.TransformerEncoder(gg.nn.TransformerEncoderLayer(8, 2), 0), "num_layers must be a positive"),
    (lambda: gg.nn.TransformerEncoder(gg.nn.TransformerEncoderLayer(8, 2), 1, norm=8), "norm must be a layer"),
    (lambda: gg.nn.Transformer(8, 2, 1, 1, 16)(gg.zeros(3, 2, 8), gg.zeros(4, 3, 8)),
     "the batch number of src \\(3, 2, 8\\) and tgt \\(4, 3, 8\\) must be equal"),
    (lambda: gg.nn.Transformer(8, 2, 1, 1, 16)(gg.zeros(3, 2, 8), gg.zeros(4, 2, 6)),
     "must be equal to d_model = 8"),
    (lambda: gg.nn.Transformer.generate_square_subsequent_mask(-1), "sizes must be non-negative"),
    (lambda: gg.nn.Transformer.generate_square_subsequent_mask(3, device="cuda"), "cuda"),
    (lambda: gg.nn.TransformerEncoderLayer(8, 2)(gg.zeros(3, 2, 8), src_mask=gg.zeros(2, 2)),
     "attn_mask must have shape \\(3, 3\\)"),
])
def test_bad_arguments_are_one_line_errors(call, message):
    with pytest.raises((AssertionError, ValueError, TypeError, RuntimeError), match=message) as caught:
        call()
    assert "\n" not in str(caught.value)


@pytest.mark.torch
def test_a_float32_pytorch_transformer_loads_and_gives_its_numbers(torch):
    theirs = torch.nn.Transformer(8, 2, 2, 2, 16, batch_first=True).eval()
    ours = gg.nn.Transformer(8, 2, 2, 2, 16, batch_first=True).eval()
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    rng = np.random.default_rng(5)
    src, tgt = rng.normal(size=(2, 6, 8)).astype(np.float32), rng.normal(size=(2, 4, 8)).astype(np.float32)
    mask = theirs.generate_square_subsequent_mask(4)
    expected = theirs(torch.tensor(src), torch.tensor(tgt), tgt_mask=mask).detach().numpy()
    output = ours(gg.tensor(src), gg.tensor(tgt), tgt_mask=gg.tensor(mask.numpy()))
    assert output.dtype == gg.float32
    np.testing.assert_allclose(output.numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.torch
@pytest.mark.parametrize("case", ["no_grad", "grad on, nothing requires it", "with norm", "training",
                                  "grad needed", "mask too", "padding not at the end", "mask_check off"])
def test_an_encoder_in_evaluation_gives_pytorchs_zeros_at_padded_positions(torch, case):
    """PyTorch's encoder runs on nested tensors in evaluation with a padding mask alone (nothing requiring grad),
    and its padded positions come out 0 (before the final norm); glassgrad gave the masked layers' numbers there.
    Elsewhere, and where PyTorch takes the plain path, both give the same numbers everywhere."""
    rng = np.random.default_rng(0)
    values = rng.normal(size=(2, 5, 8))
    padding = np.array([[False, False, False, True, True], [False, False, False, False, True]])
    if case == "padding not at the end":
        padding = np.array([[True, False, False, False, True], [False, False, False, False, True]])
    found = []
    for lib in (gg, torch):
        layer_options = {"batch_first": True, "dropout": 0.0}
        kind = lib.nn.TransformerEncoderLayer(8, 2, 16, **layer_options, **({"dtype": gg.float64} if lib is gg else {}))
        norm = lib.nn.LayerNorm(8, **({"dtype": gg.float64} if lib is gg else {})) if case == "with norm" else None
        encoder = lib.nn.TransformerEncoder(kind, 2, norm=norm, mask_check=case != "mask_check off")
        found.append(encoder if lib is gg else encoder.double())
    ours, theirs = found
    ours.load_state_dict({name: value.numpy() for name, value in theirs.state_dict().items()})
    outputs = []
    for lib, encoder in ((gg, ours), (torch, theirs)):
        encoder.train(case == "training")
        if case == "grad on, nothing requires it":
            encoder.requires_grad_(False)
        x = lib.tensor(values, dtype=lib.float64, requires_grad=case == "grad needed")
        keys = lib.tensor(padding)
        mask = lib.zeros(5, 5, dtype=lib.float64) if case == "mask too" else None
        if case in ("no_grad", "with norm", "training", "mask too", "padding not at the end", "mask_check off"):
            with lib.no_grad():
                out = encoder(x, mask=mask, src_key_padding_mask=keys)
        else:
            out = encoder(x, mask=mask, src_key_padding_mask=keys)
        outputs.append(out.detach().numpy())
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-10, atol=1e-12)
