"""A value of the wrong type (a number, a list, None, a string, a NumPy array) where a tensor or an int is expected.

``F.linear(x, 3)`` failed with ``'int' object has no attribute 'array'``, ``x.clamp('a')`` deep in a NumPy ufunc,
``x.masked_fill(m, None)`` filled NaN, ``Linear(2.5, 3)`` raised a ValueError where PyTorch raises a TypeError, and a
NumPy array in a message printed over several lines. Each row is ``make(lib)``: PyTorch raises there (of the class
given, unless the row says glassgrad's own), glassgrad raises the same class from its own check, in one line saying
which argument and what was expected.
"""

from __future__ import annotations

import numpy as np
import pytest
from one_line_errors import assert_glassgrad_refuses

import glassgrad as gg

torch = pytest.importorskip("torch", reason="PyTorch not installed: pip install torch==2.13.0")


def _x(lib, *shape):
    return lib.tensor(np.arange(np.prod(shape), dtype=np.float32).reshape(shape) / 10)


def _params(lib):
    return [lib.tensor(np.ones(3, np.float32), requires_grad=True)]


BIG = np.ones((5, 3), np.float32)
"""An array whose repr spans lines: a message must show it in one."""

TENSOR = "must be Tensor, not"
ERRORS = {
    # name: (make(lib), exception class, what glassgrad's message must say, whether PyTorch raises that class too)
    "linear(x, 3)": (lambda lib: lib.nn.functional.linear(_x(lib, 4, 3), 3), TypeError,
                     rf"linear\(\): argument 'weight' \(position 2\) {TENSOR} int", True),
    "linear(x, w, [..])": (lambda lib: lib.nn.functional.linear(_x(lib, 4, 3), _x(lib, 5, 3), [0.0] * 5), TypeError,
                           rf"linear\(\): argument 'bias' \(position 3\) {TENSOR} list", True),
    "conv1d(x, 3)": (lambda lib: lib.nn.functional.conv1d(_x(lib, 2, 3, 8), 3), TypeError,
                     rf"conv1d\(\): argument 'weight' \(position 2\) {TENSOR} int", True),
    "conv2d(x, w, 0.5)": (lambda lib: lib.nn.functional.conv2d(_x(lib, 1, 3, 4, 4), _x(lib, 2, 3, 2, 2), 0.5),
                          TypeError, rf"conv2d\(\): argument 'bias' \(position 3\) {TENSOR} float", True),
    "conv_transpose1d(x, None)": (lambda lib: lib.nn.functional.conv_transpose1d(_x(lib, 2, 3, 8), None), TypeError,
                                  rf"conv_transpose1d\(\): argument 'weight' \(position 2\) {TENSOR} NoneType", True),
    "prelu(x, 0.25)": (lambda lib: lib.nn.functional.prelu(_x(lib, 2, 3), 0.25), TypeError,
                       rf"prelu\(\): argument 'weight' \(position 2\) {TENSOR} float", True),
    "batch_norm(x, [..], None)": (lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3, 4), [0.0] * 3, None,
                                                                            training=True),
                                  TypeError, rf"batch_norm\(\): argument 'running_mean' {TENSOR} list", True),
    "layer_norm(x, (4,), weight=ndarray)": (lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 4), (4,),
                                                                                      np.ones(4, np.float32)),
                                            TypeError, rf"layer_norm\(\): argument 'weight' {TENSOR} ndarray", True),
    "layer_norm(x, 'a')": (lambda lib: lib.nn.functional.layer_norm(_x(lib, 2, 4), "a"), TypeError,
                           r"layer_norm: sizes must be whole numbers \(ints\), but got 'a' \(str\)", True),
    "embedding(i, ndarray)": (lambda lib: lib.nn.functional.embedding(lib.tensor([0, 1]), BIG), TypeError,
                              rf"embedding\(\): argument 'weight' \(position 2\) {TENSOR} ndarray", True),
    "clamp(x, 'a')": (lambda lib: _x(lib, 2, 3).clamp("a"), TypeError,
                      r"clamp: the value must be a number \(or a 0-d tensor\), not str", True),
    "clamp(x, max=[..])": (lambda lib: _x(lib, 3).clamp(max=[1.0, 2.0, 3.0]), TypeError,
                           r"clamp: the value must be a number .*, not list", True),
    "masked_fill(m, 'a')": (lambda lib: _x(lib, 2, 3).masked_fill(_x(lib, 2, 3) > 0, "a"), TypeError,
                            r"masked_fill: the value must be a number .*, not str", True),
    "masked_fill(m, None)": (lambda lib: _x(lib, 2, 3).masked_fill(_x(lib, 2, 3) > 0, None), TypeError,
                             r"masked_fill: the value must be a number .*, not NoneType", True),
    "masked_fill(m, [..])": (lambda lib: _x(lib, 2, 3).masked_fill(_x(lib, 2, 3) > 0, [1.0, 2.0, 3.0]), TypeError,
                             r"masked_fill: the value must be a number .*, not list", True),
    "fill_(None)": (lambda lib: _x(lib, 2, 3).fill_(None), TypeError, r"fill_: the value must be a number .*NoneType",
                    True),
    "index_fill(0, i, 'a')": (lambda lib: _x(lib, 2, 3).index_fill(0, lib.tensor([0]), "a"), TypeError,
                              r"index_fill: the value must be a number .*, not str", True),
    "max_pool2d(x, 1.5)": (lambda lib: lib.nn.functional.max_pool2d(_x(lib, 1, 2, 4, 4), 1.5), TypeError,
                           r"max_pool2d: kernel_size must be an integer or 2 of them, got 1.5 \(float\)", True),
    "avg_pool1d(x, 'a')": (lambda lib: lib.nn.functional.avg_pool1d(_x(lib, 2, 3, 8), "a"), TypeError,
                           r"avg_pool1d: kernel_size must be an integer or 1 of them, got 'a' \(str\)", True),
    "max_pool1d(x, None)": (lambda lib: lib.nn.functional.max_pool1d(_x(lib, 2, 3, 8), None), TypeError,
                            r"max_pool1d: kernel_size must be an integer or 1 of them, got None", True),
    "max_pool1d(x, (2, 3))": (lambda lib: lib.nn.functional.max_pool1d(_x(lib, 2, 3, 8), (2, 3)), RuntimeError,
                              r"max_pool1d: kernel_size must be an integer .* or 1 of them, got \(2, 3\)", True),
    "Conv2d(3, 4, 1.5)": (lambda lib: lib.nn.Conv2d(3, 4, 1.5), TypeError,
                          r"Conv2d: kernel_size must be an integer or 2 of them, got 1.5", True),
    "Linear(2.5, 3)": (lambda lib: lib.nn.Linear(2.5, 3), TypeError,
                       r"Linear: in_features must be an integer >= 0, got 2.5", True),
    "Embedding(None, 3)": (lambda lib: lib.nn.Embedding(None, 3), TypeError,
                           r"Embedding: num_embeddings must be an integer >= 0, got None", True),
    "LSTM('a', 3)": (lambda lib: lib.nn.LSTM("a", 3), TypeError, r"LSTM: input_size must be a positive integer", True),
    "Dropout('a')": (lambda lib: lib.nn.Dropout("a"), TypeError, r"dropout probability has to be between 0 and 1",
                     True),
    "dropout(x, None)": (lambda lib: lib.nn.functional.dropout(_x(lib, 2, 3), None), TypeError,
                         r"dropout probability has to be between 0 and 1, but got None", True),
    "topk(x, 1.5)": (lambda lib: _x(lib, 2, 3).topk(1.5), TypeError, r"topk\(\): argument 'k' must be int, not float",
                     True),
    "chunk(x, None)": (lambda lib: _x(lib, 2, 3).chunk(None), TypeError,
                       r"chunk\(\): argument 'chunks' must be int, not NoneType", True),
    "unsqueeze(x, 1.5)": (lambda lib: _x(lib, 2, 3).unsqueeze(1.5), TypeError,
                          r"unsqueeze\(\): argument 'dim' must be int, not float", True),
    "unsqueeze(x, ndarray)": (lambda lib: _x(lib, 2, 3).unsqueeze(BIG), TypeError,
                              r"unsqueeze\(\): argument 'dim' must be int, not ndarray", True),
    "narrow(x, 0, 0, 1.5)": (lambda lib: _x(lib, 2, 3).narrow(0, 0, 1.5), TypeError,
                             r"narrow\(\): argument 'length' must be int, not float", True),
    "sum(dim=ndarray)": (lambda lib: _x(lib, 2, 3).sum(dim=BIG), TypeError,
                         r"sum\(\): argument 'dim' must be int, not ndarray \(a ndarray of shape \(5, 3\)\)", True),
    "reshape(ndarray)": (lambda lib: _x(lib, 2, 3).reshape(BIG), TypeError,
                         r"reshape: sizes must be whole numbers \(ints\), but got a ndarray of shape \(5, 3\)", True),
    "Linear(ndarray, 3)": (lambda lib: lib.nn.Linear(BIG, 3), TypeError,
                           r"Linear: in_features must be an integer >= 0, got a ndarray of shape \(5, 3\)", True),
    "zeros_like(3)": (lambda lib: lib.zeros_like(3), TypeError,
                      rf"zeros_like\(\): argument 'input' \(position 1\) {TENSOR} int", True),
    "randn_like([..])": (lambda lib: lib.randn_like([1.0]), TypeError,
                         rf"randn_like\(\): argument 'input' \(position 1\) {TENSOR} list", True),
    "hardtanh(x, 'a')": (lambda lib: lib.nn.functional.hardtanh(_x(lib, 3), "a"), TypeError,
                         r"hardtanh\(\): argument 'min_val' must be Number, not str", True),
    "threshold(x, 'a', 0)": (lambda lib: lib.nn.functional.threshold(_x(lib, 3), "a", 0.0), TypeError,
                             r"threshold\(\): argument 'threshold' must be Number, not str", True),
    "LeakyReLU('a')": (lambda lib: lib.nn.LeakyReLU("a")(_x(lib, 3)), TypeError,
                       r"LeakyReLU\(\): argument 'negative_slope' must be Number, not str", True),
    "pad(x, value='a')": (lambda lib: lib.nn.functional.pad(_x(lib, 1, 2, 4), (1, 1), value="a"), TypeError,
                          r"pad\(\): argument 'value' must be Number, not str", True),
    "Softmax(dim='a')": (lambda lib: lib.nn.Softmax(dim="a")(_x(lib, 2, 3)), TypeError,
                         r"Softmax\(\): argument 'dim' must be int, not str", True),
    "Flatten(1.5)": (lambda lib: lib.nn.Flatten(1.5)(_x(lib, 2, 3)), TypeError,
                     r"Flatten\(\): argument 'start_dim' must be int, not float", True),
    "LayerNorm(4, eps='1e-5')": (lambda lib: lib.nn.LayerNorm(4, eps="1e-5")(_x(lib, 2, 4)), TypeError,
                                 r"LayerNorm\(\): argument 'eps' must be Number, not str", True),
    "reshape(-2, 3)": (lambda lib: _x(lib, 6).reshape(-2, 3), RuntimeError,
                       r"reshape: invalid shape dimension -2 at index 0 of shape \(-2, 3\)", True),
    "view(3, -3)": (lambda lib: _x(lib, 6).view(3, -3), RuntimeError, r"invalid shape dimension -3 at index 1", True),
    "cross_entropy(ignore_index=1.5)": (lambda lib: lib.nn.functional.cross_entropy(_x(lib, 2, 3), lib.tensor([0, 1]),
                                                                                     ignore_index=1.5),
                                        TypeError, r"cross_entropy\(\): argument 'ignore_index' must be int, not float",
                                        True),
    "NLLLoss(ignore_index='a')": (lambda lib: lib.nn.NLLLoss(ignore_index="a"), TypeError,
                                  r"NLLLoss\(\): argument 'ignore_index' must be int, not str", False),
    "SGD(lr=ndarray)": (lambda lib: lib.optim.SGD(_params(lib), lr=BIG), TypeError,
                        r"Invalid learning rate: a ndarray of shape \(5, 3\) \(must be a finite number >= 0\)", False),
    "Adam(betas=ndarray)": (lambda lib: lib.optim.Adam(_params(lib), betas=BIG), TypeError,
                            r"betas must be a pair of numbers .*, not a ndarray of shape \(5, 3\)", False),
}


@pytest.mark.parametrize("name", ERRORS)
def test_a_wrong_type_is_refused_in_one_line(name: str) -> None:
    make, kind, message, as_pytorch = ERRORS[name]
    if as_pytorch:
        with pytest.raises(kind):
            make(torch)
    assert_glassgrad_refuses(make, kind, message)


ACCEPTED = {
    # name: make(lib), whose result PyTorch gives too (a whole number may come as a 0-d integer tensor)
    "topk(x, tensor(2))": lambda lib: _x(lib, 2, 3).topk(lib.tensor(2))[0],
    "narrow(x, 1, tensor(1), 2)": lambda lib: _x(lib, 2, 3).narrow(1, lib.tensor(1), 2),
    "unsqueeze(x, tensor(1))": lambda lib: _x(lib, 2, 3).unsqueeze(lib.tensor(1)),
    "chunk(x, np.int64(2))": lambda lib: lib.stack(_x(lib, 4, 3).chunk(np.int64(2))),
    "max_pool1d(x, [2])": lambda lib: lib.nn.functional.max_pool1d(_x(lib, 2, 3, 8), [2]),
    "MaxPool1d(2, stride=(1,))": lambda lib: lib.nn.MaxPool1d(2, stride=(1,))(_x(lib, 2, 3, 8)),
    "clamp(x, 0.5)": lambda lib: _x(lib, 2, 3).clamp(0.5),
    "masked_fill(m, 1)": lambda lib: _x(lib, 2, 3).masked_fill(_x(lib, 2, 3) > 0.2, 1),
    "linear(x, w, None)": lambda lib: lib.nn.functional.linear(_x(lib, 4, 3), _x(lib, 5, 3), None),
    "batch_norm(x, None, None)": lambda lib: lib.nn.functional.batch_norm(_x(lib, 2, 3, 4), None, None,
                                                                           training=True),
}


@pytest.mark.parametrize("name", ACCEPTED)
def test_what_pytorch_takes_is_still_taken(name: str) -> None:
    ours, theirs = ACCEPTED[name](gg), ACCEPTED[name](torch)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-6)


def test_item_assignment_still_takes_a_list_and_layer_norm_an_int() -> None:
    """Two kept leniencies: ``x[0] = [..]`` writes the row (PyTorch 2.13 refuses a list there) and ``layer_norm``
    takes a single int as ``normalized_shape``, as ``nn.LayerNorm`` does (PyTorch's functional form refuses it)."""
    x = gg.zeros(2, 3)
    x[0] = [1.0, 2.0, 3.0]
    assert x.tolist() == [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]
    assert gg.nn.functional.layer_norm(_x(gg, 2, 4), 4).shape == (2, 4)
