"""PyTorch's module names for glassgrad: ``import torch`` gives glassgrad, ``torch.nn`` gives ``glassgrad.nn``, …

So code written for PyTorch (a course's notebook, a tutorial's script) runs on glassgrad unchanged::

    from glassgrad import torch_names
    torch_names.install()     # from now on, in this process, `import torch` is glassgrad
    import torch              # glassgrad

    python -m glassgrad.torch_names my_script.py [args…]   # run a whole script that way

A ``torch.*`` module glassgrad has no counterpart for fails at its import with one line naming it.

``torch`` itself is a module of its own holding glassgrad's names (the same objects), except ``__version__`` and
``version``, which say PyTorch 2.13 (the API glassgrad implements) with glassgrad's own version as the local label
(see :mod:`glassgrad.torch_names_version`), and ``save``, which returns None as PyTorch's does (``gg.save`` returns
the path it wrote; a notebook cell ending in ``torch.save(…)`` would show it).
"""

from __future__ import annotations

import functools
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import runpy
import sys
from types import ModuleType

#: PyTorch's module → glassgrad's (the first one that exists); names not listed map one to one
#: (``torch.nn.functional`` → ``glassgrad.nn.functional``).
COUNTERPARTS: dict[str, tuple[str, ...]] = {
    "torch.version": ("glassgrad.torch_names_version",),
    "torch.autograd.functional": ("glassgrad.jacobians",),
    "torch.autograd.forward_ad": ("glassgrad.forward_ad",),  # dual_level, make_dual, unpack_dual
    "torch.autograd.profiler": ("glassgrad.autograd_profiler",),  # the older profile, record_function
    "torch.autograd.function": ("glassgrad.custom_function",),
    "torch.autograd.graph": ("glassgrad.saved_tensors",),  # saved_tensors_hooks, save_on_cpu …
    "torch.autograd.grad_mode": ("glassgrad.autograd",),  # no_grad, enable_grad, set_grad_enabled, inference_mode
    "torch.utils.hooks": ("glassgrad.handles",),  # RemovableHandle
    "torch.nn.modules.module": ("glassgrad.nn.module",),  # Module, register_module_forward_hook …
    "torch.nn.modules.utils": ("glassgrad.nn.module_utils",),  # _pair, consume_prefix_in_state_dict_if_present …
    "torch.utils.data.dataset": ("glassgrad.data.dataset",),  # the transformer tutorial's `import dataset`
    "torch.utils.data.sampler": ("glassgrad.data.samplers",),
    "torch.utils.data.dataloader": ("glassgrad.utils.data",),  # DataLoader, default_collate, get_worker_info
}
#: PyTorch's packages whose glassgrad counterpart is a plain module: their submodules import too (the import
#: system gives that module an empty ``__path__``, so it finds nothing of its own below it).
PACKAGES = {"torch.autograd", "torch.utils.data", "torch._dynamo", "torch._inductor"}


def counterpart(name: str) -> ModuleType | object | None:
    """glassgrad's module (or namespace object, e.g. ``gg.cuda``) standing for PyTorch's ``name``."""
    if name == "torch":
        return torch_module()
    if name == "torch.nn.modules":
        return nn_modules()
    candidates = COUNTERPARTS.get(name, ("glassgrad" + name[len("torch"):],))
    for candidate in candidates:
        try:
            return importlib.import_module(candidate)
        except ModuleNotFoundError:
            found = _attribute(candidate)
            if found is not None:
                return found
    return None


@functools.cache
def torch_module() -> ModuleType:
    """``torch``: glassgrad's names (the same objects, copied once) with PyTorch's ``__version__``, ``version`` and
    ``save``.

    A name glassgrad gains later (a submodule imported afterwards, ``gg.lessons``) is read from glassgrad.
    """
    import glassgrad
    from glassgrad import torch_names_version

    module = ModuleType("torch")
    module.__dict__.update(vars(glassgrad))
    module.__getattr__ = functools.partial(getattr, glassgrad)
    module.__version__, module.version = torch_names_version.__version__, torch_names_version
    module.save = _save
    return module


@functools.cache
def nn_modules() -> ModuleType:
    """``torch.nn.modules``: a module of its own that reads glassgrad.nn's names (``torch.nn.modules.Linear``), so
    that importing its submodules sets nothing on glassgrad.nn: ``torch.nn.modules.utils`` (``_pair``) is not
    ``torch.nn.utils`` (``clip_grad_norm_``), which it would otherwise replace there."""
    import glassgrad.nn

    module = ModuleType("torch.nn.modules")
    module.__getattr__ = functools.partial(getattr, glassgrad.nn)
    module.__path__ = []
    return module


def _save(obj: object, f: object, *args: object, **kwargs: object) -> None:
    """``torch.save``: :func:`glassgrad.save`, returning None as PyTorch's."""
    import glassgrad

    glassgrad.save(obj, f, *args, **kwargs)


def _attribute(dotted: str) -> object | None:
    """``glassgrad.backends.mps`` read as attributes from the package down (a namespace object, not a module)."""
    found: object = importlib.import_module(dotted.partition(".")[0])
    for attribute in dotted.split(".")[1:]:
        found = getattr(found, attribute, None)
        if found is None:
            return None
    return found


class _TorchFinder(importlib.abc.MetaPathFinder):
    """Answers ``import torch.x.y`` with glassgrad's counterpart, or one line saying there is none."""

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        found = counterpart(fullname)
        if found is None:
            raise ModuleNotFoundError(
                f"glassgrad has no counterpart of {fullname}; see the README's 'Coming from PyTorch' table",
                name=fullname,
            )
        # a spec whose loader hands the object over; a package (a namespace object such as gg.cuda or
        # gg.backends counts as one) so that its own names import too (torch.nn.functional, torch.backends.mps)
        is_package = hasattr(found, "__path__") or not isinstance(found, ModuleType) or fullname in PACKAGES
        return importlib.util.spec_from_loader(fullname, _Existing(found), is_package=is_package)


class _Existing(importlib.abc.Loader):
    """Loads a ``torch.x`` name as the module or object glassgrad already has for it (nothing runs again)."""

    def __init__(self, found: object) -> None:
        self.found = found
        self.own_spec = getattr(found, "__spec__", None)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> object:
        return self.found

    def exec_module(self, module: object) -> None:
        """Nothing to run; the import system set ``__spec__`` to the torch name's: give the module its own back."""
        if isinstance(module, ModuleType):
            module.__spec__ = self.own_spec


def install() -> None:
    """Make ``import torch`` (and ``torch.nn``, ``torch.optim``, …) import glassgrad in this process."""
    if not any(isinstance(finder, _TorchFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _TorchFinder())


def main(argv: list[str] | None = None) -> None:
    """``python -m glassgrad.torch_names script.py [args…]``: run a PyTorch script on glassgrad."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        raise SystemExit("usage: python -m glassgrad.torch_names script.py [args…]")
    install()
    sys.argv = list(args)
    sys.path.insert(0, os.path.dirname(os.path.abspath(args[0])))  # as `python script.py`: its own modules import
    runpy.run_path(args[0], run_name="__main__")


if __name__ == "__main__":
    main()
