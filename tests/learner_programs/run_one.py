"""Run one learner program and print its ``results`` as JSON: ``python run_one.py [--glassgrad] program.py``.

With ``--glassgrad``, ``import torch`` gives glassgrad (:mod:`glassgrad.torch_names`); without it, PyTorch.
A program is plain learner code that ends by naming the numbers to compare in a dict ``results``
(numbers, nested lists, or tensors) and may set ``dtype = "float32"`` or ``"float64"`` (the tolerance).
"""

import json
import runpy
import sys


def plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[0] == "--glassgrad":
        from glassgrad import torch_names

        torch_names.install()
        args = args[1:]
    found = runpy.run_path(args[0], run_name="__main__")
    print(json.dumps({"dtype": found.get("dtype", "float32"), "results": plain(found["results"])}))
