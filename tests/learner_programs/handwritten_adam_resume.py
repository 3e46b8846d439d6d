# A hand-written Adam (an optim.Optimizer subclass, as in a course's optimizer tutorial) trains a small model on
# the sequence-reversal task, is saved to a checkpoint, resumed in a fresh optimizer and trained on; a flow's
# Gaussian prior scores the outputs.
import io
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

dtype = "float64"
torch.set_default_dtype(torch.float64)


class HandAdam(optim.Optimizer):
    def __init__(self, params, lr=1e-2, betas=(0.9, 0.999), eps=1e-8):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p.data)
                    state["exp_avg_sq"] = torch.zeros_like(p.data)
                state["step"] += 1
                state["exp_avg"].mul_(beta1).add_(p.grad.data, alpha=1 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad.data, p.grad.data, value=1 - beta2)
                denom = (state["exp_avg_sq"] / (1 - beta2 ** state["step"])).sqrt().add_(group["eps"])
                p.addcdiv_(state["exp_avg"], denom, value=-group["lr"] / (1 - beta1 ** state["step"]))


def make_model():
    model = nn.Sequential(nn.Linear(4 * 6, 16), nn.Tanh(), nn.Linear(16, 4 * 6))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel()) * 0.37 + i).view(p.shape) * 0.3)
    return model


sequences = (torch.arange(8 * 6) * 5 % 4).view(8, 6)
targets = torch.flip(sequences, dims=(1,))
inputs = F.one_hot(sequences, num_classes=4).double().view(8, -1)


def train(model, optimizer, steps):
    losses = []
    for _ in range(steps):
        logits = model(inputs).view(8, 6, 4)
        loss = F.cross_entropy(logits.reshape(-1, 4), targets.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


model = make_model()
optimizer = HandAdam(model.parameters(), lr=0.05)
first = train(model, optimizer, 4)
buffer = io.BytesIO()
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
buffer.seek(0)
checkpoint = torch.load(buffer)
resumed = make_model()
resumed.load_state_dict(checkpoint["model"])
resumed_optimizer = HandAdam(resumed.parameters(), lr=0.05)
resumed_optimizer.load_state_dict(checkpoint["optimizer"])
second = train(resumed, resumed_optimizer, 4)

prior = torch.distributions.normal.Normal(loc=0.0, scale=1.0)
with torch.no_grad():
    z = resumed(inputs).view(8, 1, 6, 4)
    bits_per_dim = -prior.log_prob(z).sum(dim=[1, 2, 3]) * math.log2(math.e) / z[0].numel()

results = {"first": first, "second": second, "accuracy": (resumed(inputs).view(8, 6, 4).argmax(-1) == targets)
           .double().mean().item(), "bpd": bits_per_dim, "weight": resumed[0].weight.detach()}
