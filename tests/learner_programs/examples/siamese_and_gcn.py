# pytorch/examples "siamese_network" and "gcn" style (written for this project): a SiameseNetwork embedding two
# images with shared weights, comparing them with F.pairwise_distance and F.cosine_similarity and a head on
# the product of the embeddings trained with BCEWithLogitsLoss; then a two-layer GCN whose normalized adjacency
# D^-1/2 (A + I) D^-1/2 is kept dense (glassgrad has no sparse tensors) and multiplied with torch.sparse.mm and
# torch.spmm, which take dense matrices too, trained with F.nll_loss on the labelled nodes under Adam.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.default_rng(9)


def fill(model, scale=0.4):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-scale, scale, tuple(p.shape)).astype(np.float32)))
    return model


class SiameseNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(inplace=True), nn.Flatten(), nn.Linear(4 * 6 * 6, 8))
        self.fc = nn.Sequential(nn.Linear(8, 4), nn.ReLU(inplace=True), nn.Linear(4, 1))

    def forward_once(self, x):
        return self.embed(x)

    def forward(self, input1, input2):
        output1, output2 = self.forward_once(input1), self.forward_once(input2)
        output = self.fc(output1 * output2)
        return output, F.pairwise_distance(output1, output2), F.cosine_similarity(output1, output2)


siamese = fill(SiameseNetwork())
images1 = torch.from_numpy(rng.uniform(0, 1, (6, 1, 8, 8)).astype(np.float32))
images2 = torch.from_numpy(rng.uniform(0, 1, (6, 1, 8, 8)).astype(np.float32))
same = torch.from_numpy(rng.integers(0, 2, (6, 1)).astype(np.float32))
criterion = nn.BCEWithLogitsLoss()
optimizer = torch.optim.Adadelta(siamese.parameters(), lr=1.0)
siamese_history = []
for _step in range(4):
    optimizer.zero_grad()
    outputs, distance, similarity = siamese(images1, images2)
    loss = criterion(outputs, same)
    loss.backward()
    optimizer.step()
    siamese_history.append([loss.item(), distance.mean().item(), similarity.mean().item()])
pred = torch.where(torch.sigmoid(outputs) > 0.5, 1, 0)
correct = pred.eq(same.view_as(pred)).sum().item()

edges = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (5, 6), (6, 7), (7, 5), (2, 6)]
n = 8
A = torch.zeros(n, n)
for i, j in edges:
    A[i, j] = A[j, i] = 1
A_hat = A + torch.eye(n)
d_inv_sqrt = A_hat.sum(1).pow(-0.5)
adj = d_inv_sqrt.view(-1, 1) * A_hat * d_inv_sqrt.view(1, -1)


class GraphConv(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x, adj):
        support = torch.mm(x, self.weight)
        return torch.sparse.mm(adj, support) + self.bias


class GCN(nn.Module):
    def __init__(self):
        super().__init__()
        self.gc1, self.gc2 = GraphConv(5, 6), GraphConv(6, 2)

    def forward(self, x, adj):
        x = F.dropout(F.relu(self.gc1(x, adj)), 0.5, training=self.training)
        return F.log_softmax(torch.spmm(adj, self.gc2.weight.t().mm(x.t()).t()) + self.gc2.bias, dim=1)


gcn = fill(GCN())
gcn.eval()  # dropout masks are the libraries' own
features = torch.from_numpy(rng.uniform(0, 1, (n, 5)).astype(np.float32))
labels = torch.tensor([0, 0, 0, 0, 0, 1, 1, 1])
idx_train = torch.tensor([0, 2, 5, 7])
gcn_optimizer = torch.optim.Adam(gcn.parameters(), lr=0.05, weight_decay=5e-4)
gcn_losses = []
for _epoch in range(5):
    gcn_optimizer.zero_grad()
    output = gcn(features, adj)
    loss_train = F.nll_loss(output[idx_train], labels[idx_train])
    loss_train.backward()
    gcn_optimizer.step()
    gcn_losses.append(loss_train.item())
acc = output.max(1)[1].eq(labels).double().sum() / len(labels)
results = {"siamese": siamese_history, "correct": correct, "adj": adj, "nonzero": adj.count_nonzero().item(),
           "is_sparse": str(adj.is_sparse), "gcn_losses": gcn_losses, "acc": acc.item(),
           "same_as_dense": str(bool(torch.allclose(torch.sparse.mm(adj, features), adj @ features)))}
