# A vision course's self-supervised-learning notebook style (written for this project): the SimCLR contrastive
# loss (NT-Xent) written three ways -- a naive loop over pairs, a vectorized version with a similarity matrix, a
# ~torch.eye mask and masked_select(...).view(2N, -1), and a CLIP-style symmetric cross entropy -- compared with each
# other; a projection head trained a few steps with Adam; top-k accuracy of a kNN-free linear probe. In float64.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(5)


def sim(z_i, z_j):
    norm_dot_product = torch.dot(z_i, z_j) / (torch.linalg.norm(z_i) * torch.linalg.norm(z_j))
    return norm_dot_product


def simclr_loss_naive(out_left, out_right, tau):
    N = out_left.shape[0]
    out = torch.cat([out_left, out_right], dim=0)
    total_loss = 0
    for k in range(N):
        z_k, z_k_N = out[k], out[k + N]
        numerator = torch.exp(sim(z_k, z_k_N) / tau)
        denominator = 0
        for i in range(2 * N):
            if i != k:
                denominator += torch.exp(sim(z_k, out[i]) / tau)
        loss_left = -torch.log(numerator / denominator)
        denominator = 0
        for i in range(2 * N):
            if i != k + N:
                denominator += torch.exp(sim(z_k_N, out[i]) / tau)
        loss_right = -torch.log(numerator / denominator)
        total_loss += loss_left + loss_right
    return total_loss / (2 * N)


def sim_positive_pairs(out_left, out_right):
    out_left_norm = out_left / torch.linalg.norm(out_left, dim=1, keepdim=True)
    out_right_norm = out_right / torch.linalg.norm(out_right, dim=1, keepdim=True)
    return torch.sum(out_left_norm * out_right_norm, dim=1, keepdim=True)


def compute_sim_matrix(out):
    out_norm = out / torch.linalg.norm(out, dim=1, keepdim=True)
    return torch.mm(out_norm, out_norm.T)


def simclr_loss_vectorized(out_left, out_right, tau, device='cpu'):
    N = out_left.shape[0]
    out = torch.cat([out_left, out_right], dim=0)
    sim_matrix = compute_sim_matrix(out)
    exponential = torch.exp(sim_matrix / tau)
    mask = (torch.ones_like(exponential, device=device) - torch.eye(2 * N, device=device)).to(device).bool()
    exponential = exponential.masked_select(mask).view(2 * N, -1)
    denom = torch.sum(exponential, dim=1, keepdim=True)
    sim_pairs = sim_positive_pairs(out_left, out_right)
    numerator = torch.exp(torch.cat([sim_pairs, sim_pairs], dim=0) / tau)
    return torch.mean(-torch.log(numerator / denom))


def simclr_loss_cross_entropy(out_left, out_right, tau):
    N = out_left.shape[0]
    z = F.normalize(torch.cat([out_left, out_right]), dim=1)
    logits = z @ z.t() / tau
    logits = logits.masked_fill(torch.eye(2 * N, dtype=torch.bool), float('-inf'))
    targets = torch.cat([torch.arange(N, 2 * N), torch.arange(0, N)])
    return F.cross_entropy(logits, targets)


def clip_loss(image_features, text_features, logit_scale):
    image_features = image_features / image_features.norm(dim=-1, keepdim=True)
    text_features = text_features / text_features.norm(dim=-1, keepdim=True)
    logits_per_image = logit_scale.exp() * image_features @ text_features.t()
    labels = torch.arange(logits_per_image.shape[0])
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_image.T, labels)) / 2


results = {}
left = torch.tensor(rng.randn(4, 5), requires_grad=True)
right = torch.tensor(rng.randn(4, 5), requires_grad=True)
tau = 0.5
naive = simclr_loss_naive(left, right, tau)
naive.backward()
naive_grads = [left.grad.clone(), right.grad.clone()]
left.grad, right.grad = None, None
vectorized = simclr_loss_vectorized(left, right, tau)
vectorized.backward()
vec_grads = [left.grad.clone(), right.grad.clone()]
left.grad, right.grad = None, None
ce = simclr_loss_cross_entropy(left, right, tau)
ce.backward()
results['losses'] = [naive.item(), vectorized.item(), ce.item()]
results['agree'] = [torch.allclose(naive, vectorized), torch.allclose(vectorized, ce)]
results['grads'] = naive_grads
results['grads_agree'] = [torch.allclose(a, b) for a, b in zip(naive_grads, vec_grads)] + \
    [torch.allclose(a, b) for a, b in zip(vec_grads, [left.grad, right.grad])]
results['sim_matrix'] = compute_sim_matrix(torch.cat([left, right])).detach()

# a small encoder and projection head trained with the vectorized loss on two fixed "augmentations"
encoder = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 8))
head = nn.Sequential(nn.Linear(8, 8, bias=False), nn.BatchNorm1d(8), nn.ReLU(inplace=True), nn.Linear(8, 4, bias=True))
with torch.no_grad():
    for p in list(encoder.parameters()) + list(head.parameters()):
        p.copy_(torch.from_numpy(0.5 * rng.randn(*p.shape)))
x = torch.tensor(rng.randn(6, 6))
view1 = x + 0.1 * torch.tensor(rng.randn(6, 6))
view2 = torch.flip(x, dims=[1]) * 0.9
optimizer = torch.optim.Adam(list(encoder.parameters()) + list(head.parameters()), lr=1e-2, weight_decay=1e-6)
history = []
for _ in range(6):
    feature = encoder(torch.cat([view1, view2]))
    out = head(feature)
    out_left, out_right = out.chunk(2, dim=0)
    loss = simclr_loss_vectorized(out_left, out_right, tau=0.5)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    history.append(loss.item())
results['train_losses'] = history

# CLIP-style symmetric loss with a learned temperature
logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))
img_feats = torch.tensor(rng.randn(5, 4), requires_grad=True)
txt_feats = torch.tensor(rng.randn(5, 4))
loss = clip_loss(img_feats, txt_feats, logit_scale)
loss.backward()
results['clip'] = [loss.item(), logit_scale.grad.item(), img_feats.grad]

# a linear probe on frozen features and its top-k accuracy
with torch.no_grad():
    feats = encoder(x)
labels = torch.tensor([0, 1, 2, 0, 1, 2])
probe = nn.Linear(8, 3)
probe.weight.data.copy_(torch.from_numpy(rng.randn(3, 8) * 0.2))
probe.bias.data.zero_()
probe_opt = torch.optim.SGD(probe.parameters(), lr=0.5, momentum=0.9)
for _ in range(5):
    logits = probe(feats)
    probe_loss = F.cross_entropy(logits, labels)
    probe_opt.zero_grad()
    probe_loss.backward()
    probe_opt.step()
_, top2 = logits.topk(2, dim=1, largest=True, sorted=True)
correct = top2.eq(labels.view(-1, 1).expand_as(top2))
results['probe'] = [probe_loss.item(), correct[:, :1].sum().item(), correct.any(dim=1).float().mean().item(), top2]
