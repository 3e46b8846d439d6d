"""``torch.autograd.graph``: ``save_on_cpu`` runs (glassgrad keeps every tensor in the CPU's memory, so the
gradients are PyTorch's, the oracle's), ``saved_tensors_hooks`` is refused in one line; both are found where
PyTorch's code imports them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import glassgrad as gg


def gradients_under_save_on_cpu(library, array, pin_memory):
    x = library.tensor(array, requires_grad=True)
    with library.autograd.graph.save_on_cpu(pin_memory=pin_memory):
        loss = (x.tanh() * x.exp()).sum()
    loss.backward()
    return x.grad.tolist()


@given(array=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-2, 2)),
       pin_memory=st.booleans())
def test_save_on_cpu_gives_torchs_gradients(torch, array, pin_memory):
    np.testing.assert_allclose(gradients_under_save_on_cpu(gg, array, pin_memory),
                               gradients_under_save_on_cpu(torch, array, pin_memory), rtol=1e-12)


def test_saved_tensors_hooks_is_refused_in_one_line():
    with pytest.raises(NotImplementedError, match="saved_tensors_hooks is not supported in glassgrad"):
        gg.autograd.graph.saved_tensors_hooks(lambda tensor: tensor, lambda packed: packed)


def test_torch_programs_import_them():
    import subprocess
    import sys

    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch\n"
               "from torch.autograd.graph import save_on_cpu, saved_tensors_hooks\n"
               "x = torch.ones(2, requires_grad=True)\n"
               "with save_on_cpu():\n"
               "    y = (x * 3).sum()\n"
               "y.backward()\n"
               "print(x.grad.tolist())\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[3.0, 3.0]"
