"""PyTorch's loss options: class ``weight``, ``ignore_index``, ``label_smoothing``, the (C,) and (N, C, d₁, …)
layouts, and BCE's ``weight``/``pos_weight``; against PyTorch 2.13 in float64, and under ``gg.compile``."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import glassgrad as gg

F = gg.nn.functional
REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


@st.composite
def class_problems(draw):
    """Scores in one of PyTorch's layouts, targets (indices, some ignored, or probabilities) and options."""
    classes = draw(st.integers(2, 5))
    layout = draw(st.sampled_from(["one", "rows", "sequence", "image"]))
    batch = draw(st.integers(1, 4))
    extra = {"one": (), "rows": (), "sequence": (draw(st.integers(1, 3)),),
             "image": (draw(st.integers(1, 2)), draw(st.integers(1, 3)))}[layout]
    shape = (classes,) if layout == "one" else (batch, classes, *extra)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    scores = rng.standard_normal(shape) * 3
    probabilities = draw(st.booleans())
    options = {}
    if draw(st.booleans()):
        options["weight"] = rng.random(classes) + 0.1
    if draw(st.booleans()):
        options["label_smoothing"] = draw(st.sampled_from([0.1, 0.25, 1.0]))
    if probabilities:
        target = rng.random(shape)
        target = target / target.sum(axis=0 if layout == "one" else 1, keepdims=True)
    else:
        target = rng.integers(0, classes, () if layout == "one" else (batch, *extra))
        ignore_index = draw(st.sampled_from([-100, 0, classes - 1]))
        if ignore_index != -100:
            options["ignore_index"] = ignore_index
        elif target.ndim and draw(st.booleans()):
            target.reshape(-1)[0] = -100  # PyTorch's default ignore_index, in the data
    return scores, target, options


def _loss_and_gradient(lib, function, scores, target, options, reduction):
    z = lib.tensor(scores, requires_grad=True)
    given_options = {key: lib.tensor(value) if key.endswith("weight") else value for key, value in options.items()}
    loss = getattr(lib.nn.functional, function)(z, lib.tensor(target), reduction=reduction, **given_options)
    # a different weight per item, so that a wrong item or a wrong position shows in the gradient
    (loss * lib.tensor(np.arange(1.0, loss.numel() + 1).reshape(tuple(loss.shape)))).sum().backward()
    return loss.detach().numpy(), z.grad.numpy()


def _assert_same(mine, theirs):
    for a, b in zip(mine, theirs):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def _everything_ignored(target, options):
    ignore_index = options.get("ignore_index", -100)
    return target.dtype.kind != "f" and bool((target == ignore_index).all())


@pytest.mark.torch
@given(problem=class_problems(), reduction=REDUCTIONS)
def test_cross_entropy_matches_pytorch_in_every_layout_and_option(torch, problem, reduction):
    scores, target, options = problem
    if reduction == "mean" and _everything_ignored(target, options):
        return  # the documented difference: tested below
    mine = _loss_and_gradient(gg, "cross_entropy", scores, target, options, reduction)
    theirs = _loss_and_gradient(torch, "cross_entropy", scores, target, options, reduction)
    _assert_same(mine, theirs)


@pytest.mark.torch
@given(problem=class_problems(), reduction=REDUCTIONS)
def test_nll_loss_matches_pytorch_with_weight_and_ignore_index(torch, problem, reduction):
    scores, target, options = problem
    options.pop("label_smoothing", None)
    if target.dtype.kind == "f" or (reduction == "mean" and _everything_ignored(target, options)):
        return
    log_probs = scores - np.log(np.exp(scores).sum(axis=0 if scores.ndim == 1 else 1, keepdims=True))
    mine = _loss_and_gradient(gg, "nll_loss", log_probs, target, options, reduction)
    theirs = _loss_and_gradient(torch, "nll_loss", log_probs, target, options, reduction)
    _assert_same(mine, theirs)


@pytest.mark.parametrize("options", [{}, {"weight": np.array([1.0, 2.0, 0.5])}, {"label_smoothing": 0.2}])
def test_a_batch_whose_rows_are_all_ignored_has_loss_0_and_gradient_0(options):
    # PyTorch: loss NaN (0/0) and gradient 0; glassgrad divides by 1 there, so one padding-only batch cannot
    # turn the loss curve into NaN
    z = gg.tensor(np.ones((2, 3)), requires_grad=True)
    given_options = {key: gg.tensor(value) if key == "weight" else value for key, value in options.items()}
    loss = F.cross_entropy(z, gg.tensor([-100, -100]), **given_options)
    loss.backward()
    assert loss.item() == 0.0 and not z.grad.numpy().any()


def test_cross_entropy_by_hand_with_an_ignored_row_and_class_weights():
    z = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]]))  # softmax(z) = the rows
    weight = np.array([1.0, 2.0, 4.0])
    loss = F.cross_entropy(gg.tensor(z), gg.tensor([0, 2, 1]), gg.tensor(weight), ignore_index=2)
    # rows 0 and 2 count, with weights 1 and 2: −(1·ln 0.5 + 2·ln 0.2)/(1 + 2)
    assert loss.item() == pytest.approx(-(np.log(0.5) + 2 * np.log(0.2)) / 3, rel=1e-12)
    smoothed = F.cross_entropy(gg.tensor(z[:1]), gg.tensor([0]), label_smoothing=0.3)
    # target (1 − 0.3)·onehot + 0.3/3: −(0.8·ln 0.5 + 0.1·ln 0.25 + 0.1·ln 0.25)
    assert smoothed.item() == pytest.approx(-(0.8 * np.log(0.5) + 0.2 * np.log(0.25)), rel=1e-12)


@pytest.mark.torch
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=st.integers(0, 2**16),
       weighted=st.booleans(), positive=st.booleans(), reduction=REDUCTIONS)
def test_bce_weight_and_pos_weight_match_pytorch(torch, shape, seed, weighted, positive, reduction):
    rng = np.random.default_rng(seed)
    scores, labels = rng.standard_normal(shape) * 4, (rng.random(shape) > 0.5).astype(np.float64)
    options = {}
    if weighted:
        options["weight"] = rng.random(shape[-1:] if rng.random() < 0.5 else shape)
    mine = _loss_and_gradient(gg, "binary_cross_entropy", 1 / (1 + np.exp(-scores)), labels, options, reduction)
    theirs = _loss_and_gradient(torch, "binary_cross_entropy", 1 / (1 + np.exp(-scores)), labels, options,
                                reduction)
    _assert_same(mine, theirs)
    if positive:
        options["pos_weight"] = rng.random(shape[-1:]) * 3
    mine = _loss_and_gradient(gg, "binary_cross_entropy_with_logits", scores, labels, options, reduction)
    theirs = _loss_and_gradient(torch, "binary_cross_entropy_with_logits", scores, labels, options, reduction)
    _assert_same(mine, theirs)


@pytest.mark.torch
def test_loss_modules_take_pytorchs_arguments_and_keep_weights_as_buffers(torch):
    weight = np.array([1.0, 3.0])
    for name, kwargs in [("CrossEntropyLoss", {"ignore_index": 1, "label_smoothing": 0.1}), ("NLLLoss", {}),
                         ("BCELoss", {}), ("BCEWithLogitsLoss", {"pos_weight": np.array([2.0, 0.5])})]:
        mine = getattr(gg.nn, name)(gg.tensor(weight), **{k: gg.tensor(v) if k == "pos_weight" else v
                                                          for k, v in kwargs.items()})
        theirs = getattr(torch.nn, name)(torch.tensor(weight), **{k: torch.tensor(v) if k == "pos_weight" else v
                                                                  for k, v in kwargs.items()})
        assert list(mine.state_dict()) == list(theirs.state_dict())
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(mine.state_dict()[key].numpy(), value.numpy())
    assert gg.nn.CrossEntropyLoss(ignore_index=0, label_smoothing=0.1).config() == {
        "reduction": "mean", "ignore_index": 0, "label_smoothing": 0.1}


@pytest.mark.parametrize("call, error, message", [
    (lambda: F.cross_entropy(gg.ones(2, 3), gg.tensor([0, 5])), IndexError,
     r"^cross_entropy: target label 5 is out of range: labels must be in \[0, 2\] \(or ignore_index, -100\)$"),
    (lambda: F.cross_entropy(gg.ones(2, 3), gg.ones(2, 3) / 3, ignore_index=0), RuntimeError,
     r"^cross_entropy: ignore_index is not supported for probability \(float\) targets"),
    (lambda: F.cross_entropy(gg.ones(2, 3), gg.tensor([0, 1]), gg.ones(2)), RuntimeError,
     r"^cross_entropy: weight must be a float tensor with one entry per class, shape \(3,\)"),
    (lambda: F.cross_entropy(gg.ones(2, 3), gg.tensor([0, 1]), label_smoothing=1.5), RuntimeError,
     r"^cross_entropy: label_smoothing must be in \[0, 1\], got 1.5$"),
    (lambda: F.cross_entropy(gg.ones(2, 3, 4), gg.tensor([[0, 1, 2]])), ValueError,
     r"^cross_entropy: the scores hold a batch of 2 \(dim 0 of \(2, 3, 4\)\) but the target of shape \(1, 3\)"),
    (lambda: F.cross_entropy(gg.ones(2, 3, 4), gg.tensor([[0, 1, 2]] * 2)), RuntimeError,
     r"^cross_entropy: for scores of shape \(2, 3, 4\) \(classes on dim 1\) the target must have shape \(2, 4\)"),
    (lambda: F.nll_loss(gg.ones(2, 3), gg.tensor([0, 1]), size_average="sum"), TypeError,
     r"^nll_loss: size_average must be True, False or None, got 'sum'; give the reduction by keyword instead"),
    (lambda: F.binary_cross_entropy_with_logits(gg.ones(2, 3), gg.ones(2, 3), pos_weight=gg.ones(2)), RuntimeError,
     r"^binary_cross_entropy_with_logits: pos_weight of shape \(2,\) does not broadcast to the input's shape"),
])
def test_bad_options_are_refused_in_one_line(call, error, message):
    with pytest.raises(error, match=message) as raised:
        call()
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("options", [{}, {"ignore_index": 0}, {"weight": [1.0, 2.0, 0.5, 1.0]},
                                     {"label_smoothing": 0.1, "ignore_index": 3}])
@pytest.mark.parametrize("dtype", [gg.float32, gg.float64])
def test_compiled_steps_with_sometimes_ignored_targets_stay_bit_identical(options, dtype):
    """Batches with and without ignored rows alternate: a compiled step must follow each batch, as eager does."""
    def train(compiled):
        gg.manual_seed(0)
        model = gg.nn.Sequential(gg.nn.Linear(3, 8), gg.nn.ReLU(), gg.nn.Linear(8, 4)).to(dtype)
        optimizer = gg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        loss_fn = gg.nn.CrossEntropyLoss(**{k: gg.tensor(v, dtype=dtype) if k == "weight" else v
                                            for k, v in options.items()})

        def step(x, y):
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            return loss

        run = gg.compile(step, fullgraph=True) if compiled else step
        rng = np.random.default_rng(1)
        losses = []
        for number in range(30):
            y = rng.integers(0, 4, 6)
            if number % 3 == 0:
                y[:2] = options.get("ignore_index", -100)
            losses.append(run(gg.tensor(rng.standard_normal((6, 3)), dtype=dtype), gg.tensor(y)).item())
        return losses, [p.numpy().copy() for p in model.parameters()], run

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        eager, compiled = train(False), train(True)
    assert eager[0] == compiled[0]
    assert all(np.array_equal(a, b) for a, b in zip(eager[1], compiled[1]))
    assert sum(entry.replays for entry in compiled[2].entries.values()) > 20


def test_a_trace_of_a_step_with_ignored_targets_explains_it():
    model = gg.nn.Linear(3, 4)
    with gg.trace() as tape:
        loss = F.cross_entropy(model(gg.ones(2, 3)), gg.tensor([1, -100]))
        loss.backward()
    text = tape.render()  # the trace's loss view writes items per row: the call is made of ops there
    assert "log_softmax" in text and "gather" in text
    assert loss.item() == pytest.approx(F.cross_entropy(model(gg.ones(1, 3)), gg.tensor([1])).item(), rel=1e-6)
