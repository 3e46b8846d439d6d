# A diffusion course's classifier-free guidance lesson style (written for this project): a class-conditioned
# denoiser whose nn.Embedding has one extra row for the null class, the condition dropped for a NumPy-chosen part
# of each batch by torch.where, a few AdamW steps on the noise-prediction loss, then guided sampling with the batch
# doubled by torch.cat([x, x]) and the prediction split by chunk(2): uncond + w * (cond - uncond), for several
# guidance scales, plus the rescaled-guidance trick (std matching). In float32, as courses train.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float32"
rng = np.random.default_rng(11)
num_classes, T, p_uncond = 3, 20, 0.3
betas = torch.linspace(1e-3, 0.1, T)
alphas_bar = torch.cumprod(1 - betas, dim=0)


class CondDenoiser(nn.Module):
    def __init__(self, channels=1, hidden=6, emb_dim=6):
        super().__init__()
        self.null_class = num_classes
        self.class_emb = nn.Embedding(num_classes + 1, emb_dim)
        self.time_emb = nn.Sequential(nn.Linear(1, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.conv1 = nn.Conv2d(channels, hidden, 3, padding=1)
        self.film = nn.Linear(emb_dim, 2 * hidden)
        self.conv2 = nn.Conv2d(hidden, channels, 3, padding=1)

    def forward(self, x, t, y):
        emb = self.class_emb(y) + self.time_emb(t[:, None].float() / T)
        h = F.silu(self.conv1(x))
        scale, shift = self.film(emb).chunk(2, dim=1)
        h = h * (1 + scale[:, :, None, None]) + shift[:, :, None, None]
        return self.conv2(F.gelu(h))


model = CondDenoiser()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)

batch = 6
history = []
for _ in range(4):
    x0 = torch.from_numpy(rng.uniform(-1, 1, (batch, 1, 6, 6)).astype(np.float32))
    labels = torch.from_numpy(rng.integers(0, num_classes, batch))
    drop = torch.from_numpy(rng.random(batch) < p_uncond)
    labels = torch.where(drop, torch.full_like(labels, model.null_class), labels)
    t = torch.from_numpy(rng.integers(0, T, batch))
    noise = torch.from_numpy(rng.normal(size=x0.shape).astype(np.float32))
    ab = alphas_bar[t][:, None, None, None]
    x_t = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
    loss = F.mse_loss(model(x_t, t, labels), noise)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append([loss.item(), int(drop.sum()), labels.tolist()])


@torch.no_grad()
def guided_eps(model, x, t, y, guidance_scale):
    x_in = torch.cat([x] * 2)
    t_in = torch.cat([t, t])
    y_in = torch.cat([torch.full_like(y, model.null_class), y])
    eps_uncond, eps_cond = model(x_in, t_in, y_in).chunk(2)
    return eps_uncond + guidance_scale * (eps_cond - eps_uncond)


@torch.no_grad()
def rescaled_eps(model, x, t, y, guidance_scale, phi=0.7):
    eps_uncond, eps_cond = model(torch.cat((x, x)), torch.cat((t, t)),
                                 torch.cat((torch.full_like(y, model.null_class), y))).chunk(2, dim=0)
    guided = eps_uncond + guidance_scale * (eps_cond - eps_uncond)
    std_cond = eps_cond.std(dim=list(range(1, eps_cond.ndim)), keepdim=True)
    std_guided = guided.std(dim=list(range(1, guided.ndim)), keepdim=True)
    rescaled = guided * (std_cond / std_guided)
    return phi * rescaled + (1 - phi) * guided


model.eval()
x_start = torch.from_numpy(rng.normal(size=(num_classes, 1, 6, 6)).astype(np.float32))
y = torch.arange(num_classes)
samples = {}
for w in [0.0, 1.0, 3.0, 7.5]:
    x = x_start.clone()
    for i in reversed(range(0, T, 4)):
        t = torch.full((num_classes,), i, dtype=torch.long)
        eps = guided_eps(model, x, t, y, w)
        ab = alphas_bar[i]
        x0_hat = ((x - (1 - ab).sqrt() * eps) / ab.sqrt()).clamp(-1, 1)
        ab_prev = alphas_bar[i - 4] if i >= 4 else torch.tensor(1.0)
        x = ab_prev.sqrt() * x0_hat + (1 - ab_prev).sqrt() * eps
    samples[str(w)] = [x.mean().item(), x.std().item(), x[0, 0, 0].tolist()]

t_probe = torch.full((num_classes,), 10)
rescaled = rescaled_eps(model, x_start, t_probe, y, 5.0)
with torch.no_grad():
    cond_only = model(x_start, t_probe, y)
same_at_one = torch.allclose(guided_eps(model, x_start, t_probe, y, 1.0), cond_only, atol=1e-6)

results = {"history": history, "samples": samples, "rescaled": rescaled, "same_at_one": same_at_one,
           "null_row": model.class_emb.weight[num_classes].detach(),
           "emb_rows": model.class_emb.num_embeddings}
