# UvA Deep Learning tutorial 11 style (written for this project): a normalizing flow on tiny 4-level "images" --
# dequantization with a logit/sigmoid change of variables and its log-determinant, affine coupling layers with
# a checkerboard mask (torch.meshgrid, torch.fmod) and a channel mask, a gated convolutional network with
# ConcatELU and a channel-wise LayerNorm (x.var(unbiased=False), torch.rsqrt), a learned tanh scaling factor,
# a squeeze flow (reshape/permute), the bits per dimension from a standard-normal prior, the flow run in reverse,
# and a few Adam steps. The uniform dequantization noise is a fixed table from seeded NumPy.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.default_rng(11)
NOISE = torch.from_numpy(rng.uniform(0, 1, (6, 4, 1, 4, 4)).astype(np.float32))


class Dequantization(nn.Module):
    def __init__(self, alpha=1e-5, quants=4):
        super().__init__()
        self.alpha = alpha
        self.quants = quants
        self.calls = 0

    def forward(self, z, ldj, reverse=False):
        if not reverse:
            z, ldj = self.dequant(z, ldj)
            z, ldj = self.sigmoid(z, ldj, reverse=True)
        else:
            z, ldj = self.sigmoid(z, ldj, reverse=False)
            z = z * self.quants
            ldj += np.log(self.quants) * np.prod(z.shape[1:])
            z = torch.floor(z).clamp(min=0, max=self.quants - 1).to(torch.int32)
        return z, ldj

    def sigmoid(self, z, ldj, reverse=False):
        if not reverse:
            ldj += (-z - 2 * F.softplus(-z)).sum(dim=[1, 2, 3])
            z = torch.sigmoid(z)
        else:
            z = z * (1 - self.alpha) + 0.5 * self.alpha
            ldj += np.log(1 - self.alpha) * np.prod(z.shape[1:])
            ldj += (-torch.log(z) - torch.log(1 - z)).sum(dim=[1, 2, 3])
            z = torch.log(z) - torch.log(1 - z)
        return z, ldj

    def dequant(self, z, ldj):
        z = z.to(torch.float32)
        z = z + NOISE[self.calls % 6, : z.shape[0]].detach()  # stands for torch.rand_like(z)
        self.calls += 1
        z = z / self.quants
        ldj -= np.log(self.quants) * np.prod(z.shape[1:])
        return z, ldj


class ConcatELU(nn.Module):
    def forward(self, x):
        return torch.cat([F.elu(x), F.elu(-x)], dim=1)


class LayerNormChannels(nn.Module):
    def __init__(self, c_in, eps=1e-5):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(1, c_in, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, c_in, 1, 1))
        self.eps = eps

    def forward(self, x):
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, unbiased=False, keepdim=True)
        y = (x - mean) / torch.sqrt(var + self.eps)
        return y * self.gamma + self.beta


class GatedConv(nn.Module):
    def __init__(self, c_in, c_hidden):
        super().__init__()
        self.net = nn.Sequential(
            ConcatELU(),
            nn.Conv2d(2 * c_in, c_hidden, kernel_size=3, padding=1),
            ConcatELU(),
            nn.Conv2d(2 * c_hidden, 2 * c_in, kernel_size=1),
        )

    def forward(self, x):
        out = self.net(x)
        val, gate = out.chunk(2, dim=1)
        return x + val * torch.sigmoid(gate)


class GatedConvNet(nn.Module):
    def __init__(self, c_in, c_hidden=8, c_out=-1, num_layers=2):
        super().__init__()
        c_out = c_out if c_out > 0 else 2 * c_in
        layers = [nn.Conv2d(c_in, c_hidden, kernel_size=3, padding=1)]
        for _ in range(num_layers):
            layers += [GatedConv(c_hidden, c_hidden), LayerNormChannels(c_hidden)]
        layers += [ConcatELU(), nn.Conv2d(2 * c_hidden, c_out, kernel_size=3, padding=1)]
        self.nn = nn.Sequential(*layers)

    def forward(self, x):
        return self.nn(x)


class CouplingLayer(nn.Module):
    def __init__(self, network, mask, c_in):
        super().__init__()
        self.network = network
        self.scaling_factor = nn.Parameter(torch.zeros(c_in))
        self.register_buffer("mask", mask)

    def forward(self, z, ldj, reverse=False):
        z_in = z * self.mask
        nn_out = self.network(z_in)
        s, t = nn_out.chunk(2, dim=1)
        s_fac = self.scaling_factor.exp().view(1, -1, 1, 1)
        s = torch.tanh(s / s_fac) * s_fac
        s = s * (1 - self.mask)
        t = t * (1 - self.mask)
        if not reverse:
            z = (z + t) * torch.exp(s)
            ldj += s.sum(dim=[1, 2, 3])
        else:
            z = (z * torch.exp(-s)) - t
            ldj -= s.sum(dim=[1, 2, 3])
        return z, ldj


def create_checkerboard_mask(h, w, invert=False):
    x, y = torch.arange(h, dtype=torch.int32), torch.arange(w, dtype=torch.int32)
    xx, yy = torch.meshgrid(x, y, indexing="ij")
    mask = torch.fmod(xx + yy, 2)
    mask = mask.to(torch.float32).view(1, 1, h, w)
    if invert:
        mask = 1 - mask
    return mask


def create_channel_mask(c_in, invert=False):
    mask = torch.cat([torch.ones(c_in // 2, dtype=torch.float32), torch.zeros(c_in - c_in // 2, dtype=torch.float32)])
    mask = mask.view(1, c_in, 1, 1)
    if invert:
        mask = 1 - mask
    return mask


class SqueezeFlow(nn.Module):
    def forward(self, z, ldj, reverse=False):
        B, C, H, W = z.shape
        if not reverse:
            z = z.reshape(B, C, H // 2, 2, W // 2, 2)
            z = z.permute(0, 1, 3, 5, 2, 4)
            z = z.reshape(B, 4 * C, H // 2, W // 2)
        else:
            z = z.reshape(B, C // 4, 2, 2, H, W)
            z = z.permute(0, 1, 4, 2, 5, 3)
            z = z.reshape(B, C // 4, H * 2, W * 2)
        return z, ldj


class ImageFlow(nn.Module):
    def __init__(self, flows):
        super().__init__()
        self.flows = nn.ModuleList(flows)
        self.prior = torch.distributions.normal.Normal(loc=0.0, scale=1.0)

    def encode(self, imgs):
        z, ldj = imgs, torch.zeros(imgs.shape[0], device=imgs.device)
        for flow in self.flows:
            z, ldj = flow(z, ldj, reverse=False)
        return z, ldj

    def _get_likelihood(self, imgs, return_ll=False):
        z, ldj = self.encode(imgs)
        log_pz = self.prior.log_prob(z).sum(dim=[1, 2, 3])
        log_px = ldj + log_pz
        nll = -log_px
        bpd = nll * np.log2(np.exp(1)) / np.prod(imgs.shape[1:])
        return bpd.mean() if not return_ll else log_px

    @torch.no_grad()
    def decode(self, z):
        ldj = torch.zeros(z.shape[0], device=z.device)
        for flow in reversed(self.flows):
            z, ldj = flow(z, ldj, reverse=True)
        return z, ldj


flows = [Dequantization(quants=4)]
for i in range(2):
    flows.append(CouplingLayer(GatedConvNet(c_in=1, c_hidden=8), create_checkerboard_mask(4, 4, invert=(i % 2 == 1)),
                               c_in=1))
flows.append(SqueezeFlow())
flows.append(CouplingLayer(GatedConvNet(c_in=4, c_hidden=8), create_channel_mask(4), c_in=4))
model = ImageFlow(flows)
with torch.no_grad():
    for name, p in model.named_parameters():
        if "scaling_factor" not in name and "gamma" not in name and "beta" not in name:
            fan_in = p[0].numel() if p.dim() > 1 else 8
            p.copy_(torch.from_numpy(rng.uniform(-1, 1, tuple(p.shape)).astype(np.float32)) / np.sqrt(fan_in))

imgs = torch.from_numpy(rng.integers(0, 4, (16, 1, 4, 4)))
results = {"checkerboard": create_checkerboard_mask(4, 4, invert=True)[0, 0],
           "channel_mask": create_channel_mask(4).flatten(),
           "buffers": [name for name, _ in model.named_buffers()]}

z, ldj = model.encode(imgs[:4])
results["z"] = z[0].flatten()
results["ldj"] = ldj
back, _ = model.decode(z)
results["round_trip"] = torch.equal(back, imgs[:4].to(torch.int32))
results["round_trip_dtype"] = str(back.dtype).split(".")[-1]
results["log_px"] = model._get_likelihood(imgs[4:8], return_ll=True)

optimizer = optim.Adam(model.parameters(), lr=1e-3)
scheduler = optim.lr_scheduler.StepLR(optimizer, 1, gamma=0.99)
bpds = []
for step in range(4):
    loss = model._get_likelihood(imgs[step * 4:(step + 1) * 4])
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    scheduler.step()
    bpds.append(loss.item())
results["bpds"] = bpds
results["scaling_factors"] = [flow.scaling_factor.detach() for flow in model.flows if hasattr(flow, "scaling_factor")]
