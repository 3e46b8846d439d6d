"""Programs written the way the "Zero to Mastery: Learn PyTorch for Deep Learning" course's notebooks teach
PyTorch (00 fundamentals, 01 workflow, 02 classification, 03 computer vision, 04/05 custom datasets and going
modular, 08 replicating ViT), each run unchanged under PyTorch 2.13 and under glassgrad (``import torch`` giving
glassgrad), with the same numbers: rtol 1e-4 in float32, 1e-9 in float64.

The programs live in ``tests/learner_programs/ztm/``; below them, what they once did wrong here."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_learner_programs import assert_pytorchs_numbers

import glassgrad as gg

ZTM = Path(__file__).parent / "learner_programs" / "ztm"
PROGRAMS = sorted(ZTM.glob("*.py"))


@pytest.mark.torch
@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_a_zero_to_mastery_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 3), min_size=0, max_size=3), seed=st.integers(0, 2**16),
       to_file=st.booleans())
def test_save_and_load_take_pytorchs_keyword_names(shape, seed, to_file, torch):
    """The course saves with ``torch.save(obj=model.state_dict(), f=MODEL_SAVE_PATH)`` and loads with
    ``model.load_state_dict(torch.load(f=MODEL_SAVE_PATH))``: glassgrad named the file ``path``, so both raised
    TypeError (unexpected keyword argument 'f')."""
    weights = np.random.default_rng(seed).normal(size=shape)
    found = []
    for library in (gg, torch):
        model_state = {"weights": library.tensor(weights), "bias": library.tensor([0.5])}
        with tempfile.TemporaryDirectory() as folder:
            f = Path(folder) / "model.pth" if to_file else io.BytesIO()
            library.save(obj=model_state, f=f)
            if not to_file:
                f.seek(0)
            loaded = library.load(f=f)
        found.append({name: value.numpy() for name, value in loaded.items()})
    ours, theirs = found
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name])
        assert ours[name].dtype == theirs[name].dtype
