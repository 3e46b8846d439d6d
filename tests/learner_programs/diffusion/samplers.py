# A diffusion course's sampling notebook style (written for this project): a tiny fixed noise-prediction net, then
# the reverse process under @torch.no_grad() / @torch.inference_mode(): DDPM ancestral sampling with the posterior
# mean coefficients and variance (log clipped), x0 clamped to [-1, 1], noise masked at t == 0; DDIM with eta = 0
# (deterministic) and eta > 0 on a strided timestep list; the same loop for an x0-predicting and a v-predicting net
# (v = sqrt(ab) * eps - sqrt(1 - ab) * x0). The sampling noise comes from NumPy; torch.randn_like is compared by
# shape only.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(5)
T = 40
betas = torch.linspace(1e-3, 0.2, T)
alphas = 1.0 - betas
alphas_cumprod = torch.cumprod(alphas, axis=0)
alphas_cumprod_prev = torch.cat([torch.tensor([1.0]), alphas_cumprod[:-1]])
sqrt_recip_alphas = torch.sqrt(1.0 / alphas)
posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
posterior_log_variance_clipped = torch.log(torch.cat([posterior_variance[1:2], posterior_variance[1:]]))
posterior_mean_coef1 = betas * torch.sqrt(alphas_cumprod_prev) / (1.0 - alphas_cumprod)
posterior_mean_coef2 = (1.0 - alphas_cumprod_prev) * torch.sqrt(alphas) / (1.0 - alphas_cumprod)


def extract(a, t, x_shape):
    b, *_ = t.shape
    out = a.gather(-1, t)
    return out.reshape(b, *((1,) * (len(x_shape) - 1)))


class TinyNet(nn.Module):
    def __init__(self, channels=2):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, 6, 3, padding=1)
        self.t_proj = nn.Linear(1, 6)
        self.conv_out = nn.Conv2d(6, channels, 3, padding=1)

    def forward(self, x, t):
        h = self.conv_in(x) + self.t_proj(t.to(x.dtype).unsqueeze(-1) / T)[..., None, None]
        return self.conv_out(F.silu(h))


def load(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(numbers.normal(0, 0.3, tuple(p.shape))))
    return model.eval()


eps_model, x0_model, v_model = load(TinyNet(), 1), load(TinyNet(), 2), load(TinyNet(), 3)
shape = (3, 2, 5, 5)
x_T = torch.from_numpy(rng.normal(size=shape))
step_noise = torch.from_numpy(rng.normal(size=(T,) + shape))


def predict_x0(model, x, t, kind):
    ab = extract(alphas_cumprod, t, x.shape)
    out = model(x, t)
    if kind == "eps":
        return (x - (1 - ab).sqrt() * out) / ab.sqrt(), out
    if kind == "x0":
        x0 = out
    else:  # v
        x0 = ab.sqrt() * x - (1 - ab).sqrt() * out
    eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
    return x0, eps


@torch.no_grad()
def p_sample(model, x, t, t_index, kind="eps"):
    x0, _ = predict_x0(model, x, t, kind)
    x0 = x0.clamp(-1.0, 1.0)
    model_mean = extract(posterior_mean_coef1, t, x.shape) * x0 + extract(posterior_mean_coef2, t, x.shape) * x
    log_var = extract(posterior_log_variance_clipped, t, x.shape)
    nonzero_mask = (t != 0).to(x.dtype).view(-1, *([1] * (len(x.shape) - 1)))
    return model_mean + nonzero_mask * (0.5 * log_var).exp() * step_noise[t_index]


@torch.no_grad()
def p_sample_loop(model, kind="eps"):
    img = x_T.clone()
    means = []
    for i in reversed(range(0, T)):
        t = torch.full((shape[0],), i, dtype=torch.long)
        img = p_sample(model, img, t, i, kind)
        means.append(img.mean().item())
    return img, means


@torch.inference_mode()
def ddim_sample(model, steps=8, eta=0.0, kind="eps"):
    times = torch.linspace(T - 1, 0, steps).round().long()
    x = x_T.clone()
    for i, (t_now, t_next) in enumerate(zip(times[:-1], times[1:])):
        t = torch.full((shape[0],), t_now.item(), dtype=torch.long)
        x0, eps = predict_x0(model, x, t, kind)
        x0 = torch.clamp(x0, -1, 1)
        ab, ab_next = alphas_cumprod[t_now], alphas_cumprod[t_next]
        sigma = eta * ((1 - ab_next) / (1 - ab) * (1 - ab / ab_next)).sqrt()
        dir_xt = (1 - ab_next - sigma ** 2).sqrt() * eps
        x = ab_next.sqrt() * x0 + dir_xt + sigma * step_noise[i]
    return x


ancestral, ancestral_means = p_sample_loop(eps_model)
ancestral_x0, _ = p_sample_loop(x0_model, kind="x0")
ancestral_v, _ = p_sample_loop(v_model, kind="v")
ddim_det = ddim_sample(eps_model)
ddim_det_again = ddim_sample(eps_model)
ddim_eta = ddim_sample(eps_model, eta=0.7)
ddim_v = ddim_sample(v_model, eta=1.0, kind="v")
ddim_x0 = ddim_sample(x0_model, steps=5, kind="x0")
with torch.inference_mode():
    drawn = torch.randn_like(x_T)
    inference_flags = [drawn.requires_grad, torch.is_inference_mode_enabled(), torch.is_grad_enabled()]

# the v-objective's target, on fixed data
x0_data = torch.from_numpy(rng.uniform(-1, 1, shape))
eps_data = torch.from_numpy(rng.normal(size=shape))
t_data = torch.from_numpy(rng.integers(0, T, shape[0]))
ab = alphas_cumprod[t_data].view(-1, 1, 1, 1)
x_t = ab.sqrt() * x0_data + (1 - ab).sqrt() * eps_data
v_target = ab.sqrt() * eps_data - (1 - ab).sqrt() * x0_data
v_loss = F.mse_loss(v_model(x_t, t_data), v_target)
snr = alphas_cumprod / (1 - alphas_cumprod)
min_snr_weight = torch.clamp(snr, max=5.0) / (snr + 1)

results = {
    "posterior_variance": posterior_variance, "log_variance": posterior_log_variance_clipped,
    "coef1": posterior_mean_coef1, "coef2": posterior_mean_coef2, "sqrt_recip_alphas": sqrt_recip_alphas,
    "ancestral": ancestral, "ancestral_means": ancestral_means, "ancestral_x0": ancestral_x0,
    "ancestral_v": ancestral_v, "ddim_det": ddim_det, "deterministic": torch.equal(ddim_det, ddim_det_again),
    "ddim_eta": ddim_eta, "ddim_v": ddim_v, "ddim_x0": ddim_x0, "drawn_shape": list(drawn.shape),
    "inference_flags": inference_flags, "ddim_is_inference": ddim_det.is_inference(),
    "v_loss": v_loss.item(), "min_snr_weight": min_snr_weight, "log_snr_mid": math.log(snr[T // 2].item()),
}
