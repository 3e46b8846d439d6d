"""``t.data`` has PyTorch's meaning: a tensor outside the graph sharing the memory (not a NumPy array)."""

import numpy as np
import pytest

import glassgrad as gg


def test_data_is_a_detached_tensor_sharing_memory():
    p = gg.nn.Parameter(gg.tensor([1.0, 2.0, 3.0]))
    d = p.data
    assert type(d) is gg.Tensor and not d.requires_grad and d.is_leaf
    assert np.shares_memory(d.numpy(), p.numpy())
    d[0] = 10.0
    assert p.tolist() == [10.0, 2.0, 3.0]


def test_manual_sgd_through_data_matches_pytorch(torch):
    w0 = np.array([[0.5, -1.0], [2.0, 0.25]])
    x0 = np.array([[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]])
    ours, theirs = gg.tensor(w0, requires_grad=True), torch.tensor(w0, requires_grad=True)
    for _ in range(3):
        for w, lib in ((ours, gg), (theirs, torch)):
            loss = ((lib.tensor(x0) @ w).tanh() ** 2).sum()
            w.grad = None
            loss.backward()
            w.data += -0.1 * w.grad
    np.testing.assert_allclose(ours.numpy(), theirs.detach().numpy(), rtol=1e-12)


def test_a_change_through_data_before_backward_is_caught_not_used():
    w = gg.tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.data.mul_(3)  # PyTorch would silently use the new values: 2·(3w) instead of 2w
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_setting_data_swaps_the_values_and_refuses_non_tensors():
    t = gg.tensor([1.0, 2.0])
    t.data = gg.tensor([[5.0, 6.0, 7.0]])
    assert t.shape == (1, 3) and t.tolist() == [[5.0, 6.0, 7.0]]
    with pytest.raises(TypeError, match=r"needs a Tensor, got list; wrap it first"):
        t.data = [1.0]
