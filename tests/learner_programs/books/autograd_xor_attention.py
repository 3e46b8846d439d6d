# "Machine Learning with PyTorch and Scikit-Learn", chapters 13 and 16 (written for this project): gradients of
# a one-weight model from torch.autograd.grad, the XOR problem (two features, labels from the sign of their
# product) first with a single logistic unit, then with a hidden layer and a custom layer that adds noise only
# while training, trained with BCELoss and SGD in mini-batches; then self-attention written from scratch: dot
# products of embedded words, softmax weights, a context vector, queries and keys from projection matrices,
# and eight heads at once with repeat and bmm.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

dtype = "float32"
w = torch.tensor(1.0, requires_grad=True)
b = torch.tensor(0.5, requires_grad=True)
x = torch.tensor([1.4])
y = torch.tensor([2.1])
z = torch.add(torch.mul(w, x), b)
loss = (y - z).pow(2).sum()
dloss_dw, dloss_db = torch.autograd.grad(loss, [w, b])

rng = np.random.default_rng(1)
features = rng.uniform(low=-1, high=1, size=(200, 2))
targets = np.ones(len(features))
targets[features[:, 0] * features[:, 1] < 0] = 0
n_train = 100
x_train = torch.tensor(features[:n_train, :], dtype=torch.float32)
y_train = torch.tensor(targets[:n_train], dtype=torch.float32)
x_valid = torch.tensor(features[n_train:, :], dtype=torch.float32)
y_valid = torch.tensor(targets[n_train:], dtype=torch.float32)
train_dl = DataLoader(TensorDataset(x_train, y_train), batch_size=2, shuffle=False)


class NoisyLinear(nn.Module):
    def __init__(self, input_size, output_size, noise_stddev=0.1):
        super().__init__()
        w = torch.Tensor(input_size, output_size)
        self.w = nn.Parameter(w)
        nn.init.xavier_uniform_(self.w)
        b = torch.Tensor(output_size).fill_(0)
        self.b = nn.Parameter(b)
        self.noise_stddev = noise_stddev

    def forward(self, x, training=False):
        if training:
            noise = torch.normal(0.0, self.noise_stddev, (x.shape[0], x.shape[1]))
            x = torch.add(x, noise)
        return torch.add(torch.mm(x, self.w), self.b)


class MyNoisyModule(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = NoisyLinear(2, 4, 0.07)
        self.a1 = nn.ReLU()
        self.l2 = nn.Linear(4, 4)
        self.a2 = nn.ReLU()
        self.l3 = nn.Linear(4, 1)
        self.a3 = nn.Sigmoid()

    def forward(self, x, training=False):
        x = self.a1(self.l1(x, training))
        x = self.a2(self.l2(x))
        return self.a3(self.l3(x))

    def predict(self, x):
        x = torch.tensor(x, dtype=torch.float32)
        pred = self.forward(x)[:, 0]
        return (pred >= 0.5).float()


def set_weights(model, seed):
    numbers = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(numbers.uniform(-0.8, 0.8, size=tuple(p.shape)).astype(np.float32)))
    return model


def train(model, num_epochs, noisy):
    loss_fn = nn.BCELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.015)
    loss_hist_train, accuracy_hist_valid = [0] * num_epochs, [0] * num_epochs
    for epoch in range(num_epochs):
        for x_batch, y_batch in train_dl:
            pred = (model(x_batch, False) if noisy else model(x_batch))[:, 0]
            loss = loss_fn(pred, y_batch)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            loss_hist_train[epoch] += loss.item()
        loss_hist_train[epoch] /= n_train / train_dl.batch_size
        with torch.no_grad():
            pred = model(x_valid)[:, 0]
            is_correct = ((pred >= 0.5).float() == y_valid).float()
            accuracy_hist_valid[epoch] += is_correct.mean()
    return loss_hist_train, [a.item() for a in accuracy_hist_valid]


logistic = set_weights(nn.Sequential(nn.Linear(2, 1), nn.Sigmoid()), 1)
logistic_history = train(logistic, 5, noisy=False)
hidden = set_weights(nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1),
                                   nn.Sigmoid()), 2)
hidden_history = train(hidden, 5, noisy=False)
noisy = set_weights(MyNoisyModule(), 3)
noisy_history = train(noisy, 5, noisy=True)
noisy_shape = list(noisy(x_valid[:3], training=True).shape)  # noise drawn: only the shape is compared
predictions = noisy.predict(features[n_train:n_train + 8])

# self-attention from scratch
sentence = torch.tensor([0, 7, 1, 2, 5, 6, 4, 3])
embed = nn.Embedding(10, 16)
with torch.no_grad():
    embed.weight.copy_(torch.linspace(-1, 1, 160).reshape(10, 16).sin())
embedded_sentence = embed(sentence).detach()
omega = embedded_sentence.matmul(embedded_sentence.T)
attention_weights = F.softmax(omega, dim=1)
context_vec_2 = torch.matmul(attention_weights[1], embedded_sentence)
context_vectors = torch.matmul(attention_weights, embedded_sentence)
d = embedded_sentence.shape[1]
U_query = torch.linspace(0, 1, d * d).reshape(d, d).cos()
U_key = torch.linspace(0, 1, d * d).reshape(d, d).sin()
U_value = torch.linspace(-1, 1, d * d).reshape(d, d)
x_2 = embedded_sentence[1]
query_2 = U_query.matmul(x_2)
keys = U_key.matmul(embedded_sentence.T).T
values = U_value.matmul(embedded_sentence.T).T
omega_2 = query_2.matmul(keys.T)
attention_weights_2 = F.softmax(omega_2 / d**0.5, dim=0)
context_vector_2 = attention_weights_2.matmul(values)
h = 8
multihead_U_query = torch.linspace(0, 1, h * d * d).reshape(h, d, d).sin()
multihead_U_key = torch.linspace(0, 1, h * d * d).reshape(h, d, d).cos()
stacked_inputs = embedded_sentence.T.repeat(8, 1, 1)
multihead_keys = torch.bmm(multihead_U_key, stacked_inputs).permute(0, 2, 1)
multihead_query_2 = multihead_U_query.matmul(x_2)
multihead_omega_2 = torch.bmm(multihead_keys, multihead_query_2.unsqueeze(2)).squeeze(2)
multihead_weights_2 = F.softmax(multihead_omega_2 / d**0.5, dim=1)
linear = nn.Linear(8 * 16, 16)
with torch.no_grad():
    linear.weight.copy_(torch.linspace(-0.1, 0.1, 16 * 128).reshape(16, 128))
    linear.bias.zero_()
multihead_z_2 = torch.bmm(multihead_weights_2.unsqueeze(1), multihead_keys).squeeze(1)
context_multihead_2 = linear(multihead_z_2.flatten())

results = {
    "autograd": [dloss_dw.item(), dloss_db.item()],
    "logistic_history": list(logistic_history),
    "hidden_history": list(hidden_history),
    "noisy_history": list(noisy_history),
    "noisy_shape": noisy_shape,
    "predictions": predictions,
    "attention_weights": attention_weights[1],
    "context_vec_2": context_vec_2,
    "context_close": torch.allclose(context_vec_2, context_vectors[1]),
    "context_vector_2": context_vector_2,
    "multihead_shape": list(multihead_keys.shape),
    "multihead_weights_2": multihead_weights_2[:2],
    "context_multihead_2": context_multihead_2.detach(),
}
