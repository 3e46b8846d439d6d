# Pruning and weight reparametrizations as the pruning tutorial and GAN/WGAN code use them (written for this
# project): prune.l1_unstructured (amount as a fraction and as a count), ln_structured, global_unstructured over
# several layers, the weight_orig/weight_mask names, sparsity, prune.is_pruned, iterative pruning, prune.remove; the
# old nn.utils.weight_norm/spectral_norm and the parametrizations versions (weight_norm's original0/original1,
# spectral_norm converging on a matrix whose singular values are far apart), remove_parametrizations, gradients
# and an SGD step through them. In float64.
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune
from technique_helpers import outcome
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as sn_param
from torch.nn.utils.parametrizations import weight_norm as wn_param

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1405)
results = {}


def filled(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape))))
    return module


net = filled(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 4 * 4, 10), nn.ReLU(),
                           nn.Linear(10, 3)))
conv, fc1, fc2 = net[0], net[3], net[5]
prune.l1_unstructured(conv, name="weight", amount=0.3)
results["conv_names"] = [[n for n, _ in conv.named_parameters()], [n for n, _ in conv.named_buffers()]]
results["conv_mask"] = conv.weight_mask
results["conv_weight"] = conv.weight
results["conv_sparsity"] = float(torch.sum(conv.weight == 0)) / conv.weight.nelement()
results["is_pruned"] = [prune.is_pruned(conv), prune.is_pruned(fc2)]
prune.l1_unstructured(conv, name="bias", amount=1)
results["bias_mask"] = conv.bias_mask
prune.ln_structured(fc1, name="weight", amount=0.5, n=2, dim=0)
results["fc1_rows_kept"] = fc1.weight_mask.sum(dim=1)
prune.l1_unstructured(conv, name="weight", amount=0.5)  # iterative: 50% of what is left
results["iterative_sparsity"] = float((conv.weight == 0).sum()) / conv.weight.nelement()
results["hooks"] = [type(h).__name__ for h in conv._forward_pre_hooks.values()]

net2 = filled(nn.Sequential(nn.Linear(6, 8), nn.Linear(8, 8), nn.Linear(8, 2)))
parameters_to_prune = [(net2[0], "weight"), (net2[1], "weight"), (net2[2], "weight")]
prune.global_unstructured(parameters_to_prune, pruning_method=prune.L1Unstructured, amount=0.4)
results["global_per_layer"] = [float((m.weight == 0).sum()) for m, _ in parameters_to_prune]
results["global_total"] = sum(int((m.weight == 0).sum()) for m, _ in parameters_to_prune)
x = torch.from_numpy(rng.normal(size=(5, 6)))
out = net2(x)
out.sum().backward()
results["pruned_out"] = out
results["orig_grad"] = net2[1].weight_orig.grad
for m, name in parameters_to_prune:
    prune.remove(m, name)
results["after_remove"] = [[n for n, _ in net2[0].named_parameters()], list(dict(net2[0].named_buffers()))]
results["after_remove_weight"] = net2[1].weight
results["remove_unpruned"] = outcome(lambda: prune.remove(net2[0], "bias"))
results["bad_amount"] = outcome(lambda: prune.l1_unstructured(nn.Linear(3, 3), "weight", amount=1.5))
results["too_many"] = outcome(lambda: prune.l1_unstructured(nn.Linear(3, 3), "weight", amount=10))
img = torch.from_numpy(rng.normal(size=(2, 1, 6, 6)))
results["pruned_net_out"] = net(img)
results["state_dict_keys"] = list(net.state_dict().keys())

# weight norm, old and new
lin = filled(nn.Linear(5, 3))
w0 = lin.weight.detach().clone()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    old = nn.utils.weight_norm(filled(nn.Linear(5, 3)), name="weight")
results["old_wn_warned"] = [w.category.__name__ for w in seen]
results["old_wn_names"] = sorted(n for n, _ in old.named_parameters())
results["old_wn_g"] = old.weight_g
new = wn_param(lin)
results["new_wn_names"] = sorted(n for n, _ in new.named_parameters())
results["new_wn_same_weight"] = torch.allclose(new.weight, w0)
results["new_wn_g"] = new.parametrizations.weight.original0
xin = torch.from_numpy(rng.normal(size=(4, 5)))
new(xin).pow(2).sum().backward()
results["new_wn_grads"] = [new.parametrizations.weight.original0.grad, new.parametrizations.weight.original1.grad]
opt = torch.optim.SGD(new.parameters(), lr=0.1)
opt.step()
results["new_wn_weight_after_step"] = new.weight
results["wn_dim_none"] = wn_param(filled(nn.Linear(4, 2)), dim=None).parametrizations.weight.original0
parametrize.remove_parametrizations(new, "weight")
results["wn_removed"] = [sorted(n for n, _ in new.named_parameters()), parametrize.is_parametrized(new)]

# spectral norm: a matrix whose largest singular value stands far from the next, so power iteration converges
U, _ = np.linalg.qr(rng.normal(size=(4, 4)))
Vt, _ = np.linalg.qr(rng.normal(size=(6, 6)))
W = U @ np.diag([5.0, 1.0, 0.5, 0.2]) @ Vt[:4]
lin_sn = nn.Linear(6, 4)
with torch.no_grad():
    lin_sn.weight.copy_(torch.from_numpy(W))
    lin_sn.bias.zero_()
lin_sn = sn_param(lin_sn, n_power_iterations=20)
results["sn_weight"] = lin_sn.weight
results["sn_sigma1"] = torch.linalg.matrix_norm(lin_sn.weight, ord=2)
results["sn_names"] = sorted(n for n, _ in lin_sn.named_parameters())
results["sn_buffers"] = sorted(n for n, _ in lin_sn.named_buffers())
old_sn = nn.Linear(6, 4)
with torch.no_grad():
    old_sn.weight.copy_(torch.from_numpy(W))
    old_sn.bias.fill_(0.5)
old_sn = nn.utils.spectral_norm(old_sn, n_power_iterations=30)
y = old_sn(xin[:, :5].repeat(1, 2)[:, :6])
results["old_sn_sigma"] = torch.linalg.matrix_norm(old_sn.weight.detach(), ord=2)
results["old_sn_names"] = [sorted(n for n, _ in old_sn.named_parameters()),
                           sorted(n for n, _ in old_sn.named_buffers())]
results["old_sn_out"] = y
lin_sn.eval()
results["sn_eval"] = lin_sn(torch.ones(1, 6))
