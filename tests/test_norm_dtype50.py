"""The ``dtype`` of a norm, against PyTorch 2.13: the input is converted to it only without narrowing.

``x.norm(dtype=gg.float32)`` of a float64 tensor computed a float32 norm where PyTorch refuses ("should be
convertible without narrowing"); a widening dtype (float32 → float64, float16 → float32) is taken, an integer dtype
or an integer input refused, in ``Tensor.norm``, ``gg.norm``, ``linalg.norm``, ``vector_norm`` and ``matrix_norm``.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg

DTYPES = ("float16", "float32", "float64", "int64")
NAMES = ("Tensor.norm", "norm", "linalg.norm", "vector_norm", "matrix_norm fro", "matrix_norm 1", "matrix_norm inf",
         "matrix_norm 2")


def norms(library):
    linalg = library.linalg
    return {
        "Tensor.norm": lambda x, d: x.norm(dtype=d),
        "norm": lambda x, d: library.norm(x, 2, None, False, dtype=d),
        "linalg.norm": lambda x, d: linalg.norm(x, dtype=d),
        "vector_norm": lambda x, d: linalg.vector_norm(x, 3, dtype=d),
        "matrix_norm fro": lambda x, d: linalg.matrix_norm(x.reshape(2, 2), dtype=d),
        "matrix_norm 1": lambda x, d: linalg.matrix_norm(x.reshape(2, 2), 1, dtype=d),
        "matrix_norm inf": lambda x, d: linalg.matrix_norm(x.reshape(2, 2), float("inf"), dtype=d),
        "matrix_norm 2": lambda x, d: linalg.matrix_norm(x.reshape(2, 2), 2, dtype=d),
    }


CASES = [(name, given, wanted) for name in NAMES for given in DTYPES for wanted in DTYPES
         if not (name == "matrix_norm 2" and "float16" in (given, wanted))]  # PyTorch's SVD refuses float16 itself


@pytest.mark.parametrize(("name", "given", "wanted"), CASES)
def test_a_norms_dtype_is_taken_or_refused_as_by_pytorch(torch, name, given, wanted):
    values = np.array([3.0, -4.0, 1.5, 2.0])
    results = []
    for library in (torch, gg):
        x = library.tensor(values).to(getattr(library, given))
        try:
            out = norms(library)[name](x, getattr(library, wanted))
            results.append((str(out.dtype).removeprefix("torch."), float(out)))
        except RuntimeError as error:
            assert library is torch or "\n" not in str(error)
            results.append(RuntimeError)
    expected, found = results
    if expected is RuntimeError:
        assert found is RuntimeError, f"PyTorch refuses {given} → {wanted}; glassgrad gave {found}"
    else:
        assert found is not RuntimeError and found[0] == expected[0]
        assert found[1] == pytest.approx(expected[1], rel=1e-3 if "float16" in (given, wanted) else 1e-6)


def test_a_narrowing_dtype_is_named_with_the_fix():
    with pytest.raises(RuntimeError, match=r"dtype=float32 would narrow the input's float64; give a dtype at least as "
                                           r"wide, or convert the input first \(x.to\(gg.float32\)\)"):
        gg.tensor([3.0, 4.0], dtype=gg.float64).norm(dtype=gg.float32)
    assert gg.tensor([3.0, 4.0]).norm(dtype=gg.float64).dtype == gg.float64
