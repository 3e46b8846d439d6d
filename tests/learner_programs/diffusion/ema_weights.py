# A diffusion course's EMA-of-weights lesson style (written for this project): a small conv net with BatchNorm
# trained a few steps while three copies follow it: an EMA class on copy.deepcopy(model) updated with
# ema_p.lerp_(p, 1 - decay) under torch.no_grad(), a hand-written one with mul_(d).add_(p, alpha=1 - d) and a
# warm-up decay min(decay, (1 + step) / (10 + step)), and torch.optim.swa_utils.AveragedModel with
# get_ema_multi_avg_fn (use_buffers=True); buffers copied from the model. Then the EMA model evaluated in eval mode
# and its state_dict loaded into a fresh net; a late copy (no .grad), an EMA kept over state_dict(), and one updated
# as ema-pytorch does, by torch._foreach_lerp_ and torch._foreach_copy_. Weights, data and noise come from NumPy.
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(77)


class Denoiser(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.SiLU(),
                                 nn.Conv2d(4, 4, 3, padding=1), nn.GroupNorm(2, 4), nn.SiLU(),
                                 nn.Conv2d(4, 1, 3, padding=1))

    def forward(self, x):
        return self.net(x)


class EMA:
    def __init__(self, model, decay=0.9):
        self.decay = decay
        self.ema_model = copy.deepcopy(model).eval()
        self.ema_model.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        for ema_p, p in zip(self.ema_model.parameters(), model.parameters()):
            ema_p.lerp_(p, 1 - self.decay)
        for ema_b, b in zip(self.ema_model.buffers(), model.buffers()):
            ema_b.copy_(b)


def ema_update_by_hand(ema_params, params, step, decay=0.95):
    d = min(decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for ema_p, p in zip(ema_params, params):
            ema_p.mul_(d).add_(p, alpha=1 - d)
    return d


class ForeachEMA:  # as ema-pytorch writes its update: one fused call for the parameters, one for the buffers
    def __init__(self, model, beta=0.85):
        self.beta = beta
        self.ema_model = copy.deepcopy(model)
        self.ema_model.requires_grad_(False)

    @torch.no_grad()
    def update(self, model):
        ma_params = [p for p in self.ema_model.parameters()]
        current_params = [p for p in model.parameters()]
        torch._foreach_lerp_(ma_params, current_params, 1.0 - self.beta)
        ma_buffers = [b for b in self.ema_model.buffers() if b.is_floating_point()]
        torch._foreach_copy_(ma_buffers, [b for b in model.buffers() if b.is_floating_point()])


model = Denoiser()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape)))

ema = EMA(model, decay=0.9)
fused = ForeachEMA(model)
shadow = [p.detach().clone() for p in model.parameters()]
averaged = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.8), use_buffers=True)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

data = torch.from_numpy(rng.uniform(-1, 1, (4, 3, 1, 6, 6)))
noise = torch.from_numpy(rng.normal(size=(4, 3, 1, 6, 6)))
losses, decays = [], []
for step in range(4):
    noisy = data[step] + 0.5 * noise[step]
    loss = F.mse_loss(model(noisy), noise[step])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    ema.update(model)
    fused.update(model)
    decays.append(ema_update_by_hand(shadow, model.parameters(), step))
    averaged.update_parameters(model)
    losses.append(loss.item())

# an EMA made once training has begun, and one kept over state_dict() (its integer buffer copied, not averaged)
late_ema = copy.deepcopy(model)
by_state = copy.deepcopy(model)
with torch.no_grad():
    live = model.state_dict()
    for key, value in by_state.state_dict().items():
        if value.is_floating_point():
            value.mul_(0.5).add_(live[key].detach() * 2, alpha=0.5)
        else:
            value.copy_(live[key])

probe = torch.from_numpy(rng.normal(size=(2, 1, 6, 6)))
with torch.no_grad():
    model.eval()
    ema_out = ema.ema_model(probe)
    averaged_out = averaged(probe)
    model_out = model(probe)

fresh = Denoiser()
fresh.load_state_dict(ema.ema_model.state_dict())
fresh.eval()
with torch.no_grad():
    fresh_out = fresh(probe)

results = {
    "losses": losses, "decays": decays,
    "ema_first_weight": ema.ema_model.net[0].weight.flatten()[:6],
    "shadow_first_weight": shadow[0].flatten()[:6],
    "averaged_first_weight": averaged.module.net[0].weight.detach().flatten()[:6],
    "n_averaged": averaged.n_averaged.item(),
    "ema_running_mean": ema.ema_model.net[1].running_mean,
    "averaged_running_var": averaged.module.net[1].running_var,
    "ema_num_batches": ema.ema_model.net[1].num_batches_tracked.item(),
    "ema_requires_grad": [p.requires_grad for p in ema.ema_model.parameters()][:2],
    "ema_out": ema_out, "averaged_out": averaged_out, "model_out": model_out,
    "fresh_matches": torch.equal(fresh_out, ema_out),
    "state_keys": list(averaged.state_dict().keys()),
    "fused_first_weight": fused.ema_model.net[0].weight.flatten()[:6],
    "fused_running_mean": fused.ema_model.net[1].running_mean,
    "late_ema_grads_none": [p.grad is None for p in late_ema.parameters()],
    "model_grads_none": [p.grad is None for p in model.parameters()],
    "by_state": [value.float() if value.is_floating_point() else value for value in by_state.state_dict().values()],
}
