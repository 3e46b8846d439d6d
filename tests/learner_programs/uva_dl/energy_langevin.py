# UvA Deep Learning tutorial 8 style (written for this project): an energy-based model -- a small CNN with Swish
# giving each image a score -- sampled by Langevin dynamics (the input's gradient clamped, a step against the
# energy, the image clamped to [-1, 1]) with torch.set_grad_enabled(True) around the loop and the parameters'
# requires_grad switched off, a second sampler taking torch.autograd.grad under torch.enable_grad() inside
# torch.no_grad(), a replay buffer, and contrastive-divergence training steps with Adam. The Gaussian noise of
# each step is replaced by a fixed table from seeded NumPy, so both libraries take the same steps.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

rng = np.random.default_rng(8)
NOISE = torch.from_numpy(rng.standard_normal((20, 8, 1, 8, 8)).astype(np.float32))


class Swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class CNNModel(nn.Module):
    def __init__(self, hidden_features=8, out_dim=1):
        super().__init__()
        c_hid1 = hidden_features // 2
        c_hid2 = hidden_features
        self.cnn_layers = nn.Sequential(
            nn.Conv2d(1, c_hid1, kernel_size=3, stride=2, padding=1),  # 8x8 => 4x4
            Swish(),
            nn.Conv2d(c_hid1, c_hid2, kernel_size=3, stride=2, padding=1),  # 4x4 => 2x2
            Swish(),
            nn.Flatten(),
            nn.Linear(c_hid2 * 4, c_hid2),
            Swish(),
            nn.Linear(c_hid2, out_dim),
        )

    def forward(self, x):
        x = self.cnn_layers(x).squeeze(dim=-1)
        return x


class Sampler:
    def __init__(self, model, img_shape, sample_size, max_len=32):
        self.model = model
        self.img_shape = img_shape
        self.sample_size = sample_size
        self.max_len = max_len
        start = rng.uniform(-1, 1, (sample_size,) + img_shape).astype(np.float32)
        self.examples = [torch.from_numpy(row).unsqueeze(0) for row in start]
        self.fresh = torch.from_numpy(rng.uniform(-1, 1, (64, sample_size) + img_shape).astype(np.float32))
        self.calls = 0

    def sample_new_exmps(self, steps=10, step_size=10):
        n_new = self.sample_size // 4  # a quarter starts fresh, the rest comes from the buffer
        rand_imgs = self.fresh[self.calls % 64][:n_new]
        picks = [(self.calls * 3 + i * 5) % len(self.examples) for i in range(self.sample_size - n_new)]
        old_imgs = torch.cat([self.examples[i] for i in picks], dim=0)
        inp_imgs = torch.cat([rand_imgs, old_imgs], dim=0).detach()
        inp_imgs = Sampler.generate_samples(self.model, inp_imgs, steps=steps, step_size=step_size)
        self.examples = list(inp_imgs.chunk(self.sample_size, dim=0)) + self.examples
        self.examples = self.examples[: self.max_len]
        self.calls += 1
        return inp_imgs

    @staticmethod
    def generate_samples(model, inp_imgs, steps=10, step_size=10, return_img_per_step=False):
        is_training = model.training
        model.eval()
        for p in model.parameters():
            p.requires_grad = False
        inp_imgs.requires_grad = True
        had_gradients_enabled = torch.is_grad_enabled()
        torch.set_grad_enabled(True)
        noise = torch.zeros(inp_imgs.shape, device=inp_imgs.device)
        imgs_per_step = []
        for step in range(steps):
            noise.copy_(NOISE[step % 20, : inp_imgs.shape[0]]).mul_(0.005)  # stands for noise.normal_(0, 0.005)
            inp_imgs.data.add_(noise.data)
            inp_imgs.data.clamp_(min=-1.0, max=1.0)
            out_imgs = -model(inp_imgs)
            out_imgs.sum().backward()
            inp_imgs.grad.data.clamp_(-0.03, 0.03)
            inp_imgs.data.add_(-step_size * inp_imgs.grad.data)
            inp_imgs.grad.detach_()
            inp_imgs.grad.zero_()
            inp_imgs.data.clamp_(min=-1.0, max=1.0)
            if return_img_per_step:
                imgs_per_step.append(inp_imgs.clone().detach())
        for p in model.parameters():
            p.requires_grad = True
        model.train(is_training)
        torch.set_grad_enabled(had_gradients_enabled)
        if return_img_per_step:
            return torch.stack(imgs_per_step, dim=0)
        return inp_imgs


def langevin_with_grad(model, x, steps=10, step_size=0.1):
    """The same walk written with torch.autograd.grad, called from inside torch.no_grad()."""
    for step in range(steps):
        x = x + 0.005 * NOISE[step % 20, : x.shape[0]]
        x = x.clamp(-1.0, 1.0)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            energy = -model(x)
            (grad,) = torch.autograd.grad(energy.sum(), x)
        assert not grad.requires_grad
        x = (x - step_size * grad.clamp(-0.03, 0.03)).clamp(-1.0, 1.0).detach()
    return x


model = CNNModel()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
real = torch.from_numpy(np.tanh(rng.standard_normal((64, 1, 8, 8))).astype(np.float32))
real_noise = torch.from_numpy(rng.standard_normal((4, 8, 1, 8, 8)).astype(np.float32))

results = {}
start = torch.from_numpy(rng.uniform(-1, 1, (4, 1, 8, 8)).astype(np.float32))
per_step = Sampler.generate_samples(model, start.clone(), steps=6, step_size=10, return_img_per_step=True)
results["per_step_energy"] = [model(imgs).detach() for imgs in per_step]
results["grad_mode_restored"] = torch.is_grad_enabled()
results["params_require_grad"] = all(p.requires_grad for p in model.parameters())
with torch.no_grad():
    walked = langevin_with_grad(model, start.clone(), steps=6, step_size=10)
    results["no_grad_walk_requires_grad"] = walked.requires_grad
results["two_walks_agree"] = torch.allclose(walked, per_step[-1], atol=1e-5)
results["walked"] = walked[0, 0, 2]

sampler = Sampler(model, img_shape=(1, 8, 8), sample_size=8)
optimizer = optim.Adam(model.parameters(), lr=1e-3, betas=(0.0, 0.999))
alpha = 0.1
logs = []
for step in range(4):
    real_imgs = real[step * 8:(step + 1) * 8]
    small_noise = real_noise[step] * 0.005
    real_imgs = (real_imgs + small_noise).clamp(min=-1.0, max=1.0)
    fake_imgs = sampler.sample_new_exmps(steps=8, step_size=10)
    inp_imgs = torch.cat([real_imgs, fake_imgs], dim=0)
    real_out, fake_out = model(inp_imgs).chunk(2, dim=0)
    reg_loss = alpha * (real_out ** 2 + fake_out ** 2).mean()
    cdiv_loss = fake_out.mean() - real_out.mean()
    loss = reg_loss + cdiv_loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    logs.append([loss.item(), reg_loss.item(), cdiv_loss.item(), real_out.mean().item(), fake_out.mean().item()])
results["logs"] = logs
results["buffer_len"] = len(sampler.examples)
results["buffer_first"] = sampler.examples[0][0, 0, 3]
