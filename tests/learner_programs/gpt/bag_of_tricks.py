# The set-up lines around nanoGPT-style training (written for this project): a seed, a device picked by
# availability, TF32 and matmul-precision switches, a float32/bfloat16 table for the autocast context, nanoGPT's
# LayerNorm with an optional bias through F.layer_norm, a fused-AdamW check by signature, torch.compile then a
# few steps, a checkpoint whose '_orig_mod.' prefix is stripped when loading, pinned batches and crop_block_size.
import inspect
import os
import tempfile
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1337)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.set_float32_matmul_precision("high")
device = "cuda" if torch.cuda.is_available() else "cpu"
device_type = "cuda" if "cuda" in device else "cpu"
dtype = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
ptdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
ctx = nullcontext() if device_type == "cpu" else torch.amp.autocast(device_type=device_type, dtype=ptdtype)


class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class Model(nn.Module):
    def __init__(self, block_size=8):
        super().__init__()
        self.wpe = nn.Embedding(block_size, 6)
        self.ln, self.ln_nobias = LayerNorm(6, True), LayerNorm(6, False)
        self.head = nn.Linear(6, 3)
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))

    def forward(self, x):
        h = self.ln_nobias(self.ln(x + self.wpe(torch.arange(x.size(1), device=x.device))))
        return self.head(h).masked_fill(self.bias[0, 0, : x.size(1), :3] == 0, 0.0).sum(1)

    def crop_block_size(self, block_size):
        self.wpe.weight = nn.Parameter(self.wpe.weight[:block_size])
        self.bias = self.bias[:, :, :block_size, :block_size]


rng = np.random.default_rng(11)
model = Model().to(device)
model.load_state_dict({k: torch.from_numpy(rng.normal(0, 0.5, tuple(v.shape)).astype(np.float32)) if k != "bias" else v
                       for k, v in model.state_dict().items()})
fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters
extra_args = dict(fused=True) if fused_available and device_type == "cuda" else dict()
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, betas=(0.9, 0.95), **extra_args)
unoptimized_model = model
model = torch.compile(model)
x = torch.from_numpy(rng.normal(size=(4, 5, 6)).astype(np.float32))
y = torch.from_numpy(rng.integers(0, 3, 4))
if device_type == "cuda":
    x, y = x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
else:
    x, y = x.to(device), y.to(device)
losses = []
for _ in range(5):
    with ctx:
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    losses.append(loss.item())
path = os.path.join(tempfile.mkdtemp(), "ckpt.pt")
torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "iter_num": 5}, path)
checkpoint = torch.load(path, map_location=device)
state_dict = checkpoint["model"]
unwanted_prefix = "_orig_mod."
for k in list(state_dict):
    if k.startswith(unwanted_prefix):
        state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
fresh = Model()
fresh.load_state_dict(state_dict)
fresh.crop_block_size(5)
with torch.no_grad():
    cropped = fresh(x)
results = {"losses": losses, "dtype_name": dtype,
           "same_outputs": bool(torch.allclose(cropped, unoptimized_model(x))), "bias_shape": list(fresh.bias.shape),
           "wpe_shape": list(fresh.wpe.weight.shape), "iter_num": checkpoint["iter_num"],
           "buffers": [n for n, _ in fresh.named_buffers()], "params": len(list(fresh.parameters())),
           "precision": torch.get_float32_matmul_precision(), "head": fresh.head.weight}
