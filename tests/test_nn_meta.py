"""A model on the 'meta' device (glassgrad.nn.meta): PyTorch's model-ensembling tutorial moves a copy of a model
there and calls it only through ``torch.func.functional_call``; ``model.to('meta')`` was refused.

Oracles: the ensemble computed model by model (a loop over the real models), PyTorch 2.13's flags and warnings,
and hand-derived values (``to_empty`` gives zeros here).
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassgrad as gg


class SmallMLP(gg.nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc1, self.norm, self.fc2 = gg.nn.Linear(4, width), gg.nn.BatchNorm1d(width), gg.nn.Linear(width, 3)

    def forward(self, x):
        return self.fc2(self.norm(self.fc1(x)).relu())


@settings(deadline=None)
@given(members=st.integers(1, 4), width=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_the_tutorials_ensemble_through_a_meta_copy_is_each_models_own_forward(members, width, seed):
    gg.manual_seed(seed)
    models = [SmallMLP(width).eval() for _ in range(members)]
    batches = gg.randn(members, 6, 4)
    params, buffers = gg.func.stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def one_model(params, buffers, x):
        return gg.func.functional_call(base, (params, buffers), (x,))

    together = gg.vmap(one_model)(params, buffers, batches)
    each = gg.stack([model(batch) for model, batch in zip(models, batches)])
    np.testing.assert_allclose(together.detach().numpy(), each.detach().numpy(), rtol=1e-6, atol=1e-6)
    assert all(not p.is_meta for model in models for p in model.parameters())  # the copy moved, not the models


@pytest.mark.torch
def test_a_meta_models_tensors_say_meta_keep_shape_and_dtype_and_change_dtype_as_pytorchs(torch):
    found = []
    for library in (gg, torch):
        model = library.nn.Sequential(library.nn.Linear(3, 2), library.nn.BatchNorm1d(2)).to("meta").double()
        found.append([(name, tuple(t.shape), str(t.dtype).split(".")[-1], t.is_meta, str(t.device))
                      for name, t in (*model.named_parameters(), *model.named_buffers())])
    assert found[0] == found[1]
    meta = gg.nn.Linear(300, 200).to("meta")
    assert meta.weight.array.strides == (0, 0)  # a shape and no memory: no NaN array to compute with


def test_calling_a_meta_model_itself_is_refused_in_one_line_naming_the_tensor_without_numbers():
    model = copy.deepcopy(SmallMLP(2)).to("meta")
    with pytest.raises(RuntimeError, match=r"^SmallMLP is on the 'meta' device: its fc1\.weight has a shape and no "
                                           r"numbers; call it through torch\.func\.functional_call") as raised:
        model(gg.ones(5, 4))
    assert "\n" not in str(raised.value)
    weights = dict(SmallMLP(2).named_parameters())  # its buffers (BatchNorm's statistics) left out
    with pytest.raises(RuntimeError, match=r"its norm\.running_mean has a shape and no numbers"):
        gg.func.functional_call(model, weights, (gg.ones(5, 4),))


@pytest.mark.torch
def test_loading_into_a_meta_model_warns_and_changes_nothing_unless_assign_as_pytorchs(torch):
    for library in (gg, torch):
        source = library.nn.Linear(3, 2)
        meta = copy.deepcopy(source).to("meta")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta.load_state_dict(source.state_dict())
        assert [str(w.message).split(":")[0] for w in caught] == ["for weight", "for bias"]
        assert "a no-op" in str(caught[0].message) and meta.weight.is_meta
        meta.load_state_dict(source.state_dict(), assign=True)
        x = library.ones(1, 3)
        np.testing.assert_array_equal(meta(x).detach().numpy(), source(x).detach().numpy())


def test_to_empty_gives_a_meta_model_memory_zeros_here_to_initialise_again():
    model = gg.nn.Linear(3, 2).to("meta").to_empty(device="cpu")
    assert not model.weight.is_meta and str(model.weight.device) == "cpu"
    np.testing.assert_array_equal(model(gg.ones(4, 3)).detach().numpy(), np.zeros((4, 2)))  # x·0ᵀ + 0
    model.reset_parameters()
    assert np.abs(model.weight.detach().numpy()).max() > 0
    with pytest.raises(RuntimeError, match="device 'cuda' is not available"):
        gg.nn.Linear(3, 2).to("meta").to_empty(device="cuda")
