"""The recurrent layers' check methods (``check_input``, ``get_expected_hidden_size``, ``check_hidden_size``,
``check_forward_args``, LSTM's ``get_expected_cell_size``) and ReduceLROnPlateau's ``mode_worse``/``_reset``,
against PyTorch 2.13's: what a layer's ``forward`` passes them, what they return, and what they raise, so that a
layer of one's own written against PyTorch's (overriding a check, or calling one) runs on glassgrad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg


def _recording(lib, base: str):
    """A subclass of ``lib.nn.<base>`` that records each ``check_forward_args`` call's shapes, then checks."""

    class Recording(getattr(lib.nn, base)):
        def check_forward_args(self, input, hidden, batch_sizes):
            states = hidden if isinstance(hidden, tuple) else (hidden,)
            self.seen.append((tuple(input.shape), [tuple(state.shape) for state in states],
                              None if batch_sizes is None else [int(size) for size in batch_sizes]))
            super().check_forward_args(input, hidden, batch_sizes)

    return Recording


@pytest.mark.torch
@given(base=st.sampled_from(["RNN", "GRU", "LSTM"]), batch_first=st.booleans(), bidirectional=st.booleans(),
       layers=st.integers(1, 2), unbatched=st.booleans(), packed=st.booleans(), given_state=st.booleans(),
       projection=st.booleans())
def test_forward_calls_check_forward_args_with_pytorchs_arguments(torch, base, batch_first, bidirectional, layers,
                                                                    unbatched, packed, given_state, projection):
    """Every forward passes its 3-D input (an unbatched one with its batch dim of 1; a packed one's data and
    batch sizes) and its states, zeros when none were given, to ``check_forward_args``: a subclass that overrides it
    sees PyTorch's shapes, and the outputs still match. (PyTorch's LSTM makes no such call for a packed batch and
    leaves the checks to its kernel; glassgrad's checks every batch the same way.)"""
    unbatched = unbatched and not packed
    extra = {"proj_size": 2} if projection and base == "LSTM" else {}
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 1, 4) if unbatched else (3, 2, 4))
    if batch_first and not unbatched:
        x = x.transpose(1, 0, 2).copy()
    if unbatched:
        x = x[:, 0]
    count = layers * (2 if bidirectional else 1)
    hidden = 2 if extra else 3
    states = [rng.standard_normal((count, hidden) if unbatched else (count, 2, hidden))]
    if base == "LSTM":
        states.append(rng.standard_normal((count, 3) if unbatched else (count, 2, 3)))
    outputs, reference = [], {}
    for lib in (torch, gg):
        layer = _recording(lib, base)(4, 3, layers, batch_first=batch_first, bidirectional=bidirectional,
                                      dtype=lib.float64, **extra)
        layer.seen = []
        if lib is gg:  # PyTorch's weights
            layer.load_state_dict({name: gg.tensor(value.detach().numpy()) for name, value in reference.items()})
        else:
            reference.update(layer.state_dict())
        inputs = lib.tensor(x)
        if packed:
            inputs = lib.nn.utils.rnn.pack_padded_sequence(inputs, [3, 2], batch_first=batch_first)
        hx = [lib.tensor(state) for state in states] if given_state else None
        hx = (tuple(hx) if base == "LSTM" else hx[0]) if hx is not None else None
        output, _ = layer(inputs, hx)
        output = output.data if packed else output
        outputs.append((layer.seen, output.detach().numpy()))
    (torch_seen, torch_output), (our_seen, our_output) = outputs
    if base == "LSTM" and packed:  # PyTorch's LSTM alone skips the call for a packed batch (its kernel checks)
        assert torch_seen == [] and len(our_seen) == 1
    else:
        assert our_seen == torch_seen
    np.testing.assert_allclose(our_output, torch_output, rtol=1e-12, atol=1e-14)


@pytest.mark.torch
@given(base=st.sampled_from(["RNN", "GRU", "LSTM"]), batch_first=st.booleans(), bidirectional=st.booleans(),
       layers=st.integers(1, 3), packed=st.booleans(), projection=st.booleans())
def test_expected_sizes_are_pytorchs(torch, base, batch_first, bidirectional, layers, packed, projection):
    """``get_expected_hidden_size`` (and LSTM's ``get_expected_cell_size``) of a padded input or a packed batch's
    sizes: (D·num_layers, N, H), H the projection's size for h when there is one."""
    extra = {"proj_size": 2} if projection and base == "LSTM" else {}
    shape = (5, 4, 6) if not packed else (9, 6)
    sizes = [4, 3, 2] if packed else None
    answers = []
    for lib in (torch, gg):
        layer = getattr(lib.nn, base)(6, 3, layers, batch_first=batch_first, bidirectional=bidirectional, **extra)
        batch_sizes = lib.tensor(sizes) if packed else None
        found = [tuple(layer.get_expected_hidden_size(lib.zeros(shape), batch_sizes))]
        if base == "LSTM":
            found.append(tuple(layer.get_expected_cell_size(lib.zeros(shape), batch_sizes)))
        answers.append(found)
    assert answers[1] == answers[0]


def test_expected_hidden_size_by_hand():
    """Two layers, both directions, batch-first input of 7 sequences, projection 2: h is (4, 7, 2), c (4, 7, 5)."""
    lstm = gg.nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True, proj_size=2)
    x = gg.zeros(7, 11, 3)
    assert lstm.get_expected_hidden_size(x, None) == (4, 7, 2)
    assert lstm.get_expected_cell_size(x, None) == (4, 7, 5)
    assert lstm.get_expected_hidden_size(gg.zeros(6, 3), [3, 2, 1]) == (4, 3, 2)


@pytest.mark.torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.GRU(3, 4).check_input(lib.zeros(5, 2, 3, dtype=lib.float64), None),
    lambda lib: lib.nn.GRU(3, 4).check_input(lib.zeros(5, 2), None),
    lambda lib: lib.nn.GRU(3, 4).check_input(lib.zeros(5, 2, 3), lib.tensor([2, 2, 1])),
    lambda lib: lib.nn.LSTM(3, 4).check_input(lib.zeros(5, 2, 2), None),
    lambda lib: lib.nn.RNN(3, 4).check_hidden_size(lib.zeros(1, 3, 4), (1, 2, 4)),
    lambda lib: lib.nn.RNN(3, 4).check_forward_args(lib.zeros(5, 2, 3), lib.zeros(2, 2, 4), None),
    lambda lib: lib.nn.LSTM(3, 4).check_forward_args(lib.zeros(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 3)),
                                                    None),
    lambda lib: lib.nn.LSTM(3, 4, proj_size=2)(lib.zeros(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))),
    lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 3), lib.zeros(1, 1, 4)),
    lambda lib: lib.nn.GRU(3, 4, batch_first=True)(lib.zeros(2, 5, 3), lib.zeros(1, 5, 4)),
], ids=["dtype", "dims", "packed data dims", "features", "hidden size", "num_layers", "cell size", "projection",
        "unbatched 3-d state", "batch_first batch"])
def test_misuse_raises_pytorchs_class_in_one_line(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(gg)
    assert "\n" not in str(ours.value)


def test_check_hidden_size_formats_the_callers_message():
    """PyTorch's ``msg`` is formatted with the expected shape (a tuple) and the state's (a list)."""
    gru = gg.nn.GRU(3, 4)
    with pytest.raises(RuntimeError, match=r"^GRU: state \(1, 2, 4\) wanted, \[1, 5, 4\] given; give states"):
        gru.check_hidden_size(gg.zeros(1, 5, 4), (1, 2, 4), "state {} wanted, {} given")
    gru.check_hidden_size(gg.zeros(1, 2, 4), (1, 2, 4))  # the right shape passes


@pytest.mark.torch
def test_an_override_of_check_input_is_what_forward_checks_with(torch):
    """A layer whose ``check_input`` lets any dtype through gets past the layer's check on both libraries: the
    float64 input then meets the float32 weights in the first product, which raises RuntimeError (the plain layer
    refuses it earlier, with ValueError)."""
    for lib in (torch, gg):
        class AnyDtype(lib.nn.GRU):
            def check_input(self, input, batch_sizes):
                super().check_input(input.to(self.weight_ih_l0.dtype), batch_sizes)

        with pytest.raises(RuntimeError, match="dtype|Double"):
            AnyDtype(3, 4)(lib.ones(5, 2, 3, dtype=lib.float64))
        with pytest.raises(ValueError, match="dtype"):
            lib.nn.GRU(3, 4)(lib.ones(5, 2, 3, dtype=lib.float64))
        assert tuple(AnyDtype(3, 4)(lib.ones(5, 2, 3))[0].shape) == (5, 2, 4)


@pytest.mark.torch
@pytest.mark.parametrize("mode", ["min", "max"])
def test_plateau_keeps_mode_worse_and_resets_as_pytorch(torch, mode):
    """``mode_worse`` is the metric worse than any (+∞ for "min"); ``_reset`` forgets the best, the bad epochs and
    the cooldown; the state dicts have the same keys and load into each other."""
    schedulers = []
    for lib in (torch, gg):
        optimizer = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=1.0)
        scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode=mode, patience=0, cooldown=2)
        for metric in (3.0, 4.0, 2.0, 5.0):
            scheduler.step(metric)
        schedulers.append(scheduler)
    theirs, ours = schedulers
    assert ours.mode_worse == theirs.mode_worse == (math.inf if mode == "min" else -math.inf)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    for scheduler in schedulers:
        scheduler._reset()
    assert (ours.best, ours.num_bad_epochs, ours.cooldown_counter) == (
        theirs.best, theirs.num_bad_epochs, theirs.cooldown_counter)


def test_plateau_mode_worse_follows_a_loaded_mode():
    """A state saved in "max" mode loaded into a "min" scheduler watches for larger metrics, from −∞; a state
    saved without ``mode_worse`` (by an older glassgrad) loads too."""
    optimizer = gg.optim.SGD([gg.zeros(1, requires_grad=True)], lr=1.0)
    saved = gg.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max").state_dict()
    del saved["mode_worse"]
    scheduler = gg.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="min")
    scheduler.load_state_dict(saved)
    assert scheduler.mode == "max" and scheduler.mode_worse == -math.inf
    scheduler._reset()
    assert scheduler.best == -math.inf
