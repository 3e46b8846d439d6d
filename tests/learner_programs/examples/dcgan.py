# pytorch/examples "dcgan" style (written for this project): a small Generator of ConvTranspose2d/BatchNorm2d/ReLU
# ending in Tanh and a Discriminator of Conv2d/BatchNorm2d/LeakyReLU(0.2) ending in Sigmoid, weights_init applied
# with model.apply reading m.__class__.__name__ and nn.init.normal_/zeros_, BCELoss, two Adam optimizers with
# betas=(0.5, 0.999), real and fake labels from torch.full, and the discriminator's step on fake.detach().
# weights_init draws from the library's generator, so the weights are then overwritten from NumPy.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

nz, ngf, ndf, nc = 4, 4, 4, 1


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


rng = np.random.default_rng(2)
netG, netD = Generator(), Discriminator()
netG.apply(weights_init)
netD.apply(weights_init)
init_facts = [round(netD.main[3].weight.mean().item(), 1), netD.main[3].bias.abs().sum().item()]
for net in (netG, netD):
    with torch.no_grad():
        for name, p in net.named_parameters():
            centre = 1.0 if p.dim() == 1 and name.endswith("weight") else 0.0
            p.copy_(torch.from_numpy(rng.normal(centre, 0.2, tuple(p.shape)).astype(np.float32)))
criterion = nn.BCELoss()
real_label, fake_label = 1., 0.
optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
real_images = torch.from_numpy(rng.uniform(-1, 1, (6, 1, 16, 16)).astype(np.float32))
history = []
for _i in range(4):
    netD.zero_grad()
    real_cpu = real_images
    b_size = real_cpu.size(0)
    label = torch.full((b_size,), real_label, dtype=torch.float)
    output = netD(real_cpu)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    noise = torch.from_numpy(rng.standard_normal((b_size, nz, 1, 1)).astype(np.float32))
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    history.append([errD.item(), errG.item(), D_x, D_G_z1, D_G_z2])

results = {"init_facts": init_facts, "history": history, "fake_shape": list(fake.shape),
           "running_mean": netG.main[1].running_mean, "num_batches": netG.main[1].num_batches_tracked.item()}
