# A WGAN-GP critic step (written for this project): the penalty (‖∂D/∂x̂‖ − 1)² on points between real
# and fake samples needs second derivatives through a convolution, a pooling and a norm.
import numpy as np
import torch
import torch.nn as nn

dtype = "float64"
rng = np.random.default_rng(1)
real = torch.tensor(rng.normal(size=(4, 1, 6, 6)), dtype=torch.float64)
fake = torch.tensor(rng.normal(size=(4, 1, 6, 6)), dtype=torch.float64)
mix = torch.tensor(rng.uniform(size=(4, 1, 1, 1)), dtype=torch.float64)

critic = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.Softplus(), nn.AvgPool2d(2), nn.Conv2d(3, 2, 3),
                       nn.Tanh(), nn.Flatten(), nn.Linear(2, 1)).double()
for p in critic.parameters():
    p.data = torch.tensor(rng.normal(0.0, 0.4, tuple(p.shape)), dtype=torch.float64)
optimizer = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))

history = []
for _ in range(5):
    between = (mix * real + (1 - mix) * fake).requires_grad_(True)
    scores = critic(between)
    (slopes,) = torch.autograd.grad(scores.sum(), between, create_graph=True)
    penalty = ((slopes.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append([loss.item(), penalty.item()])

results = {"history": history, **{name: p.detach() for name, p in critic.named_parameters()}}
