# Mixup and CutMix as augmentation tutorials write them (written for this project): lam drawn from
# torch.distributions.Beta(alpha, alpha) and an index from torch.randperm (draws differ between the libraries, so
# they are checked by range and membership, and the losses computed from fixed lam and permutation), mixed images,
# one-hot soft targets mixed the same way and F.cross_entropy with probability targets (and label_smoothing), the
# two-term loss lam*CE(y_a) + (1-lam)*CE(y_b), a CutMix box from rand_bbox clipped to the image, lam corrected by
# the box area; the Beta distribution's log_prob, mean, variance and entropy; a few Adam steps. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome
from torch.distributions import Beta

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1402)
results = {}


beta = Beta(torch.tensor(0.4), torch.tensor(0.4))
torch.manual_seed(0)
draws = beta.sample((500,))
results["beta_draws_in_01"] = bool(((draws > 0) & (draws < 1)).all())
results["beta_draws_shape"] = list(draws.shape)
results["beta_mean_close"] = abs(draws.mean().item() - 0.5) < 0.1
lam_drawn = beta.sample().item()
results["lam_drawn_type"] = type(lam_drawn).__name__
grid = torch.tensor([0.05, 0.3, 0.5, 0.9])
results["beta_log_prob"] = beta.log_prob(grid)
results["beta_stats"] = [beta.mean, beta.variance, beta.entropy()]
b2 = Beta(torch.tensor([2.0, 0.5]), torch.tensor([3.0, 0.5]))
results["beta_batch_log_prob"] = b2.log_prob(torch.tensor([0.25, 0.75]))
results["beta_batch_shape"] = [list(b2.batch_shape), list(b2.sample((3,)).shape), list(b2.rsample().shape)]
conc = torch.tensor(1.5, requires_grad=True)
Beta(conc, torch.tensor(2.5)).log_prob(torch.tensor(0.3)).backward()
results["beta_log_prob_grad"] = conc.grad
results["beta_bad_value"] = outcome(lambda: beta.log_prob(torch.tensor(1.5)))
results["beta_bad_param"] = outcome(lambda: Beta(torch.tensor(-1.0), torch.tensor(1.0)))

perm = torch.randperm(8)
results["perm_is_perm"] = sorted(perm.tolist()) == list(range(8))
results["perm_dtype"] = perm.dtype == torch.int64

x = torch.from_numpy(rng.normal(size=(8, 3, 8, 8)))
y = torch.from_numpy(rng.integers(0, 4, size=8))
net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 4))
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.5))
index = torch.tensor([3, 0, 7, 1, 6, 2, 5, 4])
lam = 0.62


def mixup(x, y, lam, index):
    mixed = lam * x + (1 - lam) * x[index, :]
    return mixed, y, y[index]


def rand_bbox(size, lam, cx, cy):
    W, H = size[2], size[3]
    cut_rat = np.sqrt(1.0 - lam)
    cut_w, cut_h = int(W * cut_rat), int(H * cut_rat)
    bbx1 = np.clip(cx - cut_w // 2, 0, W)
    bby1 = np.clip(cy - cut_h // 2, 0, H)
    bbx2 = np.clip(cx + cut_w // 2, 0, W)
    bby2 = np.clip(cy + cut_h // 2, 0, H)
    return bbx1, bby1, bbx2, bby2


mixed, y_a, y_b = mixup(x, y, lam, index)
out = net(mixed)
two_term = lam * F.cross_entropy(out, y_a) + (1 - lam) * F.cross_entropy(out, y_b)
soft = lam * F.one_hot(y, 4).double() + (1 - lam) * F.one_hot(y[index], 4).double()
results["mixup_two_term"] = two_term
results["mixup_soft"] = F.cross_entropy(out, soft)
results["mixup_soft_smooth"] = F.cross_entropy(out, soft, label_smoothing=0.1)
results["mixup_soft_none"] = F.cross_entropy(out, soft, reduction="none")
results["mixup_same"] = torch.allclose(two_term, F.cross_entropy(out, soft))
results["soft_int_target"] = outcome(lambda: F.cross_entropy(out, soft.long()))
results["soft_float32_target"] = outcome(lambda: F.cross_entropy(out, soft.float()))

x_cut = x.clone()
bbx1, bby1, bbx2, bby2 = rand_bbox(x.size(), lam, 5, 2)
x_cut[:, :, bbx1:bbx2, bby1:bby2] = x[index, :, bbx1:bbx2, bby1:bby2]
lam_cut = 1 - ((bbx2 - bbx1) * (bby2 - bby1) / (x.size()[-1] * x.size()[-2]))
results["cutmix_box"] = [int(bbx1), int(bby1), int(bbx2), int(bby2), float(lam_cut)]
results["cutmix_pixels"] = x_cut[0, 0]
out = net(x_cut)
results["cutmix_loss"] = F.cross_entropy(out, y) * lam_cut + F.cross_entropy(out, y[index]) * (1.0 - lam_cut)

opt = torch.optim.Adam(net.parameters(), lr=1e-2)
crit = nn.CrossEntropyLoss()
history = []
for step, lam_s in enumerate([0.9, 0.3, 0.55, 0.7]):
    idx = torch.roll(torch.arange(8), step + 1)
    inputs, ta, tb = mixup(x, y, lam_s, idx)
    opt.zero_grad()
    o = net(inputs)
    loss = lam_s * crit(o, ta) + (1 - lam_s) * crit(o, tb)
    loss.backward()
    opt.step()
    history.append(loss.item())
results["history"] = history
results["last_weight"] = net[-1].weight
