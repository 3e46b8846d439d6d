"""What ``glassgrad train --data digits`` imports: neither scikit-learn nor matplotlib (issue 15, start-up).

scikit-learn ships the digits file; glassgrad reads it directly (``gg.data.load_digits``), and
plots are drawn only when asked for, so neither library is imported by this command.
"""

from __future__ import annotations

import json
import subprocess
import sys

CODE = """
import json, sys
from glassgrad.cli import main
code = main(["train", "--data", "digits", "--epochs", "1"])
print(json.dumps({"code": code, "loaded": [name for name in ("sklearn", "matplotlib", "scipy", "torch")
                                           if name in sys.modules]}))
"""


def test_train_on_the_digits_imports_neither_scikit_learn_nor_matplotlib(tmp_path):
    result = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, cwd=tmp_path, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "loaded": []}
