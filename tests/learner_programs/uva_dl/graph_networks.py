# UvA Deep Learning tutorial 7 style (written for this project): graph neural networks on a dense adjacency
# matrix -- a GCNLayer averaging neighbours (adj_matrix.sum(dim=-1, keepdims=True), torch.bmm) and a GATLayer
# (a LeakyReLU on concatenated node pairs, masked_fill with -9e15 where there is no edge, softmax, torch.einsum)
# -- then a few node-classification steps on a small graph with a train mask. Weights from seeded NumPy.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

rng = np.random.default_rng(7)


class GCNLayer(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.projection = nn.Linear(c_in, c_out)

    def forward(self, node_feats, adj_matrix):
        num_neighbours = adj_matrix.sum(dim=-1, keepdims=True)
        node_feats = self.projection(node_feats)
        node_feats = torch.bmm(adj_matrix, node_feats)
        node_feats = node_feats / num_neighbours
        return node_feats


node_feats = torch.arange(8, dtype=torch.float32).view(1, 4, 2)
adj_matrix = torch.Tensor([[[1, 1, 0, 0], [1, 1, 1, 1], [0, 1, 1, 1], [0, 1, 1, 1]]])
layer = GCNLayer(c_in=2, c_out=2)
layer.projection.weight.data = torch.Tensor([[1.0, 0.0], [0.0, 1.0]])
layer.projection.bias.data = torch.Tensor([0.0, 0.0])
with torch.no_grad():
    out_feats = layer(node_feats, adj_matrix)
results = {"gcn_identity": out_feats}


class GATLayer(nn.Module):
    def __init__(self, c_in, c_out, num_heads=1, concat_heads=True, alpha=0.2):
        super().__init__()
        self.num_heads = num_heads
        self.concat_heads = concat_heads
        if self.concat_heads:
            assert c_out % num_heads == 0, "Number of output features must be a multiple of the count of heads."
            c_out = c_out // num_heads
        self.projection = nn.Linear(c_in, c_out * num_heads)
        self.a = nn.Parameter(torch.Tensor(num_heads, 2 * c_out))
        self.leakyrelu = nn.LeakyReLU(alpha)
        nn.init.xavier_uniform_(self.projection.weight.data, gain=1.414)
        nn.init.xavier_uniform_(self.a.data, gain=1.414)

    def forward(self, node_feats, adj_matrix, print_attn_probs=False):
        batch_size, num_nodes = node_feats.size(0), node_feats.size(1)
        node_feats = self.projection(node_feats)
        node_feats = node_feats.view(batch_size, num_nodes, self.num_heads, -1)
        edges = adj_matrix.nonzero(as_tuple=False)
        node_feats_flat = node_feats.view(batch_size * num_nodes, self.num_heads, -1)
        edge_indices_row = edges[:, 0] * num_nodes + edges[:, 1]
        edge_indices_col = edges[:, 0] * num_nodes + edges[:, 2]
        a_input = torch.cat([
            torch.index_select(input=node_feats_flat, index=edge_indices_row, dim=0),
            torch.index_select(input=node_feats_flat, index=edge_indices_col, dim=0),
        ], dim=-1)
        attn_logits = torch.einsum("bhc,hc->bh", a_input, self.a)
        attn_logits = self.leakyrelu(attn_logits)
        attn_matrix = attn_logits.new_zeros(adj_matrix.shape + (self.num_heads,)).fill_(-9e15)
        attn_matrix[adj_matrix[..., None].repeat(1, 1, 1, self.num_heads) == 1] = attn_logits.reshape(-1)
        attn_probs = F.softmax(attn_matrix, dim=2)
        if print_attn_probs:
            print("Attention probs\n", attn_probs.permute(0, 3, 1, 2))
        node_feats = torch.einsum("bijh,bjhc->bihc", attn_probs, node_feats)
        if self.concat_heads:
            node_feats = node_feats.reshape(batch_size, num_nodes, -1)
        else:
            node_feats = node_feats.mean(dim=2)
        return node_feats, attn_probs


layer = GATLayer(2, 2, num_heads=2)
layer.projection.weight.data = torch.Tensor([[1.0, 0.0], [0.0, 1.0]])
layer.projection.bias.data = torch.Tensor([0.0, 0.0])
layer.a.data = torch.Tensor([[-0.2, 0.3], [0.1, -0.1]])
with torch.no_grad():
    out_feats, attn_probs = layer(node_feats, adj_matrix, print_attn_probs=True)
results["gat_identity"] = out_feats
results["gat_probs"] = attn_probs.permute(0, 3, 1, 2)

# a dense-mask GAT: logits for every pair, masked_fill where there is no edge
class DenseGATLayer(nn.Module):
    def __init__(self, c_in, c_out, alpha=0.2):
        super().__init__()
        self.projection = nn.Linear(c_in, c_out)
        self.a_src = nn.Parameter(torch.zeros(c_out))
        self.a_dst = nn.Parameter(torch.zeros(c_out))
        self.alpha = alpha

    def forward(self, x, adj):
        h = self.projection(x)
        logits = (h @ self.a_src).unsqueeze(-1) + (h @ self.a_dst).unsqueeze(-2)
        logits = F.leaky_relu(logits, self.alpha)
        logits = logits.masked_fill(adj == 0, -9e15)
        attn = torch.softmax(logits, dim=-1)
        return torch.einsum("bij,bjc->bic", attn, h), attn


num_nodes, num_feats, num_classes = 10, 5, 3
adj = (rng.uniform(size=(num_nodes, num_nodes)) < 0.3).astype(np.float32)
adj = np.maximum(adj, adj.T)
np.fill_diagonal(adj, 1.0)
adj = torch.from_numpy(adj).unsqueeze(0)
x = torch.from_numpy(rng.standard_normal((1, num_nodes, num_feats)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, num_classes, num_nodes))
train_mask = torch.tensor([True, True, True, False, True, True, False, True, False, True])


class GNNModel(nn.Module):
    def __init__(self, layer_name):
        super().__init__()
        if layer_name == "GCN":
            self.layers = nn.ModuleList([GCNLayer(num_feats, 8), GCNLayer(8, num_classes)])
        else:
            self.layers = nn.ModuleList([DenseGATLayer(num_feats, 8), DenseGATLayer(8, num_classes)])
        self.act = nn.ReLU()

    def forward(self, x, adj):
        for index, layer in enumerate(self.layers):
            out = layer(x, adj)
            x = out[0] if isinstance(out, tuple) else out
            if index < len(self.layers) - 1:
                x = self.act(x)
        return x


for layer_name in ["GCN", "GAT"]:
    model = GNNModel(layer_name)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-3)
    losses = []
    for _ in range(15):
        model.train()
        out = model(x, adj).squeeze(0)
        loss = nn.CrossEntropyLoss()(out[train_mask], y[train_mask])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        out = model(x, adj).squeeze(0)
        acc = (out[~train_mask].argmax(dim=-1) == y[~train_mask]).sum().float() / (~train_mask).sum()
    results[layer_name] = {"losses": losses, "test_acc": acc.item(), "logits": out}
