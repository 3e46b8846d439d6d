"""An audit of the decisions an op takes in Python from tensor values (not shapes), inside a ``gg.compile``d step.

A capture records such a decision once; a replay runs the recorded kernels alone, so a check made in Python before
the op, or an array worked out in Python and handed to a kernel, stayed as the captures had it. Found and fixed:
``gather``/``scatter``/``index_select``/``index_add``/``index_copy``'s index range (a later -1 read the last entry,
an index past the end the next row's first, without a word), ``take_along_dim``'s negative indices (worked out in
Python: the captures' indices were kept for every later call), ``zeta``/``igamma``'s tensor setting (a copy made in
Python: the captures' exponent kept), ``max_unpool``'s and ``embedding_bag``'s checks (a later call met NumPy's
error, not eager's), ``t[index]``'s IndexError (the replay gave NumPy's bare message). The rest pin ops that
already behaved: each check is a kernel of the step, or the step runs eagerly, saying why.

The oracle is eager: the same step on an identical copy of the state, the good calls bit for bit (the loss, the
weight after an SGD step, its gradient) and the same error at the bad call.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import glassgrad as gg

F = gg.nn.functional
GOOD = 4
X = np.random.default_rng(0).standard_normal((3, 4))


def _training_step(loss_of):
    """A step of SGD on a 4×4 weight, its loss ``loss_of(x @ w, *more)``; gives the loss, the weight and its grad."""
    w = gg.tensor(np.eye(4) * 0.9, requires_grad=True)
    opt = gg.optim.SGD([w], lr=0.1)

    def step(x, *more):
        opt.zero_grad()
        loss = loss_of(x @ w, *more)
        loss.backward()
        opt.step()
        return loss, w, w.grad
    return step


def _outcomes(wrap, make, calls):
    step, seen, said = wrap(make()), [], []
    for args in calls:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                out = step(*args)
            said += [str(warning.message) for warning in caught]
            seen.append([part.numpy().copy() for part in (out if isinstance(out, tuple) else (out,))])
        except Exception as error:  # noqa: BLE001 (the error, type and text, is what is compared)
            seen.append(f"{type(error).__name__}: {error}")
    return seen, said, step


def _same_as_eager(make, calls, replays=GOOD - 2 + 1):
    """Compiled and eager runs of ``make()``'s step agree at every call; the compiled one replayed ``replays``
    calls without a warning (the bad call a replay too)."""
    eager, _, _ = _outcomes(lambda step: step, make, calls)
    compiled, said, step = _outcomes(gg.compile, make, calls)
    for mine, theirs in zip(compiled, eager, strict=True):
        if isinstance(theirs, str) or isinstance(mine, str):
            assert mine == theirs
        else:
            for a, b in zip(mine, theirs, strict=True):
                np.testing.assert_array_equal(a, b)
    if replays is not None:
        assert said == []
        assert sum(entry.replays for entry in step.entries.values()) == replays
    return eager


def _calls(good, bad):
    return [good] * GOOD + [bad]


def _t(values):
    return gg.tensor(values)


# --- holes: each fails on d1aed90 ---------------------------------------------------------------------------

INDEX_HOLES = {
    # a -1 read the row's last entry; eager refuses it (gather refuses negative indices, as PyTorch)
    "gather -1": (lambda y, i: y.gather(1, i).sum(), [[0], [1], [3]], [[0], [-1], [2]]),
    # an index past the end of row 0 read row 1's first entry (the kernel indexes the flat array)
    "gather past the end": (lambda y, i: y.gather(1, i).sum(), [[0], [1], [3]], [[4], [1], [2]]),
    "index_select -1": (lambda y, i: (y.index_select(1, i) * _t([1.0, 2.0])).sum(), [0, 3], [0, -1]),
    "index_select past the end": (lambda y, i: y.index_select(1, i).sum(), [0, 3], [0, 4]),
    "scatter_add past the end": (lambda y, i: y.scatter_add(1, i, y[:, :1]).pow(2).sum(), [[0], [1], [3]],
                                 [[4], [1], [2]]),
    "scatter past the end": (lambda y, i: y.scatter(1, i, 1.0).pow(2).sum(), [[0], [1], [3]], [[0], [1], [4]]),
    "index_add past the end": (lambda y, i: y.index_add(0, i, y[:2]).pow(2).sum(), [0, 2], [0, 3]),
    "index_copy past the end": (lambda y, i: y.index_copy(0, i, y[:2] * 2).pow(2).sum(), [0, 2], [0, 5]),
    "t[index] past the end": (lambda y, i: y[i].sum(), [0, 2], [0, 3]),
    "take past the end": (lambda y, i: y.take(i).sum(), [0, 11], [0, 12]),
    "index_put past the end": (lambda y, i: y.index_put((i,), _t(1.0).double()).pow(2).sum(), [0, 2], [0, 3]),
    "put_ past the end": (lambda y, i: y.clone().put_(i, _t([1.0, 2.0]).double()).pow(2).sum(), [0, 2], [0, 12]),
    # negative indices were counted from the end in Python: the captures' indices were kept for later calls
    "take_along_dim from the end": (lambda y, i: (gg.take_along_dim(y, i, 1) * _t([[1.0], [2.0], [3.0]])).sum(),
                                    [[0], [-1], [2]], [[0], [1], [-2]]),
    "take_along_dim past the start": (lambda y, i: gg.take_along_dim(y, i, 1).sum(), [[0], [-1], [2]],
                                      [[0], [-5], [2]]),
}


@pytest.mark.parametrize("case", sorted(INDEX_HOLES))
def test_an_index_after_the_captures_is_read_or_refused_as_eager_does(case):
    loss_of, good, bad = INDEX_HOLES[case]
    _same_as_eager(lambda: _training_step(loss_of), _calls((_t(X), _t(good)), (_t(X), _t(bad))))


def test_gather_refuses_a_negative_index_at_a_replayed_call_with_eagers_words():
    eager = _same_as_eager(lambda: _training_step(INDEX_HOLES["gather -1"][0]),
                           _calls((_t(X), _t([[0], [1], [3]])), (_t(X), _t([[0], [-1], [2]]))))
    assert eager[-1] == "RuntimeError: gather: index -1 is out of bounds for dim 1 of size 4 (expected 0 <= index < 4)"


def test_max_unpool_refuses_a_stray_index_at_a_replayed_call_with_eagers_words():
    pooled = _t([[[1.0, 2.0]]])
    eager = _same_as_eager(lambda: lambda x, i: F.max_unpool1d(x, i, 2),
                           _calls((pooled, _t([[[1, 2]]])), (pooled, _t([[[1, 9]]]))))
    assert eager[-1].startswith("RuntimeError: max_unpool2d: an index is outside the output plane 1×4")


def test_embedding_bag_refuses_offsets_past_the_input_at_a_replayed_call_with_eagers_words():
    indices = _t([0, 1, 2, 1])
    eager = _same_as_eager(lambda: _training_step(lambda y, o: F.embedding_bag(indices, y, o, mode="mean").sum()),
                           _calls((_t(X), _t([0, 2])), (_t(X), _t([0, 7]))))
    assert eager[-1].startswith("RuntimeError: embedding_bag: offsets must be integers from 0, not decreasing")


@pytest.mark.parametrize("name", ["zeta", "igamma", "igammac"])
def test_a_tensor_setting_is_read_at_every_replayed_call(name):
    """``zeta(x, q)``'s exponent x (``igamma(a, x)``'s shape a) is the row's setting: a copy made in Python, which a
    replay kept as the captures had it (ζ(2, 1) given for ζ(4, 1))."""
    function = {"zeta": gg.special.zeta, "igamma": gg.igamma, "igammac": gg.igammac}[name]
    eager = _same_as_eager(lambda: function,
                           _calls((_t([2.0, 3.0]), _t([1.0, 1.5])), (_t([4.0, 3.0]), _t([1.0, 1.5]))))
    assert not np.array_equal(eager[-1][0], eager[0][0])


# --- pins: already read at every call, or run eagerly saying why --------------------------------------------

PINNED = {
    "cross_entropy label past the classes": (lambda y, t: F.cross_entropy(y, t), [0, 1, 2], [0, 1, 4]),
    "cross_entropy -1 label": (lambda y, t: F.cross_entropy(y, t), [0, 1, 2], [0, -1, 2]),
    "cross_entropy every label ignored": (lambda y, t: F.cross_entropy(y, t, ignore_index=1), [0, 1, 2], [1, 1, 1]),
    "cross_entropy label_smoothing": (lambda y, t: F.cross_entropy(y, t, label_smoothing=0.1), [0, 1, 2], [0, 1, 7]),
    "nll_loss label past the classes": (lambda y, t: F.nll_loss(y.log_softmax(1), t), [0, 1, 2], [0, 1, 5]),
    "nll_loss weight zeroing every label": (lambda y, t: F.nll_loss(y, t, weight=_t([0.0, 1.0, 1.0, 1.0])),
                                            [1, 2, 3], [0, 0, 0]),
    "one_hot past num_classes": (lambda y, t: (y * F.one_hot(t, 4)).sum(), [0, 1, 2], [0, 1, 4]),
    "embedding past the table": (lambda y, t: F.embedding(t, y).sum(), [0, 2], [0, 3]),
    "index_fill past the end": (lambda y, t: y.index_fill(0, t, 2.0).pow(2).sum(), [0, 2], [0, 5]),
    "t[index] from the end": (lambda y, t: (y[t] * _t([1.0, 2.0, 3.0, 4.0])).sum(), [0, 2], [0, -1]),
    "masked_fill by a mask": (lambda y, m: y.masked_fill(m, 0.0).pow(2).sum(), [[True], [False], [True]],
                              [[False], [False], [False]]),
    "clamp by tensor bounds min > max": (lambda y, lo: y.clamp(lo, _t(np.zeros(4))).pow(2).sum(), -np.ones(4),
                                         np.ones(4)),
    "where by a condition": (lambda y, c: gg.where(c, y, y * 2).sum(), [True, False, True, True], [False] * 4),
    "normalize of zeros": (lambda y, s: F.normalize(y * s).sum(), np.ones(4), np.zeros(4)),
    "binary_cross_entropy target past 1": (lambda y, t: F.binary_cross_entropy(y.sigmoid(), t),
                                           np.full((3, 4), 0.5), np.full((3, 4), 1.5)),
    "cosine_embedding_loss label 0": (lambda y, t: F.cosine_embedding_loss(y, y * 2 + 1, t), [1.0, -1.0, 1.0],
                                      [1.0, 0.0, 2.0]),
    "hinge_embedding_loss label 0": (lambda y, t: F.hinge_embedding_loss(y, t), np.ones((3, 4)), np.zeros((3, 4))),
    "margin_ranking_loss label 0": (lambda y, t: F.margin_ranking_loss(y[0], y[1], t), [1.0, -1.0, 1.0, 1.0],
                                    [1.0, 0.0, 3.0, 1.0]),
}


@pytest.mark.parametrize("case", sorted(PINNED))
def test_a_value_after_the_captures_already_met_what_eager_meets(case):
    loss_of, good, bad = PINNED[case]
    _same_as_eager(lambda: _training_step(loss_of), _calls((_t(X), _t(good)), (_t(X), _t(bad))))


def test_clip_grad_norm_refuses_a_non_finite_norm_at_a_replayed_call():
    def make():
        w = gg.tensor(np.eye(4) * 0.9, requires_grad=True)

        def step(x):
            w.grad = None
            loss = (x @ w).sum()
            loss.backward()
            return loss, gg.nn.utils.clip_grad_norm_([w], 1.0, error_if_nonfinite=True), w.grad
        return step
    eager = _same_as_eager(make, _calls((_t(X),), (_t(np.full((3, 4), np.inf)),)))
    assert eager[-1].startswith("RuntimeError: clip_grad_norm_: the total norm")


SAMPLED = {
    "multinomial without replacement": (lambda p: gg.multinomial(p, 2), [0.2, 0.3, 0.5], [0.0, 0.0, 1.0]),
    "multinomial negative weight": (lambda p: gg.multinomial(p, 1), [0.2, 0.3, 0.5], [-1.0, 0.0, 1.0]),
    "normal negative std": (lambda s: gg.normal(_t([0.0, 0.0, 0.0]), s), [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]),
    "Categorical.log_prob outside the support": (
        lambda v: gg.distributions.Categorical(probs=_t([0.5, 0.5])).log_prob(v), [0, 1, 1], [0, 2, 1]),
    "Normal negative scale": (lambda s: gg.distributions.Normal(_t([0.0, 0.0, 0.0]), s).log_prob(_t(0.0)),
                              [1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]),
    "cholesky of an indefinite matrix": (lambda d: gg.linalg.cholesky(gg.diag(d)), [2.0, 1.0, 1.0], [1.0, -1.0, 1.0]),
    "inv of a singular matrix": (lambda d: gg.linalg.inv(gg.diag(d)), [2.0, 1.0, 1.0], [1.0, 0.0, 1.0]),
}


@pytest.mark.parametrize("case", sorted(SAMPLED))
def test_a_check_of_a_draw_or_a_factorization_is_read_at_every_replayed_call(case):
    function, good, bad = SAMPLED[case]

    def make():
        gg.manual_seed(0)
        return function
    eager = _same_as_eager(make, _calls((_t(good),), (_t(bad),)))
    assert isinstance(eager[-1], str)


def test_ops_sized_by_values_run_eagerly_saying_why():
    """``one_hot(num_classes=-1)``, ``bincount``, ``nonzero``, ``unique``, ``repeat_interleave`` by a tensor: the
    output's size is read from the values; the compiled step runs eagerly with one warning, eager's results."""
    for function, good, bad in [(F.one_hot, [0, 1, 2], [0, 1, 3]), (gg.bincount, [0, 1, 1], [0, 3, 1]),
                                (gg.nonzero, [0, 1, 2], [3, 0, 0]), (gg.unique, [0, 1, 2], [1, 1, 2]),
                                (lambda r: _t(X).repeat_interleave(r, dim=0), [1, 2, 1], [2, 2, 1])]:
        eager, _, _ = _outcomes(lambda step: step, lambda f=function: f, _calls((_t(good),), (_t(bad),)))
        compiled, said, _ = _outcomes(gg.compile, lambda f=function: f, _calls((_t(good),), (_t(bad),)))
        for mine, theirs in zip(compiled, eager, strict=True):
            np.testing.assert_array_equal(mine[0], theirs[0])
        assert len(said) == 1 and "running it eagerly" in said[0]


@pytest.mark.parametrize("case", ["masked_scatter", "lstsq"])
def test_a_way_picked_by_the_values_runs_the_step_eagerly_saying_why(case):
    """``masked_scatter`` worked out in Python which of source's entries it reads, and how many (a replay kept the
    captures': other numbers, without a word); ``lstsq`` picks QR or the pseudo-inverse by A's rank (a replay kept
    QR, and refused a later rank-deficient A that eager solves). Both now run eagerly, saying why."""
    loss_of, good, bad = {
        "masked_scatter": (lambda y, m: y.masked_scatter(m, y * 2).pow(2).sum(), [[True], [False], [True]],
                           [[True], [True], [True]]),
        "lstsq": (lambda y, s: gg.linalg.lstsq(y * s, _t(np.ones((3, 1))).double()).solution.sum(), 1.0, 0.0),
    }[case]
    calls = _calls((_t(X), _t(good).double() if case == "lstsq" else _t(good)),
                   (_t(X), _t(bad).double() if case == "lstsq" else _t(bad)))
    _same_as_eager(lambda: _training_step(loss_of), calls, replays=None)
    _, said, step = _outcomes(gg.compile, lambda: _training_step(loss_of), calls)
    assert len(said) == 1 and case in said[0] and "running it eagerly" in said[0]
    assert sum(entry.replays for entry in step.entries.values()) == 0


NUMBER_READS = {
    # name: (step of x and a 0-d tensor, the good 0-d value, a later one, what the warning names)
    "x[i]": (lambda x, i: x[i] * 2, 1, 2, "x[i] with a 0-d integer tensor i"),
    "x[:, i]": (lambda x, i: x[:, i] * 2, 1, 2, "x[i] with a 0-d integer tensor i"),
    "x[i] = 0": (lambda x, i: (lambda c: (c.__setitem__(i, 0.0), c)[1])(x.clone()), 1, 2,
                 "x[i] with a 0-d integer tensor i"),
    "fill": (lambda x, v: gg.fill(x, v), 1.0, 2.0, "fill"),
    "new_full": (lambda x, v: x.new_full((2,), v), 1.0, 2.0, "new_full"),
    "tensor_split into sections": (lambda x, n: gg.tensor_split(x, n, dim=1)[0], 2, 4, "tensor_split"),
    # a Python bool the step's own `if` reads: the captures' branch was replayed for every later value
    "if gg.equal": (lambda x, v: x * 2 if gg.equal(v, _t(1.0)) else x * 3, 1.0, 0.0, "equal"),
    "if allclose": (lambda x, v: x * 2 if v.allclose(_t(1.0)) else x * 3, 1.0, 0.0, "allclose"),
    "if is_nonzero": (lambda x, v: x * 2 if gg.is_nonzero(v) else x * 3, 1.0, 0.0, "is_nonzero"),
}


@pytest.mark.parametrize("case", sorted(NUMBER_READS))
def test_a_number_read_from_a_0d_tensor_runs_the_step_eagerly_saying_why(case):
    """The number was read in Python (``int(i.array)``, NumPy's ``.item()``) without a word to the capture, so a
    replay kept the captures' row, fill value or sections (x[i] gave row 1 for i = 2); now the step runs eagerly,
    saying why, and gives eager's results."""
    function, good, bad, named = NUMBER_READS[case]
    calls = _calls((_t(X), _t(good)), (_t(X), _t(bad)))
    eager, _, _ = _outcomes(lambda step: step, lambda: function, calls)
    compiled, said, step = _outcomes(gg.compile, lambda: function, calls)
    for mine, theirs in zip(compiled, eager, strict=True):
        np.testing.assert_array_equal(mine[0], theirs[0])
    assert len(said) == 1 and named in said[0] and "eagerly" in said[0]
    assert sum(entry.replays for entry in step.entries.values()) == 0


def test_nan_to_num_replays_following_each_calls_non_finite_entries():
    """``nan_to_num`` worked out its mask and fill values in Python, so a compiled step calling it ran eagerly (a
    conservative refusal); both are now kernels of the step: it replays, and a later call's inf and NaN are
    replaced where that call has them, as eager does."""
    good, bad = np.ones(4), np.array([np.inf, 1.0, np.nan, -np.inf])
    eager = _same_as_eager(lambda: _training_step(lambda y, s: (y + s).nan_to_num(0.0, 5.0, -5.0).sum()),
                           [(_t(X), _t(good)), (_t(X), _t(bad)), (_t(X), _t(good)), (_t(X), _t(good)),
                            (_t(X), _t(bad))])
    assert not np.array_equal(eager[-1][2], eager[-2][2])  # the gradient is 0 where the entry was not finite


@pytest.mark.parametrize("case", ["fweights changed", "fweights negative", "aweights negative"])
def test_cov_reads_its_weights_at_every_replayed_call(case):
    """``cov``'s frequency weights were made floats in Python (a constant: the captures' counts ever after) and
    both weights' signs checked in Python (only the captures' checked); both are now kernels of the step."""
    good, bad = {"fweights changed": ([1, 1, 1, 1], [1, 2, 1, 1]), "fweights negative": ([1, 1, 1, 1], [1, -2, 1, 1]),
                 "aweights negative": ([1.0, 1.0, 1.0, 1.0], [1.0, -2.0, 1.0, 1.0])}[case]
    keyword = "aweights" if case.startswith("a") else "fweights"
    _same_as_eager(lambda: _training_step(lambda y, w: y.cov(**{keyword: w}).sum()),
                   _calls((_t(X), _t(good).double() if keyword == "aweights" else _t(good)),
                          (_t(X), _t(bad).double() if keyword == "aweights" else _t(bad))))
