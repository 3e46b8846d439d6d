# pytorch/examples "vae" style (written for this project): a fully connected VAE with fc1/fc21/fc22/fc3/fc4,
# reparameterize with torch.randn_like, the loss F.binary_cross_entropy(recon, x.view(-1, 36), reduction='sum')
# plus KLD = -0.5 * sum(1 + logvar - mu^2 - exp(logvar)), Adam, and sampling from the prior. randn_like draws
# from each library's own generator, so the training run takes its noise from NumPy through a patched randn_like
# as a learner would to reproduce a run; the library's randn_like is checked by its shape, dtype and spread.
import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F

rng = np.random.default_rng(1)


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(36, 12)
        self.fc21 = nn.Linear(12, 3)
        self.fc22 = nn.Linear(12, 3)
        self.fc3 = nn.Linear(3, 12)
        self.fc4 = nn.Linear(12, 36)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, noise=torch.randn_like):
        std = torch.exp(0.5 * logvar)
        eps = noise(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, noise=torch.randn_like):
        mu, logvar = self.encode(x.view(-1, 36))
        z = self.reparameterize(mu, logvar, noise)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 36), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def numpy_noise(like):
    return torch.from_numpy(rng.standard_normal(tuple(like.shape)).astype(np.float32))


model = VAE()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, tuple(p.shape)).astype(np.float32)))
optimizer = optim.Adam(model.parameters(), lr=1e-2)
images = torch.from_numpy(rng.uniform(0, 1, (20, 1, 6, 6)).astype(np.float32))
train_losses = []
for _epoch in range(1, 4):
    model.train()
    train_loss = 0
    for batch_idx in range(0, 20, 10):
        data = images[batch_idx:batch_idx + 10]
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(data, numpy_noise)
        loss = loss_function(recon_batch, data, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    train_losses.append(train_loss / 20)

model.eval()
with torch.no_grad():
    sample = torch.from_numpy(rng.standard_normal((4, 3)).astype(np.float32))
    sample = model.decode(sample).cpu()
    grid = sample.view(4, 1, 6, 6)
    drawn = torch.randn_like(torch.zeros(4000, 3))

results = {"train_losses": train_losses, "grid_mean": grid.mean().item(), "grid_shape": list(grid.shape),
           "first_row": grid[0, 0, 0], "drawn": [list(drawn.shape), str(drawn.dtype == torch.float32)],
           "spread_near_one": str(bool(abs(drawn.std().item() - 1) < 0.05 and abs(drawn.mean().item()) < 0.05))}
