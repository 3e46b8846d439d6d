# A latent-diffusion course's first stage, a VQ autoencoder (written for this project): a conv encoder, a codebook
# (nn.Embedding) searched by squared distances (and torch.cdist to check), the straight-through estimator
# z + (z_q - z).detach(), codebook and commitment losses, the codebook kept as an exponential moving average of the
# assigned encodings (one_hot, mul_/add_ with alpha, Laplace smoothing of the cluster sizes), the perplexity of the
# codes, a decoder with nn.Upsample, a few Adam steps; then the quantized latents, scaled by their std, noised for a
# latent-diffusion step. Weights, images and noise come from NumPy.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(17)


class VectorQuantizerEMA(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, commitment_cost=0.25, decay=0.9, epsilon=1e-5):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.commitment_cost, self.decay, self.epsilon = commitment_cost, decay, epsilon
        self.embedding = nn.Embedding(num_embeddings, embedding_dim)
        self.register_buffer("ema_cluster_size", torch.zeros(num_embeddings))
        self.register_buffer("ema_w", torch.zeros(num_embeddings, embedding_dim))

    def forward(self, inputs):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()
        flat = inputs.view(-1, self.embedding_dim)
        distances = (torch.sum(flat ** 2, dim=1, keepdim=True) + torch.sum(self.embedding.weight ** 2, dim=1)
                     - 2 * torch.matmul(flat, self.embedding.weight.t()))
        indices = torch.argmin(distances, dim=1)
        encodings = F.one_hot(indices, self.num_embeddings).to(flat.dtype)
        quantized = torch.matmul(encodings, self.embedding.weight).view(inputs.shape)
        if self.training:
            with torch.no_grad():
                self.ema_cluster_size.mul_(self.decay).add_(encodings.sum(0), alpha=1 - self.decay)
                n = self.ema_cluster_size.sum()
                smoothed = (self.ema_cluster_size + self.epsilon) / (n + self.num_embeddings * self.epsilon) * n
                self.ema_w.mul_(self.decay).add_(encodings.t() @ flat, alpha=1 - self.decay)
                self.embedding.weight.copy_(self.ema_w / smoothed.unsqueeze(1))
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        loss = self.commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, indices, distances


class VQAutoencoder(nn.Module):
    def __init__(self, channels=1, hidden=6, codes=5, dim=3):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(channels, hidden, 4, stride=2, padding=1), nn.ReLU(),
                                     nn.Conv2d(hidden, dim, 1))
        self.vq = VectorQuantizerEMA(codes, dim)
        self.decoder = nn.Sequential(nn.Conv2d(dim, hidden, 3, padding=1), nn.ReLU(),
                                     nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(hidden, channels, 3,
                                                                                            padding=1))

    def forward(self, x):
        z = self.encoder(x)
        vq_loss, quantized, perplexity, indices, distances = self.vq(z)
        return self.decoder(quantized), vq_loss, perplexity, indices, z, distances


model = VQAutoencoder()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.4, tuple(p.shape))))
    model.vq.ema_w.copy_(model.vq.embedding.weight)
    model.vq.ema_cluster_size.fill_(1.0)
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)

history = []
for _ in range(4):
    images = torch.from_numpy(rng.uniform(-1, 1, (3, 1, 6, 6)))
    recon, vq_loss, perplexity, indices, z, distances = model(images)
    recon_loss = F.mse_loss(recon, images)
    loss = recon_loss + vq_loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    same_codes = torch.equal(torch.cdist(z.permute(0, 2, 3, 1).reshape(-1, 3), model.vq.embedding.weight).argmin(1),
                             distances.argmin(1))
    history.append([recon_loss.item(), vq_loss.item(), perplexity.item(), torch.bincount(indices, minlength=5).tolist(),
                    same_codes])

model.eval()
with torch.no_grad():
    images = torch.from_numpy(rng.uniform(-1, 1, (4, 1, 6, 6)))
    _, quantized, _, _ = model.vq(model.encoder(images))[:4]
    scale_factor = 1.0 / quantized.flatten().std()
    latents = quantized * scale_factor
    alphas_bar = torch.cumprod(1 - torch.linspace(1e-3, 0.1, 10), 0)
    t = torch.from_numpy(rng.integers(0, 10, 4))
    noise = torch.from_numpy(rng.normal(size=tuple(latents.shape)))
    ab = alphas_bar[t].view(-1, 1, 1, 1)
    noisy_latents = ab.sqrt() * latents + (1 - ab).sqrt() * noise
    decoded = model.decoder(noisy_latents / scale_factor)

results = {"history": history, "codebook": model.vq.embedding.weight, "cluster_size": model.vq.ema_cluster_size,
           "encoder_grad": model.encoder[0].weight.grad.flatten()[:8], "scale_factor": scale_factor.item(),
           "noisy_latents": noisy_latents[0], "decoded_mean": decoded.mean().item(),
           "codebook_requires_grad": model.vq.embedding.weight.requires_grad}
