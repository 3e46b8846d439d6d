# The empirical neural tangent kernel with torch.func (written for this project after PyTorch's torch.func
# tutorial): a small CNN made functional with functional_call, the kernel J(x1) J(x2)ᵀ from vmap(jacrev) and
# einsum ('full', 'trace' and 'diagonal'), and again by NTK-vector products: vmap over vjp of a jvp.
import numpy as np
import torch
import torch.nn as nn
from torch.func import functional_call, jacrev, jvp, vjp, vmap

torch.manual_seed(0)
rng = np.random.default_rng(3)
device = "cpu"


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, (3, 3))
        self.conv2 = nn.Conv2d(4, 4, (3, 3))
        self.conv3 = nn.Conv2d(4, 4, (3, 3))
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = self.conv1(x)
        x = x.relu()
        x = self.conv2(x)
        x = x.relu()
        x = self.conv3(x)
        x = x.mean((-2, -1))
        x = self.fc(x)
        return x


net = CNN().to(device)
for p in net.parameters():
    p.data = torch.tensor(rng.normal(0.0, 0.5, tuple(p.shape)), dtype=torch.float32)
x_train = torch.tensor(rng.normal(size=(5, 3, 8, 8)), dtype=torch.float32, device=device)
x_test = torch.tensor(rng.normal(size=(4, 3, 8, 8)), dtype=torch.float32, device=device)

params = {k: v.detach() for k, v in net.named_parameters()}


def fnet_single(params, x):
    return functional_call(net, params, (x.unsqueeze(0),)).squeeze(0)


def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2, compute="full"):
    # Jacobians at x1: one per parameter, (N, outputs, parameter entries)
    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = jac1.values()
    jac1 = [j.flatten(2) for j in jac1]

    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = jac2.values()
    jac2 = [j.flatten(2) for j in jac2]

    # contract over the parameter entries, summed over the parameters
    einsum_expr = None
    if compute == "full":
        einsum_expr = "Naf,Mbf->NMab"
    elif compute == "trace":
        einsum_expr = "Naf,Maf->NM"
    elif compute == "diagonal":
        einsum_expr = "Naf,Maf->NMa"
    else:
        raise ValueError(f"unknown compute mode {compute!r}")

    result = torch.stack([torch.einsum(einsum_expr, j1, j2) for j1, j2 in zip(jac1, jac2)])
    result = result.sum(0)
    return result


def empirical_ntk_ntk_vps(func, params, x1, x2, compute="full"):
    def get_ntk(x1, x2):
        def func_x1(params):
            return func(params, x1)

        def func_x2(params):
            return func(params, x2)

        output, vjp_fn = vjp(func_x1, params)

        def get_ntk_slice(vec):
            # vec is one row of the identity: vec J(x1) first, then J(x2) times that
            vjps = vjp_fn(vec)
            _, jvps = jvp(func_x2, (params,), vjps)
            return jvps

        basis = torch.eye(output.numel(), dtype=output.dtype, device=output.device).view(output.numel(), -1)
        return vmap(get_ntk_slice)(basis)

    # get_ntk takes one x1 and one x2; two vmaps give every pair
    result = vmap(vmap(get_ntk, (None, 0)), (0, None))(x1, x2)

    if compute == "full":
        return result
    if compute == "trace":
        return torch.einsum("NMKK->NM", result)
    if compute == "diagonal":
        return torch.einsum("NMKK->NMK", result)


result = empirical_ntk_jacobian_contraction(fnet_single, params, x_train, x_test)
print(result.shape)
trace = empirical_ntk_jacobian_contraction(fnet_single, params, x_train, x_test, "trace")
diagonal = empirical_ntk_jacobian_contraction(fnet_single, params, x_train, x_test, "diagonal")
result_from_jacobian_contraction = empirical_ntk_jacobian_contraction(fnet_single, params, x_test, x_train)
result_from_ntk_vps = empirical_ntk_ntk_vps(fnet_single, params, x_test, x_train)
same = torch.allclose(result_from_jacobian_contraction, result_from_ntk_vps, atol=1e-4)
trace_vps = empirical_ntk_ntk_vps(fnet_single, params, x_test, x_train, "trace")

results = {
    "shape": list(result.shape), "full": result, "trace": trace, "diagonal": diagonal,
    "vps": result_from_ntk_vps, "same": float(same), "trace_vps": trace_vps,
}
