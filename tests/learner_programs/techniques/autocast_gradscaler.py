# Mixed precision on the CPU as AMP tutorials write it (written for this project): torch.amp.autocast('cpu',
# dtype=torch.bfloat16) around the forward pass and the loss, is_autocast_enabled/get_autocast_dtype inside and
# outside (nested, disabled, as a decorator), a torch.amp.GradScaler('cpu') loop with scale/unscale_/
# clip_grad_norm_/step/update, the scale backing off after an inf gradient (the step skipped) and growing after
# growth_interval clean steps, its state_dict. glassgrad's autocast changes no number (README: its ops run in their
# inputs' dtype), so the numbers made inside a block are compared only as "within bfloat16's rounding of the float32
# ones", and the loop runs with the block disabled. In float32.

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from technique_helpers import outcome

dtype = "float32"
rng = np.random.default_rng(1409)
results = {}


model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 3))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(size=tuple(p.shape)).astype(np.float32) * 0.4))
x = torch.from_numpy(rng.normal(size=(12, 6)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, size=12))

reference = model(x)
with torch.amp.autocast("cpu", dtype=torch.bfloat16):
    inside = [torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu") == torch.bfloat16]
    out = model(x)
    loss = F.cross_entropy(out, y)
    with torch.autocast(device_type="cpu", enabled=False):
        inner_off = torch.is_autocast_enabled("cpu")
        exact = model(x)
results["inside"] = inside + [inner_off, torch.is_autocast_enabled("cpu")]
results["bf16_close"] = bool((out.float() - reference).abs().max() < 0.05 * reference.abs().max())
results["loss_dtype_float32"] = loss.dtype == torch.float32
results["loss_close"] = abs(loss.item() - F.cross_entropy(reference, y).item()) < 0.05
results["disabled_block_exact"] = exact
results["disabled_dtype"] = exact.dtype == torch.float32
loss.backward()
results["grads_float32"] = [p.grad.dtype == torch.float32 for p in model.parameters()]
model.zero_grad()


@torch.autocast("cpu")
def decorated():
    return torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu") == torch.bfloat16


results["decorated"] = list(decorated())
results["fp16_cpu"] = outcome(lambda: torch.amp.autocast("cpu", dtype=torch.float16).__enter__().__exit__(None, None,
                                                                                                        None))
results["float64_cpu_warns"] = outcome(lambda: torch.autocast("cpu", dtype=torch.float64).__enter__())
torch.set_autocast_enabled("cpu", False)
results["bad_device"] = outcome(lambda: torch.autocast(device_type=3))

opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
history = []
for step in range(6):
    opt.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=False):
        loss = F.cross_entropy(model(x), y)
    scaled = scaler.scale(loss)
    if step == 2:  # an overflowing batch: the step is skipped and the scale halves
        scaled = scaled * float("inf")
    scaled.backward()
    scaler.unscale_(opt)
    norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    w_before = model[0].weight.detach().clone()
    scaler.step(opt)
    scaler.update()
    history.append([loss.item(), scaled.item(), str(norm.item()) if not torch.isfinite(norm) else norm.item(),
                    scaler.get_scale(), torch.equal(w_before, model[0].weight)])
results["history"] = history
results["state"] = scaler.state_dict()
results["weights"] = model[2].weight
results["unscale_twice"] = outcome(lambda: scaler.unscale_(opt) or scaler.unscale_(opt))
scaler.update()
disabled = torch.amp.GradScaler("cpu", enabled=False)
results["disabled_scaler"] = [disabled.is_enabled(), disabled.scale(torch.tensor(3.0)).item(), disabled.get_scale()]
