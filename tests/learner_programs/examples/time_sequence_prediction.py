# pytorch/examples "time_sequence_prediction" style (written for this project): sine waves in float64, a Sequence
# of two nn.LSTMCell and a Linear stepped by hand over input.split(1, dim=1), outputs gathered with
# torch.stack(outputs, 1).squeeze(2) and then predicted `future` steps ahead, the model made float64 with
# .double(), trained with optim.LBFGS(lr=0.8) and a closure, then tested under torch.no_grad().
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

dtype = "float64"


class Sequence(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm1 = nn.LSTMCell(1, 12)
        self.lstm2 = nn.LSTMCell(12, 12)
        self.linear = nn.Linear(12, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t = torch.zeros(input.size(0), 12, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _i in range(future):
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.stack(outputs, 1).squeeze(2)
        return outputs


rng = np.random.default_rng(6)
T, L, N = 20, 30, 8
x = np.empty((N, L), np.int64)
x[:] = np.array(range(L)) + rng.integers(-4 * T, 4 * T, N).reshape(N, 1)
data = np.sin(x / 1.0 / T).astype('float64')
input = torch.from_numpy(data[3:, :-1])
target = torch.from_numpy(data[3:, 1:])
test_input = torch.from_numpy(data[:3, :-1])
test_target = torch.from_numpy(data[:3, 1:])
seq = Sequence()
seq.double()
with torch.no_grad():
    for p in seq.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, tuple(p.shape))))
criterion = nn.MSELoss()
optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=6)
closure_losses, test_losses = [], []
for _i in range(3):
    def closure():
        optimizer.zero_grad()
        out = seq(input)
        loss = criterion(out, target)
        closure_losses.append(loss.item())
        loss.backward()
        return loss
    optimizer.step(closure)
    with torch.no_grad():
        future = 10
        pred = seq(test_input, future=future)
        loss = criterion(pred[:, :-future], test_target)
        test_losses.append(loss.item())
        y = pred.detach().numpy()

results = {"closure_losses": closure_losses, "test_losses": test_losses, "pred_shape": list(y.shape),
           "last_future": y[:, -1].tolist(), "dtype_is_double": str(seq.linear.weight.dtype == torch.float64)}
