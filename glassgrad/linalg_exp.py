"""``torch.linalg.matrix_exp``: ``e^A = I + A + A²/2! + A³/3! + …`` of a square matrix, made of ``matmul``
and ``solve``.

The series is summed the way numerical libraries do (Higham's scaling and squaring, 2005): A is halved
``s`` times until its 1-norm is at most ``θ₁₃ ≈ 5.37``, where the degree-13 Padé approximant
``r(X) = (V − U)⁻¹·(V + U)`` (U the odd powers of X, V the even ones, with fixed coefficients ``b₀ … b₁₃``)
agrees with ``e^X`` to the float64 rounding; then ``e^A = r(A/2ˢ)^(2ˢ)`` by squaring ``s`` times.

Every step is a row of the table (``matmul``, ``solve``, ``mul``, ``add``), so the gradient is that of the
approximant: ``∂L/∂A`` equals, to the same rounding, the exact adjoint ``[e^[[Aᵀ, Ḡ], [0, Aᵀ]]]₁₂`` (the
upper-right block of the exponential of the 2n×2n block matrix, Ḡ = ∂L/∂e^A), and second derivatives
come for free. The number of squarings is read from the numbers and gets no gradient (it is a count).

>>> import glassgrad as gg
>>> [round(v, 12) for v in gg.linalg.matrix_exp(gg.tensor([[0.0, 1.0], [0.0, 0.0]])).flatten().tolist()]
[1.0, 1.0, 0.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from .autograd import note_computed
from .functions import where
from .linalg import _square, solve
from .tensor import Tensor
from .tensor_methods import add

_PADE_13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
            10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0)
"""``b₀ … b₁₃`` of the degree-13 Padé approximant of ``e^x`` (Higham 2005, table 10.4)."""

_THETA_13 = 5.371920351148152
"""The largest 1-norm for which the degree-13 approximant is exact to float64's rounding."""


def matrix_exp(input: Tensor) -> Tensor:
    """``e^A`` of a square matrix (or of each matrix of a batch)."""
    a = _square(input, "matrix_exp")
    if not np.all(np.isfinite(a.array)):
        raise RuntimeError("matrix_exp: A has inf or NaN entries, so e^A is not defined; check A for overflow first")
    if a.shape[-1] == 0:
        return a * 1
    norms = np.abs(a.array).sum(axis=-2).max(axis=-1)  # ‖A‖₁, the largest column sum
    with np.errstate(divide="ignore"):
        squarings = np.maximum(0, np.ceil(np.log2(norms / _THETA_13))).astype(np.int64)
    b = _PADE_13
    x = a * Tensor._wrap(note_computed(np.ldexp(1.0, -squarings)[..., None, None].astype(a.array.dtype)))
    eye = Tensor._wrap(np.eye(a.shape[-1], dtype=a.array.dtype))
    x2 = x @ x
    x4 = x2 @ x2
    x6 = x4 @ x2
    odd = x @ (x6 @ (b[13] * x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * eye)
    even = x6 @ (b[12] * x6 + b[10] * x4 + b[8] * x2) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * eye
    result = solve(even - odd, even + odd)
    for step in range(int(squarings.max(initial=0))):
        squared = result @ result
        result = squared if np.all(squarings > step) else where(
            Tensor._wrap(note_computed((squarings > step)[..., None, None])), squared, result)
    return result


add("matrix_exp", matrix_exp)  # x.matrix_exp(), as in PyTorch
