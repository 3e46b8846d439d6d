# A small convolutional autoencoder in the style of DCGAN and U-Net tutorials (written for this project):
# Conv2d down, ConvTranspose2d and Upsample back up, GroupNorm, LeakyReLU/Mish, F.pad, RAdam with a
# CosineAnnealingWarmRestarts schedule, gradient clipping with get_total_norm.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
rng = np.random.default_rng(0)
images = torch.tensor(np.sin(np.arange(4 * 64).reshape(4, 1, 8, 8) / 7.0), dtype=torch.float64)


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.GroupNorm(2, 4), nn.LeakyReLU(0.2),
                                  nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.Mish())
        self.up = nn.Sequential(nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1), nn.ReLU(),
                                nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(4, 1, 3))

    def forward(self, x):
        return F.pad(self.up(self.down(x)), (1, 1, 1, 1), mode="replicate")


model = AutoEncoder().double()
for p in model.parameters():
    p.data = torch.tensor(rng.normal(0.0, 0.2, tuple(p.shape)), dtype=torch.float64)
optimizer = torch.optim.RAdam(model.parameters(), lr=0.01)
schedule = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=3, T_mult=2)

losses, norms = [], []
for _ in range(12):
    optimizer.zero_grad()
    loss = F.mse_loss(model(images), images)
    loss.backward()
    total = torch.nn.utils.get_total_norm([p.grad for p in model.parameters()])
    torch.nn.utils.clip_grads_with_norm_(model.parameters(), 1.0, total)
    optimizer.step()
    schedule.step()
    losses.append(loss.item())
    norms.append(total.item())

results = {"losses": losses, "norms": norms, "lr": schedule.get_last_lr(),
           "weights": torch.nn.utils.parameters_to_vector(model.parameters()).detach()}
