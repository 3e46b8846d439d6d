"""The row of the rule table for ``einsum``: sums of products over named indices.

``einsum("ij,jk->ik", A, B)`` is ``out[i,k] = Σ_j A[i,j]·B[j,k]``: every letter names an index,
the letters after ``->`` are the output's, and every other letter is summed over. Without ``->``
the output gets the letters that appear once, in alphabetical order; ``...`` stands for the
leading dims (broadcast, as NumPy and PyTorch do).

Its backward is an einsum too, one per input: ``∂L/∂A`` is the sum of ``∂L/∂out`` times the other
inputs over every letter that ``A`` lacks, with ``A``'s letters as the output
(``∂L/∂A[i,j] = Σ_k ∂L/∂out[i,k]·B[j,k]``). Two cases need a helper input: a letter that only ``A``
has (summed away in the forward: its gradient is a copy along it, an einsum with a vector of ones)
and a letter that ``A`` repeats (``"ii->i"``, the diagonal: the gradient lands on the diagonal, an
einsum with the identity). A letter that the others reach only with size 1 (broadcast against A's size n,
as in ``"ij,jk->ik"`` with B of shape (1, k)) gets the vector of ones too, of size n: ``∂L/∂A`` is the same
along it. Written with the einsum op itself, the backward records, so second
derivatives come for free.

>>> import numpy as np
>>> from glassgrad.ops import RULES
>>> RULES["einsum"].forward(np.ones((2, 3)), np.ones((3, 4)), "ij,jk->ik")[0].tolist()[0]
[3.0, 3.0, 3.0, 3.0]
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from .autograd import recorded_cast
from .creation import as_tensor
from .ops import Op, register, row_major
from .tensor import Tensor, apply


def normalized(equation: str, shapes: list[tuple[int, ...]]) -> str:
    """``equation`` with spaces dropped, ``...`` written out as letters, and the output written after ``->``.

    Raises ``ValueError`` (one line) for an equation that does not fit the operands.
    """
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} names {len(terms)} operands, but {len(shapes)} were "
                         "given")
    used = set(equation) - set(".,->")
    if not all(letter in string.ascii_letters for letter in used):
        raise ValueError(f"einsum: the equation {equation!r} may hold only letters, ',', '->' and '...'")
    spare = [letter for letter in string.ascii_uppercase + string.ascii_lowercase if letter not in used]
    widest = max((len(shape) - len(term.replace("...", "")) for term, shape in zip(terms, shapes)
                  if "..." in term), default=0)
    leading = "".join(spare[:widest])
    written = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            count = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", leading[widest - count:] if count else "")
        if len(term) != len(shape):
            raise ValueError(f"einsum: the term {term!r} has {len(term)} letters for an operand with "
                             f"{len(shape)} dims")
        written.append(term)
    if arrow:
        output = output.replace("...", leading)
    else:
        joined = "".join(written)
        output = leading + "".join(sorted(letter for letter in set(joined) - set(leading)
                                          if joined.count(letter) == 1))
    if len(set(output)) != len(output) or not set(output) <= set("".join(written)):
        raise ValueError(f"einsum: the output {output!r} must name each index once, and only indices of the inputs")
    return ",".join(written) + "->" + output


def _gradient_plan(equation: str, position: int, shapes: list[tuple[int, ...]]) -> tuple[str, list[np.ndarray], str]:
    """How input ``position``'s gradient is one more einsum: its equation (upstream first, then the other
    inputs, then helper ones/identity arrays), those helper arrays, and the subscripts it yields."""
    sizes = _sizes(equation, shapes)
    inputs, output = equation.split("->")
    terms = inputs.split(",")
    mine = terms[position]
    others = [term for k, term in enumerate(terms) if k != position]
    # the letters another input has at their full size (a size 1 that broadcasts reaches nothing)
    full_size = {letter for k, (term, shape) in enumerate(zip(terms, shapes)) if k != position
                 for letter, size in zip(term, shape) if size == sizes[letter]}
    spare = iter(letter for letter in string.ascii_letters if letter not in equation)
    target, helpers, helper_terms = "", [], []
    for letter in mine:
        if letter in target:  # a repeated letter: a fresh one, tied to it by the identity
            fresh = next(spare)
            helpers.append(np.eye(sizes[letter]))
            helper_terms.append(letter + fresh)
            target += fresh
        else:
            target += letter
    reached = set(output) | full_size | set("".join(helper_terms))
    for letter in dict.fromkeys(mine):
        if letter not in reached:  # summed away in the forward (or broadcast): the gradient is copied along it
            helpers.append(np.ones(sizes[letter]))
            helper_terms.append(letter)
    return ",".join([output, *others, *helper_terms]) + "->" + target, helpers, target


def _sizes(equation: str, shapes: list[tuple[int, ...]]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for term, shape in zip(equation.split("->")[0].split(","), shapes):
        for letter, size in zip(term, shape):
            if sizes.get(letter, 1) == 1:  # a size 1 broadcasts to the other size, 0 too (max would keep the 1)
                sizes[letter] = size
    return sizes


def _einsum(*arrays_and_equation):
    *arrays, equation = arrays_and_equation
    out = np.einsum(equation, *arrays, optimize=len(arrays) > 2)
    if not out.flags.c_contiguous and not any(np.may_share_memory(out, a) for a in arrays):
        out = row_major(out)  # a new result, row-major as PyTorch's (a mere reordering of one input is a view of it)
    return out, (equation, arrays)


def _einsum_back(up, saved):
    equation, arrays = saved
    shapes = [a.shape for a in arrays]
    grads = []
    for position in range(len(arrays)):
        plan, helpers, _ = _gradient_plan(equation, position, shapes)
        others = [a for k, a in enumerate(arrays) if k != position]
        grads.append(np.einsum(plan, up, *others, *(h.astype(up.dtype) for h in helpers), optimize=True))
    return tuple(grads)


def _einsum_vjp(up, inputs, out, saved):
    """:func:`_einsum_back` with the einsum op itself (recorded)."""
    equation, arrays = saved
    shapes = [a.shape for a in arrays]
    grads = []
    for position, tensor in enumerate(inputs):
        if not tensor.requires_grad:
            grads.append(None)
            continue
        plan, helpers, _ = _gradient_plan(equation, position, shapes)
        others = [t for k, t in enumerate(inputs) if k != position]
        grads.append(_apply_einsum(plan, [up, *others, *(up.new_tensor(h) for h in helpers)]))
    return tuple(grads)


EINSUM = register(Op(
    "einsum", "out[output letters] = Σ over the other letters of the product of the inputs' entries",
    ("Σ {up} · (the other inputs) over the letters this input lacks, with its letters as the output",),
    _einsum, _einsum_back, kind="contraction", written="einsum('{equation}', {inputs})", settings=("equation",),
    saves=lambda saved: tuple(tuple(k for k in range(len(saved[1])) if k != position)
                              for position in range(len(saved[1]))),  # each gradient reads the other inputs
    vjp_tensors=_einsum_vjp,
))


def _apply_einsum(equation: str, operands: list) -> Tensor:
    """The row on ``operands``, their arrays in one dtype (NumPy's promotion; each gradient is cast back)."""
    dtype = np.result_type(*(t.array for t in operands))
    return apply(EINSUM, tuple(operands), *(recorded_cast(t.array, dtype) for t in operands), equation)


def _from_sublists(arguments: tuple) -> tuple[str, tuple]:
    """The equation and operands of the sublist form ``einsum(A, [0, 1], B, [1, 2], [0, 2])`` (``"ab,bc->ac"``):
    each operand followed by its dims as numbers 0…51 (or ``...``), then, optionally, the output's."""
    def letters(sublist: Any) -> str:
        if not isinstance(sublist, (list, tuple)) or not all(d is Ellipsis or isinstance(d, int) for d in sublist):
            raise TypeError(f"einsum: a sublist must list dims as numbers 0…51 (or ...), got {sublist!r}")
        if not all(d is Ellipsis or 0 <= d < 52 for d in sublist):  # PyTorch's class: ValueError
            raise ValueError(f"einsum: a sublist's dims must be within [0, 52), got {sublist!r}")
        return "".join("..." if d is Ellipsis else "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[d]
                       for d in sublist)

    pairs, output = (arguments[:-1], arguments[-1]) if len(arguments) % 2 else (arguments, None)
    equation = ",".join(letters(sublist) for sublist in pairs[1::2])
    return equation + ("" if output is None else "->" + letters(output)), tuple(pairs[0::2])


def einsum(equation: Any, *operands: Any) -> Tensor:
    """``torch.einsum``: ``einsum("ij,jk->ik", A, B)`` is ``A @ B``; the operands may also come as one list, or
    each followed by its dims as numbers: ``einsum(A, [0, 1], B, [1, 2], [0, 2])``."""
    if not isinstance(equation, str):
        equation, operands = _from_sublists((equation, *operands))
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    tensors = [as_tensor(t) for t in operands]
    if not tensors:
        raise RuntimeError("einsum: give at least one operand after the equation")
    try:
        return _apply_einsum(normalized(equation, [tuple(t.shape) for t in tensors]), tensors)
    except ValueError as error:
        message = str(error)
        raise RuntimeError(message if message.startswith("einsum:") else f"einsum: {message}") from None
