# "Deep Learning with PyTorch", the unknown thermometer (written for this project): readings in an unknown
# unit against Celsius, a linear model t_c = w * t_u + b fitted first by hand from autograd's gradients, then
# with optim.SGD and optim.Adam, with a train/validation split and the validation loss under no_grad.
import numpy as np
import torch
import torch.optim as optim

t_c = torch.tensor([0.5, 14.0, 15.0, 28.0, 11.0, 8.0, 3.0, -4.0, 6.0, 13.0, 21.0])
t_u = torch.tensor([35.7, 55.9, 58.2, 81.9, 56.3, 48.9, 33.9, 21.8, 48.4, 60.4, 68.4])
t_un = 0.1 * t_u  # rescaled, so one learning rate suits both parameters


def model(t_u, w, b):
    return w * t_u + b


def loss_fn(t_p, t_c):
    squared_diffs = (t_p - t_c) ** 2
    return squared_diffs.mean()


# by hand: the gradient from backward, the update under no_grad, the gradient zeroed each time
params = torch.tensor([1.0, 0.0], requires_grad=True)
hand_losses = []
for epoch in range(1, 501):
    if params.grad is not None:
        params.grad.zero_()
    loss = loss_fn(model(t_un, *params), t_c)
    loss.backward()
    with torch.no_grad():
        params -= 1e-2 * params.grad
    if epoch % 100 == 0:
        hand_losses.append(loss.item())


def training_loop(n_epochs, optimizer, params, train_t_u, val_t_u, train_t_c, val_t_c):
    history = []
    for epoch in range(1, n_epochs + 1):
        train_loss = loss_fn(model(train_t_u, *params), train_t_c)
        with torch.no_grad():
            val_loss = loss_fn(model(val_t_u, *params), val_t_c)
            assert val_loss.requires_grad is False
        optimizer.zero_grad()
        train_loss.backward()
        optimizer.step()
        if epoch <= 3 or epoch % 250 == 0:
            history.append([train_loss.item(), val_loss.item()])
    return history


n_samples = t_u.shape[0]
n_val = int(0.2 * n_samples)
shuffled_indices = torch.from_numpy(np.random.default_rng(3).permutation(n_samples))  # randperm, made repeatable
train_indices, val_indices = shuffled_indices[:-n_val], shuffled_indices[-n_val:]
train_t_u, val_t_u = t_u[train_indices], t_u[val_indices]
train_t_c, val_t_c = t_c[train_indices], t_c[val_indices]

sgd_params = torch.tensor([1.0, 0.0], requires_grad=True)
sgd_history = training_loop(1000, optim.SGD([sgd_params], lr=1e-2), sgd_params,
                            0.1 * train_t_u, 0.1 * val_t_u, train_t_c, val_t_c)
adam_params = torch.tensor([1.0, 0.0], requires_grad=True)
adam_history = training_loop(1000, optim.Adam([adam_params], lr=1e-1), adam_params,
                             train_t_u, val_t_u, train_t_c, val_t_c)  # Adam copes with the unscaled input

# the same fit as a network: chapter 6's nn.Linear, then a small Sequential with named layers, in float32
from collections import OrderedDict  # noqa: E402 (the chapter imports it here)

import torch.nn as nn  # noqa: E402

t_u_train, t_u_val = 0.1 * train_t_u.unsqueeze(1), 0.1 * val_t_u.unsqueeze(1)
t_c_train, t_c_val = train_t_c.unsqueeze(1), val_t_c.unsqueeze(1)
seq_model = nn.Sequential(OrderedDict([
    ("hidden_linear", nn.Linear(1, 8)),
    ("hidden_activation", nn.Tanh()),
    ("output_linear", nn.Linear(8, 1)),
]))
numbers = np.random.default_rng(4)
with torch.no_grad():
    for param in seq_model.parameters():
        param.copy_(torch.from_numpy(numbers.uniform(-1, 1, size=tuple(param.shape))))
param_shapes = [[name, list(param.shape)] for name, param in seq_model.named_parameters()]
nn_optimizer = optim.SGD(seq_model.parameters(), lr=1e-3)
nn_history = []
for epoch in range(1, 301):
    loss_train = nn.MSELoss()(seq_model(t_u_train), t_c_train)
    with torch.no_grad():
        loss_val = nn.MSELoss()(seq_model(t_u_val), t_c_val)
    nn_optimizer.zero_grad()
    loss_train.backward()
    nn_optimizer.step()
    if epoch == 1 or epoch % 100 == 0:
        nn_history.append([loss_train.item(), loss_val.item()])
t_range = torch.arange(20.0, 90.0, 10.0).unsqueeze(1)

results = {
    "param_shapes": param_shapes,
    "nn_history": nn_history,
    "hidden_weight_grad": seq_model.hidden_linear.weight.grad,
    "curve": seq_model(0.1 * t_range).detach(),
    "hand_losses": hand_losses,
    "hand_params": params,
    "train_indices": train_indices,
    "val_indices": val_indices,
    "sgd_history": sgd_history,
    "sgd_params": sgd_params.detach(),
    "adam_history": adam_history,
    "adam_params": adam_params.detach(),
    "grad_is_float32": params.grad.dtype == torch.float32,
}
