# A diffusion course's "DDPM from scratch" notebook style (written for this project): linear and cosine beta
# schedules (linspace, cos, cumprod, clip, sqrt), q_sample by indexing alphas_bar[t].view(-1, 1, 1, 1) and by
# gather, a small UNet (Conv2d, GroupNorm, SiLU, residual blocks with a sinusoidal time embedding, stride-2 down
# convs, ConvTranspose2d and F.interpolate(nearest) up, skips joined by torch.cat(dim=1), a self-attention block on
# the feature maps by reshape/permute/softmax and another by F.scaled_dot_product_attention, its kernels chosen
# by sdpa_kernel for the evaluation), moved with .to(device, memory_format=torch.channels_last), the
# noise-prediction MSE, AdamW and clip_grad_norm_ for a few steps. Weights, images, timesteps and noise come from
# NumPy.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(2020)
T = 50


def linear_beta_schedule(timesteps, beta_start=1e-4, beta_end=0.02):
    scale = 1000 / timesteps
    return torch.linspace(scale * beta_start, scale * beta_end, timesteps)


def cosine_beta_schedule(timesteps, s=0.008):
    steps = timesteps + 1
    x = torch.linspace(0, timesteps, steps)
    alphas_cumprod = torch.cos(((x / timesteps) + s) / (1 + s) * math.pi * 0.5) ** 2
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0.0001, 0.9999)


betas = linear_beta_schedule(T)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, dim=0)
alphas_cumprod_prev = F.pad(alphas_cumprod[:-1], (1, 0), value=1.0)
sqrt_alphas_cumprod = torch.sqrt(alphas_cumprod)
sqrt_one_minus_alphas_cumprod = torch.sqrt(1.0 - alphas_cumprod)
cosine_betas = cosine_beta_schedule(T)
cosine_alphas_bar = torch.cumprod(1 - cosine_betas, 0)


def extract(a, t, x_shape):
    batch_size = t.shape[0]
    out = a.gather(-1, t.cpu())
    return out.reshape(batch_size, *((1,) * (len(x_shape) - 1))).to(t.device)


def q_sample(x_start, t, noise):
    return extract(sqrt_alphas_cumprod, t, x_start.shape) * x_start + \
        extract(sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise


def q_sample_by_view(x0, t, noise):
    alpha_bar = alphas_cumprod[t].view(-1, 1, 1, 1)
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise


class SinusoidalPositionEmbeddings(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, time):
        half_dim = self.dim // 2
        embeddings = math.log(10000) / (half_dim - 1)
        embeddings = torch.exp(torch.arange(half_dim, device=time.device) * -embeddings)
        embeddings = time[:, None] * embeddings[None, :]
        return torch.cat((embeddings.sin(), embeddings.cos()), dim=-1)


class ResBlock(nn.Module):
    def __init__(self, in_ch, out_ch, time_dim, groups=2):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, padding=1)
        self.time_mlp = nn.Linear(time_dim, out_ch)
        self.norm2 = nn.GroupNorm(groups, out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, padding=1)
        self.skip = nn.Conv2d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x, t_emb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_mlp(t_emb)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class AttentionBlock(nn.Module):
    def __init__(self, channels, groups=2):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, channels * 3, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(B, 3, C, H * W).unbind(1)
        scores = torch.bmm(q.permute(0, 2, 1), k) / math.sqrt(C)
        attn = scores.softmax(dim=-1)
        out = torch.bmm(v, attn.permute(0, 2, 1)).reshape(B, C, H, W)
        return x + self.proj(out)


class SDPAttention(nn.Module):
    def __init__(self, channels, heads=2):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(2, channels)
        self.to_qkv = nn.Linear(channels, channels * 3)
        self.to_out = nn.Linear(channels, channels)

    def forward(self, x):
        B, C, H, W = x.shape
        h = self.norm(x).flatten(2).transpose(1, 2)  # B, HW, C
        q, k, v = self.to_qkv(h).chunk(3, dim=-1)
        q, k, v = (z.reshape(B, H * W, self.heads, C // self.heads).transpose(1, 2) for z in (q, k, v))
        out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(1, 2).reshape(B, H * W, C)
        return x + self.to_out(out).transpose(1, 2).reshape(B, C, H, W)


class UNet(nn.Module):
    def __init__(self, in_ch=1, base=4, time_dim=8):
        super().__init__()
        self.time_mlp = nn.Sequential(SinusoidalPositionEmbeddings(time_dim), nn.Linear(time_dim, time_dim * 2),
                                      nn.SiLU(), nn.Linear(time_dim * 2, time_dim))
        self.init_conv = nn.Conv2d(in_ch, base, 3, padding=1)
        self.down1 = ResBlock(base, base, time_dim)
        self.downsample1 = nn.Conv2d(base, base, 4, stride=2, padding=1)
        self.down2 = ResBlock(base, base * 2, time_dim)
        self.downsample2 = nn.Conv2d(base * 2, base * 2, 3, stride=2, padding=1)
        self.mid1 = ResBlock(base * 2, base * 2, time_dim)
        self.mid_attn = AttentionBlock(base * 2)
        self.mid_sdpa = SDPAttention(base * 2)
        self.upsample2 = nn.ConvTranspose2d(base * 2, base * 2, 4, stride=2, padding=1)
        self.up2 = ResBlock(base * 4, base * 2, time_dim)
        self.up1_conv = nn.Conv2d(base * 2, base, 3, padding=1)
        self.up1 = ResBlock(base * 2, base, time_dim)
        self.out = nn.Sequential(nn.GroupNorm(2, base), nn.SiLU(), nn.Conv2d(base, in_ch, 1))

    def forward(self, x, t):
        t_emb = self.time_mlp(t)
        x = self.init_conv(x)
        h1 = self.down1(x, t_emb)
        h2 = self.down2(self.downsample1(h1), t_emb)
        h = self.mid1(self.downsample2(h2), t_emb)
        h = self.mid_sdpa(self.mid_attn(h))
        h = self.up2(torch.cat([self.upsample2(h), h2], dim=1), t_emb)
        h = self.up1_conv(F.interpolate(h, scale_factor=2, mode="nearest"))
        h = self.up1(torch.cat((h, h1), dim=1), t_emb)
        return self.out(h)


device = "cuda" if torch.cuda.is_available() else "cpu"
model = UNet().to(device, memory_format=torch.channels_last)
with torch.no_grad():
    for name, p in model.named_parameters():
        scale = 1.0 if "norm" in name and name.endswith("weight") else 0.2
        p.copy_(torch.from_numpy(rng.normal(1.0 if scale == 1.0 else 0.0, 0.2, p.shape)))

optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
batch = 4
images = torch.from_numpy(rng.uniform(-1, 1, (3, batch, 1, 8, 8)))
timesteps = torch.from_numpy(rng.integers(0, T, (3, batch)))
noises = torch.from_numpy(rng.normal(size=(3, batch, 1, 8, 8)))

same_q = torch.allclose(q_sample(images[0], timesteps[0], noises[0]),
                        q_sample_by_view(images[0], timesteps[0], noises[0]))
losses, grad_norms = [], []
model.train()
for step in range(3):
    x0, t, noise = images[step], timesteps[step], noises[step]
    x_noisy = q_sample(x_start=x0, t=t, noise=noise)
    predicted_noise = model(x_noisy, t)
    loss = F.mse_loss(noise, predicted_noise)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad(), sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
    eval_pred = model(q_sample(images[0], timesteps[0], noises[0]), timesteps[0])

results = {
    "betas": betas, "alphas_cumprod": alphas_cumprod, "alphas_cumprod_prev": alphas_cumprod_prev[:5],
    "cosine_betas": cosine_betas, "cosine_alphas_bar": cosine_alphas_bar,
    "same_q": same_q, "losses": losses, "grad_norms": grad_norms, "eval_pred": eval_pred,
    "time_embedding": SinusoidalPositionEmbeddings(8)(torch.tensor([0.0, 3.0, 49.0])),
    "num_params": sum(p.numel() for p in model.parameters()),
    "mid_attn_bias": model.mid_attn.proj.bias.detach(),
}
