# Jacobians, Hessians, hvp and vmap with torch.func (written for this project after PyTorch's torch.func
# tutorial): a function of weights, bias and input; vjp row by row versus vmap(vjp_fn), jacrev and jacfwd over one
# and two argnums, batched Jacobians by vmap(jacrev) and by summing out the batch, hessian versus
# jacfwd(jacrev), and a Hessian-vector product as jvp of grad, compared with torch.autograd.functional.
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import grad, hessian, jacfwd, jacrev, jvp, linearize, vjp, vmap
from torch.utils.benchmark import Timer

torch.manual_seed(0)
rng = np.random.default_rng(2)
dtype = "float64"
torch.set_default_dtype(torch.float64)


def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()


D = 8
weight = torch.tensor(rng.normal(size=(D, D)))
bias = torch.tensor(rng.normal(size=(D,)))
x = torch.tensor(rng.normal(size=(D,)))

# the Jacobian row by row with vjp
xp = x.clone().requires_grad_()
unit_vectors = torch.eye(D)


def compute_jac(xp):
    jacobian_rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0] for vec in unit_vectors]
    return torch.stack(jacobian_rows)


jacobian = compute_jac(xp)
print(jacobian.shape)
print(jacobian[0])

_, vjp_fn = vjp(partial_predict := (lambda x: predict(weight, bias, x)), x)
ft_jacobian, = vmap(vjp_fn)(unit_vectors)
same_vjp = torch.allclose(ft_jacobian, jacobian)
_, vjp_fn = vjp(partial(predict, weight, bias), x)
ft_jacobian, = vmap(vjp_fn)(unit_vectors)
torch.testing.assert_close(ft_jacobian, jacobian)

ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)
same_jacrev = torch.allclose(ft_jacobian, jacobian)

ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
ref_weight = torch.autograd.functional.jacobian(lambda w: predict(w, bias, x), weight)
ref_bias = torch.autograd.functional.jacobian(lambda b: predict(weight, b, x), bias)

jacfwd_x = jacfwd(predict, argnums=2)(weight, bias, x)
jacfwd_w, jacfwd_b = jacfwd(predict, argnums=(0, 1))(weight, bias, x)

# batched Jacobians
batch_size = 5
xb = torch.tensor(rng.normal(size=(batch_size, D)))
compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
batch_jacobian0 = compute_batch_jacobian(weight, bias, xb)


def predict_with_output_summed(weight, bias, x):
    return predict(weight, bias, x).sum(0)


batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, xb).movedim(1, 0)
same_batch = torch.allclose(batch_jacobian0, batch_jacobian1)
fwd_batch = vmap(jacfwd(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, xb)

without_vmap = Timer(stmt="compute_jac(xp)", globals=globals())
with_vmap = Timer(stmt="jacrev(predict, argnums=2)(weight, bias, x)", globals=globals())
no_vmap_timer = without_vmap.timeit(5)
with_vmap_timer = with_vmap.timeit(5)
print(no_vmap_timer)
print(with_vmap_timer)
chunked = jacrev(predict, argnums=2, chunk_size=3)(weight, bias, x)
jac_and_aux = jacrev(lambda x: (predict(weight, bias, x), x.sum()), has_aux=True)(x)

# Hessians
batch_hess = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, xb)
hess_api = hessian(predict, argnums=2)(weight, bias, x)
hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x)
hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
same_hess = torch.allclose(hess_api, hess_fwdfwd) and torch.allclose(hess_api, hess_revrev)


def f(x):
    return x.sin().sum() + (x ** 3).sum() * 0.1


def hvp(f, primals, tangents):
    return jvp(grad(f), primals, tangents)[1]


v = torch.tensor(rng.normal(size=(D,)))
hvp_fwd = hvp(f, (x,), (v,))
hvp_ref = torch.autograd.functional.hvp(f, x, v)[1]
hess_f = hessian(f)(x)
out, jvp_out = jvp(partial_predict, (x,), (v,))
_, vjp_fn2 = vjp(partial_predict, x)
vjp_out, = vjp_fn2(v)
lin_out, jvp_fn = linearize(partial_predict, x)

results = {
    "jacobian": jacobian, "jacobian_row0": jacobian[0], "same_vjp": float(same_vjp), "same_jacrev": float(same_jacrev),
    "jac_weight": ft_jac_weight, "jac_bias": ft_jac_bias,
    "ref_weight_close": float(torch.allclose(ft_jac_weight, ref_weight)),
    "ref_bias_close": float(torch.allclose(ft_jac_bias, ref_bias)),
    "jacfwd_x": jacfwd_x, "jacfwd_w_shape": list(jacfwd_w.shape), "jacfwd_b": jacfwd_b,
    "batch_jacobian": batch_jacobian0, "same_batch": float(same_batch), "fwd_batch": fwd_batch,
    "hessian_shape": list(hess_api.shape), "hessian": hess_api[0], "same_hess": float(same_hess),
    "hvp": hvp_fwd, "hvp_ref": hvp_ref, "hvp_matches_hessian": float(torch.allclose(hess_f @ v, hvp_fwd)),
    "chunked": chunked, "aux": jac_and_aux[1], "jac_with_aux": jac_and_aux[0], "batch_hessian": batch_hess[:, 0],
    "linearized": jvp_fn(v), "timer_runs": no_vmap_timer.number_per_run * 0 + len(no_vmap_timer.times),
    "jvp_out": jvp_out, "out": out, "vjp_out": vjp_out,
}
