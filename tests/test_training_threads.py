"""gg.fit and NumPy's BLAS threads: one thread while the step's matrix products are small, as set before after.

The oracle is threadpoolctl's own report of the thread count of NumPy's BLAS, read from inside
training (a callback) and after it.
"""

from __future__ import annotations

import numpy as np
import pytest

import glassgrad as gg
from glassgrad import training
from glassgrad.training import ONE_THREAD_PRODUCT, Callback, fit

threadpoolctl = pytest.importorskip("threadpoolctl")


def blas_threads() -> set[int]:
    """The thread counts of every BLAS loaded (NumPy's; PyTorch's too once a torch test has run)."""
    return {info["num_threads"] for info in threadpoolctl.threadpool_info() if info["user_api"] == "blas"}


def _has_blas() -> bool:
    return any(info["user_api"] == "blas" for info in threadpoolctl.threadpool_info())


class ThreadsSeen(Callback):
    def __init__(self) -> None:
        self.seen: list[set[int]] = []

    def on_batch_end(self, state) -> None:
        self.seen.append(blas_threads())


def train(sizes: list[int], batch: int, fail: bool = False) -> list[set[int]]:
    rng = np.random.default_rng(0)
    features = gg.from_numpy(rng.standard_normal((batch, sizes[0]), dtype=np.float32))
    data = gg.data.TensorDataset(features, gg.from_numpy(rng.integers(0, sizes[-1], batch)))
    model = gg.nn.mlp(sizes, seed=0)
    watch = ThreadsSeen()
    callbacks = [watch]
    if fail:
        class Boom(Callback):
            def on_batch_end(self, state) -> None:
                raise RuntimeError("boom")

        callbacks.append(Boom())
    fit(model, gg.nn.CrossEntropyLoss(), gg.optim.Adam(model.parameters()), gg.data.DataLoader(data, batch),
        callbacks=callbacks, progress=False)
    return watch.seen


@pytest.fixture
def two_threads(monkeypatch):
    monkeypatch.setattr(training, "_cores_busy", lambda: False)
    if not _has_blas():
        pytest.skip("NumPy's BLAS is not visible to threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        if blas_threads() != {2}:
            pytest.skip("this BLAS cannot be set to two threads")
        yield


def test_a_small_model_trains_on_one_blas_thread_and_the_setting_comes_back(two_threads):
    assert 128 * 256 * 256 <= ONE_THREAD_PRODUCT
    assert train([256, 256, 10], batch=128) == [{1}]
    assert blas_threads() == {2}


def test_a_large_product_keeps_the_threads(two_threads):
    assert 128 * 784 * 256 > ONE_THREAD_PRODUCT
    assert train([784, 256, 10], batch=128) == [{2}]
    assert blas_threads() == {2}


def test_the_setting_comes_back_when_training_raises(two_threads):
    with pytest.raises(RuntimeError, match="boom"):
        train([8, 4, 2], batch=4, fail=True)
    assert blas_threads() == {2}


def test_on_busy_cores_a_large_product_gets_one_thread_too(two_threads, monkeypatch):
    monkeypatch.setattr(training, "_cores_busy", lambda: True)
    assert train([784, 256, 10], batch=128) == [{1}]
    assert blas_threads() == {2}


def test_the_cores_are_busy_when_the_load_average_reaches_their_number(monkeypatch):
    cores = len(training.os.sched_getaffinity(0))
    monkeypatch.setattr(training.os, "getloadavg", lambda: (cores + 0.1, 0.0, 0.0))
    assert training._cores_busy()
    monkeypatch.setattr(training.os, "getloadavg", lambda: (cores - 0.5, 9.0, 9.0))
    assert not training._cores_busy()


def test_a_system_without_a_load_average_counts_as_not_busy(monkeypatch):
    """Windows has no os.getloadavg: training goes on with NumPy's threads instead of failing."""
    monkeypatch.delattr(training.os, "getloadavg")
    assert not training._cores_busy()
