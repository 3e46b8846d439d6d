# A convolution layer of one's own, written the way research code writes its layers: sizes through
# torch.nn.modules.utils' _pair, type hints from torch.nn.common_types, padding for F.pad by
# _reverse_repeat_tuple, the product by F.unfold; checked against nn.Conv2d. Then a compiled model's
# checkpoint ('_orig_mod.' names) loaded into the bare model with consume_prefix_in_state_dict_if_present
# (written for this project).
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.common_types import _size_2_t
from torch.nn.modules.utils import _pair, _reverse_repeat_tuple, consume_prefix_in_state_dict_if_present

torch.set_default_dtype(torch.float64)  # sums of large terms cancel: compare in float64
rng = np.random.default_rng(3)
dtype = "float64"


class UnfoldConv2d(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: _size_2_t, stride: _size_2_t = 1,
                 padding: _size_2_t = 0, padding_mode: str = "zeros"):
        super().__init__()
        self.kernel_size, self.stride, self.padding = _pair(kernel_size), _pair(stride), _pair(padding)
        self.padding_mode = padding_mode
        self._reversed_padding = _reverse_repeat_tuple(self.padding, 2)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, *self.kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels))
        bound = 1 / math.sqrt(in_channels * math.prod(self.kernel_size))
        with torch.no_grad():
            self.weight.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(self.weight.shape)), dtype=torch.float64))
            self.bias.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(self.bias.shape)), dtype=torch.float64))

    def forward(self, x):
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding, mode=self.padding_mode)
            padding = 0
        else:
            padding = self.padding
        n, _, h, w = x.shape
        columns = F.unfold(x, self.kernel_size, padding=padding, stride=self.stride)
        out = self.weight.flatten(1) @ columns + self.bias[:, None]
        size = [(length + 2 * (pad if padding else 0) - k) // s + 1
                for length, pad, k, s in zip((h, w), self.padding, self.kernel_size, self.stride)]
        return out.view(n, -1, *size)


images = torch.tensor(rng.standard_normal((2, 3, 9, 8)), dtype=torch.float64, requires_grad=True)
mine = UnfoldConv2d(3, 4, 3, stride=(2, 1), padding=1, padding_mode="reflect")
theirs = nn.Conv2d(3, 4, 3, stride=(2, 1), padding=1, padding_mode="reflect")
with torch.no_grad():
    theirs.weight.copy_(mine.weight)
    theirs.bias.copy_(mine.bias)
out_mine, out_theirs = mine(images), theirs(images)
(out_mine.square().sum() + out_theirs.square().sum()).backward()

model = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
compiled = torch.compile(model)
checkpoint = compiled.state_dict()
prefixed = list(checkpoint)
consume_prefix_in_state_dict_if_present(checkpoint, "_orig_mod.")
fresh = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
fresh.load_state_dict(checkpoint)
inputs = torch.tensor(rng.standard_normal((5, 4)), dtype=torch.float64)

results = {
    "sizes": [list(_pair(3)), list(_pair((2, 5))), list(_pair("ab")), list(_reverse_repeat_tuple((1, 2), 2))],
    "out": out_mine,
    "conv2d_out": out_theirs,
    "weight_grad": mine.weight.grad,
    "conv2d_weight_grad": theirs.weight.grad,
    "image_grad": images.grad,
    "prefixed_lengths": [len(name) for name in prefixed],
    "stripped": [len(name) for name in checkpoint],
    "metadata_names": [len(name) for name in checkpoint._metadata],
    "restored_differs_by": (fresh(inputs) - model(inputs)).abs().max(),  # 0: the same weights (each library's own)
}
