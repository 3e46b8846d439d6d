# Weight init and optimizer comparisons as course notebooks write them (written for this project): the same MLP
# started from one set of NumPy weights and trained with SGD, SGD with momentum and Adam; init statistics
# (xavier/kaiming by std bounds, zeros_, constant_); the learning rate changed by hand through
# optimizer.param_groups[0]['lr'] and by StepLR (get_last_lr, last_epoch); a checkpoint of model, optimizer and
# scheduler state_dicts saved with torch.save to a BytesIO and to a temporary file, loaded back with torch.load,
# and training resumed to the same numbers as an unbroken run.
import io
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(42)
rng = np.random.default_rng(42)
X = torch.from_numpy(rng.normal(size=(48, 6)).astype(np.float32))
y = torch.from_numpy((rng.normal(size=48) > 0).astype(np.int64))
START = [rng.normal(0, 0.4, shape).astype(np.float32) for shape in [(16, 6), (16,), (2, 16), (2,)]]


def make_model():
    m = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 2))
    with torch.no_grad():
        for p, w in zip(m.parameters(), START):
            p.copy_(torch.from_numpy(w))
    return m


inits = {}
layer = nn.Linear(200, 300)
nn.init.xavier_normal_(layer.weight)
inits["xavier"] = abs(layer.weight.std().item() - (2 / 500) ** 0.5) < 0.01
nn.init.kaiming_uniform_(layer.weight, a=0, mode="fan_in", nonlinearity="relu")
inits["kaiming"] = layer.weight.abs().max().item() <= (6 / 200) ** 0.5
nn.init.zeros_(layer.bias)
nn.init.constant_(layer.weight, 0.5)
inits["constant"] = [layer.weight.sum().item(), layer.bias.abs().sum().item()]


def train(opt_name, steps=12, checkpoint_at=None):
    model = make_model()
    opt = {"sgd": lambda p: torch.optim.SGD(p, lr=0.1),
           "momentum": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
           "adam": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999))}[opt_name](model.parameters())
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    losses, lrs = [], []
    for step in range(steps):
        if checkpoint_at is not None and step == checkpoint_at:
            buffer = io.BytesIO()
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                        "step": step}, buffer)
            buffer.seek(0)
            ckpt = torch.load(buffer)
            model = make_model()
            model.load_state_dict(ckpt["model"])
            opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if opt_name == "momentum" else \
                torch.optim.Adam(model.parameters(), lr=0.01)
            opt.load_state_dict(ckpt["optimizer"])
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
            sched.load_state_dict(ckpt["scheduler"])
        loss = F.cross_entropy(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        lrs.append([opt.param_groups[0]["lr"], sched.get_last_lr()[0], sched.last_epoch])
    return model, opt, losses, lrs


results = {"inits": inits}
for name in ["sgd", "momentum", "adam"]:
    model, opt, losses, lrs = train(name)
    print(opt)
    print(f"{name:9s} final loss {losses[-1]:.4f} lr {opt.param_groups[0]['lr']}")
    results[name] = {"losses": losses, "lrs": lrs, "weight": model[2].weight}
for name in ["momentum", "adam"]:
    model, opt, losses, lrs = train(name, checkpoint_at=6)
    results[name + "_resumed"] = {"losses": losses, "lrs": lrs, "weight": model[2].weight,
                                  "state_keys": sorted(opt.state_dict()["state"][0].keys())}

model = make_model()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for g in opt.param_groups:
    g["lr"] = 0.05
F.cross_entropy(model(X), y).backward()
opt.step()
path = os.path.join(tempfile.mkdtemp(), "model.pt")
torch.save(model.state_dict(), path)
sd = torch.load(path, weights_only=True)
print(list(sd.keys()))
print(sd["2.bias"])
clone = make_model()
missing = clone.load_state_dict(sd, strict=True)
print(missing)
print(torch.optim.SGD(model.parameters(), lr=1, weight_decay=0).param_groups[0]["lr"])
results["manual_lr"] = [opt.param_groups[0]["lr"], model[0].bias, clone[0].bias]
results["keys"] = list(sd.keys())
results["incompatible"] = [list(missing.missing_keys), list(missing.unexpected_keys)]
results["same"] = all(torch.equal(a, b) for a, b in zip(model.parameters(), clone.parameters()))
