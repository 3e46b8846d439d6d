# A course's "Elucidating the design space" / k-diffusion lesson style (written for this project): Karras sigmas
# (ramp, rho, sigmas.new_zeros appended), EDM preconditioning (c_skip, c_out, c_in, c_noise = log(sigma) / 4) with
# append_dims, the EDM loss weighting over log-normal sigmas from NumPy, min-SNR-weighted noise-prediction loss
# with reduction='none', training a small denoiser a few steps with Adam and a LambdaLR warm-up, then the Euler,
# Heun (2nd order) and Euler-ancestral samplers and a DPM-Solver-style step on log-sigmas, and rectified-flow
# training and Euler integration. Noise from NumPy.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(9)


def append_dims(x, target_dims):
    dims_to_append = target_dims - x.ndim
    if dims_to_append < 0:
        raise ValueError(f"input has {x.ndim} dims but target_dims is {target_dims}, which is less")
    return x[(...,) + (None,) * dims_to_append]


def get_sigmas_karras(n, sigma_min, sigma_max, rho=7.0):
    ramp = torch.linspace(0, 1, n)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return torch.cat([sigmas, sigmas.new_zeros([1])])


class Net(nn.Module):
    def __init__(self, ch=2, hidden=6):
        super().__init__()
        self.emb = nn.Linear(1, hidden)
        self.conv1 = nn.Conv2d(ch, hidden, 3, padding=1)
        self.norm = nn.GroupNorm(3, hidden)
        self.conv2 = nn.Conv2d(hidden, ch, 3, padding=1)

    def forward(self, x, c_noise):
        h = self.conv1(x) + self.emb(c_noise[:, None])[:, :, None, None]
        return self.conv2(F.mish(self.norm(h)))


class Denoiser(nn.Module):
    def __init__(self, inner, sigma_data=0.5):
        super().__init__()
        self.inner_model, self.sigma_data = inner, sigma_data

    def get_scalings(self, sigma):
        c_skip = self.sigma_data ** 2 / (sigma ** 2 + self.sigma_data ** 2)
        c_out = sigma * self.sigma_data / (sigma ** 2 + self.sigma_data ** 2) ** 0.5
        c_in = 1 / (sigma ** 2 + self.sigma_data ** 2) ** 0.5
        return c_skip, c_out, c_in

    def loss(self, x, noise, sigma):
        c_skip, c_out, c_in = [append_dims(c, x.ndim) for c in self.get_scalings(sigma)]
        noised = x + noise * append_dims(sigma, x.ndim)
        model_output = self.inner_model(noised * c_in, sigma.log() / 4)
        target = (x - c_skip * noised) / c_out
        return (model_output - target).pow(2).flatten(1).mean(1)

    def forward(self, x, sigma):
        c_skip, c_out, c_in = [append_dims(c, x.ndim) for c in self.get_scalings(sigma)]
        return self.inner_model(x * c_in, sigma.log() / 4) * c_out + x * c_skip


def load(module, seed):
    numbers = np.random.default_rng(seed)
    module.load_state_dict({name: torch.from_numpy(numbers.normal(0, 0.3, tuple(value.shape)))
                            for name, value in module.state_dict().items()})
    return module


def to_d(x, sigma, denoised):
    return (x - denoised) / append_dims(sigma, x.ndim)


def euler_step(model, x, sigma, sigma_next, s_in):
    d = to_d(x, sigma, model(x, sigma * s_in))
    return x + d * (sigma_next - sigma), d


@torch.no_grad()
def sample_euler(model, x, sigmas):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        x, _ = euler_step(model, x, sigmas[i], sigmas[i + 1], s_in)
    return x


@torch.no_grad()
def sample_heun(model, x, sigmas):
    s_in = x.new_ones([x.shape[0]])
    for sigma, sigma_next in zip(sigmas[:-1], sigmas[1:]):
        x_2, d = euler_step(model, x, sigma, sigma_next, s_in)
        if sigma_next == 0:
            x = x_2
        else:
            d_2 = to_d(x_2, sigma_next, model(x_2, sigma_next * s_in))
            x = x + (d + d_2) / 2 * (sigma_next - sigma)
    return x


def get_ancestral_step(sigma_from, sigma_to, eta=1.0):
    sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
    return sigma_down, sigma_up


@torch.no_grad()
def sample_euler_ancestral(model, x, sigmas, noises):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1])
        x = x + to_d(x, sigmas[i], denoised) * (sigma_down - sigmas[i])
        if sigmas[i + 1] > 0:
            x = x + noises[i] * sigma_up
    return x


@torch.no_grad()
def sample_dpm_solver_2s(model, x, sigmas):
    s_in = x.new_ones([x.shape[0]])
    sigma_fn = lambda t: t.neg().exp()  # noqa: E731 (as the library writes it)
    t_fn = lambda sigma: sigma.log().neg()  # noqa: E731
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        if sigmas[i + 1] == 0:
            x = denoised
            continue
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
        s = t + (t_next - t) * 0.5
        x_2 = (sigma_fn(s) / sigma_fn(t)) * x - (-(s - t)).expm1() * denoised
        denoised_2 = model(x_2, sigma_fn(s) * s_in)
        x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-(t_next - t)).expm1() * denoised_2
    return x


sigmas = get_sigmas_karras(6, 0.02, 8.0)
denoiser = Denoiser(load(Net(), 1))
opt = torch.optim.Adam(denoiser.parameters(), lr=5e-3)
warmup = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: min(1.0, (step + 1) / 3))
losses, lrs = [], []
for _ in range(4):
    x0 = torch.from_numpy(rng.uniform(-1, 1, (4, 2, 5, 5)))
    noise = torch.from_numpy(rng.normal(size=x0.shape))
    sigma = torch.from_numpy(np.exp(rng.normal(-1.2, 1.2, 4)))
    loss = denoiser.loss(x0, noise, sigma).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    warmup.step()
    losses.append(loss.item())
    lrs.append(warmup.get_last_lr()[0])

# min-SNR-gamma weighting of an epsilon loss, per sample
alphas_cumprod = torch.cumprod(1 - torch.linspace(1e-3, 0.2, 30), 0)
t = torch.from_numpy(rng.integers(0, 30, 4))
snr = alphas_cumprod[t] / (1 - alphas_cumprod[t])
mse_loss_weights = torch.stack([snr, 5.0 * torch.ones_like(t, dtype=snr.dtype)], dim=1).min(dim=1)[0] / snr
pred, target = (torch.from_numpy(rng.normal(size=(4, 2, 3, 3))) for _ in range(2))
per_sample = F.mse_loss(pred, target, reduction="none").mean(dim=list(range(1, len(pred.shape))))
min_snr_loss = (per_sample * mse_loss_weights).mean()

x_T = torch.from_numpy(rng.normal(size=(2, 2, 5, 5))) * sigmas[0]
noises = torch.from_numpy(rng.normal(size=(len(sigmas), 2, 2, 5, 5)))
samples = {"euler": sample_euler(denoiser, x_T, sigmas), "heun": sample_heun(denoiser, x_T, sigmas),
           "ancestral": sample_euler_ancestral(denoiser, x_T, sigmas, noises),
           "dpm_2s": sample_dpm_solver_2s(denoiser, x_T, sigmas)}

# rectified flow: x_t = (1 - t) x0 + t x1, target x1 - x0, Euler from t = 0 to 1
flow = load(Net(), 2)
flow_opt = torch.optim.AdamW(flow.parameters(), lr=1e-2, weight_decay=0.0)
flow_losses = []
for _ in range(3):
    x0 = torch.from_numpy(rng.normal(size=(4, 2, 5, 5)))
    x1 = torch.from_numpy(rng.uniform(-1, 1, (4, 2, 5, 5)))
    tt = torch.from_numpy(rng.random(4))
    x_t = (1 - tt.view(-1, 1, 1, 1)) * x0 + tt.view(-1, 1, 1, 1) * x1
    loss = F.mse_loss(flow(x_t, tt), x1 - x0)
    flow_opt.zero_grad()
    loss.backward()
    flow_opt.step()
    flow_losses.append(loss.item())
with torch.no_grad():
    z = torch.from_numpy(rng.normal(size=(2, 2, 5, 5)))
    n_steps = 4
    for i in range(n_steps):
        z = z + flow(z, torch.full((2,), i / n_steps)) / n_steps

results = {"sigmas": sigmas, "losses": losses, "lrs": lrs, "min_snr_weights": mse_loss_weights,
           "min_snr_loss": min_snr_loss.item(), "samples": {k: v.flatten()[:10] for k, v in samples.items()},
           "flow_losses": flow_losses, "flow_sample": z.mean(dim=(0, 1)), "c_noise": math.log(0.5) / 4,
           "ancestral_step": list(get_ancestral_step(sigmas[1], sigmas[2]))}
