# Per-sample gradients with torch.func (written for this project after PyTorch's torch.func tutorial): a small
# CNN, its parameters detached into a dict, a loss for ONE example made into a batch of one with unsqueeze,
# grad of it vmapped over the data (in_dims=(None, 0, 0)), checked against a loop of per-example .backward().
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, vmap

torch.manual_seed(0)
rng = np.random.default_rng(0)


class SimpleCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, 1)
        self.conv2 = nn.Conv2d(4, 6, 3, 1)
        self.fc1 = nn.Linear(6 * 2 * 2, 16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)


model = SimpleCNN()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.tensor(rng.normal(0.0, 0.3, tuple(p.shape)), dtype=torch.float32))

batch_size = 8
data = torch.tensor(rng.normal(size=(batch_size, 1, 8, 8)), dtype=torch.float32)
targets = torch.tensor(rng.integers(0, 10, batch_size))


def compute_grad(sample, target):
    sample = sample.unsqueeze(0)  # a batch of one
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))


def compute_sample_grads(data, targets):
    sample_grads = [compute_grad(data[i], targets[i]) for i in range(batch_size)]
    sample_grads = zip(*sample_grads)
    sample_grads = [torch.stack(shards) for shards in sample_grads]
    return sample_grads


per_sample_grads = compute_sample_grads(data, targets)
print(per_sample_grads[0].shape)

# the same with a loop of .backward(), reading .grad after each
loop_grads = []
for i in range(batch_size):
    model.zero_grad()
    loss_fn(model(data[i:i + 1]), targets[i:i + 1]).backward()
    loop_grads.append([p.grad.clone() for p in model.parameters()])

params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss


ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)

agree = []
for per_sample_grad, (name, ft_per_sample_grad) in zip(per_sample_grads, ft_per_sample_grads.items()):
    agree.append(torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5))
    print(name, ft_per_sample_grad.shape)

# the tutorial's shorter form: grad over the params only, in_dims=(None, 0, 0)
def loss_of(params, sample, target):
    return loss_fn(functional_call(model, params, (sample.unsqueeze(0),)), target.unsqueeze(0))


short = vmap(grad(loss_of), in_dims=(None, 0, 0))(params, data, targets)
# their mean is the batch gradient
model.zero_grad()
loss_fn(model(data), targets).backward()
mean_vs_batch = max((short[k].mean(0) - p.grad).abs().max().item() for k, p in model.named_parameters())

results = {
    "shapes": [list(g.shape) for g in ft_per_sample_grads.values()],
    "agree": [float(a) for a in agree],
    "loop": [g[0].norm().item() for g in per_sample_grads],
    "backward_loop": [[g.norm().item() for g in grads] for grads in loop_grads],
    "vmap": {k: v for k, v in ft_per_sample_grads.items() if k.startswith("fc2")},
    "short_fc1_bias": short["fc1.bias"],
    "mean_vs_batch_small": float(mean_vs_batch < 1e-5),
}

# the same idea on a makemore-style character MLP written as a function of a dict of weights
from torch.func import grad_and_value, hessian, jvp, vjp  # noqa: E402

vocab, emb_dim, block = 7, 3, 4
weights = {"C": torch.tensor(rng.normal(size=(vocab, emb_dim)), dtype=torch.float32),
           "W1": torch.tensor(rng.normal(size=(emb_dim * block, 6)) * 0.3, dtype=torch.float32),
           "b1": torch.tensor(rng.normal(size=(6,)) * 0.1, dtype=torch.float32),
           "W2": torch.tensor(rng.normal(size=(6, vocab)) * 0.3, dtype=torch.float32)}
X = torch.tensor(rng.integers(0, vocab, (10, block)))
Y = torch.tensor(rng.integers(0, vocab, (10,)))


def char_loss(weights, x, y):
    emb = weights["C"][x]  # (block, emb_dim) for one example
    h = torch.tanh(emb.view(-1) @ weights["W1"] + weights["b1"])
    logits = h @ weights["W2"]
    return F.cross_entropy(logits.unsqueeze(0), y.unsqueeze(0))


per_char_grads, per_char_losses = vmap(grad_and_value(char_loss), in_dims=(None, 0, 0))(weights, X, Y)
chunked_grads = vmap(grad(char_loss), in_dims=(None, 0, 0), chunk_size=3)(weights, X, Y)
leaves = {k: v.clone().requires_grad_() for k, v in weights.items()}
batch_loss = torch.stack([char_loss(leaves, X[i], Y[i]) for i in range(10)]).mean()
batch_loss.backward()
mean_matches = [float(torch.allclose(per_char_grads[k].mean(0), leaves[k].grad, atol=1e-6)) for k in weights]


def loss_of_head(W2):
    return char_loss({**weights, "W2": W2}, X[0], Y[0])


head_hessian = hessian(loss_of_head)(weights["W2"])
direction = torch.tensor(rng.normal(size=(6, vocab)), dtype=torch.float32)
hvp_fwd = jvp(grad(loss_of_head), (weights["W2"],), (direction,))[1]
_, vjp_fn = vjp(grad(loss_of_head), weights["W2"])
hvp_rev = vjp_fn(direction)[0]

results.update({
    "char_grads": {k: v[:2] for k, v in per_char_grads.items()}, "char_losses": per_char_losses,
    "chunked_W1": chunked_grads["W1"][:, 0], "mean_matches": mean_matches,
    "head_hessian_shape": list(head_hessian.shape), "head_hessian": head_hessian[0, :3].flatten(),
    "hvp_fwd": hvp_fwd, "hvp_rev": hvp_rev,
    "hvp_is_hessian": float(torch.allclose(head_hessian.view(6 * vocab, -1) @ direction.view(-1), hvp_fwd.view(-1),
                                           atol=1e-5)),
})
