"""The functions that return several tensors give them by name too, with PyTorch's names (``torch.return_types``):
``values, indices = x.max(1)`` and ``x.max(1).indices`` both work, as learners write either."""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

MATRIX = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])
ROWS = np.array([[0.5, -1.0, 2.0, 2.5], [3.0, 0.0, -2.0, 1.0], [1.5, 1.0, 0.25, -0.5]])  # no ties

CALLS = {  # name: (function of the library and a tensor, the tensor's values)
    "max(dim)": (lambda lib, x: lib.max(x, 1), ROWS),
    "min(dim)": (lambda lib, x: x.min(dim=1), ROWS),
    "sort": (lambda lib, x: lib.sort(x, 1), ROWS),
    "topk": (lambda lib, x: x.topk(2), ROWS),
    "kthvalue": (lambda lib, x: lib.kthvalue(x, 2, 1), ROWS),
    "median(dim)": (lambda lib, x: x.median(0), ROWS),
    "mode": (lambda lib, x: lib.mode(x, 1), ROWS),
    "cummax": (lambda lib, x: lib.cummax(x, 1), ROWS),
    "aminmax": (lambda lib, x: x.aminmax(), ROWS),
    "frexp": (lambda lib, x: lib.frexp(x), ROWS),
    "geqrf": (lambda lib, x: lib.geqrf(x), MATRIX),
    "slogdet": (lambda lib, x: lib.linalg.slogdet(x), MATRIX),
    "qr": (lambda lib, x: lib.linalg.qr(x), MATRIX),
    "eigh": (lambda lib, x: lib.linalg.eigh(x), MATRIX),
    "svd": (lambda lib, x: lib.svd(x), MATRIX),
    "lu_factor": (lambda lib, x: lib.linalg.lu_factor(x), MATRIX),
    "cholesky_ex": (lambda lib, x: lib.linalg.cholesky_ex(x), MATRIX),
    "histogram": (lambda lib, x: lib.histogram(x.flatten(), 3), ROWS),
}


def _names(result) -> set[str]:
    """The names of a result's fields: a namedtuple's, or a ``torch.return_types`` structseq's attributes."""
    fields = getattr(result, "_fields", None)
    if fields is not None:
        return set(fields)
    return {name for name in dir(result) if not name.startswith("_")
            and name not in ("count", "index", "n_fields", "n_sequence_fields", "n_unnamed_fields")}


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(CALLS))
def test_several_results_have_pytorch_s_names(name, torch):
    call, values = CALLS[name]
    theirs, ours = call(torch, torch.tensor(values)), call(gg, gg.tensor(values))
    assert _names(ours) == _names(theirs)
    for field in _names(theirs):
        np.testing.assert_allclose(np.asarray(getattr(ours, field)), getattr(theirs, field).numpy(), rtol=1e-12,
                                   atol=1e-12)


def test_frexp_and_geqrf_name_their_parts():
    x = gg.tensor([0.75, -12.0, 0.0])
    mantissa, exponent = gg.frexp(x)
    assert gg.frexp(x).mantissa.tolist() == mantissa.tolist() == [0.75, -0.75, 0.0]
    assert gg.frexp(x).exponent.tolist() == exponent.tolist() == [0, 4, 0]
    a, tau = gg.geqrf(gg.tensor(MATRIX))
    named = gg.geqrf(gg.tensor(MATRIX))
    assert np.array_equal(named.a.numpy(), a.numpy()) and np.array_equal(named.tau.numpy(), tau.numpy())
