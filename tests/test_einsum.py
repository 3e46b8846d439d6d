"""``gg.einsum``: the row of sums of products over named indices, against PyTorch 2.13.

Each equation gets hypothesis-drawn sizes for its letters (a size-1 letter in one operand may broadcast);
the value, the first derivative of every operand and a second derivative are compared with PyTorch's,
and the trace shows one einsum step with its equation.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

EQUATIONS = [
    "ij,jk->ik", "ij,jk", "ii->i", "ii", "ij->", "ij->j", "ji", "i,j->ij", "i,i->", "bij,bjk->bik",
    "bhqd,bhkd->bhqk", "ij,ij->ij", "iij->j", "ij,jk,kl->il", "ba,ab->", "i j , j k -> i k", "...ij,...jk->...ik",
    "b...,...->b...", "...->...", "ijk->kji", "ij,j->i",
]


def _shapes(equation: str, sizes: dict[str, int], extra: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The operands' shapes: each letter its size, ``...`` the extra leading dims (fewer for later operands)."""
    shapes = []
    for position, term in enumerate(equation.replace(" ", "").split("->")[0].split(",")):
        before, _, after = term.partition("...")
        dims = extra[position % 2:] if "..." in term else ()
        shapes.append(tuple(sizes[letter] for letter in before) + dims + tuple(sizes[letter] for letter in after))
    return shapes


def _results(lib, equation, arrays, outer, inner):
    tensors = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
    out = lib.einsum(equation, *tensors)
    weights = lib.tensor(np.resize(outer, tuple(out.shape)), dtype=lib.float64)
    firsts = lib.autograd.grad((out * out * weights).sum(), tensors, create_graph=True)
    seconds = lib.autograd.grad(sum((g * lib.tensor(i, dtype=lib.float64)).sum() for g, i in zip(firsts, inner)),
                                tensors)
    return [t.detach().numpy() for t in (out, *firsts, *seconds)]


@pytest.mark.torch
@given(sizes=st.fixed_dictionaries({letter: st.integers(1, 3) for letter in "abhijklqd"}),
       extra=st.lists(st.integers(1, 3), max_size=2).map(tuple), seed=st.integers(0, 2**16))
@pytest.mark.parametrize("equation", EQUATIONS)
def test_values_and_two_derivatives_match_pytorch(torch, equation, sizes, extra, seed):
    _assert_as_pytorch(torch, equation, _shapes(equation, sizes, extra), seed)


def _assert_as_pytorch(torch, equation, shapes, seed):
    """The value, first and second derivatives on random operands of ``shapes`` are PyTorch's."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=shape) for shape in shapes]
    outer, inner = rng.normal(size=128), [rng.normal(size=shape) for shape in shapes]
    mine, theirs = _results(gg, equation, arrays, outer, inner), _results(torch, equation, arrays, outer, inner)
    for ours, reference in zip(mine, theirs):
        assert ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-10)


@pytest.mark.torch
def test_a_size_one_index_broadcasts_and_its_gradient_is_summed_back(torch):
    arrays = [np.arange(6.0).reshape(2, 3), np.array([[0.5, -1.0, 2.0]])]
    mine, theirs = (_results(lib, "ij,ij->ij", arrays, np.ones(8), [np.ones((2, 3)), np.ones((1, 3))])
                    for lib in (gg, torch))
    for ours, reference in zip(mine, theirs):
        np.testing.assert_allclose(ours, reference, rtol=1e-12)


@pytest.mark.torch
@given(sizes=st.fixed_dictionaries({letter: st.integers(2, 3) for letter in "bijk"}),
       shrunk=st.lists(st.sets(st.sampled_from("bijk"), min_size=1), min_size=3, max_size=3),
       seed=st.integers(0, 2**16))
@pytest.mark.parametrize("equation", ["ij,jk->ik", "ij,ij->", "ij,jk->", "bij,bjk->bik", "ij,jk,k->i"])
def test_an_index_of_size_one_in_one_operand_broadcasts_also_where_it_is_summed(torch, equation, sizes, shrunk, seed):
    """A letter of size 1 in one operand and n in another (here also one that is summed away: ``"ij,jk->ik"`` with
    B of shape (1, k)) broadcasts as in PyTorch; the gradient of the size-n operand is the same along it (it
    raised: the backward gave a gradient of size 1 there), and that of the size-1 operand is summed back."""
    terms = equation.split("->")[0].split(",")
    _assert_as_pytorch(torch, equation, [tuple(1 if letter in shrunk[position] else sizes[letter] for letter in term)
                                         for position, term in enumerate(terms)], seed)


def test_operands_as_one_list_ints_promoted_and_the_trace_step():
    a, b = gg.tensor([[1.0, 2.0]], requires_grad=True), gg.tensor([[3], [4]])
    assert gg.einsum("ij,jk->ik", [a, b]).tolist() == [[11.0]]
    with gg.trace() as tape:
        gg.einsum("ij,jk", a, b).sum().backward()
    step = tape.describe()["forward"][0]
    assert step["op"] == "einsum" and step["settings"] == {"equation": "ij,jk->ik"}
    assert step["formula"] == "v₁ = einsum('ij,jk->ik', X, c₁)"  # b: a constant (no grad)
    assert a.grad.tolist() == [[3.0, 4.0]]


@pytest.mark.parametrize("call, message", [
    (lambda: gg.einsum("ij,jk->ik", gg.ones(2, 3)), "names 2 operands, but 1 were given"),
    (lambda: gg.einsum("ijk->i", gg.ones(2, 3)), "the term 'ijk' has 3 letters for an operand with 2 dims"),
    (lambda: gg.einsum("ij->ix", gg.ones(2, 3)), "must name each index once, and only indices of the inputs"),
    (lambda: gg.einsum("ij->ii", gg.ones(2, 2)), "must name each index once"),
    (lambda: gg.einsum("i1->i", gg.ones(2, 2)), "may hold only letters"),
    (lambda: gg.einsum("ij,jk->ik", gg.ones(2, 3), gg.ones(4, 2)), "einsum: "),
    (lambda: gg.einsum("ij"), "give at least one operand"),
])
def test_bad_equations_are_one_line_errors(call, message):
    with pytest.raises(RuntimeError) as error:
        call()
    assert message in str(error.value) and "\n" not in str(error.value)
