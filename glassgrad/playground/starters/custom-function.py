# Your own op: a clipped ReLU, min(max(x, 0), 6), with its forward and its backward written by hand.
# Its gradient is 1 where 0 < x < 6 and 0 elsewhere; the trace shows your backward's numbers.
import glassgrad as gg


class ClippedReLU(gg.autograd.Function):
    """out = min(max(x, 0), 6)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(0.0, 6.0)

    @staticmethod
    def backward(ctx, grad_out):  # ∂L/∂x = ∂L/∂out · [0 < x < 6]
        (x,) = ctx.saved_tensors
        return grad_out * (x > 0).float() * (x < 6).float()


x = gg.tensor([-2.0, 0.5, 3.0, 7.5], requires_grad=True)
weights = gg.tensor([1.0, 2.0, 3.0, 4.0])

with gg.trace() as tape:
    out = ClippedReLU.apply(x)
    loss = (out * weights).sum()
    loss.backward()

print(f"out:  {out.tolist()}")
print(f"loss: {loss.item()}")
print(f"∂L/∂x: {x.grad.tolist()}  (the weights where 0 < x < 6, else 0)")
