# A SegNet-style encoder/decoder (written for this project): MaxPool2d(return_indices=True) whose indices are kept
# and handed to MaxUnpool2d in the decoder (output_size given and not), F.max_pool2d/F.max_unpool2d, the 1-d
# versions, a per-pixel CrossEntropyLoss over (N, C, H, W) with class weights and ignore_index, gradients through
# the unpooling, a few SGD steps and the predicted mask. In float64.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1407)
results = {}


class SegNetLite(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU())
        self.pool = nn.MaxPool2d(2, stride=2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, stride=2)
        self.dec2 = nn.Sequential(nn.Conv2d(6, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU())
        self.dec1 = nn.Conv2d(4, n_classes, 3, padding=1)

    def forward(self, x):
        x = self.enc1(x)
        size1 = x.size()
        x, idx1 = self.pool(x)
        x = self.enc2(x)
        size2 = x.size()
        x, idx2 = self.pool(x)
        x = self.unpool(x, idx2, output_size=size2)
        x = self.dec2(x)
        x = self.unpool(x, idx1, output_size=size1)
        return self.dec1(x)


net = SegNetLite()
with torch.no_grad():
    for name, p in net.named_parameters():
        if "weight" in name and p.dim() > 1:
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.4))
        elif "bias" in name:
            p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)) * 0.1))
img = torch.from_numpy(rng.normal(size=(2, 1, 8, 10)))
mask = torch.from_numpy(rng.integers(0, 3, size=(2, 8, 10)))
mask[0, 0, :3] = 255

t = torch.from_numpy(rng.normal(size=(1, 2, 5, 6))).requires_grad_()
pooled, idx = F.max_pool2d(t, 2, return_indices=True)
results["pooled"] = pooled
results["indices"] = idx
results["indices_dtype"] = idx.dtype == torch.int64
up = F.max_unpool2d(pooled, idx, 2)
results["unpooled_default_size"] = list(up.shape)
up_sized = F.max_unpool2d(pooled, idx, kernel_size=2, stride=2, output_size=t.shape[-2:])
results["unpooled"] = up_sized
(up_sized * torch.arange(60.).reshape(1, 2, 5, 6)).sum().backward()
results["unpool_grad"] = t.grad
results["bad_output_size"] = outcome(lambda: F.max_unpool2d(pooled, idx, 2, output_size=(9, 9)))
results["mod_repr"] = repr(nn.MaxUnpool2d(2, stride=2))
p3, i3 = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(t.detach())
results["overlap_pool"] = [p3, i3, nn.MaxUnpool2d(3, stride=2, padding=1)(p3, i3, output_size=[5, 6])]
s = torch.from_numpy(rng.normal(size=(2, 3, 9)))
p1, i1 = nn.MaxPool1d(3, return_indices=True)(s)
results["pool1d"] = [p1, i1, nn.MaxUnpool1d(3)(p1, i1)]
results["unbatched"] = F.max_unpool2d(*F.max_pool2d(t.detach()[0], 2, return_indices=True), 2)

weights = torch.tensor([1.0, 2.0, 0.5])
crit = nn.CrossEntropyLoss(weight=weights, ignore_index=255)
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
history = []
for _ in range(4):
    opt.zero_grad()
    out = net(img)
    loss = crit(out, mask)
    loss.backward()
    opt.step()
    history.append(loss.item())
results["history"] = history
results["out_shape"] = list(out.shape)
results["dec1_grad"] = net.dec1.weight.grad[0, 0]
results["bn_running"] = [net.enc2[1].running_mean, net.enc2[1].running_var, net.enc2[1].num_batches_tracked]
net.eval()
with torch.no_grad():
    pred = net(img).argmax(dim=1)
results["pred"] = pred
valid = mask != 255
results["pixel_acc"] = (pred[valid] == mask[valid]).double().mean()
results["iou"] = [((pred == c) & (mask == c)).sum().item() / max(((pred == c) | (mask == c)).sum().item(), 1)
                  for c in range(3)]
