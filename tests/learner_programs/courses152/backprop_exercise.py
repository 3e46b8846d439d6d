# The manual backprop exercise (written for this project): a two-layer net with cross-entropy written out,
# every gradient derived by hand and compared with autograd's through a cmp() helper (exact ==, torch.allclose,
# max abs diff), in float64, plus a finite-difference check with torch.autograd.gradcheck.
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
dtype = "float64"
rng = np.random.default_rng(42)
n, d, hdim, k = 8, 5, 7, 4
x = torch.from_numpy(rng.normal(size=(n, d)))
y = torch.from_numpy(rng.integers(0, k, n))
W1 = torch.from_numpy(rng.normal(size=(d, hdim)) * 0.5).requires_grad_()
b1 = torch.from_numpy(rng.normal(size=hdim) * 0.1).requires_grad_()
W2 = torch.from_numpy(rng.normal(size=(hdim, k)) * 0.5).requires_grad_()
b2 = torch.from_numpy(rng.normal(size=k) * 0.1).requires_grad_()

hpre = x @ W1 + b1
h = torch.tanh(hpre)
logits = h @ W2 + b2
logit_maxes = logits.max(1, keepdim=True).values
norm_logits = logits - logit_maxes
counts = norm_logits.exp()
counts_sum = counts.sum(1, keepdims=True)
counts_sum_inv = counts_sum ** -1
probs = counts * counts_sum_inv
logprobs = probs.log()
loss = -logprobs[range(n), y].mean()
for t in [logprobs, probs, counts_sum_inv, counts_sum, counts, norm_logits, logit_maxes, logits, h, hpre]:
    t.retain_grad()
loss.backward()


def cmp(s, dt, t):
    app = torch.allclose(dt, t.grad)
    maxdiff = (dt - t.grad).abs().max().item()
    print(f"{s:15s} | approximate: {str(app):5s} | tiny: {maxdiff < 1e-12}")
    return [app, maxdiff < 1e-12]


checks = {}
dlogprobs = torch.zeros_like(logprobs)
dlogprobs[range(n), y] = -1.0 / n
checks["logprobs"] = cmp("logprobs", dlogprobs, logprobs)
dprobs = (1.0 / probs) * dlogprobs
checks["probs"] = cmp("probs", dprobs, probs)
dcounts_sum_inv = (counts * dprobs).sum(1, keepdim=True)
checks["counts_sum_inv"] = cmp("counts_sum_inv", dcounts_sum_inv, counts_sum_inv)
dcounts = counts_sum_inv * dprobs
dcounts_sum = -counts_sum ** -2 * dcounts_sum_inv
checks["counts_sum"] = cmp("counts_sum", dcounts_sum, counts_sum)
dcounts += torch.ones_like(counts) * dcounts_sum
checks["counts"] = cmp("counts", dcounts, counts)
dnorm_logits = counts * dcounts
checks["norm_logits"] = cmp("norm_logits", dnorm_logits, norm_logits)
dlogits = dnorm_logits.clone()
dlogit_maxes = (-dnorm_logits).sum(1, keepdim=True)
checks["logit_maxes"] = cmp("logit_maxes", dlogit_maxes, logit_maxes)
dlogits += F.one_hot(logits.max(1).indices, num_classes=logits.shape[1]) * dlogit_maxes
checks["logits"] = cmp("logits", dlogits, logits)
dh = dlogits @ W2.T
dW2 = h.T @ dlogits
db2 = dlogits.sum(0)
checks["h"] = cmp("h", dh, h)
checks["W2"] = cmp("W2", dW2, W2)
checks["b2"] = cmp("b2", db2, b2)
dhpre = (1.0 - h ** 2) * dh
checks["hpre"] = cmp("hpre", dhpre, hpre)
checks["W1"] = cmp("W1", x.T @ dhpre, W1)
checks["b1"] = cmp("b1", dhpre.sum(0), b1)

# the fused form: softmax minus one-hot
loss_fast = F.cross_entropy(logits, y)
print("loss_fast", loss_fast.item(), "diff:", (loss_fast - loss).item())
dlogits_fast = F.softmax(logits, 1)
dlogits_fast[range(n), y] -= 1
dlogits_fast /= n
checks["logits_fast"] = cmp("logits_fast", dlogits_fast, logits)


def net(W1, b1, W2, b2):
    return F.cross_entropy(torch.tanh(x @ W1 + b1) @ W2 + b2, y)


gc = torch.autograd.gradcheck(net, (W1, b1, W2, b2))
grads = torch.autograd.grad(net(W1, b1, W2, b2), (W1, b2))
results = {"loss": loss, "checks": checks, "gradcheck": gc, "dlogits": dlogits, "dW1": W1.grad, "grads": grads,
           "max_indices": logits.max(1).indices, "leaf": [h.is_leaf, W1.is_leaf, h.grad_fn is not None]}
