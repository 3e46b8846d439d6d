# Metric learning as embedding tutorials write it (written for this project): an embedding net whose outputs are
# F.normalize'd, batch-hard triplet mining from a pairwise-distance matrix (torch.cdist, masks from labels),
# nn.TripletMarginLoss (margin, p, swap, reductions), the distance-function version with cosine distance,
# nn.CosineEmbeddingLoss on pairs labelled 1/-1 (margin), F.cosine_similarity, a few Adam steps, and recall@1 of
# nearest neighbours. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1406)
results = {}


class EmbeddingNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(8, 16), nn.PReLU(), nn.Linear(16, 4))

    def forward(self, x):
        return F.normalize(self.body(x), p=2, dim=1)


net = EmbeddingNet()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.5))
labels = torch.tensor([0, 0, 1, 1, 2, 2, 0, 1])
centers = rng.normal(size=(3, 8)) * 2
x = torch.from_numpy(centers[labels.numpy()] + rng.normal(size=(8, 8)))
emb = net(x)
results["norms"] = emb.norm(dim=1)
results["normalize_p1"] = F.normalize(x[:2], p=1, dim=0)
results["normalize_zero"] = F.normalize(torch.zeros(2, 3), dim=1)

anchor, positive, negative = emb[:4], emb[[1, 0, 3, 2]], emb[[2, 4, 0, 5]]
for margin, p, swap in [(1.0, 2, False), (0.2, 1, False), (0.5, 2, True), (0.3, 3, False)]:
    crit = nn.TripletMarginLoss(margin=margin, p=p, swap=swap)
    results[f"triplet_{margin}_{p}_{swap}"] = crit(anchor, positive, negative)
results["triplet_none"] = F.triplet_margin_loss(anchor, positive, negative, margin=0.5, reduction="none")


def cos_dist(a, b):
    return 1.0 - F.cosine_similarity(a, b)


results["triplet_cos"] = nn.TripletMarginWithDistanceLoss(distance_function=cos_dist, margin=0.4)(anchor, positive,
                                                                                                   negative)
results["triplet_default_distance"] = nn.TripletMarginWithDistanceLoss()(anchor, positive, negative)
results["triplet_shape"] = outcome(lambda: F.triplet_margin_loss(anchor, positive, negative[:3]))

# batch-hard mining
dist = torch.cdist(emb, emb, p=2)
same = labels.unsqueeze(0) == labels.unsqueeze(1)
eye = torch.eye(len(labels), dtype=torch.bool)
hardest_pos = (dist * (same & ~eye)).max(dim=1).values
hardest_neg = dist.masked_fill(same, float("inf")).min(dim=1).values
batch_hard = F.relu(hardest_pos - hardest_neg + 0.3).mean()
results["cdist"] = dist
results["batch_hard"] = batch_hard
batch_hard.backward()
results["batch_hard_grad"] = net.body[0].weight.grad
results["prelu_grad"] = net.body[1].weight.grad

# cosine embedding loss on pairs
x1, x2 = emb[[0, 2, 4, 1]].detach(), emb[[6, 3, 0, 5]].detach()
target = torch.tensor([1, 1, -1, -1])
x1.requires_grad_()
cel = nn.CosineEmbeddingLoss(margin=0.2)
loss = cel(x1, x2, target)
loss.backward()
results["cosine_embedding"] = loss
results["cosine_embedding_grad"] = x1.grad
results["cosine_embedding_none"] = F.cosine_embedding_loss(x1, x2, target.float(), reduction="none")
results["cosine_embedding_sum"] = F.cosine_embedding_loss(x1, x2, target, margin=-0.5, reduction="sum")
results["cosine_sim"] = F.cosine_similarity(x1, x2, dim=1)
results["cosine_sim_eps"] = F.cosine_similarity(torch.zeros(1, 3), torch.ones(1, 3))
results["cosine_sim_broadcast"] = F.cosine_similarity(x1[:1], x2, dim=-1)
results["cosine_embedding_unbatched"] = F.cosine_embedding_loss(x1[0], x2[0], torch.tensor(-1))

opt = torch.optim.Adam(net.parameters(), lr=0.01)
crit = nn.TripletMarginLoss(margin=0.5)
history = []
for _ in range(6):
    opt.zero_grad()
    e = net(x)
    loss = crit(e[[0, 2, 4, 6]], e[[1, 3, 5, 0]], e[[2, 4, 0, 3]])
    loss.backward()
    opt.step()
    history.append(loss.item())
results["history"] = history
with torch.no_grad():
    e = net(x)
    d = torch.cdist(e, e) + torch.eye(len(e)) * 1e9
    nn_idx = d.argmin(dim=1)
results["nearest"] = nn_idx
results["recall_at_1"] = (labels[nn_idx] == labels).double().mean()
