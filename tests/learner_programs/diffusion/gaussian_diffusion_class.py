# A popular "denoising diffusion in PyTorch" repository's style, written out without einops (written for this
# project): a GaussianDiffusion module holding its schedule as float32 buffers (register_buffer through a lambda),
# a sigmoid beta schedule, extract by gather, a weight-standardized Conv2d (F.conv2d with the module's own stride and
# padding), RMSNorm by F.normalize(x, dim=1) * g * sqrt(C), linear attention (q.softmax(dim=-2), k.softmax(dim=-1),
# torch.einsum), Residual/PreNorm wrappers, a space-to-depth downsample by view/permute, self-conditioning (a first
# prediction under torch.no_grad() then detach_()), a loss per sample with reduction='none' weighted by the SNR, and
# predictions kept in a namedtuple. Weights, data, timesteps and noise come from NumPy.
import math
from collections import namedtuple
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

dtype = "float32"
rng = np.random.default_rng(23)
ModelPrediction = namedtuple("ModelPrediction", ["pred_noise", "pred_x_start"])


def exists(x):
    return x is not None


def default(val, d):
    return val if exists(val) else (d() if callable(d) else d)


def extract(a, t, x_shape):
    b, *_ = t.shape
    out = a.gather(-1, t)
    return out.reshape(b, *((1,) * (len(x_shape) - 1)))


def sigmoid_beta_schedule(timesteps, start=-3, end=3, tau=1, clamp_min=1e-5):
    steps = timesteps + 1
    t = torch.linspace(0, timesteps, steps, dtype=torch.float64) / timesteps
    v_start = torch.tensor(start / tau).sigmoid()
    v_end = torch.tensor(end / tau).sigmoid()
    alphas_cumprod = (-((t * (end - start) + start) / tau).sigmoid() + v_end) / (v_end - v_start)
    alphas_cumprod = alphas_cumprod / alphas_cumprod[0]
    betas = 1 - (alphas_cumprod[1:] / alphas_cumprod[:-1])
    return torch.clip(betas, 0, 0.999)


class WeightStandardizedConv2d(nn.Conv2d):
    def forward(self, x):
        eps = 1e-5 if x.dtype == torch.float32 else 1e-3
        weight = self.weight
        mean = weight.mean(dim=(1, 2, 3), keepdim=True)
        var = torch.var(weight, dim=(1, 2, 3), keepdim=True, unbiased=False)
        normalized_weight = (weight - mean) * (var + eps).rsqrt()
        return F.conv2d(x, normalized_weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class RMSNorm(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        return F.normalize(x, dim=1) * self.g * (x.shape[1] ** 0.5)


class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, *args, **kwargs):
        return self.fn(x, *args, **kwargs) + x


class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.fn, self.norm = fn, RMSNorm(dim)

    def forward(self, x):
        return self.fn(self.norm(x))


class LinearAttention(nn.Module):
    def __init__(self, dim, heads=2, dim_head=3):
        super().__init__()
        self.scale, self.heads = dim_head ** -0.5, heads
        hidden_dim = dim_head * heads
        self.to_qkv = nn.Conv2d(dim, hidden_dim * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(hidden_dim, dim, 1), RMSNorm(dim))

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = (t.reshape(b, self.heads, -1, h * w) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2) * self.scale
        k = k.softmax(dim=-1)
        context = torch.einsum("b h d n, b h e n -> b h d e", k, v)
        out = torch.einsum("b h d e, b h d n -> b h e n", context, q)
        return self.to_out(out.reshape(b, -1, h, w))


def Downsample(dim, dim_out=None):  # noqa: N802 (the repository's spelling)
    class SpaceToDepth(nn.Module):
        def forward(self, x):
            b, c, h, w = x.shape
            x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
            return x.reshape(b, c * 4, h // 2, w // 2)
    return nn.Sequential(SpaceToDepth(), nn.Conv2d(dim * 4, default(dim_out, dim), 1))


class Block(nn.Module):
    def __init__(self, dim, dim_out, groups=2):
        super().__init__()
        self.proj = WeightStandardizedConv2d(dim, dim_out, 3, padding=1)
        self.norm = nn.GroupNorm(groups, dim_out)
        self.act = nn.SiLU()

    def forward(self, x, scale_shift=None):
        x = self.norm(self.proj(x))
        if exists(scale_shift):
            scale, shift = scale_shift
            x = x * (scale + 1) + shift
        return self.act(x)


class TinyUnet(nn.Module):
    def __init__(self, dim=4, channels=1, self_condition=True):
        super().__init__()
        self.channels, self.self_condition = channels, self_condition
        self.time_mlp = nn.Sequential(nn.Linear(1, dim * 2), nn.GELU(), nn.Linear(dim * 2, dim * 2))
        self.init_conv = nn.Conv2d(channels * (2 if self_condition else 1), dim, 7, padding=3)
        self.block = Block(dim, dim)
        self.attn = Residual(PreNorm(dim, LinearAttention(dim)))
        self.down = Downsample(dim, dim * 2)
        self.out = nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(dim * 2, channels, 3,
                                                                                          padding=1))

    def forward(self, x, time, x_self_cond=None):
        if self.self_condition:
            x_self_cond = default(x_self_cond, lambda: torch.zeros_like(x))
            x = torch.cat((x_self_cond, x), dim=1)
        t = self.time_mlp(time[:, None].float() / 100)[:, :, None, None]
        h = self.block(self.init_conv(x), scale_shift=t.chunk(2, dim=1))
        return self.out(self.down(self.attn(h)))


class GaussianDiffusion(nn.Module):
    def __init__(self, model, timesteps=20, min_snr_gamma=5):
        super().__init__()
        self.model, self.num_timesteps = model, timesteps
        betas = sigmoid_beta_schedule(timesteps)
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        register_buffer = lambda name, val: self.register_buffer(name, val.to(torch.float32))  # noqa: E731
        register_buffer("betas", betas)
        register_buffer("alphas_cumprod", alphas_cumprod)
        register_buffer("sqrt_alphas_cumprod", torch.sqrt(alphas_cumprod))
        register_buffer("sqrt_one_minus_alphas_cumprod", torch.sqrt(1.0 - alphas_cumprod))
        register_buffer("sqrt_recip_alphas_cumprod", torch.sqrt(1.0 / alphas_cumprod))
        register_buffer("sqrt_recipm1_alphas_cumprod", torch.sqrt(1.0 / alphas_cumprod - 1))
        snr = alphas_cumprod / (1 - alphas_cumprod)
        register_buffer("loss_weight", snr.clone().clamp_(max=min_snr_gamma) / snr)

    def predict_start_from_noise(self, x_t, t, noise):
        return (extract(self.sqrt_recip_alphas_cumprod, t, x_t.shape) * x_t
                - extract(self.sqrt_recipm1_alphas_cumprod, t, x_t.shape) * noise)

    def model_predictions(self, x, t, x_self_cond=None, clip_x_start=False):
        pred_noise = self.model(x, t, x_self_cond)
        maybe_clip = partial(torch.clamp, min=-1.0, max=1.0) if clip_x_start else (lambda v: v)
        x_start = maybe_clip(self.predict_start_from_noise(x, t, pred_noise))
        return ModelPrediction(pred_noise, x_start)

    def q_sample(self, x_start, t, noise):
        return (extract(self.sqrt_alphas_cumprod, t, x_start.shape) * x_start
                + extract(self.sqrt_one_minus_alphas_cumprod, t, x_start.shape) * noise)

    def p_losses(self, x_start, t, noise, use_self_cond):
        x = self.q_sample(x_start=x_start, t=t, noise=noise)
        x_self_cond = None
        if self.model.self_condition and use_self_cond:
            with torch.no_grad():
                x_self_cond = self.model_predictions(x, t, clip_x_start=True).pred_x_start
                x_self_cond.detach_()
        model_out = self.model(x, t, x_self_cond)
        loss = F.mse_loss(model_out, noise, reduction="none")
        loss = loss.mean(dim=list(range(1, loss.ndim)))
        loss = loss * extract(self.loss_weight, t, loss.shape)
        return loss.mean()


diffusion = GaussianDiffusion(TinyUnet())
with torch.no_grad():
    for p in diffusion.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, tuple(p.shape)).astype(np.float32)))
optimizer = torch.optim.Adam(diffusion.parameters(), lr=1e-3)
losses = []
for step in range(3):
    images = torch.from_numpy(rng.uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32))
    t = torch.from_numpy(rng.integers(0, diffusion.num_timesteps, 4))
    noise = torch.from_numpy(rng.normal(size=(4, 1, 8, 8)).astype(np.float32))
    loss = diffusion.p_losses(images, t, noise, use_self_cond=step % 2 == 1)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    x = torch.from_numpy(rng.normal(size=(2, 1, 8, 8)).astype(np.float32))
    preds = diffusion.model_predictions(x, torch.tensor([5, 15]), clip_x_start=True)

results = {"betas": diffusion.betas, "loss_weight": diffusion.loss_weight, "losses": losses,
           "pred_x_start": preds.pred_x_start[0, 0, 0], "pred_noise_mean": preds.pred_noise.mean().item(),
           "buffers_float32": [b.dtype == torch.float32 for b in diffusion.buffers()],
           "buffer_names": [name for name, _ in diffusion.named_buffers()],
           "state_keys": len(diffusion.state_dict()), "snr_min": math.log(diffusion.loss_weight.min().item())}
