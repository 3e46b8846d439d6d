# pytorch/examples "super_resolution" style (written for this project): a Net of Conv2d layers ending in
# nn.PixelShuffle(upscale_factor), its weights made with init.orthogonal_(w, init.calculate_gain('relu')), trained
# with Adam on MSELoss, and the test PSNR 10 * log10(1 / mse.item()). orthogonal_ draws from the library's own
# generator: its result is checked as orthogonal and scaled by the gain, then the weights are set from NumPy.
from math import log10

import numpy as np
import torch
import torch.nn as nn
import torch.nn.init as init
import torch.optim as optim


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(8, 8, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(8, 1 * upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.pixel_shuffle(self.conv3(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight)


model = Net(upscale_factor=3)
gain = init.calculate_gain('relu')
rows = model.conv2.weight.view(8, -1)
orthogonal = torch.allclose(rows @ rows.t(), gain ** 2 * torch.eye(8), atol=1e-4)
rng = np.random.default_rng(7)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, tuple(p.shape)).astype(np.float32)))
high = torch.from_numpy(rng.uniform(0, 1, (4, 1, 12, 12)).astype(np.float32))
low = nn.functional.avg_pool2d(high, 3)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)
epoch_losses = []
for _epoch in range(1, 6):
    optimizer.zero_grad()
    loss = criterion(model(low), high)
    loss.backward()
    optimizer.step()
    epoch_losses.append(loss.item())
avg_psnr = 0
with torch.no_grad():
    for i in range(4):
        prediction = model(low[i:i + 1])
        mse = criterion(prediction, high[i:i + 1])
        psnr = 10 * log10(1 / mse.item())
        avg_psnr += psnr
shuffled = nn.PixelShuffle(2)(torch.arange(16.).view(1, 4, 2, 2))
results = {"gain": gain, "orthogonal": str(bool(orthogonal)), "epoch_losses": epoch_losses, "avg_psnr": avg_psnr / 4,
           "out_shape": list(prediction.shape), "shuffled": shuffled,
           "unshuffled": nn.PixelUnshuffle(2)(shuffled)}
