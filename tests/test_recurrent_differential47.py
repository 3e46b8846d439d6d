"""gg.nn's recurrent layers against PyTorch 2.13 (round 47): RNN (tanh/relu), LSTM (with proj_size) and GRU of
1-3 layers, bidirectional, batch_first, bias=False, unbatched, packed (sorted or not), h0 given or omitted; the
cells batched and unbatched; state_dict copied from PyTorch; values and every gradient in float64 and float32,
shapes, dtypes, and the exception classes of misuse. PyTorch's oracle comes from the ``torch`` fixture."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _same_class(torch, call):
    """``call(lib)`` raises the same class on PyTorch and on glassgrad (and raises at all); gives it."""
    classes = []
    for lib in (torch, gg):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the class is what is compared
            call(lib)
        classes.append(caught.type)
    assert classes[1] is classes[0], classes
    return classes[1]


def _ours(tensor):
    return gg.tensor(tensor.detach().numpy().copy())


def _close(theirs, ours, dtype):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape and ours.array.dtype == theirs.dtype
    tolerance = 1e-12 if theirs.dtype == np.float64 else 3e-6
    np.testing.assert_allclose(ours.array, theirs, rtol=tolerance, atol=tolerance)


def _pair(torch, kind, input_size, hidden_size, dtype="float64", **options):
    """The same layer on both sides: PyTorch's drawn, glassgrad's loaded from its state_dict (strict)."""
    theirs = getattr(torch.nn, kind)(input_size, hidden_size, dtype=getattr(torch, dtype), **options).eval()
    ours = getattr(gg.nn, kind)(input_size, hidden_size, dtype=getattr(gg, dtype), **options).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({name: _ours(value) for name, value in theirs.state_dict().items()})
    return theirs, ours


# ---- defects fixed in round 47: each of these failed on c83e0d9 -----------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.RNN(2, 3)(lib.zeros(0, 1, 2)),
    lambda lib: lib.nn.LSTM(2, 3)(lib.zeros(0, 2)),
    lambda lib: lib.nn.GRU(2, 3, batch_first=True)(lib.zeros(2, 0, 2)),
], ids=["rnn", "lstm-unbatched", "gru-batch-first"])
def test_a_sequence_of_length_0_is_pytorchs_runtime_error(torch, call):
    assert _same_class(torch, call) is RuntimeError


def test_packed_data_that_is_not_2d_is_pytorchs_runtime_error(torch):
    def call(lib):
        packed = lib.nn.utils.rnn.pack_sequence([lib.ones(3, 1, 2), lib.ones(1, 1, 2)])
        return lib.nn.GRU(2, 2)(packed)
    assert _same_class(torch, call) is RuntimeError


@pytest.mark.parametrize("proj_size", [1.5, 1.0, True])
def test_proj_size_that_is_no_int_is_refused_as_pytorch_refuses_it(torch, proj_size):
    """proj_size=1.5 was cut to a projection of 1 without a word."""
    assert _same_class(torch, lambda lib: lib.nn.LSTM(2, 3, proj_size=proj_size)) is TypeError


@pytest.mark.parametrize("dropout", [True, "0.1", [0.1], None])
def test_dropout_that_is_no_number_is_refused_with_pytorchs_class(torch, dropout):
    """PyTorch reads float(dropout) first (None, a list: TypeError), then refuses what is no number with
    ValueError (True, "0.1"); glassgrad raised TypeError for all."""
    call = lambda lib: lib.nn.GRU(2, 3, num_layers=2, dropout=dropout)  # noqa: E731
    assert _same_class(torch, call) is (TypeError if dropout is None or isinstance(dropout, list) else ValueError)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_a_cell_of_input_size_0_steps_from_its_biases_as_pytorchs(torch, kind):
    theirs, ours = _pair(torch, kind, 0, 3)
    results = theirs(torch.zeros(4, 0, dtype=torch.float64)), ours(gg.zeros(4, 0, dtype=gg.float64))
    for their, our in zip(*(result if kind == "LSTMCell" else (result,) for result in results)):
        _close(their, our, "float64")


def test_total_length_may_be_a_0d_integer_tensor_as_in_pytorch(torch):
    """``pad_packed_sequence(out, total_length=lengths.max())`` raised TypeError."""
    results = []
    for lib in (torch, gg):
        packed = lib.nn.utils.rnn.pack_sequence([lib.arange(3.0), lib.arange(1.0)])
        results.append(lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0,
                                                            total_length=lib.tensor(5))[0])
    _close(*results, "float32")
    assert results[1].shape == (2, 5)
    for lib in (torch, gg):  # a float tensor stays refused, as PyTorch refuses it
        packed = lib.nn.utils.rnn.pack_sequence([lib.arange(3.0)])
        with pytest.raises(TypeError):
            lib.nn.utils.rnn.pad_packed_sequence(packed, total_length=lib.tensor(5.0))


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.LSTMCell(2, 3)(lib.zeros(1, 2), (lib.zeros(1, 3),)),
    lambda lib: lib.nn.LSTMCell(2, 3)(lib.zeros(1, 2), (lib.zeros(1, 3),) * 3),
    lambda lib: lib.nn.LSTM(2, 3)(lib.zeros(1, 1, 2), (lib.zeros(1, 1, 3),) * 3),
], ids=["cell-1", "cell-3", "layer-3"])
def test_lstm_states_in_a_tuple_of_the_wrong_length_are_pytorchs_runtime_error(torch, call):
    """PyTorch: 'lstm_cell expects two hidden states' (RuntimeError); glassgrad raised TypeError."""
    assert _same_class(torch, call) is RuntimeError


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_permute_hidden_reorders_the_batch_of_the_states_as_pytorchs(torch, kind):
    """RNNBase.permute_hidden (what a layer copied from PyTorch's forward calls) raised AttributeError."""
    theirs, ours = _pair(torch, kind, 2, 3)
    states = [torch.randn(1, 4, 3, dtype=torch.float64) for _ in range(2 if kind == "LSTM" else 1)]
    order = [2, 0, 3, 1]
    their_hx = tuple(states) if kind == "LSTM" else states[0]
    our_hx = tuple(map(_ours, states)) if kind == "LSTM" else _ours(states[0])
    their = theirs.permute_hidden(their_hx, torch.tensor(order))
    our = ours.permute_hidden(our_hx, gg.tensor(order))
    for t, o in zip(*((their, our) if kind == "LSTM" else ((their,), (our,)))):
        _close(t, o, "float64")
    assert ours.permute_hidden(our_hx, None) is our_hx


# ---- the fuzzer's core: drawn layers, inputs and states against PyTorch --------------------------------------------

@st.composite
def _cases(draw):
    kind = draw(st.sampled_from(["RNN", "RNN-relu", "LSTM", "GRU"]))
    hidden = draw(st.integers(1, 4))
    options = dict(num_layers=draw(st.integers(1, 3)), bias=draw(st.booleans()), batch_first=draw(st.booleans()),
                   bidirectional=draw(st.booleans()))
    if options["num_layers"] > 1 and draw(st.booleans()):
        options["dropout"] = 0.25  # eval mode: no effect on the numbers
    if kind == "RNN-relu":
        kind, options["nonlinearity"] = "RNN", "relu"
    if kind == "LSTM" and hidden > 1 and draw(st.booleans()):
        options["proj_size"] = draw(st.integers(1, hidden - 1))
    layout = draw(st.sampled_from(["batched", "unbatched", "packed"]))
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(1, steps), min_size=batch, max_size=batch))
    return (kind, draw(st.integers(1, 3)), hidden, draw(st.sampled_from(["float64", "float32"])), options, layout,
            batch, steps, lengths, draw(st.booleans()), draw(st.booleans()), draw(st.integers(0, 2 ** 31)))


@given(_cases())
def test_drawn_recurrent_layers_give_pytorchs_outputs_states_and_gradients(torch, case):
    kind, features, hidden, dtype, options, layout, batch, steps, lengths, sort, give_state, seed = case
    torch.manual_seed(seed)
    theirs, ours = _pair(torch, kind, features, hidden, dtype, **options)
    directions_layers = (2 if options["bidirectional"] else 1) * options["num_layers"]
    width = options.get("proj_size", 0) or hidden
    shape = {"batched": (batch, steps, features) if options["batch_first"] else (steps, batch, features),
             "unbatched": (steps, features), "packed": (steps, batch, features)}[layout]
    lead = (directions_layers,) if layout == "unbatched" else (directions_layers, batch)
    x = torch.randn(*shape, dtype=getattr(torch, dtype), requires_grad=True)
    our_x = _ours(x).requires_grad_()
    their_state = our_state = None
    if give_state:
        parts = [torch.randn(*lead, width, dtype=x.dtype, requires_grad=True)]
        parts += [torch.randn(*lead, hidden, dtype=x.dtype, requires_grad=True)] if kind == "LSTM" else []
        our_parts = [_ours(part).requires_grad_() for part in parts]
        their_state, our_state = (tuple(parts), tuple(our_parts)) if kind == "LSTM" else (parts[0], our_parts[0])
    their_input, our_input = x, our_x
    if layout == "packed":
        lengths = sorted(lengths, reverse=True) if sort else lengths
        their_input = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=sort)
        our_input = gg.nn.utils.rnn.pack_padded_sequence(our_x, lengths, enforce_sorted=sort)
    their_out, their_final = theirs(their_input, their_state)
    our_out, our_final = ours(our_input, our_state)
    if layout == "packed":
        for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            their_field, our_field = getattr(their_out, name), getattr(our_out, name)
            assert (our_field is None) == (their_field is None)
            assert their_field is None or our_field.tolist() == their_field.tolist()
        their_out = torch.nn.utils.rnn.pad_packed_sequence(their_out, padding_value=-2.0, total_length=steps + 1)[0]
        our_out = gg.nn.utils.rnn.pad_packed_sequence(our_out, padding_value=-2.0, total_length=steps + 1)[0]
    their_finals = their_final if kind == "LSTM" else (their_final,)
    our_finals = our_final if kind == "LSTM" else (our_final,)
    their_loss = our_loss = 0
    for their, our in zip((their_out, *their_finals), (our_out, *our_finals)):
        _close(their, our, dtype)
        weights = torch.randn(*their.shape, dtype=their.dtype)
        their_loss, our_loss = their_loss + (their * weights).sum(), our_loss + (our * _ours(weights)).sum()
    their_loss.backward()
    our_loss.backward()
    _close(x.grad, our_x.grad, dtype)
    if give_state:
        for their, our in zip(parts, our_parts):
            _close(their.grad, our.grad, dtype)
    our_parameters = dict(ours.named_parameters())
    for name, parameter in theirs.named_parameters():
        _close(parameter.grad, our_parameters[name].grad, dtype)


# ---- pins: what already behaved ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, options", [
    ("RNN", dict(num_layers=2, nonlinearity="relu", bias=False, batch_first=True, dropout=0.2, bidirectional=True)),
    ("LSTM", dict(num_layers=3, bidirectional=True, proj_size=2)),
    ("GRU", dict(bias=False)),
])
def test_parameter_names_shapes_repr_and_flat_weights_are_pytorchs(torch, kind, options):
    theirs, ours = _pair(torch, kind, 3, 4, **options)
    assert [(name, tuple(p.shape)) for name, p in ours.named_parameters()] == \
        [(name, tuple(p.shape)) for name, p in theirs.named_parameters()]
    assert ours.extra_repr() == theirs.extra_repr()
    assert repr(ours).split("  #")[0] == repr(theirs)  # glassgrad adds the parameter count as a comment
    assert ours._flat_weights_names == theirs._flat_weights_names
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in theirs.all_weights]
    assert ours.flatten_parameters() is None


def test_reset_parameters_draws_every_parameter_uniform_within_one_over_sqrt_hidden():
    """U(−1/√H, 1/√H) with H = 16 on 3,776 numbers: all lie inside the bound; each of the four quarters of the
    interval holds some (a quarter empty by chance: 4·(3/4)^3776 < 1e-300); the mean within 0.05 of 0 (its
    standard deviation is 0.25/√3/√3776 ≈ 0.0023, so ~21σ: chance < 1e-60)."""
    layer = gg.nn.LSTM(3, 16, num_layers=2, bidirectional=True, proj_size=5, dtype=gg.float64)
    layer.reset_parameters()
    values = np.concatenate([p.array.ravel() for p in layer.parameters()])
    bound = 1 / math.sqrt(16)
    assert np.all(np.abs(values) <= bound) and values.size == 3776
    assert np.all(np.histogram(values, bins=4, range=(-bound, bound))[0] > 0)
    assert abs(values.mean()) < 0.05


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("give_state", [True, False])
def test_cells_batched_or_not_with_or_without_hx_give_pytorchs_numbers(torch, kind, batched, give_state):
    theirs, ours = _pair(torch, kind, 3, 4, bias=not give_state)
    x = torch.randn(*((2, 3) if batched else (3,)), dtype=torch.float64, requires_grad=True)
    our_x = _ours(x).requires_grad_()
    state_shape = (2, 4) if batched else (4,)
    states = [torch.randn(*state_shape, dtype=torch.float64) for _ in range(2 if kind == "LSTMCell" else 1)]
    their_hx = (tuple(states) if kind == "LSTMCell" else states[0]) if give_state else None
    our_hx = (tuple(map(_ours, states)) if kind == "LSTMCell" else _ours(states[0])) if give_state else None
    their, our = theirs(x, their_hx), ours(our_x, our_hx)
    their, our = (their, our) if kind == "LSTMCell" else ((their,), (our,))
    for t, o in zip(their, our):
        _close(t, o, "float64")
    sum(t.sum() for t in their).backward()
    sum(o.sum() for o in our).backward()
    _close(x.grad, our_x.grad, "float64")
    for name, parameter in theirs.named_parameters():
        _close(parameter.grad, dict(ours.named_parameters())[name].grad, "float64")


def test_training_mode_dropout_between_layers_keeps_pytorchs_shapes_and_dtypes(torch):
    shapes = []
    for lib in (torch, gg):
        layer = lib.nn.LSTM(2, 4, num_layers=3, dropout=0.5, bidirectional=True, proj_size=3,
                            dtype=lib.float64).train()
        output, (h, c) = layer(lib.randn(5, 2, 2, dtype=lib.float64))
        shapes.append([(tuple(t.shape), str(t.dtype).split(".")[-1]) for t in (output, h, c)])
    assert shapes[0] == shapes[1] == [((5, 2, 6), "float64"), ((6, 2, 3), "float64"), ((6, 2, 4), "float64")]


def test_dropout_with_one_layer_warns_as_pytorch_does(torch):
    for lib in (torch, gg):
        with pytest.warns(UserWarning):
            lib.nn.GRU(2, 3, dropout=0.5)


def test_packing_round_trips_in_the_callers_order_as_pytorchs(torch):
    results = []
    for lib in (torch, gg):
        rnn = lib.nn.utils.rnn
        sequences = [lib.arange(2.0 * k, 2.0 * k + 2 * n).reshape(n, 2) for k, n in enumerate([2, 4, 1, 4])]
        packed = rnn.pack_sequence(sequences, enforce_sorted=False)
        padded, lengths = rnn.pad_packed_sequence(packed, batch_first=True, padding_value=9.0, total_length=6)
        results.append((packed.data.tolist(), packed.batch_sizes.tolist(), packed.sorted_indices.tolist(),
                        packed.unsorted_indices.tolist(), padded.tolist(), lengths.tolist(),
                        [s.tolist() for s in rnn.unpack_sequence(packed)],
                        [s.tolist() for s in rnn.unpad_sequence(padded, lengths, batch_first=True)],
                        rnn.pad_sequence(sequences, padding_value=-1.0, padding_side="left").tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.RNN(2, 3)(lib.zeros(4, 2, 5)),
    lambda lib: lib.nn.RNN(2, 3)(lib.zeros(4, 2, 1, 2)),
    lambda lib: lib.nn.RNN(2, 3)(lib.zeros(4, 2, 2), lib.zeros(1, 3, 3)),
    lambda lib: lib.nn.RNN(2, 3)(lib.zeros(4, 2), lib.zeros(1, 1, 3)),
    lambda lib: lib.nn.LSTM(2, 3, proj_size=2)(lib.zeros(4, 2, 2), (lib.zeros(1, 2, 3), lib.zeros(1, 2, 3))),
    lambda lib: lib.nn.LSTM(2, 3, proj_size=3),
    lambda lib: lib.nn.LSTM(2, 3, proj_size=-1),
    lambda lib: lib.nn.RNN(2, 3.5),
    lambda lib: lib.nn.RNN(2, 0),
    lambda lib: lib.nn.RNN(2, 3, nonlinearity="sigmoid"),
    lambda lib: lib.nn.GRU(2, 3, proj_size=1),
    lambda lib: lib.nn.GRU(2, 3, num_layers=2, dropout=1.5),
    lambda lib: lib.nn.RNN(2, 3)(lib.zeros(4, 2, 2, dtype=lib.float64)),
    lambda lib: lib.nn.GRUCell(2, 3)(lib.zeros(4, 2), lib.zeros(3, 3)),
    lambda lib: lib.nn.GRUCell(2, 3)(lib.zeros(4, 5)),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(4, 3, 2), [2, 4, 1]),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 0, 2], enforce_sorted=False),
    lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.zeros(4, 3, 2), [4, 1]),
    lambda lib: lib.nn.GRU(2, 2)(lib.nn.utils.rnn.pack_sequence([lib.ones(3, 2), lib.ones(1, 2)]), lib.zeros(1, 2)),
], ids=["input-size", "4-d", "h0-shape", "h0-batched-for-unbatched", "proj-h0", "proj-eq-hidden", "proj-negative",
        "hidden-float", "hidden-0", "nonlinearity", "gru-proj", "dropout-1.5", "dtype", "cell-hx", "cell-input",
        "unsorted-enforced", "length-0", "lengths-count", "packed-h0"])
def test_misuse_raises_pytorchs_class(torch, call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_class(torch, call)


def test_lstm_given_one_tensor_or_one_state_for_hx_names_the_tuple_it_needs(torch):
    """PyTorch's LSTM fails inside its forward with IndexError (index 1 is out of bounds; tuple index out of range);
    glassgrad refuses with TypeError (a tensor) or RuntimeError (a tuple of one, PyTorch's cells' class) naming
    (h_0, c_0) and their shapes: noted, not copied."""
    for hx in (torch.zeros(1, 2, 3), (torch.zeros(1, 2, 3),)):
        with pytest.raises(IndexError):
            torch.nn.LSTM(2, 3)(torch.zeros(4, 2, 2), hx)
    with pytest.raises(TypeError, match=r"tuple \(h_0, c_0\)"):
        gg.nn.LSTM(2, 3)(gg.zeros(4, 2, 2), gg.zeros(1, 2, 3))
    with pytest.raises(RuntimeError, match=r"tuple \(h_0, c_0\).*got a tuple of 1"):
        gg.nn.LSTM(2, 3)(gg.zeros(4, 2, 2), (gg.zeros(1, 2, 3),))
