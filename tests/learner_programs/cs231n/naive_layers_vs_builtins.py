# A vision course's convolutional-network assignment style (written for this project): layers written naively with
# loops (convolution as torch.sum(window * w[f]) over each position, max pooling by window), spatial batch norm by
# reshape/permute, group norm and layer norm by hand, each compared with the built-in (F.conv2d with stride and
# padding, F.max_pool2d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm), forward and gradients. In float64.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

dtype = "float64"
torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(0)


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    Fn, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = F.pad(x, (pad, pad, pad, pad), mode='constant', value=0)
    out = x.new_zeros((N, Fn, H_out, W_out))
    for n in range(N):
        for f in range(Fn):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
                    out[n, f, i, j] = torch.sum(window * w[f]) + b[f]
    return out


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // stride, 1 + (W - pw) // stride
    rows = []
    for i in range(H_out):
        cols = []
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            cols.append(window.reshape(N, C, -1).max(dim=2)[0])
        rows.append(torch.stack(cols, dim=-1))
    return torch.stack(rows, dim=2)


def batchnorm_forward(x, gamma, beta, eps):
    mu = x.mean(dim=0)
    var = x.var(dim=0, unbiased=False)
    x_hat = (x - mu) / torch.sqrt(var + eps)
    return gamma * x_hat + beta


def spatial_batchnorm_forward(x, gamma, beta, eps):
    N, C, H, W = x.shape
    x_flat = x.permute(0, 2, 3, 1).reshape(-1, C)
    out = batchnorm_forward(x_flat, gamma, beta, eps)
    return out.reshape(N, H, W, C).permute(0, 3, 1, 2)


def spatial_groupnorm_forward(x, gamma, beta, G, eps):
    N, C, H, W = x.shape
    xg = x.reshape(N, G, C // G, H, W)
    mean = xg.mean(dim=(2, 3, 4), keepdim=True)
    var = xg.var(dim=(2, 3, 4), keepdim=True, unbiased=False)
    x_hat = ((xg - mean) / torch.sqrt(var + eps)).reshape(N, C, H, W)
    return gamma * x_hat + beta


def layernorm_forward(x, gamma, beta, eps):
    x_t = x.T
    mu = x_t.mean(axis=0)
    var = ((x_t - mu) ** 2).mean(axis=0)
    return gamma * ((x_t - mu) / (var + eps).sqrt()).T + beta


results = {}

# convolution: loops against F.conv2d, forward and the three gradients
x = torch.tensor(rng.randn(2, 3, 6, 5), requires_grad=True)
w = torch.tensor(rng.randn(4, 3, 3, 3), requires_grad=True)
b = torch.tensor(rng.randn(4), requires_grad=True)
dout = torch.tensor(rng.randn(2, 4, 3, 3))
out_naive = conv_forward_naive(x, w, b, {'stride': 2, 'pad': 1})
out_naive.backward(dout)
naive_grads = [x.grad.clone(), w.grad.clone(), b.grad.clone()]
for tensor in (x, w, b):
    tensor.grad.zero_()
out_fast = F.conv2d(x, w, b, stride=2, padding=1)
(out_fast * dout).sum().backward()
results['conv_out'] = out_naive.detach()
results['conv_max_diff'] = (out_naive - out_fast).abs().max().item() < 1e-12
results['conv_grads'] = [g for g in naive_grads]
results['conv_grad_diffs'] = [torch.allclose(g, h) for g, h in zip(naive_grads, [x.grad, w.grad, b.grad])]

# max pooling
x = torch.tensor(rng.randn(2, 3, 6, 6), requires_grad=True)
pool = {'pool_height': 2, 'pool_width': 2, 'stride': 2}
pooled = max_pool_forward_naive(x, pool)
pooled.sum().backward()
naive_pool_grad = x.grad.clone()
x.grad = None
builtin = F.max_pool2d(x, kernel_size=2, stride=2)
builtin.sum().backward()
results['pool_out'] = pooled.detach()
results['pool_same'] = torch.equal(pooled, builtin)
results['pool_grad_same'] = torch.equal(naive_pool_grad, x.grad)
results['pool_3x3_stride1'] = max_pool_forward_naive(x, {'pool_height': 3, 'pool_width': 3, 'stride': 1}).sum().item()

# spatial batch norm against nn.BatchNorm2d in training mode
N, C, H, W = 4, 3, 5, 5
x = torch.tensor(4 * rng.randn(N, C, H, W) + 10, requires_grad=True)
gamma = torch.tensor(rng.randn(C), requires_grad=True)
beta = torch.tensor(rng.randn(C), requires_grad=True)
out = spatial_batchnorm_forward(x, gamma, beta, 1e-5)
dout = torch.tensor(rng.randn(N, C, H, W))
out.backward(dout)
hand = [x.grad.clone(), gamma.grad.clone(), beta.grad.clone()]
bn = nn.BatchNorm2d(C)
with torch.no_grad():
    bn.weight.copy_(gamma)
    bn.bias.copy_(beta)
x2 = x.detach().clone().requires_grad_(True)
out2 = bn(x2)
out2.backward(dout)
results['bn_means'] = out.mean(axis=(0, 2, 3)).detach()
results['bn_stds'] = out.std(axis=(0, 2, 3)).detach()
results['bn_agree'] = torch.allclose(out, out2)
results['bn_dx'] = hand[0]
results['bn_dx_agree'] = torch.allclose(hand[0], x2.grad)
results['bn_dgamma'] = [hand[1], bn.weight.grad]
results['bn_running'] = [bn.running_mean, bn.running_var, bn.num_batches_tracked.item()]
bn.eval()
results['bn_eval'] = bn(x2).sum().item()

# group norm by hand against nn.GroupNorm
G = 2
x = torch.tensor(rng.randn(2, 6, 4, 5), requires_grad=True)
gamma = torch.tensor(rng.randn(1, 6, 1, 1), requires_grad=True)
beta = torch.tensor(rng.randn(1, 6, 1, 1), requires_grad=True)
out = spatial_groupnorm_forward(x, gamma, beta, G, 1e-5)
out.sum().backward()
gn = nn.GroupNorm(G, 6)
with torch.no_grad():
    gn.weight.copy_(gamma.view(-1))
    gn.bias.copy_(beta.view(-1))
x2 = x.detach().clone().requires_grad_()
gn(x2).sum().backward()
results['gn_out'] = out.detach()
results['gn_agree'] = torch.allclose(out, gn(x2))
results['gn_dx'] = x.grad
results['gn_dx_agree'] = torch.allclose(x.grad, x2.grad, atol=1e-10)
results['gn_dgamma'] = [gamma.grad.view(-1), gn.weight.grad]

# layer norm by hand against nn.LayerNorm and F.layer_norm
x = torch.tensor(rng.randn(4, 7), requires_grad=True)
gamma = torch.tensor(rng.randn(7), requires_grad=True)
beta = torch.tensor(rng.randn(7), requires_grad=True)
out = layernorm_forward(x, gamma, beta, 1e-5)
(out ** 2).sum().backward()
ln = nn.LayerNorm(7, eps=1e-5)
ln.weight.data = gamma.detach().clone()
ln.bias.data = beta.detach().clone()
x2 = x.detach().clone().requires_grad_()
(ln(x2) ** 2).sum().backward()
results['ln_out'] = out.detach()
results['ln_agree'] = torch.allclose(out, F.layer_norm(x, (7,), gamma, beta, 1e-5))
results['ln_dx'] = x.grad
results['ln_dx_agree'] = torch.allclose(x.grad, x2.grad)
results['ln_dgamma'] = [gamma.grad, ln.weight.grad]
