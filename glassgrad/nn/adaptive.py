"""``AdaptiveLogSoftmaxWithLoss``: a softmax over many classes, cheap for the frequent ones (Grave et al., 2017).

The classes, sorted by frequency, are cut at ``cutoffs`` into a *shortlist* ``[0, c₁)`` and clusters
``[c₁, c₂)``, …, ``[c_k, n_classes)``. A *head* ``Linear`` scores the shortlist's classes and one entry per
cluster; cluster ``i``'s *tail* (``Linear(in, in/div_valueⁱ⁺¹)`` then ``Linear(…, cluster size)``, no biases)
scores the classes inside it. A shortlist class ``y`` has ``ln p(y) = ln softmax(head)[y]``; a class ``y`` of
cluster ``i`` has

    ln p(y) = ln softmax(head)[shortlist + i] + ln softmax(tailᵢ)[y − cᵢ]

and only the rows whose target falls in a cluster go through its tail. The loss is the mean of ``−ln p(y)``.
Everything is composed from ``Linear``, ``log_softmax``, ``gather`` and ``index_add``, so backward is the
engine's.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..arguments import shape_text
from ..creation import as_tensor
from ..device import check_device
from ..functions import cat
from ..tensor import Tensor
from .container import Sequential
from .linear import Linear, check_size
from .lists import ModuleList
from .module import Module

#: What ``AdaptiveLogSoftmaxWithLoss`` returns: each row's ``ln p(target)`` and the mean loss (PyTorch's name).
ASMOutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Log-probabilities of ``n_classes`` classes from features ``(N, in_features)`` (or ``(in_features,)``)
    through a head over the shortlist and one small tail per cluster; ``forward(input, target)`` gives
    ``(output, loss)``, :meth:`log_prob` every class's log-probability, :meth:`predict` the likeliest class."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None) -> None:
        check_device(device)
        super().__init__()
        # neither leads a parameter's shape (the head's weight is (shortlist + clusters, in_features))
        self.in_features = check_size(in_features, "in_features", "AdaptiveLogSoftmaxWithLoss", leads=False)
        self.n_classes = check_size(n_classes, "n_classes", "AdaptiveLogSoftmaxWithLoss", leads=False)
        cutoffs = list(cutoffs)
        if (not cutoffs or cutoffs != sorted(set(cutoffs)) or min(cutoffs) < 1 or max(cutoffs) > n_classes - 1
                or any(not isinstance(c, (int, np.integer)) for c in cutoffs)):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cutoffs must be unique increasing integers between 1 "
                             f"and n_classes - 1 = {n_classes - 1}, got {cutoffs}")
        self.cutoffs = [int(c) for c in cutoffs] + [self.n_classes]
        self.div_value, self.head_bias = float(div_value), bool(head_bias)
        self.shortlist_size, self.n_clusters = self.cutoffs[0], len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        hidden = [int(self.in_features // self.div_value ** (i + 1)) for i in range(self.n_clusters)]
        if min(hidden) < 1:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cluster {hidden.index(min(hidden)) + 1}'s hidden size "
                             f"in_features // div_value^i is 0; use a smaller div_value or fewer cutoffs")
        self.head = Linear(self.in_features, self.head_size, bias=self.head_bias, dtype=dtype)
        self.tail = ModuleList(
            Sequential(Linear(self.in_features, size, bias=False, dtype=dtype),
                       Linear(size, self.cutoffs[i + 1] - self.cutoffs[i], bias=False, dtype=dtype))
            for i, size in enumerate(hidden))

    def _features(self, input: Tensor) -> Tensor:
        x = as_tensor(input)
        if x.ndim not in (1, 2) or x.shape[-1] != self.in_features:
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: input must be (N, {self.in_features}) or "
                               f"({self.in_features},), got {shape_text(x.shape)}")
        return x if x.ndim == 2 else x.reshape(1, -1)

    def forward(self, input: Tensor, target: Tensor) -> ASMOutput:
        x = self._features(input)
        labels = np.asarray(as_tensor(target).numpy()).reshape(-1)
        if np.ndim(as_tensor(target).numpy()) != as_tensor(input).ndim - 1 or labels.size != x.shape[0]:
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target must be one class index per input row "
                               f"({x.shape[0]}), got {shape_text(as_tensor(target).shape)}")
        if labels.size and (labels.min() < 0 or labels.max() >= self.n_classes):
            raise RuntimeError(f"AdaptiveLogSoftmaxWithLoss: target values must be in [0, {self.n_classes - 1}], "
                               f"got values in [{labels.min()}, {labels.max()}]")
        cluster = np.searchsorted(self.cutoffs, labels, side="right")  # 0: the shortlist, i: cluster i
        head_column = np.where(cluster == 0, labels, self.shortlist_size + cluster - 1)
        output = self.head(x).log_softmax(1).gather(1, head_column[:, None]).reshape(-1)
        for i, tail in enumerate(self.tail, start=1):
            rows = np.flatnonzero(cluster == i)
            if rows.size:
                inside = tail(x[rows]).log_softmax(1).gather(1, (labels[rows] - self.cutoffs[i - 1])[:, None])
                output = output.index_add(0, rows, inside.reshape(-1))
        return ASMOutput(output if as_tensor(input).ndim == 2 else output.reshape(()), (-output).mean())

    def log_prob(self, input: Tensor) -> Tensor:
        """Every class's log-probability, (N, n_classes) (or (n_classes,)): the shortlist's from the head, a
        cluster's as the head's log-probability of the cluster plus the tail's within it."""
        x = self._features(input)
        head = self.head(x).log_softmax(1)
        pieces = [head[:, :self.shortlist_size]]
        for i, tail in enumerate(self.tail):
            pieces.append(tail(x).log_softmax(1) + head[:, self.shortlist_size + i:self.shortlist_size + i + 1])
        out = cat(pieces, 1)
        return out if as_tensor(input).ndim == 2 else out.reshape(-1)

    def predict(self, input: Tensor) -> Tensor:
        """The likeliest class of each row: ``argmax`` of :meth:`log_prob`."""
        return self.log_prob(input).argmax(-1)

    def config(self) -> dict[str, Any]:
        return {"in_features": self.in_features, "n_classes": self.n_classes, "cutoffs": self.cutoffs[:-1],
                "div_value": self.div_value, "head_bias": self.head_bias}
