# "Machine Learning with PyTorch and Scikit-Learn", generative models (written for this project): an autoencoder,
# a variational autoencoder with the reparameterisation trick (the noise drawn in NumPy so both libraries share it)
# and its KL term written out, then a GAN whose discriminator step detaches the generator's output and whose
# generator step asks the discriminator to call fakes real, both with BCEWithLogitsLoss and their own Adam.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(12)
images = torch.tensor(rng.uniform(0, 1, size=(8, 1, 6, 6)))


def fill(model, seed, scale=0.4):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(numbers.uniform(-scale, scale, size=tuple(p.shape))))
    return model


autoencoder = fill(nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.ReLU(), nn.Linear(8, 36), nn.Sigmoid(),
                                 nn.Unflatten(1, (1, 6, 6))), 1)
ae_optimizer = torch.optim.Adam(autoencoder.parameters(), lr=1e-2)
ae_losses = []
for _ in range(5):
    ae_optimizer.zero_grad()
    loss = F.mse_loss(autoencoder(images), images)
    loss.backward()
    ae_optimizer.step()
    ae_losses.append(loss.item())


class VAE(nn.Module):
    def __init__(self, n_in=36, n_hidden=10, n_latent=2):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(n_in, n_hidden), nn.LeakyReLU(0.1))
        self.fc_mu = nn.Linear(n_hidden, n_latent)
        self.fc_logvar = nn.Linear(n_hidden, n_latent)
        self.decoder = nn.Sequential(nn.Linear(n_latent, n_hidden), nn.LeakyReLU(0.1), nn.Linear(n_hidden, n_in))

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def forward(self, x, eps):
        h = self.encoder(x.view(x.size(0), -1))
        mu, logvar = self.fc_mu(h), self.fc_logvar(h)
        z = self.reparameterize(mu, logvar, eps)
        return torch.sigmoid(self.decoder(z)).view_as(x), mu, logvar


vae = fill(VAE(), 2)
vae_optimizer = torch.optim.Adam(vae.parameters(), lr=5e-3)
vae_history = []
for _ in range(5):
    eps = torch.from_numpy(rng.standard_normal((8, 2)))
    x_hat, mu, logvar = vae(images, eps)
    recon = F.binary_cross_entropy(x_hat, images, reduction="sum")
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    loss = (recon + kl) / images.size(0)
    vae_optimizer.zero_grad()
    loss.backward()
    vae_optimizer.step()
    vae_history.append([recon.item(), kl.item()])


def make_generator_network(input_size=4, num_hidden_units=12, num_output_units=36):
    model = nn.Sequential()
    model.add_module("fc_g0", nn.Linear(input_size, num_hidden_units))
    model.add_module("relu_g0", nn.LeakyReLU())
    model.add_module("fc_g1", nn.Linear(num_hidden_units, num_output_units))
    model.add_module("tanh_g", nn.Tanh())
    return model


def make_discriminator_network(input_size=36, num_hidden_units=12, num_output_units=1):
    model = nn.Sequential()
    model.add_module("fc_d0", nn.Linear(input_size, num_hidden_units, bias=False))
    model.add_module("relu_d0", nn.LeakyReLU())
    model.add_module("dropout", nn.Dropout(p=0.5))
    model.add_module("fc_d1", nn.Linear(num_hidden_units, num_output_units))
    return model


gen_model = fill(make_generator_network(), 3)
disc_model = fill(make_discriminator_network(), 4)
disc_model.dropout.p = 0.0  # no random masks, so both libraries agree
loss_fn = nn.BCEWithLogitsLoss()
g_optimizer = torch.optim.Adam(gen_model.parameters(), lr=1e-3)
d_optimizer = torch.optim.Adam(disc_model.parameters(), betas=(0.5, 0.999), lr=2e-3)
real = images.view(8, -1) * 2 - 1  # to the tanh's range


def d_train(x):
    disc_model.zero_grad()
    batch_size = x.size(0)
    d_labels_real = torch.ones(batch_size, 1)
    d_proba_real = disc_model(x)
    d_loss_real = loss_fn(d_proba_real, d_labels_real)
    g_output = gen_model(input_z)
    d_proba_fake = disc_model(g_output.detach())
    d_labels_fake = torch.zeros(batch_size, 1)
    d_loss_fake = loss_fn(d_proba_fake, d_labels_fake)
    d_loss = d_loss_real + d_loss_fake
    d_loss.backward()
    d_optimizer.step()
    return d_loss.item(), torch.sigmoid(d_proba_real).mean().item(), torch.sigmoid(d_proba_fake).mean().item()


def g_train():
    gen_model.zero_grad()
    g_output = gen_model(input_z)
    d_proba_fake = disc_model(g_output)
    g_loss = loss_fn(d_proba_fake, torch.ones(input_z.size(0), 1))
    g_loss.backward()
    g_optimizer.step()
    return g_loss.item()


gan_history = []
for _ in range(4):
    input_z = torch.from_numpy(rng.uniform(-1, 1, size=(8, 4)))
    d_loss, d_real, d_fake = d_train(real)
    g_loss = g_train()
    gan_history.append([d_loss, d_real, d_fake, g_loss])

results = {
    "ae_losses": ae_losses,
    "vae_history": vae_history,
    "vae_mu": mu.detach(),
    "gan_history": gan_history,
    "g_weight": gen_model.fc_g1.weight.detach()[:2],
    "d_grad": disc_model.fc_d0.weight.grad[:2],
    "module_names": [name for name, _ in gen_model.named_children()],
}
