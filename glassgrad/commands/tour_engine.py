"""The engine part of ``glassgrad tour``: forward, loss, backward and a gradient check on the
lesson's 4→3→4 network, with every number computed by glassgrad."""

from __future__ import annotations

import time

import numpy as np


def run_engine_tour() -> None:
    from rich.console import Console

    import glassgrad as gg
    import glassgrad.nn.functional as F

    console = Console()
    console.rule("[bold]glassgrad: backpropagation you can see through")
    x = gg.tensor([[1.0, 0.0, 1.0, 1.0]])
    y = gg.tensor([[1.0, 1.0, 0.0, 1.0]])
    w1 = gg.randn(3, 4, seed=0, requires_grad=True) * 0.5
    w1 = w1.detach().requires_grad_()
    b1 = gg.zeros(3, requires_grad=True)
    w2 = (gg.randn(4, 3, seed=1) * 0.5).requires_grad_()
    b2 = gg.zeros(4, requires_grad=True)
    params = {"W1": w1, "b1": b1, "W2": w2, "b2": b2}
    console.print("A 4→3→4 ReLU network (31 parameters), input x = [1, 0, 1, 1], target y = [1, 1, 0, 1].")

    hidden = F.linear(x, w1, b1).relu()
    prediction = F.linear(hidden, w2, b2)
    loss = F.mse_loss(prediction, y)
    console.print(f"forward:  ŷ = {np.round(prediction.data, 4).tolist()}   MSE loss = {loss.item():.6f}")
    start = time.perf_counter()
    loss.backward()
    backward_seconds = time.perf_counter() - start
    console.print(f"backward: one pass filled all 31 gradients in {backward_seconds * 1e6:.0f} µs")
    for name, p in params.items():
        console.print(f"  ∂L/∂{name} = {np.round(p.grad.data, 4).tolist()}")

    def loss_of(*tensors):
        h = F.linear(x.double(), tensors[0], tensors[1]).relu()
        return F.mse_loss(F.linear(h, tensors[2], tensors[3]), y.double())

    start = time.perf_counter()
    report = gg.gradcheck(loss_of, [p.double().detach().requires_grad_() for p in params.values()])
    check_seconds = time.perf_counter() - start
    console.print(
        f"numerical check: {report.forward_passes} forward passes ({check_seconds * 1e3:.1f} ms) agree with "
        f"backprop to {report.max_error:.1e}"
    )
    with gg.no_grad():
        for p in params.values():
            p -= 0.1 * p.grad
    new_loss = F.mse_loss(F.linear(F.linear(x, w1, b1).relu(), w2, b2), y)
    console.print(f"one gradient-descent step (η = 0.1): loss {loss.item():.6f} → {new_loss.item():.6f}")
    console.print("Run [bold]glassgrad rules[/bold] for every op's backward rule.")
