# "Deep Learning with PyTorch", going deeper (written for this project): a residual block of a bias-free
# convolution, BatchNorm2d and ReLU with kaiming init and the batch norm's weight set to 0.5, a deep net that
# repeats ONE block object n times in nn.Sequential (so its parameters are shared and listed once), a few SGD
# steps in train mode, then evaluation with the running statistics; the init's statistics are checked by eye.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"


class ResBlock(nn.Module):
    def __init__(self, n_chans):
        super().__init__()
        self.conv = nn.Conv2d(n_chans, n_chans, kernel_size=3, padding=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(num_features=n_chans)
        torch.nn.init.kaiming_normal_(self.conv.weight, nonlinearity="relu")
        torch.nn.init.constant_(self.batch_norm.weight, 0.5)
        torch.nn.init.zeros_(self.batch_norm.bias)

    def forward(self, x):
        out = self.conv(x)
        out = self.batch_norm(out)
        out = torch.relu(out)
        return out + x


class NetResDeep(nn.Module):
    def __init__(self, n_chans1=8, n_blocks=4):
        super().__init__()
        self.n_chans1 = n_chans1
        self.conv1 = nn.Conv2d(3, n_chans1, kernel_size=3, padding=1)
        self.resblocks = nn.Sequential(*(n_blocks * [ResBlock(n_chans=n_chans1)]))
        self.fc1 = nn.Linear(4 * 4 * n_chans1, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        out = F.max_pool2d(torch.relu(self.conv1(x)), 2)
        out = self.resblocks(out)
        out = F.max_pool2d(out, 2)
        out = out.view(-1, 4 * 4 * self.n_chans1)
        out = torch.relu(self.fc1(out))
        return self.fc2(out)


# the init's statistics: a wide layer's kaiming weights have std ≈ sqrt(2 / fan_in)
wide = ResBlock(64)
fan_in = 64 * 3 * 3
kaiming_std_ratio = round(wide.conv.weight.std().item() / math.sqrt(2 / fan_in), 1)

model = NetResDeep().double()
rng = np.random.default_rng(5)
with torch.no_grad():
    for name, p in model.named_parameters():
        if "batch_norm" not in name:  # the block's batch norm keeps its 0.5 and 0
            p.copy_(torch.tensor(rng.normal(0, 0.1, size=tuple(p.shape))))
images = torch.tensor(rng.normal(size=(6, 3, 16, 16)))
labels = torch.tensor([0, 1, 1, 0, 1, 0])
optimizer = torch.optim.SGD(model.parameters(), lr=3e-3, momentum=0.9, weight_decay=1e-4)
loss_fn = nn.CrossEntropyLoss()
losses = []
model.train()
for _ in range(5):
    loss = loss_fn(model(images), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
model.eval()
with torch.no_grad():
    eval_out = model(images)
block = model.resblocks[0]

results = {
    "kaiming_std_ratio": kaiming_std_ratio,
    "n_parameters": sum(p.numel() for p in model.parameters()),
    "n_state": len(model.state_dict()),
    "same_block": model.resblocks[0] is model.resblocks[3],
    "losses": losses,
    "eval_out": eval_out,
    "running_mean": block.batch_norm.running_mean,
    "running_var": block.batch_norm.running_var,
    "batches_tracked": block.batch_norm.num_batches_tracked,
    "bn_weight": block.batch_norm.weight.detach(),
    "conv_grad": block.conv.weight.grad[0, 0],
}
