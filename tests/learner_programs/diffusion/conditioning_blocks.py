# A latent-diffusion course's building blocks (written for this project): the LDM timestep_embedding (odd dims
# padded with zeros_like), a timestep MLP, FiLM and adaptive GroupNorm (GroupNorm(affine=False), then
# scale, shift = emb.chunk(2, dim=1)), an einops-free rearrange by view/permute ("b c h w -> b (h w) c"), a
# cross-attention block whose scores come from torch.baddbmm(torch.empty(...), q, k^T, beta=0, alpha=scale) as a
# well-known library writes it, GEGLU feed-forward, zero_module, nn.Upsample (nearest and bilinear),
# F.interpolate to a size, pixel_unshuffle/pixel_shuffle, a VAE's diagonal Gaussian posterior (mean and clamped
# logvar by chunk, KL, mode) scaled by 0.18215, torch.utils.checkpoint, and a CLIP-like text encoder
# (nn.TransformerEncoder with a float causal mask beside a bool padding mask, which warns) giving the context.
# Weights and data come from NumPy.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(3)


def timestep_embedding(timesteps, dim, max_period=10000):
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float64) / half).to(
        device=timesteps.device)
    args = timesteps[:, None].double() * freqs[None]
    embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
    if dim % 2:
        embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)
    return embedding


def zero_module(module):
    for p in module.parameters():
        p.detach().zero_()
    return module


def rearrange_to_tokens(x):  # "b c h w -> b (h w) c"
    b, c, h, w = x.shape
    return x.view(b, c, h * w).permute(0, 2, 1).contiguous()


def rearrange_to_image(x, h, w):  # "b (h w) c -> b c h w"
    b, n, c = x.shape
    return x.permute(0, 2, 1).reshape(b, c, h, w)


class AdaGroupNorm(nn.Module):
    def __init__(self, emb_dim, channels, groups=2):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, affine=False)
        self.proj = nn.Sequential(nn.SiLU(), nn.Linear(emb_dim, channels * 2))

    def forward(self, x, emb):
        scale, shift = self.proj(emb).chunk(2, dim=1)
        return self.norm(x) * (1 + scale[:, :, None, None]) + shift[:, :, None, None]


class FiLM(nn.Module):
    def __init__(self, emb_dim, channels):
        super().__init__()
        self.to_gamma_beta = nn.Linear(emb_dim, 2 * channels)

    def forward(self, x, emb):
        gamma, beta = torch.chunk(self.to_gamma_beta(emb), 2, dim=-1)
        return gamma.unsqueeze(-1).unsqueeze(-1) * x + beta[..., None, None]


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        x, gate = self.proj(x).chunk(2, dim=-1)
        return x * F.gelu(gate)


class CrossAttention(nn.Module):
    def __init__(self, query_dim, context_dim, heads=2, dim_head=3):
        super().__init__()
        inner = heads * dim_head
        self.heads, self.scale = heads, dim_head ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.Sequential(nn.Linear(inner, query_dim), nn.Dropout(0.0))

    def head_to_batch_dim(self, tensor):
        batch_size, seq_len, dim = tensor.shape
        tensor = tensor.reshape(batch_size, seq_len, self.heads, dim // self.heads)
        return tensor.permute(0, 2, 1, 3).reshape(batch_size * self.heads, seq_len, dim // self.heads)

    def batch_to_head_dim(self, tensor):
        batch_size, seq_len, dim = tensor.shape
        tensor = tensor.reshape(batch_size // self.heads, self.heads, seq_len, dim)
        return tensor.permute(0, 2, 1, 3).reshape(batch_size // self.heads, seq_len, dim * self.heads)

    def forward(self, x, context=None):
        context = x if context is None else context
        q = self.head_to_batch_dim(self.to_q(x))
        k = self.head_to_batch_dim(self.to_k(context))
        v = self.head_to_batch_dim(self.to_v(context))
        baddbmm_input = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype, device=q.device)
        scores = torch.baddbmm(baddbmm_input, q, k.transpose(-1, -2), beta=0, alpha=self.scale)
        probs = scores.softmax(dim=-1)
        out = self.batch_to_head_dim(torch.bmm(probs, v))
        return self.to_out(out)


class TransformerBlock(nn.Module):
    def __init__(self, channels, context_dim, emb_dim):
        super().__init__()
        self.adanorm = AdaGroupNorm(emb_dim, channels)
        self.film = FiLM(emb_dim, channels)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(channels), nn.LayerNorm(channels), nn.LayerNorm(channels)
        self.attn1 = CrossAttention(channels, channels)
        self.attn2 = CrossAttention(channels, context_dim)
        self.ff = nn.Sequential(GEGLU(channels, 8), nn.Linear(8, channels))
        self.proj_out = zero_module(nn.Conv2d(channels, channels, 1))
        self.proj_live = nn.Conv2d(channels, channels, 1)

    def forward(self, x, emb, context):
        b, c, h, w = x.shape
        x_in = x
        x = self.film(self.adanorm(x, emb), emb)
        tokens = rearrange_to_tokens(x)
        tokens = self.attn1(self.norm1(tokens)) + tokens
        tokens = self.attn2(self.norm2(tokens), context=context) + tokens
        tokens = self.ff(self.norm3(tokens)) + tokens
        x = rearrange_to_image(tokens, h, w)
        return self.proj_out(x) + self.proj_live(x) + x_in


class DiagonalGaussianDistribution:
    def __init__(self, parameters):
        self.mean, self.logvar = torch.chunk(parameters, 2, dim=1)
        self.logvar = torch.clamp(self.logvar, -30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)
        self.var = torch.exp(self.logvar)

    def sample(self, noise):
        return self.mean + self.std * noise

    def kl(self):
        return 0.5 * torch.sum(torch.pow(self.mean, 2) + self.var - 1.0 - self.logvar, dim=[1, 2, 3])

    def mode(self):
        return self.mean


def load(module, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if "proj_out" not in name:
                p.copy_(torch.from_numpy(numbers.normal(0, 0.4, tuple(p.shape))))
    return module


emb_dim, channels, context_dim = 5, 4, 6
time_mlp = load(nn.Sequential(nn.Linear(emb_dim, 8), nn.SiLU(), nn.Linear(8, emb_dim)), 1)
block = load(TransformerBlock(channels, context_dim, emb_dim), 2)
encoder = load(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.SiLU(), nn.Conv2d(8, 8, 1)), 3)
decoder = load(nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(4, 4, 3, padding=1),
                             nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(4, 3, 3, padding=1)), 4)

images = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 8, 8)))
posterior = DiagonalGaussianDistribution(encoder(images))
latents = posterior.sample(torch.from_numpy(rng.normal(size=(2, 4, 4, 4)))) * 0.18215
timesteps = torch.tensor([3, 17])
emb = time_mlp(timestep_embedding(timesteps, emb_dim))
class TextEncoder(nn.Module):  # a CLIP-like text tower: causal self-attention over padded tokens
    def __init__(self, vocab=7, width=context_dim, length=3):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width, padding_idx=0)
        self.positional_embedding = nn.Parameter(torch.zeros(length, width))
        layer = nn.TransformerEncoderLayer(width, 2, 2 * width, dropout=0.0, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.transformer = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.ln_final = nn.LayerNorm(width)

    def forward(self, tokens):
        x = self.token_embedding(tokens) + self.positional_embedding
        causal = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1], dtype=x.dtype)
        x = self.transformer(x, mask=causal, src_key_padding_mask=tokens == 0, is_causal=True)
        return self.ln_final(x)


text_encoder = load(TextEncoder(), 5)
text_encoder.eval()
tokens = torch.tensor([[3, 5, 0], [2, 6, 1]])
context = text_encoder(tokens)
out = block(latents, emb, context)
checkpointed = checkpoint(block, latents, emb, context, use_reentrant=False)
loss = out.pow(2).mean() + posterior.kl().mean() * 1e-3
loss.backward()
decoded = decoder(out / 0.18215)
resized = F.interpolate(out, size=(6, 6), mode="nearest")
shuffled = F.pixel_shuffle(F.pixel_unshuffle(images, 2), 2)

results = {
    "emb_even": timestep_embedding(timesteps, 6), "emb_odd": timestep_embedding(timesteps, emb_dim),
    "out": out, "same_checkpointed": torch.allclose(out, checkpointed), "kl": posterior.kl(),
    "mode": posterior.mode().mean(), "loss": loss.item(), "decoded": decoded[0, 0],
    "resized": resized[1, 1], "shuffled_back": torch.equal(shuffled, images),
    "tokens_shape": list(rearrange_to_tokens(latents).shape),
    "zero_grad_of_proj_out": block.proj_out.weight.grad.flatten(),
    "film_grad": block.film.to_gamma_beta.weight.grad, "q_grad": block.attn2.to_q.weight.grad,
    "time_grad": time_mlp[0].weight.grad,
    "context": context, "text_grad": text_encoder.token_embedding.weight.grad,
}
