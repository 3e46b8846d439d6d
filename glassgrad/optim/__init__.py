"""Optimizers and learning-rate schedules (``gg.optim``), with PyTorch's names, defaults and rules.

>>> import glassgrad as gg
>>> w = gg.tensor([3.0], requires_grad=True)
>>> opt = gg.optim.SGD([w], lr=0.25)
>>> for _ in range(3):
...     opt.zero_grad()
...     (w * w).sum().backward()   # ∂(w²)/∂w = 2w
...     opt.step()                 # w ← w − 0.25·2w = w/2
>>> w.item()
0.375
>>> print(opt.formula_for(opt.param_groups[0]))
w ← w − η·g
"""

from . import lr_scheduler, swa_utils
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
__all__ += ["Adadelta", "Adamax", "NAdam"]
__all__ += ["ASGD", "RAdam", "Rprop"]
__all__ += ["LBFGS", "swa_utils"]
__all__ += ["Adafactor", "Muon", "SparseAdam"]
