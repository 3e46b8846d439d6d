"""``torch.__version__`` under :mod:`glassgrad.torch_names`: PyTorch 2.13 (the API glassgrad implements) with
glassgrad's own version as its PEP 440 local label; it compares with strings, tuples and ``packaging`` versions
as PyTorch's ``TorchVersion`` does. The oracle is PyTorch's ``TorchVersion`` holding the same text."""

from __future__ import annotations

import operator
import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st
from packaging import version

import glassgrad as gg
from glassgrad import torch_names

COMPARISONS = (operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge)
releases = st.lists(st.integers(0, 20), min_size=1, max_size=4)
others = st.one_of(
    releases.map(tuple),
    releases.map(lambda parts: ".".join(map(str, parts))),
    st.tuples(releases, st.sampled_from(["a0", "rc1", ".dev0", ".post1", "+cpu", "+glassgrad.0.1.0"])).map(
        lambda pair: ".".join(map(str, pair[0])) + pair[1]),
    st.sampled_from(["parrot", "2.13.0+glassgrad.0.1.0", "2.13", "2.13.0", "2.0", "1.12.1", "10.0"]),
)


@given(other=others)
def test_torch_version_compares_as_pytorchs_torch_version(torch, other):
    mine = torch_names.torch_module().__version__
    theirs = torch.torch_version.TorchVersion(str(mine))
    assert [compare(mine, other) for compare in COMPARISONS] == [compare(theirs, other) for compare in COMPARISONS]


def test_a_program_checking_the_version_takes_its_pytorch_2_branch():
    program = ("from glassgrad import torch_names; torch_names.install()\n"
               "import torch, torch.version, glassgrad\nfrom packaging import version\n"
               "assert torch.__version__ >= '2.0' and not torch.__version__ < (2, 0)\n"
               "assert torch.__version__ > (1, 12, 1)\n"
               "assert version.parse(torch.__version__) >= version.parse('1.12')\n"
               "assert tuple(map(int, torch.__version__.split('.')[:2])) >= (2, 0)\n"
               "assert torch.__version__.split('+')[0] == '2.13.0' and torch.version.__version__ == torch.__version__\n"
               "assert torch.version.cuda is None and isinstance(torch.version.git_version, str)\n"
               "assert torch.add is glassgrad.add and torch.nn is glassgrad.nn\n"
               "print(torch.__version__, glassgrad.__version__)")
    shown = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert shown.stdout.split() == [f"2.13.0+glassgrad.{gg.__version__}", gg.__version__]


def test_the_version_text_is_a_pep_440_version_whose_public_part_is_pytorchs():
    parsed = version.Version(torch_names.torch_module().__version__)
    assert (parsed.public, parsed.local) == ("2.13.0", f"glassgrad.{gg.__version__}")
    assert hash(torch_names.torch_module().__version__) == hash(str(parsed))
