"""Learner-style PyTorch programs (``tests/learner_programs/*.py``) run unchanged on glassgrad.

Each program runs twice in its own process: with PyTorch, and with ``import torch`` giving glassgrad
(:mod:`glassgrad.torch_names`). Their ``results`` must agree: rtol 1e-4 in float32, 1e-9 in float64.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).parent / "learner_programs"
PROGRAMS = sorted(path for path in HERE.glob("*.py") if path.name != "run_one.py")
TOLERANCE = {"float32": 1e-4, "float64": 1e-9}


def run(program: Path, *flags: str) -> dict:
    """The program's ``dtype`` and ``results``, in ``warnings`` the warnings it showed: (kind, first clause), and in
    ``printed`` the lines it printed."""
    done = subprocess.run([sys.executable, str(HERE / "run_one.py"), *flags, str(program)],
                          capture_output=True, text=True, timeout=600, cwd=HERE)
    assert done.returncode == 0, f"{program.name} {' '.join(flags)} failed:\n{done.stderr[-3000:]}"
    *printed, last = done.stdout.strip().splitlines()
    found = json.loads(last)
    found["printed"] = printed
    found["warnings"] = [[kind, re.split(r"[,.:] ", message)[0]]
                         for kind, message in re.findall(r"^\S.*?:\d+: (\w*Warning): (.*)$", done.stderr, re.M)]
    return found


def assert_close(ours, theirs, rtol: float, where: str) -> None:
    if isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), where
        for key in theirs:
            assert_close(ours[key], theirs[key], rtol, f"{where}.{key}")
    elif isinstance(theirs, str):
        assert ours == theirs, where
    elif isinstance(theirs, list) and any(isinstance(item, (list, dict, str)) for item in theirs):
        assert isinstance(ours, list) and len(ours) == len(theirs), where  # rows of their own lengths, or names
        for number, (mine, reference) in enumerate(zip(ours, theirs)):
            assert_close(mine, reference, rtol, f"{where}[{number}]")
    else:
        np.testing.assert_allclose(np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64),
                                   rtol=rtol, atol=rtol * 1e-3, err_msg=where)


def as_glassgrad_prints(lines: list[str]) -> list[str]:
    """Printed lines with the README's documented differences taken out: PyTorch's ``torch.`` before a dtype or
    ``Size``, the op name in ``grad_fn=<…>`` (glassgrad's is its rule-table row), and the ``# N parameters`` column
    and ``Total parameters`` line that glassgrad's ``print(model)`` adds."""
    shown = []
    for line in lines:
        if not line.startswith("Total parameters: "):
            line = re.sub(r"grad_fn=<\w+>", "grad_fn=<…>", re.sub(r"\btorch\.", "", line))
            shown.append(re.sub(r"\s+# [\d,]+ parameters?.*", "", line))
    return shown


def assert_pytorchs_numbers(program: Path, same_warnings: bool = False, same_printout: bool = False) -> None:
    """Run ``program`` with PyTorch and with glassgrad; its ``results`` must agree to its dtype's tolerance and,
    with ``same_warnings``, the warnings it shows too (their kinds and first clauses, in order); with
    ``same_printout``, the lines it prints too (:func:`as_glassgrad_prints`)."""
    theirs = run(program)
    ours = run(program, "--glassgrad")
    assert ours["dtype"] == theirs["dtype"]
    assert_close(ours["results"], theirs["results"], TOLERANCE[theirs["dtype"]], program.stem)
    if same_warnings:
        assert ours["warnings"] == theirs["warnings"], program.stem
    if same_printout:
        assert as_glassgrad_prints(ours["printed"]) == as_glassgrad_prints(theirs["printed"]), program.stem


@pytest.mark.parametrize("program", PROGRAMS, ids=[path.stem for path in PROGRAMS])
def test_program_gives_pytorchs_numbers(program, torch):
    assert_pytorchs_numbers(program)


def test_a_missing_counterpart_is_one_line():
    done = subprocess.run([sys.executable, "-c", "from glassgrad import torch_names; torch_names.install(); "
                           "import torch.fft"], capture_output=True, text=True)
    assert "glassgrad has no counterpart of torch.fft" in done.stderr


NO_PYTORCH = """
import importlib.abc, sys
class NoPyTorch(importlib.abc.MetaPathFinder):  # as if PyTorch were not installed
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}")
sys.meta_path.insert(0, NoPyTorch())
"""


def test_the_names_work_where_pytorch_is_not_installed():
    program = NO_PYTORCH + """
from glassgrad import torch_names
torch_names.install()
import glassgrad, torch, torch.nn.functional as F, torch.backends.mps
from torch.utils.data import DataLoader
assert torch.Tensor is glassgrad.Tensor and F is glassgrad.nn.functional and glassgrad.__spec__.name == "glassgrad"
assert DataLoader is glassgrad.data.DataLoader and not torch.backends.mps.is_available()
import runpy
print(runpy.run_path(sys.argv[1])["results"]["loss"])
"""
    done = subprocess.run([sys.executable, "-c", program, str(HERE / "polynomial_fit.py")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert float(done.stdout.strip().splitlines()[-1]) > 0


def test_python_m_runs_a_script_where_pytorch_is_not_installed(tmp_path):
    script = tmp_path / "course_script.py"
    script.write_text("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                      "(x * x).sum().backward()\nprint(torch.__name__, x.grad.tolist())\n")
    launcher = NO_PYTORCH + ("import runpy; sys.argv[1:] = sys.argv[2:]; "
                             "runpy.run_module('glassgrad.torch_names', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", launcher, "-", str(script)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "glassgrad [2.0, 4.0]"


def test_python_m_finds_the_scripts_own_modules_as_python_does(tmp_path):
    """``python bigram.py`` imports ``names.py`` beside it; so does ``python -m glassgrad.torch_names bigram.py``."""
    (tmp_path / "names.py").write_text("WORDS = ['emma', 'olivia', 'ava']\n")
    script = tmp_path / "bigram.py"
    script.write_text("import torch\nfrom names import WORDS\nprint(torch.__name__, len(WORDS))\n")
    root = Path(__file__).parent.parent  # the working directory: glassgrad imports from it, names.py does not
    done = subprocess.run([sys.executable, "-m", "glassgrad.torch_names", str(script)],
                          capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "glassgrad 3"
