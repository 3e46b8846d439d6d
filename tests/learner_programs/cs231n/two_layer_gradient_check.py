# A vision course's first assignment style (written for this project): a two-layer fully connected net written with
# tensors (affine - ReLU - affine - softmax loss with L2 regularization), its gradients checked against centered
# differences that edit each weight in place (x[ix] = old + h) under torch.no_grad(), with the relative error
# abs(a - b) / max(1e-8, abs(a) + abs(b)); then a few steps of hand-written SGD. In float64.
import numpy as np
import torch

dtype = "float64"
device = torch.device('cpu')
rng = np.random.RandomState(231)

N, D, H, C = 5, 4, 10, 3
X = torch.tensor(rng.randn(N, D), dtype=torch.float64, device=device)
y = torch.tensor(rng.randint(C, size=N), dtype=torch.long)
params = {
    'W1': torch.tensor(1e-1 * rng.randn(D, H), device=device).requires_grad_(),
    'b1': torch.zeros(H, dtype=torch.float64, device=device, requires_grad=True),
    'W2': torch.tensor(1e-1 * rng.randn(H, C), device=device).requires_grad_(),
    'b2': torch.zeros(C, dtype=torch.float64, device=device, requires_grad=True),
}
with torch.no_grad():
    params['b1'] += torch.tensor(0.01 * rng.randn(H))
    params['b2'].copy_(torch.from_numpy(0.01 * rng.randn(C)))
reg = 0.05


def loss_fn(X, y, params, reg):
    hidden = torch.clamp(X.mm(params['W1']) + params['b1'], min=0)
    scores = hidden.mm(params['W2']) + params['b2']
    shifted = scores - scores.max(dim=1, keepdim=True)[0]
    log_probs = shifted - torch.log(torch.exp(shifted).sum(dim=1, keepdim=True))
    data_loss = -log_probs[torch.arange(X.shape[0]), y].mean()
    reg_loss = reg * (torch.sum(params['W1'] * params['W1']) + torch.sum(params['W2'] ** 2))
    return scores, data_loss + reg_loss


def eval_numerical_gradient(f, x, h=1e-5):
    grad = torch.zeros_like(x)
    with torch.no_grad():
        for i in range(x.numel()):
            ix = np.unravel_index(i, tuple(x.shape))
            oldval = x[ix].item()
            x[ix] = oldval + h
            fxph = f(x).item()
            x[ix] = oldval - h
            fxmh = f(x).item()
            x[ix] = oldval
            grad[ix] = (fxph - fxmh) / (2 * h)
    return grad


def rel_error(a, b):
    return (torch.abs(a - b) / torch.clamp(torch.abs(a) + torch.abs(b), min=1e-8)).max().item()


scores, loss = loss_fn(X, y, params, reg)
loss.backward()
analytic = {name: p.grad.clone() for name, p in params.items()}
errors, numeric_norms = {}, {}
def f(_):
    return loss_fn(X, y, params, reg)[1]


for name in sorted(params):
    num_grad = eval_numerical_gradient(f, params[name])
    errors[name] = rel_error(num_grad, analytic[name]) < 1e-6
    numeric_norms[name] = num_grad.norm().item()

# the same check with a single random entry at a time, as the "sparse" checker does
sparse_checks = []
for _ in range(4):
    W = params['W1']
    ix = tuple(int(rng.randint(m)) for m in W.shape)
    with torch.no_grad():
        old = W[ix].item()
        W[ix] = old + 1e-5
        fxph = loss_fn(X, y, params, reg)[1].item()
        W[ix] = old - 1e-5
        fxmh = loss_fn(X, y, params, reg)[1].item()
        W[ix] = old
    numeric = (fxph - fxmh) / 2e-5
    sparse_checks.append(abs(numeric - analytic['W1'][ix].item()) < 1e-7)

# a few steps of SGD, the update written by hand
losses = []
for _ in range(5):
    for p in params.values():
        p.grad = None
    scores, loss = loss_fn(X, y, params, reg)
    loss.backward()
    with torch.no_grad():
        for p in params.values():
            p -= 0.5 * p.grad
    losses.append(loss.item())
predictions = scores.argmax(dim=1)
accuracy = (predictions == y).float().mean().item()

results = {'loss': losses, 'grads_ok': [errors[name] for name in sorted(errors)], 'sparse_ok': sparse_checks,
           'numeric_norms': [numeric_norms[name] for name in sorted(numeric_norms)],
           'W1_grad': analytic['W1'], 'b2_grad': analytic['b2'], 'accuracy': accuracy, 'W2': params['W2'].detach()}
