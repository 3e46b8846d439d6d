# Fit a damped oscillation a·exp(−b·t)·cos(ω·t) to measurements with L-BFGS and a strong-Wolfe line search,
# the usual way to fit a few parameters in full batch.
import torch

dtype = "float64"
t = torch.linspace(0.0, 4.0, 40, dtype=torch.float64)
measured = 1.5 * torch.exp(-0.7 * t) * torch.cos(2.2 * t) + 0.05 * torch.sin(7.0 * t)  # with a wiggle as noise

amplitude = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
decay = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
frequency = torch.tensor(1.8, dtype=torch.float64, requires_grad=True)
optimizer = torch.optim.LBFGS([amplitude, decay, frequency], lr=1, max_iter=20, history_size=10,
                              line_search_fn="strong_wolfe")


def closure():
    optimizer.zero_grad()
    predicted = amplitude * torch.exp(-decay * t) * torch.cos(frequency * t)
    loss = torch.nn.functional.mse_loss(predicted, measured)
    loss.backward()
    return loss


losses = []
for _ in range(3):
    losses.append(optimizer.step(closure).item())

final_loss = closure().item()  # the loss at the fitted parameters
state = optimizer.state[amplitude]
results = {"losses": losses, "final_loss": final_loss, "amplitude": amplitude, "decay": decay,
           "frequency": frequency, "evaluations": state["func_evals"], "iterations": state["n_iter"]}
