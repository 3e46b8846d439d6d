"""Devices, honestly (issue 11, item 3): glassgrad runs on the CPU and says so.

``gg.device``, ``t.device``, ``.to(device)``, ``.cpu()``, ``Module.to/cpu``, ``device=`` on creation
functions, and ``gg.cuda`` / ``gg.backends.mps`` / ``gg.accelerator`` answering "no GPU" so that
device-agnostic PyTorch code runs on the CPU; asking for a GPU is one line saying how to write
that code. The same names import through :mod:`glassgrad.torch_names` as ``torch.cuda``, ….
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import glassgrad as gg

AGNOSTIC = "device = 'cuda' if torch.cuda.is_available() else 'cpu'"


@pytest.mark.torch
def test_devices_compare_print_and_parse_as_in_pytorch(torch):
    for spelling in ("cpu", "cpu:0", "cuda", "cuda:1", "mps"):
        ours, theirs = gg.device(spelling), torch.device(spelling)
        assert (str(ours), ours.type, ours.index) == (str(theirs), theirs.type, theirs.index)
        assert repr(ours) == repr(theirs)
    assert gg.device("cpu", 0) == torch.device("cpu", 0).__str__() and gg.device(gg.device("cpu")) == "cpu"
    assert gg.device("cpu") == gg.device("cpu") and gg.device("cpu") != gg.device("cpu:0")
    assert len({gg.device("cpu"), gg.device("cpu")}) == 1


def test_every_tensor_lives_on_the_cpu_and_moves_there_for_free():
    x = gg.tensor([1.0, 2.0], requires_grad=True)
    assert x.device == gg.device("cpu") and x.device.type == "cpu" and not x.is_cuda
    assert x.cpu() is x and x.to(gg.device("cpu")) is x and x.to("cpu") is x
    assert x.to(gg.device("cpu"), gg.float64).dtype == np.float64
    model = gg.nn.Linear(2, 1)
    assert model.to(gg.device("cpu")) is model and model.cpu() is model


@pytest.mark.parametrize("make", [
    lambda d: gg.tensor([1.0], device=d), lambda d: gg.zeros(2, device=d), lambda d: gg.ones(2, device=d),
    lambda d: gg.full((2,), 1.0, device=d), lambda d: gg.arange(3, device=d), lambda d: gg.eye(2, device=d),
    lambda d: gg.randn(2, device=d), lambda d: gg.rand(2, device=d), lambda d: gg.randint(0, 3, (2,), device=d),
    lambda d: gg.randperm(3, device=d), lambda d: gg.linspace(0, 1, 3, device=d), lambda d: gg.empty(2, device=d),
    lambda d: gg.zeros_like(gg.ones(2), device=d), lambda d: gg.full_like(gg.ones(2), 3, device=d),
    lambda d: gg.normal(0.0, 1.0, (2,), device=d), lambda d: gg.as_tensor([1.0], device=d),
    lambda d: gg.ones(2).new_zeros(2, device=d), lambda d: gg.Generator(device=d),
])
def test_creation_functions_take_device_cpu_and_refuse_a_gpu_in_one_line(make):
    for device in ("cpu", gg.device("cpu"), None):
        make(device)
    for device in ("cuda", gg.device("cuda:0"), "mps"):
        with pytest.raises(RuntimeError) as error:
            make(device)
        message = str(error.value)
        assert "glassgrad runs on the CPU only" in message and AGNOSTIC in message and "\n" not in message


@pytest.mark.parametrize("call", [
    lambda: gg.ones(2).cuda(), lambda: gg.ones(2).to("cuda"), lambda: gg.ones(2).to(gg.device("mps")),
    lambda: gg.nn.Linear(2, 1).cuda(), lambda: gg.nn.Linear(2, 1).to(gg.device("cuda")),
    lambda: gg.cuda.current_device(), lambda: gg.cuda.get_device_name(0),
    lambda: gg.cuda.get_device_capability(), lambda: gg.cuda.get_device_properties(0),  # the PyTorch 2.0 notebook's
])
def test_asking_for_a_gpu_says_how_to_write_device_agnostic_code(call):
    with pytest.raises(RuntimeError) as error:
        call()
    assert "glassgrad runs on the CPU only" in str(error.value) and AGNOSTIC in str(error.value)


def test_an_unknown_device_name_is_one_line():
    with pytest.raises(RuntimeError, match="unknown device 'gpu'"):
        gg.device("gpu")
    with pytest.raises(RuntimeError, match="unknown device 'gpu'"):
        gg.ones(2, device="gpu")


def test_the_gpu_questions_answer_no():
    assert gg.cuda.is_available() is False and gg.cuda.device_count() == 0
    assert gg.backends.mps.is_available() is False and gg.backends.mps.is_built() is False
    assert gg.backends.cudnn.is_available() is False
    assert gg.accelerator.is_available() is False and gg.accelerator.current_accelerator() is None
    assert gg.accelerator.device_count() == 0
    gg.cuda.manual_seed(0), gg.cuda.manual_seed_all(0)  # no GPU: no effect, as in PyTorch without one
    gg.backends.cudnn.deterministic = True  # learner scripts set these; they are accepted


@pytest.mark.torch
def test_pytorchs_answers_on_this_cpu_machine_are_the_same(torch):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: PyTorch's answers differ from glassgrad's here")
    assert torch.cuda.is_available() == gg.cuda.is_available() and torch.cuda.device_count() == gg.cuda.device_count()
    assert torch.backends.mps.is_available() == gg.backends.mps.is_available()


@pytest.mark.torch
def test_the_gpu_settings_a_course_sets_are_taken_with_pytorchs_defaults(torch):
    """The Zero to Mastery PyTorch 2.0 notebook turns on TF32 with ``torch.backends.cuda.matmul.allow_tf32 = True``
    and ``torch.backends.cudnn.allow_tf32 = True`` and reads ``torch.cuda.memory_allocated()``: glassgrad had no
    ``backends.cuda`` nor these names (AttributeError). On a CPU machine PyTorch takes them too, to no effect."""
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: PyTorch's answers differ from glassgrad's here")
    found = []
    for library in (gg, torch):
        matmul = library.backends.cuda.matmul
        found.append((matmul.allow_tf32, matmul.allow_fp16_reduced_precision_reduction,
                      matmul.allow_bf16_reduced_precision_reduction, library.backends.cudnn.allow_tf32,
                      library.backends.cuda.is_built(), library.cuda.memory_allocated(),
                      library.cuda.max_memory_allocated(), library.cuda.memory_reserved()))
    assert found[0] == found[1]
    assert printed_under_the_shim("import torch.backends.cuda\n"
                                  "from torch.backends.cuda import matmul\n"
                                  "torch.backends.cuda.matmul.allow_tf32 = True\n"
                                  "torch.backends.cudnn.allow_tf32 = True\n"
                                  "print(matmul.allow_tf32, torch.backends.cuda.is_built())") == ["True", "False"]


def printed_under_the_shim(code: str) -> list[str]:
    """The words ``code`` prints, run in a fresh Python where ``import torch`` gives glassgrad."""
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install()\n" + code],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_namespaces_import_as_pytorchs_modules_under_the_shim():
    code = ("import torch, torch.cuda, torch.backends.mps, torch.accelerator\n"
            "from torch.backends import cudnn\n"
            "from torch import device\n"
            "print(torch.cuda.is_available(), torch.backends.mps.is_available(), torch.accelerator.is_available(),"
            " cudnn.is_available(), device('cpu'))")
    assert printed_under_the_shim(code) == ["False", "False", "False", "False", "cpu"]
