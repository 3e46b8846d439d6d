# A vision course's GAN notebook style (written for this project): sample_noise by torch.rand * 2 - 1 (compared by
# shape), vanilla GAN losses with bce_loss = nn.BCEWithLogitsLoss() and torch.ones_like / torch.zeros_like, least-
# squares GAN losses, a Flatten/Unflatten DCGAN pair with weights from NumPy, and a few alternating Adam steps with
# detach() on the fake images and zero_grad() before each backward. In float64: in float32 the libraries' rounding,
# which Adam's first steps scale up (a step of about lr whatever a gradient's size), reaches 1.7e-4 in a running mean.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

dtype = "float64"
dtype_t = torch.DoubleTensor
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(12)
NOISE_DIM = 6
batch_size = 4


def sample_noise(batch_size, dim, seed=None):
    if seed is not None:
        torch.manual_seed(seed)
    return torch.rand(batch_size, dim) * 2 - 1


class Flatten(nn.Module):
    def forward(self, x):
        N, C, H, W = x.size()
        return x.view(N, -1)


class Unflatten(nn.Module):
    def __init__(self, N=-1, C=8, H=3, W=3):
        super().__init__()
        self.N, self.C, self.H, self.W = N, C, H, W

    def forward(self, x):
        return x.view(self.N, self.C, self.H, self.W)


def initialize_weights(m):
    if isinstance(m, nn.Linear) or isinstance(m, nn.ConvTranspose2d) or isinstance(m, nn.Conv2d):
        nn.init.xavier_uniform_(m.weight.data)


def discriminator():
    return nn.Sequential(
        Unflatten(batch_size, 1, 8, 8),
        nn.Conv2d(1, 4, kernel_size=3, stride=1), nn.LeakyReLU(0.01),
        nn.MaxPool2d(kernel_size=2, stride=2),
        Flatten(),
        nn.Linear(4 * 3 * 3, 8), nn.LeakyReLU(0.01),
        nn.Linear(8, 1))


def generator(noise_dim=NOISE_DIM):
    return nn.Sequential(
        nn.Linear(noise_dim, 16), nn.ReLU(), nn.BatchNorm1d(16),
        nn.Linear(16, 8 * 2 * 2), nn.ReLU(), nn.BatchNorm1d(32),
        Unflatten(batch_size, 8, 2, 2),
        nn.ConvTranspose2d(8, 4, kernel_size=4, stride=2, padding=1), nn.ReLU(), nn.BatchNorm2d(4),
        nn.ConvTranspose2d(4, 1, kernel_size=4, stride=2, padding=1), nn.Tanh(),
        Flatten())


def load_from_numpy(model):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(0.3 * rng.randn(*p.shape), dtype=torch.float64))


bce_loss = nn.BCEWithLogitsLoss()


def discriminator_loss(logits_real, logits_fake):
    true_labels = torch.ones_like(logits_real)
    real_loss = bce_loss(logits_real, true_labels)
    fake_loss = bce_loss(logits_fake, torch.zeros_like(logits_fake))
    return real_loss + fake_loss


def generator_loss(logits_fake):
    return bce_loss(logits_fake, torch.ones_like(logits_fake))


def ls_discriminator_loss(scores_real, scores_fake):
    return 0.5 * torch.mean((scores_real - 1) ** 2) + 0.5 * torch.mean(scores_fake ** 2)


def ls_generator_loss(scores_fake):
    return 0.5 * torch.mean((scores_fake - 1) ** 2)


def get_optimizer(model):
    return optim.Adam(model.parameters(), lr=1e-3, betas=(0.5, 0.999))


# the losses alone, on fixed logits (the notebook's tests)
logits_real = torch.tensor(rng.randn(6, 1), dtype=torch.float64)
logits_fake = torch.tensor(rng.randn(6, 1), dtype=torch.float64)
fixed = [discriminator_loss(logits_real, logits_fake).item(), generator_loss(logits_fake).item(),
         ls_discriminator_loss(logits_real, logits_fake).item(), ls_generator_loss(logits_fake).item()]

noise = sample_noise(batch_size, NOISE_DIM, seed=231)
noise_ok = [list(noise.shape), bool((noise >= -1).all() and (noise <= 1).all())]

D_init = discriminator().type(dtype_t)
D_init.apply(initialize_weights)
xavier_bound = float(np.sqrt(6.0 / (4 * 3 * 3 + 8)))
xavier_ok = bool(D_init[5].weight.abs().max().item() <= xavier_bound)

all_histories = {}
for name, (d_loss_fn, g_loss_fn) in {'vanilla': (discriminator_loss, generator_loss),
                                     'ls': (ls_discriminator_loss, ls_generator_loss)}.items():
    D = discriminator().type(dtype_t)
    G = generator().type(dtype_t)
    load_from_numpy(D)
    load_from_numpy(G)
    D_solver, G_solver = get_optimizer(D), get_optimizer(G)
    real_batches = [torch.tensor(rng.rand(batch_size, 64) * 2 - 1, dtype=torch.float64) for _ in range(3)]
    fixed_noise = [torch.tensor(rng.rand(batch_size, NOISE_DIM) * 2 - 1, dtype=torch.float64) for _ in range(3)]
    history = []
    for it in range(3):
        x = real_batches[it]
        D_solver.zero_grad()
        real_data = x.type(dtype_t)
        logits_real = D(2 * (real_data - 0.5)).type(dtype_t)
        g_fake_seed = fixed_noise[it].type(dtype_t)
        fake_images = G(g_fake_seed).detach()
        logits_fake = D(fake_images.view(batch_size, 1, 8, 8))
        d_total_error = d_loss_fn(logits_real, logits_fake)
        d_total_error.backward()
        D_solver.step()

        G_solver.zero_grad()
        fake_images = G(g_fake_seed)
        gen_logits_fake = D(fake_images.view(batch_size, 1, 8, 8))
        g_error = g_loss_fn(gen_logits_fake)
        g_error.backward()
        G_solver.step()
        history.append([d_total_error.item(), g_error.item()])
    imgs_numpy = fake_images.data.cpu().numpy()
    all_histories[name] = {'losses': history, 'image_mean': float(imgs_numpy.mean()),
                           'image_shape': list(imgs_numpy.shape), 'bn_running_mean': G[2].running_mean,
                           'D_last_bias': D[-1].bias.detach()}

results = {'fixed': fixed, 'noise': noise_ok, 'xavier_ok': xavier_ok, 'runs': all_histories,
           'num_params': [sum(p.numel() for p in discriminator().parameters()),
                          sum(p.numel() for p in generator().parameters())]}
