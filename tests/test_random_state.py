"""The random stream's state (``gg.get_rng_state``/``set_rng_state``, ``gg.random.fork_rng``, ``Generator.get_state``):
going back to a saved state repeats the very draws that followed it, as PyTorch's do.

Oracle: the draws themselves (a saved state, then draws, then the state put back: the same draws
again), PyTorch's API shape (a 1-d uint8 tensor that ``torch.save``-style dicts carry), and a
stream that never saw the block (``fork_rng``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**63 - 1), before=st.integers(0, 7), odd=st.booleans())
def test_setting_a_saved_state_repeats_the_draws_that_followed_it(seed, before, odd):
    gg.manual_seed(seed)
    gg.rand(before)
    if odd:  # a half-used 32-bit draw is part of the state (NumPy keeps the other half for the next one)
        gg.default_generator.integers(0, 2**16, dtype=np.uint16)
    state = gg.get_rng_state()
    assert state.dtype == gg.uint8 and state.ndim == 1
    first = [gg.rand(3).numpy(), gg.randn(2).numpy(), gg.default_generator.integers(0, 2**16, 4, dtype=np.uint16)]
    gg.rand(5)
    gg.set_rng_state(state)
    again = [gg.rand(3).numpy(), gg.randn(2).numpy(), gg.default_generator.integers(0, 2**16, 4, dtype=np.uint16)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.torch
def test_the_state_is_a_one_d_uint8_tensor_as_pytorchs_and_survives_save_and_load(torch, tmp_path):
    theirs = torch.get_rng_state()
    mine = gg.get_rng_state()
    assert (mine.dtype, mine.ndim) == (gg.uint8, theirs.ndim) and str(theirs.dtype) == "torch.uint8"
    path = tmp_path / "state.safetensors"
    gg.save({"rng": mine}, path)
    expected = gg.rand(4).numpy()
    gg.set_rng_state(gg.load(path)["rng"])
    np.testing.assert_array_equal(gg.rand(4).numpy(), expected)


def test_a_generators_own_state_and_fork_rng():
    generator = gg.Generator().manual_seed(11)
    state = generator.get_state()
    drawn = gg.rand(3, generator=generator).numpy()
    assert generator.set_state(state) is generator
    np.testing.assert_array_equal(gg.rand(3, generator=generator).numpy(), drawn)

    gg.manual_seed(4)
    untouched = [gg.rand(2).numpy() for _ in range(2)]
    gg.manual_seed(4)
    first = gg.rand(2).numpy()
    with gg.random.fork_rng():
        gg.rand(100)  # draws inside leave no trace
        gg.manual_seed(99)
    np.testing.assert_array_equal([first, gg.rand(2).numpy()], untouched)
    gg.manual_seed(4)
    stream = [gg.rand(2).numpy() for _ in range(3)]
    gg.manual_seed(4)
    drawn = [gg.rand(2).numpy()]
    with gg.random.fork_rng(enabled=False):  # switched off: the draws inside move the stream on
        drawn.append(gg.rand(2).numpy())
    drawn.append(gg.rand(2).numpy())
    np.testing.assert_array_equal(drawn, stream)


def test_initial_seed_and_seed():
    gg.manual_seed(1234)
    assert gg.initial_seed() == gg.random.initial_seed() == 1234
    fresh = gg.seed()
    assert gg.initial_seed() == fresh and 0 <= fresh < 2**63
    expected = gg.rand(3).numpy()
    gg.manual_seed(fresh)
    np.testing.assert_array_equal(gg.rand(3).numpy(), expected)


@pytest.mark.parametrize("bad", [gg.zeros(5056, dtype=gg.uint8), gg.zeros(37), gg.zeros(2, 37, dtype=gg.uint8),
                                 gg.full((37,), 2, dtype=gg.uint8)])
def test_a_state_that_is_not_one_of_ours_gets_one_line(bad):
    with pytest.raises(ValueError, match=r"^set_rng_state: expected the 37-number uint8 state") as error:
        gg.set_rng_state(bad)
    assert "\n" not in str(error.value)
