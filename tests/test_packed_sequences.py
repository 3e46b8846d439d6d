"""Packed sequences (``nn.utils.rnn.pack_padded_sequence`` & co.) and RNN/LSTM/GRU on them, against PyTorch.

Everything in float64: the packed ``data``, ``batch_sizes`` and indices, the padded batch back, the
layers' outputs, ``h_n``/``c_n`` and the gradients of every parameter, of the padded input and of ``h_0``.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from one_line_errors import assert_raises_as_pytorch

import glassgrad as gg
from glassgrad.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    unpack_sequence,
)

RTOL = 1e-10


def padded_batch(rng, lengths, tail, batch_first):
    """A padded batch (T, N, *tail) ((N, T, *tail) with batch_first) of random numbers, T the longest length."""
    array = rng.standard_normal((max(lengths), len(lengths), *tail))
    return array.transpose(1, 0, *range(2, array.ndim)) if batch_first else array


def indices(tensor):
    return None if tensor is None else tensor.tolist()


@pytest.mark.torch
@given(lengths=st.lists(st.integers(1, 5), min_size=1, max_size=5), tail=st.lists(st.integers(1, 3), max_size=2),
       batch_first=st.booleans(), enforce_sorted=st.booleans(), as_tensor=st.booleans(),
       padding_value=st.sampled_from([0.0, -2.5]), extra=st.integers(0, 2), seed=st.integers(0, 2**16))
def test_packing_and_padding_back_match_pytorch(torch, lengths, tail, batch_first, enforce_sorted, as_tensor,
                                                padding_value, extra, seed):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    array = padded_batch(rng, lengths, tail, batch_first)
    total_length = max(lengths) + extra
    results = []
    for lib in (gg, torch):
        padded = lib.tensor(array, requires_grad=True)
        packed = lib.nn.utils.rnn.pack_padded_sequence(padded, lib.tensor(lengths) if as_tensor else lengths,
                                                       batch_first=batch_first, enforce_sorted=enforce_sorted)
        back, back_lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first,
                                                                  padding_value=padding_value,
                                                                  total_length=total_length)
        weights = lib.tensor(np.cos(np.arange(back.numel())).reshape(tuple(back.shape)))
        (back * weights).sum().backward()
        results.append((packed.data.detach().numpy(), packed.batch_sizes.tolist(), str(packed.batch_sizes.dtype),
                        indices(packed.sorted_indices), indices(packed.unsorted_indices),
                        back.detach().numpy(), back_lengths.tolist(), padded.grad.numpy()))
    mine, theirs = results
    np.testing.assert_array_equal(mine[0], theirs[0])
    assert mine[1:3] == (theirs[1], "int64") and theirs[2] == "torch.int64"
    assert mine[3:5] == theirs[3:5]
    np.testing.assert_array_equal(mine[5], theirs[5])
    assert mine[6] == theirs[6] == [int(length) for length in lengths]
    np.testing.assert_array_equal(mine[7], theirs[7])


@pytest.mark.torch
@given(lengths=st.lists(st.integers(1, 4), min_size=1, max_size=4), enforce_sorted=st.booleans(),
       seed=st.integers(0, 2**16))
def test_pack_sequence_and_unpack_sequence_match_pytorch(torch, lengths, enforce_sorted, seed):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((length, 2)) for length in lengths]
    results = []
    for lib in (gg, torch):
        sequences = [lib.tensor(array, requires_grad=True) for array in arrays]
        packed = lib.nn.utils.rnn.pack_sequence(sequences, enforce_sorted=enforce_sorted)
        back = lib.nn.utils.rnn.unpack_sequence(packed)
        sum((piece * (number + 1)).sum() for number, piece in enumerate(back)).backward()
        results.append((packed.data.detach().numpy(), packed.batch_sizes.tolist(), indices(packed.sorted_indices),
                        [piece.detach().numpy() for piece in back], [s.grad.numpy() for s in sequences]))
    mine, theirs = results
    np.testing.assert_array_equal(mine[0], theirs[0])
    assert mine[1:3] == theirs[1:3]
    for ours, pytorchs, original in zip(mine[3], theirs[3], arrays):
        np.testing.assert_array_equal(ours, pytorchs)
        np.testing.assert_array_equal(ours, original)
    for ours, pytorchs in zip(mine[4], theirs[4]):
        np.testing.assert_array_equal(ours, pytorchs)


def layers(torch, mode, input_size, hidden_size, num_layers, bidirectional, batch_first, dropout=0.0):
    """The same layer in PyTorch (float64, its own init) and glassgrad (PyTorch's weights copied)."""
    options = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first, dropout=dropout)
    theirs = getattr(torch.nn, mode)(input_size, hidden_size, dtype=torch.float64, **options)
    mine = getattr(gg.nn, mode)(input_size, hidden_size, dtype=gg.float64, **options)
    mine.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in theirs.state_dict().items()})
    return mine, theirs


def run_packed(lib, layer, array, lengths, batch_first, enforce_sorted, first):
    """Pack, run the layer, pad back; backward from a weighted sum of the padded output and of the last states."""
    padded = lib.tensor(array, requires_grad=True)
    starts = [lib.tensor(state, requires_grad=True) for state in first]
    packed = lib.nn.utils.rnn.pack_padded_sequence(padded, lengths, batch_first=batch_first,
                                                   enforce_sorted=enforce_sorted)
    hx = None if not starts else tuple(starts) if len(starts) == 2 else starts[0]
    output, states = layer(packed, hx)
    states = states if isinstance(states, tuple) else (states,)
    assert type(output).__name__ == "PackedSequence"
    back, _ = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=batch_first)
    weights = lib.tensor(np.sin(np.arange(back.numel()) + 0.5).reshape(tuple(back.shape)))
    loss = (back * weights).sum() + sum((state * state).sum() * (number + 1) for number, state in enumerate(states))
    loss.backward()
    return ([output.data.detach().numpy(), output.batch_sizes.tolist(), back.detach().numpy()]
            + [state.detach().numpy() for state in states] + [padded.grad.numpy()]
            + [start.grad.numpy() for start in starts]
            + [parameter.grad.numpy() for parameter in layer.parameters()])


@pytest.mark.torch
@settings(max_examples=40, deadline=None)
@given(mode=st.sampled_from(["RNN", "LSTM", "GRU"]), lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4),
       input_size=st.integers(1, 3), hidden_size=st.integers(1, 4), num_layers=st.integers(1, 2),
       bidirectional=st.booleans(), batch_first=st.booleans(), enforce_sorted=st.booleans(),
       with_first=st.booleans(), seed=st.integers(0, 2**16))
def test_recurrent_layers_on_packed_sequences_match_pytorch(torch, mode, lengths, input_size, hidden_size,
                                                            num_layers, bidirectional, batch_first, enforce_sorted,
                                                            with_first, seed):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    rng = np.random.default_rng(seed)
    array = padded_batch(rng, lengths, [input_size], batch_first)
    shape = ((2 if bidirectional else 1) * num_layers, len(lengths), hidden_size)
    first = [rng.standard_normal(shape) for _ in range((2 if mode == "LSTM" else 1) if with_first else 0)]
    mine, theirs = (run_packed(lib, layer, array, lengths, batch_first, enforce_sorted, first)
                    for lib, layer in zip((gg, torch), layers(torch, mode, input_size, hidden_size, num_layers,
                                                              bidirectional, batch_first)))
    assert len(mine) == len(theirs)
    assert mine[1] == theirs[1]
    for position, (ours, pytorchs) in enumerate(zip(mine, theirs)):
        if position != 1:
            np.testing.assert_allclose(ours, pytorchs, rtol=RTOL, atol=1e-13, err_msg=f"result {position}")


@pytest.mark.torch
def test_each_sequence_ends_at_its_own_last_step(torch):
    """h_n of a packed batch is each sequence's state at its own end: the same as running it alone."""
    mine, _ = layers(torch, "LSTM", 2, 3, 2, True, False)
    rng = np.random.default_rng(7)
    sequences = [gg.tensor(rng.standard_normal((length, 2))) for length in (2, 5, 1, 3)]
    output, (h_n, c_n) = mine(pack_sequence(sequences, enforce_sorted=False))
    for position, (sequence, alone) in enumerate(zip(sequences, unpack_sequence(output))):
        output_alone, (h_alone, c_alone) = mine(sequence)
        np.testing.assert_allclose(alone.numpy(), output_alone.numpy(), rtol=1e-12)
        np.testing.assert_allclose(h_n[:, position].numpy(), h_alone.numpy(), rtol=1e-12)
        np.testing.assert_allclose(c_n[:, position].numpy(), c_alone.numpy(), rtol=1e-12)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_is_off_in_eval_on_packed_input(torch, mode):
    mine, theirs = layers(torch, mode, 2, 3, 2, False, True, dropout=0.5)
    mine.eval()
    theirs.eval()
    array = padded_batch(np.random.default_rng(1), [4, 2, 3], [2], True)
    results = [run_packed(lib, layer, array, [4, 2, 3], True, False, [])
               for lib, layer in ((gg, mine), (torch, theirs))]
    for position, (ours, pytorchs) in enumerate(zip(*results)):
        np.testing.assert_allclose(ours, pytorchs, rtol=RTOL, atol=1e-13, err_msg=f"result {position}")


@pytest.mark.torch
def test_second_derivatives_through_a_packed_gru_match_pytorch(torch):
    array = padded_batch(np.random.default_rng(3), [3, 1, 2], [2], False)
    results = []
    for lib, layer in zip((gg, torch), layers(torch, "GRU", 2, 3, 1, True, False)):
        padded = lib.tensor(array, requires_grad=True)
        output, h_n = layer(lib.nn.utils.rnn.pack_padded_sequence(padded, [3, 1, 2], enforce_sorted=False))
        (grad,) = lib.autograd.grad((output.data ** 2).sum() + h_n.sum(), padded, create_graph=True)
        (grad ** 2).sum().backward()
        results.append([grad.detach().numpy(), padded.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()])
    for ours, pytorchs in zip(*results):
        np.testing.assert_allclose(ours, pytorchs, rtol=RTOL, atol=1e-13)


@pytest.mark.torch
def test_packed_sequence_is_a_named_tuple_as_in_pytorch(torch):
    mine = pack_padded_sequence(gg.arange(6.0).reshape(3, 2), [1, 3], enforce_sorted=False)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(torch.arange(6.0).reshape(3, 2), [1, 3], enforce_sorted=False)
    assert mine._fields == theirs._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    data, batch_sizes, sorted_indices, unsorted_indices = mine
    assert [part.tolist() for part in mine] == [part.tolist() for part in theirs]
    assert (data.tolist(), batch_sizes.tolist(), sorted_indices.tolist(), unsorted_indices.tolist()) == (
        [1.0, 0.0, 3.0, 5.0], [2, 1, 1], [1, 0], [1, 0])
    assert mine.is_cuda is theirs.is_cuda is False
    assert mine.double().data.dtype == gg.float64 and mine.double().float().data.dtype == gg.float32
    assert mine.to(gg.float64).batch_sizes is mine.batch_sizes and mine.to("cpu") is mine
    again = PackedSequence(data, batch_sizes, sorted_indices)  # unsorted_indices worked out, as in PyTorch
    assert again.unsorted_indices.tolist() == [1, 0]
    sorted_batch = pack_padded_sequence(gg.ones(2, 2), [2, 1])
    assert sorted_batch.sorted_indices is None and sorted_batch.unsorted_indices is None


@pytest.mark.parametrize("call, error, message", [
    (lambda: pack_padded_sequence(gg.ones(3, 2), [2, 3]), RuntimeError,
     r"^pack_padded_sequence: lengths must be sorted in decreasing order when enforce_sorted=True, got \[2, 3\]; "
     "pass enforce_sorted=False"),
    (lambda: pack_padded_sequence(gg.ones(3, 2), [3, 0], enforce_sorted=False), RuntimeError,
     r"^pack_padded_sequence: every length must be between 1 and the padded length 3, got \[3, 0\]"),
    (lambda: pack_padded_sequence(gg.ones(3, 2), [4, 1]), RuntimeError,
     r"^pack_padded_sequence: every length must be between 1 and the padded length 3, got \[4, 1\]"),
    (lambda: pack_padded_sequence(gg.ones(3, 2), [3, 2, 1]), RuntimeError,
     r"^pack_padded_sequence: lengths must give one whole number per sequence \(2 of them\), got \[3, 2, 1\]"),
    (lambda: pack_padded_sequence(gg.ones(3, 2), [2.5, 1.0]), RuntimeError,  # PyTorch would cut 2.5 to 2
     r"^pack_padded_sequence: lengths must give one whole number per sequence \(2 of them\), got \[2.5, 1.0\]"),
    (lambda: pack_padded_sequence(gg.ones(3, 2), [float("nan"), 1.0]), RuntimeError,
     r"^pack_padded_sequence: lengths must give one whole number per sequence \(2 of them\), got \[nan, 1.0\]"),
    (lambda: pad_packed_sequence(pack_padded_sequence(gg.ones(3, 2), [3, 2]), total_length=5.0), TypeError,
     r"^pad_packed_sequence: total_length must be a whole number \(an int\), got 5.0$"),
    (lambda: pack_padded_sequence(gg.ones(3), [3]), IndexError,
     r"^pack_padded_sequence: input must be a padded batch tensor \(T, N, \*\)"),
    (lambda: pad_packed_sequence(pack_padded_sequence(gg.ones(3, 2), [3, 2]), total_length=2), ValueError,
     r"^pad_packed_sequence: total_length=2 is shorter than the longest sequence \(3 steps\)"),
    (lambda: pad_packed_sequence(gg.ones(3, 2)), TypeError,
     "^pad_packed_sequence: expected a PackedSequence .from pack_padded_sequence., got Tensor"),
    (lambda: gg.nn.GRUCell(1, 2)(pack_padded_sequence(gg.ones(3, 2, 1), [3, 2])), TypeError,
     "^GRUCell: takes one step .a tensor., not a PackedSequence; run the sequences through nn.RNN"),
    (lambda: gg.nn.LSTM(2, 2)(pack_padded_sequence(gg.ones(3, 2, 1, dtype=gg.float32), [3, 2])), RuntimeError,
     r"^LSTM: input has 1 features .* input_size=2"),
    (lambda: gg.nn.GRU(1, 2)(pack_padded_sequence(gg.ones(3, 2, 1), [3, 2]), gg.zeros(1, 3, 2)), RuntimeError,
     r"^GRU: Expected hidden size \(1, 2, 2\), got \[1, 3, 2\]; give states of that shape, or hx=None for zeros$"),
])
def test_bad_calls_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


PACKING_MISTAKES = {  # what a learner gets wrong packing a padded batch, and PyTorch's exception for it
    "lengths not sorted": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 5, 2), [2, 5, 3],
                                                                             batch_first=True),
    "an empty sequence": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(5, 3), [5, 3, 0]),
    "a negative length": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(5, 3), [5, -1, 2],
                                                                            enforce_sorted=False),
    "too few lengths": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3, 5, 2), [5, 3], batch_first=True),
    "lengths as a row": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(5, 3), lib.tensor([[5, 3, 2]])),
    "a 1-d input": lambda lib: lib.nn.utils.rnn.pack_padded_sequence(lib.ones(3), [3]),
}


@pytest.mark.torch
@pytest.mark.parametrize("mistake", sorted(PACKING_MISTAKES))
def test_a_packing_mistake_raises_pytorchs_exception_type(mistake, torch):
    """``except RuntimeError`` around ``pack_padded_sequence(embedded, lengths)`` (lengths left unsorted, an empty
    review in the batch) caught PyTorch's error but not glassgrad's ValueError."""
    assert_raises_as_pytorch(PACKING_MISTAKES[mistake], torch)


def test_a_compiled_step_on_packed_sequences_gives_eagers_numbers():
    """A compiled training step through pack → LSTM → Linear runs eagerly (batch_sizes decide the work) and gives
    eager's numbers bit for bit, saying why once."""
    def model_and_step():
        lstm = gg.nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=gg.float64, seed=0)
        head = gg.nn.Linear(6, 1, dtype=gg.float64, seed=1)
        optimizer = gg.optim.SGD([*lstm.parameters(), *head.parameters()], lr=0.1, momentum=0.9)

        def step(padded, target):
            optimizer.zero_grad()
            _, (h_n, _) = lstm(pack_padded_sequence(padded, [4, 1, 3], enforce_sorted=False))
            loss = ((head(gg.cat([h_n[-2], h_n[-1]], 1)).squeeze(1) - target) ** 2).mean()
            loss.backward()
            optimizer.step()
            return loss
        return lstm, step

    padded = gg.tensor(np.sin(np.arange(24.0)).reshape(4, 3, 2))
    target = gg.tensor([0.5, -1.0, 0.25])
    eager_lstm, eager_step = model_and_step()
    compiled_lstm, step = model_and_step()
    compiled = gg.compile(step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(5):
            assert np.array_equal(compiled(padded, target).numpy(), eager_step(padded, target).numpy())
    assert [str(w.message) for w in caught if "batch_sizes" in str(w.message)] != []
    for mine, reference in zip(compiled_lstm.parameters(), eager_lstm.parameters()):
        assert np.array_equal(mine.numpy(), reference.numpy())


def test_a_trace_of_a_packed_lstm_shows_it_as_one_layer_with_the_same_gradients():
    layer = gg.nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=gg.float64, seed=0)
    gradients = []
    for traced in (False, True):
        padded = gg.tensor(np.sin(np.arange(24.0)).reshape(4, 3, 2), requires_grad=True)
        with gg.trace() if traced else warnings.catch_warnings() as tape:
            if traced:
                tape.watch(layer)
            output, (h_n, _) = layer(pack_padded_sequence(padded, [2, 4, 1], enforce_sorted=False))
            (output.data.sum() + h_n.sum()).backward()
        gradients.append(padded.grad.numpy())
    assert sum(step["formula"].startswith("H₁ = LSTM(") for step in tape.describe()["forward"]) == 1
    np.testing.assert_array_equal(*gradients)


@pytest.mark.torch
@pytest.mark.parametrize("kind", ["list", "tensor", "array", "bool tensor"])
def test_whole_float_and_bool_lengths_pack_as_pytorchs(torch, kind):
    values = np.arange(24.0).reshape(4, 2, 3)
    numbers = [True, True] if kind == "bool tensor" else [4.0, 2.0]
    packed = []
    for library in (gg, torch):
        lengths = {"list": numbers, "array": np.array(numbers)}.get(kind)
        if lengths is None:
            lengths = library.tensor(numbers)
        result = library.nn.utils.rnn.pack_padded_sequence(library.tensor(values), lengths)
        packed.append((result.batch_sizes.tolist(), result.data.numpy()))
    assert packed[0][0] == packed[1][0]
    np.testing.assert_array_equal(packed[0][1], packed[1][1])


@pytest.mark.torch
@pytest.mark.parametrize("dtypes", [("int64", "float32"), ("float32", "float64"), ("float64", "int64"),
                                    ("uint8", "int64")])
def test_pad_sequence_gives_the_first_sequences_dtype_as_pytorch(torch, dtypes):
    results = []
    for library in (gg, torch):
        first = library.tensor([1, 2, 3]).to(getattr(library, dtypes[0]))
        second = library.tensor([4.5]).to(getattr(library, dtypes[1]))
        padded = library.nn.utils.rnn.pad_sequence([first, second], padding_value=7)
        results.append((str(padded.dtype).replace("torch.", ""), padded.tolist()))
    assert results[0] == results[1]


@pytest.mark.torch
@pytest.mark.parametrize("method", ["half", "long", "int", "short", "char", "byte", "double", "float"])
def test_packed_sequence_casts_as_pytorchs(torch, method):
    dtypes = []
    for library in (gg, torch):
        packed = library.nn.utils.rnn.pack_padded_sequence(library.ones(3, 2, 1), [3, 2])
        cast = getattr(packed, method)()
        assert cast.batch_sizes.tolist() == [2, 2, 1]
        dtypes.append(str(cast.data.dtype).replace("torch.", ""))
        assert packed.is_pinned() is False
    assert dtypes[0] == dtypes[1]


def test_a_packed_sequence_pinned_is_itself_as_a_tensor_pinned_is():  # (PyTorch's CPU build refuses both)
    packed = pack_padded_sequence(gg.ones(3, 2, 1), [3, 2])
    assert packed.pin_memory() is packed and gg.ones(2).pin_memory().tolist() == [1.0, 1.0]
