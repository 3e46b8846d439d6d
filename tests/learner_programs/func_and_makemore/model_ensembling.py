# Model ensembling with torch.func (written for this project after PyTorch's torch.func tutorial): several small
# MLPs of one class, their weights stacked with stack_module_state, a "stateless" base model on the meta device,
# and vmap over functional_call — once with a different minibatch per model, once with the same minibatch for all
# (in_dims=(0, 0, None)) — checked against running the models one by one.
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state

torch.manual_seed(0)
rng = np.random.default_rng(1)


class SimpleMLP(nn.Module):
    def __init__(self):
        super(SimpleMLP, self).__init__()  # noqa: UP008 (the tutorial's spelling)
        self.fc1 = nn.Linear(12, 16)
        self.fc2 = nn.Linear(16, 8)
        self.fc3 = nn.Linear(8, 5)

    def forward(self, x):
        x = x.flatten(1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.fc2(x)
        x = F.relu(x)
        x = self.fc3(x)
        return x


device = "cpu"
num_models = 4
data = torch.tensor(rng.normal(size=(10, 6, 3, 4)), dtype=torch.float32, device=device)
targets = torch.tensor(rng.integers(0, 5, (10, 6)), device=device)
models = [SimpleMLP().to(device) for _ in range(num_models)]
for m in models:
    m.load_state_dict({k: torch.tensor(rng.normal(0.0, 0.4, tuple(v.shape)), dtype=torch.float32)
                       for k, v in m.state_dict().items()})

minibatches = data[:num_models]
predictions_diff_minibatch_loop = [model(minibatch) for model, minibatch in zip(models, minibatches)]
minibatch = data[num_models]
predictions2 = [model(minibatch) for model in models]

params, buffers = stack_module_state(models)
print({k: v.shape for k, v in params.items()})

# a copy of one model on the meta device: shapes only, no numbers; functional_call supplies them
base_model = copy.deepcopy(models[0])
base_model = base_model.to("meta")


def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))


from torch import vmap  # noqa: E402

predictions1_vmap = vmap(fmodel)(params, buffers, minibatches)
same1 = torch.allclose(predictions1_vmap, torch.stack(predictions_diff_minibatch_loop), atol=1e-3, rtol=1e-5)
predictions2_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
same2 = torch.allclose(predictions2_vmap, torch.stack(predictions2), atol=1e-3, rtol=1e-5)

# the ensemble's mean prediction, its loss, and the gradient of that loss for every model at once
ensemble_logits = predictions2_vmap.mean(0)
ensemble_loss = F.cross_entropy(ensemble_logits, targets[num_models])
stacked_grads = torch.autograd.grad(ensemble_loss, list(params.values()))
loop_loss = F.cross_entropy(torch.stack([model(minibatch) for model in models]).mean(0), targets[num_models])
loop_loss.backward()
grads_agree = all(torch.allclose(g[i], p.grad, atol=1e-6)
                  for g, name in zip(stacked_grads, params) for i, p in
                  enumerate(dict(m.named_parameters())[name] for m in models))

# the same with a copy of the model (not on the meta device): its own weights stay as they were
copy_model = copy.deepcopy(models[1])
copy_preds = vmap(lambda p, b, x: functional_call(copy_model, (p, b), (x,)), in_dims=(0, 0, None))(params, buffers,
                                                                                                  minibatch)

results = {
    "shapes": {k: list(v.shape) for k, v in params.items()},
    "requires_grad": [float(v.requires_grad) for v in params.values()],
    "same1": float(same1), "same2": float(same2), "grads_agree": float(grads_agree),
    "predictions1": predictions1_vmap.detach(), "predictions2": predictions2_vmap.detach(),
    "ensemble_loss": ensemble_loss.item(), "fc3_grad": stacked_grads[-2],
    "copy_preds": copy_preds.detach(), "copy_weight": copy_model.fc1.weight.detach()[0],
    "base_device": str(base_model.fc1.weight.device),
}

# an ensemble with batch norm buffers, in eval mode, trained as one: the stacked weights are leaves, Adam steps them
class BNNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(12, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 5))

    def forward(self, x):
        return self.net(x.flatten(1))


bn_models = [BNNet().eval() for _ in range(3)]
for m in bn_models:
    state = {}
    for k, v in m.state_dict().items():
        if k.endswith("num_batches_tracked"):
            state[k] = v
        elif k.endswith("running_var"):
            state[k] = torch.tensor(rng.uniform(0.5, 2.0, tuple(v.shape)), dtype=torch.float32)
        else:
            state[k] = torch.tensor(rng.normal(0.0, 0.4, tuple(v.shape)), dtype=torch.float32)
    m.load_state_dict(state)
bn_params, bn_buffers = stack_module_state(bn_models)
bn_base = copy.deepcopy(bn_models[0]).to("meta")


def bn_loss(params, buffers, x, y):
    return F.cross_entropy(functional_call(bn_base, (params, buffers), (x,)), y)


optimizer = torch.optim.Adam(list(bn_params.values()), lr=0.01)
ensemble_losses = []
for step in range(3):
    losses = vmap(bn_loss, in_dims=(0, 0, None, None))(bn_params, bn_buffers, data[step], targets[step])
    optimizer.zero_grad()
    losses.sum().backward()
    optimizer.step()
    ensemble_losses.append(losses.detach())
one_by_one = [F.cross_entropy(m(data[0]), targets[0]).item() for m in bn_models]

results.update({
    "bn_buffer_names": sorted(bn_buffers), "bn_buffer_shapes": [list(v.shape) for _, v in sorted(bn_buffers.items())],
    "ensemble_losses": ensemble_losses, "one_by_one": one_by_one,
    "bn_weight_after": bn_params["net.1.weight"], "bn_linear_after": bn_params["net.3.bias"],
})
