"""``nn.utils.rnn``: pad_sequence and unpad_sequence against PyTorch (values and gradients)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg
from glassgrad.nn.utils.rnn import pad_sequence, unpad_sequence


@pytest.mark.torch
@given(lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4), tail=st.lists(st.integers(1, 3), max_size=2),
       batch_first=st.booleans(), side=st.sampled_from(["right", "left"]), value=st.sampled_from([0.0, -1.5]),
       seed=st.integers(0, 2**16))
def test_pad_sequence_matches_pytorch(torch, lengths, tail, batch_first, side, value, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal((length, *tail)) for length in lengths]
    results = []
    for lib in (gg, torch):
        sequences = [lib.tensor(array, requires_grad=True) for array in arrays]
        padded = lib.nn.utils.rnn.pad_sequence(sequences, batch_first=batch_first, padding_value=value,
                                               padding_side=side)
        weights = lib.tensor(np.arange(1.0, padded.numel() + 1).reshape(tuple(padded.shape)))
        (padded * weights).sum().backward()
        results.append([padded.detach().numpy()] + [sequence.grad.numpy() for sequence in sequences])
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.torch
def test_unpad_sequence_gives_the_sequences_back(torch):
    sequences = [gg.arange(3.0), gg.arange(1.0), gg.arange(2.0)]
    for batch_first in (True, False):
        padded = pad_sequence(sequences, batch_first=batch_first, padding_value=9.0)
        back = unpad_sequence(padded, gg.tensor([3, 1, 2]), batch_first=batch_first)
        theirs = torch.nn.utils.rnn.unpad_sequence(torch.tensor(padded.numpy()), torch.tensor([3, 1, 2]),
                                                   batch_first=batch_first)
        assert [b.tolist() for b in back] == [s.tolist() for s in sequences] == [t.tolist() for t in theirs]


@pytest.mark.parametrize("call, error, message", [
    (lambda: pad_sequence([]), RuntimeError, "^pad_sequence: give a non-empty list of tensors"),
    (lambda: pad_sequence([gg.ones(2, 3), gg.ones(2, 4)]), RuntimeError,
     r"^pad_sequence: every sequence needs shape \(L, \*\) with the same trailing sizes; got \(2, 3\), \(2, 4\)"),
    (lambda: pad_sequence([gg.ones(2)], padding_side="middle"), RuntimeError, "^pad_sequence: padding_side must be"),
    (lambda: unpad_sequence(gg.ones(3, 2), [4, 1]), RuntimeError, r"^unpad_sequence: lengths must give one length"),
])
def test_bad_calls_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)
