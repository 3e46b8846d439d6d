# "Zero to Mastery: Learn PyTorch for Deep Learning", notebook 08's equations one by one (written for this
# project): a MultiheadSelfAttentionBlock (LayerNorm, then nn.MultiheadAttention called with query=, key=,
# value=, need_weights=False), an MLPBlock (LayerNorm, Linear, GELU, Dropout, Linear, Dropout), a
# TransformerEncoderBlock adding each block's output to its input, and the check that it computes what
# nn.TransformerEncoderLayer(norm_first=True, activation="gelu", batch_first=True) computes with the same weights.
import numpy as np
import torch
from torch import nn

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(31)
embedding_dim, num_heads, mlp_size, batch, tokens = 8, 2, 16, 3, 5
x = torch.from_numpy(rng.normal(size=(batch, tokens, embedding_dim)))


class MultiheadSelfAttentionBlock(nn.Module):
    def __init__(self, embedding_dim: int = 768, num_heads: int = 12, attn_dropout: float = 0):
        super().__init__()
        self.layer_norm = nn.LayerNorm(normalized_shape=embedding_dim)
        self.multihead_attn = nn.MultiheadAttention(embed_dim=embedding_dim, num_heads=num_heads,
                                                    dropout=attn_dropout, batch_first=True)

    def forward(self, x):
        x = self.layer_norm(x)
        attn_output, _ = self.multihead_attn(query=x, key=x, value=x, need_weights=False)
        return attn_output


class MLPBlock(nn.Module):
    def __init__(self, embedding_dim: int = 768, mlp_size: int = 3072, dropout: float = 0.1):
        super().__init__()
        self.layer_norm = nn.LayerNorm(normalized_shape=embedding_dim)
        self.mlp = nn.Sequential(nn.Linear(in_features=embedding_dim, out_features=mlp_size), nn.GELU(),
                                 nn.Dropout(p=dropout), nn.Linear(in_features=mlp_size, out_features=embedding_dim),
                                 nn.Dropout(p=dropout))

    def forward(self, x):
        return self.mlp(self.layer_norm(x))


class TransformerEncoderBlock(nn.Module):
    def __init__(self, embedding_dim=768, num_heads=12, mlp_size=3072, mlp_dropout=0.1, attn_dropout=0):
        super().__init__()
        self.msa_block = MultiheadSelfAttentionBlock(embedding_dim, num_heads, attn_dropout)
        self.mlp_block = MLPBlock(embedding_dim, mlp_size, mlp_dropout)

    def forward(self, x):
        x = self.msa_block(x) + x
        x = self.mlp_block(x) + x
        return x


block = TransformerEncoderBlock(embedding_dim, num_heads, mlp_size, mlp_dropout=0.1)
numbers = np.random.default_rng(32)
state = block.state_dict()
block.load_state_dict({name: torch.from_numpy(numbers.normal(0, 0.4, tuple(value.shape)))
                       for name, value in state.items()})
block.eval()  # dropout off
ours = block(x)

layer = nn.TransformerEncoderLayer(d_model=embedding_dim, nhead=num_heads, dim_feedforward=mlp_size, dropout=0.1,
                                   activation="gelu", batch_first=True, norm_first=True)
renames = {"msa_block.layer_norm": "norm1", "msa_block.multihead_attn": "self_attn", "mlp_block.layer_norm": "norm2",
           "mlp_block.mlp.0": "linear1", "mlp_block.mlp.3": "linear2"}
moved = {}
for name, value in block.state_dict().items():
    for old, new in renames.items():
        if name.startswith(old + "."):
            moved[new + name[len(old):]] = value
layer.load_state_dict(moved)
layer.eval()
theirs = layer(x)

x_grad = x.clone().requires_grad_(True)
block.train()
block.mlp_block.mlp[2].p = 0.0
block.mlp_block.mlp[4].p = 0.0
out = block(x_grad)
(out ** 2).mean().backward()

attention = block.msa_block.multihead_attn
_, weights = attention(x, x, x, need_weights=True, average_attn_weights=False)
_, mean_weights = attention(x, x, x)

results = {
    "state_names": list(state), "block_out": ours.detach(), "layer_out": theirs.detach(),
    "same_as_layer": bool(torch.allclose(ours, theirs)), "x_grad": x_grad.grad,
    "in_proj_grad": attention.in_proj_weight.grad, "head_weights": weights.detach(),
    "mean_weights": mean_weights.detach(), "weights_shapes": [list(weights.shape), list(mean_weights.shape)],
}
