# A WGAN-GP training step on 2-D points (written for this project, the way the paper's recipe is usually coded):
# an MLP critic with LayerNorm and LeakyReLU (no BatchNorm: the penalty is per sample), a generator, the gradient
# penalty (||grad_x D(x_hat)||_2 - 1)^2 on random interpolates computed with torch.autograd.grad(create_graph=True,
# grad_outputs=ones_like), five critic steps per generator step, Adam with betas (0.0, 0.9).
import numpy as np
import torch
import torch.nn as nn

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(0)


class Critic(nn.Module):
    def __init__(self, dim=2, hidden=16):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


generator = nn.Sequential(nn.Linear(3, 16), nn.SiLU(), nn.Linear(16, 2))
critic = Critic()
for module in (generator, critic):
    for p in module.parameters():
        p.data = torch.tensor(rng.normal(0.0, 0.5, tuple(p.shape)))


def gradient_penalty(critic, real, fake):
    alpha = torch.tensor(rng.uniform(size=(real.size(0), 1)))
    interpolates = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    d_interpolates = critic(interpolates)
    gradients = torch.autograd.grad(outputs=d_interpolates, inputs=interpolates,
                                    grad_outputs=torch.ones_like(d_interpolates),
                                    create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


opt_d = torch.optim.Adam(critic.parameters(), lr=1e-3, betas=(0.0, 0.9))
opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.0, 0.9))
lambda_gp, n_critic = 10.0, 5
history = []
for _step in range(3):
    for _ in range(n_critic):
        real = torch.tensor(rng.normal(size=(8, 2)) * 0.5 + np.array([2.0, -1.0]))
        z = torch.tensor(rng.normal(size=(8, 3)))
        fake = generator(z).detach()
        gp = gradient_penalty(critic, real, fake)
        d_loss = critic(fake).mean() - critic(real).mean() + lambda_gp * gp
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
    z = torch.tensor(rng.normal(size=(8, 3)))
    g_loss = -critic(generator(z)).mean()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    history.append([d_loss.item(), gp.item(), g_loss.item()])

results = {"history": history,
           "critic": {name: p.detach() for name, p in critic.named_parameters()},
           "generator": {name: p.detach() for name, p in generator.named_parameters()}}
