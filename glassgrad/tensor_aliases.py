"""PyTorch's other names for glassgrad's methods, its questions about a tensor, and its older matrix methods.

* Aliases (the same function under a second name): ``absolute`` is ``abs``, ``negative`` is ``neg``,
  ``multiply`` is ``mul``, ``subtract`` is ``sub``, ``divide`` and ``true_divide`` are ``div``, ``ndimension`` is
  ``dim``; ``sinc`` and ``logit`` are ``gg.special``'s functions as methods, and ``mvlgamma`` is
  ``special.multigammaln`` (``ln Γₚ(a) = p(p−1)/4·ln π + Σⱼ lnΓ(a − j/2)``) with PyTorch's check of its domain.
* Questions: ``is_floating_point``, ``is_complex`` (always False: glassgrad has no complex dtypes), ``is_signed``,
  ``is_nonzero`` (the one entry is not 0), ``is_same_size``; for real numbers ``real``, ``conj``, ``resolve_conj``
  … are the tensor itself, ``isreal`` is all True, ``adjoint``/``mH`` are ``mT``.
* ``x.where(c, y)`` is ``gg.where(c, x, y)``; ``byte``, ``char``, ``short`` convert to uint8, int8, int16.
* The matrix methods PyTorch kept from before ``torch.linalg`` (``cholesky``, ``qr``, ``lu``, ``lu_solve`` and
  ``chain_matmul`` warn once that they are deprecated, as PyTorch does): ``x.svd()`` returns ``(U, S, V)`` (V, not Vᴴ),
  ``x.qr(some=True)``, ``x.cholesky(upper=False)``, ``x.lu()`` (``lu_factor``), ``b.lu_solve(LU, pivots)``,
  ``x.pinverse(rcond)``, ``x.matrix_power(n)``, LAPACK's Householder QR ``geqrf`` (values) with ``orgqr`` (Q)
  and ``ormqr`` (a product with Q), also as ``gg.svd`` …. The ones PyTorch removed (``lstsq``,
  ``solve``, ``eig``, ``symeig``) are refused with a line naming their ``gg.linalg`` replacement.

>>> import glassgrad as gg
>>> gg.tensor([1.0, -2.0]).absolute().tolist(), gg.tensor([3]).is_floating_point()
([1.0, 2.0], False)
"""

from __future__ import annotations

import inspect
from collections import namedtuple
from typing import Any

import numpy as np

from . import functions, linalg, linalg_decompositions, linalg_lu, sampling, special
from .autograd import is_grad_enabled, note_read, recorded_call
from .creation import as_tensor, tensor_argument
from .tensor import Tensor
from .tensor_methods import add, last_two_swapped

SVDTriple = namedtuple("SVDTriple", ["U", "S", "V"])
"""What ``torch.svd`` returns: V itself, where ``linalg.svd`` returns its transpose Vᴴ."""

GeqrfResult = namedtuple("GeqrfResult", ["a", "tau"])
"""``geqrf``'s two tensors, by name too (PyTorch's ``torch.return_types.geqrf``)."""

for _alias, _name in [("absolute", "abs"), ("negative", "neg"), ("multiply", "mul"), ("subtract", "sub"),
                      ("divide", "div"), ("true_divide", "div"), ("ndimension", "dim")]:
    add(_alias, inspect.unwrap(getattr(Tensor, _name)))  # subtract: sub without its old number-first order, as PyTorch
for _name in ("sinc", "logit"):
    add(_name, getattr(special, _name))


def subtract(input: Any, other: Any, *, alpha: float = 1) -> Tensor:
    """``input − alpha·other``: ``gg.sub`` without the deprecated number-first order (PyTorch's has none)."""
    return as_tensor(input).subtract(other, alpha=alpha)


def positive(input: Tensor) -> Tensor:
    """The tensor itself (``+x``); a bool tensor is refused, as in PyTorch."""
    return +input


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """``ln Γₚ(a)``, the log of the multivariate gamma function of dimension ``p``; every entry must be above
    ``(p − 1)/2``, where Γₚ is defined. A deliberate difference: PyTorch checked this too, but 2.13 no longer does and
    returns there the sum of the terms ``ln |Γ(a − j/2)|`` (finite at 0.1 for p = 3, ∞ at 0.5), a number that is no
    ``ln Γₚ(a)``; glassgrad keeps the refusal."""
    x = as_tensor(input)
    if isinstance(p, int) and not isinstance(p, bool) and p >= 1:  # a kernel of a compiled step: run at each call
        recorded_call(_refuse_outside_the_domain, x.array, p)
    return special.multigammaln(x, p)


def _refuse_outside_the_domain(values: np.ndarray, p: int) -> None:
    """Refuse an entry of ``mvlgamma`` at or below ``(p − 1)/2``, as PyTorch did before 2.13 (through
    :func:`~glassgrad.autograd.recorded_call`, so that a compiled step checks every call's values, not only its
    captures')."""
    if np.any(values <= (p - 1) / 2):  # NaN is no entry below the domain: it gives NaN, as in PyTorch
        raise RuntimeError(f"mvlgamma: all elements must be greater than (p-1)/2 = {(p - 1) / 2} for p={p}")


def _asked_of(input: Any, question: str) -> np.ndarray:
    """The array of the tensor a question (``gg.is_signed(t)``…) is asked of; of a number, a list or a NumPy array,
    PyTorch's TypeError (where ``.dtype`` or ``.array`` of it failed with an AttributeError, or was answered)."""
    return tensor_argument(input, question, "input", 1).array


def is_floating_point(input: Tensor) -> bool:
    """True when the tensor holds floats (the dtypes that can require grad)."""
    return _asked_of(input, "is_floating_point").dtype.kind == "f"


def is_complex(input: Tensor) -> bool:
    """False: glassgrad's tensors hold real numbers only."""
    _asked_of(input, "is_complex")
    return False


def is_signed(input: Tensor) -> bool:
    """Whether the dtype has negative numbers (floats and int8…int64; not uint8 or bool)."""
    return _asked_of(input, "is_signed").dtype.kind in "fi"


def is_nonzero(input: Tensor) -> bool:
    """Whether the tensor's one entry is not 0; a tensor with more or fewer entries is refused, as in PyTorch."""
    if _asked_of(input, "is_nonzero").size != 1:
        raise RuntimeError(f"is_nonzero: only a tensor with one element has a truth value, this one has "
                           f"{input.array.size}; use .any() or .all()")
    note_read("is_nonzero(tensor)")  # a Python bool: a compiled step's replay would keep the captures' answer
    return bool(input.array.reshape(()) != 0)


def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether both have the same shape."""
    return _asked_of(input, "is_same_size").shape == tensor_argument(other, "is_same_size", "other", 2).shape


add("is_floating_point", is_floating_point)
for _function in (positive, mvlgamma, is_complex, is_signed, is_nonzero, is_same_size):
    add(_function.__name__, _function)


# --- the matrix methods kept from before torch.linalg ---------------------------------------------

def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDTriple:
    """``A = U·diag(S)·Vᵀ``: ``(U, S, V)``, reduced (``some=True``) or full; ``compute_uv=False`` gives zero
    U and V, as PyTorch."""
    U, S, Vh = linalg_decompositions.svd(input, full_matrices=not some)
    if not compute_uv:
        return SVDTriple(U.new_zeros(U.shape), S, Vh.new_zeros(Vh.shape).mT)
    return SVDTriple(U, S, Vh.mT)


def qr(input: Tensor, some: bool = True) -> Any:
    """``(Q, R)`` with ``A = Q·R``: ``linalg.qr`` in mode ``'reduced'`` (``some=True``) or ``'complete'``."""
    linalg_lu.warn_replaced("qr")
    return linalg_decompositions.qr(input, "reduced" if some else "complete")


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """``linalg.cholesky``: L with ``A = L·Lᵀ`` (``upper=True``: ``Lᵀ``)."""
    linalg_lu.warn_replaced("cholesky")
    return linalg_decompositions.cholesky(input, upper=upper)


def lu(input: Tensor, pivot: bool = True, get_infos: bool = False) -> tuple:
    """``(LU, pivots)`` of ``linalg.lu_factor_ex`` (``get_infos=True``: ``(LU, pivots, info)``); a singular matrix
    is factored, not refused, as by PyTorch's (its U has a 0 on the diagonal)."""
    linalg_lu.warn_replaced("lu")
    factored = tuple(linalg_lu.lu_factor_ex(input, pivot=pivot))
    return factored if get_infos else factored[:2]


def lu_solve(input: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """The X with ``A·X = input`` for ``A``'s ``(LU, pivots)``: ``linalg.lu_solve(LU, pivots, input)``."""
    linalg_lu.warn_replaced("lu_solve")
    return linalg_lu.lu_solve(LU_data, LU_pivots, input)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """The pseudo-inverse, singular values below ``rcond·σ_max`` counted as 0 (``linalg.pinv(rtol=rcond)``)."""
    return linalg_decompositions.pinv(input, rtol=rcond)


def where(self: Tensor, condition: Any, other: Any) -> Tensor:
    """``gg.where(condition, self, other)``: this tensor's entries where the condition holds, else ``other``'s."""
    return functions.where(condition, self, other)


def adjoint(input: Tensor) -> Tensor:
    """The last two dims swapped (the conjugate transpose, which for real numbers is the transpose ``mT``)."""
    return last_two_swapped(tensor_argument(input, "adjoint", "input", 1), "adjoint()", "Consider using x.conj().")


add("where", where)
add("adjoint", adjoint)
add("mH", property(lambda self: last_two_swapped(self, "mH", "Consider using x.conj()."),
                   doc="The conjugate transpose of a batch of matrices: ``mT`` for real numbers."))
for _name, _dtype in [("byte", np.uint8), ("char", np.int8), ("short", np.int16)]:
    add(_name, lambda self, _dtype=_dtype: self.to(_dtype))


# --- complex-number questions, answered for real numbers --------------------------------------------

def real(input: Tensor) -> Tensor:
    """The real part: the tensor itself (glassgrad's numbers are real)."""
    return input


def isreal(input: Tensor) -> Tensor:
    """Which entries have no imaginary part: all of them (a bool tensor)."""
    return Tensor._wrap(np.ones(_asked_of(input, "isreal").shape, dtype=bool))


for _name in ("conj", "conj_physical", "resolve_conj", "resolve_neg"):
    add(_name, real)
add("real", property(real, doc="The real part: the tensor itself (glassgrad's numbers are real)."))
def is_conj(input: Tensor) -> bool:
    """False: a real tensor is never a lazily conjugated view."""
    _asked_of(input, "is_conj")
    return False


def is_neg(input: Tensor) -> bool:
    """False: a real tensor is never a lazily negated view."""
    _asked_of(input, "is_neg")
    return False


for _function in (isreal, is_conj, is_neg):
    add(_function.__name__, _function)
add("is_cpu", property(lambda self: True, doc="True: glassgrad's tensors live on the CPU."))
add("get_device", lambda self: -1)  # PyTorch's answer for a CPU tensor
add("is_inference", lambda self: self._inference or self._detached_inference)  # see Tensor._inference


def chain_matmul(*matrices: Tensor) -> Tensor:
    """``linalg.multi_dot`` of the matrices, given one by one (a single matrix: a copy of it, as PyTorch)."""
    linalg_lu.warn_replaced("chain_matmul")
    return as_tensor(matrices[0]).clone() if len(matrices) == 1 else linalg.multi_dot(list(matrices))


def detach(input: Tensor) -> Tensor:
    """``input.detach()``."""
    return tensor_argument(input, "detach", "input", 1).detach()


def geqrf(input: Tensor) -> tuple[Tensor, Tensor]:
    """LAPACK's QR in Householder form ``(a, tau)``: R on and above a's diagonal, the reflectors' vectors below
    it (values from SciPy; no gradient, as in PyTorch: use ``linalg.qr`` for a differentiable QR)."""
    x = as_tensor(input)
    if x.ndim < 2 or x.array.dtype.kind != "f":
        raise RuntimeError(f"geqrf: expects a float matrix or a batch of them, got shape {tuple(x.shape)} of "
                           f"{x.array.dtype.name}")
    if is_grad_enabled() and x._requires_grad:
        raise RuntimeError("geqrf: has no gradient (as in PyTorch); use gg.linalg.qr for a differentiable QR, or "
                           "call geqrf on .detach()")
    packed, taus = recorded_call(_householder_form, x.array)  # a kernel: worked out in Python, a replay kept it
    return GeqrfResult(Tensor._wrap(packed), Tensor._wrap(taus))


def _householder_form(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``geqrf``'s ``(a, tau)`` of each matrix of ``array`` (SciPy's LAPACK), as one kernel of a compiled step: a
    replay gave the captures' factorization for every later matrix, without a word."""
    from scipy.linalg import lapack  # here, not at the top: `import glassgrad` does not load SciPy

    routine = lapack.dgeqrf if array.dtype == np.float64 else lapack.sgeqrf
    if array.size == 0:  # no matrix, or matrices with no rows or columns: LAPACK is not called, as PyTorch's
        return array.copy(), np.zeros((*array.shape[:-2], min(array.shape[-2:])), array.dtype)
    matrices = array.astype(np.float64 if array.dtype == np.float64 else np.float32).reshape(-1, *array.shape[-2:])
    parts = [routine(matrix)[:2] for matrix in matrices]
    packed = np.stack([p[0] for p in parts]).reshape(array.shape).astype(array.dtype)
    taus = np.stack([p[1] for p in parts]).reshape(*array.shape[:-2], -1).astype(array.dtype)
    return packed, taus


def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """Q's first n columns from ``geqrf``'s ``(a, tau)``: ``linalg.householder_product``."""
    return linalg_decompositions.householder_product(input, tau)


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False) -> Tensor:
    """``other`` multiplied by the whole m×m Q of ``geqrf``'s ``(a, tau)``: ``Q·C`` (``left=False``: ``C·Q``;
    ``transpose=True``: Qᵀ). Q is ``householder_product`` of the reflectors padded to m columns."""
    a, taus, c = as_tensor(input), as_tensor(tau), as_tensor(other)
    if a.ndim < 2 or taus.ndim < 1:  # a.shape[-2] was a raw IndexError
        raise RuntimeError(f"ormqr: input must have at least 2 dims and tau at least 1, got shapes "
                           f"{tuple(a.shape)} and {tuple(taus.shape)}")
    rows, reflectors = a.shape[-2], taus.shape[-1]
    columns = a[..., :reflectors]
    if reflectors < rows:
        columns = functions.cat([columns, columns.new_zeros(tuple(a.shape[:-2]) + (rows, rows - reflectors))], -1)
    q = linalg_decompositions.householder_product(columns, taus)
    q = q.mT if transpose else q
    return q @ c if left else c @ q


for _function in (svd, qr, cholesky, lu, lu_solve, pinverse, geqrf, orgqr, ormqr):
    add(_function.__name__, _function)
add("matrix_power", linalg.matrix_power)
add("multinomial", sampling.multinomial)


def _removed(name: str, replacement: str) -> None:
    def refuse(self: Tensor, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"{name}: removed from PyTorch in version 1.9; use {replacement}")

    refuse.__name__ = refuse.__qualname__ = name
    add(name, refuse)


for _name, _replacement in [("lstsq", "gg.linalg.lstsq(A, B).solution (arguments swapped)"),
                            ("solve", "gg.linalg.solve(A, B) (arguments swapped)"),
                            ("eig", "gg.linalg.eigh(A) for a symmetric matrix"),
                            ("symeig", "gg.linalg.eigh(A)")]:
    _removed(_name, _replacement)
