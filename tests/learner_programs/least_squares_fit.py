# Least squares by hand and by torch.linalg.lstsq: fit a line, then a cubic, to noisy samples of a curve, and
# see how well the predictions follow the targets (a regression lesson's first hour).
import numpy as np
import torch

dtype = "float64"

x = torch.linspace(-1.0, 1.0, 25, dtype=torch.float64)
noise = torch.tensor(np.sin(np.arange(25) * 1.7) * 0.05)
y = 0.5 - 1.2 * x + 0.8 * x**3 + noise

# a line: columns [1, x], solved through the normal equations and through lstsq
X_line = torch.stack([torch.ones_like(x), x], dim=1)
by_hand = torch.linalg.solve(X_line.T @ X_line, X_line.T @ y)
fit_line = torch.linalg.lstsq(X_line, y.unsqueeze(1))
line = fit_line.solution.squeeze(1)

# a cubic: the Vandermonde matrix's columns are x^0 … x^3
X_cubic = torch.vander(x, N=4, increasing=True)
coefficients = torch.linalg.lstsq(X_cubic, y.unsqueeze(1)).solution.squeeze(1)
predictions = X_cubic @ coefficients
errors = predictions - y

# how well do predictions follow targets, and which coefficients move the fit most?
r = torch.corrcoef(torch.stack([predictions, y]))
weights = torch.tensor([0.5, -1.0, 0.0, 1.0], dtype=torch.float64, requires_grad=True)
X = torch.vander(x, N=4, increasing=True)
loss = ((X @ weights - y) ** 2).mean()
loss.backward()
target = y.unsqueeze(1).clone().requires_grad_(True)
solved = torch.linalg.lstsq(X, target).solution
solved.sum().backward()

results = {
    "by_hand": by_hand, "line": line, "line_rank": int(fit_line.rank),
    "cubic": coefficients, "sse": (errors ** 2).sum().item(),
    "r": r[0, 1].item(), "covariance": torch.cov(torch.stack([predictions, y])),
    "condition": torch.linalg.cond(X_cubic).item(), "rank": int(torch.linalg.matrix_rank(X_cubic)),
    "grad_weights": weights.grad, "grad_target": target.grad,
    "area": torch.trapezoid(predictions, x).item(),
}
